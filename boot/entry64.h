/* SPDX-License-Identifier: MIT */
/*
 * Shared by the two ways into 64-bit code: the boot CPU's (boot/entry.S)
 * and the APs' (boot/trampoline.S).  Assembly only.
 */
#ifndef TIDAL_BOOT_ENTRY64_H
#define TIDAL_BOOT_ENTRY64_H

/*
 * Flat data segments from selector \sel, FS and GS null (GS gets its base
 * from the per-CPU set-up in C); then the stack at the 8 bytes at \top,
 * with a zero return address and frame pointer so that every backtrace
 * ends there.
 */
	.macro enter_c_stack sel, top
	movl	$\sel, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	\top
	pushq	$0
	xorl	%ebp, %ebp
	.endm

#endif
