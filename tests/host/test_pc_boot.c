// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/acpi.c and vmm/pc_boot.c: the ACPI tables checked
 * the way acpidump/acpixtract users check them (signatures, lengths,
 * checksums, pointers, MADT entries, FADT blocks; the DSDT disassembled
 * with iasl -d when acpica-tools is installed), and the multiboot and PVH
 * boot information in a buffer standing in for guest RAM.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/host/tap.h"
#include "vmm/acpi.h"
#include "vmm/guest_layout.h"
#include "vmm/pc.h"
#include "vmm/pc_boot.h"

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* @ram is guest RAM from GPA 0: a table by its guest address. */
static const uint8_t *table(const uint8_t *ram, uint64_t gpa, const char *sig)
{
	const uint8_t *t = ram + gpa;
	bool good = gpa >= PC_ACPI_BASE && gpa < PC_HOLE_END &&
		    !memcmp(t, sig, 4) && get32(t + 4) >= 36 &&
		    gpa + get32(t + 4) <= PC_HOLE_END &&
		    acpi_sum(t, get32(t + 4)) == 0;

	ok(good, "%s at %llx: in range, length %u, checksum", sig,
	   (unsigned long long)gpa, get32(t + 4));
	return good ? t : NULL;
}

static void check_gas(const uint8_t *g, uint8_t bits, uint16_t port,
		      const char *what)
{
	ok(g[0] == 1 && g[1] == bits && get64(g + 4) == port,
	   "FADT %s: I/O port %x, %u bits", what, port, bits);
}

static void iasl_disassemble(const uint8_t *dsdt)
{
	char dir[] = "/tmp/tidal-acpi-XXXXXX", cmd[256], path[128];
	FILE *f;

	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		tap_skip("iasl not installed (acpica-tools)");
		return;
	}
	if (!mkdtemp(dir)) {
		ok(false, "temporary directory for iasl");
		return;
	}
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	f = fopen(path, "wb");
	fwrite(dsdt, 1, get32(dsdt + 4), f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && iasl -d dsdt.dat >iasl.log 2>&1 && "
		 "grep -q 'Name (_S5, Package (0x04)' dsdt.dsl && "
		 "grep -A3 'Name (_S5' dsdt.dsl | grep -q '0x05'",
		 dir);
	ok(system(cmd) == 0, "iasl -d disassembles the DSDT: Name (_S5, "
			     "Package (4) { 5, ... })");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

static void check_madt(const uint8_t *m, unsigned int ncpus)
{
	uint32_t len = get32(m + 4);
	unsigned int cpus = 0, ioapic = 0, iso0 = 0, sci = 0, nmi = 0;
	bool ids_ok = true;

	ok(get32(m + 36) == PC_LAPIC_BASE && (get32(m + 40) & 1),
	   "MADT: local APIC at 0xFEE00000, PCAT_COMPAT");
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;

		if (e[1] < 2 || off + e[1] > len) {
			ok(false, "MADT entry at %u has a sane length", off);
			return;
		}
		if (e[0] == 0) {
			ids_ok &= e[1] == 8 && e[2] == cpus && e[3] == cpus &&
				  get32(e + 4) == 1;
			cpus++;
		} else if (e[0] == 1) {
			ioapic += e[1] == 12 && e[2] == ncpus &&
				  get32(e + 4) == PC_IOAPIC_BASE &&
				  get32(e + 8) == 0;
		} else if (e[0] == 2 && e[3] == 0) {
			iso0 += e[1] == 10 && get32(e + 4) == 2;
		} else if (e[0] == 2 && e[3] == PC_SCI_IRQ) {
			sci += get32(e + 4) == PC_SCI_IRQ &&
			       (e[8] | e[9] << 8) == 0xd;
		} else if (e[0] == 4) {
			nmi += e[1] == 6 && e[2] == 0xff && e[5] == 1;
		}
		off += e[1];
	}
	ok(cpus == ncpus && ids_ok, "MADT: %u enabled local APICs, IDs 0-%u",
	   cpus, ncpus - 1);
	ok(ioapic == 1, "MADT: one I/O APIC at 0xFEC00000, GSI base 0");
	ok(iso0 == 1, "MADT: IRQ0 -> GSI2 override");
	ok(sci == 1, "MADT: SCI override, level, active high");
	ok(nmi == 1, "MADT: LINT1 NMI for all CPUs");
}

static void check_fadt(const uint8_t *ram, const uint8_t *f, bool iasl)
{
	const uint8_t *dsdt, *facs = ram + get64(f + 132);

	ok(f[8] >= 3 && get32(f + 4) == 244, "FADT revision 3, 244 bytes");
	ok(get64(f + 140) == get32(f + 40), "FADT: X_DSDT matches DSDT");
	ok(get32(f + 36) == 0 && get64(f + 132) != 0,
	   "FADT: the FACS only in X_FIRMWARE_CTRL (FIRMWARE_CTRL 0)");
	ok(!memcmp(facs, "FACS", 4) && get32(facs + 4) == 64 &&
		   !(get64(f + 132) & 63),
	   "FACS: signature, 64 bytes, 64-byte aligned");
	ok((get32(f + 46) & 0xffff) == PC_SCI_IRQ && get32(f + 48) == 0,
	   "FADT: SCI on IRQ 9, no SMI command port (always ACPI mode)");
	ok(get32(f + 56) == PC_PM1A_EVT && f[88] == 4,
	   "FADT: PM1a event block");
	ok(get32(f + 64) == PC_PM1A_CNT && f[89] == 2,
	   "FADT: PM1a control block");
	ok(get32(f + 76) == PC_PM_TMR && f[91] == 4, "FADT: PM timer block");
	ok(get32(f + 112) & (1u << 8), "FADT: 32-bit PM timer (TMR_VAL_EXT)");
	check_gas(f + 148, 32, PC_PM1A_EVT, "X_PM1a_EVT_BLK");
	check_gas(f + 172, 16, PC_PM1A_CNT, "X_PM1a_CNT_BLK");
	check_gas(f + 208, 32, PC_PM_TMR, "X_PM_TMR_BLK");
	dsdt = table(ram, get32(f + 40), "DSDT");
	if (!dsdt)
		return;
	ok(memmem(dsdt + 36, get32(dsdt + 4) - 36,
		  "\x08_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00", 14) != NULL,
	   "DSDT: \\_S5 package with SLP_TYP 5");
	if (iasl)
		iasl_disassemble(dsdt);
}

/* Walk from the RSDP as an OS does. */
static void check_acpi(const uint8_t *ram, unsigned int ncpus, bool iasl)
{
	const uint8_t *rsdp = NULL, *xsdt, *rsdt;

	for (uint64_t a = PC_ACPI_BASE; a < PC_HOLE_END && !rsdp; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8))
			rsdp = ram + a;
	if (!ok(rsdp != NULL, "RSDP found on a 16-byte boundary in "
			      "0xE0000-0xFFFFF"))
		return;
	ok(acpi_sum(rsdp, 20) == 0 && acpi_sum(rsdp, 36) == 0 &&
		   rsdp[15] == 2 && get32(rsdp + 20) == 36,
	   "RSDP: revision 2, both checksums");
	xsdt = table(ram, get64(rsdp + 24), "XSDT");
	rsdt = table(ram, get32(rsdp + 16), "RSDT");
	if (!xsdt || !rsdt)
		return;
	unsigned int n = (get32(xsdt + 4) - 36) / 8;

	ok(n == 2 && (get32(rsdt + 4) - 36) / 4 == n,
	   "XSDT and RSDT list the same 2 tables");
	for (unsigned int i = 0; i < n; i++) {
		uint64_t a = get64(xsdt + 36 + 8 * i);

		ok(get32(rsdt + 36 + 4 * i) == a, "RSDT entry %u matches", i);
		if (!memcmp(ram + a, "FACP", 4)) {
			if (table(ram, a, "FACP"))
				check_fadt(ram, ram + a, iasl);
		} else if (table(ram, a, "APIC")) {
			check_madt(ram + a, ncpus);
		}
	}
}

static void test_acpi(void)
{
	static uint8_t ram[PC_HOLE_END];
	static const unsigned int counts[] = {1, 4, 255};

	for (unsigned int i = 0; i < 3; i++) {
		memset(ram, 0xcc, sizeof(ram));
		size_t used = acpi_build(ram + PC_ACPI_BASE, PC_ACPI_SIZE,
					 PC_ACPI_BASE, counts[i]);

		ok(used > 0 && used < 0x2000,
		   "%u CPUs: tables built, %zu bytes", counts[i], used);
		diag("tables for %u CPUs:", counts[i]);
		check_acpi(ram, counts[i], i == 0);
	}
	ok(!acpi_build(ram + PC_ACPI_BASE, PC_ACPI_SIZE, PC_ACPI_BASE, 0),
	   "0 CPUs refused");
	ok(!acpi_build(ram + PC_ACPI_BASE, PC_ACPI_SIZE, PC_ACPI_BASE, 256),
	   "256 CPUs refused (8-bit APIC IDs)");
	ok(!acpi_build(ram + PC_ACPI_BASE, 200, PC_ACPI_BASE, 1),
	   "too little room refused");
	ok(!acpi_build(ram, 0x1000, 0xfffff800ull, 1),
	   "tables above 4 GiB refused");
}

/* A multiboot or PVH image as boot_format.c would have produced it. */
static struct guest_image image(enum guest_format fmt)
{
	struct guest_image gi = {.fmt = fmt, .entry = 0x100000};

	gi.elf.bits = 32;
	gi.elf.nsegs = 1;
	gi.elf.seg[0] = (struct elf_segment){.gpa = 0x100000,
					     .memsz = 0x5000,
					     .offset = 0x1000,
					     .filesz = 0x1000,
					     .flags = PF_R | PF_X,
					     .vaddr = 0x100000};
	gi.elf.lo = 0x100000;
	gi.elf.hi = 0x105000;
	return gi;
}

static const char mod1[] = "first module\n", mod2[] = "second\n";
static const struct pc_module mods[] = {
	{mod1, sizeof(mod1) - 1, "one.txt alpha=1"},
	{mod2, sizeof(mod2) - 1, NULL},
};

static void check_map(const struct pc_boot *pb, uint64_t mem)
{
	uint64_t ram = 0, low = pc_low_top(mem);
	bool sorted = true;

	for (unsigned int i = 0; i < pb->nmap; i++) {
		if (pb->map[i].type == PC_MEM_RAM)
			ram += pb->map[i].size;
		if (i)
			sorted &= pb->map[i].addr >=
				  pb->map[i - 1].addr + pb->map[i - 1].size;
	}
	ok(sorted, "mem %llu MiB: map sorted, no overlap",
	   (unsigned long long)(mem >> 20));
	ok(pb->map[0].addr == 0 && pb->map[0].size == PC_LOW_RAM_END &&
		   pb->map[1].addr == PC_LOW_RAM_END &&
		   pb->map[1].type == PC_MEM_RESERVED &&
		   pb->map[2].addr == PC_HOLE_END &&
		   pb->map[2].type == PC_MEM_RAM,
	   "RAM to 640 KiB, reserved to 1 MiB, RAM from 1 MiB");
	ok(pb->info_gpa == low - TIDAL_AREA_SIZE - PC_INFO_SIZE &&
		   pb->map[3].addr == pb->info_gpa &&
		   pb->map[3].addr + pb->map[3].size == low,
	   "boot information and tidal's pages reserved at the top of low "
	   "RAM");
	ok(ram + (low - pb->info_gpa) + (PC_HOLE_END - PC_LOW_RAM_END) == mem,
	   "RAM + reserved RAM == mem");
	if (mem > PC_MMIO_START)
		ok(pb->map[pb->nmap - 1].addr == PC_HIGH_RAM_BASE &&
			   pb->map[pb->nmap - 1].size == mem - PC_MMIO_START,
		   "RAM beyond 3 GiB appears at 4 GiB");
}

static void test_mb1(uint8_t *ram, uint64_t mem)
{
	struct guest_image gi = image(GUEST_FMT_MB1);
	struct pc_boot_config cfg = {mem, 2, "mb1 root=x", mods, 2};
	struct pc_boot pb;
	const char *err = NULL;

	if (!ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) == 0,
		"multiboot, %llu MiB: built", (unsigned long long)(mem >> 20)))
		diag("  %s", err);
	check_map(&pb, mem);
	const struct mb1_info *mbi = (const void *)(ram + pb.start_gpa);

	ok(pb.boot_magic == MB1_BOOT_MAGIC && pb.start_gpa >= pb.info_gpa,
	   "EAX magic, info in the reserved area");
	ok(mbi->flags == 0x24d && mbi->mem_lower == 640 &&
		   mbi->mem_upper == (pb.info_gpa - PC_HOLE_END) >> 10,
	   "info flags, mem_lower, mem_upper");
	ok(!strcmp((char *)ram + mbi->cmdline, "mb1 root=x") &&
		   !strcmp((char *)ram + mbi->boot_loader_name, "tidal"),
	   "command line and boot loader name");
	const struct mb1_module *m = (const void *)(ram + mbi->mods_addr);

	ok(mbi->mods_count == 2 && m[0].mod_start == 0x105000 &&
		   m[0].mod_end == 0x105000 + sizeof(mod1) - 1 &&
		   m[1].mod_start == 0x106000 &&
		   !memcmp(ram + m[0].mod_start, mod1, sizeof(mod1) - 1) &&
		   !memcmp(ram + m[1].mod_start, mod2, sizeof(mod2) - 1),
	   "modules page-aligned after the kernel, in order, contents");
	ok(!strcmp((char *)ram + m[0].string, "one.txt alpha=1") &&
		   !strcmp((char *)ram + m[1].string, ""),
	   "module command lines");
	const struct mb1_mmap_entry *e = (const void *)(ram + mbi->mmap_addr);
	bool same = mbi->mmap_length == pb.nmap * sizeof(*e);

	for (unsigned int i = 0; same && i < pb.nmap; i++)
		same = e[i].size == 20 && e[i].addr == pb.map[i].addr &&
		       e[i].len == pb.map[i].size &&
		       e[i].type == pb.map[i].type;
	ok(same, "multiboot memory map is the map");
}

static void test_pvh(uint8_t *ram, uint64_t mem)
{
	struct guest_image gi = image(GUEST_FMT_PVH);
	struct pc_boot_config cfg = {mem, 1, "console=ttyS0", mods, 1};
	struct pc_boot pb;
	const char *err = NULL;

	if (!ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) == 0,
		"PVH, %llu MiB: built", (unsigned long long)(mem >> 20)))
		diag("  %s", err);
	check_map(&pb, mem);
	const struct hvm_start_info *si = (const void *)(ram + pb.start_gpa);
	const struct hvm_modlist_entry *m =
		(const void *)(ram + si->modlist_paddr);
	const struct hvm_memmap_entry *e =
		(const void *)(ram + si->memmap_paddr);

	ok(si->magic == PVH_START_MAGIC && si->version == 1 &&
		   pb.boot_magic == 0,
	   "hvm_start_info magic and version");
	ok(si->rsdp_paddr == PC_ACPI_BASE &&
		   !memcmp(ram + si->rsdp_paddr, "RSD PTR ", 8),
	   "rsdp_paddr points at the RSDP");
	ok(!strcmp((char *)ram + si->cmdline_paddr, "console=ttyS0"),
	   "command line");
	ok(si->nr_modules == 1 && m->paddr == 0x105000 &&
		   m->size == sizeof(mod1) - 1 &&
		   !strcmp((char *)ram + m->cmdline_paddr, "one.txt alpha=1"),
	   "module list (initrd)");
	ok(si->memmap_entries == pb.nmap && e[0].addr == 0 &&
		   e[pb.nmap - 1].addr == pb.map[pb.nmap - 1].addr,
	   "memory map");
}

static void test_refusals(uint8_t *ram)
{
	struct guest_image gi = image(GUEST_FMT_MB1);
	struct pc_module big = {ram, 15 << 20, NULL};
	struct pc_boot_config cfg = {16 << 20, 1, NULL, &big, 1};
	struct pc_boot pb;
	const char *err = NULL;

	ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) && err &&
		   strstr(err, "do not fit"),
	   "module larger than RAM refused: %s", err ? err : "-");
	cfg.nmods = 0;
	cfg.ncpus = 0;
	ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) && strstr(err, "ACPI"),
	   "0 vCPUs refused: %s", err);
	cfg.ncpus = 1;
	cfg.nmods = PC_MODULES_MAX + 1;
	ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) && strstr(err, "too many"),
	   "too many modules refused: %s", err);
	/* A command line that fills the 64 KiB information area. */
	char *line = malloc(PC_INFO_SIZE);

	memset(line, 'a', PC_INFO_SIZE - 1);
	line[PC_INFO_SIZE - 1] = 0;
	cfg.nmods = 0;
	cfg.cmdline = line;
	ok(pc_boot_build(ram, &cfg, &gi, &pb, &err) && strstr(err, "too long"),
	   "64 KiB command line refused: %s", err);
	free(line);
}

static void test_offsets(void)
{
	uint64_t g = 1ull << 30;

	ok(pc_low_top(64 << 20) == 64 << 20 && pc_low_top(4 * g) == 3 * g,
	   "low RAM stops at the 3 GiB MMIO window");
	ok(pc_ram_offset(4 * g, 0x1000) == 0x1000 &&
		   pc_ram_offset(4 * g, 3 * g) == UINT64_MAX &&
		   pc_ram_offset(4 * g, PC_LAPIC_BASE) == UINT64_MAX &&
		   pc_ram_offset(4 * g, 4 * g) == 3 * g &&
		   pc_ram_offset(4 * g, 5 * g - 1) == 4 * g - 1 &&
		   pc_ram_offset(4 * g, 5 * g) == UINT64_MAX,
	   "GPA -> RAM offset around the MMIO window");
	struct elf_limits l = pc_elf_limits(64 << 20);

	ok(l.by_paddr && l.hole_lo == 0xa0000 && l.hole_hi == 0x100000 &&
		   l.usable_end == (64 << 20) - TIDAL_AREA_SIZE - PC_INFO_SIZE,
	   "PC kernel limits");
}

int main(void)
{
	uint64_t big = 4ull << 30, low = PC_MMIO_START;
	/* Guest RAM stand-ins; only touched pages get memory. */
	uint8_t *ram = mmap(NULL, low, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (ram == MAP_FAILED) {
		ok(false, "map 3 GiB of address space for guest RAM");
		return tap_done();
	}
	test_acpi();
	test_offsets();
	test_mb1(ram, 16 << 20);
	test_mb1(ram, big);
	test_pvh(ram, 64 << 20);
	test_pvh(ram, big);
	test_refusals(ram);
	munmap(ram, low);
	return tap_done();
}
