// SPDX-License-Identifier: MIT
/*
 * tdp_mmu_prefault: page sizes, exact leaf and table counts, no flush,
 * memslot gaps, existing mappings, dirty-logging semantics, read-only
 * slots, errors, allocation failures, a race with faults, teardown.
 */
#include <pthread.h>

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

static bool never(void)
{
	return false;
}

static void vm_new(void)
{
	mmu = tdp_mmu_create(&owner);
	BUG_ON(!mmu);
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	BUG_ON(!root);
}

static void vm_free(void)
{
	tdp_mmu_put_root(mmu, root);
	tdp_mmu_destroy(mmu);
}

static bool counts_match(void)
{
	struct tdp_mmu_stats s = st();
	uint64_t c[TDP_MAX_LEVEL + 1];
	int l;

	count_leaves(root, c);
	for (l = 1; l <= 3; l++)
		if (c[l] != s.leaves[l]) {
			diag("level %d: %llu in the tables, %llu counted", l,
			     (unsigned long long)c[l],
			     (unsigned long long)s.leaves[l]);
			return false;
		}
	return true;
}

/*
 * Every page of [gfn, gfn + n) mapped at @level to host_base + offset,
 * with @perms.
 */
static bool mapped_as(uint64_t gfn, uint64_t n, uint64_t host_pfn, int level,
		      uint64_t perms)
{
	struct walk w;
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (!walk_gfn(root, gfn + i, &w) || w.level != level ||
		    w.pfn != host_pfn + i || spte_perms(w.leaf) != perms) {
			diag("gfn %#llx: mapped %d level %d pfn %#llx perms "
			     "%#llx",
			     (unsigned long long)(gfn + i),
			     walk_gfn(root, gfn + i, &w), w.level,
			     (unsigned long long)w.pfn,
			     (unsigned long long)spte_perms(w.leaf));
			return false;
		}
	}
	return true;
}

static bool unmapped(uint64_t gfn, uint64_t n)
{
	struct walk w;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (walk_gfn(root, gfn + i, &w))
			return false;
	return true;
}

static uint64_t pt_pages(const struct tdp_mmu_stats *s)
{
	return s->pt_pages[1] + s->pt_pages[2] + s->pt_pages[3];
}

#define HOST_PFN(off) ((FAKE_HOST_BASE + (off)) >> PAGE_SHIFT)

static void test_4k(void)
{
	struct tdp_mmu_stats s0, s1;
	uint64_t n = 4 * M2 + 100; /* 4 full tables and part of a fifth */

	vm_new();
	/* Host frames off by 4 KiB: nothing can be huge. */
	BUG_ON(memslot_create(mmu, 0, 0, 16 * MiB, FAKE_HOST_BASE + 4 * KiB,
			      0));
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 3, n), (long)n,
	       "4K: every page of the range reported mapped");
	s1 = st();
	ok(mapped_as(3, n, HOST_PFN(4 * KiB) + 3, 1, SPTE_RWX),
	   "4K: every page mapped at 4 KiB, right frame, RWX");
	ok(unmapped(0, 3) && unmapped(3 + n, 10),
	   "4K: nothing mapped outside the range");
	is_int(s1.leaves[1] - s0.leaves[1], n, "4K: leaf counter");
	is_int(s1.prefaulted - s0.prefaulted, n, "4K: prefaulted counter");
	/* root -> 1 L3 -> 1 L2 -> 5 L1 tables */
	is_int(pt_pages(&s1) - pt_pages(&s0), 7, "4K: 7 tables, no more");
	is_int(s1.flushes - s0.flushes, 0, "4K: no flush");
	is_int(s1.faults - s0.faults, 0, "4K: no fault taken");
	ok(counts_match(), "4K: leaf counters match the tables");
	/* Again: nothing changes. */
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 0, 4096), 4096,
	       "4K again over a superset");
	s1 = st();
	is_int(s1.leaves[1] - s0.leaves[1], 4096 - n,
	       "4K again: only the missing pages added");
	is_int(pt_pages(&s1) - pt_pages(&s0), 3,
	       "4K again: only the 3 missing tables");
	ok(mapped_as(0, 4096, HOST_PFN(4 * KiB), 1, SPTE_RWX),
	   "4K again: every page");
	vm_free();
}

static void test_huge(void)
{
	struct tdp_mmu_stats s0, s1;

	vm_new();
	BUG_ON(memslot_create(mmu, 0, 0, 2 * GiB, FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(mmu, 1, 4 * GiB, 8 * MiB, FAKE_HOST_BASE, 0));
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 0, 2 * G), (long)(2 * G),
	       "1G: whole slot");
	s1 = st();
	is_int(s1.leaves[3] - s0.leaves[3], 2, "1G: two 1 GiB leaves");
	ok(mapped_as(0, 2, HOST_PFN(0), 3, SPTE_RWX) &&
		   mapped_as(2 * G - 2, 2, HOST_PFN(0) + 2 * G - 2, 3,
			     SPTE_RWX),
	   "1G: frames");
	is_int(tdp_mmu_prefault(mmu, root, 4 * G + 5, 4 * M2 - 5),
	       (long)(4 * M2 - 5), "2M: slot 1 from an unaligned start");
	s1 = st();
	is_int(s1.leaves[2] - s0.leaves[2], 4, "2M: four 2 MiB leaves");
	ok(mapped_as(4 * G, 4 * M2, HOST_PFN(0), 2, SPTE_RWX),
	   "2M: frames, including the block's pages before the start");
	ok(counts_match(), "huge: counters match");

	/* A restricted block maps at 4 KiB, its neighbours stay huge. */
	BUG_ON(tdp_mmu_restrict_huge(mmu, 4 * G + M2 + 7));
	ok(unmapped(4 * G + M2, M2), "restrict zapped the 2 MiB leaf");
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 4 * G, 4 * M2), (long)(4 * M2),
	       "restricted: prefault the slot again");
	s1 = st();
	ok(mapped_as(4 * G + M2, M2, HOST_PFN(0) + M2, 1, SPTE_RWX),
	   "restricted block mapped at 4 KiB");
	is_int(s1.leaves[1] - s0.leaves[1], M2, "restricted: 512 leaves");
	is_int(s1.leaves[2], 3, "restricted: the 3 other blocks at 2 MiB");
	is_int(s1.flushes - s0.flushes, 0, "restricted: no flush");
	ok(counts_match(), "restricted: counters match");
	BUG_ON(tdp_mmu_unrestrict_huge(mmu, 4 * G + M2 + 7));

	vm_free();

	vm_new();
	BUG_ON(memslot_create(mmu, 0, 0, 1 * GiB, FAKE_HOST_BASE, 0));
	BUG_ON(tdp_mmu_set_max_huge_level(mmu, 2));
	is_int(tdp_mmu_prefault(mmu, root, 0, G), (long)G,
	       "max level 2: 1 GiB slot");
	is_int(st().leaves[2], 512, "max level 2: 512 leaves of 2 MiB");
	ok(counts_match(), "max level 2: counters match");
	vm_free();
}

static void test_gaps_and_errors(void)
{
	long r;

	vm_new();
	BUG_ON(memslot_create(mmu, 0, 0, 1 * MiB, FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(mmu, 1, 1 * MiB, 1 * MiB,
			      FAKE_HOST_BASE + 8 * MiB, 0));
	BUG_ON(memslot_create(mmu, 2, 4 * MiB, 1 * MiB, FAKE_HOST_BASE, 0));
	r = tdp_mmu_prefault(mmu, root, 10, 2000);
	is_int(r, 512 - 10, "two adjacent slots, stops at the gap");
	ok(mapped_as(10, 246, HOST_PFN(0) + 10, 1, SPTE_RWX) &&
		   mapped_as(256, 256, HOST_PFN(8 * MiB), 1, SPTE_RWX),
	   "each slot with its own frames");
	is_int(tdp_mmu_prefault(mmu, root, 512, 100), -ENOENT,
	       "in the gap: -ENOENT");
	ok(unmapped(512, 512), "nothing mapped in the gap");
	is_int(tdp_mmu_prefault(mmu, root, 0, 0), -EINVAL, "0 pages: -EINVAL");
	is_int(tdp_mmu_prefault(mmu, root, TDP_MAX_GFN, 1), -EINVAL,
	       "beyond the guest-physical width: -EINVAL");
	is_int(tdp_mmu_prefault(mmu, root, TDP_MAX_GFN - 1, 2), -EINVAL,
	       "range crossing the width: -EINVAL");
	tdp_mmu_zap_all_fast(mmu);
	is_int(tdp_mmu_prefault(mmu, root, 0, 10), -EAGAIN,
	       "invalid root: -EAGAIN");
	tdp_mmu_put_root(mmu, root);
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	is_int(tdp_mmu_prefault(mmu, root, 0, 10), 10, "fresh root: works");
	vm_free();
}

/* Faults first, then prefault: the tables and leaves are reused. */
static void test_existing(void)
{
	struct tdp_mmu_stats s0, s1;
	struct walk w;

	vm_new();
	BUG_ON(memslot_create(mmu, 0, 0, 4 * MiB, FAKE_HOST_BASE,
			      MEMSLOT_NO_HUGE));
	BUG_ON(memslot_create(mmu, 1, 1 * GiB, 2 * MiB, FAKE_HOST_BASE,
			      MEMSLOT_READONLY));
	is_int(map(mmu, root, 5, TDP_ACC_WRITE), TDP_MAP_OK, "fault gfn 5");
	is_int(map(mmu, root, M2 + 1, TDP_ACC_READ), TDP_MAP_OK,
	       "fault gfn 513");
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 0, 2 * M2), (long)(2 * M2),
	       "prefault around faulted pages");
	s1 = st();
	is_int(s1.leaves[1] - s0.leaves[1], 2 * M2 - 2,
	       "only the missing leaves added");
	is_int(pt_pages(&s1) - pt_pages(&s0), 0,
	       "the faults' tables were reused");
	ok(mapped_as(0, 2 * M2, HOST_PFN(0), 1, SPTE_RWX), "all RWX");
	ok(counts_match(), "existing: counters match");

	is_int(tdp_mmu_prefault(mmu, root, G, M2), (long)M2, "read-only slot");
	ok(walk_gfn(root, G, &w) && w.level == 2 &&
		   spte_perms(w.leaf) == (SPTE_R | SPTE_X),
	   "read-only slot: a 2 MiB leaf without W");
	vm_free();
}

/* Dirty logging: W only where the bit is set; no bit ever set. */
static void test_dirty(void)
{
	uint64_t bm[M2 / 64], bm2[M2 / 64], i, bad = 0;
	struct tdp_mmu_stats s0, s1;
	struct walk w;

	vm_new();
	BUG_ON(memslot_create(mmu, 0, 0, 2 * MiB, FAKE_HOST_BASE,
			      MEMSLOT_DIRTY_LOG));
	for (i = 0; i < M2; i += 7)
		BUG_ON(map(mmu, root, i, TDP_ACC_WRITE));
	BUG_ON(tdp_mmu_get_dirty_log(mmu, 0, bm, M2 / 64));
	/* Clear every bit but those of the pages 0, 70, 140, ... */
	for (i = 0; i < M2 / 64; i++)
		bm2[i] = bm[i];
	for (i = 0; i < M2; i += 70)
		bm2[i / 64] &= ~(1ull << (i % 64));
	BUG_ON(tdp_mmu_clear_dirty_log(mmu, 0, 0, M2, bm2) < 0);
	tdp_mmu_unmap_range(mmu, 0, M2);
	s0 = st();
	is_int(tdp_mmu_prefault(mmu, root, 0, M2), (long)M2,
	       "logged slot prefaulted");
	s1 = st();
	BUG_ON(tdp_mmu_get_dirty_log(mmu, 0, bm2, M2 / 64));
	for (i = 0; i < M2; i++) {
		bool set = i % 70 == 0;

		if (!walk_gfn(root, i, &w) || w.level != 1 ||
		    !!(w.leaf & SPTE_W) != set ||
		    !!(bm2[i / 64] & (1ull << (i % 64))) != set)
			bad++;
	}
	is_int(bad, 0, "logged: 4 KiB leaves, writable iff the bit is set");
	is_int(s1.dirty_marked - s0.dirty_marked, 0, "logged: no bit set");
	is_int(s1.flushes - s0.flushes, 0, "logged: no flush");
	/* The first write to a clean page still faults and marks it. */
	s0 = st();
	is_int(map(mmu, root, 1, TDP_ACC_WRITE), TDP_MAP_OK,
	       "write to a clean page faults");
	s1 = st();
	is_int(s1.dirty_marked - s0.dirty_marked, 1, "and marks its bit");
	ok(walk_gfn(root, 1, &w) && (w.leaf & SPTE_W), "then it is writable");
	ok(counts_match(), "logged: counters match");
	vm_free();
}

/* Allocation failures: a clean error or partial progress, no leak. */
static void test_nomem(void)
{
	long r;
	int k, partial = 0, failed = 0;

	for (k = 0; k < 12; k++) {
		vm_new();
		BUG_ON(memslot_create(mmu, 0, 0, 64 * MiB,
				      FAKE_HOST_BASE + 4 * KiB, 0));
		host_alloc_fail_after(k * 3);
		r = tdp_mmu_prefault(mmu, root, 0, 32 * M2);
		host_alloc_fail_after(-1);
		if (r == -ENOMEM)
			failed++;
		else if (r > 0 && r < (long)(32 * M2))
			partial++;
		if (!counts_match() ||
		    (r > 0 && !mapped_as(0, (uint64_t)r, HOST_PFN(4 * KiB), 1,
					 SPTE_RWX)))
			break;
		/* And it completes once memory is back. */
		if (tdp_mmu_prefault(mmu, root, 0, 32 * M2) != (long)(32 * M2))
			break;
		vm_free();
	}
	is_int(k, 12, "allocation failures: counters right, progress mapped");
	ok(failed > 0, "some runs failed with -ENOMEM (%d)", failed);
	ok(partial > 0, "some reported partial progress (%d)", partial);
	if (k < 12)
		vm_free();
}

struct racer {
	pthread_barrier_t *go;
	int id;
	uint64_t errors;
};

#define RACE_PAGES (8 * M2)

static void *race_thread(void *p)
{
	struct racer *r = p;
	uint64_t i;
	int ret;

	host_thread_register();
	pthread_barrier_wait(r->go);
	if (r->id == 0) {
		if (tdp_mmu_prefault(mmu, root, 0, RACE_PAGES) !=
		    (long)RACE_PAGES)
			r->errors++;
	} else {
		/* Fault from the end backwards, to meet the prefault. */
		for (i = RACE_PAGES; i-- > 0;) {
			do
				ret = map(mmu, root, i,
					  i & 1 ? TDP_ACC_WRITE : TDP_ACC_READ);
			while (ret == TDP_MAP_RETRY);
			r->errors += ret != TDP_MAP_OK;
		}
	}
	host_thread_unregister();
	return NULL;
}

static void test_race(void)
{
	struct racer r[3];
	pthread_t t[3];
	pthread_barrier_t go;
	uint64_t errors = 0;
	int i, rounds, bad = 0;

	for (rounds = 0; rounds < 20; rounds++) {
		vm_new();
		BUG_ON(memslot_create(mmu, 0, 0, RACE_PAGES << PAGE_SHIFT,
				      FAKE_HOST_BASE + 4 * KiB, 0));
		pthread_barrier_init(&go, NULL, 3);
		for (i = 0; i < 3; i++) {
			r[i] = (struct racer){&go, i, 0};
			pthread_create(&t[i], NULL, race_thread, &r[i]);
		}
		for (i = 0; i < 3; i++) {
			pthread_join(t[i], NULL);
			errors += r[i].errors;
		}
		pthread_barrier_destroy(&go);
		if (!counts_match() ||
		    !mapped_as(0, RACE_PAGES, HOST_PFN(4 * KiB), 1, SPTE_RWX) ||
		    st().leaves[1] != RACE_PAGES)
			bad++;
		vm_free();
	}
	is_int(errors, 0, "race with faults: no error");
	is_int(bad, 0, "race with faults: every page once, counters right");
}

int main(void)
{
	int64_t pages0, objs0;

	host_thread_register();
	host_should_yield_hook = never;
	ebr_init();
	pages0 = host_pages_live();
	objs0 = host_objs_live();
	test_4k();
	test_huge();
	test_gaps_and_errors();
	test_existing();
	test_dirty();
	test_nomem();
	test_race();
	ebr_barrier();
	is_int(host_pages_live(), pages0, "teardown: no page leaked");
	is_int(host_objs_live(), objs0, "teardown: no object leaked");
	return tap_done();
}
