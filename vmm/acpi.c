// SPDX-License-Identifier: MIT
/* ACPI tables for PC guests; see acpi.h. */
#include "vmm/acpi.h"
#include "vmm/pc.h"

#define HDR_SIZE  36
#define RSDP_SIZE 36
#define FADT_SIZE 244 /* revision 3 (ACPI 2.0) layout */
#define FACS_SIZE 64

/* Growing the tables inside one buffer, with the guest address of each. */
struct acpi_buf {
	uint8_t *base;
	size_t room, used;
	uint64_t gpa;
	bool overflow;
};

/* Room for @n bytes aligned to @align: the host pointer, or NULL. */
static uint8_t *take(struct acpi_buf *b, size_t n, size_t align, uint64_t *gpa)
{
	size_t at = ALIGN_UP(b->used, align);

	if (at > b->room || n > b->room - at) {
		b->overflow = true;
		return NULL;
	}
	b->used = at + n;
	*gpa = b->gpa + at;
	__builtin_memset(b->base + at, 0, n);
	return b->base + at;
}

static void put8(uint8_t *p, size_t off, uint8_t v)
{
	p[off] = v;
}
static void put16(uint8_t *p, size_t off, uint16_t v)
{
	__builtin_memcpy(p + off, &v, 2);
}
static void put32(uint8_t *p, size_t off, uint32_t v)
{
	__builtin_memcpy(p + off, &v, 4);
}
static void put64(uint8_t *p, size_t off, uint64_t v)
{
	__builtin_memcpy(p + off, &v, 8);
}

uint8_t acpi_sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

/* Fill the common header; the checksum is set once the body is done. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	__builtin_memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	__builtin_memcpy(t + 10, "TIDAL ", 6);
	__builtin_memcpy(t + 16, "TIDALPC ", 8);
	put32(t, 24, 1);
	__builtin_memcpy(t + 28, "TDL ", 4);
	put32(t, 32, 1);
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0 - acpi_sum(t, len));
}

/* A generic address structure for an I/O port block. */
static void gas_io(uint8_t *p, size_t off, uint8_t bits, uint16_t port)
{
	put8(p, off, 1); /* system I/O space */
	put8(p, off + 1, bits);
	put8(p, off + 2, 0);
	put8(p, off + 3, bits == 32 ? 3 : bits == 16 ? 2 : 1);
	put64(p, off + 4, port);
}

/*
 * DSDT body: Name (\_S5, Package (4) { 5, 5, 0, 0 }).
 *   08            NameOp
 *   5F 53 35 5F   "_S5_"
 *   12 08 04      PackageOp, PkgLength 8, 4 elements
 *   0A 05 0A 05   BytePrefix 5, BytePrefix 5 (PM1a, PM1b SLP_TYP)
 *   00 00         ZeroOp, ZeroOp (reserved)
 */
static const uint8_t dsdt_aml[] = {
	0x08, 0x5f, 0x53,	   0x35, 0x5f,		0x12, 0x08,
	0x04, 0x0a, PC_SLP_TYP_S5, 0x0a, PC_SLP_TYP_S5, 0x00, 0x00,
};

static uint64_t build_dsdt(struct acpi_buf *b)
{
	uint32_t len = HDR_SIZE + sizeof(dsdt_aml);
	uint64_t gpa = 0;
	uint8_t *t = take(b, len, 16, &gpa);

	if (!t)
		return 0;
	header(t, "DSDT", len, 2);
	__builtin_memcpy(t + HDR_SIZE, dsdt_aml, sizeof(dsdt_aml));
	seal(t, len);
	return gpa;
}

static uint64_t build_facs(struct acpi_buf *b)
{
	uint64_t gpa = 0;
	uint8_t *t = take(b, FACS_SIZE, 64, &gpa);

	if (!t)
		return 0;
	__builtin_memcpy(t, "FACS", 4);
	put32(t, 4, FACS_SIZE);
	put8(t, 32, 2); /* version */
	return gpa;
}

static uint64_t build_fadt(struct acpi_buf *b, uint64_t dsdt, uint64_t facs)
{
	uint64_t gpa = 0;
	uint8_t *t = take(b, FADT_SIZE, 16, &gpa);

	if (!t)
		return 0;
	header(t, "FACP", FADT_SIZE, 3);
	/*
	 * FIRMWARE_CTRL (36) stays 0: with X_FIRMWARE_CTRL set, ACPI 2.0+
	 * wants the 32-bit field zero, and Linux would list the FACS twice.
	 */
	put32(t, 40, (uint32_t)dsdt);
	put16(t, 46, PC_SCI_IRQ);
	/* SMI_CMD (48) stays 0: the platform is always in ACPI mode. */
	put32(t, 56, PC_PM1A_EVT);
	put32(t, 64, PC_PM1A_CNT);
	put32(t, 76, PC_PM_TMR);
	put8(t, 88, 4);	    /* PM1_EVT_LEN */
	put8(t, 89, 2);	    /* PM1_CNT_LEN */
	put8(t, 91, 4);	    /* PM_TMR_LEN */
	put16(t, 96, 101);  /* no C2 */
	put16(t, 98, 1001); /* no C3 */
	put16(t, 109, 0x1); /* IAPC_BOOT_ARCH: legacy devices, no 8042 */
	/* WBINVD, PROC_C1, no fixed power/sleep buttons, 32-bit PM timer. */
	put32(t, 112, BIT(0) | BIT(2) | BIT(4) | BIT(5) | BIT(8));
	put64(t, 132, facs);
	put64(t, 140, dsdt);
	gas_io(t, 148, 32, PC_PM1A_EVT);
	gas_io(t, 172, 16, PC_PM1A_CNT);
	gas_io(t, 208, 32, PC_PM_TMR);
	seal(t, FADT_SIZE);
	return gpa;
}

static uint64_t build_madt(struct acpi_buf *b, unsigned int ncpus)
{
	uint32_t len = HDR_SIZE + 8 + 8 * ncpus + 12 + 10 + 10 + 6;
	uint64_t gpa = 0;
	uint8_t *t = take(b, len, 16, &gpa);
	size_t off = HDR_SIZE + 8;

	if (!t)
		return 0;
	header(t, "APIC", len, 3);
	put32(t, 36, (uint32_t)PC_LAPIC_BASE);
	put32(t, 40, 1); /* PCAT_COMPAT: there is an 8259 pair */
	for (unsigned int i = 0; i < ncpus; i++, off += 8) {
		put8(t, off, 0); /* processor local APIC */
		put8(t, off + 1, 8);
		put8(t, off + 2, (uint8_t)i); /* processor UID */
		put8(t, off + 3, (uint8_t)i); /* APIC ID */
		put32(t, off + 4, 1);	      /* enabled */
	}
	put8(t, off, 1); /* I/O APIC, ID after the CPUs' */
	put8(t, off + 1, 12);
	put8(t, off + 2, (uint8_t)ncpus);
	put32(t, off + 4, (uint32_t)PC_IOAPIC_BASE);
	put32(t, off + 8, 0); /* GSI base */
	off += 12;
	put8(t, off, 2); /* ISA IRQ 0 is on GSI 2, bus defaults */
	put8(t, off + 1, 10);
	put8(t, off + 3, 0);
	put32(t, off + 4, 2);
	put16(t, off + 8, 0);
	off += 10;
	put8(t, off, 2); /* the SCI: level, active high */
	put8(t, off + 1, 10);
	put8(t, off + 3, PC_SCI_IRQ);
	put32(t, off + 4, PC_SCI_IRQ);
	put16(t, off + 8, 0xd);
	off += 10;
	put8(t, off, 4); /* LINT1 of every CPU is the NMI */
	put8(t, off + 1, 6);
	put8(t, off + 2, 0xff);
	put16(t, off + 3, 0);
	put8(t, off + 5, 1);
	seal(t, len);
	return gpa;
}

static void build_sdts(struct acpi_buf *b, const uint64_t *ent, unsigned int n,
		       uint64_t *xsdt, uint64_t *rsdt)
{
	uint32_t xlen = HDR_SIZE + 8 * n, rlen = HDR_SIZE + 4 * n;
	uint8_t *x = take(b, xlen, 16, xsdt);
	uint8_t *r = take(b, rlen, 16, rsdt);

	if (!x || !r)
		return;
	header(x, "XSDT", xlen, 1);
	header(r, "RSDT", rlen, 1);
	for (unsigned int i = 0; i < n; i++) {
		put64(x, HDR_SIZE + 8 * i, ent[i]);
		put32(r, HDR_SIZE + 4 * i, (uint32_t)ent[i]);
	}
	seal(x, xlen);
	seal(r, rlen);
}

size_t acpi_build(void *dst, size_t room, uint64_t base_gpa, unsigned int ncpus)
{
	struct acpi_buf b = {dst, room, 0, base_gpa, false};
	uint64_t rsdp_gpa, ent[2], xsdt = 0, rsdt = 0;
	uint8_t *rsdp;

	/* Every table must sit below 4 GiB: the RSDT has 32-bit pointers. */
	if (!ncpus || ncpus > ACPI_MAX_CPUS || base_gpa + room > (1ull << 32))
		return 0;
	rsdp = take(&b, RSDP_SIZE, 16, &rsdp_gpa);
	if (!rsdp)
		return 0;
	uint64_t dsdt = build_dsdt(&b), facs = build_facs(&b);

	ent[0] = build_fadt(&b, dsdt, facs);
	ent[1] = build_madt(&b, ncpus);
	build_sdts(&b, ent, 2, &xsdt, &rsdt);
	if (b.overflow)
		return 0;
	__builtin_memcpy(rsdp, "RSD PTR ", 8);
	__builtin_memcpy(rsdp + 9, "TIDAL ", 6);
	put8(rsdp, 15, 2); /* ACPI 2.0+: XSDT present */
	put32(rsdp, 16, (uint32_t)rsdt);
	put32(rsdp, 20, RSDP_SIZE);
	put64(rsdp, 24, xsdt);
	rsdp[8] = (uint8_t)(0 - acpi_sum(rsdp, 20));
	rsdp[32] = (uint8_t)(0 - acpi_sum(rsdp, RSDP_SIZE));
	return b.used;
}
