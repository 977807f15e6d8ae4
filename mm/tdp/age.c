// SPDX-License-Identifier: MIT
/*
 * Aging: the accessed bits of the leaves that map a GFN range, for a host
 * that wants to know which guest pages were used lately.
 *
 * The EPTP always enables A/D bits here, so the CPU sets the accessed bit
 * of every leaf it uses, and clearing it takes no translation away: the
 * vCPUs may keep their TLB entries (a page that stays hot through a
 * cached entry just looks older than it is, as on Linux with KVM), and no
 * flush is done.  Clearing runs under mmu_lock held for read, one
 * compare-and-exchange per leaf, retried when the CPU set a bit at the
 * same time.
 */
#include "mm/tdp/internal.h"

static bool age_root(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t start,
		     uint64_t end, bool clear, struct tdp_flush *fl)
{
	struct tdp_iter it;
	bool young = false;

	tdp_iter_start(&it, root, 1, start, end);
	it.stop_on_invalid = true;
	for (; it.valid; tdp_iter_next(&it)) {
		if (clear && tdp_iter_cond_yield(mmu, &it, fl, true))
			continue;
		while (spte_is_leaf(it.old_spte, it.level) &&
		       spte_accessed(it.old_spte)) {
			young = true;
			if (!clear)
				return true;
			if (!tdp_set_spte_atomic(mmu, fl, &it,
						 it.old_spte &
							 ~SPTE_ACCESSED)) {
				stat_inc(&mmu->stats.aged);
				break;
			}
		}
	}
	return young;
}

static bool age_range(struct tdp_mmu *mmu, uint64_t start, uint64_t end,
		      bool clear)
{
	struct tdp_root *root;
	struct tdp_flush fl;
	bool young = false;

	/* Mirror leaves are never walked, so never young (mirror.c). */
	if (tdp_mmu_is_bugged(mmu) || tdp_mmu_is_protected(mmu))
		return false;
	tdp_flush_init(&fl, true);
	rwlock_read_lock(&mmu->mmu_lock);
	for_each_valid_root (mmu, root) {
		ebr_read_lock();
		young |= age_root(mmu, root, start, end, clear, &fl);
		/* Clearing A asks for no flush; commit in case it ever does. */
		tdp_flush_commit(mmu, &fl);
		ebr_read_unlock();
		if (young && !clear) {
			tdp_mmu_put_root(mmu, root);
			break;
		}
	}
	rwlock_read_unlock(&mmu->mmu_lock);
	return young;
}

bool tdp_mmu_age_gfn(struct tdp_mmu *mmu, uint64_t start, uint64_t end)
{
	return age_range(mmu, start, end, true);
}

bool tdp_mmu_test_age_gfn(struct tdp_mmu *mmu, uint64_t start, uint64_t end)
{
	return age_range(mmu, start, end, false);
}
