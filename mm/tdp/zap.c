// SPDX-License-Identifier: MIT
/*
 * The three zap flows, kept apart because their rules differ:
 *
 *  - zap leaves in a GFN range (mmu_lock for write): guest mappings go
 *    away, so a flush is needed; tables stay, so nothing is freed and the
 *    caller may flush after the walk, once for all roots;
 *  - zap one page-table page (mmu_lock for write, huge-page recovery): a
 *    table is freed, so the flush happens inside the same EBR section;
 *  - zap a whole root (mmu_lock for read): only for roots that are invalid
 *    and so unreachable by any vCPU; no flush at all.
 *
 * Every long walk yields (tdp_iter_cond_yield), flushing what is pending
 * first.
 */
#include "mm/tdp/internal.h"
#include "mm/memslot.h"

bool tdp_zap_leafs(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t start,
		   uint64_t end, int min_level, bool can_yield,
		   struct tdp_flush *fl)
{
	struct tdp_iter it;
	bool zapped = false;

	rwlock_assert_held_write(&mmu->mmu_lock);
	ebr_read_lock();
	tdp_iter_start(&it, root, min_level, start, end);
	it.stop_on_invalid = true;
	for (; it.valid; tdp_iter_next(&it)) {
		if (can_yield && tdp_iter_cond_yield(mmu, &it, fl, false))
			continue;
		if (!spte_is_leaf(it.old_spte, it.level))
			continue;
		tdp_set_spte_locked(mmu, fl, &it, SPTE_NONPRESENT);
		zapped = true;
	}
	ebr_read_unlock();
	return zapped;
}

bool tdp_mmu_unmap_range(struct tdp_mmu *mmu, uint64_t start, uint64_t end)
{
	struct tdp_root *root;
	struct tdp_flush fl;
	bool zapped = false;

	if (tdp_mmu_is_bugged(mmu))
		return false;
	tdp_flush_init(&fl, true);
	rwlock_write_lock(&mmu->mmu_lock);
	for_each_valid_root (mmu, root)
		zapped |= tdp_zap_leafs(mmu, root, start, end, 1, true, &fl);
	tdp_flush_commit(mmu, &fl);
	rwlock_write_unlock(&mmu->mmu_lock);
	return zapped;
}

/*
 * Zap every present entry of an unreachable root, bottom-up by passes: the
 * 1 GiB-level entries first, so a yield never has to wait for a whole
 * 512 GiB subtree, then the root's own entries.
 */
void tdp_zap_root(struct tdp_mmu *mmu, struct tdp_root *root, bool shared)
{
	struct tdp_flush fl;
	struct tdp_iter it;
	int pass;

	BUG_ON(tdp_root_is_valid(root));
	tdp_flush_init(&fl, false);
	ebr_read_lock();
	for (pass = TDP_ROOT_LEVEL - 1; pass <= TDP_ROOT_LEVEL; pass++) {
		for_each_tdp_spte (&it, root, pass, 0, TDP_MAX_GFN) {
			if (tdp_iter_cond_yield(mmu, &it, &fl, shared))
				continue;
			if (it.level != pass &&
			    !spte_is_leaf(it.old_spte, it.level))
				continue;
			while (!spte_is_frozen(it.old_spte) &&
			       spte_is_present(it.old_spte) &&
			       tdp_set_spte_atomic(mmu, &fl, &it,
						   SPTE_NONPRESENT))
				;
			/* FROZEN: its owner finishes; nothing new can
			 * appear in an invalid root, the next pass or the
			 * final put cleans up. */
		}
	}
	ebr_read_unlock();
	BUG_ON(fl.requests);
}

/* Walk to the entry at @level covering @gfn; true if it is a table. */
static bool find_table_entry(struct tdp_iter *it, struct tdp_root *root,
			     uint64_t gfn, int level)
{
	for_each_tdp_spte (it, root, level, gfn, gfn + 1) {
		if (it->level == level)
			return spte_is_table(it->old_spte, level);
	}
	return false;
}

bool tdp_mmu_zap_pt(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
		    int level, struct tdp_flush *fl)
{
	struct tdp_iter it;

	rwlock_assert_held_write(&mmu->mmu_lock);
	BUG_ON(!ebr_in_read_section());
	if (level < 2 || level > TDP_ROOT_LEVEL - 1)
		return false;
	if (!find_table_entry(&it, root, gfn, level))
		return false;
	tdp_set_spte_locked(mmu, fl, &it, SPTE_NONPRESENT);
	return true;
}

/* Could a fault map [gfn's block at @level] with one leaf right now? */
static bool huge_allowed(struct tdp_mmu *mmu, uint64_t gfn, int level)
{
	const struct memslot *slot;

	slot = memslot_find(mmu->slots, gfn);
	return slot &&
	       memslot_max_level(slot, gfn, READ_ONCE(mmu->max_huge_level)) >=
		       level;
}

unsigned long tdp_mmu_recover_huge_pages(struct tdp_mmu *mmu, uint64_t start,
					 uint64_t end)
{
	unsigned long zapped = 0;
	struct tdp_root *root;
	struct tdp_flush fl;
	struct tdp_iter it;

	if (tdp_mmu_is_bugged(mmu))
		return 0;
	tdp_flush_init(&fl, true);
	rwlock_write_lock(&mmu->mmu_lock);
	for_each_valid_root (mmu, root) {
		ebr_read_lock();
		tdp_iter_start(&it, root, 2, start, end);
		it.stop_on_invalid = true;
		for (; it.valid; tdp_iter_next(&it)) {
			if (tdp_iter_cond_yield(mmu, &it, &fl, false))
				continue;
			if (it.level > READ_ONCE(mmu->max_huge_level) ||
			    !spte_is_table(it.old_spte, it.level) ||
			    !huge_allowed(mmu, it.gfn, it.level))
				continue;
			tdp_set_spte_locked(mmu, &fl, &it, SPTE_NONPRESENT);
			stat_inc(&mmu->stats.recovered);
			zapped++;
		}
		/* The tables go once we leave EBR: flush before. */
		tdp_flush_commit(mmu, &fl);
		ebr_read_unlock();
	}
	rwlock_write_unlock(&mmu->mmu_lock);
	return zapped;
}
