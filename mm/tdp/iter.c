// SPDX-License-Identifier: MIT
/*
 * The TDP walker.  See iter.h.
 */
#include "mm/tdp/iter.h"
#include "mm/tdp/tdp_mmu.h"

static void read_current(struct tdp_iter *it)
{
	spte_t *table = it->tables[it->level - 1];

	it->sptep = &table[tdp_spte_index(it->gfn, it->level)];
	it->old_spte = tdp_read_spte(it->sptep);
}

void tdp_iter_restart(struct tdp_iter *it)
{
	it->yielded = false;
	it->yielded_gfn = it->next_gfn;
	it->level = it->root_level;
	it->gfn = tdp_level_base(it->next_gfn, it->level);
	it->tables[it->level - 1] = it->root->spt;
	it->valid = it->next_gfn < it->end &&
		    it->gfn < tdp_pages_per_level(it->root_level + 1);
	if (it->valid)
		read_current(it);
}

void tdp_iter_start(struct tdp_iter *it, struct tdp_root *root, int min_level,
		    uint64_t start, uint64_t end)
{
	it->root = root;
	it->root_level = (int)(root->role & TDP_ROLE_LEVEL_MASK);
	it->min_level = min_level;
	it->start = start;
	it->end = MIN(end, tdp_pages_per_level(it->root_level + 1));
	it->next_gfn = start;
	it->stop_on_invalid = false;
	tdp_iter_restart(it);
}

/* Go into the table the current entry points to, if it is one. */
static bool step_down(struct tdp_iter *it)
{
	spte_t s = it->old_spte;

	if (it->level <= it->min_level || !spte_is_table(s, it->level))
		return false;
	it->level--;
	it->tables[it->level - 1] = platform_phys_to_virt(spte_phys(s));
	it->gfn = tdp_level_base(it->next_gfn, it->level);
	if (it->gfn < it->start)
		it->gfn = tdp_level_base(it->start, it->level);
	read_current(it);
	return true;
}

/* Go to the next entry in the same table, unless this was the last one. */
static bool step_side(struct tdp_iter *it)
{
	uint64_t size = tdp_pages_per_level(it->level);

	if (tdp_spte_index(it->gfn, it->level) == SPTE_PER_PAGE - 1)
		return false;
	it->gfn += size;
	it->next_gfn = it->gfn;
	read_current(it);
	return true;
}

static bool step_up(struct tdp_iter *it)
{
	if (it->level == it->root_level)
		return false;
	it->level++;
	it->gfn = tdp_level_base(it->gfn, it->level);
	return true;
}

void tdp_iter_next(struct tdp_iter *it)
{
	if (it->yielded) {
		/* tdp_iter_restart() already put us on a fresh entry. */
		it->yielded = false;
		return;
	}
	if (step_down(it))
		goto check;
	/* Past this entry: the resume point moves beyond what it covers. */
	it->next_gfn = it->gfn + tdp_pages_per_level(it->level);
	for (;;) {
		if (step_side(it))
			goto check;
		if (!step_up(it)) {
			it->valid = false;
			return;
		}
	}
check:
	if (it->gfn >= it->end)
		it->valid = false;
}
