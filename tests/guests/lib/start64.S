/* 64-bit guest entry: long mode, identity map (docs/guest-abi.md). */
	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	leaq	stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	movl	%eax, %edi	/* boot magic */
	movq	%rbx, %rsi	/* start-info GPA */
	call	guest_entry
1:	hlt
	jmp	1b

	.section .bss
	.balign 16
stack:
	.skip	16384
stack_top:
