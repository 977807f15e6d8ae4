/* SPDX-License-Identifier: MIT */
/*
 * The CPUs tidal runs on.  CPUs are numbered densely from 0 (the boot
 * CPU) in the order they came online; each has an APIC ID.  An AP that
 * has nothing to do waits in tidal's idle loop until it is handed a
 * function to run.
 *
 * This is the interface the VMM (vCPUs bound to CPUs, remote TLB-flush
 * kicks), EBR (platform_membarrier) and the gdb stub (stopping the other
 * CPUs) build on.
 */
#ifndef TIDAL_ARCH_X86_SMP_H
#define TIDAL_ARCH_X86_SMP_H

#include "lib/compiler.h"

/* Interrupt vectors tidal uses for its own IPIs. */
#define VEC_IPI_KICK   0xf0 /* make a CPU leave guest mode; no other effect */
#define VEC_IPI_CALL   0xf1 /* wake an idle AP: smp_start_on() gave it work */
#define VEC_WAKE_TIMER 0xf2 /* the local APIC timer ending a sleep in HLT */
#define VEC_SPURIOUS   0xff

/* How many CPUs are online (1 before smp_init()). */
unsigned int smp_cpus_online(void);

/* The APIC ID of online CPU @cpu. */
uint32_t smp_apic_id(unsigned int cpu);

/*
 * Hand @fn(@arg) to the idle AP @cpu, which runs it and goes back to idle
 * when it returns.  Returns at once: 0, or -1 when @cpu is not an online
 * AP or is busy.
 */
int smp_start_on(unsigned int cpu, void (*fn)(void *), void *arg);

/* True while @cpu runs a function handed to it by smp_start_on(). */
bool smp_cpu_busy(unsigned int cpu);

/* A fixed-delivery IPI with @vector to online CPU @cpu. */
void smp_send_ipi(unsigned int cpu, uint8_t vector);

/* An NMI to online CPU @cpu (taken even with interrupts masked). */
void smp_send_nmi(unsigned int cpu);

/*
 * Additions for SMP bring-up (arch/x86/smp.c).
 *
 * State of the CPUs:
 *  - Every online CPU runs on tidal's page tables, with its own GDT, TSS,
 *    IST stacks, per-CPU block (GS base) and the shared IDT; its local
 *    APIC is enabled (spurious vector VEC_SPURIOUS).
 *  - When VMX is usable, every online CPU has passed the same capability
 *    check as the boot CPU and is in VMX root operation (its own VMXON
 *    region, no current VMCS) from smp_init() on.  A CPU whose
 *    capabilities differ is refused by name and left offline.
 *  - An idle AP waits in HLT with interrupts enabled.  smp_start_on()
 *    functions run with interrupts masked (IF = 0), like all tidal code,
 *    on the AP's own 16 KiB stack; they may enable interrupts themselves.
 *  - IPIs: VEC_IPI_KICK and VEC_IPI_CALL (and the timer's VEC_WAKE_TIMER)
 *    are EOI'd and otherwise ignored by their IDT handlers (the idle loop
 *    looks for work after every wake-up).  NMIs run smp_nmi_service().
 */

/*
 * Bring the APs up (boot CPU, after tsc_init(); before anything else uses
 * a second CPU).  Reads the MADT and the "cpus=" option (a bad value is
 * refused: message and power off), prints "tidal: cpus: N online (APIC
 * IDs ...)".  Falls back to the boot CPU alone, with one line saying why,
 * when there is no usable MADT or local APIC.
 */
struct boot_info;
void smp_init(const struct boot_info *bi);

/* True once VMX is on for every online CPU (false on a CPU without VMX). */
bool smp_vmx_on(void);

/*
 * NMI callbacks (the gdb stub, ...).  Every NMI, whoever sent it, runs
 * every registered callback in registration order, after tidal's own
 * membarrier acknowledgement; NMIs that arrive together may be merged
 * into one, so a callback checks its own flag and returns true if it
 * found work.  Callbacks run in NMI context on the IST NMI stack: no
 * locks that normal code takes, no faults (an IRET from a fault would
 * unblock NMIs on the shared IST stack), and no smp_send_*() (in xAPIC
 * mode the NMI may have interrupted this CPU between the two ICR writes
 * of another IPI).  A callback that waits (e.g. parks the CPU for a
 * debugger) must call smp_nmi_poll() in its wait loop, or a membarrier
 * on another CPU waits for it.  @tf is the interrupted frame, or NULL
 * when the NMI arrived as a VM exit (smp_nmi_vmexit()).  Up to
 * SMP_MAX_NMI_HANDLERS; returns 0, or -1 when the table is full.
 */
#define SMP_MAX_NMI_HANDLERS 4
struct trap_frame;
int smp_add_nmi_handler(bool (*fn)(struct trap_frame *tf));

/* Acknowledge pending membarrier rounds (see above). */
void smp_nmi_poll(void);

/*
 * Everything an NMI does on this CPU; the IDT's NMI handler calls it with
 * its frame, smp_nmi_vmexit() with NULL.
 */
void smp_nmi_service(struct trap_frame *tf);

/*
 * For a vCPU loop that took an NMI VM exit (NMI exiting is on, so the NMI
 * was consumed by the exit and NMIs stay blocked on this CPU until an
 * IRET): smp_nmi_service(), then an IRET to itself to unblock NMIs, so
 * that host code running before the next VM entry can take the next
 * membarrier or debugger NMI.  Then resume the guest.
 */
void smp_nmi_vmexit(void);

/*
 * For a vCPU loop that took an external-interrupt VM exit with the vector
 * acknowledged (acknowledge-interrupt-on-exit): EOI and service @vector
 * as the IDT handler would (VEC_IPI_KICK / VEC_IPI_CALL: nothing more);
 * then resume the guest.  Without acknowledge-on-exit, just enable
 * interrupts briefly and the IDT handler runs.
 */
void smp_service_vector(uint8_t vector);

/* VEC_IPI_KICK interrupts this CPU has taken (through either path above). */
uint64_t smp_kicks_taken(void);

#endif
