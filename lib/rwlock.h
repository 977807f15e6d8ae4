/* SPDX-License-Identifier: MIT */
/*
 * Reader-writer lock, the mmu_lock of tidal.  See lib/rwlock.c for the
 * implementation and its fairness argument.
 *
 * Two flavours behind one API, chosen at init:
 *  - queued (rwlock_init, RWLOCK_INIT): one shared word counts readers;
 *    small (24 bytes), but every reader writes the same cache line, so
 *    readers on different CPUs slow each other down;
 *  - per-CPU (rwlock_init_percpu): each CPU counts its readers on its own
 *    cache line, so the read side scales; taking it for write scans one
 *    line per CPU, and the lines cost 64 bytes x platform_cpu_max()
 *    (4 KiB with 64 CPUs).  A read lock must be released on the CPU that
 *    took it.  Used for mmu_lock, where faults read-lock it from every
 *    vCPU.
 *
 * Many readers or one writer; a waiting writer is never starved by a
 * stream of readers, and waiters that cannot take the lock at once are
 * served in arrival order.  rwlock_contended() tells a long walk that
 * someone is waiting, so it can drop the lock, relax and take it again.
 *
 * The lock is not recursive, not even for readers (a reader that retakes
 * the lock behind a waiting writer would deadlock): debug builds panic on
 * it.
 *
 * The assertions are active in debug builds (TIDAL_DEBUG_LOCKS) and in
 * every host test; elsewhere they compile to nothing.  "Held" means held
 * by the calling CPU (thread, in host programs).
 */
#ifndef TIDAL_LIB_RWLOCK_H
#define TIDAL_LIB_RWLOCK_H

#include "lib/compiler.h"
#include "lib/spinlock.h"

/* A CPU's reader count in a per-CPU rwlock: one cache line each. */
struct rwlock_reader {
	uint32_t count;
} __aligned(64);

typedef struct rwlock {
	uint32_t cnts;	  /* readers << RW_READER_SHIFT | writer bits */
	uint32_t waiters; /* CPUs in the slow path (queued or queueing) */
	spinlock_t queue; /* orders slow-path lockers, readers and writers */
	uint32_t debug_owner; /* writer's CPU id + 1 (debug builds) */
	/* Per-CPU flavour: readers are counted here, not in @cnts. */
	struct rwlock_reader *readers; /* NULL: queued flavour */
	void *readers_mem;	       /* the allocation @readers is in */
} rwlock_t;

#define RWLOCK_INIT                                \
	{                                          \
		0, 0, SPINLOCK_INIT, 0, NULL, NULL \
	}

/* Queued flavour; never fails, needs no rwlock_destroy(). */
void rwlock_init(rwlock_t *l);
/* Per-CPU flavour; false if memory runs out.  Free with rwlock_destroy(). */
bool rwlock_init_percpu(rwlock_t *l) __must_check;
/* Free what init allocated (the lock must not be held). */
void rwlock_destroy(rwlock_t *l);

void rwlock_read_lock(rwlock_t *l);
void rwlock_read_unlock(rwlock_t *l);
bool rwlock_read_trylock(rwlock_t *l) __must_check;

void rwlock_write_lock(rwlock_t *l);
void rwlock_write_unlock(rwlock_t *l);
bool rwlock_write_trylock(rwlock_t *l) __must_check;

/* Someone is waiting for the lock: a holder should yield soon. */
bool rwlock_contended(rwlock_t *l);

/* Lock-rule checks for the calling CPU/thread (debug builds only). */
void rwlock_assert_held_read(rwlock_t *l);
void rwlock_assert_held_write(rwlock_t *l);
void rwlock_assert_held(rwlock_t *l); /* read or write */
void rwlock_assert_not_held(rwlock_t *l);

#endif
