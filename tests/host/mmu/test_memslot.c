// SPDX-License-Identifier: MIT
/*
 * Memslot tests: validation errors, create/delete/move/flags, generations,
 * lock-free lookup, observers, the DELETE/MOVE flush policies and what they
 * leave in the MMU, and teardown.
 */
#include "tests/host/mmu/util.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#define G (GiB >> PAGE_SHIFT)

static int owner;

struct obs {
	struct memslot_observer o;
	int calls;
	uint32_t last_id;
	uint64_t last_gfn;
};

static void on_removed(struct memslot_observer *o, const struct memslot *old)
{
	struct obs *b = container_of(o, struct obs, o);

	b->calls++;
	b->last_id = old->id;
	b->last_gfn = old->base_gfn;
}

static uint64_t gen(struct tdp_mmu *mmu)
{
	return memslot_set_current(mmu)->generation;
}

static void test_validation(struct tdp_mmu *mmu)
{
	int i, ret = 0;

	is_int(memslot_create(mmu, 0, 1, 4096, FAKE_HOST_BASE, 0), -EINVAL,
	       "unaligned gpa: -EINVAL");
	is_int(memslot_create(mmu, 0, 0, 100, FAKE_HOST_BASE, 0), -EINVAL,
	       "unaligned size: -EINVAL");
	is_int(memslot_create(mmu, 0, 0, 0, FAKE_HOST_BASE, 0), -EINVAL,
	       "zero size: -EINVAL");
	is_int(memslot_create(mmu, 0, 0, 4096, FAKE_HOST_BASE + 8, 0), -EINVAL,
	       "unaligned host base: -EINVAL");
	is_int(memslot_create(mmu, MEMSLOT_ID_MAX + 1, 0, 4096, FAKE_HOST_BASE,
			      0),
	       -EINVAL, "id too large: -EINVAL");
	is_int(memslot_create(mmu, 0, 0, 4096, FAKE_HOST_BASE, 1u << 9),
	       -EINVAL, "unknown flag: -EINVAL");
	is_int(memslot_create(mmu, 0, 0, 4096, FAKE_HOST_BASE,
			      MEMSLOT_DIRTY_LOG),
	       0, "create with dirty logging");
	is_int(memslot_delete(mmu, 0), 0, "and delete it");
	is_int(memslot_create(mmu, 0, (1ull << 48) - 4096, 8192, FAKE_HOST_BASE,
			      0),
	       -ERANGE, "beyond 48-bit GPA: -ERANGE");
	is_int(memslot_create(mmu, 0, ~0ull & ~0xfffull, 8192, FAKE_HOST_BASE,
			      0),
	       -ERANGE, "wrapping range: -ERANGE");
	is_int(memslot_create(mmu, 0, 0, 8192, (1ull << 52) - 4096, 0), -ERANGE,
	       "host range beyond 52 bits: -ERANGE");
	is_int(gen(mmu), 3, "failed creates do not bump the generation");

	is_int(memslot_create(mmu, 0, 0, 16 * MiB, FAKE_HOST_BASE, 0), 0,
	       "create slot 0");
	is_int(gen(mmu), 4, "generation bumped");
	is_int(memslot_create(mmu, 0, 1 * GiB, 4096, FAKE_HOST_BASE, 0),
	       -EEXIST, "same id: -EEXIST");
	is_int(memslot_create(mmu, 1, 15 * MiB, 2 * MiB, FAKE_HOST_BASE, 0),
	       -EEXIST, "overlap: -EEXIST");
	is_int(memslot_delete(mmu, 7), -ENOENT, "delete unknown: -ENOENT");
	is_int(memslot_move(mmu, 7, 0), -ENOENT, "move unknown: -ENOENT");
	is_int(memslot_set_flags(mmu, 7, 0), -ENOENT, "flags unknown: -ENOENT");
	is_int(memslot_set_flags(mmu, 0, MEMSLOT_DIRTY_LOG), 0,
	       "dirty-log flag on");
	is_int(memslot_set_flags(mmu, 0, 0), 0, "and off");
	is_int(memslot_move(mmu, 0, 123), -EINVAL, "move unaligned: -EINVAL");
	for (i = 1; i < MEMSLOT_MAX && !ret; i++)
		ret = memslot_create(mmu, i, (uint64_t)i * GiB, 4096,
				     FAKE_HOST_BASE, 0);
	is_int(ret, 0, "fill up to %d slots", MEMSLOT_MAX);
	is_int(memslot_create(mmu, 999, 999 * GiB, 4096, FAKE_HOST_BASE, 0),
	       -ENOSPC, "one more: -ENOSPC");
	is_int(memslot_move(mmu, 0, 1 * GiB), -EEXIST,
	       "move onto another slot: -EEXIST");
	for (i = 1; i < MEMSLOT_MAX; i++)
		BUG_ON(memslot_delete(mmu, i));
	is_int(memslot_set_current(mmu)->count, 1, "one slot left");
}

static void test_lookup(struct tdp_mmu *mmu)
{
	const struct memslot *s;
	struct memslot_set *set;
	int i;

	BUG_ON(memslot_create(mmu, 10, 3 * GiB, 8 * MiB, FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(mmu, 11, 2 * GiB, 8 * MiB, FAKE_HOST_BASE, 0));
	ebr_read_lock();
	set = memslot_set_current(mmu);
	for (i = 1; i < (int)set->count; i++)
		BUG_ON(set->slots[i - 1].base_gfn >= set->slots[i].base_gfn);
	ok(true, "slots sorted by gfn");
	s = memslot_find(set, 2 * G + 5);
	ok(s && s->id == 11, "find in the middle slot");
	s = memslot_find(set, 3 * G + 2047);
	ok(s && s->id == 10, "find the last page of a slot");
	ok(!memslot_find(set, 3 * G + 2048), "just past a slot: none");
	ok(!memslot_find(set, 5 * G), "far away: none");
	ebr_read_unlock();
	BUG_ON(memslot_delete(mmu, 10));
	BUG_ON(memslot_delete(mmu, 11));
}

/* Map some of slot 0, then change it; see what is left mapped. */
static void test_changes(struct tdp_mmu *mmu, enum tdp_slot_flush_policy p)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT), *r2;
	struct obs b = {.o.slot_removed = on_removed};
	const char *pn = p == TDP_SLOT_FLUSH_ALL ? "zap-all" : "targeted";
	uint64_t f0, k0;
	struct walk w;

	tdp_mmu_set_slot_flush_policy(mmu, p);
	memslot_observer_register(mmu, &b.o);
	BUG_ON(memslot_create(mmu, 5, 1 * GiB, 4 * MiB,
			      FAKE_HOST_BASE + 4 * KiB, 0));
	BUG_ON(map(mmu, r, 5, TDP_ACC_WRITE) != TDP_MAP_OK);
	BUG_ON(map(mmu, r, G + 1, TDP_ACC_WRITE) != TDP_MAP_OK);
	is_int(b.calls, 0, "%s: create notifies nobody", pn);

	/* read-only: write access must go */
	f0 = host_thread_flushes;
	is_int(memslot_set_flags(mmu, 0, MEMSLOT_READONLY), 0,
	       "%s: set read-only", pn);
	is_int(host_thread_flushes - f0, 1, "%s: one flush", pn);
	ok(!walk_gfn(r, 5, &w) || !(w.leaf & SPTE_W),
	   "%s: no writable mapping left", pn);
	is_int(map(mmu, r, 5, TDP_ACC_WRITE), TDP_MAP_READONLY,
	       "%s: write now refused", pn);
	BUG_ON(memslot_set_flags(mmu, 0, 0));
	is_int(map(mmu, r, 5, TDP_ACC_WRITE), TDP_MAP_OK, "%s: writable again",
	       pn);

	/* MOVE slot 5 */
	f0 = host_thread_flushes;
	k0 = host_thread_reloads;
	is_int(memslot_move(mmu, 5, 6 * GiB), 0, "%s: move", pn);
	is_int(b.calls, 1, "%s: observer told once", pn);
	ok(b.last_id == 5 && b.last_gfn == G, "%s: about the old place", pn);
	if (p == TDP_SLOT_FLUSH_ALL) {
		is_int(host_thread_flushes - f0, 0, "zap-all: no flush");
		is_int(host_thread_reloads - k0, 1, "zap-all: vCPUs reload");
		ok(!tdp_root_is_valid(r), "zap-all: root invalidated");
		ok(!walk_gfn(r, 5, &w), "zap-all: other slots' mappings gone");
	} else {
		is_int(host_thread_flushes - f0, 1, "targeted: one flush");
		is_int(host_thread_reloads - k0, 0, "targeted: no reload");
		ok(tdp_root_is_valid(r), "targeted: root still valid");
		ok(walk_gfn(r, 5, &w), "targeted: other slots kept");
	}
	ok(!walk_gfn(r, G + 1, &w), "%s: old range unmapped", pn);
	r2 = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	is_int(map(mmu, r2, G + 1, TDP_ACC_READ), TDP_MAP_NO_SLOT,
	       "%s: old place is no slot now", pn);
	is_int(map(mmu, r2, 6 * G + 1, TDP_ACC_READ), TDP_MAP_OK,
	       "%s: new place maps", pn);
	ok(walk_gfn(r2, 6 * G + 1, &w) &&
		   w.pfn == ((FAKE_HOST_BASE + 4 * KiB) >> PAGE_SHIFT) + 1,
	   "%s: to the same host frames", pn);

	/* DELETE */
	f0 = host_thread_flushes;
	is_int(memslot_delete(mmu, 5), 0, "%s: delete", pn);
	is_int(b.calls, 2, "%s: observer told once more", pn);
	ok(!walk_gfn(r2, 6 * G + 1, &w), "%s: deleted range unmapped", pn);
	ok(host_thread_flushes - f0 <= 1, "%s: at most one flush", pn);
	memslot_observer_unregister(mmu, &b.o);
	tdp_mmu_put_root(mmu, r2);
	tdp_mmu_put_root(mmu, r);
}

static bool never(void)
{
	return false;
}

/* A move by less than the slot's size: old and new ranges overlap. */
static void test_overlapping_move(struct tdp_mmu *mmu)
{
	struct tdp_root *r = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	struct obs b = {.o.slot_removed = on_removed};
	uint64_t base = 40 * G, hpfn = (FAKE_HOST_BASE >> PAGE_SHIFT), i;
	struct walk w;
	bool right = true;

	memslot_observer_register(mmu, &b.o);
	memslot_observer_unregister(mmu, &b.o);
	BUG_ON(memslot_create(mmu, 20, base << PAGE_SHIFT, 64 * KiB,
			      FAKE_HOST_BASE, 0));
	for (i = 0; i < 16; i++)
		BUG_ON(map(mmu, r, base + i, TDP_ACC_WRITE) != TDP_MAP_OK);
	is_int(memslot_move(mmu, 20, (base + 4) << PAGE_SHIFT), 0,
	       "move onto part of itself");
	ok(!walk_gfn(r, base + 4, &w), "overlap zapped too");
	for (i = 4; i < 20; i++) {
		if (map(mmu, r, base + i, TDP_ACC_READ) != TDP_MAP_OK ||
		    !walk_gfn(r, base + i, &w) || w.pfn != hpfn + i - 4)
			right = false;
	}
	ok(right, "every gfn of the new place maps its new frame");
	is_int(map(mmu, r, base + 1, TDP_ACC_READ), TDP_MAP_NO_SLOT,
	       "the uncovered head is gone");
	is_int(b.calls, 0, "an unregistered observer is not called");
	BUG_ON(memslot_delete(mmu, 20));
	tdp_mmu_put_root(mmu, r);
}

/* Allocation failures at every step of building a set change nothing. */
static void test_nomem_steps(struct tdp_mmu *mmu)
{
	struct tdp_mmu_stats s0, s1;
	int k, ret = -ENOMEM, fails = 0;
	uint64_t g0 = gen(mmu);

	BUG_ON(memslot_create(mmu, 30, 50 * GiB, 4 * MiB, FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(mmu, 31, 51 * GiB, 1 * GiB, FAKE_HOST_BASE, 0));
	g0 = gen(mmu);
	tdp_mmu_get_stats(mmu, &s0);
	for (k = 0; ret == -ENOMEM && k < 20; k++) {
		host_alloc_fail_after(k);
		ret = memslot_set_flags(mmu, 31, MEMSLOT_NO_HUGE);
		host_alloc_fail_after(-1);
		if (ret == -ENOMEM) {
			fails++;
			tdp_mmu_get_stats(mmu, &s1);
			if (s1.bytes != s0.bytes || gen(mmu) != g0)
				break;
		}
	}
	is_int(ret, 0, "flags change succeeds once memory allows");
	ok(fails >= 3, "%d failing steps, each left bytes and generation alone",
	   fails);
	BUG_ON(memslot_delete(mmu, 30));
	BUG_ON(memslot_delete(mmu, 31));
}

static struct tdp_mmu *leaky;

static void destroy_with_root(void)
{
	leaky = tdp_mmu_create(&owner);
	(void)tdp_mmu_get_root(leaky, TDP_ROLE_DEFAULT);
	tdp_mmu_destroy(leaky);
}

int main(void)
{
	int64_t pages0, objs0;
	struct tdp_mmu *mmu;
	struct tdp_mmu_stats s;

	mmu_test_init();
	host_should_yield_hook = never; /* exact flush counts */
	pages0 = host_pages_live();
	objs0 = host_objs_live();
	mmu = tdp_mmu_create(&owner);
	BUG_ON(!mmu);
	test_validation(mmu);
	test_lookup(mmu);
	test_changes(mmu, TDP_SLOT_FLUSH_TARGETED);
	test_changes(mmu, TDP_SLOT_FLUSH_ALL);
	tdp_mmu_set_slot_flush_policy(mmu, TDP_SLOT_FLUSH_TARGETED);
	test_overlapping_move(mmu);
	test_nomem_steps(mmu);
	tdp_mmu_get_stats(mmu, &s);
	ok(s.bytes > 0, "memory is accounted (%llu bytes)",
	   (unsigned long long)s.bytes);
	host_alloc_fail_after(0);
	is_int(memslot_create(mmu, 50, 50 * GiB, 4096, FAKE_HOST_BASE, 0),
	       -ENOMEM, "allocation failure: -ENOMEM");
	host_alloc_fail_after(-1);
	is_int(memslot_set_current(mmu)->count, 1, "and nothing changed");
	tdp_mmu_destroy(mmu);
	is_int(host_pages_live(), pages0, "teardown: every page back");
	is_int(host_objs_live(), objs0, "teardown: every object back");
	ok(dies_with_panic(destroy_with_root),
	   "destroying a VM whose root is still held panics");
	return tap_done();
}
