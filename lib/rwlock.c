// SPDX-License-Identifier: MIT
/*
 * Reader-writer lock with a fair queue, in two flavours: queued (one
 * shared reader count) and per-CPU (one reader count per CPU).
 *
 * Queued flavour.  @cnts holds the number of readers in its upper bits
 * and two writer bits in its low byte: RW_LOCKED (a writer holds the
 * lock) and RW_WAITING (a writer is first in line and waiting for the
 * readers to leave).
 *
 * Fast paths.  A reader adds RW_READER and is done if no writer bit was
 * set.  A writer moves @cnts from 0 to RW_LOCKED.
 *
 * Slow path.  Anyone who cannot take the lock at once (a reader that saw
 * a writer bit, a writer that saw anything) queues on @queue, a ticket
 * spinlock, so slow-path lockers are served in arrival order.  Only the
 * CPU at the head of the queue competes for the lock itself:
 *  - a writer at the head sets RW_WAITING (once no other writer holds the
 *    lock), waits until the readers inside have drained, then turns
 *    RW_WAITING into RW_LOCKED;
 *  - a reader at the head adds its count and waits only for a writer that
 *    already holds the lock to release it.
 *
 * Why writers are not starved: once a writer has set RW_WAITING, every
 * newly arriving reader sees a writer bit, backs out and queues behind the
 * writer.  The readers already inside finish in bounded time, and then the
 * writer gets the lock.  Readers are not starved either: a reader queued
 * behind a writer is served as soon as that writer leaves, before any
 * writer that arrived after it.
 *
 * Per-CPU flavour.  Readers count themselves in @readers[platform_cpu_id()]
 * (their own cache line, so two CPUs reading never touch a common line);
 * @cnts holds only RW_LOCKED, set by a writer from the moment it
 * announces itself.  A reader increments its count and then looks at
 * @cnts; a writer sets RW_LOCKED and then looks at every count.  Both
 * sides use sequentially consistent operations, so at least one of them
 * sees the other: either the reader sees RW_LOCKED (and backs out: its
 * count goes back down and it queues), or the writer sees the count (and
 * waits for it to drop).  Every writer queues on @queue; a writer at the
 * head waits for the previous writer to unlock, announces itself, waits
 * for every count to reach 0 and leaves the queue holding the lock.  A
 * reader at the head waits for a writer holding the lock, then counts
 * itself in (no other writer can announce while the reader is the head).
 * The fairness argument is the queued flavour's: an announced writer
 * waits only for the readers already inside, a queued reader only for the
 * writers ahead of it.
 *
 * Ordering: lock operations use acquire and unlock operations release, so
 * a critical section sees everything done by the sections before it.
 */
#include "lib/rwlock.h"
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "lib/platform.h"

#define RW_LOCKED	0x1u
#define RW_WAITING	0x2u
#define RW_WMASK	0xffu
#define RW_READER_SHIFT 8
#define RW_READER	(1u << RW_READER_SHIFT)

static inline uint32_t this_cpu_tag(struct lock_cpu *c)
{
	return (uint32_t)(c - lock_cpus) + 1;
}

#ifdef TIDAL_DEBUG_LOCKS
static int debug_find_read(struct lock_cpu *c, rwlock_t *l)
{
	for (uint32_t i = 0; i < c->nread; i++)
		if (c->reads[i] == l)
			return (int)i;
	return -1;
}

static void debug_check_free_for_me(rwlock_t *l, struct lock_cpu *c)
{
	if (debug_find_read(c, l) >= 0)
		panic("rwlock %p: CPU %u already holds it for read", (void *)l,
		      this_cpu_tag(c) - 1);
	if (READ_ONCE(l->debug_owner) == this_cpu_tag(c))
		panic("rwlock %p: CPU %u already holds it for write", (void *)l,
		      this_cpu_tag(c) - 1);
}

static void debug_read_acquired(rwlock_t *l, struct lock_cpu *c)
{
	if (c->nread == LOCK_CPU_MAX_READ)
		panic("CPU %u holds more than %d rwlocks for read",
		      this_cpu_tag(c) - 1, LOCK_CPU_MAX_READ);
	c->reads[c->nread++] = l;
}

static void debug_read_releasing(rwlock_t *l, struct lock_cpu *c)
{
	int i = debug_find_read(c, l);

	if (i < 0)
		panic("rwlock %p: read-unlocked by CPU %u, which does not "
		      "hold it for read",
		      (void *)l, this_cpu_tag(c) - 1);
	c->reads[i] = c->reads[--c->nread];
}

static void debug_write_acquired(rwlock_t *l, struct lock_cpu *c)
{
	WRITE_ONCE(l->debug_owner, this_cpu_tag(c));
}

static void debug_write_releasing(rwlock_t *l, struct lock_cpu *c)
{
	if (READ_ONCE(l->debug_owner) != this_cpu_tag(c))
		panic("rwlock %p: write-unlocked by CPU %u, which does not "
		      "hold it for write",
		      (void *)l, this_cpu_tag(c) - 1);
	WRITE_ONCE(l->debug_owner, 0);
}
#else
static inline void debug_check_free_for_me(rwlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_read_acquired(rwlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_read_releasing(rwlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_write_acquired(rwlock_t *l, struct lock_cpu *c)
{
}

static inline void debug_write_releasing(rwlock_t *l, struct lock_cpu *c)
{
}
#endif

void rwlock_init(rwlock_t *l)
{
	WRITE_ONCE(l->cnts, 0);
	WRITE_ONCE(l->waiters, 0);
	spin_lock_init(&l->queue);
	WRITE_ONCE(l->debug_owner, 0);
	l->readers = NULL;
	l->readers_mem = NULL;
}

bool rwlock_init_percpu(rwlock_t *l)
{
	size_t line = sizeof(struct rwlock_reader);

	rwlock_init(l);
	l->readers_mem = platform_zalloc(platform_cpu_max() * line + line - 1);
	if (!l->readers_mem)
		return false;
	l->readers = (struct rwlock_reader *)ALIGN_UP((uintptr_t)l->readers_mem,
						      line);
	return true;
}

void rwlock_destroy(rwlock_t *l)
{
	BUG_ON(READ_ONCE(l->cnts) != 0);
	platform_free(l->readers_mem);
	l->readers = NULL;
	l->readers_mem = NULL;
}

/* ---- queued flavour ---- */

static void queued_read_lock_slow(rwlock_t *l)
{
	/* Give back the count taken by the fast path and join the queue. */
	__atomic_fetch_sub(&l->cnts, RW_READER, __ATOMIC_RELAXED);
	atomic_inc(&l->waiters);
	spin_lock(&l->queue);
	/*
	 * At the head of the queue no writer can be waiting (only the head
	 * sets RW_WAITING), so once our count is in, at most a writer that
	 * already holds the lock stands in the way.
	 */
	__atomic_fetch_add(&l->cnts, RW_READER, __ATOMIC_RELAXED);
	while (load_acquire(&l->cnts) & RW_LOCKED)
		platform_relax();
	spin_unlock(&l->queue);
	atomic_dec(&l->waiters);
}

static void queued_read_lock(rwlock_t *l)
{
	uint32_t cnts =
		__atomic_add_fetch(&l->cnts, RW_READER, __ATOMIC_ACQUIRE);

	if (unlikely(cnts & RW_WMASK))
		queued_read_lock_slow(l);
}

static bool queued_read_trylock(rwlock_t *l)
{
	uint32_t cnts = READ_ONCE(l->cnts);

	while (!(cnts & RW_WMASK)) {
		if (__atomic_compare_exchange_n(
			    &l->cnts, &cnts, cnts + RW_READER, false,
			    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static void queued_read_unlock(rwlock_t *l)
{
	__atomic_fetch_sub(&l->cnts, RW_READER, __ATOMIC_RELEASE);
}

static void queued_write_lock_slow(rwlock_t *l)
{
	uint32_t cnts;

	atomic_inc(&l->waiters);
	spin_lock(&l->queue);
	/* Announce ourselves once no other writer holds the lock. */
	cnts = READ_ONCE(l->cnts);
	for (;;) {
		if (cnts & RW_WMASK) {
			platform_relax();
			cnts = READ_ONCE(l->cnts);
			continue;
		}
		if (__atomic_compare_exchange_n(
			    &l->cnts, &cnts, cnts | RW_WAITING, false,
			    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	/* New readers now queue behind us; wait for the ones inside. */
	for (;;) {
		cnts = RW_WAITING;
		if (__atomic_compare_exchange_n(&l->cnts, &cnts, RW_LOCKED,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		platform_relax();
	}
	spin_unlock(&l->queue);
	atomic_dec(&l->waiters);
}

static bool queued_write_trylock(rwlock_t *l)
{
	uint32_t cnts = 0;

	return __atomic_compare_exchange_n(&l->cnts, &cnts, RW_LOCKED, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void queued_write_lock(rwlock_t *l)
{
	if (unlikely(!queued_write_trylock(l)))
		queued_write_lock_slow(l);
}

static void queued_write_unlock(rwlock_t *l)
{
	/* Readers at the head of the queue may have added their counts. */
	__atomic_fetch_sub(&l->cnts, RW_LOCKED, __ATOMIC_RELEASE);
}

/* ---- per-CPU flavour ---- */

static uint32_t *pcpu_count(rwlock_t *l)
{
	return &l->readers[platform_cpu_id()].count;
}

/*
 * Count ourselves in, then check for a writer (sequentially consistent
 * both, against pcpu_announce()).  Backs out and fails if one is there.
 */
static bool pcpu_read_enter(rwlock_t *l)
{
	uint32_t *count = pcpu_count(l);

	__atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
	if (likely(!__atomic_load_n(&l->cnts, __ATOMIC_SEQ_CST)))
		return true;
	__atomic_sub_fetch(count, 1, __ATOMIC_RELEASE);
	return false;
}

/* At the head of the queue: wait for a writer that holds the lock. */
static void pcpu_wait_writer(rwlock_t *l)
{
	while (load_acquire(&l->cnts))
		platform_relax();
}

static void pcpu_read_lock_slow(rwlock_t *l)
{
	atomic_inc(&l->waiters);
	spin_lock(&l->queue);
	/* Only the head announces a writer: none can come after this. */
	pcpu_wait_writer(l);
	__atomic_add_fetch(pcpu_count(l), 1, __ATOMIC_SEQ_CST);
	spin_unlock(&l->queue);
	atomic_dec(&l->waiters);
}

static void pcpu_read_lock(rwlock_t *l)
{
	if (unlikely(!pcpu_read_enter(l)))
		pcpu_read_lock_slow(l);
}

static void pcpu_read_unlock(rwlock_t *l)
{
	__atomic_sub_fetch(pcpu_count(l), 1, __ATOMIC_RELEASE);
}

/* From now on new readers back out and queue (see pcpu_read_enter). */
static void pcpu_announce(rwlock_t *l)
{
	__atomic_store_n(&l->cnts, RW_LOCKED, __ATOMIC_SEQ_CST);
}

static bool pcpu_readers_gone(rwlock_t *l)
{
	unsigned int cpu, n = platform_cpu_max();

	for (cpu = 0; cpu < n; cpu++)
		if (__atomic_load_n(&l->readers[cpu].count, __ATOMIC_SEQ_CST))
			return false;
	return true;
}

/* Wait for the readers inside, one CPU after the other. */
static void pcpu_wait_readers(rwlock_t *l)
{
	unsigned int cpu, n = platform_cpu_max();

	for (cpu = 0; cpu < n; cpu++)
		while (__atomic_load_n(&l->readers[cpu].count,
				       __ATOMIC_SEQ_CST))
			platform_relax();
}

static bool pcpu_write_trylock(rwlock_t *l)
{
	bool ok = false;

	if (!spin_trylock(&l->queue))
		return false;
	if (!load_acquire(&l->cnts)) {
		pcpu_announce(l);
		ok = pcpu_readers_gone(l);
		if (!ok)
			store_release(&l->cnts, 0); /* readers are inside */
	}
	spin_unlock(&l->queue);
	return ok;
}

/*
 * The queue first, only when nobody is in it (so no waiter is overtaken):
 * this takes a free lock without touching @waiters, and under heavy
 * reading it catches the moments when no reader is inside.
 */
static void pcpu_write_lock(rwlock_t *l)
{
	if (pcpu_write_trylock(l))
		return;
	atomic_inc(&l->waiters);
	spin_lock(&l->queue);
	pcpu_wait_writer(l);
	pcpu_announce(l);
	pcpu_wait_readers(l);
	spin_unlock(&l->queue);
	atomic_dec(&l->waiters);
}

static void pcpu_write_unlock(rwlock_t *l)
{
	store_release(&l->cnts, 0);
}

/* ---- the API: flavour, then the bookkeeping common to both ---- */

static bool is_percpu(rwlock_t *l)
{
	return l->readers != NULL;
}

void rwlock_read_lock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();

	platform_sched_point(SCHED_LOCK, l);
	debug_check_free_for_me(l, c);
	if (is_percpu(l))
		pcpu_read_lock(l);
	else
		queued_read_lock(l);
	c->held++;
	debug_read_acquired(l, c);
}

bool rwlock_read_trylock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();
	bool ok;

	debug_check_free_for_me(l, c);
	ok = is_percpu(l) ? pcpu_read_enter(l) : queued_read_trylock(l);
	if (!ok)
		return false;
	c->held++;
	debug_read_acquired(l, c);
	return true;
}

void rwlock_read_unlock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();

	debug_read_releasing(l, c);
	BUG_ON(c->held == 0);
	c->held--;
	if (is_percpu(l))
		pcpu_read_unlock(l);
	else
		queued_read_unlock(l);
	platform_sched_point(SCHED_UNLOCK, l);
}

void rwlock_write_lock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();

	platform_sched_point(SCHED_LOCK, l);
	debug_check_free_for_me(l, c);
	if (is_percpu(l))
		pcpu_write_lock(l);
	else
		queued_write_lock(l);
	c->held++;
	debug_write_acquired(l, c);
}

bool rwlock_write_trylock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();
	bool ok;

	debug_check_free_for_me(l, c);
	ok = is_percpu(l) ? pcpu_write_trylock(l) : queued_write_trylock(l);
	if (!ok)
		return false;
	c->held++;
	debug_write_acquired(l, c);
	return true;
}

void rwlock_write_unlock(rwlock_t *l)
{
	struct lock_cpu *c = lock_cpu_this();

	debug_write_releasing(l, c);
	BUG_ON(c->held == 0);
	c->held--;
	if (is_percpu(l))
		pcpu_write_unlock(l);
	else
		queued_write_unlock(l);
	platform_sched_point(SCHED_UNLOCK, l);
}

bool rwlock_contended(rwlock_t *l)
{
	return READ_ONCE(l->waiters) != 0;
}

void rwlock_assert_held_read(rwlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	struct lock_cpu *c = lock_cpu_this();

	if (debug_find_read(c, l) < 0)
		panic("rwlock %p: not held for read by CPU %u", (void *)l,
		      this_cpu_tag(c) - 1);
#endif
}

void rwlock_assert_held_write(rwlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	struct lock_cpu *c = lock_cpu_this();

	if (READ_ONCE(l->debug_owner) != this_cpu_tag(c))
		panic("rwlock %p: not held for write by CPU %u", (void *)l,
		      this_cpu_tag(c) - 1);
#endif
}

void rwlock_assert_held(rwlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	struct lock_cpu *c = lock_cpu_this();

	if (debug_find_read(c, l) < 0 &&
	    READ_ONCE(l->debug_owner) != this_cpu_tag(c))
		panic("rwlock %p: not held by CPU %u", (void *)l,
		      this_cpu_tag(c) - 1);
#endif
}

void rwlock_assert_not_held(rwlock_t *l)
{
#ifdef TIDAL_DEBUG_LOCKS
	debug_check_free_for_me(l, lock_cpu_this());
#endif
}
