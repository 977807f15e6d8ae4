// SPDX-License-Identifier: MIT
/*
 * Page-table pages: allocation, accounting and deferred freeing.
 *
 * A table's metadata (its EBR head) cannot live in the table, whose 512
 * entries are all in use and may still be read by walkers after removal.
 * It is allocated with the table and found again through a per-VM hash
 * keyed by the table's address, so that removing a table never needs to
 * allocate.  The hash lock is a leaf lock; the hash is touched only when a
 * table is created or removed, never on a walk.
 */
#include "mm/tdp/internal.h"

static unsigned int pt_hash_index(const spte_t *spt)
{
	uint64_t k = (uint64_t)(uintptr_t)spt >> PAGE_SHIFT;

	k *= 0x9e3779b97f4a7c15ull;
	return (unsigned int)(k >> 40) % TDP_PT_HASH_BUCKETS;
}

static void account_table(struct tdp_mmu *mmu, int level, int delta)
{
	tdp_stat_add(&mmu->stats.pt_pages[level], delta);
	tdp_stat_add(&mmu->stats.bytes,
		     delta * (int64_t)(PAGE_SIZE + sizeof(struct tdp_pt)));
}

struct tdp_pt *tdp_pt_alloc(struct tdp_mmu *mmu, int level)
{
	struct tdp_pt *pt = platform_zalloc(sizeof(*pt));
	unsigned int i;

	if (!pt)
		return NULL;
	pt->spt = platform_page_alloc();
	if (!pt->spt) {
		platform_free(pt);
		return NULL;
	}
	i = pt_hash_index(pt->spt);
	spin_lock(&mmu->pt_lock);
	pt->hash_next = mmu->pt_hash[i];
	mmu->pt_hash[i] = pt;
	spin_unlock(&mmu->pt_lock);
	account_table(mmu, level, 1);
	return pt;
}

static struct tdp_pt *pt_unhash(struct tdp_mmu *mmu, spte_t *spt)
{
	struct tdp_pt **pp, *pt = NULL;

	spin_lock(&mmu->pt_lock);
	for (pp = &mmu->pt_hash[pt_hash_index(spt)]; *pp;
	     pp = &(*pp)->hash_next) {
		if ((*pp)->spt == spt) {
			pt = *pp;
			*pp = pt->hash_next;
			break;
		}
	}
	spin_unlock(&mmu->pt_lock);
	if (!pt)
		panic("tdp: table %p has no metadata", (void *)spt);
	return pt;
}

static void pt_free_now(struct tdp_pt *pt)
{
	platform_page_free(pt->spt);
	platform_free(pt);
}

void tdp_pt_free_unused(struct tdp_mmu *mmu, struct tdp_pt *pt, int level)
{
	pt_unhash(mmu, pt->spt);
	account_table(mmu, level, -1);
	pt_free_now(pt);
}

/* EBR callback: touches nothing but the table and its metadata. */
static void pt_free_cb(struct ebr_head *head)
{
	pt_free_now(container_of(head, struct tdp_pt, ebr));
}

void tdp_pt_free_deferred(struct tdp_mmu *mmu, spte_t *spt, int level)
{
	struct tdp_pt *pt = pt_unhash(mmu, spt);

	account_table(mmu, level, -1);
	ebr_call(&pt->ebr, pt_free_cb);
}
