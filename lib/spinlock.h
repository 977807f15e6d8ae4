/* SPDX-License-Identifier: MIT */
/*
 * Fair (ticket) spinlock.  See lib/spinlock.c.
 *
 * Waiters are served in the order they arrived.  spin_lock() is also a
 * full memory barrier: it takes its ticket with a sequentially consistent
 * read-modify-write (a locked instruction on x86), which orders every
 * earlier store before every later load; EBR relies on that.  The lock is
 * not recursive: debug builds (TIDAL_DEBUG_LOCKS) panic when a CPU takes a
 * lock it already holds, or releases one it does not hold.
 */
#ifndef TIDAL_LIB_SPINLOCK_H
#define TIDAL_LIB_SPINLOCK_H

#include "lib/compiler.h"

typedef struct spinlock {
	uint32_t next;	      /* next ticket to hand out */
	uint32_t owner;	      /* ticket now being served */
	uint32_t debug_owner; /* holder's CPU id + 1, 0 if free (debug) */
} spinlock_t;

#define SPINLOCK_INIT   \
	{               \
		0, 0, 0 \
	}

void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
bool spin_trylock(spinlock_t *l) __must_check;
void spin_unlock(spinlock_t *l);
/* Someone holds the lock (not necessarily the caller). */
bool spin_is_locked(spinlock_t *l);
/* Someone holds the lock and someone else is waiting for it. */
bool spin_is_contended(spinlock_t *l);

/* Variants that also mask local interrupts (hypervisor code). */
unsigned long spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

/*
 * Lock-rule checks for the calling CPU (debug builds only; elsewhere they
 * compile to nothing).
 */
void spin_assert_held(spinlock_t *l);
void spin_assert_not_held(spinlock_t *l);

#endif
