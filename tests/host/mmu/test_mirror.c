// SPDX-License-Identifier: MIT
/*
 * Protected VMs: mirror roots forwarded to the external page-table guard.
 * Roots and EPTP, faults at every size, zaps, memslot changes, huge-page
 * recovery and restriction, a split under the write lock, injected busy
 * answers (rollback, nothing left frozen), and every way a VM gets bugged
 * (each read-lock request that cannot be made on a mirror, a refusal by
 * the guard), with no leak after teardown in every case.
 */
#include <stdlib.h>

#include "mm/tdp/internal.h"
#include "tests/host/mmu/mirror_util.h"
#include "tests/host/tap.h"

#define M2  (2 * MiB >> PAGE_SHIFT) /* pages per 2 MiB */
#define MEM (8 * MiB)

static int64_t pages_at_start, objs_at_start;

static void check(struct pvm *p, struct tdp_root *root, uint64_t want_leaves,
		  const char *when)
{
	uint64_t n = 0;
	int bad = mirror_check_locked(p->mmu, root, &n);

	ok(bad == 0, "mirror and guard agree, nothing frozen (%s)", when);
	if (want_leaves != (uint64_t)-1)
		is_int(n, want_leaves, "leaf count (%s)", when);
}

static void no_leak(const char *when)
{
	is_int(host_pages_live(), pages_at_start, "no page leaked (%s)", when);
	is_int(host_objs_live(), objs_at_start, "no object leaked (%s)", when);
}

static void test_roots(void)
{
	struct pvm p;
	struct tdp_root *root, *again;
	struct tdp_mmu *plain;
	int owner;

	pvm_create(&p, MEM, 2, false);
	ok(tdp_mmu_is_protected(p.mmu), "protected VM created");
	ok(!tdp_mmu_create_protected(&owner, NULL),
	   "a protected VM needs a guard");
	is_int(tdp_mmu_vcpu_role(p.mmu), TDP_ROLE_DEFAULT | TDP_ROLE_MIRROR,
	       "vCPUs of a protected VM use a mirror root");
	ok(!tdp_mmu_get_root(p.mmu, TDP_ROLE_DEFAULT),
	   "no plain root in a protected VM");
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	ok(root && tdp_root_is_mirror(root), "mirror root");
	again = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	ok(again == root, "one mirror root, shared");
	tdp_mmu_put_root(p.mmu, again);
	ok(tdp_mmu_eptp(p.mmu, root) == guard_eptp(p.guard, false),
	   "EPTP of a mirror root is the guard's");
	ok((tdp_mmu_eptp(p.mmu, root) & SPTE_PFN_MASK) !=
		   platform_virt_to_phys(root->spt),
	   "the mirror table itself is never an EPTP");

	plain = tdp_mmu_create(&owner);
	ok(!tdp_mmu_get_root(plain, TDP_ROLE_DEFAULT | TDP_ROLE_MIRROR),
	   "no mirror root in an ordinary VM");
	tdp_mmu_destroy(plain);

	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("roots");
}

static void test_map_and_zap(void)
{
	struct guard_stats gs0, gs;
	struct tdp_mmu_stats ms;
	struct guard_leaf gl;
	struct tdp_root *root;
	struct pvm p;

	pvm_create(&p, MEM, 2, false);
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	is_int(map(p.mmu, root, 5, TDP_ACC_WRITE), TDP_MAP_OK, "2M fault");
	ok(!guard_lookup(p.guard, 5, &gl) && gl.level == 2 &&
		   gl.pfn == pvm_pfn(&p) && gl.prot == GUARD_PROT_RWX,
	   "guard maps the 2M leaf on the slot's frames");
	check(&p, root, 1, "one 2M leaf");

	/* 4K leaves where the slot forbids huge pages. */
	BUG_ON(memslot_set_flags(p.mmu, 0, MEMSLOT_NO_HUGE));
	check(&p, root, 0, "NO_HUGE zapped the 2M leaf");
	is_int(map(p.mmu, root, 5, TDP_ACC_READ), TDP_MAP_OK, "4K fault");
	is_int(map(p.mmu, root, 6, TDP_ACC_READ), TDP_MAP_OK, "4K fault");
	is_int(map(p.mmu, root, M2 + 7, TDP_ACC_EXEC), TDP_MAP_OK, "4K fault");
	ok(!guard_lookup(p.guard, M2 + 7, &gl) && gl.level == 1 &&
		   gl.pfn == pvm_pfn(&p) + M2 + 7,
	   "guard maps the 4K leaf on the right frame");
	check(&p, root, 3, "three 4K leaves");

	guard_get_stats(p.guard, &gs0);
	ok(tdp_mmu_unmap_range(p.mmu, 6, 7), "unmap one page");
	guard_get_stats(p.guard, &gs);
	ok(guard_lookup(p.guard, 6, &gl) == GUARD_E_NOT_PRESENT,
	   "the guard dropped it");
	is_int(gs.done[GUARD_CALL_REMOVE_LEAF] -
		       gs0.done[GUARD_CALL_REMOVE_LEAF],
	       1, "one removal forwarded");
	is_int(gs.flushes - gs0.flushes, 1, "the flush went through the guard");
	check(&p, root, 2, "after unmap");

	/*
	 * Clearing NO_HUGE recovers: the 4K tables become empty entries
	 * again, in the mirror and in the guard.
	 */
	BUG_ON(memslot_set_flags(p.mmu, 0, 0));
	tdp_mmu_get_stats(p.mmu, &ms);
	is_int(ms.recovered, 2, "recovered two 2M ranges");
	ok(tdp_mmu_recover_huge_pages(p.mmu, 0, MEM >> PAGE_SHIFT) == 0,
	   "nothing left to recover");
	guard_get_stats(p.guard, &gs);
	is_int(gs.tables_live, 3, "guard kept only root, 512G and 1G tables");
	is_int(gs.tables_pending, 0,
	       "freed tables are not pending after flush");
	check(&p, root, 0, "after recovery");
	is_int(map(p.mmu, root, M2 + 7, TDP_ACC_READ), TDP_MAP_OK, "refault");
	check(&p, root, 1, "huge again");

	/* Restriction zaps the huge leaf; 4K faults follow. */
	is_int(tdp_mmu_restrict_huge(p.mmu, M2 + 7), 0, "restrict");
	check(&p, root, 0, "restrict zapped the 2M leaf");
	is_int(map(p.mmu, root, M2 + 7, TDP_ACC_READ), TDP_MAP_OK,
	       "4K refault");
	is_int(tdp_mmu_unrestrict_huge(p.mmu, M2 + 7), 0, "unrestrict");
	/* Now a 2M fault meets the 4K table: it maps below, never bugs. */
	is_int(map(p.mmu, root, M2 + 9, TDP_ACC_READ), TDP_MAP_OK,
	       "fault next to a 4K table");
	ok(!tdp_mmu_is_bugged(p.mmu), "a table at the huge level is no bug");
	ok(!guard_lookup(p.guard, M2 + 9, &gl) && gl.level == 1,
	   "mapped at 4K below the table");
	check(&p, root, 2, "two 4K leaves");

	/* A lowered largest level: a present 2M leaf serves a 4K fault. */
	is_int(map(p.mmu, root, 3 * M2, TDP_ACC_READ), TDP_MAP_OK, "2M fault");
	BUG_ON(tdp_mmu_set_max_huge_level(p.mmu, 1));
	is_int(map(p.mmu, root, 3 * M2 + 1, TDP_ACC_WRITE), TDP_MAP_OK,
	       "4K fault under a 2M mirror leaf");
	ok(!tdp_mmu_is_bugged(p.mmu), "a huge leaf above is no bug");
	check(&p, root, 3, "2M leaf kept");

	/* Read-only, then writable again: the fault never widens in place. */
	BUG_ON(memslot_set_flags(p.mmu, 0, MEMSLOT_READONLY));
	is_int(map(p.mmu, root, 40, TDP_ACC_READ), TDP_MAP_OK, "RO fault");
	ok(!guard_lookup(p.guard, 40, &gl) &&
		   gl.prot == (GUARD_PROT_R | GUARD_PROT_X),
	   "guard maps it read-only");
	BUG_ON(memslot_set_flags(p.mmu, 0, 0));
	is_int(map(p.mmu, root, 40, TDP_ACC_WRITE), TDP_MAP_OK,
	       "write fault after the slot became writable");
	ok(!tdp_mmu_is_bugged(p.mmu), "no bug: clearing READONLY zapped");
	ok(!guard_lookup(p.guard, 40, &gl) && (gl.prot & GUARD_PROT_W),
	   "guard maps it writable");
	check(&p, root, (uint64_t)-1, "after READONLY round trip");

	/* Slot removal zaps (targeted even with the fast-zap policy). */
	tdp_mmu_set_slot_flush_policy(p.mmu, TDP_SLOT_FLUSH_ALL);
	is_int(memslot_delete(p.mmu, 0), 0, "delete the slot");
	ok(tdp_root_is_valid(root), "the mirror root survives slot removal");
	check(&p, root, 0, "slot removed");
	guard_get_stats(p.guard, &gs);
	is_int(gs.frames_mapped, 0, "guard maps no frame");
	is_int(guard_release_memory(p.guard, pvm_pfn(&p), MEM >> PAGE_SHIFT),
	       GUARD_OK, "memory can be released: flushed, unmapped");
	BUG_ON(guard_add_memory(p.guard, pvm_pfn(&p), MEM >> PAGE_SHIFT,
				GUARD_MEM_ZEROED));
	tdp_mmu_get_stats(p.mmu, &ms);
	is_int(ms.mirror_rollbacks, 0, "no rollback without failures");
	is_int(ms.bugged, 0, "not bugged");

	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("map and zap");
}

/* Teardown forwards every removal: the guard ends empty before destroy. */
static void test_teardown_forwards(void)
{
	struct guard_stats gs;
	struct tdp_root *root;
	struct pvm p;
	uint64_t g;

	pvm_create(&p, MEM, 2, false);
	BUG_ON(tdp_mmu_set_max_huge_level(p.mmu, 1));
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	for (g = 0; g < (MEM >> PAGE_SHIFT); g += 3)
		BUG_ON(map(p.mmu, root, g, TDP_ACC_READ) != TDP_MAP_OK);
	check(&p, root, (MEM >> PAGE_SHIFT) / 3 + 1, "many 4K leaves");
	tdp_mmu_put_root(p.mmu, root);
	tdp_mmu_destroy(p.mmu);
	guard_get_stats(p.guard, &gs);
	is_int(gs.leaves_live, 0, "teardown removed every guard leaf");
	is_int(gs.frames_mapped, 0, "no frame mapped");
	is_int(gs.tables_live, 1, "only the guard's root table is left");
	is_int(gs.tables_pending, 0, "no table pending");
	p.mmu = tdp_mmu_create_protected(&p.owner, p.guard);
	pvm_destroy(&p);
	no_leak("teardown");
}

/* A split under the write lock, as dirty logging or eager split does it. */
static void test_split_locked(void)
{
	struct guard_leaf gl;
	struct tdp_root *root;
	struct tdp_flush fl;
	struct tdp_iter it;
	struct tdp_pt *pt;
	struct pvm p;
	spte_t huge;
	unsigned int i;
	bool found = false;

	pvm_create(&p, MEM, 2, false);
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(map(p.mmu, root, M2, TDP_ACC_WRITE) != TDP_MAP_OK);
	check(&p, root, 1, "2M before the split");

	tdp_flush_init(&fl, true);
	rwlock_write_lock(&p.mmu->mmu_lock);
	ebr_read_lock();
	for_each_tdp_spte (&it, root, 2, M2, M2 + 1) {
		if (it.level != 2)
			continue;
		huge = it.old_spte;
		BUG_ON(!spte_is_leaf(huge, 2));
		pt = tdp_pt_alloc(p.mmu, 1);
		BUG_ON(!pt);
		for (i = 0; i < SPTE_PER_PAGE; i++)
			pt->spt[i] = spte_make_leaf(spte_pfn(huge) + i, 1,
						    spte_perms(huge));
		tdp_set_spte_locked(
			p.mmu, &fl, &it,
			spte_make_table(platform_virt_to_phys(pt->spt)));
		found = true;
	}
	tdp_flush_commit(p.mmu, &fl);
	ebr_read_unlock();
	rwlock_write_unlock(&p.mmu->mmu_lock);
	ok(found, "split the 2M mirror leaf under the write lock");
	ok(!tdp_mmu_is_bugged(p.mmu), "a split under the write lock is fine");
	ok(!guard_lookup(p.guard, M2 + 300, &gl) && gl.level == 1 &&
		   gl.pfn == pvm_pfn(&p) + M2 + 300,
	   "guard now maps 4K leaves on the same frames");
	check(&p, root, SPTE_PER_PAGE, "512 4K leaves after the split");

	/* The eager splitter takes the write lock for a mirror. */
	BUG_ON(map(p.mmu, root, 2 * M2, TDP_ACC_WRITE) != TDP_MAP_OK);
	BUG_ON(map(p.mmu, root, 3 * M2, TDP_ACC_WRITE) != TDP_MAP_OK);
	check(&p, root, SPTE_PER_PAGE + 2, "two more 2M leaves");
	is_int(tdp_mmu_split_huge_pages(p.mmu, 0, MEM >> PAGE_SHIFT, 1), 2,
	       "tdp_mmu_split_huge_pages split both");
	ok(!tdp_mmu_is_bugged(p.mmu), "splitting a protected VM is no bug");
	check(&p, root, 3 * SPTE_PER_PAGE, "1536 4K leaves after the split");
	ok(!guard_lookup(p.guard, 3 * M2 + 511, &gl) && gl.level == 1 &&
		   gl.pfn == pvm_pfn(&p) + 3 * M2 + 511,
	   "guard's split leaves keep their frames");

	/* Dirty logging cannot work on a mirror: refused up front. */
	is_int(memslot_set_flags(p.mmu, 0, MEMSLOT_DIRTY_LOG), -EOPNOTSUPP,
	       "no dirty logging on a protected VM");
	is_int(memslot_create(p.mmu, 5, 64 * MiB, 4096,
			      platform_virt_to_phys(p.mem), MEMSLOT_DIRTY_LOG),
	       -EOPNOTSUPP, "no logged slot on a protected VM");
	ok(!tdp_mmu_age_gfn(p.mmu, 0, MEM >> PAGE_SHIFT),
	   "mirror leaves are never young");
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("split");
}

/* Busy answers: rolled back, counted, retried; nothing stays frozen. */
static void test_busy(void)
{
	struct guard_fault_inject fi = {.nth = 1, .error = GUARD_E_BUSY};
	struct tdp_mmu_stats ms;
	struct guard_stats gs;
	struct tdp_root *root;
	struct pvm p;
	int r, tries;
	uint64_t g;

	pvm_create(&p, MEM, 2, false);
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(guard_inject_failures(p.guard, &fi));
	is_int(map(p.mmu, root, 0, TDP_ACC_READ), TDP_MAP_RETRY,
	       "a busy guard makes the fault retry");
	tdp_mmu_get_stats(p.mmu, &ms);
	guard_get_stats(p.guard, &gs);
	is_int(ms.mirror_rollbacks, 1, "one rollback (MMU)");
	is_int(gs.rollbacks, 1, "one rollback (guard)");
	is_int(gs.injected[GUARD_CALL_LINK_TABLE], 1, "the link was failed");
	check(&p, root, 0, "rolled back");
	is_int(map(p.mmu, root, 0, TDP_ACC_READ), TDP_MAP_OK, "retry works");
	check(&p, root, 1, "mapped");

	/* Half of all requests busy, faults and zaps keep working. */
	fi = (struct guard_fault_inject){
		.per_million = 500000, .error = GUARD_E_BUSY, .seed = 7};
	BUG_ON(guard_inject_failures(p.guard, &fi));
	BUG_ON(memslot_set_flags(p.mmu, 0, MEMSLOT_NO_HUGE));
	for (g = 0; g < 64; g++) {
		tries = 0;
		do
			r = map(p.mmu, root, g * 7, TDP_ACC_WRITE);
		while (r == TDP_MAP_RETRY && ++tries < 1000);
		BUG_ON(r != TDP_MAP_OK);
	}
	check(&p, root, 64, "64 faults through a busy guard");
	tdp_mmu_unmap_range(p.mmu, 0, 200);
	check(&p, root, 64 - 29, "zap through a busy guard");
	tdp_mmu_get_stats(p.mmu, &ms);
	ok(ms.mirror_busy_retries > 0, "removals were retried (%llu)",
	   (unsigned long long)ms.mirror_busy_retries);
	ok(ms.mirror_rollbacks > 1, "installs were rolled back (%llu)",
	   (unsigned long long)ms.mirror_rollbacks);
	ok(!tdp_mmu_is_bugged(p.mmu), "busy answers never bug the VM");
	BUG_ON(guard_inject_failures(p.guard, NULL));
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("busy");
}

/* Every operation of a bugged VM fails with -EIO or does nothing. */
static void check_bugged(struct pvm *p, struct tdp_root *root, const char *why)
{
	struct tdp_mmu_stats ms;

	ok(tdp_mmu_is_bugged(p->mmu), "bugged: %s", why);
	tdp_mmu_get_stats(p->mmu, &ms);
	is_int(ms.bugged, 1, "bugged counter (%s)", why);
	is_int(map(p->mmu, root, 100, TDP_ACC_READ), -EIO, "fault: -EIO");
	is_int(memslot_create(p->mmu, 9, 64 * MiB, 4096,
			      platform_virt_to_phys(p->mem), 0),
	       -EIO, "memslot create: -EIO");
	is_int(memslot_delete(p->mmu, 0), -EIO, "memslot delete: -EIO");
	is_int(memslot_move(p->mmu, 0, 64 * MiB), -EIO, "memslot move: -EIO");
	is_int(memslot_set_flags(p->mmu, 0, MEMSLOT_READONLY), -EIO,
	       "memslot flags: -EIO");
	is_int(tdp_mmu_restrict_huge(p->mmu, 0), -EIO, "restrict: -EIO");
	is_int(tdp_mmu_unrestrict_huge(p->mmu, 0), -EIO, "unrestrict: -EIO");
	ok(!tdp_mmu_unmap_range(p->mmu, 0, 1 << 20), "unmap does nothing");
	ok(!tdp_mmu_recover_huge_pages(p->mmu, 0, 1 << 20),
	   "recovery does nothing");
	ok(!tdp_mmu_get_root(p->mmu, tdp_mmu_vcpu_role(p->mmu)),
	   "no root for a bugged VM");
	ok(!tdp_mmu_split_huge_pages(p->mmu, 0, 1 << 20, 1),
	   "split does nothing");
	is_int(tdp_mmu_clear_dirty_log(p->mmu, 0, 0, 64, NULL), -EIO,
	       "clear dirty log: -EIO");
}

/* Run @fn on the entry at @level covering @gfn, under the read lock. */
static int on_entry_read_locked(struct pvm *p, struct tdp_root *root,
				uint64_t gfn, int level,
				int (*fn)(struct pvm *, struct tdp_flush *,
					  struct tdp_iter *))
{
	struct tdp_flush fl;
	struct tdp_iter it;
	int ret = -ENOENT;

	tdp_flush_init(&fl, true);
	rwlock_read_lock(&p->mmu->mmu_lock);
	ebr_read_lock();
	for_each_tdp_spte (&it, root, level, gfn, gfn + 1) {
		if (it.level == level) {
			ret = fn(p, &fl, &it);
			break;
		}
	}
	tdp_flush_commit(p->mmu, &fl);
	ebr_read_unlock();
	rwlock_read_unlock(&p->mmu->mmu_lock);
	return ret;
}

static int zap_atomic(struct pvm *p, struct tdp_flush *fl, struct tdp_iter *it)
{
	return tdp_zap_spte_atomic(p->mmu, fl, it);
}

static int widen_atomic(struct pvm *p, struct tdp_flush *fl,
			struct tdp_iter *it)
{
	return tdp_set_spte_atomic(p->mmu, fl, it, it->old_spte & ~SPTE_X);
}

static int clear_atomic(struct pvm *p, struct tdp_flush *fl,
			struct tdp_iter *it)
{
	return tdp_set_spte_atomic(p->mmu, fl, it, SPTE_NONPRESENT | BIT(53));
}

static int split_atomic(struct pvm *p, struct tdp_flush *fl,
			struct tdp_iter *it)
{
	struct tdp_pt *pt = tdp_pt_alloc(p->mmu, 1);
	int ret;

	BUG_ON(!pt);
	ret = tdp_set_spte_atomic(
		p->mmu, fl, it,
		spte_make_table(platform_virt_to_phys(pt->spt)));
	if (ret)
		tdp_pt_free_unused(p->mmu, pt, 1);
	return ret;
}

/*
 * One "cannot do this under the read lock" case: map @gfn (4K unless
 * @huge), apply @fn to its leaf entry, and check the VM is bugged, the
 * entry unchanged and not frozen, the guard unchanged, and nothing leaked.
 */
static void bug_case(const char *name, bool huge, bool on_empty,
		     int (*fn)(struct pvm *, struct tdp_flush *,
			       struct tdp_iter *))
{
	struct tdp_root *root;
	struct pvm p;
	int level = huge ? 2 : 1;
	uint64_t gfn = on_empty ? 3 * M2 : M2 + 3;

	pvm_create(&p, MEM, 2, false);
	if (!huge)
		BUG_ON(tdp_mmu_set_max_huge_level(p.mmu, 1));
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(map(p.mmu, root, M2 + 3, TDP_ACC_READ) != TDP_MAP_OK);
	if (on_empty) /* a table for gfn's level-1 entry, left empty */
		BUG_ON(map(p.mmu, root, gfn + 1, TDP_ACC_READ) != TDP_MAP_OK ||
		       !tdp_mmu_unmap_range(p.mmu, gfn + 1, gfn + 2));
	is_int(on_entry_read_locked(&p, root, gfn, level, fn), -EIO,
	       "%s under the read lock: -EIO", name);
	check(&p, root, 1, name);
	check_bugged(&p, root, name);
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak(name);
}

/* The guard refuses: a slot backed by memory the VM was never given. */
static void test_refusal(void)
{
	struct guard_fault_inject fi = {.nth = 2, .error = GUARD_E_INVAL};
	struct guard_stats gs;
	struct tdp_root *root;
	struct pvm p;
	uint8_t *foreign = aligned_alloc(2 * MiB, 2 * MiB);

	BUG_ON(!foreign);
	pvm_create(&p, MEM, 2, false);
	BUG_ON(memslot_create(p.mmu, 1, 64 * MiB, 2 * MiB,
			      platform_virt_to_phys(foreign), 0));
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(map(p.mmu, root, 0, TDP_ACC_READ) != TDP_MAP_OK);
	is_int(map(p.mmu, root, (64 * MiB) >> PAGE_SHIFT, TDP_ACC_READ), -EIO,
	       "mapping a frame the VM does not own: -EIO");
	guard_get_stats(p.guard, &gs);
	is_int(gs.refusals[-GUARD_E_NOT_OWNED], 1, "the guard said NOT_OWNED");
	check(&p, root, 1, "refused install rolled back");
	check_bugged(&p, root, "guard refusal");
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	free(foreign);
	no_leak("refusal");

	/* An injected INVAL on a removal under the write lock. */
	pvm_create(&p, MEM, 2, false);
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(map(p.mmu, root, 0, TDP_ACC_READ) != TDP_MAP_OK);
	BUG_ON(map(p.mmu, root, M2, TDP_ACC_READ) != TDP_MAP_OK);
	BUG_ON(guard_inject_failures(p.guard, &fi));
	tdp_mmu_unmap_range(p.mmu, 0, 2 * M2);
	check_bugged(&p, root, "refused removal");
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("refused removal");

	/* An injected INVAL on a fault. */
	pvm_create(&p, MEM, 2, false);
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	fi.nth = 3;
	BUG_ON(guard_inject_failures(p.guard, &fi));
	is_int(map(p.mmu, root, 0, TDP_ACC_READ), -EIO,
	       "injected INVAL on the leaf: -EIO");
	check(&p, root, 0, "injected INVAL rolled back");
	check_bugged(&p, root, "injected INVAL");
	tdp_mmu_put_root(p.mmu, root);
	pvm_destroy(&p);
	no_leak("injected INVAL");
}

int main(void)
{
	mmu_test_init();
	pages_at_start = host_pages_live();
	objs_at_start = host_objs_live();

	test_roots();
	test_map_and_zap();
	test_teardown_forwards();
	test_split_locked();
	test_busy();
	bug_case("zap of a present 4K mirror SPTE", false, false, zap_atomic);
	bug_case("zap of a present 2M mirror SPTE", true, false, zap_atomic);
	bug_case("permission change of a present mirror SPTE", false, false,
		 widen_atomic);
	bug_case("split of a 2M mirror SPTE", true, false, split_atomic);
	bug_case("non-present new value on an empty mirror SPTE", false, true,
		 clear_atomic);
	test_refusal();
	return tap_done();
}
