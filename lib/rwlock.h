/* SPDX-License-Identifier: MIT */
/*
 * Reader-writer lock, the mmu_lock of tidal.  See lib/rwlock.c for the
 * implementation and its fairness argument.
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

typedef struct rwlock {
	uint32_t cnts;	  /* readers << RW_READER_SHIFT | writer bits */
	uint32_t waiters; /* CPUs in the slow path (queued or queueing) */
	spinlock_t queue; /* orders slow-path lockers, readers and writers */
	uint32_t debug_owner; /* writer's CPU id + 1 (debug builds) */
} rwlock_t;

#define RWLOCK_INIT                    \
	{                              \
		0, 0, SPINLOCK_INIT, 0 \
	}

void rwlock_init(rwlock_t *l);

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
