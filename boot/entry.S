/* SPDX-License-Identifier: MIT */
/*
 * The 32-bit entry point.  A multiboot2 loader jumps here in flat 32-bit
 * protected mode, paging off, EAX = magic, EBX = physical address of the
 * information block.  This code:
 *
 *   1. clears .bss and sets up COM1 so that it can complain;
 *   2. checks the loader magic, that the CPU has long mode and that the
 *      loader reports enough memory, printing a clear message and halting
 *      otherwise;
 *   3. builds boot page tables mapping the low 4 GiB twice, at 0 (where
 *      the image runs) and at DIRECT_MAP_BASE (so C can reach the loader's
 *      data through phys_to_virt() before mm/paging.c builds the real
 *      tables), with 2 MiB pages;
 *   4. enables PAE, long mode, NX (when present), paging and write
 *      protection, and jumps to 64-bit code, which calls
 *      tidal_main(magic, mbi_phys).
 */
#include "boot/mb2.h"
#include "boot/entry64.h"

#define COM1		0x3f8
#define BOOT_STACK_SIZE	16384
#define PTE_P		0x1
#define PTE_W		0x2
#define PTE_PS		0x80
#define CR0_PG		(1 << 31)
#define CR0_WP		(1 << 16)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)

	.section .boot.text, "ax"
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movl	%eax, %ebp
	movl	%ebx, %esi

	/* Clear .bss (the loader should have, but be sure). */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl

	movl	%ebp, boot_magic
	movl	%esi, boot_mbi_phys
	movl	$boot_stack_top, %esp

	call	serial_init32

	cmpl	$MB2_BOOTLOADER_MAGIC, %ebp
	jne	not_multiboot2

	/* CPUID exists when EFLAGS.ID can be toggled. */
	pushfl
	popl	%eax
	movl	%eax, %ecx
	xorl	$(1 << 21), %eax
	pushl	%eax
	popfl
	pushfl
	popl	%eax
	pushl	%ecx
	popfl
	cmpl	%eax, %ecx
	je	no_long_mode

	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	testl	$(1 << 29), %edx
	jz	no_long_mode
	pushl	%edx			/* keep: bit 20 is NX */

	call	check_memory32

	call	build_boot_page_tables
	popl	%ebx

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4

	movl	$boot_pml4, %eax
	movl	%eax, %cr3

	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	testl	$(1 << 20), %ebx
	jz	1f
	orl	$EFER_NXE, %eax
1:	wrmsr

	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_WP), %eax
	movl	%eax, %cr0

	lgdt	boot_gdt_ptr
	ljmp	$0x08, $long_mode_entry

/* Halt forever after a fatal message. */
halt32:
	cli
	hlt
	jmp	halt32

not_multiboot2:
	movl	$msg_not_mb2, %esi
	call	puts32
	movl	%ebp, %eax
	call	puthex32
	movl	$msg_not_mb2_tail, %esi
	call	puts32
	jmp	halt32

no_long_mode:
	movl	$msg_no_lm, %esi
	call	puts32
	jmp	halt32

/*
 * Sum the usable entries of the memory map tag (in KiB, saturating) and
 * insist on enough memory.  (The basic memory tag is no good for this:
 * under UEFI, GRUB derives it from the first hole above 1 MiB.)  A block
 * without a memory map passes here; tidal_main checks again.  Every step
 * is bounded by the block's total size; a tag size below 8 or an entry
 * size below 24 stops the walk.
 */
check_memory32:
	movl	boot_mbi_phys, %esi
	movl	(%esi), %edx
	addl	%esi, %edx		/* edx = end of block */
	addl	$8, %esi		/* first tag */
1:	leal	8(%esi), %eax
	cmpl	%edx, %eax
	ja	5f
	movl	(%esi), %eax		/* type */
	movl	4(%esi), %ecx		/* size */
	cmpl	$MB2_TAG_END, %eax
	je	5f
	cmpl	$8, %ecx
	jb	5f
	movl	%edx, %eax
	subl	%esi, %eax
	cmpl	%eax, %ecx		/* tag must fit in the block */
	ja	5f
	cmpl	$MB2_TAG_MMAP, (%esi)
	je	3f
2:	addl	$7, %ecx
	andl	$~7, %ecx
	addl	%ecx, %esi
	jmp	1b

	/* Memory map: ecx = tag size; walk entries, sum usable KiB in edi. */
3:	cmpl	$16, %ecx
	jb	5f
	movl	8(%esi), %ebx		/* entry size */
	cmpl	$24, %ebx
	jb	5f
	leal	(%esi, %ecx), %edx	/* edx = end of tag */
	addl	$16, %esi
	xorl	%edi, %edi
4:	leal	(%esi, %ebx), %eax
	cmpl	%edx, %eax
	ja	6f
	cmpl	$1, 16(%esi)		/* usable RAM */
	jne	7f
	cmpl	$0, 12(%esi)		/* 4 GiB or more in one entry */
	jne	5f
	movl	8(%esi), %eax
	shrl	$10, %eax
	addl	%eax, %edi
	jc	5f			/* more than 4 TiB: plenty */
7:	addl	%ebx, %esi
	jmp	4b
6:	cmpl	$(TIDAL_MIN_MEM_MIB * 1024), %edi
	jb	not_enough_memory
5:	ret

not_enough_memory:
	movl	$msg_no_mem, %esi
	call	puts32
	jmp	halt32

/* boot_pml4[0] and [256] -> boot_pdpt; boot_pdpt[0..3] -> 4 PDs of 2 MiB pages. */
build_boot_page_tables:
	movl	$boot_pdpt, %eax
	orl	$(PTE_P | PTE_W), %eax
	movl	%eax, boot_pml4
	movl	%eax, boot_pml4 + 256 * 8

	movl	$boot_pd, %eax
	orl	$(PTE_P | PTE_W), %eax
	xorl	%ecx, %ecx
1:	movl	%eax, boot_pdpt(, %ecx, 8)
	addl	$4096, %eax
	incl	%ecx
	cmpl	$4, %ecx
	jb	1b

	movl	$(PTE_P | PTE_W | PTE_PS), %eax
	xorl	%ecx, %ecx
2:	movl	%eax, boot_pd(, %ecx, 8)
	addl	$0x200000, %eax
	incl	%ecx
	cmpl	$2048, %ecx
	jb	2b
	ret

/* COM1: 115200 baud, 8N1, FIFOs on. */
serial_init32:
	movw	$(COM1 + 1), %dx
	xorb	%al, %al
	outb	%al, %dx		/* no interrupts */
	movw	$(COM1 + 3), %dx
	movb	$0x80, %al
	outb	%al, %dx		/* DLAB on */
	movw	$(COM1 + 0), %dx
	movb	$1, %al
	outb	%al, %dx		/* divisor 1 = 115200 */
	movw	$(COM1 + 1), %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$(COM1 + 3), %dx
	movb	$0x03, %al
	outb	%al, %dx		/* 8N1, DLAB off */
	movw	$(COM1 + 2), %dx
	movb	$0xc7, %al
	outb	%al, %dx
	movw	$(COM1 + 4), %dx
	movb	$0x03, %al
	outb	%al, %dx
	ret

/* Print the character in %al on COM1 and port 0xE9. Clobbers %edx. */
putc32:
	pushl	%ecx
	movb	%al, %ah
	movw	$(COM1 + 5), %dx
	movl	$100000, %ecx		/* do not hang on a missing UART */
1:	inb	%dx, %al
	testb	$0x20, %al
	jnz	2f
	loop	1b
2:	movb	%ah, %al
	movw	$COM1, %dx
	outb	%al, %dx
	outb	%al, $0xe9
	popl	%ecx
	ret

/* Print the NUL-terminated string at %esi. */
puts32:
	lodsb
	testb	%al, %al
	jz	1f
	call	putc32
	jmp	puts32
1:	ret

/* Print %eax as 0x followed by 8 hex digits. */
puthex32:
	movl	%eax, %ebx
	movb	$'0', %al
	call	putc32
	movb	$'x', %al
	call	putc32
	movl	$8, %ecx
1:	roll	$4, %ebx
	movl	%ebx, %eax
	andl	$0xf, %eax
	movb	hex_digits(%eax), %al
	pushl	%ecx
	call	putc32
	popl	%ecx
	loop	1b
	ret

	.code64
long_mode_entry:
	enter_c_stack 0x10, "leaq boot_stack_top(%rip), %rsp"
	movl	boot_magic(%rip), %edi
	movl	boot_mbi_phys(%rip), %esi
	call	tidal_main
1:	cli
	hlt
	jmp	1b
	.size _start, . - _start

	.section .rodata
hex_digits:
	.ascii	"0123456789abcdef"
msg_not_mb2:
	.asciz	"\r\ntidal: not started by a multiboot2 boot loader (boot magic "
msg_not_mb2_tail:
	.asciz	", want 0x36d76289); boot tidal with GRUB's 'multiboot2' command. Halting.\r\n"
msg_no_lm:
	.asciz	"\r\ntidal: this CPU has no 64-bit long mode; tidal needs an x86-64 CPU. Halting.\r\n"
msg_no_mem:
	.asciz	"\r\ntidal: not enough memory: the memory map has less than 16 MiB usable; tidal needs at least 16 MiB. Halting.\r\n"

	.balign 8
boot_gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short	boot_gdt_end - boot_gdt - 1
	.long	boot_gdt

	.section .data
	.balign 4
	.globl boot_magic, boot_mbi_phys
boot_magic:
	.long	0
boot_mbi_phys:
	.long	0

	.section .bss
	.balign 4096
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4 * 4096
/* Left unmapped by mm/paging.c: a stack overflow faults (and ends as #DF). */
boot_stack_guard:
	.skip	4096
boot_stack_bottom:
	.skip	BOOT_STACK_SIZE
boot_stack_top:
