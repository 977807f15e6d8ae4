/* SPDX-License-Identifier: MIT */
/*
 * Epoch-based reclamation: the RCU of tidal.  See lib/ebr.c for the
 * implementation and the memory-ordering argument.
 *
 * One global domain.  State is per CPU (platform_cpu_id()); in host
 * programs every thread that uses EBR is a registered "CPU".
 *
 *  - ebr_read_lock()/ebr_read_unlock(): a read-side section; nestable and
 *    cheap.  An object unlinked by a writer is not freed while any section
 *    that might have seen it is still open.
 *  - ebr_call(head, fn): run fn(head) once every section that was open at
 *    the time of the call has closed.  Safe to call inside a read-side
 *    section and with spinlocks/rwlocks held; never waits for a grace
 *    period in that case.
 *  - ebr_synchronize(): wait for a full grace period.  Must not be called
 *    inside a read-side section.
 *  - ebr_barrier(): wait until every callback queued before the call has
 *    run, whichever CPU queued it (also CPUs/threads that have gone).  Must
 *    not be called inside a read-side section.
 *
 * Callbacks run on any CPU, possibly inline in a later ebr_call() of the
 * CPU that queued them (so with that caller's locks held and inside its
 * read-side section): they must only release memory, not take locks, and
 * not call ebr_synchronize() or ebr_barrier().
 *
 * Bounded pending memory.  Each CPU counts the callbacks it has queued
 * that have not run yet.
 *  - From EBR_PENDING_SOFT on, ebr_call() tries (every EBR_PENDING_STEP
 *    calls) to advance the epoch without waiting and runs, inline, the
 *    callbacks whose grace period is over.
 *  - From EBR_PENDING_HARD on, if the caller is outside any read-side
 *    section, holds no tidal spinlock/rwlock and is not itself a callback,
 *    ebr_call() WAITS for a grace period and reclaims inline before it
 *    returns, so a writer flood cannot grow the backlog past the limit.
 *    Where waiting is not allowed it never waits: it reclaims what is
 *    already safe and counts an overflow (struct ebr_stats), and the
 *    backlog is bounded only by how soon the caller leaves its section or
 *    drops its locks.  Long walks that free in a loop should yield.
 */
#ifndef TIDAL_LIB_EBR_H
#define TIDAL_LIB_EBR_H

#include "lib/compiler.h"

struct ebr_head {
	struct ebr_head *next;
	void (*fn)(struct ebr_head *head);
};

#define EBR_PENDING_SOFT 256
#define EBR_PENDING_STEP 64
#define EBR_PENDING_HARD 4096

/*
 * Call once, before more than one CPU uses EBR.  Picks the read-side mode:
 * when the platform offers an asymmetric barrier (platform_membarrier),
 * readers use plain stores and grace-period scans pay for the barrier
 * instead; otherwise every outermost ebr_read_lock() executes a full
 * barrier.  Without ebr_init() EBR works in the second mode.
 * ebr_init_mode(false) forces it (tests of both modes).
 */
void ebr_init(void);
void ebr_init_mode(bool allow_asymmetric);
/* True if read-side sections run without a barrier of their own. */
bool ebr_asymmetric(void);

static inline void ebr_read_lock(void);
static inline void ebr_read_unlock(void);
bool ebr_in_read_section(void);

void ebr_call(struct ebr_head *head, void (*fn)(struct ebr_head *head));
void ebr_synchronize(void);
void ebr_barrier(void);

/*
 * Try once to advance the epoch and run the calling CPU's callbacks whose
 * grace period is over.  Never waits; fine anywhere ebr_call() is.  For
 * idle loops and yield points, so a CPU that queued a few callbacks and
 * went quiet does not keep them forever.
 */
void ebr_poll(void);

struct ebr_stats {
	uint64_t epoch;	      /* current global epoch */
	uint64_t queued;      /* callbacks queued, all CPUs */
	uint64_t run;	      /* callbacks run */
	uint64_t pending;     /* queued - run */
	uint64_t max_pending; /* largest per-CPU backlog seen */
	uint64_t advances;    /* successful epoch advances */
	uint64_t waits;	      /* ebr_call()s that waited (hard limit) */
	uint64_t overflows;   /* ebr_call()s past the hard limit, no wait */
};
void ebr_get_stats(struct ebr_stats *s);

/*
 * The read side is inline: what follows is the implementation, not API.
 */
#include "lib/lock_cpu.h"
#include "lib/platform.h"

/*
 * A CPU's read-side word, on a cache line of its own: the section depth in
 * the low EBR_NEST_BITS, the epoch its outermost section began in above
 * them; 0 outside any section.  One word, so that entering and leaving a
 * section is one load and one store.
 */
#define EBR_NEST_BITS 16
#define EBR_NEST_MASK ((1ull << EBR_NEST_BITS) - 1)

struct ebr_reader {
	uint64_t state;
} __aligned(64);

struct ebr_global {
	uint64_t epoch;	 /* the global epoch G */
	bool asymmetric; /* readers rely on platform_membarrier() */
} __aligned(64);

extern struct ebr_reader ebr_readers[SYNC_MAX_CPUS];
extern struct ebr_global ebr_global;

void ebr_bad_nesting(void) __noreturn;

static inline void ebr_read_lock(void)
{
	struct ebr_reader *r = &ebr_readers[platform_cpu_id()];
	uint64_t s;

	platform_sched_point(SCHED_EBR_ENTER, r);
	s = __atomic_load_n(&r->state, __ATOMIC_RELAXED);
	if (s & EBR_NEST_MASK) {
#ifdef TIDAL_DEBUG_LOCKS
		if (unlikely((s & EBR_NEST_MASK) == EBR_NEST_MASK))
			ebr_bad_nesting();
#endif
		__atomic_store_n(&r->state, s + 1, __ATOMIC_RELAXED);
		return;
	}
	s = __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE)
		    << EBR_NEST_BITS |
	    1;
	if (likely(__atomic_load_n(&ebr_global.asymmetric, __ATOMIC_RELAXED))) {
		/*
		 * Scanners run platform_membarrier() before they look at
		 * this word; only the compiler must keep the section's
		 * loads after the store.
		 */
		__atomic_store_n(&r->state, s, __ATOMIC_RELEASE);
		__asm__ __volatile__("" ::: "memory");
	} else {
		/* A sequentially consistent exchange is a full barrier. */
		__atomic_exchange_n(&r->state, s, __ATOMIC_SEQ_CST);
	}
}

static inline void ebr_read_unlock(void)
{
	struct ebr_reader *r = &ebr_readers[platform_cpu_id()];
	uint64_t s = __atomic_load_n(&r->state, __ATOMIC_RELAXED);

#ifdef TIDAL_DEBUG_LOCKS
	if (unlikely(!(s & EBR_NEST_MASK)))
		ebr_bad_nesting();
#endif
	if ((s & EBR_NEST_MASK) == 1)
		__atomic_store_n(&r->state, 0, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&r->state, s - 1, __ATOMIC_RELAXED);
	platform_sched_point(SCHED_EBR_EXIT, r);
}

#endif
