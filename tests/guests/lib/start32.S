/*
 * 32-bit guest entry: flat protected mode, paging off (docs/guest-abi.md).
 * Every vCPU starts here with its index in EDX and gets its own stack.
 */
#define GUEST_MAX_VCPUS 8
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cmpl	$GUEST_MAX_VCPUS, %edx
	jae	2f
	movl	%edx, %ecx
	incl	%ecx
	imull	$STACK_SIZE, %ecx
	leal	stacks(%ecx), %esp
	xorl	%ebp, %ebp
	pushl	%edx		/* vCPU index */
	pushl	%ebx		/* start-info GPA */
	pushl	%eax		/* boot magic */
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
