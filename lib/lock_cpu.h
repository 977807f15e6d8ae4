/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU bookkeeping shared by the spinlock and the rwlock.
 *
 * Every CPU (a registered thread in host programs) counts the tidal locks
 * it holds, in all builds: EBR reads the count to decide whether it may
 * wait for a grace period (waiting while holding a lock that a reader may
 * be spinning on would deadlock).  Debug builds (TIDAL_DEBUG_LOCKS) also
 * remember which rwlocks the CPU holds for read, so that
 * rwlock_assert_held_read() asks "held by me", not "held by someone".
 */
#ifndef TIDAL_LIB_LOCK_CPU_H
#define TIDAL_LIB_LOCK_CPU_H

#include "lib/compiler.h"

/* Upper bound on platform_cpu_max() for the static per-CPU arrays. */
#define SYNC_MAX_CPUS 256

/* Read locks one CPU may hold at once when their owners are tracked. */
#define LOCK_CPU_MAX_READ 8

struct rwlock;

struct lock_cpu {
	uint32_t held;	/* tidal locks held now (spin + rw) */
	uint32_t nread; /* entries in reads[] (debug builds) */
	struct rwlock *reads[LOCK_CPU_MAX_READ];
} __aligned(128);

extern struct lock_cpu lock_cpus[SYNC_MAX_CPUS];

/* The calling CPU's bookkeeping. */
struct lock_cpu *lock_cpu_this(void);

/* Number of tidal spinlocks and rwlocks the calling CPU holds. */
unsigned int lock_cpu_held(void);

#endif
