// SPDX-License-Identifier: MIT
/*
 * Ticket spinlock.
 *
 * A locker takes a ticket by incrementing @next and waits until @owner
 * reaches it; unlock hands the lock to the next ticket.  Waiters are
 * therefore served first come, first served, and none can be overtaken.
 *
 * Only the holder writes @owner, so unlock is a plain release store.  The
 * acquire load that sees our ticket in @owner pairs with that store and
 * orders the critical sections one after the other.
 *
 * Trylock must take a ticket only if it would be served at once.  It
 * reads @owner == @next == t and then moves @next from t to t + 1 with a
 * compare-and-exchange.  If that succeeds nobody took ticket t in the
 * meantime, so @owner, which can never pass @next, is still t: the lock
 * is ours.
 */
#include "lib/spinlock.h"
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "lib/platform.h"

#ifdef TIDAL_DEBUG_LOCKS
static void debug_acquired(spinlock_t *l, struct lock_cpu *c)
{
	WRITE_ONCE(l->debug_owner, (uint32_t)(c - lock_cpus) + 1);
}

static void debug_check_not_mine(spinlock_t *l, struct lock_cpu *c)
{
	if (READ_ONCE(l->debug_owner) == (uint32_t)(c - lock_cpus) + 1)
		panic("spinlock %p: recursive locking on CPU %u", (void *)l,
		      (unsigned int)(c - lock_cpus));
}

static void debug_releasing(spinlock_t *l, struct lock_cpu *c)
{
	if (READ_ONCE(l->debug_owner) != (uint32_t)(c - lock_cpus) + 1)
		panic("spinlock %p: released by CPU %u, which does not hold it",
		      (void *)l, (unsigned int)(c - lock_cpus));
	WRITE_ONCE(l->debug_owner, 0);
}
#else
static inline void debug_acquired(spinlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_check_not_mine(spinlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_releasing(spinlock_t *l, struct lock_cpu *c)
{
}
#endif

void spin_lock_init(spinlock_t *l)
{
	WRITE_ONCE(l->next, 0);
	WRITE_ONCE(l->owner, 0);
	WRITE_ONCE(l->debug_owner, 0);
}

void spin_lock(spinlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();
	uint32_t ticket;

	platform_sched_point(SCHED_LOCK, l);
	debug_check_not_mine(l, c);
	/* Sequentially consistent: spin_lock() is a full barrier (header). */
	ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_SEQ_CST);
	while (load_acquire(&l->owner) != ticket)
		platform_relax();
	c->held++;
	debug_acquired(l, c);
}

bool spin_trylock(spinlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();
	uint32_t t = READ_ONCE(l->next);

	if (load_acquire(&l->owner) != t)
		return false;
	if (!__atomic_compare_exchange_n(&l->next, &t, t + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	c->held++;
	debug_acquired(l, c);
	return true;
}

void spin_unlock(spinlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();

	debug_releasing(l, c);
	BUG_ON(c->held == 0);
	c->held--;
	/* Only the holder writes owner: no read-modify-write needed. */
	store_release(&l->owner, READ_ONCE(l->owner) + 1);
	platform_sched_point(SCHED_UNLOCK, l);
}

/*
 * @owner is read first: @next only grows and never falls behind @owner, so
 * the difference cannot come out negative from two racing reads.
 */
bool spin_is_locked(spinlock_t *l)
{
	uint32_t owner = READ_ONCE(l->owner);

	return READ_ONCE(l->next) != owner;
}

bool spin_is_contended(spinlock_t *l)
{
	uint32_t owner = READ_ONCE(l->owner);

	return READ_ONCE(l->next) - owner > 1;
}

unsigned long spin_lock_irqsave(spinlock_t *l)
{
	unsigned long flags = platform_irq_save();

	spin_lock(l);
	return flags;
}

void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
	spin_unlock(l);
	platform_irq_restore(flags);
}

void spin_assert_held(spinlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	if (READ_ONCE(l->debug_owner) != platform_cpu_id() + 1)
		panic("spinlock %p: not held by CPU %u", (void *)l,
		      platform_cpu_id());
#endif
}

void spin_assert_not_held(spinlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	if (READ_ONCE(l->debug_owner) == platform_cpu_id() + 1)
		panic("spinlock %p: held by CPU %u", (void *)l,
		      platform_cpu_id());
#endif
}
