// SPDX-License-Identifier: MIT
#include <sched.h>

#include "tests/host/mmu/util.h"

bool walk_gfn(struct tdp_root *root, uint64_t gfn, struct walk *w)
{
	spte_t *table = root->spt, s;
	int level;

	w->leaf = 0;
	w->level = 0;
	w->pfn = 0;
	for (level = TDP_ROOT_LEVEL; level >= 1; level--) {
		s = __atomic_load_n(&table[tdp_spte_index(gfn, level)],
				    __ATOMIC_ACQUIRE);
		if (!spte_is_present(s))
			return false;
		if (spte_is_leaf(s, level)) {
			w->leaf = s;
			w->level = level;
			w->pfn = spte_pfn(s) +
				 (gfn - tdp_level_base(gfn, level));
			return true;
		}
		table = platform_phys_to_virt(spte_phys(s));
	}
	return false;
}

static void count_table(spte_t *table, int level, uint64_t *counts)
{
	unsigned int i;
	spte_t s;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		s = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (spte_is_leaf(s, level))
			counts[level]++;
		else if (spte_is_table(s, level))
			count_table(platform_phys_to_virt(spte_phys(s)),
				    level - 1, counts);
	}
}

void count_leaves(struct tdp_root *root, uint64_t counts[TDP_MAX_LEVEL + 1])
{
	int i;

	for (i = 0; i <= TDP_MAX_LEVEL; i++)
		counts[i] = 0;
	count_table(root->spt, TDP_ROOT_LEVEL, counts);
}

void mmu_test_init(void)
{
	static bool done;

	if (!done) {
		ebr_init();
		done = true;
	}
	host_thread_register();
}

bool map_retry_continue(unsigned long tries, uint64_t t0)
{
	/* Like a yield: lets the interleaving explorer run the others. */
	platform_sched_point(SCHED_YIELD, NULL);
	if (tries % MAP_RETRY_YIELD_EVERY)
		return true;
	sched_yield();
	return platform_time_ns() - t0 < MAP_RETRY_LIMIT_NS;
}

int map_retry(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
	      uint64_t access, unsigned long *tries)
{
	uint64_t t0 = platform_time_ns();
	unsigned long n = 0;
	int r;

	do {
		r = map(mmu, root, gfn, access);
	} while (r == TDP_MAP_RETRY && map_retry_continue(++n, t0));
	if (tries)
		*tries += n;
	return r;
}
