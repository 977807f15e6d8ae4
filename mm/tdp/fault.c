// SPDX-License-Identifier: MIT
/*
 * The fault path: map one guest frame on an EPT violation.
 *
 * Runs with mmu_lock held for read, inside an EBR section, concurrently
 * with other faults: every change is a compare-and-exchange, and losing a
 * race (or meeting a FROZEN entry) means "retry the fault", never "wait".
 */
#include "mm/tdp/internal.h"
#include "mm/memslot.h"

#define FAULT_UNDECIDED (-1000)

void tdp_fault_begin(struct tdp_mmu *mmu, struct tdp_fault *f,
		     struct tdp_root *root, uint64_t gpa, uint64_t access)
{
	struct memslot_set *set;

	f->root = root;
	f->gfn = gpa >> PAGE_SHIFT;
	f->access = access & SPTE_RWX;
	f->level = 0;
	f->slot = NULL;
	f->result = FAULT_UNDECIDED;
	ebr_read_lock();
	set = memslot_set_current(mmu);
	f->slot_gen = set->generation;
	if (tdp_mmu_is_bugged(mmu)) {
		f->result = -EIO;
		return;
	}
	if (f->gfn >= TDP_MAX_GFN) {
		f->result = -EINVAL;
		return;
	}
	f->slot = memslot_find(set, f->gfn);
	if (!f->slot)
		f->result = TDP_MAP_NO_SLOT;
	else if ((f->access & TDP_ACC_WRITE) &&
		 (f->slot->flags & MEMSLOT_READONLY))
		f->result = TDP_MAP_READONLY;
}

/*
 * What the new leaf grants.  In a logged slot only a write fault makes a
 * page writable, after setting its dirty bit (see dirty.c): a read fault
 * maps it read-only so that the first write still faults.
 */
static uint64_t slot_perms(const struct memslot *slot, uint64_t access)
{
	if (slot->flags & MEMSLOT_READONLY)
		return SPTE_R | SPTE_X;
	if ((slot->flags & MEMSLOT_DIRTY_LOG) && !(access & TDP_ACC_WRITE))
		return SPTE_R | SPTE_X;
	return SPTE_RWX;
}

/* The walk reached the target level: put the leaf in place. */
static int install_leaf(struct tdp_mmu *mmu, struct tdp_flush *fl,
			struct tdp_iter *it, spte_t leaf, uint64_t access)
{
	spte_t old = it->old_spte;

	if (spte_is_leaf(old, it->level)) {
		if (spte_phys(old) == spte_phys(leaf)) {
			if (spte_allows(old, access))
				return TDP_MAP_OK; /* another vCPU was first */
			/* Widen the permissions, keep the CPU's A/D bits. */
			if (tdp_set_spte_atomic(mmu, fl, it,
						old | spte_perms(leaf)))
				return TDP_MAP_RETRY;
			return TDP_MAP_OK;
		}
		/* A stale frame (cannot happen: slot changes zap first). */
		if (tdp_zap_spte_atomic(mmu, fl, it))
			return TDP_MAP_RETRY;
	}
	/*
	 * An empty entry, or a table we replace by a huge leaf: in the
	 * second case the bookkeeping removes the table and asks for the
	 * flush that must happen before this EBR section ends.
	 */
	if (tdp_set_spte_atomic(mmu, fl, it, leaf))
		return TDP_MAP_RETRY;
	return TDP_MAP_OK;
}

/* Link a new, empty table under the entry at @it (empty now). */
static int link_table(struct tdp_mmu *mmu, struct tdp_flush *fl,
		      struct tdp_iter *it)
{
	struct tdp_pt *pt = tdp_pt_alloc(mmu, it->level - 1);

	if (!pt)
		return -ENOMEM;
	if (tdp_set_spte_atomic(
		    mmu, fl, it,
		    spte_make_table(platform_virt_to_phys(pt->spt)))) {
		tdp_pt_free_unused(mmu, pt, it->level - 1);
		return TDP_MAP_RETRY;
	}
	return TDP_MAP_OK;
}

static spte_t fault_leaf(const struct memslot *slot, uint64_t gfn, int level,
			 uint64_t access)
{
	uint64_t base = tdp_level_base(gfn, level);

	return spte_make_leaf(memslot_gfn_to_pfn(slot, base), level,
			      slot_perms(slot, access));
}

/*
 * A mirror entry that is present may not be replaced under the read lock
 * (mirror.c).  Where a plain root would replace a table by a huge leaf,
 * map below the table instead; where a huge leaf already covers the gfn
 * (the largest level was lowered since), use it.  Returns true if @f is
 * settled (*ret set), false to go on walking (maybe at a lower *level).
 */
static bool mirror_keep_present(struct tdp_iter *it, struct tdp_fault *f,
				int *level, spte_t *leaf, int *ret)
{
	if (!tdp_root_is_mirror(f->root) || !spte_is_present(it->old_spte))
		return false;
	if (it->level == *level && spte_is_table(it->old_spte, it->level)) {
		*level = it->level - 1;
		*leaf = fault_leaf(f->slot, f->gfn, *level, f->access);
		return false;
	}
	if (it->level > *level && spte_is_leaf(it->old_spte, it->level) &&
	    spte_allows(it->old_spte, f->access)) {
		f->level = it->level;
		*ret = TDP_MAP_OK;
		return true;
	}
	return false;
}

static int map_locked(struct tdp_mmu *mmu, struct tdp_fault *f)
{
	const struct memslot *slot = f->slot;
	int level =
		memslot_max_level(slot, f->gfn, READ_ONCE(mmu->max_huge_level));
	spte_t leaf = fault_leaf(slot, f->gfn, level, f->access);
	struct tdp_flush fl;
	struct tdp_iter it;
	int ret = TDP_MAP_RETRY;

	tdp_flush_init(&fl, true);
	for_each_tdp_spte (&it, f->root, 1, f->gfn, f->gfn + 1) {
		if (spte_is_frozen(it.old_spte))
			break; /* someone else is changing it: retry */
		if (mirror_keep_present(&it, f, &level, &leaf, &ret))
			break;
		if (it.level == level) {
			/*
			 * Set the bit before the leaf becomes writable: a
			 * clear (write lock) then always sees both.
			 */
			if ((leaf & SPTE_W) && memslot_mark_dirty(slot, f->gfn))
				stat_inc(&mmu->stats.dirty_marked);
			ret = install_leaf(mmu, &fl, &it, leaf, f->access);
			if (ret == TDP_MAP_OK)
				f->level = level;
			break;
		}
		/* A huge leaf where we need a table (now restricted). */
		if (spte_is_leaf(it.old_spte, it.level) &&
		    tdp_zap_spte_atomic(mmu, &fl, &it))
			break;
		if (spte_is_table(it.old_spte, it.level))
			continue;
		ret = link_table(mmu, &fl, &it);
		if (ret != TDP_MAP_OK)
			break;
		ret = TDP_MAP_RETRY; /* unless we reach the target level */
	}
	tdp_flush_commit(mmu, &fl);
	return ret;
}

int tdp_fault_finish(struct tdp_mmu *mmu, struct tdp_fault *f)
{
	bool excl = READ_ONCE(mmu->fault_exclusive);
	int ret = f->result;

	if (ret != FAULT_UNDECIDED)
		goto out;
	if (excl)
		rwlock_write_lock(&mmu->mmu_lock);
	else
		rwlock_read_lock(&mmu->mmu_lock);
	tdp_pcpu_add(&tdp_pcpu(mmu)->faults, 1);
	/*
	 * Root invalidation and memslot commits happen under the write
	 * lock, so checking once here, with the read lock held, covers the
	 * whole install.
	 */
	if (!tdp_root_is_valid(f->root) ||
	    memslot_set_current(mmu)->generation != f->slot_gen)
		ret = TDP_MAP_RETRY;
	else
		ret = map_locked(mmu, f);
	if (tdp_mmu_is_bugged(mmu))
		ret = -EIO; /* this fault, or a concurrent one, bugged it */
	else if (ret == TDP_MAP_RETRY)
		tdp_pcpu_add(&tdp_pcpu(mmu)->fault_retries, 1);
	if (excl)
		rwlock_write_unlock(&mmu->mmu_lock);
	else
		rwlock_read_unlock(&mmu->mmu_lock);
out:
	ebr_read_unlock();
	return ret;
}

int tdp_map(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gpa,
	    uint64_t access)
{
	struct tdp_fault f;

	tdp_fault_begin(mmu, &f, root, gpa, access);
	return tdp_fault_finish(mmu, &f);
}
