/* SPDX-License-Identifier: MIT */
/*
 * Application processor start-up (see docs/boot.md, "SMP bring-up").
 *
 * ap_trampoline_start..ap_trampoline_end is copied by arch/x86/smp.c to a
 * free page below 1 MiB whose page number is the SIPI vector.  An AP
 * starts there in real mode with CS = page << 8, IP = 0, and:
 *
 *   1. loads ap_gdt (in the image, below 4 GiB, so a 32-bit base works)
 *      and enters 32-bit protected mode with a far jump into the image,
 *      which runs at its physical address;
 *   2. ap_entry32: caches on (CR0.CD/NW clear), PAE, CR3 = tidal's own
 *      page-table root (kept below 4 GiB for this mov), EFER.LME (and NXE
 *      as on the boot CPU), paging + WP, far jump to 64-bit code;
 *   3. ap_entry64: the stack the boot CPU allocated for this AP (with an
 *      unmapped guard page below it), then ap_main() in arch/x86/smp.c.
 *
 * The boot CPU starts one AP at a time and fills ap_boot_* before each
 * SIPI, so the APs share these variables without a race.
 */
#include "boot/entry64.h"

#define CR0_PE		(1 << 0)
#define CR0_NW		(1 << 29)
#define CR0_CD		(1 << 30)
#define CR0_PG		(1 << 31)
#define CR0_WP		(1 << 16)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080

#define AP_CODE64	0x08
#define AP_DATA		0x10
#define AP_CODE32	0x18

	.section .rodata
	.code16
	.balign 16
	.globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	(ap_gdt_ptr - ap_trampoline_start)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$AP_CODE32, $ap_entry32
	.balign 8
ap_gdt_ptr:
	.short	ap_gdt_end - ap_gdt - 1
	.long	ap_gdt
ap_trampoline_end:

	.balign 8
/*
 * Read-only once paging is on: every descriptor has its accessed bit set
 * already, or loading it would make the CPU write it (a #PF with WP).
 */
ap_gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: flat data */
	.quad	0x00cf9b000000ffff	/* 0x18: flat 32-bit code */
ap_gdt_end:

	.text
	.code32
ap_entry32:
	movl	$AP_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	movl	%eax, %cr0
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	ap_boot_cr3, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	ap_boot_efer, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_WP), %eax
	movl	%eax, %cr0
	ljmp	$AP_CODE64, $ap_entry64

	.code64
ap_entry64:
	enter_c_stack AP_DATA, "movq ap_boot_stack(%rip), %rsp"
	call	ap_main
1:	cli
	hlt
	jmp	1b

	.section .data
	.balign 8
	.globl ap_boot_stack, ap_boot_cr3, ap_boot_efer
ap_boot_stack:
	.quad	0
ap_boot_cr3:
	.long	0
ap_boot_efer:
	.long	0
