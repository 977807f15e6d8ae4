// SPDX-License-Identifier: MIT
/*
 * Mirror roots: the MMU side of protected VMs.
 *
 * A protected VM's tree is a mirror: kept exactly like any other root, but
 * never walked by a CPU.  The EPT the CPU walks belongs to the external
 * page-table guard (mm/guard.h), and every change to a mirror SPTE is
 * forwarded to it here, so the guard's EPT always holds the same leaves as
 * the mirror.  The rules:
 *
 *  - Read lock (faults): the only change allowed is "empty entry becomes a
 *    leaf or a table".  The entry is frozen with compare-and-exchange, the
 *    guard is asked, then the new value is written on success or the old
 *    one restored on failure, so no entry stays frozen and a concurrent
 *    fault below cannot reach the guard before its parent table exists
 *    there.  A busy guard means "retry the fault"; any other refusal means
 *    the MMU asked for something unsafe: the VM is bugged.  Zapping or
 *    changing a present mirror SPTE under the read lock is refused the
 *    same way: the read-lock paths cannot order a removal against the
 *    guard's flush protocol.
 *  - Write lock (zaps, slot changes, huge-page recovery and splits): no
 *    one else touches the mirror, so the entry is written first and the
 *    guard told afterwards: removals (leaf, or a whole table bottom-up)
 *    through the bookkeeping, then the install of the new value, a table
 *    together with the entries already in it (a split).  A busy guard is
 *    asked again; a refusal bugs the VM.
 *  - Once the VM is bugged nothing more is forwarded: the guard's EPT stays
 *    as it was (every frame it maps is still this VM's, checked), the vCPUs
 *    must not run, and guard_destroy() takes it all down at teardown.
 *
 * Mirror roots are never fast-zapped (that runs under the read lock);
 * memslot removal on a protected VM always zaps the slot's range under the
 * write lock, and teardown frees the mirror root under the write lock.
 */
#include "mm/tdp/internal.h"
#include "mm/guard.h"

/* A busy guard is asked this many times under the write lock. */
#define MIRROR_BUSY_TRIES 10000

void tdp_mmu_bug(struct tdp_mmu *mmu, const char *why)
{
	if (__atomic_exchange_n(&mmu->bugged, true, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&mmu->stats.bugged, 1, __ATOMIC_RELAXED);
	platform_log(LOG_ERR, "tdp: VM %p bugged: %s", mmu->owner, why);
}

uint64_t tdp_mmu_eptp(struct tdp_mmu *mmu, struct tdp_root *root)
{
	if (tdp_root_is_mirror(root))
		return guard_eptp(mmu->guard, false);
	return tdp_root_eptp(root);
}

static void refused(struct tdp_mmu *mmu, int err, const char *what)
{
	stat_inc(&mmu->stats.mirror_refusals);
	platform_log(LOG_ERR, "tdp: guard refused %s: %s", what,
		     guard_strerror(err));
	tdp_mmu_bug(mmu, "external page-table guard refused a request");
}

/* Ask the guard to make the empty entry (gfn, level) hold leaf @s. */
static int guard_set(struct tdp_mmu *mmu, uint64_t gfn, int level, spte_t s)
{
	unsigned int prot = (unsigned int)spte_perms(s);
	enum guard_memtype mt =
		(enum guard_memtype)((s & SPTE_MT_MASK) >> SPTE_MT_SHIFT);

	/* The SPTE's R/W/X bits are the guard's GUARD_PROT_* bits. */
	_Static_assert(SPTE_R == GUARD_PROT_R && SPTE_W == GUARD_PROT_W &&
			       SPTE_X == GUARD_PROT_X,
		       "SPTE and guard permission bits differ");
	stat_inc(&mmu->stats.mirror_requests);
	return guard_set_leaf(mmu->guard, gfn, level, spte_pfn(s), prot, mt);
}

static int guard_link(struct tdp_mmu *mmu, uint64_t gfn, int level)
{
	stat_inc(&mmu->stats.mirror_requests);
	return guard_link_table(mmu->guard, gfn, level);
}

/* One request: install @s (a leaf, or an empty table) at (gfn, level). */
static int install_one(struct tdp_mmu *mmu, uint64_t gfn, int level, spte_t s)
{
	if (spte_is_leaf(s, level))
		return guard_set(mmu, gfn, level, s);
	return guard_link(mmu, gfn, level);
}

enum mirror_op { OP_INSTALL, OP_REMOVE_LEAF, OP_FREE_TABLE };

/*
 * Under the write lock (or at teardown, when nobody else is left): ask
 * until the guard is not busy.  False, and the VM bugged, on a refusal.
 */
static bool request_locked(struct tdp_mmu *mmu, enum mirror_op op, uint64_t gfn,
			   int level, spte_t s)
{
	static const char *const names[] = {"install", "leaf removal",
					    "table free"};
	int err = GUARD_E_BUSY;
	int tries;

	for (tries = 0; tries < MIRROR_BUSY_TRIES; tries++) {
		if (op == OP_INSTALL) {
			err = install_one(mmu, gfn, level, s);
		} else {
			stat_inc(&mmu->stats.mirror_requests);
			err = op == OP_REMOVE_LEAF
				      ? guard_remove_leaf(mmu->guard, gfn,
							  level)
				      : guard_free_table(mmu->guard, gfn,
							 level);
		}
		if (err != GUARD_E_BUSY)
			break;
		stat_inc(&mmu->stats.mirror_busy_retries);
		platform_relax();
	}
	if (err == GUARD_OK)
		return true;
	refused(mmu, err, names[op]);
	return false;
}

/*
 * Install @s at (gfn, level) and, for a table, every present entry below
 * it (a table built off-tree by a split arrives already filled).
 */
static bool install_locked(struct tdp_mmu *mmu, uint64_t gfn, int level,
			   spte_t s)
{
	spte_t *spt;
	uint64_t step;
	unsigned int i;

	if (!request_locked(mmu, OP_INSTALL, gfn, level, s))
		return false;
	if (spte_is_leaf(s, level))
		return true;
	spt = platform_phys_to_virt(spte_phys(s));
	step = tdp_pages_per_level(level - 1);
	for (i = 0; i < SPTE_PER_PAGE; i++) {
		spte_t child = tdp_read_spte(&spt[i]);

		if (spte_is_present(child) &&
		    !install_locked(mmu, gfn + i * step, level - 1, child))
			return false;
	}
	return true;
}

int tdp_mirror_set_spte_atomic(struct tdp_mmu *mmu, struct tdp_flush *fl,
			       struct tdp_iter *it, spte_t new)
{
	spte_t old = it->old_spte;
	int err;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	/*
	 * The read-lock paths may only fill empty entries of a mirror: a
	 * removal (a zap, a split, a table replaced by a huge leaf) must be
	 * ordered with the guard's flush, which only the write lock allows.
	 */
	if (spte_is_present(old) || !spte_is_present(new)) {
		tdp_mmu_bug(mmu,
			    spte_is_present(old)
				    ? "present mirror SPTE changed under the "
				      "read lock"
				    : "mirror SPTE zapped under the read lock");
		return -EIO;
	}
	/*
	 * Freeze the entry while the guard works: a concurrent fault that
	 * wants to go below it must not ask the guard for a child before
	 * the guard has the parent.
	 */
	if (!spte_try_cmpxchg(it->sptep, &it->old_spte, SPTE_FROZEN))
		return -EBUSY;
	/* Nobody may see the new value before the guard holds it. */
	BUG_ON(!spte_is_frozen(tdp_read_spte(it->sptep)));
	err = install_one(mmu, it->gfn, it->level, new);
	if (err) {
		/* Put the old value back: nothing may stay frozen. */
		spte_unfreeze(it->sptep, old);
		stat_inc(&mmu->stats.mirror_rollbacks);
		guard_count_rollback(mmu->guard);
		if (err == GUARD_E_BUSY)
			return -EBUSY;
		refused(mmu, err, "install under the read lock");
		return -EIO;
	}
	spte_unfreeze(it->sptep, new);
	tdp_handle_changed_spte(mmu, fl, it->gfn, old, new, it->level, true);
	it->old_spte = new;
	return 0;
}

void tdp_mirror_set_spte_locked(struct tdp_mmu *mmu, struct tdp_flush *fl,
				struct tdp_iter *it, spte_t new)
{
	spte_t old = tdp_read_spte(it->sptep);

	BUG_ON(spte_is_frozen(old));
	/*
	 * Nobody walks a mirror and nobody else writes it under the write
	 * lock: write the entry, let the bookkeeping forward what went away
	 * (the old leaf, or the old table bottom-up), then install the new
	 * value unless it is the same mapping with other software bits.
	 */
	spte_xchg(it->sptep, new);
	tdp_handle_changed_spte(mmu, fl, it->gfn, old, new, it->level, false);
	it->old_spte = new;
	if (!spte_is_present(new) || tdp_mmu_is_bugged(mmu))
		return;
	if (spte_is_leaf(old, it->level) &&
	    !tdp_leaf_change_drops(old, new, it->level))
		return;
	if (spte_is_table(old, it->level) && spte_phys(old) == spte_phys(new))
		return;
	install_locked(mmu, it->gfn, it->level, new);
}

void tdp_mirror_removed_leaf(struct tdp_mmu *mmu, uint64_t gfn, spte_t old,
			     int level)
{
	(void)old;
	if (tdp_mmu_is_bugged(mmu))
		return;
	request_locked(mmu, OP_REMOVE_LEAF, gfn, level, 0);
}

void tdp_mirror_removed_table(struct tdp_mmu *mmu, uint64_t gfn, int level)
{
	if (tdp_mmu_is_bugged(mmu))
		return;
	request_locked(mmu, OP_FREE_TABLE, gfn, level, 0);
}

/*
 * Everything removed before guard_flush_begin is out of the TLBs once the
 * flush returns: then the guard may free the tables it unlinked and let
 * go of memory whose mappings went away.
 */
void tdp_mirror_flush(struct tdp_mmu *mmu)
{
	uint64_t token = guard_flush_begin(mmu->guard);

	platform_flush_guest_tlbs(mmu->owner);
	guard_flush_done(mmu->guard, token);
}

void tdp_mirror_teardown(struct tdp_mmu *mmu)
{
	struct tdp_root *root, *tmp;
	struct list_head dead;

	if (!tdp_mmu_is_protected(mmu))
		return;
	list_init(&dead);
	rwlock_write_lock(&mmu->mmu_lock);
	spin_lock(&mmu->roots_lock);
	list_for_each_entry_safe (root, tmp, &mmu->roots, link) {
		__atomic_store_n(&root->invalid, true, __ATOMIC_RELEASE);
		list_del_init(&root->link);
		list_add_tail(&root->link, &dead);
	}
	spin_unlock(&mmu->roots_lock);
	/*
	 * Dropping the list's reference frees the root (tdp_mmu_destroy
	 * insists nobody else holds one); its tables go through the
	 * bookkeeping, which forwards every removal to the guard.
	 */
	list_for_each_entry_safe (root, tmp, &dead, link) {
		list_del_init(&root->link);
		tdp_mmu_put_root(mmu, root);
	}
	rwlock_write_unlock(&mmu->mmu_lock);
	/* Let the guard free the tables it unlinked. */
	tdp_mirror_flush(mmu);
}

struct tdp_mmu *tdp_mmu_create_protected(void *owner, struct guard *guard)
{
	struct tdp_mmu *mmu;

	if (!guard)
		return NULL;
	mmu = tdp_mmu_create(owner);
	if (mmu)
		mmu->guard = guard;
	return mmu;
}
