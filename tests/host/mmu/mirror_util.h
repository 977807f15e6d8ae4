/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests of protected VMs: real guest memory given to a guard,
 * and the mirror <-> guard equivalence check.
 */
#ifndef TIDAL_TESTS_HOST_MMU_MIRROR_UTIL_H
#define TIDAL_TESTS_HOST_MMU_MIRROR_UTIL_H

#include "mm/guard.h"
#include "tests/host/mmu/util.h"

/* A protected VM with @bytes of real, 2 MiB-aligned guest memory. */
struct pvm {
	struct guard_registry *reg;
	struct guard *guard;
	struct tdp_mmu *mmu;
	uint8_t *mem;
	uint64_t bytes;
	int owner;
};

/*
 * Create the registry, guard (4 levels, leaves up to @max_leaf), memory
 * (given to the guard) and the VM; slot 0 maps all the memory at gpa 0
 * unless @no_slot.
 */
void pvm_create(struct pvm *p, uint64_t bytes, unsigned int max_leaf,
		bool no_slot);
/* Tear down in order: VM, guard, memory, registry. */
void pvm_destroy(struct pvm *p);

static inline uint64_t pvm_pfn(const struct pvm *p)
{
	return platform_virt_to_phys(p->mem) >> PAGE_SHIFT;
}

/*
 * With mmu_lock held for write (nothing in flight): the mirror and the
 * guard's EPT hold the same leaves (gfn, level, frame, permissions), and
 * no mirror entry is FROZEN.  Returns the number of problems, reported
 * with diag(); *nleaves gets the mirror's leaf count.
 */
int mirror_check(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t *nleaves);
/* Take the write lock and EBR, run mirror_check, drop them. */
int mirror_check_locked(struct tdp_mmu *mmu, struct tdp_root *root,
			uint64_t *nleaves);

#endif
