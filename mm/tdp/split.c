// SPDX-License-Identifier: MIT
/*
 * Eager splitting of huge leaves (1 GiB and 2 MiB) into full tables of
 * smaller leaves, as dirty logging wants every page mapped on its own.
 *
 * It runs with mmu_lock held for read, beside faults.  A new table is
 * filled completely (512 leaves with the huge leaf's frames, permissions
 * and A/D bits) before one compare-and-exchange links it in place of the
 * leaf, so nobody ever sees a half-split table; if the leaf changed
 * meanwhile (the CPU set a bit, a fault zapped it) the split is retried on
 * the new value or skipped.  The bookkeeping recognises a split (see
 * is_split in spte_change.c): the translations stay the same, so there is
 * no TLB flush.
 *
 * Tables come from a small per-call cache that is refilled with mmu_lock
 * dropped, so the walk never allocates under the lock.  If refilling fails,
 * the leaf is zapped instead (frozen, flushed, cleared) and the next fault
 * maps the page at 4 KiB.
 *
 * A protected VM's mirror root is split under the write lock instead: the
 * read-lock path may not change a present mirror SPTE, and the guard
 * splits by removing the huge leaf, linking a table and setting its 512
 * leaves (mm/tdp/mirror.c), which only the write lock keeps out of sight.
 */
#include "mm/tdp/internal.h"

#define SPLIT_CACHE_PAGES 32

struct split_cache {
	struct tdp_pt *pts[SPLIT_CACHE_PAGES];
	int n;
	bool nomem; /* the last refill failed: zap instead of splitting */
};

/* Cached tables are accounted as level 1 until used. */
static void cache_refill(struct tdp_mmu *mmu, struct split_cache *c)
{
	struct tdp_pt *pt;

	c->nomem = false;
	stat_inc(&mmu->stats.split_cache_fills);
	while (c->n < SPLIT_CACHE_PAGES) {
		pt = tdp_pt_alloc(mmu, 1);
		if (!pt) {
			c->nomem = c->n == 0;
			return;
		}
		c->pts[c->n++] = pt;
	}
}

static void cache_free(struct tdp_mmu *mmu, struct split_cache *c)
{
	while (c->n)
		tdp_pt_free_unused(mmu, c->pts[--c->n], 1);
}

/*
 * Drop mmu_lock (read) and EBR, refill, take both back and make @it walk
 * down again to where it was.  False if the walk must end (root gone).
 */
static bool refill_unlocked(struct tdp_mmu *mmu, struct split_cache *c,
			    struct tdp_iter *it, struct tdp_flush *fl,
			    bool shared)
{
	tdp_flush_commit(mmu, fl);
	ebr_read_unlock();
	if (shared)
		rwlock_read_unlock(&mmu->mmu_lock);
	else
		rwlock_write_unlock(&mmu->mmu_lock);
	cache_refill(mmu, c);
	if (shared)
		rwlock_read_lock(&mmu->mmu_lock);
	else
		rwlock_write_lock(&mmu->mmu_lock);
	ebr_read_lock();
	if (!tdp_root_is_valid(it->root)) {
		it->valid = false;
		return false;
	}
	tdp_iter_restart(it);
	it->yielded = true; /* revisit the entry we stopped at */
	return true;
}

/*
 * Replace the huge leaf under @it by a table of smaller leaves built in
 * @pt.  0 on success; -EBUSY if the entry changed (it->old_spte has the
 * new value and @pt stays unused).
 */
static int split_leaf(struct tdp_mmu *mmu, struct tdp_flush *fl,
		      struct tdp_iter *it, struct tdp_pt *pt, bool shared)
{
	spte_t old = it->old_spte, child;
	int child_level = it->level - 1;
	uint64_t step = tdp_pages_per_level(child_level);
	uint64_t bits = old & (SPTE_ACCESSED | SPTE_DIRTY);
	unsigned int i;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		child = spte_make_leaf(spte_pfn(old) + i * step, child_level,
				       spte_perms(old));
		/* W alone is never set; spte_make_leaf adds R: same perms. */
		pt->spt[i] = child | bits;
	}
	if (!shared) {
		tdp_set_spte_locked(
			mmu, fl, it,
			spte_make_table(platform_virt_to_phys(pt->spt)));
		return 0;
	}
	return tdp_set_spte_atomic(
		mmu, fl, it, spte_make_table(platform_virt_to_phys(pt->spt)));
}

/* Move a cached table's accounting from level 1 to @level. */
static void pt_reaccount(struct tdp_mmu *mmu, int level)
{
	tdp_stat_add(&mmu->stats.pt_pages[1], -1);
	tdp_stat_add(&mmu->stats.pt_pages[level], 1);
}

static unsigned long split_root(struct tdp_mmu *mmu, struct tdp_root *root,
				uint64_t start, uint64_t end, int target,
				struct split_cache *c, struct tdp_flush *fl,
				bool shared)
{
	unsigned long splits = 0;
	struct tdp_iter it;

	tdp_iter_start(&it, root, target + 1, start, end);
	it.stop_on_invalid = true;
	for (; it.valid; tdp_iter_next(&it)) {
		if (tdp_iter_cond_yield(mmu, &it, fl, shared))
			continue;
		while (it.level > target &&
		       spte_is_leaf(it.old_spte, it.level)) {
			if (!c->n && !c->nomem) {
				if (!refill_unlocked(mmu, c, &it, fl, shared))
					return splits;
				break; /* revisit from the fresh walk */
			}
			if (!c->n) {
				/* No memory: never leave it huge, zap it. */
				if (!shared) {
					tdp_set_spte_locked(mmu, fl, &it,
							    SPTE_NONPRESENT);
					stat_inc(&mmu->stats.split_zaps);
				} else if (!tdp_zap_spte_atomic(mmu, fl, &it)) {
					stat_inc(&mmu->stats.split_zaps);
				}
				c->nomem = false; /* try again next time */
				break;
			}
			if (split_leaf(mmu, fl, &it, c->pts[c->n - 1], shared))
				continue; /* changed: look at the new value */
			pt_reaccount(mmu, it.level - 1);
			c->n--;
			splits++;
		}
	}
	return splits;
}

unsigned long tdp_mmu_split_huge_pages(struct tdp_mmu *mmu, uint64_t start,
				       uint64_t end, int target_level)
{
	struct split_cache c = {.n = 0};
	unsigned long splits = 0;
	struct tdp_root *root;
	struct tdp_flush fl;
	bool shared = !tdp_mmu_is_protected(mmu);

	if (target_level < 1 || target_level >= TDP_MAX_HUGE_LEVEL + 1 ||
	    tdp_mmu_is_bugged(mmu))
		return 0;
	rwlock_assert_not_held(&mmu->mmu_lock);
	tdp_flush_init(&fl, true);
	/* The cache starts empty: a range with no huge leaf costs nothing. */
	if (shared)
		rwlock_read_lock(&mmu->mmu_lock);
	else
		rwlock_write_lock(&mmu->mmu_lock);
	for_each_valid_root (mmu, root) {
		ebr_read_lock();
		splits += split_root(mmu, root, start, end, target_level, &c,
				     &fl, shared);
		tdp_flush_commit(mmu, &fl);
		ebr_read_unlock();
	}
	if (shared)
		rwlock_read_unlock(&mmu->mmu_lock);
	else
		rwlock_write_unlock(&mmu->mmu_lock);
	cache_free(mmu, &c);
	return splits;
}
