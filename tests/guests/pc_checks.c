// SPDX-License-Identifier: MIT
/* Checks shared by the multiboot and PVH test kernels (pc_checks.h). */
#include "pc_checks.h"
#include "vmm/pc.h"

static unsigned int checks, failures;
static uint16_t pm1a_cnt, pm_tmr;
static uint8_t s5_type = 0xff;

void pc_check(bool cond, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	checks++;
	if (cond)
		return;
	failures++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("FAIL: %s\n", buf);
}

uint64_t pc_arg(const char *s, const char *key, uint64_t dflt)
{
	size_t kl = strlen(key);

	for (const char *p = s; p && *p; p++) {
		if ((p != s && p[-1] != ' ') || memcmp(p, key, kl) ||
		    p[kl] != '=')
			continue;
		uint64_t v = 0;

		for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v;
	}
	return dflt;
}

static uint32_t map_type_at(const struct pc_region *map, unsigned int n,
			    uint64_t addr)
{
	for (unsigned int i = 0; i < n; i++)
		if (addr >= map[i].addr && addr - map[i].addr < map[i].size)
			return map[i].type;
	return 0;
}

void pc_check_map(const struct pc_region *map, unsigned int n,
		  const char *cmdline)
{
	uint64_t mem = pc_arg(cmdline, "mem", 0) << 20, ram = 0, resv_low = 0;

	for (unsigned int i = 0; i < n; i++) {
		printf("map %016llx-%016llx type %u\n",
		       (unsigned long long)map[i].addr,
		       (unsigned long long)(map[i].addr + map[i].size - 1),
		       map[i].type);
		pc_check(!i || map[i].addr >= map[i - 1].addr + map[i - 1].size,
			 "map entry %u sorted, no overlap", i);
		if (map[i].type == PC_MEM_RAM)
			ram += map[i].size;
		else if (map[i].addr < PC_MMIO_START)
			resv_low += map[i].size;
	}
	pc_check(map_type_at(map, n, 0) == PC_MEM_RAM, "RAM at 0");
	pc_check(map_type_at(map, n, 0x9ffff) == PC_MEM_RAM, "RAM to 640K");
	pc_check(map_type_at(map, n, 0xa0000) == PC_MEM_RESERVED &&
			 map_type_at(map, n, 0xfffff) == PC_MEM_RESERVED,
		 "0xA0000-0xFFFFF reserved");
	pc_check(map_type_at(map, n, 0x100000) == PC_MEM_RAM, "RAM at 1M");
	pc_check(map_type_at(map, n, PC_IOAPIC_BASE) == PC_MEM_RESERVED &&
			 map_type_at(map, n, PC_LAPIC_BASE) == PC_MEM_RESERVED,
		 "I/O APIC and local APIC pages reserved");
	/* All of mem= is RAM, or reserved below the MMIO window. */
	pc_check(ram + resv_low == mem, "RAM %llu + reserved %llu == mem= %llu",
		 (unsigned long long)ram, (unsigned long long)resv_low,
		 (unsigned long long)mem);
}

void pc_check_modules(const struct pc_mod *mods, unsigned int n,
		      const char *cmdline)
{
	unsigned int want = (unsigned int)pc_arg(cmdline, "mods", 0);

	pc_check(n == want, "%u modules, want %u", n, want);
	for (unsigned int i = 0; i < n; i++) {
		const char *data = (const char *)(uintptr_t)mods[i].start;
		char expect[32];
		size_t len = mods[i].end - mods[i].start;

		snprintf(expect, sizeof(expect), "tidal test module %u\n",
			 i + 1);
		printf("module %u at %llx, %u bytes, cmdline \"%s\"\n", i + 1,
		       (unsigned long long)mods[i].start, (unsigned int)len,
		       mods[i].cmdline);
		pc_check(!(mods[i].start & 0xfff), "module %u page-aligned",
			 i + 1);
		pc_check(len == strlen(expect) && !memcmp(data, expect, len),
			 "module %u contents", i + 1);
		pc_check(i == 0 || mods[i].start >= mods[i - 1].end,
			 "module %u after module %u", i + 1, i);
	}
}

unsigned int pc_irq0_gsi;

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *b++);
	return s;
}

static const uint8_t *check_table(uint64_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
	bool good = addr && addr < 0xffffffffull && !memcmp(t, sig, 4) &&
		    get32(t + 4) >= 36 && !sum(t, get32(t + 4));

	pc_check(good, "table %s at %llx: signature and checksum", sig,
		 (unsigned long long)addr);
	return good ? t : NULL;
}

static void check_dsdt(const uint8_t *dsdt)
{
	uint32_t len = get32(dsdt + 4);

	for (uint32_t i = 36; i + 10 <= len; i++) {
		/* Name (_S5_, Package (n) { BytePrefix typ, ... }) */
		if (dsdt[i] == 0x08 && !memcmp(dsdt + i + 1, "_S5_", 4) &&
		    dsdt[i + 5] == 0x12 && dsdt[i + 8] == 0x0a)
			s5_type = dsdt[i + 9];
	}
	pc_check(s5_type < 8, "DSDT has \\_S5 with a sleep type (%u)", s5_type);
}

static void check_fadt(const uint8_t *f)
{
	const uint8_t *dsdt = check_table(get32(f + 40), "DSDT");

	pm1a_cnt = (uint16_t)get32(f + 64);
	pm_tmr = (uint16_t)get32(f + 76);
	pc_check(pm1a_cnt && f[89] == 2, "FADT: PM1a control block (%x)",
		 pm1a_cnt);
	pc_check(pm_tmr && f[91] == 4, "FADT: PM timer block (%x)", pm_tmr);
	if (dsdt)
		check_dsdt(dsdt);
}

static void check_madt(const uint8_t *m, unsigned int want_cpus)
{
	uint32_t len = get32(m + 4);
	unsigned int cpus = 0, ioapics = 0, irq0 = 0;

	pc_check(get32(m + 36) == PC_LAPIC_BASE, "MADT: local APIC address");
	for (uint32_t off = 44; off + 2 <= len && m[off + 1] >= 2;
	     off += m[off + 1]) {
		const uint8_t *e = m + off;

		if (e[0] == 0 && (get32(e + 4) & 1))
			cpus++;
		if (e[0] == 1 && get32(e + 4) == PC_IOAPIC_BASE &&
		    get32(e + 8) == 0)
			ioapics++;
		if (e[0] == 2 && e[3] == 0) {
			pc_irq0_gsi = get32(e + 4);
			irq0 += pc_irq0_gsi == 2;
		}
	}
	pc_check(cpus == want_cpus, "MADT: %u local APICs, want %u", cpus,
		 want_cpus);
	pc_check(ioapics == 1, "MADT: one I/O APIC at 0xFEC00000");
	pc_check(irq0 == 1, "MADT: IRQ0 -> GSI2 override");
}

uint32_t pc_check_acpi(const char *cmdline)
{
	const uint8_t *rsdp = NULL, *xsdt;

	for (uint32_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		if (!memcmp(p, "RSD PTR ", 8) && !sum(p, 20))
			rsdp = p;
	}
	pc_check(rsdp != NULL, "RSDP found in 0xE0000-0xFFFFF");
	if (!rsdp)
		return 0;
	pc_check(rsdp[15] >= 2 && get32(rsdp + 20) == 36 && !sum(rsdp, 36),
		 "RSDP revision 2, extended checksum");
	xsdt = check_table(get32(rsdp + 24) | (uint64_t)get32(rsdp + 28) << 32,
			   "XSDT");
	check_table(get32(rsdp + 16), "RSDT");
	if (!xsdt)
		return (uint32_t)(uintptr_t)rsdp;
	unsigned int n = (get32(xsdt + 4) - 36) / 8, seen = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t a = get32(xsdt + 36 + 8 * i);
		const uint8_t *t = (const uint8_t *)(uintptr_t)a;

		if (!memcmp(t, "FACP", 4) && check_table(a, "FACP")) {
			check_fadt(t);
			seen |= 1;
		} else if (!memcmp(t, "APIC", 4) && check_table(a, "APIC")) {
			check_madt(t, (unsigned int)pc_arg(cmdline, "cpus", 1));
			seen |= 2;
		}
	}
	pc_check(seen == 3, "XSDT lists the FADT and the MADT");
	printf("ACPI: RSDP at %x, %u tables in the XSDT\n",
	       (unsigned int)(uintptr_t)rsdp, n);
	return (uint32_t)(uintptr_t)rsdp;
}

static void check_pm_timer(void)
{
	uint32_t a, b;
	uint64_t t0, t1;

	if (!pm_tmr)
		return;
	a = inl(pm_tmr);
	t0 = rdtsc();
	do {
		b = inl(pm_tmr);
		t1 = rdtsc();
	} while (b == a && t1 - t0 < 100000000ull);
	pc_check(b != a, "PM timer counts (%u then %u)", a, b);
}

void pc_finish(const char *who)
{
	check_pm_timer();
	if (failures || !pm1a_cnt || s5_type >= 8) {
		printf("%s: %u of %u checks FAILED\n", who, failures, checks);
		outl(TIDAL_PORT_EXIT, 1);
	} else {
		printf("%s: all %u checks passed, powering off (S5)\n", who,
		       checks);
		outw(pm1a_cnt, (uint16_t)(s5_type << 10));
		outw(pm1a_cnt, (uint16_t)((s5_type << 10) | PC_PM1_SLP_EN));
		printf("%s: still running after S5\n", who);
		outl(TIDAL_PORT_EXIT, 2);
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* guest.c's entry for tidal-ABI guests is not used by these kernels. */
int guest_main(const struct tidal_start_info *si)
{
	(void)si;
	return 1;
}
