// SPDX-License-Identifier: MIT
/*
 * hostile64: a 64-bit guest that attacks tidal from the inside, one probe
 * after another, and reports what it saw.  Each probe checks that the guest
 * got the architectural answer (the fault it should raise, or the effect it
 * should have) and that the VM went on running; tests/boot/guest-hostile.t
 * checks the report and tidal's own counters and summary.
 *
 * The guest has its own GDT (with user segments and a TSS), IDT and page
 * tables (with the user bit), so it can run probes at CPL 3.
 */
#include "lib/guest.h"

#define SEL_KCODE  0x08
#define SEL_KDATA  0x10
#define SEL_CODE32 0x18
#define SEL_UDATA  0x23
#define SEL_UCODE  0x2b
#define SEL_TSS	   0x30

#define VEC_DB 1
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_SOFT 0x80 /* INT 0x80: a software interrupt, DPL 3 */
#define VEC_DONE 0x81 /* user probes end with INT 0x81: "no fault" */
#define NO_FAULT (-1)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MSR_TSC_AUX	  0xc0000103
#define MSR_SYSENTER_CS	  0x174
#define MSR_SYSENTER_ESP  0x175
#define MSR_SYSENTER_EIP  0x176
#define MSR_PAT		  0x277
#define MSR_EFER	  0xc0000080
#define MSR_STAR	  0xc0000081
#define MSR_LSTAR	  0xc0000082
#define MSR_FMASK	  0xc0000084
#define MSR_FS_BASE	  0xc0000100
#define MSR_GS_BASE	  0xc0000101
#define MSR_KERNEL_GS	  0xc0000102

struct tss64 {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3, iomap;
} __attribute__((packed));

struct trap_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};

static uint64_t gdt[10] __attribute__((aligned(16)));
static uint64_t idt[2 * 256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
#define APIC_GPA 0xfee00000ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pd_apic[512] __attribute__((aligned(4096))); /* 3-4 GiB */
static uint8_t kstack[16384] __attribute__((aligned(16)));
uint8_t ustack[16384] __attribute__((aligned(16)));
/*
 * Pages the guest never touches before a probe uses them as a stack, so
 * delivering an event onto them meets an EPT violation in tidal.  Each is
 * in its own 2 MiB region, which tidal may map as one huge page.
 */
#define FRESH_BASE 0x2000000ull /* 32 MiB: 2 MiB apart, as EPT maps 2M */
#define FRESH_STEP 0x200000ull
static unsigned int fresh_next;

/* Set by the trap handler. */
volatile uint64_t fix_rip, fix_rsp;
volatile long got_vec;
volatile uint64_t got_err, got_rip;
static volatile unsigned int db_hits, bp_hits, soft_hits;
static volatile uint64_t db_rip, bp_rip, soft_rip;

static int failures, probes;

static void check(bool cond, const char *what)
{
	probes++;
	printf("hostile: %s: %s\n", what, cond ? "ok" : "FAIL");
	if (!cond)
		failures++;
}

/* --- trap entry stubs -------------------------------------------------- */

#define STUB_NOERR(n)                                                          \
	__asm__(".text\n.globl stub" #n "\nstub" #n ":\n\tpushq $0\n\tpushq $" #n \
		"\n\tjmp trap_common\n")
#define STUB_ERR(n)                                                            \
	__asm__(".text\n.globl stub" #n "\nstub" #n ":\n\tpushq $" #n          \
		"\n\tjmp trap_common\n")

STUB_NOERR(0);
STUB_NOERR(1);
STUB_NOERR(2);
STUB_NOERR(3);
STUB_NOERR(4);
STUB_NOERR(5);
STUB_NOERR(6);
STUB_NOERR(7);
STUB_ERR(8);
STUB_ERR(10);
STUB_ERR(11);
STUB_ERR(12);
STUB_ERR(13);
STUB_ERR(14);
STUB_NOERR(16);
STUB_ERR(17);
STUB_NOERR(18);
STUB_NOERR(19);
STUB_NOERR(128);
STUB_NOERR(129);

__asm__(".text\n"
	"trap_common:\n"
	"\tpushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n"
	"\tpushq %rdi\n\tpushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n"
	"\tmovq %rsp, %rdi\n"
	"\tcld\n"
	"\tcall trap_c\n"
	"\tpopq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n"
	"\tpopq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n"
	"\taddq $16, %rsp\n"
	"\tiretq\n");

void trap_c(struct trap_frame *f);
void trap_c(struct trap_frame *f)
{
	if (f->vec == VEC_DB) {
		db_hits++;
		db_rip = f->rip;
		f->rflags &= ~0x100ull; /* TF */
		return;
	}
	if (f->vec == VEC_BP) {
		bp_hits++;
		bp_rip = f->rip;
		return;
	}
	if (f->vec == VEC_SOFT) {
		soft_hits++;
		soft_rip = f->rip;
		return;
	}
	got_vec = f->vec == VEC_DONE ? NO_FAULT : (long)f->vec;
	got_err = f->err;
	got_rip = f->rip;
	if (!fix_rip) {
		printf("hostile: unexpected exception %lu (error %lx) at %lx: "
		       "FAIL\n",
		       (unsigned long)f->vec, (unsigned long)f->err,
		       (unsigned long)f->rip);
		guest_exit(99);
	}
	/* Back to the probe's caller at CPL 0. */
	f->rip = fix_rip;
	f->rsp = fix_rsp;
	f->cs = SEL_KCODE;
	f->ss = SEL_KDATA;
	f->rflags = 0x2;
	fix_rip = 0;
}

/*
 * long try_k(void (*fn)(void)): call fn at CPL 0; returns the vector of
 * the first fault it raised, or NO_FAULT.
 * long try_u(void (*fn)(void)): the same with fn run at CPL 3 (fn ends
 * with INT 0x81, which counts as "no fault").
 */
__asm__(".text\n"
	".globl try_k\n"
	"try_k:\n"
	"\tpushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\tpushq %r13\n"
	"\tpushq %r14\n\tpushq %r15\n"
	"\tmovq %rsp, fix_rsp(%rip)\n"
	"\tleaq try_back(%rip), %rax\n"
	"\tmovq %rax, fix_rip(%rip)\n"
	"\tmovq $-1, got_vec(%rip)\n"
	"\tcall *%rdi\n"
	"\tmovq $0, fix_rip(%rip)\n"
	"try_back:\n"
	"\tpopq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n"
	"\tpopq %rbp\n\tpopq %rbx\n"
	"\tmovq got_vec(%rip), %rax\n"
	"\tret\n"
	".globl try_u\n"
	"try_u:\n"
	"\tpushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\tpushq %r13\n"
	"\tpushq %r14\n\tpushq %r15\n"
	"\tmovq %rsp, fix_rsp(%rip)\n"
	"\tleaq try_back(%rip), %rax\n"
	"\tmovq %rax, fix_rip(%rip)\n"
	"\tmovq $-1, got_vec(%rip)\n"
	"\tpushq $0x23\n"		 /* SS */
	"\tleaq ustack+16384(%rip), %rax\n"
	"\tpushq %rax\n"		 /* RSP */
	"\tpushq $0x2\n"		 /* RFLAGS */
	"\tpushq $0x2b\n"		 /* CS */
	"\tpushq %rdi\n"		 /* RIP */
	"\tiretq\n");

long try_k(void (*fn)(void));
long try_u(void (*fn)(void));

/* User probes: one instruction, then INT 0x81. */
#define PROBE(name, insn)                                                      \
	void name(void);                                                       \
	__asm__(".text\n" #name ":\n\t" insn "\n\tint $0x81\n\tret\n")

/* --- set-up ------------------------------------------------------------ */

static void set_gate(unsigned int vec, void (*fn)(void), unsigned int dpl,
		     unsigned int ist)
{
	uint64_t a = (uint64_t)(uintptr_t)fn;

	idt[2 * vec] = (a & 0xffff) | ((uint64_t)SEL_KCODE << 16) |
		       ((uint64_t)ist << 32) |
		       ((uint64_t)(0x8e | (dpl << 5)) << 40) |
		       ((a >> 16) & 0xffff) << 48;
	idt[2 * vec + 1] = a >> 32;
}

#define GATE(n, dpl) set_gate(n, stub##n, dpl, 0)
void stub0(void), stub1(void), stub2(void), stub3(void), stub4(void),
	stub5(void), stub6(void), stub7(void), stub8(void), stub10(void),
	stub11(void), stub12(void), stub13(void), stub14(void), stub16(void),
	stub17(void), stub18(void), stub19(void), stub128(void),
	stub129(void);

static void setup_cpu(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr = {sizeof(gdt) - 1, (uintptr_t)gdt},
	  idtr = {sizeof(idt) - 1, (uintptr_t)idt};
	uint64_t t = (uintptr_t)&tss;

	gdt[1] = 0x00af9b000000ffffull; /* kernel code, 64-bit */
	gdt[2] = 0x00cf93000000ffffull; /* kernel data */
	gdt[3] = 0x00cf9b000000ffffull; /* kernel code, 32-bit */
	gdt[4] = 0x00cff3000000ffffull; /* user data */
	gdt[5] = 0x00affb000000ffffull; /* user code, 64-bit */
	gdt[6] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) |
		 (0x89ull << 40) | (((t >> 24) & 0xff) << 56);
	gdt[7] = t >> 32;
	tss.rsp[0] = (uintptr_t)kstack + sizeof(kstack);
	tss.iomap = sizeof(tss);

	GATE(0, 0);
	GATE(1, 0);
	GATE(2, 0);
	GATE(3, 3);
	GATE(4, 0);
	GATE(5, 0);
	GATE(6, 0);
	GATE(7, 0);
	GATE(8, 0);
	GATE(10, 0);
	GATE(11, 0);
	GATE(12, 0);
	GATE(13, 0);
	GATE(14, 0);
	GATE(16, 0);
	GATE(17, 0);
	GATE(18, 0);
	GATE(19, 0);
	GATE(128, 3);
	GATE(129, 3);

	/* 1 GiB identity map with 2 MiB pages, user-accessible. */
	for (unsigned int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87;
	pdpt[0] = (uintptr_t)pd | 7;
	/* The 2 MiB page holding the xAPIC page, uncached, kernel only. */
	pd_apic[APIC_GPA >> 21 & 511] = (APIC_GPA & ~0x1fffffull) | 0x93;
	pdpt[3] = (uintptr_t)pd_apic | 3;
	pml4[0] = (uintptr_t)pdpt | 7;

	__asm__ volatile("lgdt %0\n\t"
			 "lidt %1\n\t"
			 "pushq $0x08\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\tmovl $0x10, %%eax\n\t"
			 "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "movw $0x30, %%ax\n\t"
			 "ltr %%ax\n\t"
			 "movq %2, %%cr3"
			 :
			 : "m"(gdtr), "m"(idtr), "r"((uintptr_t)pml4)
			 : "rax", "memory");
}

static uint8_t *fresh_page_top(void)
{
	uint64_t page = FRESH_BASE + FRESH_STEP * (fresh_next++ % 8);

	return (uint8_t *)(uintptr_t)(page + 4096);
}

/* --- MSR helpers that report the fault ---------------------------------- */

volatile uint32_t msr_nr;
volatile uint64_t msr_val;

void do_wrmsr(void);
__asm__(".text\ndo_wrmsr:\n\tmovl msr_nr(%rip), %ecx\n"
	"\tmovl msr_val(%rip), %eax\n\tmovl msr_val+4(%rip), %edx\n"
	"\twrmsr\n\tret\n");
void do_rdmsr(void);
__asm__(".text\ndo_rdmsr:\n\tmovl msr_nr(%rip), %ecx\n\trdmsr\n"
	"\tmovl %eax, msr_val(%rip)\n\tmovl %edx, msr_val+4(%rip)\n\tret\n");

static long wrmsr_try(uint32_t msr, uint64_t val)
{
	msr_nr = msr;
	msr_val = val;
	return try_k(do_wrmsr);
}

static uint64_t rdmsr_or(uint32_t msr, uint64_t dflt)
{
	msr_nr = msr;
	msr_val = dflt;
	return try_k(do_rdmsr) == NO_FAULT ? msr_val : dflt;
}

/* --- finding 1: MSRs are the guest's while it runs ---------------------- */

volatile uint64_t syscall_hits, syscall_rcx;
void syscall_target(void);
__asm__(".text\nsyscall_target:\n"
	"\tincq syscall_hits(%rip)\n"
	"\tmovq %rcx, syscall_rcx(%rip)\n"
	"\tjmp *%rcx\n");
void do_syscall(void);
__asm__(".text\ndo_syscall:\n\tpushq %rbx\n\tsyscall\n\tpopq %rbx\n\tret\n");

volatile uint64_t sysenter_hits, sysenter_ret;
void sysenter_target(void);
__asm__(".text\nsysenter_target:\n"
	"\tincq sysenter_hits(%rip)\n"
	"\tmovq sysenter_ret(%rip), %rsp\n"
	"\tret\n");
void do_sysenter(void);
__asm__(".text\ndo_sysenter:\n"
	"\tmovq %rsp, sysenter_ret(%rip)\n"
	"\tsysenter\n");

static void attack_msrs(void)
{
	uint64_t efer = rdmsr_or(MSR_EFER, 0);
	long v;

	check(wrmsr_try(MSR_EFER, efer | 1) == NO_FAULT, "EFER.SCE set");
	check(wrmsr_try(MSR_STAR, (uint64_t)SEL_KCODE << 32) == NO_FAULT,
	      "STAR written");
	check(wrmsr_try(MSR_LSTAR, (uintptr_t)syscall_target) == NO_FAULT,
	      "LSTAR written");
	check(wrmsr_try(MSR_FMASK, 0x200) == NO_FAULT, "FMASK written");
	v = try_k(do_syscall);
	check(v == NO_FAULT && syscall_hits == 1,
	      "SYSCALL jumps to the guest's LSTAR");

	/* SWAPGS exchanges the guest's GS base with its KERNEL_GS_BASE. */
	wrmsr_try(MSR_GS_BASE, 0x1111000);
	wrmsr_try(MSR_KERNEL_GS, 0x2222000);
	__asm__ volatile("swapgs" ::: "memory");
	uint64_t gs = rdmsr_or(MSR_GS_BASE, 0);
	uint64_t kgs = rdmsr_or(MSR_KERNEL_GS, 0);
	__asm__ volatile("swapgs" ::: "memory");
	check(gs == 0x2222000 && kgs == 0x1111000,
	      "SWAPGS swaps the guest's own GS bases");
	check(rdmsr_or(MSR_KERNEL_GS, 0) == 0x2222000,
	      "KERNEL_GS_BASE survives exits");

	/* SYSENTER uses the guest's SYSENTER MSRs. */
	wrmsr_try(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr_try(MSR_SYSENTER_ESP, (uintptr_t)kstack + 8192);
	wrmsr_try(MSR_SYSENTER_EIP, (uintptr_t)sysenter_target);
	check(rdmsr_or(MSR_SYSENTER_EIP, 0) == (uintptr_t)sysenter_target,
	      "SYSENTER_EIP reads back");
	v = try_k(do_sysenter);
	check(v == NO_FAULT && sysenter_hits == 1,
	      "SYSENTER jumps to the guest's SYSENTER_EIP");

	/* RDTSCP returns the guest's TSC_AUX, not the host's. */
	uint32_t aux = 0;

	check(wrmsr_try(MSR_TSC_AUX, 0x5a5a) == NO_FAULT, "TSC_AUX written");
	__asm__ volatile("rdtscp" : "=c"(aux) : : "eax", "edx");
	check(aux == 0x5a5a, "RDTSCP returns the guest's TSC_AUX");
	check(wrmsr_try(MSR_TSC_AUX, 1ull << 40) == VEC_GP,
	      "TSC_AUX reserved bits: #GP");
}

/* --- finding 2: values that would fail VM entry get #GP ----------------- */

void do_cr0_nopg(void);
__asm__(".text\ndo_cr0_nopg:\n\tmovq %cr0, %rax\n"
	"\tbtrq $31, %rax\n\tmovq %rax, %cr0\n\tret\n");

static void attack_entry_state(void)
{
	uint64_t pat = rdmsr_or(MSR_PAT, 0);
	uint64_t efer = rdmsr_or(MSR_EFER, 0);

	check(wrmsr_try(MSR_PAT, (pat & ~0xffull) | 2) == VEC_GP,
	      "PAT with reserved type 2: #GP");
	check(wrmsr_try(MSR_PAT, pat | (1ull << 3)) == VEC_GP,
	      "PAT with reserved bit 3: #GP");
	check(rdmsr_or(MSR_PAT, 0) == pat, "PAT unchanged");
	check(wrmsr_try(MSR_PAT, 0x0000000000000106ull) == NO_FAULT &&
		      rdmsr_or(MSR_PAT, 0) == 0x106,
	      "PAT with valid types accepted");
	wrmsr_try(MSR_PAT, pat);
	check(wrmsr_try(MSR_FS_BASE, 0x0000800000000000ull) == VEC_GP,
	      "non-canonical FS base: #GP");
	check(wrmsr_try(MSR_GS_BASE, 0xfff0000000000000ull) == VEC_GP,
	      "non-canonical GS base: #GP");
	check(wrmsr_try(MSR_KERNEL_GS, 0x0000800000000000ull) == VEC_GP,
	      "non-canonical KERNEL_GS_BASE: #GP");
	check(wrmsr_try(MSR_LSTAR, 0x0000800000000000ull) == VEC_GP,
	      "non-canonical LSTAR: #GP");
	check(wrmsr_try(MSR_SYSENTER_EIP, 0x0000800000000000ull) == VEC_GP,
	      "non-canonical SYSENTER_EIP: #GP");
	check(wrmsr_try(MSR_FS_BASE, 0xffff800000001000ull) == NO_FAULT &&
		      rdmsr_or(MSR_FS_BASE, 0) == 0xffff800000001000ull,
	      "canonical high FS base accepted");
	wrmsr_try(MSR_FS_BASE, 0);
	check(wrmsr_try(MSR_EFER, efer & ~(1ull << 8)) == VEC_GP,
	      "clearing EFER.LME in long mode: #GP");
	check(wrmsr_try(MSR_EFER, efer | (1ull << 20)) == VEC_GP,
	      "EFER reserved bit: #GP");
	check(try_k(do_cr0_nopg) == VEC_GP, "CR0.PG=0 in 64-bit mode: #GP");
	check(rdmsr_or(MSR_EFER, 0) == efer, "EFER unchanged");
}

/* --- finding 3: VMX and other exiting instructions ---------------------- */

uint64_t vmx_mem[4] __attribute__((aligned(16)));

PROBE(u_vmxon, "vmxon vmx_mem(%rip)");
PROBE(u_vmxoff, "vmxoff");
PROBE(u_vmclear, "vmclear vmx_mem(%rip)");
PROBE(u_vmptrld, "vmptrld vmx_mem(%rip)");
PROBE(u_vmptrst, "vmptrst vmx_mem(%rip)");
PROBE(u_vmread, "xorl %eax, %eax; vmread %rax, %rbx");
PROBE(u_vmwrite, "xorl %eax, %eax; vmwrite %rax, %rbx");
PROBE(u_vmlaunch, "vmlaunch");
PROBE(u_vmresume, "vmresume");
PROBE(u_invept, "movl $1, %eax; invept vmx_mem(%rip), %rax");
PROBE(u_invvpid, "movl $1, %eax; invvpid vmx_mem(%rip), %rax");
PROBE(u_vmfunc, "xorl %eax, %eax; vmfunc");
PROBE(u_getsec, "xorl %eax, %eax; getsec");
PROBE(u_invd, "invd");
PROBE(u_wbinvd, "wbinvd");
PROBE(u_xsetbv, "xorl %ecx, %ecx; movl $1, %eax; xorl %edx, %edx; xsetbv");
PROBE(u_hlt, "hlt");
PROBE(u_rdmsr, "movl $0x10, %ecx; rdmsr");
PROBE(u_cpuid, "xorl %eax, %eax; cpuid");
PROBE(u_vmcall, "xorl %eax, %eax; vmcall");

static const struct {
	const char *name;
	void (*fn)(void);
	long cpl0, cpl3; /* expected vector, or NO_FAULT */
} insn_probes[] = {
	{"VMXON", u_vmxon, VEC_UD, VEC_UD},
	{"VMXOFF", u_vmxoff, VEC_UD, VEC_UD},
	{"VMCLEAR", u_vmclear, VEC_UD, VEC_UD},
	{"VMPTRLD", u_vmptrld, VEC_UD, VEC_UD},
	{"VMPTRST", u_vmptrst, VEC_UD, VEC_UD},
	{"VMREAD", u_vmread, VEC_UD, VEC_UD},
	{"VMWRITE", u_vmwrite, VEC_UD, VEC_UD},
	{"VMLAUNCH", u_vmlaunch, VEC_UD, VEC_UD},
	{"VMRESUME", u_vmresume, VEC_UD, VEC_UD},
	{"INVEPT", u_invept, VEC_UD, VEC_UD},
	{"INVVPID", u_invvpid, VEC_UD, VEC_UD},
	{"VMFUNC", u_vmfunc, VEC_UD, VEC_UD},
	{"GETSEC", u_getsec, VEC_UD, VEC_UD},
	{"INVD", u_invd, NO_FAULT, VEC_GP},
	{"WBINVD", u_wbinvd, NO_FAULT, VEC_GP},
	{"XSETBV", u_xsetbv, VEC_UD, VEC_UD}, /* CR4.OSXSAVE is 0 */
	{"HLT", u_hlt, -2, VEC_GP},
	{"RDMSR", u_rdmsr, NO_FAULT, VEC_GP},
	{"CPUID", u_cpuid, NO_FAULT, NO_FAULT},
	{"VMCALL", u_vmcall, NO_FAULT, NO_FAULT},
};

static void attack_insns(void)
{
	char what[64];

	long inj0 = hc_get_counter(TIDAL_CTR_INJECTED);

	for (unsigned int i = 0; i < ARRAY_LEN(insn_probes); i++) {
		long k = -3, u;

		if (insn_probes[i].cpl0 != -2) {
			long before = hc_get_counter(TIDAL_CTR_INJECTED);

			k = try_k(insn_probes[i].fn);
			/* VMX instructions exit: the #UD must be tidal's. */
			if (i < 11) {
				snprintf(what, sizeof(what),
					 "%s at CPL 0: #UD came from tidal",
					 insn_probes[i].name);
				check(hc_get_counter(TIDAL_CTR_INJECTED) ==
					      before + 1,
				      what);
			}
			snprintf(what, sizeof(what), "%s at CPL 0 gives %ld",
				 insn_probes[i].name, insn_probes[i].cpl0);
			check(k == insn_probes[i].cpl0, what);
		}
		u = try_u(insn_probes[i].fn);
		snprintf(what, sizeof(what), "%s at CPL 3 gives %ld",
			 insn_probes[i].name, insn_probes[i].cpl3);
		check(u == insn_probes[i].cpl3, what);
		if (k != insn_probes[i].cpl0 && k != -3)
			printf("hostile:   CPL 0 saw %ld\n", k);
		if (u != insn_probes[i].cpl3)
			printf("hostile:   CPL 3 saw %ld\n", u);
	}
	printf("hostile: tidal injected %ld exceptions for these\n",
	       hc_get_counter(TIDAL_CTR_INJECTED) - inj0);
}

/* --- finding 4: events delivered onto an unmapped stack ----------------- */

void step_two(void);
extern char step_after[];
__asm__(".text\nstep_two:\n"
	"\tpushfq\n\torq $0x100, (%rsp)\n\tpopfq\n"
	"\tnop\n"
	"step_after:\n"
	"\tnop\n\tnop\n\tret\n");
void do_int3(void);
extern char int3_after[];
__asm__(".text\ndo_int3:\n\tint3\nint3_after:\n\tret\n");
void do_int80(void);
extern char int80_after[];
__asm__(".text\ndo_int80:\n\tint $0x80\nint80_after:\n\tret\n");
void do_ud2(void);
extern char ud2_at[];
__asm__(".text\ndo_ud2:\nud2_at:\n\tud2\n\tret\n");

static void set_ist1(void)
{
	tss.ist[0] = (uintptr_t)fresh_page_top();
}

static void attack_delivery(void)
{
	long re0 = hc_get_counter(TIDAL_CTR_REINJECTED);

	set_gate(VEC_DB, stub1, 0, 1);
	set_ist1();
	step_two();
	check(db_hits == 1 && db_rip == (uintptr_t)step_after,
	      "single-step #DB onto an unmapped IST stack is delivered once, "
	      "at the right RIP");
	if (db_hits != 1 || db_rip != (uintptr_t)step_after)
		printf("hostile:   #DB hits %u at %lx (want %lx)\n", db_hits,
		       (unsigned long)db_rip, (unsigned long)step_after);

	set_gate(VEC_BP, stub3, 3, 1);
	set_ist1();
	do_int3();
	check(bp_hits == 1 && bp_rip == (uintptr_t)int3_after,
	      "INT3 onto an unmapped IST stack: one #BP after the INT3");

	set_gate(VEC_SOFT, stub128, 3, 1);
	set_ist1();
	do_int80();
	check(soft_hits == 1 && soft_rip == (uintptr_t)int80_after,
	      "INT 0x80 onto an unmapped IST stack: delivered, RIP after it");

	set_gate(VEC_UD, stub6, 0, 1);
	set_ist1();
	check(try_k(do_ud2) == VEC_UD && got_rip == (uintptr_t)ud2_at,
	      "#UD onto an unmapped IST stack: delivered at the UD2");
	set_gate(VEC_UD, stub6, 0, 0);

	/* A #GP tidal injects (refused WRMSR) onto an unmapped stack. */
	set_gate(VEC_GP, stub13, 0, 1);
	set_ist1();
	check(wrmsr_try(0x12345678, 0) == VEC_GP && got_err == 0,
	      "#GP injected by tidal onto an unmapped IST stack, error 0");
	set_gate(VEC_GP, stub13, 0, 0);

	/* A fault at CPL 3 delivered onto an unmapped RSP0 stack. */
	tss.rsp[0] = (uintptr_t)fresh_page_top();
	check(try_u(do_ud2) == VEC_UD, "#UD from CPL 3 onto an unmapped "
				       "kernel stack");
	tss.rsp[0] = (uintptr_t)kstack + sizeof(kstack);
	check(hc_get_counter(TIDAL_CTR_REINJECTED) - re0 == 6,
	      "tidal re-injected each of the 6 events");
}

/* --- finding 5: CR0 checks and DR7 across exits ------------------------- */

volatile uint64_t cr_val;
void do_cr0_write(void);
__asm__(".text\ndo_cr0_write:\n\tmovq cr_val(%rip), %rax\n"
	"\tmovq %rax, %cr0\n\tret\n");
void do_cr4_write(void);
__asm__(".text\ndo_cr4_write:\n\tmovq cr_val(%rip), %rax\n"
	"\tmovq %rax, %cr4\n\tret\n");

static uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("movq %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("movq %%cr4, %0" : "=r"(v));
	return v;
}

static void attack_crs(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), dr7;
	uint32_t r[4];

	cr_val = cr0 | (1ull << 32);
	check(try_k(do_cr0_write) == VEC_GP, "CR0 bit 32 set: #GP");
	cr_val = (cr0 | (1ull << 29)) & ~(1ull << 30);
	check(try_k(do_cr0_write) == VEC_GP, "CR0.NW=1 with CD=0: #GP");
	cr_val = cr0 & ~1ull;
	check(try_k(do_cr0_write) == VEC_GP, "CR0.PE=0 with PG=1: #GP");
	cr_val = cr0 | (1ull << 30) | (1ull << 29);
	check(try_k(do_cr0_write) == NO_FAULT && read_cr0() == cr_val,
	      "CR0.CD=1 NW=1 accepted and read back");
	cr_val = cr0;
	try_k(do_cr0_write);
	check(read_cr0() == cr0, "CR0 restored");
	cr_val = cr4 & ~(1ull << 5);
	check(try_k(do_cr4_write) == VEC_GP, "CR4.PAE=0 in long mode: #GP");
	cr_val = cr4 | (1ull << 13);
	check(try_k(do_cr4_write) == VEC_GP, "CR4.VMXE=1: #GP");
	cr_val = cr4 | (1ull << 40);
	check(try_k(do_cr4_write) == VEC_GP, "CR4 bit 40: #GP");
	check(read_cr4() == cr4, "CR4 unchanged");

	/* DR7 is the guest's across exits. */
	__asm__ volatile("movq %0, %%dr7" : : "r"(0x0000000000000700ull));
	cpuid(0, 0, r);
	vmcall3(TIDAL_HC_VERSION, 0, 0, 0);
	__asm__ volatile("movq %%dr7, %0" : "=r"(dr7));
	check(dr7 == 0x700, "DR7 survives CPUID and VMCALL exits");
	if (dr7 != 0x700)
		printf("hostile:   DR7 reads %lx\n", (unsigned long)dr7);
	__asm__ volatile("movq %0, %%dr7" : : "r"(0x400ull));
}

/* --- XCR0: the guest's own, validated (XSETBV with CR4.OSXSAVE) -------- */

volatile uint64_t xcr0_val;
void do_xsetbv(void);
__asm__(".text\ndo_xsetbv:\n\tmovl xcr0_val(%rip), %eax\n"
	"\tmovl xcr0_val+4(%rip), %edx\n\txorl %ecx, %ecx\n\txsetbv\n\tret\n");

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void attack_xcr0(void)
{
	uint64_t cr4 = read_cr4();
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 26))) {
		printf("hostile: XSAVE not shown by CPUID: XCR0 probes "
		       "skipped\n");
		return;
	}
	cr_val = cr4 | (1ull << 18);
	check(try_k(do_cr4_write) == NO_FAULT, "CR4.OSXSAVE=1 accepted");
	cpuid(1, 0, r);
	check(r[2] & (1u << 27), "CPUID.1 OSXSAVE follows the guest's CR4");
	check(xgetbv0() == 1, "XCR0 starts as 1 (x87)");
	xcr0_val = 3;
	check(try_k(do_xsetbv) == NO_FAULT && xgetbv0() == 3,
	      "XSETBV 3 (x87+SSE): the guest's XCR0 reads 3");
	cpuid(0xd, 0, r);
	check(r[1] == 576, "CPUID.0xD EBX: 576 bytes for XCR0=3");
	xcr0_val = 0;
	check(try_k(do_xsetbv) == VEC_GP, "XSETBV 0 (no x87): #GP");
	xcr0_val = 5;
	check(try_k(do_xsetbv) == VEC_GP, "XSETBV 5 (AVX without SSE): #GP");
	xcr0_val = 1ull << 63 | 3;
	check(try_k(do_xsetbv) == VEC_GP, "XSETBV bit 63: #GP");
	check(try_u(do_xsetbv) == VEC_GP, "XSETBV at CPL 3: #GP");
	check(xgetbv0() == 3, "XCR0 unchanged by the refused writes");
	cpuid(0xd, 0, r);
	xcr0_val = r[0] & 7;
	check(try_k(do_xsetbv) == NO_FAULT && xgetbv0() == (r[0] & 7),
	      "XSETBV of the supported x87/SSE/AVX set accepted");
	xcr0_val = 1;
	try_k(do_xsetbv);
	cr_val = cr4;
	try_k(do_cr4_write);
	check(read_cr4() == cr4, "CR4 restored");
}

/* --- finding 6: VMCALL in compatibility mode ---------------------------- */

volatile uint64_t compat_ret;
void do_compat_vmcall(void);
__asm__(".text\ndo_compat_vmcall:\n"
	"\tpushq %rbx\n"
	"\tmovabsq $0xdead000000000000, %rax\n" /* nr TIDAL_HC_VERSION */
	"\tmovabsq $0xbeef000000000000, %rbx\n"
	"\tpushq $0x18\n"
	"\tleaq 1f(%rip), %rcx\n"
	"\tpushq %rcx\n"
	"\tlretq\n"
	".code32\n"
	"1:\tvmcall\n"
	"\tmovl %eax, %esi\n"
	"\tljmp $0x08, $2f\n"
	".code64\n"
	"2:\tmovq %rsi, compat_ret(%rip)\n"
	"\tpopq %rbx\n"
	"\tret\n");

static void attack_compat(void)
{
	long v = try_k(do_compat_vmcall);

	check(v == NO_FAULT && compat_ret == TIDAL_ABI_VERSION,
	      "VMCALL in compatibility mode uses the low 32 bits");
	if (compat_ret != TIDAL_ABI_VERSION)
		printf("hostile:   compat VMCALL returned %lx\n",
		       (unsigned long)compat_ret);
}

/* --- the rest of the exit handlers' inputs ------------------------------ */

static long vmcall_raw(uint64_t nr, uint64_t a, uint64_t b)
{
	long ret;

	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a), "c"(b)
			 : "memory");
	return ret;
}

volatile long user_vmcall_ret;
void u_vmcall_exit(void);
__asm__(".text\nu_vmcall_exit:\n\tmovl $2, %eax\n\tmovl $7, %ebx\n"
	"\tvmcall\n\tmovq %rax, user_vmcall_ret(%rip)\n\tint $0x81\n");

static void attack_hypercalls(void)
{
	static const char msg[] = "hostile: console write through VMCALL\n";
	uint64_t ram = 64ull << 20;

	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, (uintptr_t)msg,
			 sizeof(msg) - 1) == (long)sizeof(msg) - 1,
	      "console write returns its length");
	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, ram, 1) == TIDAL_E_FAULT,
	      "console write past RAM: E_FAULT");
	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, ram - 4, 8) == TIDAL_E_FAULT,
	      "console write straddling the end of RAM: E_FAULT");
	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, ~0ull - 3, 8) ==
		      TIDAL_E_FAULT,
	      "console write whose end wraps: E_FAULT");
	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, (uintptr_t)msg, 0) == 0,
	      "console write of 0 bytes");
	check(vmcall_raw(TIDAL_HC_GET_COUNTER, TIDAL_CTR_COUNT, 0) ==
		      TIDAL_E_INVAL,
	      "counter past the last: E_INVAL");
	check(vmcall_raw(TIDAL_HC_GET_COUNTER, 1ull << 40, 0) == TIDAL_E_INVAL,
	      "counter with a huge id: E_INVAL");
	check(vmcall_raw(0x7fffffff, 0, 0) == TIDAL_E_NOSYS,
	      "unknown hypercall: E_NOSYS");
	check(vmcall_raw(1ull << 32, 0, 0) == TIDAL_E_NOSYS,
	      "hypercall number with high bits in 64-bit mode: E_NOSYS");
	check(try_u(u_vmcall_exit) == NO_FAULT &&
		      user_vmcall_ret == TIDAL_E_PERM,
	      "TIDAL_HC_EXIT from CPL 3: E_PERM, the VM goes on");
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void attack_io(void)
{
	long hlt0 = hc_get_counter(TIDAL_CTR_HLT);
	unsigned int soft0 = soft_hits;

	/*
	 * HLT with IF=1 waits for an interrupt: a one-shot x2APIC timer on
	 * vector 0x80 (the INT 0x80 gate, which counts and resumes) wakes it.
	 */
	wrmsr_try(0x1b, 0xfee00000u | (1u << 11) | (1u << 10) | (1u << 8));
	wrmsr_try(0x80f, 0x1ff); /* SVR: software-enabled */
	wrmsr_try(0x83e, 0xb);	 /* divide by 1 */
	wrmsr_try(0x832, VEC_SOFT);
	wrmsr_try(0x838, 100000);
	__asm__ volatile("sti; hlt; cli");
	wrmsr_try(0x80b, 0); /* EOI */
	check(hc_get_counter(TIDAL_CTR_HLT) == hlt0 + 1 &&
		      soft_hits == soft0 + 1,
	      "HLT with interrupts on returns at the APIC timer, counted");

	static const char line[] = "hostile: rep outsb to port e9\n";
	static const char rev[] = "\nbstuo drawkcab :elitsoh";
	uint8_t buf[8];
	uint16_t wbuf[3] = {0, 0, 0};
	uint64_t rax = 0x1122334455667788ull;

	check(inb(0x80) == 0xff && inw(0x80) == 0xffff &&
		      inl(0x80) == 0xffffffffu,
	      "IN from an empty port: all ones, by size");
	__asm__ volatile("inb $0x80, %%al" : "+a"(rax));
	check(rax == 0x11223344556677ffull, "IN byte merges into AL");
	__asm__ volatile("inl $0x80, %%eax" : "+a"(rax));
	check(rax == 0xffffffffull, "IN dword zero-extends into RAX");
	check((inw(TIDAL_PORT_COM1 + 5) & 0xff) == 0x60,
	      "IN word at COM1 LSR reads LSR (and MSR above it)");
	/* String forms: REP OUTSB forward, then backward with DF=1. */
	{
		const char *src = line;
		unsigned long n = sizeof(line) - 1;

		__asm__ volatile("rep outsb"
				 : "+S"(src), "+c"(n)
				 : "d"(TIDAL_PORT_DEBUG)
				 : "memory");
		check(n == 0 && src == line + sizeof(line) - 1,
		      "REP OUTSB forward: RCX 0, RSI past the buffer");
	}
	{
		const char *src = rev + sizeof(rev) - 2;
		unsigned long n = sizeof(rev) - 1;

		__asm__ volatile("std; rep outsb; cld"
				 : "+S"(src), "+c"(n)
				 : "d"(TIDAL_PORT_DEBUG)
				 : "memory");
		check(n == 0 && (uintptr_t)src == (uintptr_t)rev - 1,
		      "REP OUTSB backward: RCX 0, RSI before the buffer");
	}
	{
		uint8_t *dst = buf;
		unsigned long n = 4;

		memset(buf, 0, sizeof(buf));
		__asm__ volatile("rep insb"
				 : "+D"(dst), "+c"(n)
				 : "d"(TIDAL_PORT_COM1 + 5)
				 : "memory");
		check(n == 0 && dst == buf + 4 && buf[0] == 0x60 &&
			      buf[3] == 0x60 && buf[4] == 0,
		      "REP INSB from COM1 LSR fills 4 bytes");
	}
	{
		uint16_t *dst = wbuf;

		__asm__ volatile("insw" : "+D"(dst) : "d"(0x80) : "memory");
		check(dst == wbuf + 1 && wbuf[0] == 0xffff && wbuf[1] == 0,
		      "INSW from an empty port: one word of ones");
	}
}

/* RDMSR across ranges: each MSR is #GP or one tidal's table gives. */
void do_cr8_5(void), do_cr8_bad(void);
__asm__(".text\ndo_cr8_5:\n\tmovl $5, %eax\n\tmovq %rax, %cr8\n\tret\n"
	"do_cr8_bad:\n\tmovl $0x15, %eax\n\tmovq %rax, %cr8\n\tret\n");

static volatile uint32_t *apic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(APIC_GPA + off);
}

/*
 * The xAPIC page, emulated or virtualized (APICv): read-only and
 * reserved registers keep their value, partial writes are dropped, and
 * past the registers, or in x2APIC mode, the page is no memory: the
 * APIC-access page tidal maps there is never reachable as RAM, neither
 * by the guest nor through a hypercall buffer.
 */
static void attack_apic(void)
{
	uint64_t base = APIC_GPA | (1u << 11) | (1u << 8);
	uint32_t ver;

	wrmsr_try(0x1b, base | (1u << 10)); /* x2APIC (unless already) */
	check(*apic_reg(0x20) == 0 && *apic_reg(0x800) == 0,
	      "x2APIC mode: the xAPIC page reads 0");
	*apic_reg(0x800) = 0xdeadbeef;
	*apic_reg(0x80) = 0x70;
	check(*apic_reg(0x800) == 0 && rdmsr_or(0x808, 1) == 0,
	      "x2APIC mode: writes there are dropped, not stored");
	check(wrmsr_try(0x1b, base & ~(uint64_t)(1u << 11)) == NO_FAULT &&
		      wrmsr_try(0x1b, base) == NO_FAULT,
	      "x2APIC -> disabled -> xAPIC");
	*apic_reg(0xf0) = 0x1ff;
	ver = *apic_reg(0x30);
	check((ver & 0xff) == 0x14 && *apic_reg(0xf0) == 0x1ff,
	      "xAPIC again: version and SVR");
	*apic_reg(0x20) = 0x7f000000;
	*apic_reg(0x30) = 0;
	*apic_reg(0xa0) = 0xff;
	*apic_reg(0x100) = ~0u;
	*apic_reg(0x180) = ~0u;
	*apic_reg(0x200) = ~0u;
	*apic_reg(0x3c0) = ~0u;
	check(*apic_reg(0x20) == 0 && *apic_reg(0x30) == ver &&
		      *apic_reg(0xa0) == 0 && *apic_reg(0x100) == 0 &&
		      *apic_reg(0x180) == 0 && *apic_reg(0x200) == 0 &&
		      *apic_reg(0x3c0) == 0,
	      "ID, version, PPR, ISR, TMR, IRR, reserved: writes ignored");
	/* The SDM leaves sub-32-bit accesses undefined: the emulation drops
	 * them, APICv's TPR virtualization takes the byte. */
	*(volatile uint8_t *)apic_reg(0x80) = 0x77;
	check(*apic_reg(0x80) == 0 || *apic_reg(0x80) == 0x77,
	      "TPR byte write: dropped or taken whole");
	*apic_reg(0x80) = 0;
	*(volatile uint64_t *)(uintptr_t)(APIC_GPA + 0x80) = 0x66;
	check(*apic_reg(0x80) == 0, "TPR: an 8-byte write is dropped");
	*apic_reg(0x80) = 0x1234;
	check(*apic_reg(0x80) == 0x34 && *apic_reg(0xa0) == 0x34,
	      "TPR keeps bits 7:0, PPR follows");
	*apic_reg(0x80) = 0;
	/* CR8 is the TPR's class: the guest's, never the physical CPU's. */
	{
		uint64_t cr8;

		check(try_k(do_cr8_5) == NO_FAULT && *apic_reg(0x80) == 0x50,
		      "MOV to CR8 sets TPR bits 7:4");
		__asm__ volatile("movq %%cr8, %0" : "=r"(cr8));
		check(cr8 == 5, "MOV from CR8 reads them back");
		check(try_k(do_cr8_bad) == 13 && *apic_reg(0x80) == 0x50,
		      "MOV to CR8 with bits 63:4 set: #GP, TPR kept");
		*apic_reg(0x80) = 0;
	}
	*apic_reg(0xa00) = 0xdeadbeef;
	*apic_reg(0xffc) = 0xdeadbeef;
	check(*apic_reg(0xa00) == 0 && *apic_reg(0xffc) == 0 &&
		      *apic_reg(0x400) == 0,
	      "past the registers: reads 0, writes not stored");
	*apic_reg(0x300) = (1u << 18) | 3; /* self IPI, illegal vector */
	*apic_reg(0x280) = 0;
	check(*apic_reg(0x280) & (1u << 5), "ESR: illegal vector sent");
	check(vmcall_raw(TIDAL_HC_CONSOLE_WRITE, APIC_GPA, 16) ==
		      TIDAL_E_FAULT,
	      "console write from the xAPIC page: E_FAULT");
}

static void attack_msr_ranges(void)
{
	static const struct {
		uint32_t first, last, step;
	} ranges[] = {
		{0x0, 0x2000, 0x3d},	       {0x480, 0x492, 1},
		{0xc0000000, 0xc0000110, 1}, {0xc0010000, 0xc0010020, 3},
		{0x40000000, 0x40000110, 0x11},
	};
	unsigned int gp = 0, readable = 0, vmx_caps_seen = 0;

	for (unsigned int r = 0; r < ARRAY_LEN(ranges); r++) {
		for (uint32_t m = ranges[r].first; m < ranges[r].last;
		     m += ranges[r].step) {
			msr_nr = m;
			if (try_k(do_rdmsr) == VEC_GP) {
				gp++;
				continue;
			}
			readable++;
			if (m >= 0x480 && m < 0x492)
				vmx_caps_seen++;
		}
	}
	printf("hostile: MSR sweep: %u readable, %u #GP\n", readable, gp);
	check(vmx_caps_seen == 0, "no VMX capability MSR is readable");
	check(readable >= 9 && readable <= 12 && gp > 300,
	      "the sweep found only tidal's MSRs");
}

int guest_main(const struct tidal_start_info *si)
{
	/* only=N runs one group (1..6, the findings), 0 all of them. */
	unsigned int only = (unsigned int)cmdline_num("only", 0);
	static void (*const groups[])(void) = {
		attack_msrs,	   attack_entry_state, attack_insns,
		attack_delivery,   attack_crs,	       attack_compat,
		attack_hypercalls, attack_io,	       attack_msr_ranges,
		attack_xcr0,	   attack_apic,
	};

	setup_cpu();
	printf("hostile: set up (own GDT, IDT, TSS, user page tables)\n");
	for (unsigned int g = 0; g < ARRAY_LEN(groups); g++)
		if (!only || only == g + 1)
			groups[g]();
	printf("hostile: exits so far %ld, VMCALLs %ld\n",
	       hc_get_counter(TIDAL_CTR_EXITS),
	       hc_get_counter(TIDAL_CTR_VMCALL));
	printf("hostile: %d probes, %d failures\n", probes, failures);
	return failures ? 1 : 0;
}
