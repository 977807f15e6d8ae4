/* SPDX-License-Identifier: MIT */
/* Helpers shared by the TDP MMU host tests. */
#ifndef TIDAL_TESTS_HOST_MMU_UTIL_H
#define TIDAL_TESTS_HOST_MMU_UTIL_H

#include "mm/memslot.h"
#include "mm/tdp/tdp_mmu.h"
#include "tests/host/platform_host.h"

/* Fake host-physical memory for slots: never dereferenced. */
#define FAKE_HOST_BASE (1ull << 40)

/* Result of a software walk of a root, as the CPU would do it. */
struct walk {
	spte_t leaf;  /* 0 if not mapped */
	int level;    /* level of the leaf */
	uint64_t pfn; /* frame for the walked gfn */
};

/* Walk @root for @gfn (tables read atomically; caller keeps them alive). */
bool walk_gfn(struct tdp_root *root, uint64_t gfn, struct walk *w);
/* Count present leaves per level under @root. */
void count_leaves(struct tdp_root *root, uint64_t counts[TDP_MAX_LEVEL + 1]);

/* Thread setup for tests using EBR and locks. */
void mmu_test_init(void);

static inline int map(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
		      uint64_t access)
{
	return tdp_map(mmu, root, gfn << PAGE_SHIFT, access);
}

#endif
