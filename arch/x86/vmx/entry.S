/*
 * VM entry and exit.
 *
 * int vmx_enter(struct guest_regs *regs, int launched)
 *
 * Saves the callee-saved host registers, records the stack pointer as the
 * VMCS host RSP, loads the guest's general registers from @regs and
 * executes VMLAUNCH (first entry) or VMRESUME.  A VM exit lands on
 * vmx_exit_entry with that stack, which stores the guest registers back
 * into @regs and returns 0 from vmx_enter.  If the entry instruction
 * itself fails, vmx_enter returns 1 (VMfailValid: see VMCS_INSN_ERROR)
 * or 2 (VMfailInvalid).
 */
#define VMCS_HOST_RSP 0x6c14

/* Offsets in struct guest_regs (vmm/vcpu.h). */
#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  56
#define R_R9  64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112

	.text
	.code64
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	pushq	%rbp
	movq	%rsp, %rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* @regs, found again at exit */

	movq	$VMCS_HOST_RSP, %rdx
	vmwrite	%rsp, %rdx
	jbe	.Lwrite_failed

	/* Flags from this test survive the MOVs below to pick the instruction. */
	testl	%esi, %esi
	movq	%rdi, %rax
	movq	R_RBX(%rax), %rbx
	movq	R_RCX(%rax), %rcx
	movq	R_RDX(%rax), %rdx
	movq	R_RSI(%rax), %rsi
	movq	R_RDI(%rax), %rdi
	movq	R_RBP(%rax), %rbp
	movq	R_R8(%rax), %r8
	movq	R_R9(%rax), %r9
	movq	R_R10(%rax), %r10
	movq	R_R11(%rax), %r11
	movq	R_R12(%rax), %r12
	movq	R_R13(%rax), %r13
	movq	R_R14(%rax), %r14
	movq	R_R15(%rax), %r15
	movq	R_RAX(%rax), %rax
	jnz	.Lresume
	vmlaunch
	jmp	.Lentry_failed
.Lresume:
	vmresume
.Lentry_failed:
.Lwrite_failed:
	/* CF=1: VMfailInvalid (2); otherwise ZF=1: VMfailValid (1). */
	movl	$1, %eax
	jnc	1f
	movl	$2, %eax
1:	addq	$8, %rsp
	jmp	.Lrestore

	.globl vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
	pushq	%rax
	movq	8(%rsp), %rax		/* @regs */
	movq	%rbx, R_RBX(%rax)
	movq	%rcx, R_RCX(%rax)
	movq	%rdx, R_RDX(%rax)
	movq	%rsi, R_RSI(%rax)
	movq	%rdi, R_RDI(%rax)
	movq	%rbp, R_RBP(%rax)
	movq	%r8, R_R8(%rax)
	movq	%r9, R_R9(%rax)
	movq	%r10, R_R10(%rax)
	movq	%r11, R_R11(%rax)
	movq	%r12, R_R12(%rax)
	movq	%r13, R_R13(%rax)
	movq	%r14, R_R14(%rax)
	movq	%r15, R_R15(%rax)
	popq	R_RAX(%rax)
	addq	$8, %rsp		/* drop @regs */
	xorl	%eax, %eax
.Lrestore:
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size vmx_enter, . - vmx_enter

	.section .note.GNU-stack, "", @progbits
