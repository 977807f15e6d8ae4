/* SPDX-License-Identifier: MIT */
/*
 * Descriptor tables (arch/x86/gdt.c, idt.c) and the exception path
 * (isr.S, traps.c).
 *
 * GDT: null, 64-bit code (GDT_CODE), data (GDT_DATA), the TSS.  The TSS
 * gives #DF, NMI and #MC their own stacks (IST 1-3) so they are handled
 * even when the current stack is broken.
 */
#ifndef TIDAL_ARCH_X86_DESC_H
#define TIDAL_ARCH_X86_DESC_H

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS	 0x18

#define IST_DF	1
#define IST_NMI 2
#define IST_MC	3

#ifndef __ASSEMBLY__
#include "lib/compiler.h"

/* Saved by arch/x86/isr.S, lowest address first. */
struct trap_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	/* Pushed by the CPU. */
	uint64_t rip, cs, rflags, rsp, ss;
};

/*
 * A handler for one vector; returns true if it dealt with the event (the
 * interrupted code resumes), false to fall through to the fatal report.
 */
typedef bool (*trap_handler_t)(struct trap_frame *tf);

/* GDT, TSS and IDT for the boot CPU. */
void desc_init_boot_cpu(void);

/*
 * Another CPU's own GDT, TSS and IST stacks: allocated by the boot CPU
 * (NULL when out of memory), loaded by the CPU itself with the shared IDT.
 */
struct cpu_tables;
struct cpu_tables *desc_alloc_cpu(void);
void desc_init_cpu(struct cpu_tables *t);
void trap_set_handler(unsigned int vector, trap_handler_t fn);

/* Print a frame-pointer backtrace starting at @rip with frame @rbp. */
void backtrace_print(uint64_t rip, uint64_t rbp);

/* Called from isr.S. */
void trap_dispatch(struct trap_frame *tf);
#endif

#endif
