// SPDX-License-Identifier: MIT
/*
 * Memslots: validation, copy-on-write slot sets, commit and the flush of
 * removed slots from the MMU.  See memslot.h and mm/README.md.
 */
#include "lib/atomic.h"
#include "lib/string.h"
#include "mm/memslot.h"
#include "mm/tdp/internal.h"

/* ---- sets ---- */

static uint64_t set_bytes(unsigned int count)
{
	return sizeof(struct memslot_set) + count * sizeof(struct memslot);
}

static uint64_t slot_counter_bytes(const struct memslot *s)
{
	return (s->huge_blocks[0] + s->huge_blocks[1]) * sizeof(uint32_t);
}

static struct memslot_set *set_alloc(struct tdp_mmu *mmu, unsigned int count)
{
	struct memslot_set *set = platform_zalloc(set_bytes(count));

	if (set) {
		set->count = count;
		tdp_stat_add(&mmu->stats.bytes, set_bytes(count));
	}
	return set;
}

/* ---- dirty bitmaps ---- */

static struct memslot_dirty *dirty_alloc(struct tdp_mmu *mmu, uint64_t npages)
{
	struct memslot_dirty *d = platform_zalloc(memslot_dirty_bytes(npages));

	if (!d)
		return NULL;
	d->refs = 1;
	d->nwords = (npages + 63) / 64;
	tdp_stat_add(&mmu->stats.bytes, memslot_dirty_bytes(npages));
	return d;
}

/* Drop one reference; touches nothing but the bitmap (EBR-safe). */
void memslot_dirty_put(struct memslot_dirty *d)
{
	if (d && atomic_dec(&d->refs) == 0)
		platform_free(d);
}
#define dirty_put memslot_dirty_put

static void dirty_unaccount(struct tdp_mmu *mmu, const struct memslot *s)
{
	tdp_stat_add(&mmu->stats.bytes,
		     -(int64_t)memslot_dirty_bytes(s->npages));
}

/* Is @d still used by a slot of @set? */
static bool set_uses_dirty(const struct memslot_set *set,
			   const struct memslot_dirty *d)
{
	unsigned int i;

	for (i = 0; set && i < set->count; i++)
		if (set->slots[i].dirty == d)
			return true;
	return false;
}

static void slot_free_counters(struct tdp_mmu *mmu, struct memslot *s)
{
	tdp_stat_add(&mmu->stats.bytes, -(int64_t)slot_counter_bytes(s));
	platform_free(s->huge_block_restricted[0]);
	platform_free(s->huge_block_restricted[1]);
	s->huge_block_restricted[0] = s->huge_block_restricted[1] = NULL;
	dirty_put(s->dirty);
	s->dirty = NULL;
}

/* Free @set now (it is unreachable, or was never published). */
static void set_free_now(struct tdp_mmu *mmu, struct memslot_set *set)
{
	unsigned int i;

	for (i = 0; i < set->count; i++)
		slot_free_counters(mmu, &set->slots[i]);
	tdp_stat_add(&mmu->stats.bytes, -(int64_t)set_bytes(set->count));
	platform_free(set);
}

/*
 * EBR callback.  It must not touch the VM (which may be gone by then), so
 * the accounting is done when the set is retired, and this only frees.
 */
static void set_free_cb(struct ebr_head *head)
{
	struct memslot_set *set = container_of(head, struct memslot_set, ebr);
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		platform_free(set->slots[i].huge_block_restricted[0]);
		platform_free(set->slots[i].huge_block_restricted[1]);
		dirty_put(set->slots[i].dirty);
	}
	platform_free(set);
}

/*
 * @set was replaced by @next (NULL at teardown).  Its counters are its
 * own; a dirty bitmap is accounted for as long as a published set uses it.
 */
static void set_retire(struct tdp_mmu *mmu, struct memslot_set *set,
		       const struct memslot_set *next)
{
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		tdp_stat_add(&mmu->stats.bytes,
			     -(int64_t)slot_counter_bytes(&set->slots[i]));
		if (set->slots[i].dirty &&
		    !set_uses_dirty(next, set->slots[i].dirty))
			dirty_unaccount(mmu, &set->slots[i]);
	}
	tdp_stat_add(&mmu->stats.bytes, -(int64_t)set_bytes(set->count));
	ebr_call(&set->ebr, set_free_cb);
}

int memslot_init(struct tdp_mmu *mmu)
{
	struct memslot_set *set = set_alloc(mmu, 0);

	if (!set)
		return -ENOMEM;
	set->generation = 1;
	mmu->slots = set;
	return 0;
}

void memslot_fini(struct tdp_mmu *mmu)
{
	set_retire(mmu, mmu->slots, NULL);
	mmu->slots = NULL;
}

struct memslot_set *memslot_set_current(struct tdp_mmu *mmu)
{
	return __atomic_load_n(&mmu->slots, __ATOMIC_ACQUIRE);
}

const struct memslot *memslot_find(const struct memslot_set *set, uint64_t gfn)
{
	unsigned int lo = 0, hi = set->count, mid;
	const struct memslot *s;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		s = &set->slots[mid];
		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn >= s->base_gfn + s->npages)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

const struct memslot *memslot_find_id(const struct memslot_set *set,
				      uint32_t id)
{
	unsigned int i;

	for (i = 0; i < set->count; i++)
		if (set->slots[i].id == id)
			return &set->slots[i];
	return NULL;
}

/* ---- huge pages ---- */

static uint64_t block_index(const struct memslot *s, uint64_t gfn, int level)
{
	return (tdp_level_base(gfn, level) -
		tdp_level_base(s->base_gfn, level)) /
	       tdp_pages_per_level(level);
}

static bool block_restricted(const struct memslot *s, uint64_t gfn, int level)
{
	const uint32_t *counts = s->huge_block_restricted[level - 2];

	return __atomic_load_n(&counts[block_index(s, gfn, level)],
			       __ATOMIC_ACQUIRE) != 0;
}

int memslot_max_level(const struct memslot *s, uint64_t gfn, int max_level)
{
	uint64_t n, base, host_pfn = s->host_base >> PAGE_SHIFT;
	int level;

	/* A logged slot is mapped at 4 KiB: one page, one dirty bit. */
	if (s->flags & (MEMSLOT_NO_HUGE | MEMSLOT_DIRTY_LOG))
		return 1;
	for (level = MIN(max_level, TDP_MAX_HUGE_LEVEL); level > 1; level--) {
		n = tdp_pages_per_level(level);
		base = tdp_level_base(gfn, level);
		/* The whole block must be in the slot ... */
		if (base < s->base_gfn || base + n > s->base_gfn + s->npages)
			continue;
		/* ... and guest and host frames aligned alike ... */
		if ((s->base_gfn - host_pfn) & (n - 1))
			continue;
		/* ... and nobody restricted it. */
		if (block_restricted(s, gfn, level))
			continue;
		return level;
	}
	return 1;
}

/*
 * Give @s fresh, zeroed counter arrays.  Those of a slot that stays in
 * place are copied from the previous set by copy_restrictions(), under
 * mmu_lock held for write: restrictions change under that lock, so a copy
 * made earlier could miss one.
 */
static int slot_alloc_counters(struct tdp_mmu *mmu, struct memslot *s)
{
	uint64_t last = s->base_gfn + s->npages - 1;
	int i, level;

	for (i = 0; i < 2; i++) {
		level = i + 2;
		s->huge_blocks[i] = block_index(s, last, level) + 1;
		s->huge_block_restricted[i] =
			platform_zalloc(s->huge_blocks[i] * sizeof(uint32_t));
		if (!s->huge_block_restricted[i]) {
			platform_free(s->huge_block_restricted[0]);
			s->huge_block_restricted[0] = NULL;
			return -ENOMEM;
		}
	}
	tdp_stat_add(&mmu->stats.bytes, slot_counter_bytes(s));
	return 0;
}

static int adjust_restriction(struct tdp_mmu *mmu, uint64_t gfn, int delta)
{
	struct memslot *s;
	uint32_t *c2, *c3;

	rwlock_assert_held_write(&mmu->mmu_lock);
	/* The set cannot change while we hold the write lock. */
	s = (struct memslot *)memslot_find(mmu->slots, gfn);
	if (!s)
		return -ENOENT;
	c2 = &s->huge_block_restricted[0][block_index(s, gfn, 2)];
	c3 = &s->huge_block_restricted[1][block_index(s, gfn, 3)];
	if (delta < 0 && (!*c2 || !*c3))
		return -EINVAL;
	__atomic_store_n(c2, *c2 + delta, __ATOMIC_RELEASE);
	__atomic_store_n(c3, *c3 + delta, __ATOMIC_RELEASE);
	return 0;
}

int tdp_mmu_restrict_huge(struct tdp_mmu *mmu, uint64_t gfn)
{
	uint64_t base = tdp_level_base(gfn, 3);
	struct tdp_root *root;
	struct tdp_flush fl;
	int ret;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	tdp_flush_init(&fl, true);
	rwlock_write_lock(&mmu->mmu_lock);
	ret = adjust_restriction(mmu, gfn, 1);
	if (!ret) {
		/* Huge leaves over @gfn must go; 4 KiB ones may stay. */
		for_each_valid_root (mmu, root)
			tdp_zap_leafs(mmu, root, base,
				      base + tdp_pages_per_level(3), 2, true,
				      &fl);
		tdp_flush_commit(mmu, &fl);
	}
	rwlock_write_unlock(&mmu->mmu_lock);
	return ret;
}

int tdp_mmu_unrestrict_huge(struct tdp_mmu *mmu, uint64_t gfn)
{
	int ret;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	rwlock_write_lock(&mmu->mmu_lock);
	ret = adjust_restriction(mmu, gfn, -1);
	rwlock_write_unlock(&mmu->mmu_lock);
	return ret;
}

/* ---- changes ---- */

enum slot_change {
	SLOT_CREATE,
	SLOT_DELETE,
	SLOT_MOVE,
	SLOT_FLAGS,
};

static int find_index(const struct memslot_set *set, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < set->count; i++)
		if (set->slots[i].id == id)
			return (int)i;
	return -1;
}

static bool overlaps(const struct memslot_set *set, uint64_t gfn,
		     uint64_t npages, int skip)
{
	const struct memslot *s;
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		s = &set->slots[i];
		if ((int)i != skip && gfn < s->base_gfn + s->npages &&
		    s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

static int check_range(uint64_t gpa, uint64_t size)
{
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	if (gpa + size < gpa || gpa + size > (TDP_MAX_GFN << PAGE_SHIFT))
		return -ERANGE;
	return 0;
}

static int check_flags(struct tdp_mmu *mmu, uint32_t flags)
{
	if (flags & ~MEMSLOT_VALID_FLAGS)
		return -EINVAL;
	/*
	 * A protected VM cannot log: write-protecting a mirror leaf and
	 * making it writable again on a write fault would change a present
	 * mirror SPTE under the read lock (see mm/tdp/mirror.c).
	 */
	if ((flags & MEMSLOT_DIRTY_LOG) && tdp_mmu_is_protected(mmu))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Build the next set: @old without slot @skip (-1: none), plus @add if not
 * NULL, sorted by gfn.  Every slot gets zeroed counters: commit() copies
 * those of the slots that stay in place.
 */
static struct memslot_set *build_set(struct tdp_mmu *mmu,
				     const struct memslot_set *old, int skip,
				     const struct memslot *add)
{
	unsigned int n = old->count - (skip >= 0) + (add != NULL);
	struct memslot_set *set = set_alloc(mmu, n);
	const struct memslot *src;
	unsigned int i, j = 0;
	bool added = add == NULL;

	if (!set)
		return NULL;
	for (i = 0; i <= old->count; i++) {
		src = i < old->count ? &old->slots[i] : NULL;
		if (src && (int)i == skip)
			continue;
		if (!added && (!src || add->base_gfn < src->base_gfn)) {
			set->slots[j] = *add;
			added = true;
			i--; /* look at src again next round */
		} else if (src) {
			set->slots[j] = *src;
		} else {
			break;
		}
		if (slot_alloc_counters(mmu, &set->slots[j])) {
			/* Slot j still points at its source's counters:
			 * forget them, so only what this set owns is freed. */
			set->slots[j].huge_block_restricted[0] = NULL;
			set->slots[j].huge_block_restricted[1] = NULL;
			set->slots[j].huge_blocks[0] = 0;
			set->slots[j].huge_blocks[1] = 0;
			set->slots[j].dirty = NULL;
			set_free_now(mmu, set);
			return NULL;
		}
		if (set->slots[j].dirty)
			atomic_inc(&set->slots[j].dirty->refs);
		j++;
	}
	BUG_ON(j != n);
	return set;
}

/*
 * A slot of @new that is the same slot at the same place in @prev (kept,
 * or with new flags) keeps its restrictions; a moved or new slot starts
 * with none.  mmu_lock is held for write.
 */
static void copy_restrictions(struct memslot_set *new,
			      const struct memslot_set *prev)
{
	const struct memslot *from;
	struct memslot *s;
	unsigned int i;
	int j, k;

	for (i = 0; i < new->count; i++) {
		s = &new->slots[i];
		j = find_index(prev, s->id);
		if (j < 0)
			continue;
		from = &prev->slots[j];
		if (from->base_gfn != s->base_gfn || from->npages != s->npages)
			continue;
		for (k = 0; k < 2; k++)
			memcpy(s->huge_block_restricted[k],
			       from->huge_block_restricted[k],
			       s->huge_blocks[k] * sizeof(uint32_t));
	}
}

static void notify_removed(struct tdp_mmu *mmu, const struct memslot *old)
{
	struct memslot_observer *o;

	list_for_each_entry (o, &mmu->observers, link)
		o->slot_removed(o, old);
}

/*
 * Publish @new (slots_update held) and take out of the MMU what the change
 * removed: mappings of @old's range for DELETE and MOVE (policy chosen
 * once), write access or huge leaves for a flags change, write access
 * when dirty logging starts.  mmu_lock is taken for write once for all of
 * it; the TLB flush, if any, happens before it is dropped.
 *
 * Then, without the write lock: when logging starts, split the slot's
 * huge leaves (read lock); when nothing keeps the slot at 4 KiB any more,
 * recover its huge pages.
 */
static void commit(struct tdp_mmu *mmu, struct memslot_set *new,
		   enum slot_change change, const struct memslot *old)
{
	/* Mirror roots are never fast-zapped: always targeted for them. */
	bool zap_all = READ_ONCE(mmu->slot_flush_policy) == TDP_SLOT_FLUSH_ALL &&
		       !tdp_mmu_is_protected(mmu);
	struct memslot_set *prev = mmu->slots;
	int zap_level = 0; /* 0: nothing to zap */
	uint32_t on = 0, off = 0, now = 0;
	bool wrprot = false;
	struct tdp_root *root;
	struct tdp_flush fl;
	uint64_t start = 0, end = 0;

	if (old) {
		start = old->base_gfn;
		end = old->base_gfn + old->npages;
	}
	if (change == SLOT_DELETE || change == SLOT_MOVE) {
		zap_level = 1;
	} else if (change == SLOT_FLAGS) {
		zap_all = false;
		now = new->slots[find_index(new, old->id)].flags;
		on = now & ~old->flags;
		off = old->flags & ~now;
		/*
		 * A protected VM's read-only leaves cannot be made writable
		 * by a fault (that changes a present mirror SPTE under the
		 * read lock): zap them, the next fault maps them writable.
		 */
		if ((on & MEMSLOT_READONLY) ||
		    ((off & MEMSLOT_READONLY) && tdp_mmu_is_protected(mmu)))
			zap_level = 1;
		else if (on & MEMSLOT_NO_HUGE)
			zap_level = 2;
		/* Zapping every leaf leaves nothing writable to protect. */
		wrprot = (on & MEMSLOT_DIRTY_LOG) && zap_level != 1;
	} else {
		zap_all = false;
	}

	tdp_flush_init(&fl, true);
	rwlock_write_lock(&mmu->mmu_lock);
	copy_restrictions(new, prev);
	new->generation = prev->generation + 1;
	__atomic_store_n(&mmu->slots, new, __ATOMIC_RELEASE);
	if (zap_level && zap_all) {
		tdp_mmu_zap_all_fast_front(mmu);
	} else if (zap_level || wrprot) {
		/*
		 * A protected VM's zap must not yield: a fault in between
		 * would map a moved slot's frames at their new place while
		 * the old leaves still map them, and the guard refuses such
		 * aliases.
		 */
		for_each_valid_root (mmu, root) {
			if (zap_level)
				tdp_zap_leafs(mmu, root, start, end, zap_level,
					      !tdp_mmu_is_protected(mmu), &fl);
			if (wrprot)
				tdp_wrprot_leafs(mmu, root, start, end, &fl);
		}
		tdp_flush_commit(mmu, &fl);
	}
	rwlock_write_unlock(&mmu->mmu_lock);
	if (zap_level && zap_all)
		tdp_mmu_zap_all_fast_back(mmu);

	if ((on & MEMSLOT_DIRTY_LOG) && READ_ONCE(mmu->eager_split))
		tdp_mmu_split_huge_pages(mmu, start, end, 1);
	if ((off & (MEMSLOT_DIRTY_LOG | MEMSLOT_NO_HUGE)) &&
	    !(now & (MEMSLOT_DIRTY_LOG | MEMSLOT_NO_HUGE)))
		tdp_mmu_recover_huge_pages(mmu, start, end);

	if (change == SLOT_DELETE || change == SLOT_MOVE)
		notify_removed(mmu, old);
	set_retire(mmu, prev, new);
}

int memslot_create(struct tdp_mmu *mmu, uint32_t id, uint64_t gpa,
		   uint64_t size, phys_addr_t host_base, uint32_t flags)
{
	struct memslot_set *cur, *new;
	struct memslot s = {0};
	int ret;

	if (id > MEMSLOT_ID_MAX || !size || !IS_ALIGNED(host_base, PAGE_SIZE))
		return -EINVAL;
	ret = check_range(gpa, size);
	if (!ret)
		ret = check_flags(mmu, flags);
	if (!ret &&
	    (host_base + size < host_base || host_base + size > (1ull << 52)))
		ret = -ERANGE;
	if (ret)
		return ret;

	s.id = id;
	s.flags = flags;
	s.base_gfn = gpa >> PAGE_SHIFT;
	s.npages = size >> PAGE_SHIFT;
	s.host_base = host_base;
	if ((flags & MEMSLOT_DIRTY_LOG) &&
	    !(s.dirty = dirty_alloc(mmu, s.npages)))
		return -ENOMEM;

	/* A bugged VM refuses every change (mm/tdp/mirror.c). */
	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	spin_lock(&mmu->slots_update);
	cur = mmu->slots;
	if (find_index(cur, id) >= 0 || overlaps(cur, s.base_gfn, s.npages, -1))
		ret = -EEXIST;
	else if (cur->count >= MEMSLOT_MAX)
		ret = -ENOSPC;
	else if (!(new = build_set(mmu, cur, -1, &s)))
		ret = -ENOMEM;
	else
		commit(mmu, new, SLOT_CREATE, NULL);
	spin_unlock(&mmu->slots_update);
	if (ret && s.dirty)
		dirty_unaccount(mmu, &s);
	dirty_put(s.dirty); /* the set holds its own reference */
	return ret;
}

/*
 * The start of every change to an existing slot: refuse it on a bugged VM
 * (mm/tdp/mirror.c), take slots_update and find the slot.  Returns its
 * index with the lock held, or a negative error with the lock free.
 */
static int lock_existing(struct tdp_mmu *mmu, uint32_t id,
			 struct memslot_set **cur)
{
	int idx;

	if (tdp_mmu_is_bugged(mmu))
		return -EIO;
	spin_lock(&mmu->slots_update);
	*cur = mmu->slots;
	idx = find_index(*cur, id);
	if (idx < 0) {
		spin_unlock(&mmu->slots_update);
		return -ENOENT;
	}
	return idx;
}

int memslot_delete(struct tdp_mmu *mmu, uint32_t id)
{
	struct memslot_set *cur, *new;
	struct memslot old;
	int idx, ret = 0;

	idx = lock_existing(mmu, id, &cur);
	if (idx < 0)
		return idx;
	old = cur->slots[idx];
	new = build_set(mmu, cur, idx, NULL);
	if (!new)
		ret = -ENOMEM;
	else
		commit(mmu, new, SLOT_DELETE, &old);
	spin_unlock(&mmu->slots_update);
	return ret;
}

int memslot_move(struct tdp_mmu *mmu, uint32_t id, uint64_t new_gpa)
{
	struct memslot_set *cur, *new;
	struct memslot old, moved;
	int idx, ret;

	idx = lock_existing(mmu, id, &cur);
	if (idx < 0)
		return idx;
	old = cur->slots[idx];
	ret = check_range(new_gpa, old.npages << PAGE_SHIFT);
	if (ret || new_gpa >> PAGE_SHIFT == old.base_gfn)
		goto out;
	if (overlaps(cur, new_gpa >> PAGE_SHIFT, old.npages, idx)) {
		ret = -EEXIST;
		goto out;
	}
	moved = old;
	moved.base_gfn = new_gpa >> PAGE_SHIFT;
	/* A moved slot starts with no restrictions, as a new one would. */
	new = build_set(mmu, cur, idx, &moved);
	if (!new)
		ret = -ENOMEM;
	else
		commit(mmu, new, SLOT_MOVE, &old);
out:
	spin_unlock(&mmu->slots_update);
	return ret;
}

int memslot_set_flags(struct tdp_mmu *mmu, uint32_t id, uint32_t flags)
{
	struct memslot_set *cur, *new;
	struct memslot old, changed;
	int idx, ret;

	ret = check_flags(mmu, flags);
	if (ret)
		return ret;
	idx = lock_existing(mmu, id, &cur);
	if (idx < 0)
		return idx;
	if (cur->slots[idx].flags != flags) {
		old = cur->slots[idx];
		changed = old;
		changed.flags = flags;
		changed.dirty = NULL;
		if (flags & MEMSLOT_DIRTY_LOG)
			changed.dirty = old.dirty
						? old.dirty
						: dirty_alloc(mmu, old.npages);
		if ((flags & MEMSLOT_DIRTY_LOG) && !changed.dirty)
			ret = -ENOMEM;
		else if (!(new = build_set(mmu, cur, idx, &changed)))
			ret = -ENOMEM;
		else
			commit(mmu, new, SLOT_FLAGS, &old);
		/* A bitmap made here: drop our reference, and its
		 * accounting if no set took it. */
		if (changed.dirty && changed.dirty != old.dirty) {
			if (ret)
				dirty_unaccount(mmu, &changed);
			dirty_put(changed.dirty);
		}
	}
	spin_unlock(&mmu->slots_update);
	return ret;
}

void memslot_observer_register(struct tdp_mmu *mmu, struct memslot_observer *o)
{
	spin_lock(&mmu->slots_update);
	list_add_tail(&o->link, &mmu->observers);
	spin_unlock(&mmu->slots_update);
}

void memslot_observer_unregister(struct tdp_mmu *mmu,
				 struct memslot_observer *o)
{
	spin_lock(&mmu->slots_update);
	list_del_init(&o->link);
	spin_unlock(&mmu->slots_update);
}
