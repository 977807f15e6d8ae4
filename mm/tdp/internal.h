/* SPDX-License-Identifier: MIT */
/*
 * Shared internals of mm/tdp: page-table metadata, the one function that
 * changes an SPTE atomically, the one bookkeeping function, TLB-flush
 * batches and root iteration.
 */
#ifndef TIDAL_MM_TDP_INTERNAL_H
#define TIDAL_MM_TDP_INTERNAL_H

#include "lib/atomic.h"
#include "mm/tdp/iter.h"
#include "mm/tdp/tdp_mmu.h"

/*
 * Metadata of a non-root page-table page.  Kept outside the page (all 512
 * entries are needed) and found by the page's address through a small
 * hash in the VM, so removing a table needs no allocation.
 */
struct tdp_pt {
	struct tdp_pt *hash_next;
	spte_t *spt;
	struct ebr_head ebr;
};

/*
 * Every write of a live SPTE goes through one of these three, and each is
 * a scheduling point (lib/platform.h), so the interleaving explorer can
 * stop a thread right before it.
 *
 * Under the read lock an entry changes only by compare-and-exchange
 * (spte_try_cmpxchg), or by the owner of a FROZEN entry writing its final
 * value (spte_unfreeze: debug builds check that the entry still holds the
 * FROZEN its caller put there, so a plain store can never undo someone
 * else's change).  spte_xchg is for the write lock, where only the CPU's
 * A/D updates race, and for entries of a table already unlinked.
 */
static inline bool spte_try_cmpxchg(spte_t *sptep, spte_t *old, spte_t new)
{
	platform_sched_point(SCHED_SPTE, sptep);
	return try_cmpxchg(sptep, old, new);
}

static inline spte_t spte_xchg(spte_t *sptep, spte_t new)
{
	platform_sched_point(SCHED_SPTE, sptep);
	return xchg(sptep, new);
}

static inline void spte_unfreeze(spte_t *sptep, spte_t new)
{
	platform_sched_point(SCHED_SPTE, sptep);
#ifdef TIDAL_DEBUG_LOCKS
	{
		spte_t was = xchg(sptep, new);

		if (unlikely(!spte_is_frozen(was)))
			panic("SPTE %p: %#llx overwritten without "
			      "compare-and-exchange (expected FROZEN)",
			      (void *)sptep, (unsigned long long)was);
	}
#else
	__atomic_store_n(sptep, new, __ATOMIC_RELEASE);
#endif
}

/* pt.c */
struct tdp_pt *tdp_pt_alloc(struct tdp_mmu *mmu, int level);
/* Free a table that was never made reachable: no grace period needed. */
void tdp_pt_free_unused(struct tdp_mmu *mmu, struct tdp_pt *pt, int level);
/* Unhash a removed table and free it after a grace period. */
void tdp_pt_free_deferred(struct tdp_mmu *mmu, spte_t *spt, int level);
void tdp_pt_hash_init(struct tdp_mmu *mmu);

/*
 * A batch of changes that may need one TLB flush.  @requests counts the
 * reachable translations removed or reduced since the last flush.
 */
struct tdp_flush {
	uint64_t requests;
	bool reachable; /* false while working on an invalid root */
};

static inline void tdp_flush_init(struct tdp_flush *fl, bool reachable)
{
	fl->requests = 0;
	fl->reachable = reachable;
}

/* Flush now if the batch asked for it; count it.  Call inside EBR. */
void tdp_flush_commit(struct tdp_mmu *mmu, struct tdp_flush *fl);

/*
 * Bookkeeping for one SPTE change from @old to @new at @level (counts,
 * accessed/dirty propagation, flush requests, removal of a table that
 * @old pointed to).  @shared: mmu_lock is held for read.
 */
void tdp_handle_changed_spte(struct tdp_mmu *mmu, struct tdp_flush *fl,
			     uint64_t gfn, spte_t old, spte_t new, int level,
			     bool shared);

/*
 * Change the entry under @it from it->old_spte to @new with one
 * compare-and-exchange (mmu_lock held for read or write).  On success the
 * bookkeeping is done and it->old_spte becomes @new.  On failure
 * it->old_spte holds the value found and nothing changed: -EBUSY.
 */
int __must_check tdp_set_spte_atomic(struct tdp_mmu *mmu, struct tdp_flush *fl,
				     struct tdp_iter *it, spte_t new);

/*
 * Change the entry under @it to @new with mmu_lock held for write: nobody
 * but the CPU (setting A/D bits) writes SPTEs then, so an exchange is
 * enough and always succeeds.
 */
void tdp_set_spte_locked(struct tdp_mmu *mmu, struct tdp_flush *fl,
			 struct tdp_iter *it, spte_t new);

/*
 * Zap the entry under @it with mmu_lock held for read: freeze it, do the
 * bookkeeping (freeing any table below), flush, then clear it.  -EBUSY if
 * it changed meanwhile.
 */
int __must_check tdp_zap_spte_atomic(struct tdp_mmu *mmu, struct tdp_flush *fl,
				     struct tdp_iter *it);

/*
 * Yield point for long walks.  When the platform or a waiter asks, and
 * the walk has made progress: flush @fl if needed, leave the EBR section,
 * drop mmu_lock (read if @shared, else write), yield, take both back and
 * restart the iterator from its root.  The walk ends (it->valid = false)
 * if its root was invalidated meanwhile and it->stop_on_invalid is set.
 * Returns true if it yielded.
 */
bool tdp_iter_cond_yield(struct tdp_mmu *mmu, struct tdp_iter *it,
			 struct tdp_flush *fl, bool shared);

/* Root iteration (root.c).  Each returns the next root with a reference
 * and puts @prev; NULL at the end.  Caller holds mmu_lock. */
struct tdp_root *tdp_next_valid_root(struct tdp_mmu *mmu,
				     struct tdp_root *prev);

#define for_each_valid_root(mmu, root)                    \
	for (root = tdp_next_valid_root(mmu, NULL); root; \
	     root = tdp_next_valid_root(mmu, root))

/* Zap every leaf in [start, end) of @root at @min_level or above. */
bool tdp_zap_leafs(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t start,
		   uint64_t end, int min_level, bool can_yield,
		   struct tdp_flush *fl);
/*
 * Zap the table entry at @level covering @gfn in @root, freeing the table
 * below it (mmu_lock for write, inside EBR; flush @fl before leaving EBR).
 * True if there was a table to zap.
 */
bool tdp_mmu_zap_pt(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
		    int level, struct tdp_flush *fl);
/*
 * Remove write access from every leaf of @root in [start, end) (mmu_lock
 * for write, not inside EBR); the caller commits @fl.  Returns whether any
 * leaf lost it.
 */
bool tdp_wrprot_leafs(struct tdp_mmu *mmu, struct tdp_root *root,
		      uint64_t start, uint64_t end, struct tdp_flush *fl);
/* Zap a whole root (invalid, or being torn down) under the read lock. */
void tdp_zap_root(struct tdp_mmu *mmu, struct tdp_root *root, bool shared);

/* Free an unreferenced root and whatever tables it still holds. */
void tdp_root_free(struct tdp_mmu *mmu, struct tdp_root *root);

/*
 * Mirror roots (mirror.c).  tdp_set_spte_atomic and tdp_set_spte_locked
 * hand changes of a mirror SPTE to these; tdp_handle_changed_spte reports
 * every leaf or table that left a protected VM's tree through
 * tdp_mirror_removed_leaf / tdp_mirror_removed_table, so the guard drops
 * it too.
 */
int __must_check tdp_mirror_set_spte_atomic(struct tdp_mmu *mmu,
					    struct tdp_flush *fl,
					    struct tdp_iter *it, spte_t new);
void tdp_mirror_set_spte_locked(struct tdp_mmu *mmu, struct tdp_flush *fl,
				struct tdp_iter *it, spte_t new);
void tdp_mirror_removed_leaf(struct tdp_mmu *mmu, uint64_t gfn, spte_t old,
			     int level);
/* @level: of the entry that pointed to the (now empty) table. */
void tdp_mirror_removed_table(struct tdp_mmu *mmu, uint64_t gfn, int level);
/* The TLB flush of a protected VM, bracketed for the guard. */
void tdp_mirror_flush(struct tdp_mmu *mmu);
/* At VM teardown: free the mirror roots under the write lock. */
void tdp_mirror_teardown(struct tdp_mmu *mmu);

/* Does this leaf change need the guard to drop the old leaf? */
static inline bool tdp_leaf_change_drops(spte_t old, spte_t new, int level)
{
	return spte_is_leaf(old, level) &&
	       !(spte_is_leaf(new, level) && spte_phys(old) == spte_phys(new) &&
		 spte_perms(old) == spte_perms(new));
}

/* Accounting helpers. */
static inline void tdp_stat_add(uint64_t *ctr, int64_t delta)
{
	__atomic_add_fetch(ctr, (uint64_t)delta, __ATOMIC_RELAXED);
}

/*
 * Per-CPU counters (struct tdp_pcpu_stats): only the running CPU writes
 * its line, so a relaxed load and store make the update; the atomics only
 * keep the concurrent reader in tdp_mmu_get_stats() well defined.
 */
static inline struct tdp_pcpu_stats *tdp_pcpu(struct tdp_mmu *mmu)
{
	return &mmu->pcpu[platform_cpu_id()];
}

static inline void tdp_pcpu_add(uint64_t *ctr, int64_t delta)
{
	__atomic_store_n(ctr,
			 __atomic_load_n(ctr, __ATOMIC_RELAXED) +
				 (uint64_t)delta,
			 __ATOMIC_RELAXED);
}

static inline void tdp_leaves_add(struct tdp_mmu *mmu, int level,
				  int64_t delta)
{
	tdp_pcpu_add(&tdp_pcpu(mmu)->leaves[level], delta);
}

#endif
