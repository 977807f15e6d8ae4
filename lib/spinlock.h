/* SPDX-License-Identifier: MIT */
/*
 * Fair (ticket) spinlock.  API contract; see lib/spinlock.c.
 */
#ifndef TIDAL_LIB_SPINLOCK_H
#define TIDAL_LIB_SPINLOCK_H

#include "lib/compiler.h"

typedef struct spinlock {
	uint32_t next;	/* next ticket to hand out */
	uint32_t owner; /* ticket now being served */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
bool spin_trylock(spinlock_t *l) __must_check;
void spin_unlock(spinlock_t *l);
bool spin_is_locked(spinlock_t *l);

/* Variants that also mask local interrupts (hypervisor code). */
unsigned long spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

#endif
