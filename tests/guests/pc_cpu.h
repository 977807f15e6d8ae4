/* SPDX-License-Identifier: MIT */
/*
 * CPU plumbing shared by the PC test kernels (apictest.c, irqtest.c,
 * cputable.c, pc_devices.c): MSRs, the I/O APIC's window, the local APIC (xAPIC
 * page or x2APIC MSRs, whichever is on), an IDT with 32-bit interrupt gates, a
 * flat GDT, HLT-based waits, and AP start-up by INIT-SIPI-SIPI through a
 * real-mode trampoline copied to PC_CPU_TRAMP.  A kernel that starts APs
 * defines ap_main(n): each AP calls it on its own 4 KiB stack (n = 1, 2, ...).
 */
#ifndef TIDAL_GUEST_PC_CPU_H
#define TIDAL_GUEST_PC_CPU_H

#include "lib/guest.h"

#define PC_CPU_APIC	     0xfee00000u
#define PC_CPU_TRAMP	     0x8000u
#define PC_CPU_MAX	     8
#define PC_CPU_MSR_APIC_BASE 0x1b

uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t v);
/* Is this CPU's local APIC in x2APIC mode? */
bool x2(void);
/* Local APIC register at xAPIC offset @off (x2APIC: the matching MSR). */
uint32_t lapic_rd(uint32_t off);
void lapic_wr(uint32_t off, uint32_t v);
uint32_t my_id(void);
/* An IPI: ICR2 (destination) then ICR (@lo), or one x2APIC MSR write. */
void send_ipi(uint32_t dest, uint32_t lo);

/* I/O APIC register @reg, through IOREGSEL and IOWIN. */
uint32_t ioapic_rd(uint32_t reg);
void ioapic_wr(uint32_t reg, uint32_t v);

/* Point IDT entry @vec at @fn (a 32-bit interrupt gate, selector 8). */
void set_gate(unsigned int vec, void (*fn)(void));
/* Load the flat GDT (code 8, data 0x10) and the IDT on this CPU. */
void load_tables(void);
/* Wait with STI;HLT until *@p reaches @n or about @cycles passed. */
bool wait_for(volatile uint32_t *p, uint32_t n, uint64_t cycles);
/* Spin (no HLT, interrupts as they are) the same way. */
bool spin_for(volatile uint32_t *p, uint32_t n, uint64_t cycles);

/* Start APs 1..@ncpus-1; true once @alive (counted by the APs) says so. */
bool start_aps(unsigned int ncpus, volatile uint32_t *alive);
void ap_main(uint32_t n);

/* An interrupt stub: save the registers, call @fn, IRET. */
#define PC_ISR(name, fn)                         \
	__asm__(".text\n"                        \
		".code32\n"                      \
		".globl " #name "\n" #name ":\n" \
		"pushal\n"                       \
		"cld\n"                          \
		"call " #fn "\n"                 \
		"popal\n"                        \
		"iret\n");                       \
	void name(void);                         \
	void fn(void)

#endif
