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

/*
 * How long a test lets one fault retry before calling it stuck.  A retry
 * waits for another thread to finish its change (a FROZEN entry held
 * across a guard call, a lost compare-and-exchange); on a loaded host
 * that thread may be preempted for a long time, so the bound is time,
 * not a count, and the retrying thread yields now and then, as a vCPU
 * going back to the guest would let the holder run.
 */
#define MAP_RETRY_LIMIT_NS (20ull * 1000 * 1000 * 1000)
#define MAP_RETRY_YIELD_EVERY 64

/* Yield every MAP_RETRY_YIELD_EVERY tries; true while under the limit. */
bool map_retry_continue(unsigned long tries, uint64_t t0);

/* map() until it gives anything but TDP_MAP_RETRY, or the time limit. */
int map_retry(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
	      uint64_t access, unsigned long *tries);

#endif
