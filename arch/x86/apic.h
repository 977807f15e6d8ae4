/* SPDX-License-Identifier: MIT */
/*
 * The local APIC of the calling CPU (arch/x86/apic.c): xAPIC through its
 * MMIO page (mapped uncached by mm/paging.c), or x2APIC through MSRs when
 * the firmware left the boot CPU in x2APIC mode (every CPU then uses it).
 */
#ifndef TIDAL_ARCH_X86_APIC_H
#define TIDAL_ARCH_X86_APIC_H

#include "lib/compiler.h"

/* ICR delivery modes. */
#define APIC_DM_FIXED 0x000
#define APIC_DM_NMI   0x400
#define APIC_DM_INIT  0x500
#define APIC_DM_SIPI  0x600

/*
 * Boot CPU: find the APIC (IA32_APIC_BASE; @madt_base if the MADT gave
 * one), map it and enable it.  Returns 0 or -1 after printing why.
 */
int apic_init_boot(uint64_t madt_base);
/* Any other CPU, after apic_init_boot(): the same mode, enabled. */
void apic_init_ap(void);

uint32_t apic_id(void);
bool apic_x2apic_mode(void);
void apic_eoi(void);

/*
 * Send an IPI: @mode | @vector to @dest (an APIC ID).  Waits until the
 * previous IPI has left and for this one to be accepted (xAPIC delivery
 * status); returns false if the APIC never reported it sent.
 */
bool apic_send(uint32_t dest, uint32_t mode, uint8_t vector);
/* INIT level de-assert (required by older CPUs after INIT). */
void apic_send_init_deassert(uint32_t dest);

/*
 * This CPU's APIC timer in TSC-deadline mode: raise @vector when the TSC
 * reaches @tsc (0 disarms).  False when the CPU has no TSC-deadline
 * timer (or no usable APIC).
 */
bool apic_timer_deadline(uint8_t vector, uint64_t tsc);

#endif
