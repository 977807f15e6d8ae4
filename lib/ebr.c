// SPDX-License-Identifier: MIT
/*
 * Epoch-based reclamation.  The read side is inline in lib/ebr.h.
 *
 * State
 * -----
 * A global epoch G counts up from 0 (64 bits; 48 of them are compared,
 * which takes years of advances to wrap).  Each CPU has a word @state: 0
 * outside a read-side section, (g << 16) | depth inside one, where g is
 * the value of G it read when its outermost section began.  Only the
 * outermost lock and unlock change g or the "inside" property.
 *
 * G may move from e to e + 1 only after a scan found every CPU either
 * outside a section or inside one that began in epoch e (ebr_try_advance).
 * ebr_call() tags a callback with the value e of G it reads after the
 * caller unlinked the object; the callback runs once G >= e + 2.
 *
 * Why a reader never sees freed memory
 * ------------------------------------
 * The argument is made for x86-TSO, the only machine tidal runs on (the
 * host tests run there too): every CPU sees stores in one global order,
 * loads are not reordered with loads nor stores with stores, but a load
 * may complete before an earlier store of the same CPU is visible.  A
 * full barrier (a locked instruction) makes all earlier stores visible
 * before any later load.
 *
 * Take an object X, unlinked by a writer's store U and then tagged e (the
 * writer executes a full barrier B_W between U and the read of G, so U is
 * visible to all before the tag is read: in ebr_call() that is taking the
 * per-CPU list lock, see lib/spinlock.h), and a reader R whose section S
 * began by reading G = g and storing (g << 16) | 1 to its @state (store
 * P), then loading pointers.
 *
 * 1. If R reached X, then g <= e.  R's loads do not pass its load of G;
 *    had it read g >= e + 1, written after the tag read and so after U
 *    was visible, its later loads would have seen U and not reached X.
 *
 * 2. X is freed only once G >= e + 2, so some scan, run with G = e + 1,
 *    found no CPU inside a section of another epoch.  That scanner read
 *    G = e + 1, so U was visible to all before it started.  Before reading
 *    the states it orders itself against every reader:
 *     - fenced mode: P is an exchange, a full barrier, and the scanner
 *       executes one (B_S) too.  Locked instructions are totally ordered.
 *       If P came before B_S, the scan sees P (or a later state of R).
 *       If B_S came first, U was visible before P, and so to every load
 *       of S.
 *     - asymmetric mode: P is a plain store, but the scanner calls
 *       platform_membarrier(), which returns only after every CPU has run
 *       a full barrier M (or was switched out, which is one).  If M came
 *       after P in R's program order, P is visible to the scan.  If M
 *       came before P, U was visible before M and so to every load of S.
 *    In the "U visible" cases S cannot reach X.  In the others the scan
 *    saw R inside S with epoch g <= e != e + 1, or saw it already out of
 *    S; it advances only in the latter case.  So S is over before G
 *    reaches e + 2, and only then can X be freed.
 *
 * The mode is chosen by ebr_init() before a second CPU uses EBR, so
 * readers and scanners always agree on it.
 *
 * Happens-before, for the freeing CPU (and for ThreadSanitizer): the
 * reader closes S with a release store of 0 to @state; the scanner reads
 * it with an acquire load and then advances G with a sequentially
 * consistent compare-and-exchange; the CPU that runs callbacks reads G
 * with acquire.  Everything S did therefore happens before the free.  A
 * scan that sees R already in a later section gets the same guarantee,
 * because that later @state value is also published with release
 * semantics after S closed.
 *
 * Callbacks
 * ---------
 * Each CPU keeps three batches, indexed by tag modulo 3, plus a list of
 * callbacks ready to run.  A batch whose tag e satisfies e + 2 <= G moves
 * to the ready list; tags on one CPU never go backwards, so when a new tag
 * lands on a slot whose batch has an older tag, that batch is at least
 * three epochs old and is ready too.  The lists are guarded by a per-CPU
 * spinlock, because ebr_barrier() also drains the lists of other CPUs (for
 * example of threads that have exited); it is taken with interrupts
 * masked, so an interrupt handler may queue callbacks too.  Ready
 * callbacks run with that lock dropped; @inflight tells ebr_barrier() that a
 * CPU is still running a batch it has taken off its lists.
 */
#include "lib/ebr.h"
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "lib/platform.h"
#include "lib/spinlock.h"

/* The bits of an epoch that fit in a reader's @state. */
#define EBR_EPOCH_MASK ((1ull << (64 - EBR_NEST_BITS)) - 1)

struct ebr_list {
	struct ebr_head *head, *last;
	uint64_t count;
};

struct ebr_batch {
	struct ebr_list list;
	uint64_t epoch;
};

struct ebr_cpu {
	bool in_callback;	   /* owner only */
	uint64_t membarrier_epoch; /* owner: G + 1 at last membarrier */
	uint64_t fence_word;	   /* target of the owner's full barriers */

	/* Callbacks, under @lock. */
	spinlock_t lock;
	struct ebr_batch batch[3];
	struct ebr_list ready;
	uint64_t pending; /* queued here and not run yet */
	uint64_t queued;  /* statistics */
	uint64_t run;
	uint64_t max_pending;
	uint32_t inflight;   /* batches taken off the lists, still running */
	uint64_t next_check; /* owner only: backlog that triggers reclaim */
} __aligned(128);

struct ebr_reader ebr_readers[SYNC_MAX_CPUS];
struct ebr_global ebr_global;
static struct ebr_cpu ebr_cpus[SYNC_MAX_CPUS];
static struct {
	uint64_t advances, waits, overflows;
} ebr_counters __aligned(128);

static inline struct ebr_cpu *this_cpu(void)
{
	unsigned int id = platform_cpu_id();

	BUG_ON(id >= SYNC_MAX_CPUS);
	return &ebr_cpus[id];
}

static inline unsigned int ebr_ncpus(void)
{
	return MIN(platform_cpu_max(), SYNC_MAX_CPUS);
}

/*
 * A full barrier: a sequentially consistent read-modify-write of a word
 * that only this CPU touches (a locked instruction on x86, no cache-line
 * traffic).  Used instead of a fence because ThreadSanitizer does not
 * model standalone fences.
 */
static inline void ebr_full_barrier(struct ebr_cpu *c)
{
	__atomic_fetch_add(&c->fence_word, 0, __ATOMIC_SEQ_CST);
}

/*
 * Platforms without an asymmetric barrier need not provide one (the
 * hypervisor, for now): these weak fallbacks say "not available".
 */
__attribute__((weak)) bool platform_membarrier_init(void)
{
	return false;
}

__attribute__((weak)) void platform_membarrier(void)
{
	panic("platform_membarrier() is not available");
}

void ebr_init_mode(bool allow_asymmetric)
{
	BUG_ON(platform_cpu_max() > SYNC_MAX_CPUS);
	if (allow_asymmetric && !ebr_asymmetric() && platform_membarrier_init())
		__atomic_store_n(&ebr_global.asymmetric, true,
				 __ATOMIC_SEQ_CST);
}

void ebr_init(void)
{
	ebr_init_mode(true);
}

bool ebr_asymmetric(void)
{
	return __atomic_load_n(&ebr_global.asymmetric, __ATOMIC_RELAXED);
}

void ebr_bad_nesting(void)
{
	panic("ebr_read_unlock() outside a read-side section, or sections "
	      "nested too deep");
}

bool ebr_in_read_section(void)
{
	return __atomic_load_n(&ebr_readers[platform_cpu_id()].state,
			       __ATOMIC_RELAXED) &
	       EBR_NEST_MASK;
}

static void assert_may_wait(const char *what)
{
#ifdef TIDAL_DEBUG_LOCKS
	struct ebr_cpu *c = this_cpu();

	if (ebr_in_read_section())
		panic("%s() inside an EBR read-side section", what);
	if (c->in_callback)
		panic("%s() from an EBR callback", what);
#endif
}

/*
 * One attempt to move G forward.  Returns true if G moved past the value
 * read at the start (by us or by someone else).
 */
static bool ebr_try_advance(struct ebr_cpu *self)
{
	uint64_t e = __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE);
	unsigned int n = ebr_ncpus();

	ebr_full_barrier(self);
	/*
	 * One platform_membarrier() after reading a given value of G
	 * serves every later scan against that value (see the argument
	 * above: what matters is that it ran after G reached e), so a CPU
	 * waiting for a reader does not issue one per retry.
	 */
	if (ebr_asymmetric() && self->membarrier_epoch != e + 1) {
		platform_membarrier();
		self->membarrier_epoch = e + 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t s = __atomic_load_n(&ebr_readers[i].state,
					     __ATOMIC_ACQUIRE);

		if ((s & EBR_NEST_MASK) &&
		    (s >> EBR_NEST_BITS) != (e & EBR_EPOCH_MASK))
			return false;
	}
	if (__atomic_compare_exchange_n(&ebr_global.epoch, &e, e + 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
		stat_inc(&ebr_counters.advances);
	return true;
}

/*
 * Wait until G >= target, advancing it ourselves.  A reader normally
 * leaves within a few scans; one that does not may be waiting for the CPU
 * we spin on (host threads outnumber cores), so after a short spin we
 * yield at every retry.
 */
#define EBR_WAIT_SPINS 32

static void ebr_wait_epoch(struct ebr_cpu *self, uint64_t target)
{
	unsigned int spins = 0;

	while (__atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE) < target) {
		if (ebr_try_advance(self)) {
			spins = 0;
			continue;
		}
		if (++spins > EBR_WAIT_SPINS)
			platform_yield();
		else
			platform_relax();
	}
}

static void list_append(struct ebr_list *l, struct ebr_head *h)
{
	h->next = NULL;
	if (l->count)
		l->last->next = h;
	else
		l->head = h;
	l->last = h;
	l->count++;
}

static void list_splice(struct ebr_list *dst, struct ebr_list *src)
{
	if (!src->count)
		return;
	if (dst->count)
		dst->last->next = src->head;
	else
		dst->head = src->head;
	dst->last = src->last;
	dst->count += src->count;
	src->head = src->last = NULL;
	src->count = 0;
}

/* Move batches whose grace period is over to the ready list.  Lock held. */
static void collect_ready(struct ebr_cpu *c, uint64_t g)
{
	for (int i = 0; i < 3; i++) {
		struct ebr_batch *b = &c->batch[i];

		if (b->list.count && b->epoch + 2 <= g)
			list_splice(&c->ready, &b->list);
	}
}

/*
 * Run the ready callbacks of CPU @c (maybe another CPU's) on this CPU.
 * Returns how many ran.
 */
static uint64_t run_ready(struct ebr_cpu *c, struct ebr_cpu *self)
{
	struct ebr_list todo = {0};
	struct ebr_head *h, *next;
	bool was_in_callback;
	unsigned long flags;

	flags = spin_lock_irqsave(&c->lock);
	collect_ready(c, __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE));
	list_splice(&todo, &c->ready);
	if (todo.count)
		c->inflight++;
	spin_unlock_irqrestore(&c->lock, flags);
	if (!todo.count)
		return 0;

	was_in_callback = self->in_callback;
	self->in_callback = true;
	for (h = todo.head; h; h = next) {
		next = h->next;
		h->fn(h);
	}
	self->in_callback = was_in_callback;

	flags = spin_lock_irqsave(&c->lock);
	c->pending -= todo.count;
	c->run += todo.count;
	c->inflight--;
	spin_unlock_irqrestore(&c->lock, flags);
	return todo.count;
}

void ebr_call(struct ebr_head *head, void (*fn)(struct ebr_head *head))
{
	struct ebr_cpu *c = this_cpu();
	struct ebr_batch *b;
	uint64_t e, pending;
	unsigned long flags;
	bool may_wait;

	BUG_ON(!head || !fn);
	head->fn = fn;
	/*
	 * Taking the lock is a full barrier: it is B_W, which orders the
	 * caller's unlink before the read of the tag.
	 */
	flags = spin_lock_irqsave(&c->lock);
	e = __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE);
	b = &c->batch[e % 3];
	if (b->list.count && b->epoch != e)
		list_splice(&c->ready, &b->list); /* at least 3 epochs old */
	b->epoch = e;
	list_append(&b->list, head);
	pending = ++c->pending;
	c->queued++;
	if (pending > c->max_pending)
		c->max_pending = pending;
	spin_unlock_irqrestore(&c->lock, flags);

	if (pending < MAX(c->next_check, (uint64_t)EBR_PENDING_SOFT))
		return;

	may_wait = pending >= EBR_PENDING_HARD && !ebr_in_read_section() &&
		   !c->in_callback && lock_cpu_held() == 0;
	if (may_wait) {
		stat_inc(&ebr_counters.waits);
		ebr_wait_epoch(c, e + 2);
	} else {
		ebr_try_advance(c);
	}
	run_ready(c, c);

	pending = READ_ONCE(c->pending);
	if (pending >= EBR_PENDING_HARD && !may_wait)
		stat_inc(&ebr_counters.overflows);
	c->next_check = pending + EBR_PENDING_STEP;
}

void ebr_poll(void)
{
	struct ebr_cpu *c = this_cpu();

	ebr_try_advance(c);
	run_ready(c, c);
}

void ebr_synchronize(void)
{
	struct ebr_cpu *c = this_cpu();
	uint64_t e;

	assert_may_wait("ebr_synchronize");
	/* Whatever the caller unlinked is ordered before the epoch read. */
	ebr_full_barrier(c);
	e = __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE);
	ebr_wait_epoch(c, e + 2);
}

void ebr_barrier(void)
{
	struct ebr_cpu *self = this_cpu();
	unsigned int n = ebr_ncpus();

	assert_may_wait("ebr_barrier");
	/*
	 * Every callback queued before this call carries a tag no newer
	 * than the epoch ebr_synchronize() starts from, so after it they are
	 * all ready; run them wherever they are queued.
	 */
	ebr_synchronize();
	for (unsigned int i = 0; i < n; i++)
		run_ready(&ebr_cpus[i], self);
	/* Wait for batches other CPUs took off their lists before we came. */
	for (unsigned int i = 0; i < n; i++) {
		struct ebr_cpu *c = &ebr_cpus[i];

		for (;;) {
			unsigned long flags;
			uint32_t busy;

			flags = spin_lock_irqsave(&c->lock);
			busy = c->inflight;
			spin_unlock_irqrestore(&c->lock, flags);
			if (!busy)
				break;
			platform_yield();
		}
	}
}

void ebr_get_stats(struct ebr_stats *s)
{
	unsigned int n = ebr_ncpus();

	*s = (struct ebr_stats){0};
	s->epoch = __atomic_load_n(&ebr_global.epoch, __ATOMIC_ACQUIRE);
	for (unsigned int i = 0; i < n; i++) {
		struct ebr_cpu *c = &ebr_cpus[i];
		unsigned long flags;

		flags = spin_lock_irqsave(&c->lock);
		s->queued += c->queued;
		s->run += c->run;
		s->pending += c->pending;
		s->max_pending = MAX(s->max_pending, c->max_pending);
		spin_unlock_irqrestore(&c->lock, flags);
	}
	s->advances = READ_ONCE(ebr_counters.advances);
	s->waits = READ_ONCE(ebr_counters.waits);
	s->overflows = READ_ONCE(ebr_counters.overflows);
}
