// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "tests/host/mmu/mirror_util.h"
#include "tests/host/tap.h"

void pvm_create(struct pvm *p, uint64_t bytes, unsigned int max_leaf,
		bool no_slot)
{
	struct guard_config cfg = {.levels = 4, .max_leaf = max_leaf};

	memset(p, 0, sizeof(*p));
	p->bytes = bytes;
	/* C11: the size is a multiple of the alignment. */
	p->mem = aligned_alloc(2 * MiB, (bytes + 2 * MiB - 1) & ~(2 * MiB - 1));
	BUG_ON(!p->mem);
	memset(p->mem, 0xa5, bytes); /* "guest data" the guard must scrub */
	BUG_ON(guard_registry_create(&p->reg));
	BUG_ON(guard_create(p->reg, &cfg, &p->guard));
	BUG_ON(guard_add_memory(p->guard, pvm_pfn(p), bytes >> PAGE_SHIFT, 0));
	p->mmu = tdp_mmu_create_protected(&p->owner, p->guard);
	BUG_ON(!p->mmu);
	if (!no_slot)
		BUG_ON(memslot_create(p->mmu, 0, 0, bytes,
				      platform_virt_to_phys(p->mem), 0));
}

void pvm_destroy(struct pvm *p)
{
	tdp_mmu_destroy(p->mmu);
	guard_destroy(p->guard);
	BUG_ON(guard_registry_destroy(p->reg));
	free(p->mem);
	memset(p, 0, sizeof(*p));
}

struct mcheck {
	struct guard *g;
	uint64_t leaves;
	int bad;
};

static void check_table(struct mcheck *c, spte_t *table, int level,
			uint64_t gfn)
{
	uint64_t step = tdp_pages_per_level(level);
	struct guard_leaf gl;
	unsigned int i;
	spte_t s;
	int err;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		uint64_t egfn = gfn + i * step;

		s = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (spte_is_frozen(s)) {
			if (c->bad++ < 5)
				diag("mirror entry gfn %#llx level %d FROZEN",
				     (unsigned long long)egfn, level);
			continue;
		}
		if (spte_is_table(s, level)) {
			check_table(c, platform_phys_to_virt(spte_phys(s)),
				    level - 1, egfn);
			continue;
		}
		if (!spte_is_leaf(s, level))
			continue;
		c->leaves++;
		err = guard_lookup(c->g, egfn, &gl);
		if (err || gl.gfn != egfn || gl.level != level ||
		    gl.pfn != spte_pfn(s) || gl.prot != spte_perms(s) ||
		    gl.mt != GUARD_MT_WB) {
			if (c->bad++ < 5)
				diag("gfn %#llx level %d pfn %#llx: guard has "
				     "%s level %d pfn %#llx prot %u",
				     (unsigned long long)egfn, level,
				     (unsigned long long)spte_pfn(s),
				     guard_strerror(err), err ? 0 : gl.level,
				     err ? 0ull : (unsigned long long)gl.pfn,
				     err ? 0 : gl.prot);
		}
	}
}

int mirror_check(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t *nleaves)
{
	struct mcheck c = {.g = mmu->guard};
	struct guard_stats gs;

	check_table(&c, root->spt, TDP_ROOT_LEVEL, 0);
	guard_get_stats(mmu->guard, &gs);
	/* Every mirror leaf is in the guard: equal counts mean no extra. */
	if (gs.leaves_live != c.leaves) {
		diag("mirror has %llu leaves, guard %llu",
		     (unsigned long long)c.leaves,
		     (unsigned long long)gs.leaves_live);
		c.bad++;
	}
	if (nleaves)
		*nleaves = c.leaves;
	return c.bad;
}

int mirror_check_locked(struct tdp_mmu *mmu, struct tdp_root *root,
			uint64_t *nleaves)
{
	int bad;

	rwlock_write_lock(&mmu->mmu_lock);
	ebr_read_lock();
	bad = mirror_check(mmu, root, nleaves);
	ebr_read_unlock();
	rwlock_write_unlock(&mmu->mmu_lock);
	return bad;
}
