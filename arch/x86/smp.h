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
#define VEC_IPI_KICK 0xf0 /* make a CPU leave guest mode; no other effect */
#define VEC_IPI_CALL 0xf1 /* run the function smp_call() queued */
#define VEC_SPURIOUS 0xff

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

#endif
