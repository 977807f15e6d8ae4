// SPDX-License-Identifier: MIT
/*
 * Roots: reference counting, the per-VM lists, iteration that survives
 * yields, and the fast zap of everything.
 *
 * A valid root sits on mmu->roots, and that list holds one reference, so a
 * valid root lives until it is invalidated even when no vCPU uses it.
 * Invalidation (mmu_lock held for write) marks a root invalid and moves it,
 * with the list's reference, to mmu->invalid_roots, where the back half of
 * the fast zap picks it up.  The last put of an invalid root frees it.
 * roots_lock guards both lists and is held only for short list operations.
 */
#include "mm/tdp/internal.h"

static void account_root(struct tdp_mmu *mmu, int delta)
{
	tdp_stat_add(&mmu->stats.roots, delta);
	tdp_stat_add(&mmu->stats.pt_pages[TDP_ROOT_LEVEL], delta);
	tdp_stat_add(&mmu->stats.bytes,
		     delta * (int64_t)(PAGE_SIZE + sizeof(struct tdp_root)));
}

static struct tdp_root *root_alloc(struct tdp_mmu *mmu, uint32_t role)
{
	struct tdp_root *root = platform_zalloc(sizeof(*root));

	if (!root)
		return NULL;
	root->spt = platform_page_alloc();
	if (!root->spt) {
		platform_free(root);
		return NULL;
	}
	root->role = role;
	root->refcount = 2; /* the root list's and the caller's */
	list_init(&root->link);
	account_root(mmu, 1);
	return root;
}

static struct tdp_root *find_valid_root(struct tdp_mmu *mmu, uint32_t role)
{
	struct tdp_root *root;

	list_for_each_entry (root, &mmu->roots, link) {
		if (root->role == role) {
			atomic_inc(&root->refcount);
			return root;
		}
	}
	return NULL;
}

struct tdp_root *tdp_mmu_get_root(struct tdp_mmu *mmu, uint32_t role)
{
	struct tdp_root *root, *fresh;

	if ((role & TDP_ROLE_LEVEL_MASK) != TDP_ROOT_LEVEL ||
	    (role & ~(TDP_ROLE_LEVEL_MASK | TDP_ROLE_MIRROR)))
		return NULL; /* only 4-level roots exist */
	/* A protected VM has only mirror roots, other VMs none. */
	if (!!(role & TDP_ROLE_MIRROR) != tdp_mmu_is_protected(mmu) ||
	    tdp_mmu_is_bugged(mmu))
		return NULL;

	/* The read lock keeps invalidation (a writer) out while we look. */
	rwlock_read_lock(&mmu->mmu_lock);
	spin_lock(&mmu->roots_lock);
	root = find_valid_root(mmu, role);
	spin_unlock(&mmu->roots_lock);
	if (root)
		goto out;

	fresh = root_alloc(mmu, role);
	if (!fresh)
		goto out;
	spin_lock(&mmu->roots_lock);
	root = find_valid_root(mmu, role); /* lost a race to create it? */
	if (!root) {
		list_add_tail(&fresh->link, &mmu->roots);
		root = fresh;
		fresh = NULL;
	}
	spin_unlock(&mmu->roots_lock);
	if (fresh) {
		/* Never reachable by anyone: free it at once. */
		account_root(mmu, -1);
		platform_page_free(fresh->spt);
		platform_free(fresh);
	}
out:
	rwlock_read_unlock(&mmu->mmu_lock);
	return root;
}

void tdp_root_get(struct tdp_root *root)
{
	uint32_t old = atomic_add(&root->refcount, 1) - 1;

	BUG_ON(old == 0);
}

void tdp_mmu_put_root(struct tdp_mmu *mmu, struct tdp_root *root)
{
	uint32_t left = atomic_dec(&root->refcount);

	BUG_ON(left == UINT32_MAX);
	if (left == 0)
		tdp_root_free(mmu, root);
}

static void root_free_cb(struct ebr_head *head)
{
	struct tdp_root *root = container_of(head, struct tdp_root, ebr);

	platform_page_free(root->spt);
	platform_free(root);
}

/*
 * Nobody references @root any more and it is on no list, so nobody else
 * can reach its tables: tear down what the back half left (normally
 * nothing) and free the root after a grace period.
 */
void tdp_root_free(struct tdp_mmu *mmu, struct tdp_root *root)
{
	struct tdp_flush fl;
	unsigned int i;
	spte_t old;

	BUG_ON(tdp_root_is_valid(root));
	tdp_flush_init(&fl, false);
	for (i = 0; i < SPTE_PER_PAGE; i++) {
		old = spte_xchg(&root->spt[i], SPTE_NONPRESENT);
		tdp_handle_changed_spte(
			mmu, &fl, i * tdp_pages_per_level(TDP_ROOT_LEVEL), old,
			SPTE_NONPRESENT, TDP_ROOT_LEVEL, false);
	}
	account_root(mmu, -1);
	ebr_call(&root->ebr, root_free_cb);
}

struct tdp_root *tdp_next_valid_root(struct tdp_mmu *mmu, struct tdp_root *prev)
{
	struct list_head *pos;
	struct tdp_root *next = NULL;

	rwlock_assert_held(&mmu->mmu_lock);
	spin_lock(&mmu->roots_lock);
	/*
	 * If @prev was invalidated while we yielded, it moved to the
	 * invalid list: start again from the head.  Roots seen twice are
	 * just walked twice, which every caller tolerates.
	 */
	if (prev && !prev->invalid)
		pos = prev->link.next;
	else
		pos = mmu->roots.next;
	if (pos != &mmu->roots) {
		next = list_entry(pos, struct tdp_root, link);
		atomic_inc(&next->refcount);
	}
	spin_unlock(&mmu->roots_lock);
	if (prev)
		tdp_mmu_put_root(mmu, prev);
	return next;
}

void tdp_mmu_zap_all_fast_front(struct tdp_mmu *mmu)
{
	struct tdp_root *root, *tmp;

	rwlock_assert_held_write(&mmu->mmu_lock);
	spin_lock(&mmu->roots_lock);
	list_for_each_entry_safe (root, tmp, &mmu->roots, link) {
		/*
		 * The back half zaps under the read lock, which a mirror root
		 * does not allow: mirror roots stay (see mirror.c).
		 */
		if (tdp_root_is_mirror(root))
			continue;
		__atomic_store_n(&root->invalid, true, __ATOMIC_RELEASE);
		list_del_init(&root->link);
		/* The list's reference now belongs to the back half. */
		list_add_tail(&root->link, &mmu->invalid_roots);
	}
	spin_unlock(&mmu->roots_lock);
	/*
	 * No vCPU may keep running on an invalid root: the back half frees
	 * its tables without a flush, which is only safe once nothing can
	 * walk them.  New roots are loaded with a local flush.
	 */
	platform_reload_guest_roots(mmu->owner);
}

void tdp_mmu_zap_all_fast_back(struct tdp_mmu *mmu)
{
	struct tdp_root *root;

	rwlock_assert_not_held(&mmu->mmu_lock);
	rwlock_read_lock(&mmu->mmu_lock);
	for (;;) {
		spin_lock(&mmu->roots_lock);
		root = NULL;
		if (!list_empty(&mmu->invalid_roots)) {
			root = list_entry(mmu->invalid_roots.next,
					  struct tdp_root, link);
			list_del_init(&root->link);
		}
		spin_unlock(&mmu->roots_lock);
		if (!root)
			break;
		/* Unreachable by the guest: no TLB flush (see README). */
		tdp_zap_root(mmu, root, true);
		tdp_mmu_put_root(mmu, root);
	}
	rwlock_read_unlock(&mmu->mmu_lock);
}

void tdp_mmu_zap_all_fast(struct tdp_mmu *mmu)
{
	rwlock_write_lock(&mmu->mmu_lock);
	tdp_mmu_zap_all_fast_front(mmu);
	rwlock_write_unlock(&mmu->mmu_lock);
	tdp_mmu_zap_all_fast_back(mmu);
}
