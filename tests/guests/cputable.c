// SPDX-License-Identifier: MIT
/*
 * cputable: a PVH kernel that reads the CPU tidal shows it, CPUID and
 * MSRs, against tables of what the Intel SDM says a real CPU does
 * (tests/boot/guest-cpuid.t).  Argument cpus=N: the vCPU count the
 * topology leaves must report.
 *
 *  - CPUID: features that go together (FSRM needs ERMS, XSAVE's leaf 0xD
 *    sizes, x2APIC and TSC-deadline shown), hidden ones (VMX, MONITOR,
 *    the PMU, APERF/MPERF, HWP), topology leaves 0xB and 0x1F with N
 *    logical processors, TSC rates in 0x15, 0x16 and 0x40000010;
 *  - MSRs row by row: reads and writes that must work and their values,
 *    and those that must raise #GP (unknown MSRs, reserved bits, locked
 *    or read-only registers, x2APIC MSRs while in xAPIC mode, the PMU's
 *    MSRs); a #GP handler counts the fault and skips the instruction;
 *  - APIC_BASE moved: accepted and kept, the registers stay at 0xFEE00000
 *    (tidal says so once).
 *
 * Powers off through ACPI at the end (pc_finish).
 */
#include "pc_checks.h"
#include "pc_cpu.h"
#include "vmm/pc.h"

PVH_ENTRY(cpu_main);
void cpu_main(uint32_t eax, uint32_t info_pa);

/* #GP: count it, skip the 2-byte RDMSR/WRMSR, return. */
__asm__(".text\n"
	".code32\n"
	"isr_gp:\n"
	"addl $4, %esp\n" /* the error code */
	"incl gp_count\n"
	"addl $2, (%esp)\n"
	"iret\n");
void isr_gp(void);
volatile uint32_t gp_count;

/* RDMSR/WRMSR that report a #GP instead of dying of it. */
static bool rd_gp(uint32_t msr, uint64_t *val)
{
	uint32_t before = gp_count, lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = (uint64_t)hi << 32 | lo;
	return gp_count != before;
}

static bool wr_gp(uint32_t msr, uint64_t val)
{
	uint32_t before = gp_count;

	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val),
			 "d"((uint32_t)(val >> 32))
			 : "memory");
	return gp_count != before;
}

static uint32_t leaf(uint32_t l, uint32_t sub, int reg)
{
	uint32_t r[4];

	cpuid(l, sub, r);
	return r[reg];
}

#define EAX 0
#define EBX 1
#define ECX 2
#define EDX 3

struct msr_row {
	uint32_t msr;
	bool write;    /* WRMSR of val, else RDMSR */
	uint64_t val;  /* written */
	bool gp;       /* must #GP */
	uint64_t mask; /* read: bits compared with want (0: none) */
	uint64_t want;
	const char *why;
};

static const struct msr_row rows[] = {
	{0x12345678, false, 0, true, 0, 0, "not an MSR"},
	{0x12345678, true, 0, true, 0, 0, "not an MSR (write)"},
	{0x2fe, false, 0, true, 0, 0, "between the MTRRs"},
	{0x1b, false, 0, false, ~0ull, 0xfee00900,
	 "APIC_BASE: fee00000, "
	 "enabled, BSP"},
	{0x1b, true, 0xfee00900 | (1u << 9), true, 0, 0,
	 "APIC_BASE bit 9 "
	 "reserved"},
	{0x1b, true, 0xfee00900 | (1ull << 52), true, 0, 0,
	 "APIC_BASE above "
	 "MAXPHYADDR"},
	{0x1b, true, 0xfee00000 | (1u << 10) | (1u << 8), true, 0, 0,
	 "APIC_BASE: x2APIC without enable"},
	{0x802, false, 0, true, 0, 0, "x2APIC ID MSR while in xAPIC mode"},
	{0x3a, false, 0, false, 1, 1, "FEATURE_CONTROL locked"},
	{0x3a, true, 0, true, 0, 0, "FEATURE_CONTROL write while locked"},
	{0x3b, true, 0, false, 0, 0, "TSC_ADJUST written"},
	{0x3b, false, 0, false, 0, 0, "TSC_ADJUST read"},
	{0xfe, false, 0, false, 0x400, 0x400,
	 "MTRRCAP: write-combining "
	 "type offered"},
	{0x2ff, false, 0, false, 0xcff, 0xc06,
	 "MTRR_DEF_TYPE: enabled, "
	 "fixed on, write-back"},
	{0x2ff, true, 0xc02, true, 0, 0, "MTRR_DEF_TYPE: type 2 reserved"},
	{0x2ff, true, 0x1c06, true, 0, 0, "MTRR_DEF_TYPE: bit 12 reserved"},
	{0x277, true, 0x0007040600070402ull, true, 0, 0,
	 "PAT: type 2 reserved"},
	{0xc0000080, true, 1ull << 20, true, 0, 0, "EFER: reserved bit 20"},
	{0xc1, false, 0, true, 0, 0, "IA32_PMC0: no PMU shown"},
	{0x38f, false, 0, true, 0, 0, "PERF_GLOBAL_CTRL: no PMU shown"},
	{0xe7, false, 0, true, 0, 0, "MPERF: not shown in leaf 6"},
	{0xe8, false, 0, true, 0, 0, "APERF: not shown in leaf 6"},
	{0x6e0, false, 0, false, ~0ull, 0, "TSC_DEADLINE reads 0 unarmed"},
	{0x179, false, 0, false, 0, 0, "MCG_CAP read"},
	{0x10, false, 0, false, 0, 0, "TSC read"},
};

static void check_msr_rows(void)
{
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct msr_row *r = &rows[i];
		uint64_t v = 0;
		bool gp = r->write ? wr_gp(r->msr, r->val) : rd_gp(r->msr, &v);
		bool good = gp == r->gp &&
			    (r->write || gp || (v & r->mask) == r->want);

		pc_check(good, "MSR %x %s: %s (%s, read %llx)", r->msr,
			 r->write ? "write" : "read", r->why,
			 gp ? "#GP" : "no fault", (unsigned long long)v);
	}
}

/* What a write must leave behind (the rows cannot say "read back"). */
static void check_msr_effects(void)
{
	uint64_t a = 0, b = 0, misc = 0;
	bool erms = leaf(7, 0, EBX) & (1u << 9);

	rd_gp(0x10, &a);
	pc_check(!wr_gp(0x10, 1ull << 40) && !rd_gp(0x10, &b) &&
			 b >= 1ull << 40 && b < (1ull << 40) + (1ull << 36),
		 "TSC written reads back from there (%llx)",
		 (unsigned long long)b);
	pc_check(!wr_gp(0x3b, 0) && !rd_gp(0x3b, &a),
		 "TSC_ADJUST readable after writes (%llx)",
		 (unsigned long long)a);
	pc_check(!rd_gp(0x1a0, &misc) && !!(misc & 1) == erms,
		 "MISC_ENABLE fast strings (%llx) iff ERMS shown (%d)",
		 (unsigned long long)misc, erms);
	pc_check(!wr_gp(0x277, 0x0007040600070406ull) && !rd_gp(0x277, &a) &&
			 a == 0x0007040600070406ull,
		 "PAT: the power-on value written back");
	/* A moved xAPIC page: kept in the MSR, registers stay (documented). */
	pc_check(!wr_gp(0x1b, 0xfed00900) && !rd_gp(0x1b, &a) &&
			 a == 0xfed00900,
		 "APIC_BASE moved to fed00000: no #GP, reads back (%llx)",
		 (unsigned long long)a);
	pc_check(lapic_rd(0x30) >> 16 == 6 && !wr_gp(0x1b, 0xfee00900) &&
			 !wr_gp(0x1b, 0xfed00900) && !wr_gp(0x1b, 0xfee00900),
		 "the registers stay at fee00000; moved back");
}

static void check_cpuid(unsigned int ncpus)
{
	uint32_t max = leaf(0, 0, EAX), c1 = leaf(1, 0, ECX);
	uint32_t b7 = leaf(7, 0, EBX), d7 = leaf(7, 0, EDX);
	uint32_t khz = leaf(0x40000010, 0, EAX);

	pc_check(c1 & (1u << 31), "leaf 1: hypervisor present");
	pc_check(!(c1 & (1u << 5)), "leaf 1: VMX hidden");
	pc_check(!(c1 & (1u << 3)), "leaf 1: MONITOR hidden");
	pc_check((c1 & (1u << 21)) && (c1 & (1u << 24)),
		 "leaf 1: x2APIC and TSC-deadline shown");
	pc_check(leaf(1, 0, EBX) >> 24 == 0, "leaf 1: APIC ID 0 on the BSP");
	pc_check(!(d7 & (1u << 4)) || (b7 & (1u << 9)),
		 "leaf 7: FSRM only with ERMS");
	pc_check(!(leaf(6, 0, ECX) & 1) && !(leaf(6, 0, EAX) & (1u << 7)),
		 "leaf 6: APERF/MPERF and HWP hidden");
	pc_check(!(leaf(0xa, 0, EAX) & 0xff), "leaf 0xA: no PMU version");
	if (c1 & (1u << 26)) { /* XSAVE */
		uint32_t need = leaf(0xd, 0, EBX), all = leaf(0xd, 0, ECX);

		pc_check(need >= 576 && need <= all,
			 "leaf 0xD: XSAVE sizes %u <= %u", need, all);
		pc_check((leaf(0xd, 0, EAX) & 3) == 3,
			 "leaf 0xD: x87 and SSE states");
	}
	pc_check(leaf(0xb, 0, ECX) >> 8 == 1 && leaf(0xb, 1, ECX) >> 8 == 2,
		 "leaf 0xB: SMT then core levels");
	pc_check((leaf(0xb, 1, EBX) & 0xffff) == ncpus,
		 "leaf 0xB: %u logical processors at the core level (want %u)",
		 leaf(0xb, 1, EBX) & 0xffff, ncpus);
	pc_check(leaf(0xb, 0, EDX) == 0, "leaf 0xB: x2APIC ID 0");
	if (max >= 0x1f)
		pc_check((leaf(0x1f, 1, EBX) & 0xffff) == ncpus,
			 "leaf 0x1F agrees with 0xB");
	if (max >= 0x15) {
		uint32_t d = leaf(0x15, 0, EAX), n = leaf(0x15, 0, EBX);
		uint32_t hz = leaf(0x15, 0, ECX);

		pc_check(d && n && hz / d * n / 1000 == khz,
			 "leaf 0x15: TSC %u/%u x %u Hz is %u kHz", n, d, hz,
			 khz);
	}
	if (max >= 0x16)
		pc_check(leaf(0x16, 0, EAX) == khz / 1000,
			 "leaf 0x16: base %u MHz", leaf(0x16, 0, EAX));
	printf("cputable: TSC %u kHz, max leaf %x\n", khz, max);
}

void cpu_main(uint32_t eax, uint32_t info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info_pa;
	const char *cmdline =
		si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr
				  : "";

	(void)eax;
	com1_init();
	pc_check_acpi(cmdline);
	set_gate(13, isr_gp);
	load_tables();
	check_cpuid((unsigned int)pc_arg(cmdline, "cpus", 1));
	check_msr_rows();
	check_msr_effects();
	printf("cputable: %u #GP taken\n", gp_count);
	pc_finish("cputable");
}
