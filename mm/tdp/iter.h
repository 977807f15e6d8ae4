/* SPDX-License-Identifier: MIT */
/*
 * The walker: visits the entries of one root that cover a GFN range, in
 * pre-order (an entry, then the table below it, then its next sibling),
 * going no lower than a minimum level.
 *
 * The caller is inside an EBR read-side section with mmu_lock held.  The
 * iterator reads each entry once into old_spte; callers change entries only
 * through the set_spte functions, which keep old_spte up to date, so that
 * stepping down after installing a table follows the new table.
 *
 *	struct tdp_iter it;
 *	for_each_tdp_spte(&it, root, 1, start, end) { ... }
 */
#ifndef TIDAL_MM_TDP_ITER_H
#define TIDAL_MM_TDP_ITER_H

#include "mm/tdp/spte.h"

struct tdp_root;

struct tdp_iter {
	struct tdp_root *root;
	/* table being walked at each level (index level - 1) */
	spte_t *tables[TDP_MAX_LEVEL];
	spte_t *sptep;	      /* entry being visited */
	spte_t old_spte;      /* its value when read */
	uint64_t gfn;	      /* first gfn the entry covers */
	uint64_t next_gfn;    /* where to resume after a restart */
	uint64_t yielded_gfn; /* next_gfn when the walk last yielded */
	uint64_t start, end;  /* the range, end exclusive */
	int level;
	int root_level;
	int min_level;
	bool valid;	      /* false once the walk is over */
	bool yielded;	      /* restarted: revisit the current entry */
	bool stop_on_invalid; /* end the walk if the root becomes invalid */
};

void tdp_iter_start(struct tdp_iter *it, struct tdp_root *root, int min_level,
		    uint64_t start, uint64_t end);
void tdp_iter_next(struct tdp_iter *it);
/* Walk down again from the root to it->next_gfn (after a yield). */
void tdp_iter_restart(struct tdp_iter *it);

static inline spte_t tdp_read_spte(spte_t *sptep)
{
	return __atomic_load_n(sptep, __ATOMIC_ACQUIRE);
}

#define for_each_tdp_spte(it, root, min_level, start, end)                 \
	for (tdp_iter_start(it, root, min_level, start, end); (it)->valid; \
	     tdp_iter_next(it))

#endif
