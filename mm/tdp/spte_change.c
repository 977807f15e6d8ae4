// SPDX-License-Identifier: MIT
/*
 * Changing SPTEs: the single atomic setter, the single bookkeeping
 * function, removal of whole tables, TLB-flush batches and the yield point
 * of long walks.
 */
#include "mm/tdp/internal.h"

void tdp_flush_commit(struct tdp_mmu *mmu, struct tdp_flush *fl)
{
	platform_sched_point(SCHED_FLUSH, fl);
	if (!fl->requests)
		return;
	if (tdp_mmu_is_protected(mmu))
		tdp_mirror_flush(mmu);
	else
		platform_flush_guest_tlbs(mmu->owner);
	stat_inc(&mmu->stats.flushes);
	stat_add(&mmu->stats.flushes_avoided, fl->requests - 1);
	fl->requests = 0;
}

/* A reachable translation went away or shrank. */
static void flush_request(struct tdp_mmu *mmu, struct tdp_flush *fl)
{
	if (fl->reachable) {
		fl->requests++;
		stat_inc(&mmu->stats.flush_requests);
	} else {
		stat_inc(&mmu->stats.flushes_avoided);
	}
}

/*
 * @spt, a table of @level entries covering from @base_gfn, was unlinked
 * from its tree.  Freeze every entry so that nobody (a fault that walked
 * in before the unlink) can install anything in it, account for what each
 * entry held, and free the table after a grace period.
 *
 * With mmu_lock held for read, an entry may be FROZEN by a thread in the
 * middle of its own change; wait for that thread to write its final value
 * and take that one.  Overwriting its FROZEN with FROZEN is harmless: the
 * owner writes over it unconditionally.
 */
static void handle_removed_table(struct tdp_mmu *mmu, struct tdp_flush *fl,
				 spte_t *spt, int level, uint64_t base_gfn,
				 bool shared)
{
	uint64_t step = tdp_pages_per_level(level);
	unsigned int i;
	spte_t old;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		for (;;) {
			old = spte_xchg(&spt[i], SPTE_FROZEN);
			if (!spte_is_frozen(old))
				break;
			BUG_ON(!shared);
			platform_relax();
		}
		tdp_handle_changed_spte(mmu, fl, base_gfn + i * step, old,
					SPTE_FROZEN, level, shared);
	}
	/* The guard's copy is empty now: it may unlink it too. */
	if (tdp_mmu_is_protected(mmu))
		tdp_mirror_removed_table(mmu, base_gfn, level + 1);
	tdp_pt_free_deferred(mmu, spt, level);
}

static void account_ad(struct tdp_mmu *mmu, spte_t old, spte_t new,
		       bool keeps_frame)
{
	if (spte_dirty(old) && !(keeps_frame && spte_dirty(new)))
		stat_inc(&mmu->stats.dirty_propagated);
	if (spte_accessed(old) && !(keeps_frame && spte_accessed(new)))
		stat_inc(&mmu->stats.accessed_propagated);
}

/*
 * Is @new (at @level) a table made by splitting the huge leaf @old?  The
 * splitter links only fully built tables, whose first entry maps @old's
 * first frame with @old's permissions; nothing else puts a table where a
 * leaf was (faults zap the leaf first).
 */
static bool is_split(spte_t old, spte_t new, int level)
{
	spte_t first;

	if (level < 2 || !spte_is_leaf(old, level) ||
	    !spte_is_table(new, level))
		return false;
	first = tdp_read_spte(platform_phys_to_virt(spte_phys(new)));
	return spte_is_leaf(first, level - 1) &&
	       spte_phys(first) == spte_phys(old) &&
	       spte_perms(first) == spte_perms(old);
}

/*
 * A huge leaf became a table of 512 smaller leaves with the same frames
 * and bits: every translation the vCPUs may cache stays right, so no
 * flush; only the leaf counts move.
 */
static void handle_split(struct tdp_mmu *mmu, int level)
{
	tdp_leaves_add(mmu, level, -1);
	tdp_leaves_add(mmu, level - 1, SPTE_PER_PAGE);
	stat_inc(&mmu->stats.splits);
}

void tdp_handle_changed_spte(struct tdp_mmu *mmu, struct tdp_flush *fl,
			     uint64_t gfn, spte_t old, spte_t new, int level,
			     bool shared)
{
	bool was_leaf = spte_is_leaf(old, level);
	bool is_leaf = spte_is_leaf(new, level);
	bool was_table = spte_is_table(old, level);
	bool same_frame = spte_phys(old) == spte_phys(new);

	if (old == new)
		return;
	/* A leaf may change its bits, never its frame: zap it first. */
	BUG_ON(was_leaf && is_leaf && !same_frame);
	if (is_split(old, new, level)) {
		/* The guard splits by removal, link and 512 sets (mirror.c). */
		if (tdp_mmu_is_protected(mmu))
			tdp_mirror_removed_leaf(mmu, gfn, old, level);
		handle_split(mmu, level);
		return;
	}
	if (was_leaf && is_leaf && (old & ~new &SPTE_W))
		stat_inc(&mmu->stats.wrprot);

	if (was_leaf != is_leaf) {
		tdp_leaves_add(mmu, level, was_leaf ? -1 : 1);
	}
	if (was_leaf) {
		account_ad(mmu, old, new, is_leaf);
		if (!is_leaf || (spte_perms(old) & ~spte_perms(new)))
			flush_request(mmu, fl);
		if (tdp_mmu_is_protected(mmu) &&
		    tdp_leaf_change_drops(old, new, level))
			tdp_mirror_removed_leaf(mmu, gfn, old, level);
	}
	if (was_table && (!spte_is_table(new, level) || !same_frame)) {
		flush_request(mmu, fl);
		handle_removed_table(mmu, fl,
				     platform_phys_to_virt(spte_phys(old)),
				     level - 1, gfn, shared);
	}
}

int tdp_set_spte_atomic(struct tdp_mmu *mmu, struct tdp_flush *fl,
			struct tdp_iter *it, spte_t new)
{
	spte_t old = it->old_spte;

	/* Nobody may act on a FROZEN entry but its owner. */
	BUG_ON(spte_is_frozen(old));
	if (tdp_root_is_mirror(it->root))
		return tdp_mirror_set_spte_atomic(mmu, fl, it, new);
	if (!spte_try_cmpxchg(it->sptep, &it->old_spte, new))
		return -EBUSY;
	tdp_handle_changed_spte(mmu, fl, it->gfn, old, new, it->level, true);
	it->old_spte = new;
	return 0;
}

void tdp_set_spte_locked(struct tdp_mmu *mmu, struct tdp_flush *fl,
			 struct tdp_iter *it, spte_t new)
{
	spte_t old;

	rwlock_assert_held_write(&mmu->mmu_lock);
	if (tdp_root_is_mirror(it->root)) {
		tdp_mirror_set_spte_locked(mmu, fl, it, new);
		return;
	}
	/* Only the CPU (A/D bits) can race with us: exchange, keep its bits. */
	old = spte_xchg(it->sptep, new);
	BUG_ON(spte_is_frozen(old));
	tdp_handle_changed_spte(mmu, fl, it->gfn, old, new, it->level, false);
	it->old_spte = new;
}

int tdp_zap_spte_atomic(struct tdp_mmu *mmu, struct tdp_flush *fl,
			struct tdp_iter *it)
{
	int ret = tdp_set_spte_atomic(mmu, fl, it, SPTE_FROZEN);

	if (ret)
		return ret;
	/*
	 * Flush while the entry is still FROZEN: until the flush, vCPUs may
	 * use the old translation, and nobody may install a new one at this
	 * spot while they can.
	 */
	tdp_flush_commit(mmu, fl);
	/* The removal must be flushed before the entry can be refilled. */
	BUG_ON(fl->requests);
	spte_unfreeze(it->sptep, SPTE_NONPRESENT);
	it->old_spte = SPTE_NONPRESENT;
	return 0;
}

bool tdp_iter_cond_yield(struct tdp_mmu *mmu, struct tdp_iter *it,
			 struct tdp_flush *fl, bool shared)
{
	/* Always make progress between two yields. */
	if (it->next_gfn == it->yielded_gfn)
		return false;
	if (!platform_should_yield() && !rwlock_contended(&mmu->mmu_lock))
		return false;

	/* The tables removed so far are freed once we leave EBR: flush. */
	if (fl)
		tdp_flush_commit(mmu, fl);
	ebr_read_unlock();
	if (shared)
		rwlock_read_unlock(&mmu->mmu_lock);
	else
		rwlock_write_unlock(&mmu->mmu_lock);
	platform_yield();
	if (shared)
		rwlock_read_lock(&mmu->mmu_lock);
	else
		rwlock_write_lock(&mmu->mmu_lock);
	ebr_read_lock();
	stat_inc(&mmu->stats.yields);

	if (it->stop_on_invalid && !tdp_root_is_valid(it->root)) {
		it->valid = false;
		it->yielded = true;
		return true;
	}
	tdp_iter_restart(it);
	it->yielded = true;
	return true;
}
