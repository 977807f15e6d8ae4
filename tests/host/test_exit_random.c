// SPDX-License-Identifier: MIT
/*
 * The exit handlers that go through vmm/vmcs_io.h (event.c, cr.c, msr.c,
 * vmx_insn.c), run on the host against an in-memory VMCS:
 *
 *  1. the CR0/CR4/EFER rules, row by row against the SDM's #GP conditions;
 *  2. random exits (reason, qualification, registers, IDT-vectoring
 *     information) from valid starting states; after every one, each VMCS
 *     guest field tidal may have written must pass the VM-entry checks
 *     encoded in guest_state_ok(), so no guest input can make an entry fail.
 *
 * Run under ASan/UBSan too.  ROUNDS=N changes the number of random exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/tap.h"
#include "tests/host/xorshift.h"
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "vmm/intr.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"
#include "vmm/cpuid.h"

/* --- the seam ------------------------------------------------------------ */

static uint64_t vmcs[0x7000];
static uint8_t ram[1 << 20];

uint64_t vmcs_read(uint32_t field)
{
	if (field >= ARRAY_SIZE(vmcs))
		abort();
	return vmcs[field];
}

void vmcs_write(uint32_t field, uint64_t val)
{
	if (field >= ARRAY_SIZE(vmcs))
		abort();
	/* 32-bit fields (encoding bits 14:13 = 2) keep 32 bits. */
	if (((field >> 13) & 3) == 2)
		val = (uint32_t)val;
	vmcs[field] = val;
}

bool guest_write_phys(struct vcpu *v, uint64_t gpa, const void *buf, size_t n)
{
	if (gpa > sizeof(ram) || n > sizeof(ram) - gpa)
		return false;
	memcpy(ram + gpa, buf, n);
	return true;
}

bool guest_read_phys(struct vcpu *v, uint64_t gpa, void *buf, size_t n)
{
	if (gpa > sizeof(ram) || n > sizeof(ram) - gpa)
		return false;
	memcpy(buf, ram + gpa, n);
	return true;
}

struct vmx_caps vmx_caps;
uint64_t host_xcr0 = 0x7; /* x87, SSE, AVX */

struct cpuid_regs cpuid_host(uint32_t leaf, uint32_t sub)
{
	return cpuid_count(leaf, sub);
}

uint64_t tsc_hz(void)
{
	return 2400000000ull;
}
static int stops;

/*
 * The local APIC's MSRs live in vmm/intr.c (hypervisor only; its register
 * model has its own test, test_vlapic): here msr.c owns every MSR.
 */
bool intr_owns_msr(uint32_t msr)
{
	(void)msr;
	return false;
}

bool intr_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	(void)v, (void)msr, (void)val;
	return false;
}

bool intr_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	(void)v, (void)msr, (void)val;
	return false;
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	vm->state = VM_STOPPED;
	stops++;
}

int log_printk(enum log_level level, const char *fmt, ...)
{
	return 0;
}

/* --- 1. the rules -----------------------------------------------------------
 */

#define PE   X86_CR0_PE
#define PG   X86_CR0_PG
#define CD   BIT(30)
#define NW   BIT(29)
#define PAE  X86_CR4_PAE
#define PCID BIT(17)
#define LME  EFER_LME
#define LMA  EFER_LMA

static const struct {
	const char *what;
	struct cr_state s;
	int reg; /* 0 CR0, 4 CR4, 8 EFER */
	uint64_t val;
	enum cr_verdict want;
} rules[] = {
	{"CR0 bit 32", {PE, 0, 0, 0, 0}, 0, PE | BIT(32), CR_GP},
	{"CR0 bit 63", {PE, 0, 0, 0, 0}, 0, PE | BIT(63), CR_GP},
	{"CR0 PG without PE", {0, 0, 0, 0, 0}, 0, PG, CR_GP},
	{"CR0 NW without CD", {PE, 0, 0, 0, 0}, 0, PE | NW, CR_GP},
	{"CR0 CD and NW", {PE, 0, 0, 0, 0}, 0, PE | CD | NW, CR_OK},
	{"CR0 CD alone", {PE, 0, 0, 0, 0}, 0, PE | CD, CR_OK},
	{"CR0 PG with LME, no PAE", {PE, 0, 0, LME, 0}, 0, PE | PG, CR_GP},
	{"CR0 PG with LME and PAE (enter IA-32e)",
	 {PE, 0, PAE, LME, 0},
	 0,
	 PE | PG,
	 CR_OK},
	{"CR0 PG, 32-bit paging", {PE, 0, 0, 0, 0}, 0, PE | PG, CR_OK},
	{"CR0 PG off in 64-bit code",
	 {PE | PG, 0, PAE, LME | LMA, 1},
	 0,
	 PE,
	 CR_GP},
	{"CR0 PG off in compatibility mode",
	 {PE | PG, 0, PAE, LME | LMA, 0},
	 0,
	 PE,
	 CR_OK},
	{"CR0 PG off with PCIDE",
	 {PE | PG, 0, PAE | PCID, LME | LMA, 0},
	 0,
	 PE,
	 CR_GP},
	{"CR0 PE off, paging off (real mode)", {PE, 0, 0, 0, 0}, 0, 0, CR_OK},
	{"CR4 PAE off in IA-32e", {PE | PG, 0, PAE, LME | LMA, 1}, 4, 0, CR_GP},
	{"CR4 PCIDE outside IA-32e", {PE, 0, 0, 0, 0}, 4, PCID, CR_GP},
	{"CR4 PCIDE with CR3[11:0]",
	 {PE | PG, 0x1001, PAE, LME | LMA, 1},
	 4,
	 PAE | PCID,
	 CR_GP},
	{"CR4 PCIDE in IA-32e",
	 {PE | PG, 0x1000, PAE, LME | LMA, 1},
	 4,
	 PAE | PCID,
	 CR_OK},
	{"CR4 VMXE", {PE, 0, 0, 0, 0}, 4, X86_CR4_VMXE, CR_GP},
	{"CR4 SMXE", {PE, 0, 0, 0, 0}, 4, BIT(14), CR_GP},
	{"CR4 bit 40", {PE, 0, 0, 0, 0}, 4, BIT(40), CR_GP},
	{"CR4 LA57 toggled in IA-32e",
	 {PE | PG, 0, PAE, LME | LMA, 1},
	 4,
	 PAE | BIT(12),
	 CR_GP},
	{"EFER reserved bit", {PE, 0, 0, 0, 0}, 8, BIT(20), CR_GP},
	{"EFER LME cleared in IA-32e",
	 {PE | PG, 0, PAE, LME | LMA, 1},
	 8,
	 LMA,
	 CR_GP},
	{"EFER LME set with paging on", {PE | PG, 0, 0, 0, 0}, 8, LME, CR_GP},
	{"EFER LME set, paging off", {PE, 0, 0, 0, 0}, 8, LME, CR_OK},
	{"EFER SCE and NXE in IA-32e",
	 {PE | PG, 0, PAE, LME | LMA, 1},
	 8,
	 LME | LMA | EFER_SCE | EFER_NXE,
	 CR_OK},
};

static void test_rules(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		enum cr_verdict got;

		if (rules[i].reg == 0)
			got = cr0_check(&rules[i].s, rules[i].val);
		else if (rules[i].reg == 4)
			got = cr4_check(&rules[i].s, rules[i].val,
					cr4_guest_allowed());
		else
			got = efer_check(&rules[i].s, rules[i].val);
		ok(got == rules[i].want, "%s: %s", rules[i].what,
		   rules[i].want == CR_GP ? "#GP" : "accepted");
	}
}

/* --- 2. random exits -------------------------------------------------------
 */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return xorshift64(&rng);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* Values near the edges of what the checks care about. */
static uint64_t rnd_value(void)
{
	static const uint64_t edge[] = {
		0,
		1,
		0x400,
		0x0000800000000000ull,
		0x00007fffffffffffull,
		0xffff800000000000ull,
		0xfff0000000000000ull,
		0x0007040600070406ull,
		0x0000000000000102ull,
		0x0000000000000008ull,
		EFER_LME | EFER_SCE,
		EFER_LME | EFER_LMA | EFER_NXE,
		X86_CR0_PE | X86_CR0_PG,
		X86_CR0_PE | X86_CR0_PG | CD | NW,
		X86_CR4_PAE | PCID,
		0xffffffffull,
		~0ull,
	};

	switch (rnd_below(3)) {
	case 0:
		return edge[rnd_below(ARRAY_SIZE(edge))];
	case 1:
		return edge[rnd_below(ARRAY_SIZE(edge))] ^ BIT(rnd_below(64));
	default:
		return rnd();
	}
}

static const uint32_t msrs[] = {
	0x10,	    0x1b,	0xfe,	    0x174,	0x175,	    0x176,
	0x1a0,	    0x1d9,	0x277,	    0xc0000080, 0xc0000081, 0xc0000082,
	0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
	0x12345678, 0x3a,	0x10,	    0x3b,	0x8b,	    0xce,
	0x179,	    0x17a,	0x17b,	    0x400,	0x1a0,	    0x200,
	0x201,	    0x20f,	0x250,	    0x268,	0x2ff,	    0xfe,
};

static struct msr_entry area[VCPU_SWITCHED_MSRS];

static void reset_state(struct vcpu *v)
{
	unsigned int mode = (unsigned int)rnd_below(3);
	uint64_t cr0 = X86_CR0_PE | X86_CR0_NE | BIT(4), cr4 = 0, efer = 0;
	uint64_t entry = ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG;

	memset(vmcs, 0, sizeof(vmcs));
	if (mode == 0) { /* 64-bit */
		cr0 |= X86_CR0_PG;
		cr4 |= X86_CR4_PAE;
		efer = EFER_LME | EFER_LMA;
		entry |= ENTRY_IA32E;
		vmcs[VMCS_GUEST_CS_AR] = 0xa09b;
	} else if (mode == 1) { /* 32-bit PAE paging */
		cr0 |= X86_CR0_PG;
		cr4 |= X86_CR4_PAE;
		vmcs[VMCS_GUEST_CS_AR] = 0xc09b;
	} else { /* 32-bit, paging off */
		vmcs[VMCS_GUEST_CS_AR] = 0xc09b;
	}
	vmcs[VMCS_CR0_SHADOW] = cr0;
	vmcs[VMCS_GUEST_CR0] = vmx_fix_cr(cr0, vmx_guest_cr0_fixed0(&vmx_caps),
					  vmx_caps.cr0_fixed1);
	vmcs[VMCS_CR4_SHADOW] = cr4;
	vmcs[VMCS_GUEST_CR4] =
		vmx_fix_cr(cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1);
	vmcs[VMCS_GUEST_CR3] = 0x1000 * rnd_below(8);
	vmcs[VMCS_GUEST_EFER] = efer;
	vmcs[VMCS_ENTRY_CONTROLS] = entry;
	vmcs[VMCS_GUEST_PAT] = 0x0007040600070406ull;
	vmcs[VMCS_GUEST_DR7] = 0x400;
	vmcs[VMCS_GUEST_RIP] = 0x100000;
	vmcs[VMCS_GUEST_SS_AR] = 0xc093 | (rnd_below(4) ? 0 : 3u << 5);
	for (unsigned int i = 0; i < VCPU_SWITCHED_MSRS; i++)
		area[i] = (struct msr_entry){vcpu_switched_msrs[i], 0, 0};
	v->msr_guest = area;
	v->msr_count = VCPU_SWITCHED_MSRS;
	v->vm->state = VM_RUNNING;
}

static void rnd_regs(struct vcpu *v)
{
	uint64_t *r = &v->regs.rax;

	for (unsigned int i = 0; i < sizeof(v->regs) / 8; i++)
		r[i] = rnd_value();
	v->regs.rcx = rnd_below(8) ? msrs[rnd_below(ARRAY_SIZE(msrs))] : rnd();
	v->regs.rax = rnd_below(2) ? rnd_value() : (uint32_t)rnd_value();
	v->regs.rdx = rnd_below(2) ? rnd_value() >> 32 : rnd();
	vmcs[VMCS_GUEST_RSP] = rnd_value();
}

/* IDT-vectoring information as a CPU could report it. */
static void rnd_vectoring(void)
{
	static const unsigned int types[] = {0, 2, 3, 4, 5, 6};
	unsigned int type = types[rnd_below(ARRAY_SIZE(types))];
	unsigned int vec = (unsigned int)rnd_below(256);
	uint32_t info;

	if (rnd_below(3)) {
		vmcs[VMCS_IDT_VECTORING_INFO] = 0;
		return;
	}
	if (type == INTR_NMI)
		vec = VEC_NMI;
	if (type == INTR_HW_EXC || type == INTR_SOFT_EXC ||
	    type == INTR_PRIV_SW_EXC)
		vec &= 31;
	info = INTR_INFO_VALID | (type << 8) | vec;
	if (type == INTR_HW_EXC &&
	    (vec == 8 || (vec >= 10 && vec <= 14) || vec == 17))
		info |= INTR_INFO_ERROR;
	vmcs[VMCS_IDT_VECTORING_INFO] = info;
	vmcs[VMCS_IDT_VECTORING_ERROR] = (uint32_t)rnd();
}

static bool canon(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool pat_ok(uint64_t pat)
{
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int t = (pat >> (8 * i)) & 0xff;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* The SDM's VM-entry checks on the fields the handlers write. */
static const char *guest_state_bad(struct vcpu *v)
{
	uint64_t cr0 = vmcs[VMCS_GUEST_CR0], cr4 = vmcs[VMCS_GUEST_CR4];
	uint64_t efer = vmcs[VMCS_GUEST_EFER];
	bool ia32e = vmcs[VMCS_ENTRY_CONTROLS] & ENTRY_IA32E;
	uint64_t f0 = vmx_guest_cr0_fixed0(&vmx_caps);
	uint32_t info = (uint32_t)vmcs[VMCS_ENTRY_INTR_INFO];

	if ((cr0 & f0) != f0 || (cr0 & ~vmx_caps.cr0_fixed1))
		return "CR0 fixed bits";
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return "CR0.PG without PE";
	if ((cr4 & vmx_caps.cr4_fixed0) != vmx_caps.cr4_fixed0 ||
	    (cr4 & ~vmx_caps.cr4_fixed1))
		return "CR4 fixed bits";
	if (ia32e && (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE)))
		return "IA-32e guest without PG and PAE";
	if (!ia32e && (cr4 & PCID))
		return "PCIDE outside IA-32e";
	if (efer & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return "EFER reserved bits";
	if (!!(efer & EFER_LMA) != ia32e)
		return "EFER.LMA differs from the IA-32e control";
	if ((cr0 & X86_CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME))
		return "EFER.LMA differs from LME with paging";
	if (!pat_ok(vmcs[VMCS_GUEST_PAT]))
		return "PAT";
	if (!canon(vmcs[VMCS_GUEST_FS_BASE]) ||
	    !canon(vmcs[VMCS_GUEST_GS_BASE]))
		return "FS/GS base not canonical";
	if (!canon(vmcs[VMCS_GUEST_SYSENTER_ESP]) ||
	    !canon(vmcs[VMCS_GUEST_SYSENTER_EIP]))
		return "SYSENTER_ESP/EIP not canonical";
	if (vmcs[VMCS_GUEST_DEBUGCTL] || (vmcs[VMCS_GUEST_DR7] >> 32))
		return "DEBUGCTL/DR7 reserved bits";
	if (!ia32e && (vmcs[VMCS_GUEST_RIP] >> 32))
		return "RIP above 4 GiB outside IA-32e mode";
	for (unsigned int i = 0; i < v->msr_count; i++) {
		uint32_t m = area[i].index;
		uint64_t val = area[i].value;

		if ((m == 0xc0000082 || m == 0xc0000083 || m == 0xc0000102) &&
		    !canon(val))
			return "MSR area: address not canonical";
		if ((m == 0xc0000084 || m == 0xc0000103) && (val >> 32))
			return "MSR area: reserved bits";
		if (m != vcpu_switched_msrs[i])
			return "MSR area index changed";
	}
	if (info & INTR_INFO_VALID) {
		unsigned int type = INTR_INFO_TYPE(info), vec = info & 0xff;

		if (info & 0x7ffff000u)
			return "entry interruption info: reserved bits";
		if (type == 1 || type == 7)
			return "entry interruption info: reserved type";
		if (type == INTR_NMI && vec != VEC_NMI)
			return "entry interruption info: NMI vector";
		if (type == INTR_HW_EXC && vec > 31)
			return "entry interruption info: exception vector";
		if ((info & INTR_INFO_ERROR) &&
		    (type != INTR_HW_EXC || !(cr0 & X86_CR0_PE)))
			return "entry interruption info: error code";
		if (type >= 4 && (vmcs[VMCS_ENTRY_INSN_LEN] < 1 ||
				  vmcs[VMCS_ENTRY_INSN_LEN] > 15))
			return "entry instruction length";
		if (type == INTR_NMI &&
		    (vmcs[VMCS_GUEST_INTERRUPTIBILITY] & INTERRUPTIBILITY_NMI))
			return "NMI injected while blocked";
	}
	return NULL;
}

typedef enum exit_action (*handler)(struct vcpu *v);

static const struct {
	uint32_t reason;
	handler fn;
} exits[] = {
	{EXIT_REASON_CR_ACCESS, handle_cr},
	{EXIT_REASON_RDMSR, handle_rdmsr},
	{EXIT_REASON_WRMSR, handle_wrmsr},
	{EXIT_REASON_VMREAD, handle_vmx_insn},
	{EXIT_REASON_VMXON, handle_vmx_insn},
	{EXIT_REASON_INVD, handle_invd},
	{EXIT_REASON_XSETBV, handle_xsetbv},
	{EXIT_REASON_EPT_VIOLATION, NULL}, /* re-injection only */
	{EXIT_REASON_EXTERNAL_INTR, NULL},
};

static uint64_t rnd_cr_qual(void)
{
	static const unsigned int crs[] = {0, 3, 4, 8, 2};
	uint64_t cr = crs[rnd_below(ARRAY_SIZE(crs))];
	uint64_t type = rnd_below(4), reg = rnd_below(16);

	return cr | (type << 4) | (reg << 8) | (rnd_below(0x10000) << 16);
}

static void test_random(unsigned long rounds)
{
	struct vm vm = {0};
	struct vcpu *v = &vm.vcpus[0];
	unsigned long bad = 0, by_action[3] = {0};
	const char *first = NULL;

	v->vm = &vm;
	reset_state(v);
	for (unsigned long i = 0; i < rounds; i++) {
		unsigned int e = (unsigned int)rnd_below(ARRAY_SIZE(exits));
		enum exit_action a = EXIT_RESUME;
		const char *why;

		if (vm.state != VM_RUNNING || !rnd_below(64))
			reset_state(v);
		/* What VM entry and exit leave behind. */
		vmcs[VMCS_ENTRY_INTR_INFO] = 0;
		vmcs[VMCS_GUEST_INTERRUPTIBILITY] = rnd_below(16) & ~4u;
		vmcs[VMCS_EXIT_INSN_LEN] = 1 + rnd_below(15);
		vmcs[VMCS_EXIT_QUALIFICATION] =
			exits[e].fn == handle_cr ? rnd_cr_qual() : rnd();
		vmcs[VMCS_EXIT_INTR_INFO] = 0;
		/* Only exits during event delivery report one (SDM). */
		if (exits[e].fn)
			vmcs[VMCS_IDT_VECTORING_INFO] = 0;
		else
			rnd_vectoring();
		rnd_regs(v);
		if (!rnd_below(8)) /* a wild guest page table at CR3 */
			memset(ram + (vmcs[VMCS_GUEST_CR3] & 0xfffe0), 0xff,
			       32);
		else
			memset(ram + (vmcs[VMCS_GUEST_CR3] & 0xfffe0), 0, 32);

		event_after_exit(v, exits[e].reason);
		if (exits[e].fn)
			a = exits[e].fn(v);
		else if (!rnd_below(4))
			/* A handler's own fault on top of the re-injected one.
			 */
			vcpu_inject_exception(v, (unsigned int)rnd_below(32),
					      0);
		if (a == EXIT_SKIP && vm.state == VM_RUNNING)
			vcpu_skip_insn(v);
		by_action[a]++;
		if (vm.state != VM_RUNNING)
			continue;
		why = guest_state_bad(v);
		if (why) {
			if (!first)
				first = why;
			bad++;
		}
	}
	ok(!bad,
	   "%lu random exits: every VMCS guest state passes the entry "
	   "checks",
	   rounds);
	if (first)
		diag("%lu bad states; first: %s", bad, first);
	diag("resume %lu, skip %lu, stop %lu, stops by triple fault %d",
	     by_action[EXIT_RESUME], by_action[EXIT_SKIP], by_action[EXIT_STOP],
	     stops);
	ok(by_action[EXIT_SKIP] > rounds / 20 && by_action[EXIT_RESUME] > 0,
	   "both accepted and refused guest actions were exercised");
	ok(v->stats.reinjected > 0 && v->stats.injected[VEC_GP] > 0 &&
		   v->stats.injected[VEC_UD] > 0,
	   "events were re-injected, #GP and #UD injected");
}

/* --- 3. MSRs and XSETBV, row by row -------------------------------------- */

struct msr_row {
	uint32_t msr;
	uint64_t val;
	bool gp;
	const char *why;
};

static const struct msr_row wrmsr_rows[] = {
	{0x2ff, 0xc06, false, "MTRRdefType: enabled, WB"},
	{0x2ff, 0xc02, true, "MTRRdefType: reserved type 2"},
	{0x2ff, 0x1c06, true, "MTRRdefType: reserved bit 12"},
	{0x200, 0x80000006, false, "PhysBase0: 2 GiB, WB"},
	{0x200, 0x80000106, true, "PhysBase0: reserved bit 8"},
	{0x200, 0x80000007, true, "PhysBase0: reserved type 7"},
	{0x200, 1ull << 60, true, "PhysBase0: beyond MAXPHYADDR"},
	{0x201, 0xf80000800ull, false, "PhysMask0: valid, 2 GiB"},
	{0x201, 0xf80000801ull, true, "PhysMask0: reserved bit 0"},
	{0x250, 0x0606060606060606ull, false, "FIX64K: all WB"},
	{0x268, 0x0006060606060606ull, false, "FIX4K: UC in one byte"},
	{0x268, 0x0806060606060606ull, true, "FIX4K: reserved type 8"},
	{0x2fe, 0, true, "between the MTRRs: not an MSR"},
	{0xfe, 0x508, true, "MTRRcap is read-only"},
	{0x17a, 0, false, "MCG_STATUS: 0"},
	{0x17a, 1, true, "MCG_STATUS: RIPV set"},
	{0x179, 0, true, "MCG_CAP is read-only"},
	{0x17b, 0, true, "MCG_CTL: absent (MCG_CAP.CTL_P 0)"},
	{0x400, 0, true, "MC0_CTL: no banks"},
	{0x8b, 0, false, "microcode revision: 0 written before CPUID"},
	{0xce, 0, true, "PLATFORM_INFO is read-only"},
	{0x3a, 1, true, "FEATURE_CONTROL is locked"},
	{0x1a0, 0x1800, false, "MISC_ENABLE: fast strings off (ignored)"},
	{0x1a0, 0x1801, false, "MISC_ENABLE: fast strings on (ignored)"},
	{0x1a0, 0x1801 | BIT(22), true, "MISC_ENABLE: limit CPUID maxval"},
	{0x1a0, 0, true, "MISC_ENABLE: BTS/PEBS-unavailable cleared"},
	{0x10, 12345, false, "TSC: write sets an offset"},
	{0x3b, 0, false, "TSC_ADJUST: write"},
	{0x48, 0, true, "SPEC_CTRL: hidden, #GP"},
	{0x10a, 0, true, "ARCH_CAPABILITIES: hidden, #GP"},
	{0xe7, 0, true, "MPERF: hidden, #GP"},
};

static void cpl0_state(struct vcpu *v)
{
	reset_state(v);
	vmcs[VMCS_GUEST_SS_AR] = 0xc093;
	msr_vcpu_reset(v);
}

static bool wrmsr_gp(struct vcpu *v, uint32_t msr, uint64_t val)
{
	v->regs.rcx = msr;
	v->regs.rax = (uint32_t)val;
	v->regs.rdx = val >> 32;
	return handle_wrmsr(v) == EXIT_RESUME;
}

static bool rdmsr_val(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	v->regs.rcx = msr;
	if (handle_rdmsr(v) != EXIT_SKIP)
		return false;
	*val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	return true;
}

static void test_msrs(void)
{
	struct vm vm = {0};
	struct vcpu *v = &vm.vcpus[0];
	uint64_t val = 0, t0, t1;
	bool erms = cpuid_has_erms(cpuid_host);

	v->vm = &vm;
	vmx_caps.ctl[VMX_CTL_PROC] = PROC_TSC_OFFSET;
	for (size_t i = 0; i < ARRAY_SIZE(wrmsr_rows); i++) {
		const struct msr_row *r = &wrmsr_rows[i];

		cpl0_state(v);
		ok(wrmsr_gp(v, r->msr, r->val) == r->gp,
		   "WRMSR %x <- %llx: %s (%s)", r->msr,
		   (unsigned long long)r->val, r->gp ? "#GP" : "ok", r->why);
	}
	cpl0_state(v);
	ok(rdmsr_val(v, 0x2ff, &val) && val == 0xc06,
	   "MTRRdefType reads enabled, write-back");
	ok(rdmsr_val(v, 0x259, &val) && val == 0x0606060606060606ull,
	   "fixed MTRRs read write-back");
	ok(!wrmsr_gp(v, 0x20e, 0x10000006) && rdmsr_val(v, 0x20e, &val) &&
		   val == 0x10000006,
	   "a variable MTRR keeps what was written");
	ok(rdmsr_val(v, 0xfe, &val) && val == 0x508,
	   "MTRRcap: 8 ranges, fixed, WC");
	ok(rdmsr_val(v, 0x1a0, &val) && (val & 1) == erms,
	   "MISC_ENABLE fast strings is %d as CPUID's ERMS", erms);
	wrmsr_gp(v, 0x1a0, val ^ 1);
	ok(rdmsr_val(v, 0x1a0, &t0) && t0 == val,
	   "MISC_ENABLE reads stable after a fast-strings write");
	ok(rdmsr_val(v, 0x179, &val) && val == 0, "MCG_CAP: no banks");
	ok(rdmsr_val(v, 0xce, &val) && val == 24 << 8,
	   "PLATFORM_INFO: ratio 24 at 2.4 GHz");
	t0 = rdtsc();
	ok(!wrmsr_gp(v, 0x10, 1ull << 40) && rdmsr_val(v, 0x10, &t1) &&
		   t1 >= 1ull << 40 && t1 - (1ull << 40) < (1ull << 32),
	   "TSC write: the guest TSC continues from the value written");
	ok(vmcs[VMCS_TSC_OFFSET] == v->tsc_offset &&
		   v->tsc_adjust == v->tsc_offset,
	   "TSC write: VMCS offset set, TSC_ADJUST moved by as much");
	ok(!wrmsr_gp(v, 0x3b, 0) && v->tsc_offset == 0 &&
		   vmcs[VMCS_TSC_OFFSET] == 0,
	   "TSC_ADJUST back to 0 undoes the offset");
	(void)t0;
	vmx_caps.ctl[VMX_CTL_PROC] = 0;
	ok(wrmsr_gp(v, 0x10, 0), "TSC write: #GP without TSC offsetting");
}

struct xsetbv_row {
	uint64_t cr4, xcr0;
	uint32_t ecx;
	int vec; /* -1: accepted */
	const char *why;
};

#define OSXSAVE BIT(18)
static const struct xsetbv_row xsetbv_rows[] = {
	{0, 1, 0, VEC_UD, "CR4.OSXSAVE clear: #UD"},
	{OSXSAVE, 1, 0, -1, "x87 only"},
	{OSXSAVE, 3, 0, -1, "x87 + SSE"},
	{OSXSAVE, 7, 0, -1, "x87 + SSE + AVX"},
	{OSXSAVE, 0, 0, VEC_GP, "bit 0 clear"},
	{OSXSAVE, 2, 0, VEC_GP, "SSE without x87"},
	{OSXSAVE, 5, 0, VEC_GP, "AVX without SSE"},
	{OSXSAVE, 0xe7, 0, VEC_GP, "AVX-512: not supported by this host"},
	{OSXSAVE, 0x207, 0, VEC_GP, "PKRU: never offered"},
	{OSXSAVE, 7, 1, VEC_GP, "XCR1"},
	{OSXSAVE, 1ull << 63 | 7, 0, VEC_GP, "bit 63"},
};

static void test_xsetbv(void)
{
	struct vm vm = {0};
	struct vcpu *v = &vm.vcpus[0];

	v->vm = &vm;
	for (size_t i = 0; i < ARRAY_SIZE(xsetbv_rows); i++) {
		const struct xsetbv_row *r = &xsetbv_rows[i];
		enum exit_action a;
		uint64_t gp0, ud0;

		cpl0_state(v);
		vmcs[VMCS_CR4_SHADOW] |= r->cr4;
		v->xcr0 = 1;
		v->regs.rcx = r->ecx;
		v->regs.rax = (uint32_t)r->xcr0;
		v->regs.rdx = r->xcr0 >> 32;
		gp0 = v->stats.injected[VEC_GP];
		ud0 = v->stats.injected[VEC_UD];
		a = handle_xsetbv(v);
		if (r->vec < 0)
			ok(a == EXIT_SKIP && v->xcr0 == r->xcr0,
			   "XSETBV %llx: accepted, the guest's XCR0 (%s)",
			   (unsigned long long)r->xcr0, r->why);
		else
			ok(a == EXIT_RESUME && v->xcr0 == 1 &&
				   v->stats.injected[r->vec] ==
					   (r->vec == VEC_GP ? gp0 : ud0) + 1,
			   "XSETBV %llx: %s (%s)", (unsigned long long)r->xcr0,
			   r->vec == VEC_GP ? "#GP" : "#UD", r->why);
	}
	cpl0_state(v);
	vmcs[VMCS_GUEST_SS_AR] = 0xc093 | 3u << 5;
	vmcs[VMCS_CR4_SHADOW] |= OSXSAVE;
	v->regs.rcx = 0;
	v->regs.rax = 7;
	v->regs.rdx = 0;
	ok(handle_xsetbv(v) == EXIT_RESUME, "XSETBV at CPL 3: #GP");
}

/* Event rules, case by case: re-injection, NMI unblocking, #DF merging. */
static void test_events(void)
{
	struct vm vm = {0};
	struct vcpu *v = &vm.vcpus[0];
	static const struct {
		unsigned int first, second, want; /* want 0xff: shutdown */
	} merge[] = {
		{13, 13, 8},   {0, 11, 8},   {14, 13, 8}, {14, 14, 8},
		{14, 1, 1},    {13, 14, 14}, {1, 13, 13}, {6, 13, 13},
		{8, 13, 0xff}, {8, 1, 0xff},
	};

	v->vm = &vm;
	for (size_t i = 0; i < ARRAY_SIZE(merge); i++) {
		uint32_t info;

		reset_state(v);
		vmcs[VMCS_ENTRY_INTR_INFO] = 0;
		stops = 0;
		vcpu_inject_exception(v, merge[i].first, 0);
		vcpu_inject_exception(v, merge[i].second, 0);
		info = (uint32_t)vmcs[VMCS_ENTRY_INTR_INFO];
		if (merge[i].want == 0xff)
			ok(vm.state == VM_STOPPED && stops == 1,
			   "exception %u while delivering #DF: triple fault",
			   merge[i].second);
		else
			ok((info & 0xff) == merge[i].want &&
				   INTR_INFO_TYPE(info) == INTR_HW_EXC,
			   "exception %u then %u: %u is delivered",
			   merge[i].first, merge[i].second, merge[i].want);
	}

	/* An EPT violation during delivery of INT 0x80 (2 bytes long). */
	reset_state(v);
	vmcs[VMCS_ENTRY_INTR_INFO] = 0;
	vmcs[VMCS_IDT_VECTORING_INFO] =
		INTR_INFO_VALID | (INTR_SOFT_INT << 8) | 0x80;
	vmcs[VMCS_EXIT_INSN_LEN] = 2;
	event_after_exit(v, EXIT_REASON_EPT_VIOLATION);
	ok(vmcs[VMCS_ENTRY_INTR_INFO] ==
			   (INTR_INFO_VALID | (INTR_SOFT_INT << 8) | 0x80) &&
		   vmcs[VMCS_ENTRY_INSN_LEN] == 2,
	   "INT 0x80 re-injected with its instruction length");

	/* ... of a #GP with error code 0x18. */
	reset_state(v);
	vmcs[VMCS_IDT_VECTORING_INFO] =
		INTR_INFO_VALID | INTR_INFO_ERROR | (INTR_HW_EXC << 8) | 13;
	vmcs[VMCS_IDT_VECTORING_ERROR] = 0x18;
	event_after_exit(v, EXIT_REASON_EPT_VIOLATION);
	ok(vmcs[VMCS_ENTRY_INTR_INFO] == (INTR_INFO_VALID | INTR_INFO_ERROR |
					  (INTR_HW_EXC << 8) | 13) &&
		   vmcs[VMCS_ENTRY_EXCEPTION_ERROR] == 0x18,
	   "#GP re-injected with its error code");

	/* ... of an NMI: re-injected, NMI blocking cleared. */
	reset_state(v);
	vmcs[VMCS_ENTRY_INTR_INFO] = 0;
	vmcs[VMCS_GUEST_INTERRUPTIBILITY] = INTERRUPTIBILITY_NMI;
	vmcs[VMCS_IDT_VECTORING_INFO] =
		INTR_INFO_VALID | (INTR_NMI << 8) | VEC_NMI;
	event_after_exit(v, EXIT_REASON_EPT_VIOLATION);
	ok(vmcs[VMCS_ENTRY_INTR_INFO] ==
			   (INTR_INFO_VALID | (INTR_NMI << 8) | VEC_NMI) &&
		   !(vmcs[VMCS_GUEST_INTERRUPTIBILITY] & INTERRUPTIBILITY_NMI),
	   "NMI re-injected, not blocked");

	/* An EPT violation on the IRET that ended an NMI handler. */
	reset_state(v);
	vmcs[VMCS_ENTRY_INTR_INFO] = 0;
	vmcs[VMCS_GUEST_INTERRUPTIBILITY] = 0;
	vmcs[VMCS_IDT_VECTORING_INFO] = 0;
	vmcs[VMCS_EXIT_QUALIFICATION] = INTR_INFO_NMI_UNBLOCK | 2;
	event_after_exit(v, EXIT_REASON_EPT_VIOLATION);
	ok((vmcs[VMCS_GUEST_INTERRUPTIBILITY] & INTERRUPTIBILITY_NMI) &&
		   !(vmcs[VMCS_ENTRY_INTR_INFO] & INTR_INFO_VALID),
	   "IRET unblocked NMIs then faulted: NMIs blocked again");
	vmcs[VMCS_GUEST_INTERRUPTIBILITY] = 0;
	vmcs[VMCS_EXIT_QUALIFICATION] = 2;
	event_after_exit(v, EXIT_REASON_EPT_VIOLATION);
	ok(!(vmcs[VMCS_GUEST_INTERRUPTIBILITY] & INTERRUPTIBILITY_NMI),
	   "an ordinary EPT violation leaves NMI blocking alone");
	reset_state(v);
	stops = 0;
}

int main(void)
{
	const char *r = getenv("ROUNDS");

	vmx_caps.cr0_fixed0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG;
	vmx_caps.cr0_fixed1 = 0xffffffffull;
	vmx_caps.cr4_fixed0 = X86_CR4_VMXE;
	vmx_caps.cr4_fixed1 = 0x3727ffull;
	vmx_caps.unrestricted = true;
	vmx_caps.ctl[VMX_CTL_ENTRY] =
		ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG;
	test_rules();
	test_events();
	test_msrs();
	test_xsetbv();
	test_random(r ? strtoul(r, NULL, 0) : 200000);
	return tap_done();
}
