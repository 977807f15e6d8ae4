// SPDX-License-Identifier: MIT
/*
 * TDP MMU unit tests: roots, the fault path and its page-size choice,
 * stale-fault retries, the zap flows, fast zap, huge-page restriction and
 * recovery, flush counts, allocation failures, teardown, and concurrent
 * faults.
 */
#include <pthread.h>

#include "mm/tdp/internal.h"
#include "tests/host/mmu/util.h"
#include "tests/host/tap.h"

#define G  (GiB >> PAGE_SHIFT) /* pages per GiB */
#define M2 (2 * MiB >> PAGE_SHIFT)

static int owner;
static struct tdp_mmu *mmu;

static uint64_t host_pfn(uint64_t pa)
{
	return pa >> PAGE_SHIFT;
}

static void stats(struct tdp_mmu_stats *s)
{
	tdp_mmu_get_stats(mmu, s);
}

/* The counters agree with what the tables hold. */
static void check_counts(struct tdp_root *root, const char *when)
{
	struct tdp_mmu_stats s;
	uint64_t c[TDP_MAX_LEVEL + 1];
	int l;
	bool same = true;

	stats(&s);
	count_leaves(root, c);
	for (l = 1; l <= 3; l++)
		if (c[l] != s.leaves[l])
			same = false;
	ok(same, "leaf counters match the tables (%s)", when);
}

static void setup(void)
{
	mmu = tdp_mmu_create(&owner);
	BUG_ON(!mmu);
	/* 0: 2 GiB at 0, 1G-aligned host: 1 GiB leaves */
	BUG_ON(memslot_create(mmu, 0, 0, 2 * GiB, FAKE_HOST_BASE, 0));
	/* 1: 4 MiB at 4 GiB, host off by 4K: only 4K leaves */
	BUG_ON(memslot_create(mmu, 1, 4 * GiB, 4 * MiB,
			      FAKE_HOST_BASE + 4 * GiB + 4 * KiB, 0));
	/* 2: 6 MiB at 8 GiB, 2M-aligned host: 2M leaves */
	BUG_ON(memslot_create(mmu, 2, 8 * GiB, 6 * MiB,
			      FAKE_HOST_BASE + 10 * GiB + 2 * MiB, 0));
	/* 3: read-only 1 MiB at 12 GiB */
	BUG_ON(memslot_create(mmu, 3, 12 * GiB, 1 * MiB,
			      FAKE_HOST_BASE + 12 * GiB, MEMSLOT_READONLY));
}

static void test_roots(void)
{
	struct tdp_root *a = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	struct tdp_root *b = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);

	ok(a && a == b, "get_root returns the one valid root");
	ok(tdp_root_is_valid(a), "it is valid");
	ok((tdp_root_eptp(a) & ~0xfffull) == platform_virt_to_phys(a->spt),
	   "EPTP points at the root table");
	ok(!tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT | TDP_ROLE_MIRROR),
	   "mirror roots are refused for now");
	tdp_mmu_put_root(mmu, b);
	tdp_mmu_put_root(mmu, a);
}

static void test_fault_levels(struct tdp_root *r)
{
	struct walk w;
	struct tdp_mmu_stats s0, s1;

	stats(&s0);
	is_int(map(mmu, r, 5, TDP_ACC_READ), TDP_MAP_OK, "fault in slot 0");
	ok(walk_gfn(r, 5, &w) && w.level == 3, "1G-aligned slot: 1G leaf");
	is_int(w.pfn, host_pfn(FAKE_HOST_BASE) + 5, "right frame");
	ok(spte_allows(w.leaf, SPTE_RWX), "RWX for a writable slot");
	ok(walk_gfn(r, G - 1, &w), "the 1G leaf covers the whole GiB");
	stats(&s1);
	is_int(s1.pt_pages[3] - s0.pt_pages[3], 1, "one level-3 table made");
	is_int(map(mmu, r, 77, TDP_ACC_WRITE), TDP_MAP_OK, "spurious fault");
	stats(&s0);
	is_int(s0.pt_pages[3] + s0.pt_pages[2] + s0.pt_pages[1],
	       s1.pt_pages[3] + s1.pt_pages[2] + s1.pt_pages[1],
	       "spurious fault allocates nothing");

	is_int(map(mmu, r, 4 * G + 3, TDP_ACC_READ), TDP_MAP_OK, "slot 1");
	ok(walk_gfn(r, 4 * G + 3, &w) && w.level == 1,
	   "misaligned host: 4K leaf");
	is_int(w.pfn, host_pfn(FAKE_HOST_BASE + 4 * GiB + 4 * KiB) + 3,
	       "right frame");
	is_int(map(mmu, r, 8 * G + M2 + 9, TDP_ACC_EXEC), TDP_MAP_OK, "slot 2");
	ok(walk_gfn(r, 8 * G + M2 + 9, &w) && w.level == 2,
	   "2M-aligned host: 2M leaf");
	is_int(w.pfn, host_pfn(FAKE_HOST_BASE + 10 * GiB + 2 * MiB) + M2 + 9,
	       "right frame");

	is_int(map(mmu, r, 12 * G + 1, TDP_ACC_WRITE), TDP_MAP_READONLY,
	       "write to read-only slot refused");
	ok(!walk_gfn(r, 12 * G + 1, &w), "and nothing mapped");
	is_int(map(mmu, r, 12 * G + 1, TDP_ACC_READ), TDP_MAP_OK,
	       "read of read-only slot");
	ok(walk_gfn(r, 12 * G + 1, &w) && !(w.leaf & SPTE_W) &&
		   (w.leaf & SPTE_R),
	   "read-only leaf has no W");
	is_int(map(mmu, r, 100 * G, TDP_ACC_READ), TDP_MAP_NO_SLOT,
	       "no slot: NO_SLOT");
	is_int(tdp_map(mmu, r, 1ull << 48, TDP_ACC_READ), -EINVAL,
	       "gpa beyond 48 bits: -EINVAL");
	check_counts(r, "after faults");
}

static void test_stale_faults(void)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	struct tdp_fault f;
	struct walk w;
	int ret;

	tdp_fault_begin(mmu, &f, r, (4 * G + 100) << PAGE_SHIFT, TDP_ACC_READ);
	/* A memslot change between lookup and install. */
	BUG_ON(memslot_create(mmu, 9, 20 * GiB, 4 * KiB, FAKE_HOST_BASE, 0));
	ret = tdp_fault_finish(mmu, &f);
	is_int(ret, TDP_MAP_RETRY, "memslot generation moved: RETRY");
	ok(!walk_gfn(r, 4 * G + 100, &w), "nothing installed");
	BUG_ON(memslot_delete(mmu, 9));

	tdp_fault_begin(mmu, &f, r, (4 * G + 100) << PAGE_SHIFT, TDP_ACC_READ);
	tdp_mmu_zap_all_fast(mmu);
	ret = tdp_fault_finish(mmu, &f);
	is_int(ret, TDP_MAP_RETRY, "root invalidated: RETRY");
	ok(!tdp_root_is_valid(r), "old root invalid");
	is_int(map(mmu, r, 4 * G + 100, TDP_ACC_READ), TDP_MAP_RETRY,
	       "faults on an invalid root keep retrying");
	tdp_mmu_put_root(mmu, r);
}

static void test_unmap_range(struct tdp_root *r)
{
	uint64_t f0 = host_thread_flushes, i;
	struct tdp_mmu_stats s0, s1;
	struct walk w;
	bool gone = true;

	for (i = 0; i < 64; i++)
		BUG_ON(map(mmu, r, 4 * G + i, TDP_ACC_READ) != TDP_MAP_OK);
	is_int(host_thread_flushes - f0, 0, "installing needs no flush");
	stats(&s0);
	ok(tdp_mmu_unmap_range(mmu, 4 * G + 10, 4 * G + 50),
	   "unmap_range zapped something");
	stats(&s1);
	is_int(host_thread_flushes - f0, 1, "one flush for 40 leaves");
	is_int(s1.flushes - s0.flushes, 1, "counted as performed");
	is_int(s1.flush_requests - s0.flush_requests, 40, "40 requests");
	is_int(s1.flushes_avoided - s0.flushes_avoided, 39, "39 avoided");
	for (i = 10; i < 50; i++)
		if (walk_gfn(r, 4 * G + i, &w))
			gone = false;
	ok(gone, "zapped range unmapped");
	ok(walk_gfn(r, 4 * G + 9, &w) && walk_gfn(r, 4 * G + 50, &w),
	   "neighbours kept");
	is_int(s1.pt_pages[1], s0.pt_pages[1], "leaf zap frees no table");
	f0 = host_thread_flushes;
	ok(!tdp_mmu_unmap_range(mmu, 4 * G + 10, 4 * G + 50),
	   "second unmap finds nothing");
	is_int(host_thread_flushes - f0, 0,
	       "nothing reachable changed: 0 flushes");
	check_counts(r, "after unmap");
}

static void test_fast_zap(void)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT), *n;
	uint64_t f0, r0, i;
	int64_t pages0;
	struct tdp_mmu_stats s;

	for (i = 0; i < 300; i++)
		BUG_ON(map(mmu, r, 4 * G + i, TDP_ACC_READ) != TDP_MAP_OK);
	BUG_ON(map(mmu, r, 8 * G, TDP_ACC_READ) != TDP_MAP_OK);
	f0 = host_thread_flushes;
	r0 = host_thread_reloads;
	tdp_mmu_zap_all_fast(mmu);
	is_int(host_thread_flushes - f0, 0, "fast zap: no TLB flush");
	is_int(host_thread_reloads - r0, 1, "fast zap: one vCPU reload kick");
	ok(!tdp_root_is_valid(r), "root invalid");
	n = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	ok(n && n != r, "a fresh root is handed out");
	ebr_barrier(); /* the back half's tables */
	pages0 = host_pages_live();
	tdp_mmu_put_root(mmu, r);
	ebr_barrier();
	is_int(pages0 - host_pages_live(), 1,
	       "last put frees the (already zapped) root page");
	stats(&s);
	is_int(s.roots, 1, "one live root");
	is_int(s.leaves[1] + s.leaves[2] + s.leaves[3], 0, "no leaves left");
	is_int(s.pt_pages[1] + s.pt_pages[2] + s.pt_pages[3], 0,
	       "no tables left");
	tdp_mmu_put_root(mmu, n);
}

static void test_huge_restrict_recover(struct tdp_root *r)
{
	uint64_t gfn = 3 * M2 + 7, f0;
	struct walk w;
	unsigned long n;

	BUG_ON(map(mmu, r, gfn, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, gfn, &w) && w.level == 3, "starts as a 1G leaf");
	f0 = host_thread_flushes;
	is_int(tdp_mmu_restrict_huge(mmu, gfn), 0, "restrict");
	is_int(host_thread_flushes - f0, 1, "restricting zaps+flushes once");
	ok(!walk_gfn(r, gfn, &w), "huge leaf gone");
	BUG_ON(map(mmu, r, gfn, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, gfn, &w) && w.level == 1, "restricted: 4K leaf");
	BUG_ON(map(mmu, r, gfn + M2, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, gfn + M2, &w) && w.level == 2,
	   "next 2M block unrestricted: 2M leaf");
	is_int(tdp_mmu_restrict_huge(mmu, 100 * G), -ENOENT,
	       "restrict outside slots: -ENOENT");
	is_int(tdp_mmu_unrestrict_huge(mmu, gfn), 0, "unrestrict");
	is_int(tdp_mmu_unrestrict_huge(mmu, gfn), -EINVAL,
	       "unrestrict below zero: -EINVAL");

	f0 = host_thread_flushes;
	n = tdp_mmu_recover_huge_pages(mmu, 0, G);
	ok(n >= 1, "recovery zapped %lu table(s)", n);
	is_int(host_thread_flushes - f0, 1, "recovery flushes once");
	ok(!walk_gfn(r, gfn, &w), "recovered range unmapped");
	BUG_ON(map(mmu, r, gfn, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, gfn, &w) && w.level == 3, "refault maps 1G again");
	f0 = host_thread_flushes;
	is_int(tdp_mmu_recover_huge_pages(mmu, 0, G), 0,
	       "nothing left to recover");
	is_int(host_thread_flushes - f0, 0, "and no flush");
	check_counts(r, "after recovery");
}

/* A fault that wants a huge leaf where a table is replaces it and flushes
 * once, inside the fault. */
static void test_fault_replaces_table(struct tdp_root *r)
{
	uint64_t gfn = G + 5 * M2, f0;
	struct walk w;

	BUG_ON(tdp_mmu_restrict_huge(mmu, gfn));
	BUG_ON(map(mmu, r, gfn, TDP_ACC_READ) != TDP_MAP_OK);
	BUG_ON(!walk_gfn(r, gfn, &w) || w.level != 1);
	BUG_ON(tdp_mmu_unrestrict_huge(mmu, gfn));
	f0 = host_thread_flushes;
	is_int(map(mmu, r, gfn + 1, TDP_ACC_READ), TDP_MAP_OK,
	       "fault over a now-allowed huge page");
	ok(walk_gfn(r, gfn, &w) && w.level == 3, "table replaced by 1G leaf");
	is_int(host_thread_flushes - f0, 1, "one flush for the removed table");
	check_counts(r, "after table replacement");
}

static void test_zap_pt(struct tdp_root *r)
{
	struct tdp_flush fl;
	uint64_t gfn = 4 * G + 500;
	struct walk w;
	bool z;

	tdp_flush_init(&fl, true);
	BUG_ON(map(mmu, r, gfn, TDP_ACC_READ) != TDP_MAP_OK);
	rwlock_write_lock(&mmu->mmu_lock);
	ebr_read_lock();
	z = tdp_mmu_zap_pt(mmu, r, gfn, 2, &fl);
	ok(z, "zap_pt zapped the 4K table's parent entry");
	ok(fl.requests >= 2, "and asked for a flush");
	ok(!tdp_mmu_zap_pt(mmu, r, gfn, 2, &fl), "second time: none");
	tdp_flush_commit(mmu, &fl);
	ebr_read_unlock();
	rwlock_write_unlock(&mmu->mmu_lock);
	ok(!walk_gfn(r, gfn, &w), "unmapped");
}

static void test_enomem(void)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	int ret, i, okays = 0, noms = 0;

	tdp_mmu_unmap_range(mmu, 0, TDP_MAX_GFN);
	tdp_mmu_zap_all_fast(mmu);
	tdp_mmu_put_root(mmu, r);
	r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	host_alloc_fail_after(0);
	ret = map(mmu, r, 4 * G + 1, TDP_ACC_READ);
	host_alloc_fail_after(-1);
	is_int(ret, -ENOMEM, "allocation failure: -ENOMEM");
	host_srand(42);
	for (i = 0; i < 2000 && (!okays || !noms); i++) {
		if (i % 8 == 0) {
			/* fresh tables, so faults must allocate */
			tdp_mmu_put_root(mmu, r);
			tdp_mmu_zap_all_fast(mmu);
			r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
			BUG_ON(!r);
		}
		host_alloc_fail_rate(300000);
		ret = map(mmu, r, 4 * G + (i * 37) % 1024, TDP_ACC_READ);
		host_alloc_fail_rate(0);
		okays += ret == TDP_MAP_OK;
		noms += ret == -ENOMEM;
	}
	ok(okays > 0 && noms > 0, "random failures: %d ok, %d -ENOMEM", okays,
	   noms);
	check_counts(r, "after allocation failures");
	tdp_mmu_put_root(mmu, r);
}

struct fault_arg {
	uint64_t seed;
	int bad;
	struct tdp_root *root;
};

static void *fault_thread(void *p)
{
	struct fault_arg *a = p;
	uint64_t gfn;
	int i, ret;

	mmu_test_init();
	host_srand(a->seed);
	for (i = 0; i < 4000; i++) {
		gfn = 4 * G + host_rand() % 1024;
		do {
			ret = map(mmu, a->root, gfn, TDP_ACC_READ);
		} while (ret == TDP_MAP_RETRY);
		if (ret != TDP_MAP_OK)
			a->bad++;
		if ((i & 255) == 0)
			tdp_mmu_unmap_range(mmu, 4 * G + host_rand() % 1024,
					    4 * G + 1024);
	}
	host_thread_unregister();
	return NULL;
}

static void test_concurrent_faults(void)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	struct fault_arg a[4];
	pthread_t t[4];
	struct walk w;
	int i, bad = 0, wrong = 0;

	for (i = 0; i < 4; i++) {
		a[i] = (struct fault_arg){.seed = 1000 + i, .root = r};
		pthread_create(&t[i], NULL, fault_thread, &a[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	is_int(bad, 0, "concurrent faults all succeed");
	for (i = 0; i < 1024; i++)
		if (walk_gfn(r, 4 * G + i, &w) &&
		    w.pfn != host_pfn(FAKE_HOST_BASE + 4 * GiB + 4 * KiB) + i)
			wrong++;
	is_int(wrong, 0, "every mapping points at its frame");
	check_counts(r, "after concurrent faults");
	tdp_mmu_put_root(mmu, r);
}

static void test_max_level(struct tdp_root *r)
{
	struct walk w;

	is_int(tdp_mmu_set_max_huge_level(mmu, 0), -EINVAL,
	       "max level 0: -EINVAL");
	is_int(tdp_mmu_set_max_huge_level(mmu, 4), -EINVAL,
	       "max level 4: -EINVAL");
	tdp_mmu_unmap_range(mmu, 0, 2 * G);
	is_int(tdp_mmu_set_max_huge_level(mmu, 2), 0, "max level 2");
	BUG_ON(map(mmu, r, 7, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, 7, &w) && w.level == 2, "1G-capable slot maps 2M");
	is_int(tdp_mmu_set_max_huge_level(mmu, 1), 0, "max level 1");
	BUG_ON(map(mmu, r, G + 7, TDP_ACC_READ) != TDP_MAP_OK);
	ok(walk_gfn(r, G + 7, &w) && w.level == 1, "then 4K");
	BUG_ON(tdp_mmu_set_max_huge_level(mmu, 3));
	tdp_mmu_unmap_range(mmu, 0, 2 * G);
	check_counts(r, "after max level changes");
}

static bool never(void)
{
	return false;
}

static bool always(void)
{
	return true;
}

/* Yielding in the middle of a zap: flush first, resume where it was. */
static void test_yield(struct tdp_root *r)
{
	struct tdp_mmu_stats s0, s1;
	uint64_t f0, i;
	struct walk w;
	bool gone = true;

	for (i = 0; i < 1024; i++)
		BUG_ON(map(mmu, r, 4 * G + i, TDP_ACC_READ) != TDP_MAP_OK);
	stats(&s0);
	f0 = host_thread_flushes;
	host_should_yield_hook = always;
	ok(tdp_mmu_unmap_range(mmu, 4 * G, 4 * G + 1024), "zap with yields");
	host_should_yield_hook = never;
	stats(&s1);
	for (i = 0; i < 1024; i++)
		if (walk_gfn(r, 4 * G + i, &w))
			gone = false;
	ok(gone, "every leaf zapped across yields");
	ok(s1.yields - s0.yields >= 100, "it yielded (%llu times)",
	   (unsigned long long)(s1.yields - s0.yields));
	ok(host_thread_flushes - f0 <= 1 + s1.yields - s0.yields,
	   "flushes <= 1 + yields (%llu)",
	   (unsigned long long)(host_thread_flushes - f0));
	is_int(s1.flush_requests - s0.flush_requests, 1024, "1024 requests");
	check_counts(r, "after yielding zap");
}

/* Zapping invalid roots never flushes, not even when it yields. */
static void test_back_half_yields(void)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	struct tdp_mmu_stats s0, s1;
	uint64_t f0, i;

	for (i = 0; i < 1024; i++)
		BUG_ON(map(mmu, r, 4 * G + i, TDP_ACC_READ) != TDP_MAP_OK);
	BUG_ON(map(mmu, r, 8 * G, TDP_ACC_READ) != TDP_MAP_OK);
	tdp_mmu_put_root(mmu, r);
	stats(&s0);
	f0 = host_thread_flushes;
	host_should_yield_hook = always;
	tdp_mmu_zap_all_fast(mmu);
	host_should_yield_hook = never;
	stats(&s1);
	ok(s1.yields > s0.yields, "the back half yielded");
	is_int(host_thread_flushes - f0, 0, "and never flushed");
	is_int(s1.flush_requests - s0.flush_requests, 0, "nor asked to");
	ok(s1.flushes_avoided - s0.flushes_avoided >= 1025,
	   "every removed leaf counted as a flush avoided");
	is_int(s1.leaves[1] + s1.leaves[2] + s1.leaves[3], 0, "all zapped");
}

int main(void)
{
	int64_t pages0, objs0;
	struct tdp_root *r;

	mmu_test_init();
	host_should_yield_hook = never; /* exact flush counts; see test_yield */
	pages0 = host_pages_live();
	objs0 = host_objs_live();
	setup();
	test_roots();
	r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	test_fault_levels(r);
	test_unmap_range(r);
	test_huge_restrict_recover(r);
	test_fault_replaces_table(r);
	test_zap_pt(r);
	test_yield(r);
	test_max_level(r);
	tdp_mmu_put_root(mmu, r);
	test_stale_faults();
	test_fast_zap();
	test_back_half_yields();
	test_enomem();
	test_concurrent_faults();
	tdp_mmu_destroy(mmu);
	is_int(host_pages_live(), pages0, "teardown: every page back");
	is_int(host_objs_live(), objs0, "teardown: every object back");
	return tap_done();
}
