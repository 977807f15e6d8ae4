// SPDX-License-Identifier: MIT
/*
 * SPTE encoding and the walker (pre-order, ranges, minimum level, restart)
 * on hand-built tables.
 */
#include "mm/tdp/iter.h"
#include "mm/tdp/tdp_mmu.h"
#include "tests/host/mmu/util.h"
#include "tests/host/tap.h"

static void test_encoding(void)
{
	spte_t l4k = spte_make_leaf(0x12345, 1, SPTE_R | SPTE_W);
	spte_t l2m = spte_make_leaf(0x200, 2, SPTE_R | SPTE_X);
	spte_t wonly = spte_make_leaf(7, 1, SPTE_W);
	spte_t t = spte_make_table(0xabc000);

	ok(spte_is_present(l4k) && spte_is_leaf(l4k, 1), "4K leaf present");
	is_int(spte_pfn(l4k), 0x12345, "4K leaf pfn");
	ok(spte_allows(l4k, SPTE_W) && !spte_allows(l4k, SPTE_X),
	   "4K leaf perms");
	ok((l4k & SPTE_MT_MASK) == SPTE_MT_WB && (l4k & SPTE_IGNORE_PAT),
	   "leaf is write-back, ignores PAT");
	ok(!(l4k & SPTE_LARGE) && (l2m & SPTE_LARGE), "large bit only on huge");
	ok(spte_is_leaf(l2m, 2) && !spte_is_table(l2m, 2), "2M leaf is leaf");
	ok(spte_perms(wonly) == (SPTE_R | SPTE_W), "W implies R");
	ok(spte_is_table(t, 3) && !spte_is_leaf(t, 3), "table entry");
	is_int(spte_phys(t), 0xabc000, "table phys");
	ok(spte_is_table(t, 2), "table entry at level 2 (no large bit)");
	ok(!spte_is_present(SPTE_FROZEN) && spte_is_frozen(SPTE_FROZEN),
	   "FROZEN is not present");
	ok((SPTE_FROZEN & SPTE_RWX) == 0, "FROZEN has no R/W/X (CPU: empty)");
	ok(!spte_is_present(SPTE_NONPRESENT), "zero is empty");
	is_int(tdp_pages_per_level(3), 512 * 512, "pages per 1G");
	is_int(tdp_spte_index(0x12345, 1), 0x145, "index level 1");
	is_int(tdp_spte_index(0x12345, 2), 0x91, "index level 2");
	ok((tdp_make_eptp(0x5000) & 0xfff) == (6 | (3 << 3) | (1 << 6)),
	   "EPTP: WB, 4-level, A/D");
}

/* Build: root -> L3 table at index 0 -> L2 table at index 1 with a 4K
 * table at index 3 (two leaves) and a 2M leaf at index 4. */
struct tree {
	struct tdp_root root;
	spte_t *l3, *l2, *l1;
};

static void build(struct tree *t)
{
	t->root.spt = platform_page_alloc();
	t->root.role = TDP_ROLE_DEFAULT;
	t->l3 = platform_page_alloc();
	t->l2 = platform_page_alloc();
	t->l1 = platform_page_alloc();
	t->root.spt[0] = spte_make_table(platform_virt_to_phys(t->l3));
	t->l3[1] = spte_make_table(platform_virt_to_phys(t->l2));
	t->l2[3] = spte_make_table(platform_virt_to_phys(t->l1));
	t->l2[4] = spte_make_leaf(0x800, 2, SPTE_RWX);
	t->l1[0] = spte_make_leaf(0x10, 1, SPTE_RWX);
	t->l1[511] = spte_make_leaf(0x11, 1, SPTE_RWX);
}

static void unbuild(struct tree *t)
{
	platform_page_free(t->root.spt);
	platform_page_free(t->l3);
	platform_page_free(t->l2);
	platform_page_free(t->l1);
}

static void test_walker(void)
{
	uint64_t base = 512 * 512 + 3 * 512; /* gfn of l1[0] */
	struct tree t;
	struct tdp_iter it;
	int n = 0, present = 0, leaves = 0, last_level = 0;
	bool order_ok = true;
	uint64_t last_gfn = 0;

	build(&t);
	for_each_tdp_spte (&it, &t.root, 1, 0, TDP_MAX_GFN) {
		n++;
		if (spte_is_present(it.old_spte))
			present++;
		if (spte_is_leaf(it.old_spte, it.level))
			leaves++;
		/* pre-order: a lower level only right after its parent */
		if (it.level < last_level - 1)
			order_ok = false;
		if (it.level == last_level && it.gfn <= last_gfn)
			order_ok = false;
		last_level = it.level;
		last_gfn = it.gfn;
	}
	is_int(n, 512 * 4, "full walk visits 4 tables' entries");
	is_int(present, 6, "6 present entries");
	is_int(leaves, 3, "3 leaves");
	ok(order_ok, "pre-order");

	n = 0;
	for_each_tdp_spte (&it, &t.root, 1, base + 1, base + 512) {
		if (it.level == 1)
			n++;
	}
	is_int(n, 511, "range walk visits exactly the range at level 1");

	n = 0;
	for_each_tdp_spte (&it, &t.root, 2, 0, TDP_MAX_GFN) {
		if (it.level == 1)
			n++;
	}
	is_int(n, 0, "min_level 2 never reaches level 1");

	/* restart in the middle, as a yield would */
	for_each_tdp_spte (&it, &t.root, 1, base, base + 512) {
		if (it.level == 1 && it.gfn == base + 100)
			break;
	}
	it.next_gfn = base + 100;
	tdp_iter_restart(&it);
	ok(it.valid && it.level == 4 && it.gfn == 0,
	   "restart goes back to the root");
	n = 0;
	leaves = 0;
	for (; it.valid; tdp_iter_next(&it)) {
		if (it.level == 1) {
			n++;
			if (spte_is_leaf(it.old_spte, 1))
				leaves++;
		}
	}
	is_int(n, 412, "after restart: resumes at the gfn");
	is_int(leaves, 1, "after restart: sees the last leaf only");
	unbuild(&t);
}

int main(void)
{
	mmu_test_init();
	test_encoding();
	test_walker();
	return tap_done();
}
