// SPDX-License-Identifier: MIT
/*
 * Per-CPU lock bookkeeping; see lib/lock_cpu.h.
 */
#include "lib/lock_cpu.h"
#include "lib/platform.h"

struct lock_cpu lock_cpus[SYNC_MAX_CPUS];

struct lock_cpu *lock_cpu_this(void)
{
	unsigned int id = platform_cpu_id();

	BUG_ON(id >= SYNC_MAX_CPUS);
	return &lock_cpus[id];
}

unsigned int lock_cpu_held(void)
{
	return lock_cpu_this()->held;
}
