// SPDX-License-Identifier: MIT
/*
 * The VM-level MMU object: creation, teardown, statistics.
 */
#include "mm/tdp/internal.h"
#include "mm/memslot.h"

struct tdp_mmu *tdp_mmu_create(void *owner)
{
	struct tdp_mmu *mmu = platform_zalloc(sizeof(*mmu));

	if (!mmu)
		return NULL;
	mmu->pt_hash =
		platform_zalloc(TDP_PT_HASH_BUCKETS * sizeof(*mmu->pt_hash));
	if (!mmu->pt_hash)
		goto fail;
	/* Aligned by hand: the allocator promises less than a cache line. */
	mmu->pcpu_mem = platform_zalloc(platform_cpu_max() *
						sizeof(struct tdp_pcpu_stats) +
					sizeof(struct tdp_pcpu_stats) - 1);
	if (!mmu->pcpu_mem)
		goto fail;
	mmu->pcpu = (struct tdp_pcpu_stats *)ALIGN_UP(
		(uintptr_t)mmu->pcpu_mem, sizeof(struct tdp_pcpu_stats));
	/* Faults read-lock it from every vCPU: the flavour that scales. */
	if (!rwlock_init_percpu(&mmu->mmu_lock))
		goto fail;
	spin_lock_init(&mmu->roots_lock);
	spin_lock_init(&mmu->pt_lock);
	spin_lock_init(&mmu->slots_update);
	list_init(&mmu->roots);
	list_init(&mmu->invalid_roots);
	list_init(&mmu->observers);
	mmu->slot_flush_policy = TDP_SLOT_FLUSH_TARGETED;
	mmu->max_huge_level = TDP_MAX_HUGE_LEVEL;
	mmu->eager_split = true;
	mmu->owner = owner;
	if (memslot_init(mmu))
		goto fail;
	return mmu;
fail:
	rwlock_destroy(&mmu->mmu_lock);
	platform_free(mmu->pcpu_mem);
	platform_free(mmu->pt_hash);
	platform_free(mmu);
	return NULL;
}

void tdp_mmu_destroy(struct tdp_mmu *mmu)
{
	unsigned int i;

	tdp_mirror_teardown(mmu);
	tdp_mmu_zap_all_fast(mmu);
	/* Roots still referenced would keep tables we are about to lose. */
	if (__atomic_load_n(&mmu->stats.roots, __ATOMIC_SEQ_CST))
		panic("tdp_mmu_destroy: %llu roots still referenced",
		      (unsigned long long)mmu->stats.roots);
	memslot_fini(mmu);
	/* Run every deferred free (tables, roots, old slot sets). */
	ebr_barrier();
	for (i = 0; i < TDP_PT_HASH_BUCKETS; i++)
		BUG_ON(mmu->pt_hash[i]);
	WARN_ON(mmu->stats.bytes != 0);
	rwlock_destroy(&mmu->mmu_lock);
	platform_free(mmu->pcpu_mem);
	platform_free(mmu->pt_hash);
	platform_free(mmu);
}

void tdp_mmu_get_stats(struct tdp_mmu *mmu, struct tdp_mmu_stats *out)
{
	const uint64_t *src = (const uint64_t *)&mmu->stats;
	uint64_t *dst = (uint64_t *)out;
	const struct tdp_pcpu_stats *p;
	unsigned int c;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	for (c = 0; c < platform_cpu_max(); c++) {
		p = &mmu->pcpu[c];
		for (i = 0; i <= TDP_MAX_LEVEL; i++)
			out->leaves[i] += __atomic_load_n(&p->leaves[i],
							  __ATOMIC_RELAXED);
		out->faults += __atomic_load_n(&p->faults, __ATOMIC_RELAXED);
		out->fault_retries +=
			__atomic_load_n(&p->fault_retries, __ATOMIC_RELAXED);
	}
}

void tdp_mmu_set_slot_flush_policy(struct tdp_mmu *mmu,
				   enum tdp_slot_flush_policy policy)
{
	__atomic_store_n(&mmu->slot_flush_policy, policy, __ATOMIC_RELAXED);
}

int tdp_mmu_set_max_huge_level(struct tdp_mmu *mmu, int level)
{
	if (level < 1 || level > TDP_MAX_HUGE_LEVEL)
		return -EINVAL;
	__atomic_store_n(&mmu->max_huge_level, level, __ATOMIC_RELAXED);
	return 0;
}

void tdp_mmu_set_eager_split(struct tdp_mmu *mmu, bool on)
{
	__atomic_store_n(&mmu->eager_split, on, __ATOMIC_RELAXED);
}

void tdp_mmu_set_fault_exclusive(struct tdp_mmu *mmu, bool on)
{
	__atomic_store_n(&mmu->fault_exclusive, on, __ATOMIC_RELAXED);
}
