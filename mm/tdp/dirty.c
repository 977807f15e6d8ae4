// SPDX-License-Identifier: MIT
/*
 * Dirty logging: write protection of a slot's leaves, and the harvest
 * (get) and reset (clear) of its dirty bitmap.
 *
 * The rule that makes it work: in a logged slot, a leaf is writable only
 * while its page's bit is set.  Starting to log write-protects the slot
 * (memslot commit, write lock); a write fault sets the bit and only then
 * makes the leaf writable (fault.c, read lock); a clear resets bits and
 * write-protects those pages again, flushing before it returns (write
 * lock).  So a write that lands after a clear has returned always faults
 * and sets its bit again: no dirty page is lost.
 *
 * A clear resets the bits *before* it write-protects the pages, because
 * it may yield in between.  A write through a still-writable leaf in that
 * window lands before the clear returns, which is what the harvester
 * expects (it reads the page after the clear); a fault in that window
 * sets the bit again.  The other order would lose the write of a fault
 * that re-enabled writing between the protection and the reset.
 */
#include "mm/memslot.h"
#include "mm/tdp/internal.h"

bool tdp_wrprot_leafs(struct tdp_mmu *mmu, struct tdp_root *root,
		      uint64_t start, uint64_t end, struct tdp_flush *fl)
{
	struct tdp_iter it;
	bool changed = false;

	rwlock_assert_held_write(&mmu->mmu_lock);
	ebr_read_lock();
	tdp_iter_start(&it, root, 1, start, end);
	it.stop_on_invalid = true;
	for (; it.valid; tdp_iter_next(&it)) {
		if (tdp_iter_cond_yield(mmu, &it, fl, false))
			continue;
		if (!spte_is_leaf(it.old_spte, it.level) ||
		    !(it.old_spte & SPTE_W))
			continue;
		tdp_set_spte_locked(mmu, fl, &it, it.old_spte & ~SPTE_W);
		changed = true;
	}
	ebr_read_unlock();
	return changed;
}

int tdp_mmu_get_dirty_log(struct tdp_mmu *mmu, uint32_t id, uint64_t *bitmap,
			  uint64_t nwords)
{
	const struct memslot *slot;
	uint64_t i;
	int ret = 0;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	ebr_read_lock();
	slot = memslot_find_id(memslot_set_current(mmu), id);
	if (!slot)
		ret = -ENOENT;
	else if (!slot->dirty || nwords < slot->dirty->nwords)
		ret = -EINVAL;
	else
		for (i = 0; i < slot->dirty->nwords; i++)
			bitmap[i] = __atomic_load_n(&slot->dirty->words[i],
						    __ATOMIC_RELAXED);
	ebr_read_unlock();
	if (!ret)
		stat_inc(&mmu->stats.dirty_gets);
	return ret;
}

/* Pages handled per pass of a clear: the bits reset in one go. */
#define CLEAR_CHUNK_WORDS 64

/* Is any page of [gfn, gfn + n) marked in @cleared (bit 0 = @base)? */
static bool any_cleared(const uint64_t *cleared, uint64_t base, uint64_t nbits,
			uint64_t gfn, uint64_t n)
{
	uint64_t lo = gfn > base ? gfn - base : 0;
	uint64_t hi = MIN(gfn + n - base, nbits);

	for (; lo < hi; lo++)
		if (cleared[lo / 64] & (1ull << (lo % 64)))
			return true;
	return false;
}

/* Write-protect, in every valid root, the pages marked in @cleared. */
static void wrprot_cleared(struct tdp_mmu *mmu, const uint64_t *cleared,
			   uint64_t base, uint64_t nbits, struct tdp_flush *fl)
{
	struct tdp_root *root;
	struct tdp_iter it;
	uint64_t n;

	for_each_valid_root (mmu, root) {
		ebr_read_lock();
		tdp_iter_start(&it, root, 1, base, base + nbits);
		it.stop_on_invalid = true;
		for (; it.valid; tdp_iter_next(&it)) {
			if (tdp_iter_cond_yield(mmu, &it, fl, false))
				continue;
			if (!spte_is_leaf(it.old_spte, it.level) ||
			    !(it.old_spte & SPTE_W))
				continue;
			n = tdp_pages_per_level(it.level);
			if (!any_cleared(cleared, base, nbits, it.gfn, n))
				continue;
			tdp_set_spte_locked(mmu, fl, &it,
					    it.old_spte & ~SPTE_W);
		}
		ebr_read_unlock();
	}
}

/*
 * The walks of a clear may yield, dropping mmu_lock, and the slot may
 * change meanwhile: the bitmap is held by reference, the slot's place is
 * copied, and each chunk starts by checking that the slot still logs into
 * the same bitmap (else the clear stops: the change that removed it
 * zapped or protected what was left).
 */
long tdp_mmu_clear_dirty_log(struct tdp_mmu *mmu, uint32_t id, uint64_t first,
			     uint64_t npages, const uint64_t *mask)
{
	uint64_t cleared[CLEAR_CHUNK_WORDS], w, nw, off, bits, base_gfn;
	const struct memslot *slot;
	struct memslot_dirty *d;
	struct tdp_flush fl;
	long count = 0;
	unsigned int i;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	if (first % 64)
		return -EINVAL;
	tdp_flush_init(&fl, true);
	rwlock_write_lock(&mmu->mmu_lock);
	/* The set cannot change while we hold the write lock. */
	slot = memslot_find_id(mmu->slots, id);
	if (!slot) {
		rwlock_write_unlock(&mmu->mmu_lock);
		return -ENOENT;
	}
	d = slot->dirty;
	if (!d || first > slot->npages || npages > slot->npages - first) {
		rwlock_write_unlock(&mmu->mmu_lock);
		return -EINVAL;
	}
	memslot_dirty_hold(d);
	base_gfn = slot->base_gfn;
	for (w = 0; w * 64 < npages; w += nw) {
		slot = memslot_find_id(mmu->slots, id);
		if (!slot || slot->dirty != d || slot->base_gfn != base_gfn)
			break;
		nw = MIN((uint64_t)CLEAR_CHUNK_WORDS, (npages + 63) / 64 - w);
		off = first + w * 64;
		bits = MIN(nw * 64, npages - w * 64);
		for (i = 0; i < nw; i++) {
			uint64_t m = mask[w + i];

			if ((i + 1) * 64 > bits) /* past the range */
				m &= (1ull << (bits % 64)) - 1;
			cleared[i] = __atomic_fetch_and(&d->words[off / 64 + i],
							~m, __ATOMIC_RELAXED) &
				     m;
			count += __builtin_popcountll(cleared[i]);
		}
		wrprot_cleared(mmu, cleared, base_gfn + off, bits, &fl);
	}
	tdp_flush_commit(mmu, &fl);
	rwlock_write_unlock(&mmu->mmu_lock);
	memslot_dirty_put(d);
	stat_inc(&mmu->stats.dirty_clears);
	return count;
}
