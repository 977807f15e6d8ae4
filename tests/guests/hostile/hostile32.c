// SPDX-License-Identifier: MIT
/*
 * hostile32: a 32-bit guest that walks the CR0/CR4/EFER transitions the
 * SDM allows (and some it forbids) and checks each result: PAE paging with
 * good and bad PDPTEs, IA-32e mode entered from 32-bit code with CR0.PG,
 * VMCALL from compatibility mode with junk in the upper register halves,
 * and leaving IA-32e mode again.  tests/boot/guest-hostile.t runs it.
 */
#include "lib/guest.h"

#define NO_FAULT (-1)
#define VEC_GP	 13

#define CR0_PG	 0x80000000u
#define CR4_PAE	 0x20u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u

static uint64_t idt[256] __attribute__((aligned(8)));
static uint64_t pdpt_pae[4] __attribute__((aligned(32)));
static uint64_t pdpt_bad[4] __attribute__((aligned(32)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt_lm[512] __attribute__((aligned(4096)));

volatile uint32_t fix_eip, fix_esp;
volatile int32_t got_vec;
volatile uint32_t arg_val;
volatile uint32_t compat_eax, compat_ok;

static int failures, probes;

static void check(bool cond, const char *what)
{
	probes++;
	printf("hostile32: %s: %s\n", what, cond ? "ok" : "FAIL");
	if (!cond)
		failures++;
}

/* #GP (vector 13, with an error code) and #UD: record, resume at fix_eip. */
__asm__(".text\n"
	"gp_stub:\n"
	"\tmovl $13, got_vec\n"
	"\taddl $4, %esp\n" /* error code */
	"\tjmp trap_fix\n"
	"ud_stub:\n"
	"\tmovl $6, got_vec\n"
	"trap_fix:\n"
	"\tmovl fix_eip, %eax\n"
	"\tmovl %eax, (%esp)\n"
	"\tiret\n"
	/* int try32(void (*fn)(void)): the vector fn faulted with, or -1 */
	".globl try32\n"
	"try32:\n"
	"\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\tpushl %ebp\n"
	"\tmovl 20(%esp), %eax\n"
	"\tmovl $-1, got_vec\n"
	"\tmovl $1f, fix_eip\n"
	"\tmovl %esp, fix_esp\n"
	"\tcall *%eax\n"
	"1:\tmovl fix_esp, %esp\n"
	"\tpopl %ebp\n\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n"
	"\tmovl got_vec, %eax\n"
	"\tret\n");
void gp_stub(void), ud_stub(void);
int try32(void (*fn)(void));

static void set_gate(unsigned int vec, void (*fn)(void))
{
	uint32_t a = (uint32_t)(uintptr_t)fn;

	idt[vec] = (a & 0xffff) | (0x18ull << 16) | (0x8eull << 40) |
		   ((uint64_t)(a >> 16) << 48);
}

void do_cr0_write(void), do_cr3_write(void), do_cr4_write(void),
	do_wrmsr_efer(void), do_rdmsr_efer(void);
__asm__(".text\n"
	"do_cr0_write:\n\tmovl arg_val, %eax\n\tmovl %eax, %cr0\n\tret\n"
	"do_cr3_write:\n\tmovl arg_val, %eax\n\tmovl %eax, %cr3\n\tret\n"
	"do_cr4_write:\n\tmovl arg_val, %eax\n\tmovl %eax, %cr4\n\tret\n"
	"do_wrmsr_efer:\n\tmovl $0xc0000080, %ecx\n\tmovl arg_val, %eax\n"
	"\txorl %edx, %edx\n\twrmsr\n\tret\n"
	"do_rdmsr_efer:\n\tmovl $0xc0000080, %ecx\n\trdmsr\n"
	"\tmovl %eax, arg_val\n\tret\n");

static int wr(void (*fn)(void), uint32_t v)
{
	arg_val = v;
	return try32(fn);
}

static uint32_t rd_cr0(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static uint32_t rd_efer(void)
{
	try32(do_rdmsr_efer);
	return arg_val;
}

/*
 * In IA-32e mode (compatibility mode, CS 0x18): far jump to 64-bit code
 * (0x08), load junk into the upper halves of RAX/RBX, far return to
 * compatibility mode and VMCALL TIDAL_HC_VERSION there.
 */
void compat_vmcall(void);
__asm__(".text\n"
	"compat_vmcall:\n"
	"\tpushl %ebx\n"
	"\tljmp $0x08, $1f\n"
	".code64\n"
	"1:\tmovabsq $0xdead000000000000, %rax\n"
	"\tmovabsq $0xbeef000000000000, %rbx\n"
	"\tsubq $8, %rsp\n"
	"\tmovl $0x18, 4(%rsp)\n"
	"\tmovl $2f, (%rsp)\n"
	"\tlretl\n"
	".code32\n"
	"2:\tvmcall\n"
	"\tmovl %eax, compat_eax\n"
	"\tpopl %ebx\n"
	"\tret\n");

static void pae_paging(void)
{
	uint32_t cr0 = rd_cr0();

	for (unsigned int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* P, RW, 2M */
	pdpt_pae[0] = (uintptr_t)pd | 1;
	pdpt_bad[0] = (uintptr_t)pd | 1;
	pdpt_bad[1] = (uintptr_t)pd | 1 | (1u << 5); /* reserved bit */

	check(wr(do_cr4_write, CR4_PAE) == NO_FAULT, "CR4.PAE set, paging off");
	check(wr(do_cr3_write, (uintptr_t)pdpt_bad) == NO_FAULT,
	      "CR3 -> PDPT with a reserved bit, paging off");
	check(wr(do_cr0_write, cr0 | CR0_PG) == VEC_GP,
	      "CR0.PG with a bad PDPTE: #GP");
	check(!(rd_cr0() & CR0_PG), "paging still off");
	wr(do_cr3_write, (uintptr_t)pdpt_pae);
	check(wr(do_cr0_write, cr0 | CR0_PG) == NO_FAULT &&
		      (rd_cr0() & CR0_PG),
	      "PAE paging on");
	/* Paging works: this runs, the stack works, printf works. */
	check(!(rd_efer() & EFER_LMA), "PAE paging is not IA-32e mode");
	check(wr(do_wrmsr_efer, EFER_LME) == VEC_GP,
	      "EFER.LME set with paging on: #GP");
	check(wr(do_cr0_write, cr0) == NO_FAULT && !(rd_cr0() & CR0_PG),
	      "paging off again");
}

static void enter_long_mode(void)
{
	uint32_t cr0 = rd_cr0();

	pdpt_lm[0] = (uintptr_t)pd | 3;
	pml4[0] = (uintptr_t)pdpt_lm | 3;
	wr(do_cr3_write, (uintptr_t)pml4);
	check(wr(do_cr4_write, 0) == NO_FAULT, "CR4.PAE cleared, paging off");
	check(wr(do_wrmsr_efer, EFER_LME) == NO_FAULT, "EFER.LME set");
	check(wr(do_cr0_write, cr0 | CR0_PG) == VEC_GP,
	      "CR0.PG with LME but no PAE: #GP");
	wr(do_cr4_write, CR4_PAE);
	/* From here a fault would need 64-bit IDT gates: there must be none. */
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 | CR0_PG) : "memory");
	arg_val = 0;
	__asm__ volatile("movl $0xc0000080, %%ecx; rdmsr; movl %%eax, %0"
			 : "=m"(arg_val)
			 :
			 : "eax", "ecx", "edx");
	check(arg_val & EFER_LMA,
	      "CR0.PG with LME and PAE from 32-bit code enters IA-32e mode");
	compat_vmcall();
	check(compat_eax == TIDAL_ABI_VERSION,
	      "VMCALL in compatibility mode ignores the upper halves");
	if (compat_eax != TIDAL_ABI_VERSION)
		printf("hostile32:   VMCALL returned %x\n", compat_eax);
	/* Leaving: PG off is allowed in compatibility mode. */
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
	check(!(rd_efer() & EFER_LMA), "CR0.PG off in compatibility mode "
				       "leaves IA-32e mode");
	check(wr(do_wrmsr_efer, 0) == NO_FAULT, "EFER.LME cleared");
	wr(do_cr4_write, 0);
}

int guest_main(const struct tidal_start_info *si)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = {sizeof(idt) - 1, (uintptr_t)idt};

	set_gate(6, ud_stub);
	set_gate(13, gp_stub);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	printf("hostile32: set up\n");
	pae_paging();
	enter_long_mode();
	printf("hostile32: %d probes, %d failures\n", probes, failures);
	return failures ? 1 : 0;
}
