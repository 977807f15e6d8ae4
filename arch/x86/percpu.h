/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU data, reached through the GS base: %gs:0 holds a pointer to the
 * CPU's own struct percpu, so percpu_self() is a single load.  Only the
 * boot CPU exists for now; the array is sized for SMP.
 */
#ifndef TIDAL_ARCH_X86_PERCPU_H
#define TIDAL_ARCH_X86_PERCPU_H

#include "lib/compiler.h"

#define TIDAL_MAX_CPUS 64

struct percpu {
	struct percpu *self; /* must stay first: read as %gs:0 */
	unsigned int cpu_id;
	bool panicking;
};

extern struct percpu percpu_area[TIDAL_MAX_CPUS];
extern unsigned int percpu_online; /* CPUs set up so far */

static inline struct percpu *percpu_self(void)
{
	struct percpu *p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Point GS at CPU 0's area; the first thing tidal_main() does. */
void percpu_init_boot_cpu(void);

#endif
