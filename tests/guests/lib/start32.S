/* 32-bit guest entry: flat protected mode, paging off (docs/guest-abi.md). */
	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	movl	$stack_top, %esp
	xorl	%ebp, %ebp
	pushl	%ebx		/* start-info GPA */
	pushl	%eax		/* boot magic */
	call	guest_entry
1:	hlt
	jmp	1b

	.section .bss
	.balign 16
stack:
	.skip	16384
stack_top:
