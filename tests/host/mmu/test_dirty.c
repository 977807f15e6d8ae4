// SPDX-License-Identifier: MIT
/*
 * Dirty logging, eager splitting, huge-page recovery and aging: unit tests
 * on one thread, with exact flush counts and leaf counts.
 */
#include "mm/tdp/internal.h"
#include "tests/host/mmu/util.h"
#include "tests/host/tap.h"

#define G  (GiB >> PAGE_SHIFT)
#define M2 (2 * MiB >> PAGE_SHIFT)

static int owner;
static struct tdp_mmu *mmu;
static struct tdp_root *root;

static struct tdp_mmu_stats st(void)
{
	struct tdp_mmu_stats s;

	tdp_mmu_get_stats(mmu, &s);
	return s;
}

/* The entry the CPU would use for @gfn (tables kept alive by the test). */
static spte_t *leaf_ptr(uint64_t gfn, int *level)
{
	spte_t *table = root->spt, s;
	int l;

	for (l = TDP_ROOT_LEVEL; l >= 1; l--) {
		s = tdp_read_spte(&table[tdp_spte_index(gfn, l)]);
		if (spte_is_leaf(s, l)) {
			*level = l;
			return &table[tdp_spte_index(gfn, l)];
		}
		if (!spte_is_present(s))
			return NULL;
		table = platform_phys_to_virt(spte_phys(s));
	}
	return NULL;
}

static int leaf_level(uint64_t gfn)
{
	int level = 0;

	leaf_ptr(gfn, &level);
	return level;
}

static bool writable(uint64_t gfn)
{
	struct walk w;

	return walk_gfn(root, gfn, &w) && (w.leaf & SPTE_W);
}

/* Number of writable leaves among [gfn, gfn + n). */
static uint64_t count_writable(uint64_t gfn, uint64_t n)
{
	uint64_t i, c = 0;

	for (i = 0; i < n; i++)
		c += writable(gfn + i);
	return c;
}

static void check_counts(const char *when)
{
	struct tdp_mmu_stats s = st();
	uint64_t c[TDP_MAX_LEVEL + 1];
	int l;
	bool same = true;

	count_leaves(root, c);
	for (l = 1; l <= 3; l++)
		same &= c[l] == s.leaves[l];
	ok(same, "leaf counters match the tables (%s): %llu/%llu/%llu", when,
	   (unsigned long long)c[1], (unsigned long long)c[2],
	   (unsigned long long)c[3]);
}

static void setup(void)
{
	mmu = tdp_mmu_create(&owner);
	BUG_ON(!mmu);
	/* 0: 1 GiB at 0, 1G-aligned host: 1 GiB leaves */
	BUG_ON(memslot_create(mmu, 0, 0, 1 * GiB, FAKE_HOST_BASE, 0));
	/* 1: 8 MiB at 4 GiB, 2M-aligned: 2 MiB leaves */
	BUG_ON(memslot_create(mmu, 1, 4 * GiB, 8 * MiB,
			      FAKE_HOST_BASE + 4 * GiB, 0));
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	BUG_ON(!root);
}

static void test_enable_split(void)
{
	struct tdp_mmu_stats s0, s1;
	uint64_t f0, bm[G / 64], i, n;
	bool any = false;

	is_int(map(mmu, root, 7, TDP_ACC_WRITE), TDP_MAP_OK, "write fault");
	is_int(leaf_level(7), 3, "mapped by a 1 GiB leaf");
	s0 = st();
	f0 = host_thread_flushes;
	is_int(memslot_set_flags(mmu, 0, MEMSLOT_DIRTY_LOG), 0,
	       "enable dirty logging");
	s1 = st();
	is_int(host_thread_flushes - f0, 1,
	       "one flush: the writable leaf was protected");
	is_int(s1.splits - s0.splits, 1 + 512, "1 GiB -> 512 x 2 MiB -> 4 KiB");
	is_int(s1.leaves[1], G, "the whole GiB is mapped by 4 KiB leaves");
	is_int(s1.leaves[3], 0, "no 1 GiB leaf left");
	is_int(s1.pt_pages[1] - s0.pt_pages[1], 512, "512 new 4 KiB tables");
	is_int(s1.pt_pages[2] - s0.pt_pages[2], 1, "one new 2 MiB table");
	is_int(count_writable(0, 4096), 0, "nothing writable after enabling");
	check_counts("after the split");
	is_int(tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64), 0, "get dirty log");
	for (i = 0; i < G / 64; i++)
		any |= bm[i] != 0;
	ok(!any, "no page dirty yet");

	/* Reads keep pages clean and read-only. */
	is_int(map(mmu, root, 9, TDP_ACC_READ), TDP_MAP_OK, "read fault");
	ok(!writable(9), "still read-only");
	/* Writes set the bit, then make the page writable. */
	f0 = host_thread_flushes;
	for (i = 0; i < 100; i++)
		BUG_ON(map(mmu, root, 64 + i * 3, TDP_ACC_WRITE));
	is_int(host_thread_flushes - f0, 0, "write faults do not flush");
	is_int(st().dirty_marked - s1.dirty_marked, 100, "100 pages marked");
	tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64);
	for (i = n = 0; i < G; i++)
		n += (bm[i / 64] >> (i % 64)) & 1;
	is_int(n, 100, "100 bits set");
	ok((bm[1] & 1) && (bm[1] & 8) && !(bm[1] & 2), "the right ones");
	is_int(count_writable(0, 4096), 100, "exactly they are writable");
	is_int(leaf_level(64), 1, "at 4 KiB");
}

static void test_clear(void)
{
	uint64_t bm[G / 64], f0, n;
	long ret;

	tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64);
	/* Clear half of the range first: only its pages lose write. */
	f0 = host_thread_flushes;
	ret = tdp_mmu_clear_dirty_log(mmu, 0, 0, 128, bm);
	is_int(host_thread_flushes - f0, 1, "one flush for the clear");
	n = count_writable(0, 128);
	ok(ret > 0 && n == 0, "cleared %ld bits, none writable below 128", ret);
	ok(count_writable(128, 4096) > 0, "pages past the range stay writable");
	f0 = host_thread_flushes;
	ret = tdp_mmu_clear_dirty_log(mmu, 0, 0, G, bm);
	is_int(host_thread_flushes - f0, 1, "one flush for the whole slot");
	is_int(count_writable(0, 4096), 0, "nothing writable");
	f0 = host_thread_flushes;
	is_int(tdp_mmu_clear_dirty_log(mmu, 0, 0, G, bm), 0,
	       "clear again: nothing to clear");
	is_int(host_thread_flushes - f0, 0, "and no flush");
	tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64);
	ok(!bm[1] && !bm[2] && !bm[3], "bitmap empty");

	/* A bit cleared with a mask bit clear stays. */
	BUG_ON(map(mmu, root, 200, TDP_ACC_WRITE));
	BUG_ON(map(mmu, root, 201, TDP_ACC_WRITE));
	bm[0] = 1ull << (200 - 192);
	is_int(tdp_mmu_clear_dirty_log(mmu, 0, 192, 64, bm), 1,
	       "clear one of two bits");
	ok(!writable(200) && writable(201), "only that page is protected");
	tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64);
	ok(bm[3] == 1ull << (201 - 192), "the other bit is still set");
	/* Rewriting a cleared page marks it again. */
	BUG_ON(map(mmu, root, 200, TDP_ACC_WRITE));
	tdp_mmu_get_dirty_log(mmu, 0, bm, G / 64);
	ok(bm[3] == 3ull << (200 - 192), "a new write marks it again");

	/* Errors. */
	is_int(tdp_mmu_clear_dirty_log(mmu, 0, 3, 64, bm), -EINVAL,
	       "clear: first not a multiple of 64: -EINVAL");
	is_int(tdp_mmu_clear_dirty_log(mmu, 0, G - 64, 128, bm), -EINVAL,
	       "clear: past the slot: -EINVAL");
	is_int(tdp_mmu_clear_dirty_log(mmu, 9, 0, 64, bm), -ENOENT,
	       "clear: no slot: -ENOENT");
	is_int(tdp_mmu_clear_dirty_log(mmu, 1, 0, 64, bm), -EINVAL,
	       "clear: slot not logging: -EINVAL");
	is_int(tdp_mmu_get_dirty_log(mmu, 1, bm, G / 64), -EINVAL,
	       "get: slot not logging: -EINVAL");
	is_int(tdp_mmu_get_dirty_log(mmu, 0, bm, 3), -EINVAL,
	       "get: buffer too small: -EINVAL");
	is_int(tdp_mmu_get_dirty_log(mmu, 9, bm, G / 64), -ENOENT,
	       "get: no slot: -ENOENT");
}

static void test_disable_recover(void)
{
	struct tdp_mmu_stats s0, s1;
	uint64_t f0;

	s0 = st();
	f0 = host_thread_flushes;
	is_int(memslot_set_flags(mmu, 0, 0), 0, "disable dirty logging");
	s1 = st();
	is_int(host_thread_flushes - f0, 1, "one flush for the recovery");
	ok(s1.recovered > s0.recovered, "tables recovered: %llu",
	   (unsigned long long)(s1.recovered - s0.recovered));
	is_int(s1.pt_pages[1] + s1.pt_pages[2], 0,
	       "every table below 1 GiB is gone");
	is_int(map(mmu, root, 5, TDP_ACC_WRITE), TDP_MAP_OK, "fault again");
	is_int(leaf_level(5), 3, "mapped by a 1 GiB leaf again");
	check_counts("after recovery");
	is_int(memslot_set_flags(mmu, 0, 0), 0, "disable twice: nothing to do");
}

static void test_no_eager_split(void)
{
	struct tdp_mmu_stats s0;
	uint64_t bm[M2 * 4 / 64];

	BUG_ON(map(mmu, root, 4 * G + 3, TDP_ACC_WRITE));
	is_int(leaf_level(4 * G + 3), 2, "2 MiB leaf in slot 1");
	tdp_mmu_set_eager_split(mmu, false);
	s0 = st();
	is_int(memslot_set_flags(mmu, 1, MEMSLOT_DIRTY_LOG), 0,
	       "enable logging without eager split");
	is_int(st().splits, s0.splits, "nothing split");
	ok(!writable(4 * G + 3), "the huge leaf is write-protected");
	is_int(leaf_level(4 * G + 3), 2, "and still 2 MiB");
	BUG_ON(map(mmu, root, 4 * G + 3, TDP_ACC_WRITE));
	is_int(leaf_level(4 * G + 3), 1, "a write maps it at 4 KiB");
	ok(writable(4 * G + 3) && !writable(4 * G + 4),
	   "only the written page is writable");
	tdp_mmu_get_dirty_log(mmu, 1, bm, ARRAY_SIZE(bm));
	ok(bm[0] == 8, "and only its bit is set");
	tdp_mmu_set_eager_split(mmu, true);
	check_counts("lazy split");
	BUG_ON(memslot_set_flags(mmu, 1, 0));
}

static void test_split_direct(void)
{
	struct tdp_mmu_stats s0;
	uint64_t f0;
	unsigned long n;

	BUG_ON(map(mmu, root, 100, TDP_ACC_WRITE));
	BUG_ON(leaf_level(100) != 3);
	s0 = st();
	f0 = host_thread_flushes;
	n = tdp_mmu_split_huge_pages(mmu, 0, G, 2);
	is_int(n, 1, "split to 2 MiB: one split");
	is_int(host_thread_flushes - f0, 0, "a split does not flush");
	is_int(leaf_level(100), 2, "now 2 MiB");
	ok(writable(100), "permissions kept");
	is_int(st().leaves[2] - s0.leaves[2], 512, "512 leaves of 2 MiB");
	is_int(tdp_mmu_split_huge_pages(mmu, 0, G, 2), 0,
	       "nothing left to split at that level");
	is_int(tdp_mmu_split_huge_pages(mmu, 0, G, 0), 0, "bad level: none");

	/* Out of memory: the leaf is zapped, never half-split. */
	s0 = st();
	host_alloc_fail_after(0);
	n = tdp_mmu_split_huge_pages(mmu, 0, 2 * M2, 1);
	host_alloc_fail_after(-1);
	is_int(n, 0, "no memory: nothing split");
	is_int(st().split_zaps - s0.split_zaps, 2, "both 2 MiB leaves zapped");
	is_int(leaf_level(100), 0, "the page is unmapped");
	is_int(leaf_level(2 * M2), 2, "the next block is untouched");
	check_counts("split fallback");
	BUG_ON(map(mmu, root, 100, TDP_ACC_WRITE));
	is_int(leaf_level(100), 3,
	       "a fault maps the whole GiB again, replacing the table");
}

static void test_age(void)
{
	spte_t *p;
	uint64_t f0, a0;
	int level;

	tdp_mmu_unmap_range(mmu, 0, 8 * G);
	BUG_ON(map(mmu, root, 4 * G + 1, TDP_ACC_READ));
	BUG_ON(map(mmu, root, 4 * G + M2, TDP_ACC_READ));
	ok(!tdp_mmu_test_age_gfn(mmu, 4 * G, 4 * G + 4 * M2),
	   "fresh mappings are not young (no access yet)");
	/* The CPU marks the first 2 MiB leaf accessed. */
	p = leaf_ptr(4 * G + 1, &level);
	BUG_ON(!p);
	__atomic_or_fetch(p, SPTE_ACCESSED, __ATOMIC_SEQ_CST);
	ok(tdp_mmu_test_age_gfn(mmu, 4 * G, 4 * G + 4 * M2), "test_age: young");
	ok(!tdp_mmu_test_age_gfn(mmu, 4 * G + M2, 4 * G + 2 * M2),
	   "test_age of the other block: old");
	ok(tdp_mmu_test_age_gfn(mmu, 4 * G, 4 * G + 4 * M2),
	   "test_age clears nothing");
	f0 = host_thread_flushes;
	a0 = st().aged;
	ok(tdp_mmu_age_gfn(mmu, 4 * G, 4 * G + 4 * M2), "age: was young");
	is_int(host_thread_flushes - f0, 0, "aging does not flush");
	is_int(st().aged - a0, 1, "one accessed bit cleared");
	ok(!(tdp_read_spte(p) & SPTE_ACCESSED) && spte_is_leaf(*p, 2),
	   "the bit is clear, the mapping stays");
	ok(!tdp_mmu_age_gfn(mmu, 4 * G, 4 * G + 4 * M2), "age again: old");
}

/* Drop every root and table; what is left is the memslots. */
static uint64_t bytes_without_tables(void)
{
	tdp_mmu_zap_all_fast(mmu);
	if (root)
		tdp_mmu_put_root(mmu, root);
	root = NULL;
	ebr_barrier();
	return st().bytes;
}

static void test_accounting_and_teardown(void)
{
	uint64_t b0, bm[64];

	b0 = bytes_without_tables();
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	is_int(memslot_create(mmu, 5, 16 * GiB, 16 * MiB,
			      FAKE_HOST_BASE + 16 * GiB, MEMSLOT_DIRTY_LOG),
	       0, "create a slot already logging");
	BUG_ON(map(mmu, root, 16 * G + 700, TDP_ACC_WRITE));
	is_int(leaf_level(16 * G + 700), 1, "mapped at 4 KiB");
	tdp_mmu_get_dirty_log(mmu, 5, bm, 64);
	ok(bm[10] == 1ull << (700 - 640), "write logged");
	BUG_ON(memslot_move(mmu, 5, 20 * GiB));
	tdp_mmu_get_dirty_log(mmu, 5, bm, 64);
	ok(bm[10] == 1ull << (700 - 640), "a move keeps the bitmap");
	BUG_ON(memslot_set_flags(mmu, 5, MEMSLOT_DIRTY_LOG | MEMSLOT_NO_HUGE));
	tdp_mmu_get_dirty_log(mmu, 5, bm, 64);
	ok(bm[10] == 1ull << (700 - 640), "a flags change keeps the bitmap");
	ok(bytes_without_tables() > b0,
	   "the slot and its bitmap are accounted");
	BUG_ON(memslot_delete(mmu, 5));
	is_int(bytes_without_tables(), b0, "bytes back where they were");
	tdp_mmu_destroy(mmu);
}

static bool never(void)
{
	return false;
}

int main(void)
{
	int64_t pages0, objs0;

	host_thread_register();
	/* Exact flush counts: no yields (the checker covers those). */
	host_should_yield_hook = never;
	ebr_init();
	pages0 = host_pages_live();
	objs0 = host_objs_live();
	setup();
	test_enable_split();
	test_clear();
	test_disable_recover();
	test_no_eager_split();
	test_split_direct();
	test_age();
	test_accounting_and_teardown();
	is_int(host_pages_live(), pages0, "teardown: no page leaked");
	is_int(host_objs_live(), objs0, "teardown: no object leaked");
	return tap_done();
}
