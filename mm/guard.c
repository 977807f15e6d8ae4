// SPDX-License-Identifier: MIT
/*
 * The external page-table guard: the only writer of a protected VM's EPT.
 * What it checks and why is described in mm/guard.h; this file keeps the
 * checks in the order the header lists them, before any change is made.
 */
#include "mm/guard.h"
#include "lib/atomic.h"
#include "lib/list.h"
#include "mm/tdp/spte.h"

/*
 * The EPT bit layout comes from the MMU's SPTE header, the one place that
 * defines it; the guard uses only the hardware bits (R/W/X, memory type,
 * large page, frame address), never the MMU's software bits.
 */
#define EPT_R	      SPTE_R
#define EPT_W	      SPTE_W
#define EPT_X	      SPTE_X
#define EPT_RWX	      SPTE_RWX
#define EPT_MT_SHIFT  SPTE_MT_SHIFT
#define EPT_MT_MASK   SPTE_MT_MASK
#define EPT_LARGE     SPTE_LARGE
#define EPT_ADDR_MASK SPTE_PFN_MASK
/* EPTP bits 5:3 hold levels - 1 (spte.h only has the 4-level value). */
#define EPTP_LEVELS_SHIFT 3

#define PTE_INDEX_BITS 9
#define PTE_INDEX_MASK (GUARD_PTES_PER_TABLE - 1)
#define MAX_PFN	       (1ull << (GUARD_MAX_PHYS_BITS - PAGE_SHIFT))

/*
 * A small test-and-test-and-set lock private to the guard.  Guard calls are
 * short, so fairness matters less than not handing the lock to a waiter
 * that is not running (host tests run more threads than CPUs).
 * TODO: switch to lib/spinlock once it has landed on main.
 */
struct guard_lock {
	uint32_t locked;
};

static void glock(struct guard_lock *l)
{
	unsigned int spins = 0;

	platform_sched_point(SCHED_LOCK, l);
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			platform_relax();
			/* The holder may not be running: let it. */
			if (++spins % 256 == 0)
				platform_yield();
		}
	}
}

static void gunlock(struct guard_lock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	platform_sched_point(SCHED_UNLOCK, l);
}

/* A run of frames that the registry knows about. */
struct guard_range {
	uint64_t pfn, npages;
	struct guard *owner;	   /* NULL: reserved for the hypervisor */
	uint64_t *mapped;	   /* bit per frame: a leaf maps it now */
	uint64_t *dirty;	   /* bit per frame: may hold VM data */
	uint64_t removed_gen;	   /* removal_gen of the last unmap in here */
	struct list_head reg_link; /* registry->ranges */
	struct list_head own_link; /* owner->ranges */
};

struct guard_registry {
	struct guard_lock lock;
	struct list_head ranges;
	unsigned int nguards;
};

/* A table page unlinked from the EPT, freed once a flush has covered it. */
struct pending_table {
	uint64_t *page;
	uint64_t gen;
	struct list_head link;
};

struct guard {
	struct guard_registry *reg;
	struct guard_lock lock;
	uint64_t *root;
	unsigned int levels, max_leaf;
	struct list_head ranges;  /* this VM's memory */
	struct list_head pending; /* struct pending_table */
	uint64_t removal_gen;	  /* bumped by each unmap / unlink */
	uint64_t flushed_gen;	  /* removals up to here are flushed */
	struct guard_fault_inject inject;
	uint64_t inject_count; /* EPT requests since injection set */
	uint64_t rng;
	struct guard_stats stats; /* under lock; .rollbacks unused */
	uint64_t rollbacks;	  /* atomic: the MMU adds lock-free */
};

/* ---- Small helpers. ---- */

static const char *const error_names[GUARD_E_NR] = {
	[0] = "GUARD_OK",
	[-GUARD_E_BUSY] = "GUARD_E_BUSY",
	[-GUARD_E_INVAL] = "GUARD_E_INVAL",
	[-GUARD_E_LEVEL] = "GUARD_E_LEVEL",
	[-GUARD_E_GFN] = "GUARD_E_GFN",
	[-GUARD_E_GFN_ALIGN] = "GUARD_E_GFN_ALIGN",
	[-GUARD_E_PFN_ALIGN] = "GUARD_E_PFN_ALIGN",
	[-GUARD_E_PROT] = "GUARD_E_PROT",
	[-GUARD_E_MEMTYPE] = "GUARD_E_MEMTYPE",
	[-GUARD_E_NOT_OWNED] = "GUARD_E_NOT_OWNED",
	[-GUARD_E_DOUBLE_MAP] = "GUARD_E_DOUBLE_MAP",
	[-GUARD_E_NO_PARENT] = "GUARD_E_NO_PARENT",
	[-GUARD_E_UNDER_LEAF] = "GUARD_E_UNDER_LEAF",
	[-GUARD_E_PRESENT] = "GUARD_E_PRESENT",
	[-GUARD_E_NOT_PRESENT] = "GUARD_E_NOT_PRESENT",
	[-GUARD_E_KIND] = "GUARD_E_KIND",
	[-GUARD_E_NOT_EMPTY] = "GUARD_E_NOT_EMPTY",
	[-GUARD_E_NOMEM] = "GUARD_E_NOMEM",
	[-GUARD_E_OVERLAP] = "GUARD_E_OVERLAP",
	[-GUARD_E_IN_USE] = "GUARD_E_IN_USE",
	[-GUARD_E_FLUSH] = "GUARD_E_FLUSH",
};

const char *guard_strerror(int err)
{
	if (err > 0 || err <= -GUARD_E_NR || !error_names[-err])
		return "GUARD_E_?";
	return error_names[-err];
}

static int refuse(struct guard *g, int err)
{
	g->stats.refusals[-err]++;
	return err;
}

static inline bool pte_present(uint64_t pte)
{
	return pte & EPT_RWX;
}

static inline bool pte_is_leaf(uint64_t pte, int level)
{
	return level == GUARD_LEVEL_4K || (pte & EPT_LARGE);
}

static inline uint64_t *pte_table(uint64_t pte)
{
	return platform_phys_to_virt(pte & EPT_ADDR_MASK);
}

static inline unsigned int pte_index(uint64_t gfn, int level)
{
	return (gfn >> (PTE_INDEX_BITS * (level - 1))) & PTE_INDEX_MASK;
}

static inline uint64_t pte_read(uint64_t *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_RELAXED);
}

/*
 * The CPU may walk the EPT while we change it: each entry changes in one
 * 64-bit store, released so that a table is seen zeroed once linked.
 */
static inline void pte_write(uint64_t *ptep, uint64_t val)
{
	__atomic_store_n(ptep, val, __ATOMIC_RELEASE);
}

static uint64_t make_leaf(uint64_t pfn, int level, unsigned int prot,
			  enum guard_memtype mt)
{
	uint64_t pte = (pfn << PAGE_SHIFT) | ((uint64_t)mt << EPT_MT_SHIFT);

	if (prot & GUARD_PROT_R)
		pte |= EPT_R;
	if (prot & GUARD_PROT_W)
		pte |= EPT_W;
	if (prot & GUARD_PROT_X)
		pte |= EPT_X;
	if (level > GUARD_LEVEL_4K)
		pte |= EPT_LARGE;
	return pte;
}

static void decode_leaf(uint64_t pte, uint64_t gfn, int level,
			struct guard_leaf *out)
{
	out->gfn = gfn & ~(GUARD_LEVEL_PAGES(level) - 1);
	out->pfn = (pte & EPT_ADDR_MASK) >> PAGE_SHIFT;
	out->level = level;
	out->prot = ((pte & EPT_R) ? GUARD_PROT_R : 0) |
		    ((pte & EPT_W) ? GUARD_PROT_W : 0) |
		    ((pte & EPT_X) ? GUARD_PROT_X : 0);
	out->mt = (enum guard_memtype)((pte & EPT_MT_MASK) >> EPT_MT_SHIFT);
}

/* Zero a page unless it is zero already; the write is what costs. */
static void scrub_page(void *va)
{
	uint64_t *w = va;
	size_t i;

	for (i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			break;
	if (i == PAGE_SIZE / sizeof(*w))
		return;
	for (i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		w[i] = 0;
	barrier();
}

/* ---- Bitmaps of frames (one bit per frame of a range). ---- */

static uint64_t run_mask(uint64_t bit, uint64_t end_in_word)
{
	uint64_t hi = end_in_word == 64 ? ~0ull : BIT(end_in_word) - 1;

	return hi & ~(BIT(bit) - 1);
}

/*
 * Apply op to bits [start, start + n): 0 tests for any set bit, 1 sets,
 * 2 clears.  Returns true if op 0 found a set bit.
 */
static bool bits_op(uint64_t *map, uint64_t start, uint64_t n, int op)
{
	uint64_t end = start + n;

	while (start < end) {
		uint64_t word = start / 64, bit = start % 64;
		uint64_t stop = MIN(end - word * 64, 64);
		uint64_t m = run_mask(bit, stop);

		if (op == 0 && (map[word] & m))
			return true;
		if (op == 1)
			map[word] |= m;
		if (op == 2)
			map[word] &= ~m;
		start = word * 64 + stop;
	}
	return false;
}

static size_t bitmap_bytes(uint64_t nbits)
{
	return (size_t)((nbits + 63) / 64) * sizeof(uint64_t);
}

/* ---- The registry. ---- */

static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

/* Caller holds reg->lock. */
static bool registry_collides(struct guard_registry *reg, uint64_t pfn,
			      uint64_t npages)
{
	struct guard_range *r;

	list_for_each_entry (r, &reg->ranges, reg_link)
		if (overlaps(pfn, npages, r->pfn, r->npages))
			return true;
	return false;
}

static bool range_args_ok(uint64_t pfn, uint64_t npages)
{
	return npages && pfn < MAX_PFN && npages <= MAX_PFN - pfn;
}

int guard_registry_create(struct guard_registry **out)
{
	struct guard_registry *reg;

	if (!out)
		return GUARD_E_INVAL;
	reg = platform_zalloc(sizeof(*reg));
	if (!reg)
		return GUARD_E_NOMEM;
	list_init(&reg->ranges);
	*out = reg;
	return GUARD_OK;
}

int guard_registry_destroy(struct guard_registry *reg)
{
	if (!reg)
		return GUARD_E_INVAL;
	if (reg->nguards || !list_empty(&reg->ranges))
		return GUARD_E_IN_USE;
	platform_free(reg);
	return GUARD_OK;
}

int guard_registry_reserve(struct guard_registry *reg, uint64_t pfn,
			   uint64_t npages)
{
	struct guard_range *r;

	if (!reg || !range_args_ok(pfn, npages))
		return GUARD_E_INVAL;
	r = platform_zalloc(sizeof(*r));
	if (!r)
		return GUARD_E_NOMEM;
	r->pfn = pfn;
	r->npages = npages;
	glock(&reg->lock);
	if (registry_collides(reg, pfn, npages)) {
		gunlock(&reg->lock);
		platform_free(r);
		return GUARD_E_OVERLAP;
	}
	list_add_tail(&r->reg_link, &reg->ranges);
	gunlock(&reg->lock);
	return GUARD_OK;
}

int guard_registry_unreserve(struct guard_registry *reg, uint64_t pfn,
			     uint64_t npages)
{
	struct guard_range *r, *found = NULL;

	if (!reg)
		return GUARD_E_INVAL;
	glock(&reg->lock);
	list_for_each_entry (r, &reg->ranges, reg_link) {
		if (!r->owner && r->pfn == pfn && r->npages == npages) {
			found = r;
			list_del_init(&r->reg_link);
			break;
		}
	}
	gunlock(&reg->lock);
	if (!found)
		return GUARD_E_INVAL;
	platform_free(found);
	return GUARD_OK;
}

/* ---- Table pages. ---- */

/*
 * A new, zeroed table page that is not guest memory.  Returns an error
 * code and allocates nothing on failure.  Caller holds g->lock.
 */
static int alloc_table(struct guard *g, uint64_t **out)
{
	uint64_t *page = platform_page_alloc();
	uint64_t pfn;
	bool bad;

	if (!page)
		return GUARD_E_NOMEM;
	pfn = platform_virt_to_phys(page) >> PAGE_SHIFT;
	glock(&g->reg->lock);
	bad = registry_collides(g->reg, pfn, 1);
	gunlock(&g->reg->lock);
	if (bad) {
		platform_log(LOG_ERR,
			     "guard: allocator returned registered frame %#llx",
			     (unsigned long long)pfn);
		platform_page_free(page);
		return GUARD_E_OVERLAP;
	}
	*out = page;
	return GUARD_OK;
}

/* Table pages carry host addresses: zero them before they go back. */
static void free_table_page(struct guard *g, uint64_t *page)
{
	scrub_page(page);
	g->stats.pages_scrubbed++;
	platform_page_free(page);
}

/* ---- Ownership of frames, under g->lock. ---- */

static struct guard_range *own_range(struct guard *g, uint64_t pfn)
{
	struct guard_range *r;

	list_for_each_entry (r, &g->ranges, own_link)
		if (pfn >= r->pfn && pfn - r->pfn < r->npages)
			return r;
	return NULL;
}

/*
 * Check that [pfn, pfn + n) is this VM's and unmapped.  The run may cross
 * from one of the VM's ranges into an adjacent one.
 */
static int check_frames(struct guard *g, uint64_t pfn, uint64_t n)
{
	uint64_t end = pfn + n;

	if (pfn >= MAX_PFN || n > MAX_PFN - pfn)
		return GUARD_E_NOT_OWNED;
	while (pfn < end) {
		struct guard_range *r = own_range(g, pfn);
		uint64_t stop;

		if (!r)
			return GUARD_E_NOT_OWNED;
		stop = MIN(end, r->pfn + r->npages);
		if (bits_op(r->mapped, pfn - r->pfn, stop - pfn, 0))
			return GUARD_E_DOUBLE_MAP;
		pfn = stop;
	}
	return GUARD_OK;
}

/* Mark [pfn, pfn + n) mapped (and dirty), or unmapped; already checked. */
static void account_frames(struct guard *g, uint64_t pfn, uint64_t n, bool map)
{
	uint64_t end = pfn + n;

	while (pfn < end) {
		struct guard_range *r = own_range(g, pfn);
		uint64_t stop;

		BUG_ON(!r);
		stop = MIN(end, r->pfn + r->npages);
		if (map) {
			bits_op(r->mapped, pfn - r->pfn, stop - pfn, 1);
			bits_op(r->dirty, pfn - r->pfn, stop - pfn, 1);
		} else {
			bits_op(r->mapped, pfn - r->pfn, stop - pfn, 2);
			r->removed_gen = g->removal_gen;
		}
		pfn = stop;
	}
	if (map)
		g->stats.frames_mapped += n;
	else
		g->stats.frames_mapped -= n;
}

/* ---- Lifetime. ---- */

int guard_create(struct guard_registry *reg, const struct guard_config *cfg,
		 struct guard **out)
{
	struct guard *g;
	int err;

	if (!reg || !cfg || !out)
		return GUARD_E_INVAL;
	if ((cfg->levels != 4 && cfg->levels != 5) ||
	    cfg->max_leaf < GUARD_LEVEL_2M || cfg->max_leaf > GUARD_LEVEL_1G)
		return GUARD_E_LEVEL;
	g = platform_zalloc(sizeof(*g));
	if (!g)
		return GUARD_E_NOMEM;
	g->reg = reg;
	g->levels = cfg->levels;
	g->max_leaf = cfg->max_leaf;
	list_init(&g->ranges);
	list_init(&g->pending);
	err = alloc_table(g, &g->root);
	if (err) {
		platform_free(g);
		return err;
	}
	g->stats.tables_live = 1;
	glock(&reg->lock);
	reg->nguards++;
	gunlock(&reg->lock);
	*out = g;
	return GUARD_OK;
}

/* Zero and free everything below @table (a table of level-@level entries). */
static void teardown_table(struct guard *g, uint64_t *table, int level,
			   uint64_t gfn)
{
	for (unsigned int i = 0; i < GUARD_PTES_PER_TABLE; i++) {
		uint64_t pte = pte_read(&table[i]);
		uint64_t egfn = gfn + i * GUARD_LEVEL_PAGES(level);

		if (!pte_present(pte))
			continue;
		pte_write(&table[i], 0);
		if (pte_is_leaf(pte, level)) {
			account_frames(g, (pte & EPT_ADDR_MASK) >> PAGE_SHIFT,
				       GUARD_LEVEL_PAGES(level), false);
			g->stats.leaves_live--;
			continue;
		}
		teardown_table(g, pte_table(pte), level - 1, egfn);
		free_table_page(g, pte_table(pte));
		g->stats.tables_live--;
	}
}

static void free_pending(struct guard *g, uint64_t upto)
{
	struct pending_table *p, *tmp;

	list_for_each_entry_safe (p, tmp, &g->pending, link) {
		if (p->gen > upto)
			continue;
		list_del_init(&p->link);
		free_table_page(g, p->page);
		platform_free(p);
		g->stats.tables_pending--;
	}
}

/* Zero every frame of @r that may hold VM data; returns how many. */
static uint64_t scrub_range(struct guard_range *r)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < r->npages; i++) {
		if (!(r->dirty[i / 64] & BIT(i % 64)))
			continue;
		scrub_page(platform_phys_to_virt((r->pfn + i) << PAGE_SHIFT));
		n++;
	}
	bits_op(r->dirty, 0, r->npages, 2);
	return n;
}

static void free_range(struct guard_range *r)
{
	platform_free(r->mapped);
	platform_free(r->dirty);
	platform_free(r);
}

/*
 * @r is off g->ranges already: scrub it, then let the registry forget it.
 * Returns the number of frames scrubbed.
 */
static uint64_t retire_range(struct guard *g, struct guard_range *r)
{
	uint64_t n = scrub_range(r);

	glock(&g->reg->lock);
	list_del_init(&r->reg_link);
	gunlock(&g->reg->lock);
	free_range(r);
	return n;
}

void guard_destroy(struct guard *g)
{
	struct guard_range *r, *tmp;

	if (!g)
		return;
	glock(&g->lock);
	teardown_table(g, g->root, g->levels, 0);
	free_pending(g, UINT64_MAX);
	free_table_page(g, g->root);
	g->root = NULL;
	list_for_each_entry_safe (r, tmp, &g->ranges, own_link) {
		list_del_init(&r->own_link);
		g->stats.pages_scrubbed += retire_range(g, r);
	}
	gunlock(&g->lock);
	glock(&g->reg->lock);
	g->reg->nguards--;
	gunlock(&g->reg->lock);
	platform_free(g);
}

/* ---- Memory of the VM. ---- */

/* Count a refusal of a call that does not hold g->lock. */
static int refuse_unlocked(struct guard *g, int err)
{
	glock(&g->lock);
	refuse(g, err);
	gunlock(&g->lock);
	return err;
}

int guard_add_memory(struct guard *g, uint64_t pfn, uint64_t npages,
		     unsigned int flags)
{
	struct guard_range *r;
	int err = GUARD_OK;

	if (!g)
		return GUARD_E_INVAL;
	if (!range_args_ok(pfn, npages) || (flags & ~GUARD_MEM_ZEROED))
		return refuse_unlocked(g, GUARD_E_INVAL);
	r = platform_zalloc(sizeof(*r));
	if (!r)
		return refuse_unlocked(g, GUARD_E_NOMEM);
	r->mapped = platform_zalloc(bitmap_bytes(npages));
	r->dirty = platform_zalloc(bitmap_bytes(npages));
	if (!r->mapped || !r->dirty) {
		free_range(r);
		return refuse_unlocked(g, GUARD_E_NOMEM);
	}
	r->pfn = pfn;
	r->npages = npages;
	r->owner = g;
	if (!(flags & GUARD_MEM_ZEROED))
		bits_op(r->dirty, 0, npages, 1);

	glock(&g->lock);
	glock(&g->reg->lock);
	if (registry_collides(g->reg, pfn, npages))
		err = GUARD_E_OVERLAP;
	else
		list_add_tail(&r->reg_link, &g->reg->ranges);
	gunlock(&g->reg->lock);
	if (err)
		refuse(g, err);
	else
		list_add_tail(&r->own_link, &g->ranges);
	gunlock(&g->lock);
	if (err)
		free_range(r);
	return err;
}

int guard_release_memory(struct guard *g, uint64_t pfn, uint64_t npages)
{
	struct guard_range *r, *found = NULL;
	int err = GUARD_OK;

	if (!g)
		return GUARD_E_INVAL;
	glock(&g->lock);
	list_for_each_entry (r, &g->ranges, own_link)
		if (r->pfn == pfn && r->npages == npages)
			found = r;
	if (!found)
		err = GUARD_E_NOT_OWNED;
	else if (bits_op(found->mapped, 0, npages, 0))
		err = GUARD_E_IN_USE;
	else if (found->removed_gen > g->flushed_gen)
		err = GUARD_E_FLUSH;
	else
		list_del_init(&found->own_link);
	if (err)
		refuse(g, err);
	gunlock(&g->lock);
	/*
	 * Off the VM's list, no leaf can map it again; still in the registry,
	 * nobody else can own it until it is scrubbed.
	 */
	if (!err) {
		uint64_t n = retire_range(g, found);

		glock(&g->lock);
		g->stats.pages_scrubbed += n;
		gunlock(&g->lock);
	}
	return err;
}

/* ---- Requests that change the EPT. ---- */

static int maybe_inject(struct guard *g, enum guard_call call)
{
	struct guard_fault_inject *fi = &g->inject;
	bool fail = false;

	if (!fi->error)
		return GUARD_OK;
	g->inject_count++;
	if (fi->nth && g->inject_count == fi->nth)
		fail = true;
	if (fi->per_million) {
		uint64_t x = g->rng;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		g->rng = x;
		if (x % 1000000 < fi->per_million)
			fail = true;
	}
	if (!fail)
		return GUARD_OK;
	g->stats.injected[call]++;
	return fi->error;
}

int guard_inject_failures(struct guard *g, const struct guard_fault_inject *fi)
{
	if (!g)
		return GUARD_E_INVAL;
	if (fi && fi->error != GUARD_E_BUSY && fi->error != GUARD_E_INVAL)
		return GUARD_E_INVAL;
	if (fi && fi->per_million > 1000000)
		return GUARD_E_INVAL;
	glock(&g->lock);
	if (fi) {
		g->inject = *fi;
		g->rng = fi->seed ? fi->seed : 0x2545f4914f6cdd1dull;
	} else {
		g->inject = (struct guard_fault_inject){0};
	}
	g->inject_count = 0;
	gunlock(&g->lock);
	return GUARD_OK;
}

/* The checks every request shares: level range, address width, alignment. */
static int check_entry_args(struct guard *g, uint64_t gfn, int level,
			    int min_level, int max_level)
{
	if (level < min_level || level > max_level)
		return GUARD_E_LEVEL;
	if (gfn >> (PTE_INDEX_BITS * g->levels))
		return GUARD_E_GFN;
	if (gfn & (GUARD_LEVEL_PAGES(level) - 1))
		return GUARD_E_GFN_ALIGN;
	return GUARD_OK;
}

/*
 * Find the entry (gfn, level): every table above it must exist and no
 * huge leaf may cover it.
 */
static int find_entry(struct guard *g, uint64_t gfn, int level,
		      uint64_t **ptepp)
{
	uint64_t *table = g->root;

	for (int l = g->levels; l > level; l--) {
		uint64_t pte = pte_read(&table[pte_index(gfn, l)]);

		if (!pte_present(pte))
			return GUARD_E_NO_PARENT;
		if (pte_is_leaf(pte, l))
			return GUARD_E_UNDER_LEAF;
		table = pte_table(pte);
	}
	*ptepp = &table[pte_index(gfn, level)];
	return GUARD_OK;
}

/* Common prologue of the four requests; returns with g->lock held. */
static int begin_request(struct guard *g, enum guard_call call, uint64_t gfn,
			 int level, int min_level, int max_level,
			 uint64_t **ptepp)
{
	int err;

	glock(&g->lock);
	g->stats.calls[call]++;
	err = maybe_inject(g, call);
	if (err)
		return err;
	err = check_entry_args(g, gfn, level, min_level, max_level);
	if (!err)
		err = find_entry(g, gfn, level, ptepp);
	return err ? refuse(g, err) : GUARD_OK;
}

static int end_request(struct guard *g, enum guard_call call, int err)
{
	if (!err)
		g->stats.done[call]++;
	gunlock(&g->lock);
	return err;
}

int guard_link_table(struct guard *g, uint64_t gfn, int level)
{
	uint64_t *ptep, *table;
	int err;

	if (!g)
		return GUARD_E_INVAL;
	err = begin_request(g, GUARD_CALL_LINK_TABLE, gfn, level,
			    GUARD_LEVEL_2M, g->levels, &ptep);
	if (err)
		goto out;
	if (pte_present(pte_read(ptep))) {
		err = refuse(g, GUARD_E_PRESENT);
		goto out;
	}
	err = alloc_table(g, &table);
	if (err) {
		err = refuse(g, err);
		goto out;
	}
	pte_write(ptep, platform_virt_to_phys(table) | EPT_RWX);
	g->stats.tables_live++;
out:
	return end_request(g, GUARD_CALL_LINK_TABLE, err);
}

static bool prot_ok(unsigned int prot)
{
	if (!prot || (prot & ~GUARD_PROT_RWX))
		return false;
	/* Write without read is an EPT misconfiguration. */
	return !((prot & GUARD_PROT_W) && !(prot & GUARD_PROT_R));
}

static bool memtype_ok(enum guard_memtype mt)
{
	switch (mt) {
	case GUARD_MT_UC:
	case GUARD_MT_WC:
	case GUARD_MT_WT:
	case GUARD_MT_WP:
	case GUARD_MT_WB:
		return true;
	}
	return false;
}

int guard_set_leaf(struct guard *g, uint64_t gfn, int level, uint64_t pfn,
		   unsigned int prot, enum guard_memtype mt)
{
	uint64_t *ptep, n;
	int err;

	if (!g)
		return GUARD_E_INVAL;
	err = begin_request(g, GUARD_CALL_SET_LEAF, gfn, level, GUARD_LEVEL_4K,
			    g->max_leaf, &ptep);
	if (err)
		goto out;
	n = GUARD_LEVEL_PAGES(level);
	if (pfn & (n - 1))
		err = GUARD_E_PFN_ALIGN;
	else if (!prot_ok(prot))
		err = GUARD_E_PROT;
	else if (!memtype_ok(mt))
		err = GUARD_E_MEMTYPE;
	else if (pte_present(pte_read(ptep)))
		err = GUARD_E_PRESENT;
	else
		err = check_frames(g, pfn, n);
	if (err) {
		err = refuse(g, err);
		goto out;
	}
	account_frames(g, pfn, n, true);
	pte_write(ptep, make_leaf(pfn, level, prot, mt));
	g->stats.leaves_live++;
out:
	return end_request(g, GUARD_CALL_SET_LEAF, err);
}

int guard_remove_leaf(struct guard *g, uint64_t gfn, int level)
{
	uint64_t *ptep, pte;
	int err;

	if (!g)
		return GUARD_E_INVAL;
	err = begin_request(g, GUARD_CALL_REMOVE_LEAF, gfn, level,
			    GUARD_LEVEL_4K, g->max_leaf, &ptep);
	if (err)
		goto out;
	pte = pte_read(ptep);
	if (!pte_present(pte))
		err = GUARD_E_NOT_PRESENT;
	else if (!pte_is_leaf(pte, level))
		err = GUARD_E_KIND;
	if (err) {
		err = refuse(g, err);
		goto out;
	}
	pte_write(ptep, 0);
	g->removal_gen++;
	account_frames(g, (pte & EPT_ADDR_MASK) >> PAGE_SHIFT,
		       GUARD_LEVEL_PAGES(level), false);
	g->stats.leaves_live--;
out:
	return end_request(g, GUARD_CALL_REMOVE_LEAF, err);
}

static bool table_empty(const uint64_t *table)
{
	for (unsigned int i = 0; i < GUARD_PTES_PER_TABLE; i++)
		if (pte_read((uint64_t *)&table[i]))
			return false;
	return true;
}

int guard_free_table(struct guard *g, uint64_t gfn, int level)
{
	struct pending_table *p;
	uint64_t *ptep, pte;
	int err;

	if (!g)
		return GUARD_E_INVAL;
	err = begin_request(g, GUARD_CALL_FREE_TABLE, gfn, level,
			    GUARD_LEVEL_2M, g->levels, &ptep);
	if (err)
		goto out;
	pte = pte_read(ptep);
	if (!pte_present(pte))
		err = GUARD_E_NOT_PRESENT;
	else if (pte_is_leaf(pte, level))
		err = GUARD_E_KIND;
	else if (!table_empty(pte_table(pte)))
		err = GUARD_E_NOT_EMPTY;
	if (err) {
		err = refuse(g, err);
		goto out;
	}
	p = platform_zalloc(sizeof(*p));
	if (!p) {
		err = refuse(g, GUARD_E_NOMEM);
		goto out;
	}
	pte_write(ptep, 0);
	/* The CPU may still cache the table: free it after a flush. */
	p->page = pte_table(pte);
	p->gen = ++g->removal_gen;
	/*
	 * Only a flush that begins after this point covers the table: its
	 * generation must be newer than every flush already done, and the
	 * pending list stays in generation order for free_pending().
	 */
	BUG_ON(p->gen <= g->flushed_gen);
	BUG_ON(!list_empty(&g->pending) &&
	       list_entry(g->pending.prev, struct pending_table, link)->gen >=
		       p->gen);
	list_add_tail(&p->link, &g->pending);
	g->stats.tables_live--;
	g->stats.tables_pending++;
out:
	return end_request(g, GUARD_CALL_FREE_TABLE, err);
}

/* ---- TLB flush protocol. ---- */

bool guard_flush_needed(struct guard *g)
{
	bool needed;

	glock(&g->lock);
	needed = g->flushed_gen != g->removal_gen;
	gunlock(&g->lock);
	return needed;
}

uint64_t guard_flush_begin(struct guard *g)
{
	uint64_t token;

	glock(&g->lock);
	token = g->removal_gen;
	gunlock(&g->lock);
	return token;
}

void guard_flush_done(struct guard *g, uint64_t token)
{
	glock(&g->lock);
	/* Tokens from the future, or stale ones, must not move us back. */
	if (token > g->removal_gen)
		token = g->removal_gen;
	if (token > g->flushed_gen)
		g->flushed_gen = token;
	free_pending(g, g->flushed_gen);
	g->stats.flushes++;
	gunlock(&g->lock);
}

/* ---- Read-only access. ---- */

phys_addr_t guard_root_pa(struct guard *g)
{
	return platform_virt_to_phys(g->root);
}

uint64_t guard_eptp(struct guard *g, bool ad_bits)
{
	return guard_root_pa(g) | EPTP_MT_WB |
	       ((uint64_t)(g->levels - 1) << EPTP_LEVELS_SHIFT) |
	       (ad_bits ? EPTP_AD_ENABLE : 0);
}

int guard_lookup(struct guard *g, uint64_t gfn, struct guard_leaf *out)
{
	uint64_t *table;
	int err = GUARD_E_NOT_PRESENT;

	if (!g || !out)
		return GUARD_E_INVAL;
	if (gfn >> (PTE_INDEX_BITS * g->levels))
		return GUARD_E_GFN;
	glock(&g->lock);
	table = g->root;
	for (int l = g->levels; l >= GUARD_LEVEL_4K; l--) {
		uint64_t pte = pte_read(&table[pte_index(gfn, l)]);

		if (!pte_present(pte))
			break;
		if (pte_is_leaf(pte, l)) {
			decode_leaf(pte, gfn, l, out);
			err = GUARD_OK;
			break;
		}
		table = pte_table(pte);
	}
	gunlock(&g->lock);
	return err;
}

static int walk_table(uint64_t *table, int level, uint64_t gfn,
		      int (*fn)(const struct guard_leaf *, void *), void *arg)
{
	for (unsigned int i = 0; i < GUARD_PTES_PER_TABLE; i++) {
		uint64_t pte = pte_read(&table[i]);
		uint64_t egfn = gfn + i * GUARD_LEVEL_PAGES(level);
		struct guard_leaf leaf;
		int ret;

		if (!pte_present(pte))
			continue;
		if (pte_is_leaf(pte, level)) {
			decode_leaf(pte, egfn, level, &leaf);
			ret = fn(&leaf, arg);
		} else {
			ret = walk_table(pte_table(pte), level - 1, egfn, fn,
					 arg);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int guard_walk_leaves(struct guard *g,
		      int (*fn)(const struct guard_leaf *leaf, void *arg),
		      void *arg)
{
	int ret;

	if (!g || !fn)
		return GUARD_E_INVAL;
	glock(&g->lock);
	ret = walk_table(g->root, g->levels, 0, fn, arg);
	gunlock(&g->lock);
	return ret;
}

/* ---- Counters. ---- */

void guard_get_stats(struct guard *g, struct guard_stats *out)
{
	glock(&g->lock);
	*out = g->stats;
	gunlock(&g->lock);
	out->rollbacks = __atomic_load_n(&g->rollbacks, __ATOMIC_RELAXED);
}

void guard_count_rollback(struct guard *g)
{
	stat_inc(&g->rollbacks);
}
