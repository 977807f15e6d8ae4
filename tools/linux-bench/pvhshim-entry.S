/* pvhshim's multiboot (v1) header and entry: a stack, shim_main(EAX, EBX). */
	.section .mbhdr, "a"
	.balign 4
	.long 0x1badb002
	.long 0x00000003
	.long -(0x1badb002 + 0x00000003)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call shim_main
1:	hlt
	jmp 1b

	.bss
	.balign 16
	.skip 16384
stack_top:
