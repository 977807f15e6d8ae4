// SPDX-License-Identifier: MIT
/*
 * ACPI tables, read through the direct map.  Firmware tables are not
 * trusted blindly: each table must lie inside the direct map, have a sane
 * length and a zero checksum before any field past its header is read.
 *
 * Soft-off needs the SLP_TYPa/b values of the \_S5 package in the DSDT,
 * which is AML.  tidal does not run an AML interpreter; it looks for the
 * usual compiled form of "Name (_S5, Package () { a, b, ... })" and reads
 * the first two integers.  That covers QEMU, Bochs and most firmware.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "boot/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/paging.h"

#define TABLE_MAX_LEN (16u << 20)

/* FADT field offsets (ACPI 6.x, table 5.9). */
#define FADT_DSDT	   40
#define FADT_SMI_CMD	   48
#define FADT_ACPI_ENABLE   52
#define FADT_PM1A_CNT	   64
#define FADT_PM1B_CNT	   68
#define FADT_X_DSDT	   140

#define PM1_SCI_EN BIT(0)
#define PM1_SLP_EN BIT(13)

static uint64_t rsdt_pa, xsdt_pa;

static bool sum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += b[i];
	return s == 0;
}

/* The table at @pa if it is mapped, sane and has a valid checksum. */
static const struct acpi_header *table_at(uint64_t pa)
{
	const struct acpi_header *h;
	uint64_t end = paging_direct_map_end();

	if (!pa || pa >= end || end - pa < sizeof(*h))
		return NULL;
	h = phys_to_virt(pa);
	if (h->length < sizeof(*h) || h->length > TABLE_MAX_LEN ||
	    h->length > end - pa || !sum_ok(h, h->length))
		return NULL;
	return h;
}

bool acpi_init(const struct boot_info *bi)
{
	const uint8_t *r = bi->rsdp;
	uint32_t rsdt;
	uint64_t xsdt;

	if (!r || bi->rsdp_len < 20 || !sum_ok(r, 20))
		return false;
	memcpy(&rsdt, r + 16, 4);
	rsdt_pa = rsdt;
	/* ACPI 2.0+: a 36-byte RSDP with the XSDT address. */
	if (r[15] >= 2 && bi->rsdp_len >= 36 && sum_ok(r, 36)) {
		memcpy(&xsdt, r + 24, 8);
		xsdt_pa = xsdt;
	}
	return true;
}

const struct acpi_header *acpi_find(const char sig[4])
{
	bool x = xsdt_pa && table_at(xsdt_pa);
	const struct acpi_header *root = table_at(x ? xsdt_pa : rsdt_pa);
	size_t esize = x ? 8 : 4, n;
	const uint8_t *ents;

	if (!root)
		return NULL;
	n = (root->length - sizeof(*root)) / esize;
	ents = (const uint8_t *)(root + 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t pa = 0;
		const struct acpi_header *t;

		memcpy(&pa, ents + i * esize, esize);
		t = table_at(pa);
		if (t && !memcmp(t->sig, sig, 4))
			return t;
	}
	return NULL;
}

static uint32_t fadt_u32(const struct acpi_header *f, uint32_t off)
{
	uint32_t v = 0;

	if (f->length >= off + 4)
		memcpy(&v, (const uint8_t *)f + off, 4);
	return v;
}

/*
 * One AML integer at @p (before @end): ZeroOp, OneOp or a BytePrefix
 * constant.  Returns bytes used, 0 if it is something else.
 */
static int aml_small_int(const uint8_t *p, const uint8_t *end, uint8_t *v)
{
	if (p >= end)
		return 0;
	if (*p == 0x00 || *p == 0x01) {
		*v = *p;
		return 1;
	}
	if (*p == 0x0a && p + 1 < end) {
		*v = p[1];
		return 2;
	}
	return 0;
}

static bool find_s5(const struct acpi_header *dsdt, uint8_t *a, uint8_t *b)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	int n;

	for (; p + 8 < end; p++) {
		/* NameOp (optionally after '\') "_S5_" PackageOp */
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		if (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08))
			continue;
		p += 5;
		p += 1 + (*p >> 6); /* PkgLength: lead byte + extra bytes */
		p++;		    /* NumElements */
		n = aml_small_int(p, end, a);
		if (!n || !aml_small_int(p + n, end, b))
			return false;
		return true;
	}
	return false;
}

void acpi_power_off(void)
{
	const struct acpi_header *fadt = acpi_find("FACP"), *dsdt = NULL;
	uint32_t pm1a, pm1b, smi;
	uint8_t slp_a, slp_b, enable;
	uint64_t dsdt_pa = 0;

	if (!fadt)
		return;
	if (fadt->length >= FADT_X_DSDT + 8)
		memcpy(&dsdt_pa, (const uint8_t *)fadt + FADT_X_DSDT, 8);
	if (!dsdt_pa)
		dsdt_pa = fadt_u32(fadt, FADT_DSDT);
	dsdt = table_at(dsdt_pa);
	pm1a = fadt_u32(fadt, FADT_PM1A_CNT);
	pm1b = fadt_u32(fadt, FADT_PM1B_CNT);
	if (!dsdt || !pm1a || pm1a > 0xffff || pm1b > 0xffff ||
	    !find_s5(dsdt, &slp_a, &slp_b))
		return;
	/* Hand ACPI from SMM to the OS if the firmware has not yet. */
	smi = fadt_u32(fadt, FADT_SMI_CMD);
	enable = (uint8_t)fadt_u32(fadt, FADT_ACPI_ENABLE);
	if (!(inw(pm1a) & PM1_SCI_EN) && smi && smi <= 0xffff && enable) {
		outb(smi, enable);
		for (int i = 0; i < 1000000 && !(inw(pm1a) & PM1_SCI_EN); i++)
			cpu_relax();
	}
	outw(pm1a, (uint16_t)((slp_a & 7) << 10) | PM1_SLP_EN);
	if (pm1b)
		outw(pm1b, (uint16_t)((slp_b & 7) << 10) | PM1_SLP_EN);
	/* Give the chipset a moment before the caller falls back. */
	for (int i = 0; i < 1000000; i++)
		cpu_relax();
}
