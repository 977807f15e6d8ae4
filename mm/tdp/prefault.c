// SPDX-License-Identifier: MIT
/*
 * Prefault: map a range of guest memory before the guest touches it, the
 * way a VMM populates a new guest's RAM, without one EPT violation per
 * page.
 *
 * The range is walked once per memslot under mmu_lock held for read, in
 * one EBR section, beside faults.  Each entry gets what a fault at its
 * first page would install: the largest leaf the slot, the VM and the
 * restrictions allow.  Where a whole table is missing, it is built here
 * while nobody else can see it (plain stores of every leaf it will hold)
 * and linked with one compare-and-exchange, exactly as an eager split
 * links its tables: a walker finds either no table or a complete one.  A
 * racing fault that linked its own table first wins; ours, never
 * visible, is freed at once and the walk goes on in the winner's table.
 *
 * Existing mappings are kept: a table where a huge leaf could go is
 * walked into rather than replaced (huge-page recovery is the way back to
 * huge leaves), and a leaf that already allows what we would grant is
 * left alone.  A huge leaf above what is allowed now (restricted since)
 * is zapped, as a fault does.
 *
 * In a dirty-logged slot a leaf is writable only if its page's bit is
 * already set (mm/README.md): a prefault is not a write, so it never sets
 * a bit, and the first real write to a clean page still faults.  Bits are
 * reset only under the write lock, so what we read here holds until we
 * drop the read lock.
 */
#include "mm/tdp/internal.h"
#include "mm/memslot.h"

struct prefault {
	struct tdp_mmu *mmu;
	const struct memslot *slot;
	uint64_t start, end; /* this slot's part of the request */
	int max_level;	     /* the VM's largest leaf level */
	uint64_t slot_gen;
	struct tdp_flush fl;
};

/* What a leaf for @gfn grants (see the dirty-logging rule above). */
static uint64_t prefault_perms(const struct memslot *slot, uint64_t gfn)
{
	uint64_t i;

	if (slot->flags & MEMSLOT_READONLY)
		return SPTE_R | SPTE_X;
	if (slot->flags & MEMSLOT_DIRTY_LOG) {
		i = gfn - slot->base_gfn;
		if (!(__atomic_load_n(&slot->dirty->words[i / 64],
				      __ATOMIC_RELAXED) &
		      (1ull << (i % 64))))
			return SPTE_R | SPTE_X;
	}
	return SPTE_RWX;
}

/* The largest leaf level allowed for the block of @gfn. */
static int level_for(struct prefault *p, uint64_t gfn)
{
	return memslot_max_level(p->slot, MAX(gfn, p->start), p->max_level);
}

static spte_t leaf_for(struct prefault *p, uint64_t gfn, int level)
{
	uint64_t base = tdp_level_base(MAX(gfn, p->start), level);

	return spte_make_leaf(memslot_gfn_to_pfn(p->slot, base), level,
			      prefault_perms(p->slot, base));
}

/*
 * Fill @pt, a new table of @level entries covering from @base, with the
 * leaves of every entry in the range that may be a leaf at @level.
 * Returns the number of leaves; *complete is false if some entry in the
 * range needs a lower table (the walk will go down into it).
 */
static unsigned int fill_private(struct prefault *p, spte_t *spt, int level,
				 uint64_t base, bool *complete)
{
	uint64_t step = tdp_pages_per_level(level), g;
	unsigned int i, n = 0;

	*complete = true;
	for (i = 0; i < SPTE_PER_PAGE; i++) {
		g = base + i * step;
		if (g + step <= p->start || g >= p->end)
			continue; /* outside the range: left empty */
		if (level > 1 && level_for(p, g) < level) {
			*complete = false;
			continue;
		}
		spt[i] = leaf_for(p, g, level);
		n++;
	}
	return n;
}

/*
 * The entry under @it is empty and must hold a table: build it complete
 * and link it.  0 if linked (it->old_spte is the new table), -EBUSY if
 * the entry changed (it->old_spte has the new value), -ENOMEM.
 */
static int link_private(struct prefault *p, struct tdp_iter *it, bool *complete)
{
	int child = it->level - 1;
	struct tdp_pt *pt = tdp_pt_alloc(p->mmu, child);
	unsigned int n;

	if (!pt)
		return -ENOMEM;
	n = fill_private(p, pt->spt, child, it->gfn, complete);
	if (tdp_set_spte_atomic(
		    p->mmu, &p->fl, it,
		    spte_make_table(platform_virt_to_phys(pt->spt)))) {
		/* Never visible: no grace period needed. */
		tdp_pt_free_unused(p->mmu, pt, child);
		return -EBUSY;
	}
	/* The link's bookkeeping saw an empty entry become a table. */
	tdp_leaves_add(p->mmu, child, n);
	stat_add(&p->mmu->stats.prefaulted, n);
	return 0;
}

/* A leaf is already there: widen its permissions if we grant more. */
static int widen_leaf(struct prefault *p, struct tdp_iter *it)
{
	spte_t leaf = leaf_for(p, it->gfn, it->level);
	spte_t old = it->old_spte;

	if (spte_phys(old) != spte_phys(leaf) ||
	    !(spte_perms(leaf) & ~spte_perms(old)))
		return 0;
	return tdp_set_spte_atomic(p->mmu, &p->fl, it, old | spte_perms(leaf));
}

/*
 * One entry of the walk.  0: done with it (the walker goes on, into the
 * entry if it is a table); -EBUSY: look at it again (it->old_spte is
 * fresh); -ENOMEM.
 */
static int prefault_entry(struct prefault *p, struct tdp_iter *it)
{
	spte_t old = it->old_spte;
	bool complete;
	int level, ret;

	/* Every yield re-checks: we never map from a replaced memslot set. */
	BUG_ON(memslot_set_current(p->mmu)->generation != p->slot_gen);
	if (spte_is_table(old, it->level))
		return 0;
	level = it->level == 1 ? 1 : level_for(p, it->gfn);
	if (spte_is_leaf(old, it->level)) {
		if (level >= it->level)
			return widen_leaf(p, it);
		/* Huge where it may no longer be: zap, as a fault does. */
		if (tdp_zap_spte_atomic(p->mmu, &p->fl, it))
			return -EBUSY;
		stat_inc(&p->mmu->stats.prefault_zaps);
	}
	if (level >= it->level) {
		ret = tdp_set_spte_atomic(p->mmu, &p->fl, it,
					  leaf_for(p, it->gfn, it->level));
		if (!ret)
			stat_inc(&p->mmu->stats.prefaulted);
		return ret;
	}
	ret = link_private(p, it, &complete);
	if (ret)
		return ret;
	/*
	 * Every entry of the new table that we needed is a leaf already:
	 * nothing to do below it, so do not let the walker go in.
	 */
	if (complete)
		it->old_spte = SPTE_NONPRESENT;
	return 0;
}

/*
 * Walk [p->start, p->end) of @root; *done: how many pages from p->start
 * are mapped.  0 if all of them; -EAGAIN if a yield found the root
 * invalidated or the memslots changed; -ENOMEM.
 */
static int prefault_walk(struct prefault *p, struct tdp_root *root,
			 uint64_t *done)
{
	struct tdp_iter it;
	int ret = 0;

	tdp_iter_start(&it, root, 1, p->start, p->end);
	it.stop_on_invalid = true;
	for (; it.valid; tdp_iter_next(&it)) {
		if (tdp_iter_cond_yield(p->mmu, &it, &p->fl, true)) {
			if (!it.valid ||
			    memslot_set_current(p->mmu)->generation !=
				    p->slot_gen) {
				*done = MAX(it.next_gfn, p->start) - p->start;
				return -EAGAIN;
			}
			continue;
		}
		if (spte_is_frozen(it.old_spte)) {
			/*
			 * Someone is changing it, or it is in a table being
			 * removed: walk down again from the root.
			 */
			platform_relax();
			tdp_iter_restart(&it);
			it.yielded = true;
			continue;
		}
		do
			ret = prefault_entry(p, &it);
		while (ret == -EBUSY && !spte_is_frozen(it.old_spte));
		if (ret == -ENOMEM) {
			/* Everything before this entry is done. */
			*done = MAX(it.gfn, p->start) - p->start;
			return ret;
		}
		if (ret == -EBUSY) {
			tdp_iter_restart(&it);
			it.yielded = true;
		}
	}
	*done = p->end - p->start;
	return 0;
}

long tdp_mmu_prefault(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
		      uint64_t npages)
{
	struct memslot_set *set;
	struct prefault p;
	uint64_t cur = gfn, end = gfn + npages, done;
	long ret = 0;

	if (!npages || gfn >= TDP_MAX_GFN || npages > TDP_MAX_GFN - gfn)
		return -EINVAL;
	if (tdp_root_is_mirror(root))
		return -EOPNOTSUPP;
	rwlock_assert_not_held(&mmu->mmu_lock);
	ebr_read_lock();
	rwlock_read_lock(&mmu->mmu_lock);
	set = memslot_set_current(mmu);
	p.mmu = mmu;
	p.slot_gen = set->generation;
	p.max_level = READ_ONCE(mmu->max_huge_level);
	tdp_flush_init(&p.fl, true);
	while (cur < end) {
		if (tdp_mmu_is_bugged(mmu)) {
			ret = -EIO;
			break;
		}
		if (!tdp_root_is_valid(root) ||
		    memslot_set_current(mmu)->generation != p.slot_gen) {
			ret = -EAGAIN;
			break;
		}
		p.slot = memslot_find(set, cur);
		if (!p.slot) {
			ret = -ENOENT;
			break;
		}
		p.start = cur;
		p.end = MIN(end, p.slot->base_gfn + p.slot->npages);
		ret = prefault_walk(&p, root, &done);
		cur += done;
		if (ret)
			break;
	}
	tdp_flush_commit(mmu, &p.fl);
	rwlock_read_unlock(&mmu->mmu_lock);
	ebr_read_unlock();
	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	/* Progress wins over the reason we stopped. */
	return cur > gfn ? (long)(cur - gfn) : ret;
}
