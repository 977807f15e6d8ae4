/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's scheduling points (lib/platform.h): nothing.  Only host
 * test builds put the interleaving explorer behind them.
 */
#ifndef TIDAL_ARCH_X86_PLATFORM_SCHED_H
#define TIDAL_ARCH_X86_PLATFORM_SCHED_H

static inline void platform_sched_point(enum sched_point point,
					const void *addr)
{
	(void)point;
	(void)addr;
}

#endif
