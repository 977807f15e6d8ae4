/*
 * 64-bit guest entry: long mode, identity map (docs/guest-abi.md).  Every
 * vCPU starts here with its index in EDX and gets its own stack.
 */
#define GUEST_MAX_VCPUS 8
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cmpl	$GUEST_MAX_VCPUS, %edx
	jae	2f
	movl	%edx, %ecx
	incl	%ecx
	imull	$STACK_SIZE, %ecx
	leaq	stacks(%rip), %rsp
	addq	%rcx, %rsp
	xorl	%ebp, %ebp
	movl	%eax, %edi	/* boot magic */
	movq	%rbx, %rsi	/* start-info GPA */
				/* vCPU index already in EDX */
	call	guest_entry
1:	hlt
	jmp	1b
	/* More vCPUs than stacks: stop here (tidal reports the halt). */
2:	hlt
	jmp	2b

	.section .bss
	.balign 16
stacks:
	.skip	STACK_SIZE * GUEST_MAX_VCPUS
