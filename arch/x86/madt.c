// SPDX-License-Identifier: MIT
/* The MADT parser; see madt.h. */
#include "arch/x86/madt.h"
#include "lib/printf.h"
#include "lib/string.h"

#define MADT_HDR_LEN	 44 /* ACPI header (36) + local APIC address + flags */
#define MADT_LAPIC	 0
#define MADT_LAPIC_ADDR	 5
#define MADT_X2APIC	 9
#define LAPIC_ENABLED	 BIT(0)
#define LAPIC_ONLINE_CAP BIT(1)

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void add_cpu(struct madt_info *out, uint32_t id, uint32_t flags)
{
	if (!(flags & LAPIC_ENABLED)) {
		if (flags & LAPIC_ONLINE_CAP)
			out->online_capable++;
		else
			out->disabled++;
		return;
	}
	for (unsigned int i = 0; i < out->ncpus; i++) {
		if (out->apic_id[i] == id) {
			out->dropped++;
			return;
		}
	}
	if (out->ncpus >= MADT_MAX_CPUS) {
		out->dropped++;
		return;
	}
	out->apic_id[out->ncpus++] = id;
}

/* One entry of @len bytes at @e; returns 0 or -1 with @err set. */
static int parse_entry(const uint8_t *e, uint8_t len, struct madt_info *out,
		       char *err, size_t errlen)
{
	uint64_t base;

	switch (e[0]) {
	case MADT_LAPIC:
		if (len < 8)
			goto short_entry;
		/* e[2] is the ACPI processor UID, e[3] the APIC ID. */
		add_cpu(out, e[3], get32(e + 4));
		return 0;
	case MADT_X2APIC:
		if (len < 16)
			goto short_entry;
		add_cpu(out, get32(e + 4), get32(e + 8));
		return 0;
	case MADT_LAPIC_ADDR:
		if (len < 12)
			goto short_entry;
		memcpy(&base, e + 4, 8);
		out->lapic_base = base;
		return 0;
	default:
		return 0; /* I/O APICs, overrides, ...: not tidal's business */
	}
short_entry:
	ksnprintf(err, errlen, "entry type %u is %u bytes long, too short",
		  e[0], len);
	return -1;
}

int madt_parse(const void *buf, size_t len, struct madt_info *out, char *err,
	       size_t errlen)
{
	const uint8_t *t = buf;
	uint32_t tlen;
	size_t off;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (!buf || len < MADT_HDR_LEN) {
		ksnprintf(err, errlen, "table shorter than its header");
		return -1;
	}
	if (memcmp(t, "APIC", 4)) {
		ksnprintf(err, errlen, "signature is not APIC");
		return -1;
	}
	tlen = get32(t + 4);
	if (tlen < MADT_HDR_LEN || tlen > len) {
		ksnprintf(err, errlen, "table length %u outside 44..%zu", tlen,
			  len);
		return -1;
	}
	out->lapic_base = get32(t + 36);
	for (off = MADT_HDR_LEN; off < tlen;) {
		uint8_t elen;

		if (tlen - off < 2) {
			ksnprintf(err, errlen, "entry at offset %zu cut off",
				  off);
			return -1;
		}
		elen = t[off + 1];
		if (elen < 2 || elen > tlen - off) {
			ksnprintf(err, errlen,
				  "entry at offset %zu has bad length %u", off,
				  elen);
			return -1;
		}
		if (parse_entry(t + off, elen, out, err, errlen))
			return -1;
		off += elen;
	}
	if (!out->ncpus) {
		ksnprintf(err, errlen, "no enabled CPU listed");
		return -1;
	}
	return 0;
}
