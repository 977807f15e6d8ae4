// SPDX-License-Identifier: MIT
/*
 * MADT parser: well-formed tables (local APIC and x2APIC entries, enabled,
 * disabled and online-capable CPUs, the 64-bit address override) and
 * hostile ones (truncated, lengths past the end, zero-length entries, too
 * short entries, no CPU).  Each table is copied into a heap buffer of
 * exactly the length the parser is told, so ASan catches any read past it.
 */
#include "arch/x86/madt.h"
#include "tests/host/tap.h"

#include <stdlib.h>
#include <string.h>

struct tbl {
	uint8_t b[1024];
	uint32_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void start(struct tbl *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "APIC", 4);
	put32(t->b + 36, 0xfee00000);
	t->len = 44;
}

static void add(struct tbl *t, const uint8_t *e, uint8_t n)
{
	memcpy(t->b + t->len, e, n);
	t->len += n;
}

static void lapic(struct tbl *t, uint8_t id, uint32_t flags)
{
	uint8_t e[8] = {0, 8, id, id};

	put32(e + 4, flags);
	add(t, e, 8);
}

static void x2apic(struct tbl *t, uint32_t id, uint32_t flags)
{
	uint8_t e[16] = {9, 16};

	put32(e + 4, id);
	put32(e + 8, flags);
	add(t, e, 16);
}

/* Parse the first @avail bytes of @t (header length field = t->len). */
static int parse(struct tbl *t, size_t avail, struct madt_info *mi, char *err)
{
	uint8_t *copy = malloc(avail ? avail : 1);
	int r;

	put32(t->b + 4, t->len);
	memcpy(copy, t->b, avail);
	r = madt_parse(copy, avail, mi, err, 128);
	free(copy);
	return r;
}

static void test_valid(void)
{
	static struct madt_info mi;
	struct tbl t;
	char err[128];
	uint8_t ioapic[12] = {1, 12};
	uint8_t override[12] = {5, 12};
	uint64_t base = 0xfed00000ull;

	start(&t);
	lapic(&t, 0, 1);
	add(&t, ioapic, 12);
	lapic(&t, 1, 1);
	lapic(&t, 2, 0); /* disabled */
	lapic(&t, 3, 2); /* online capable */
	x2apic(&t, 0x1000, 1);
	lapic(&t, 1, 1); /* duplicate */
	is_int(parse(&t, t.len, &mi, err), 0, "valid table parses");
	is_int(mi.ncpus, 3, "three enabled CPUs");
	ok(mi.apic_id[0] == 0 && mi.apic_id[1] == 1 && mi.apic_id[2] == 0x1000,
	   "APIC IDs in table order, x2APIC ID kept whole");
	is_int(mi.disabled, 1, "one disabled entry");
	is_int(mi.online_capable, 1, "one online-capable entry not used");
	is_int(mi.dropped, 1, "duplicate APIC ID dropped");
	ok(mi.lapic_base == 0xfee00000ull, "local APIC address from header");

	memcpy(override + 4, &base, 8);
	add(&t, override, 12);
	is_int(parse(&t, t.len, &mi, err), 0, "table with override parses");
	ok(mi.lapic_base == base, "type 5 overrides the APIC address");

	/* A longer buffer than the table: only the table is read. */
	is_int(parse(&t, sizeof(t.b), &mi, err), 0,
	       "buffer longer than the table is fine");
}

static void test_hostile(void)
{
	static struct madt_info mi;
	struct tbl t;
	char err[128];
	uint8_t zero[2] = {0, 0}, big[2] = {0, 200};
	uint8_t shortl[4] = {0, 4, 0, 0}, shortx[8] = {9, 8};

	start(&t);
	lapic(&t, 0, 1);
	ok(parse(&t, 20, &mi, err) == -1, "buffer shorter than the header");
	ok(parse(&t, t.len - 1, &mi, err) == -1 && strstr(err, "length"),
	   "table length past the buffer: %s", err);
	memcpy(t.b, "APIX", 4);
	ok(parse(&t, t.len, &mi, err) == -1 && strstr(err, "signature"),
	   "wrong signature refused");

	start(&t);
	ok(parse(&t, t.len, &mi, err) == -1 && strstr(err, "no enabled CPU"),
	   "no CPU at all refused: %s", err);
	lapic(&t, 0, 0);
	ok(parse(&t, t.len, &mi, err) == -1, "only disabled CPUs refused");

	start(&t);
	lapic(&t, 0, 1);
	add(&t, zero, 2);
	lapic(&t, 1, 1);
	ok(parse(&t, t.len, &mi, err) == -1 && strstr(err, "bad length"),
	   "zero-length entry refused (no endless loop): %s", err);

	start(&t);
	lapic(&t, 0, 1);
	add(&t, big, 2);
	ok(parse(&t, t.len, &mi, err) == -1, "entry running past the table");

	start(&t);
	lapic(&t, 0, 1);
	t.b[t.len] = 0;
	t.len += 1;
	ok(parse(&t, t.len, &mi, err) == -1 && strstr(err, "cut off"),
	   "one trailing byte: %s", err);

	start(&t);
	add(&t, shortl, 4);
	ok(parse(&t, t.len, &mi, err) == -1 && strstr(err, "too short"),
	   "local APIC entry too short: %s", err);
	start(&t);
	add(&t, shortx, 8);
	ok(parse(&t, t.len, &mi, err) == -1, "x2APIC entry too short");

	/* Table length field smaller than the header. */
	start(&t);
	lapic(&t, 0, 1);
	t.len = 40;
	ok(parse(&t, 60, &mi, err) == -1, "length below the header refused");
	ok(madt_parse(NULL, 100, &mi, err, sizeof(err)) == -1, "NULL buffer");
}

static void test_many(void)
{
	static struct madt_info mi;
	static uint8_t buf[44 + 300 * 16];
	uint32_t len = 44 + 300 * 16;
	char err[128];

	memcpy(buf, "APIC", 4);
	memcpy(buf + 4, &len, 4);
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t *e = buf + 44 + i * 16;
		uint32_t one = 1;

		e[0] = 9;
		e[1] = 16;
		memcpy(e + 4, &i, 4);
		memcpy(e + 8, &one, 4);
	}
	is_int(madt_parse(buf, len, &mi, err, sizeof(err)), 0,
	       "300 CPUs parse");
	is_int(mi.ncpus, MADT_MAX_CPUS, "capped at MADT_MAX_CPUS");
	is_int(mi.dropped, 300 - MADT_MAX_CPUS, "the rest counted as dropped");
}

int main(void)
{
	test_valid();
	test_hostile();
	test_many();
	return tap_done();
}
