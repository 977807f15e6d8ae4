/* SPDX-License-Identifier: MIT */
/*
 * The host's scheduling points (lib/platform.h): a call to the hook that
 * the interleaving explorer (tests/host/mmu/explore.c) installs, behind a
 * branch that is never taken in every other program.
 */
#ifndef TIDAL_TESTS_HOST_PLATFORM_SCHED_H
#define TIDAL_TESTS_HOST_PLATFORM_SCHED_H

extern void (*host_sched_hook)(enum sched_point point, const void *addr);

static inline void platform_sched_point(enum sched_point point,
					const void *addr)
{
	void (*hook)(enum sched_point, const void *) =
		__atomic_load_n(&host_sched_hook, __ATOMIC_RELAXED);

	if (__builtin_expect(hook != NULL, 0))
		hook(point, addr);
}

#endif
