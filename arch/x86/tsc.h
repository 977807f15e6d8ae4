/* SPDX-License-Identifier: MIT */
/*
 * Time from the TSC (arch/x86/tsc.c).  The frequency comes from CPUID leaf
 * 0x15 when the CPU enumerates it fully, else from a 10 ms measurement
 * against PIT channel 2.
 */
#ifndef TIDAL_ARCH_X86_TSC_H
#define TIDAL_ARCH_X86_TSC_H

#include "lib/compiler.h"

void tsc_init(void);
uint64_t tsc_hz(void);
/* Nanoseconds since tsc_init(). */
uint64_t tsc_ns(void);
/* Spin for at least @us microseconds (any CPU, after tsc_init()). */
void tsc_delay_us(uint64_t us);

#endif
