// SPDX-License-Identifier: MIT
/*
 * Systematic interleaving tests of the TDP MMU and the guard: small
 * scenarios of 2-3 threads run under the explorer (explore.h), every
 * schedule up to a preemption bound, with the MMU's properties checked at
 * every scheduling point and at the end of every run.
 *
 * A model vCPU stands for the hardware.  At every step it walks the
 * tables for the scenario's probe addresses, as a CPU may at any moment,
 * and keeps what it used: leaf translations (its TLB) and table pages
 * (its paging-structure cache), until platform_flush_guest_tlbs() clears
 * them.  It walks what the CPU would walk: the MMU's root, or the guard's
 * EPT for a protected VM.  The properties:
 *
 *  P1 (every step) a cached translation that the tables no longer back is
 *     a removal not yet flushed; until the flush, nothing may map its
 *     addresses differently (another frame, another page size);
 *  P2 (end) every cached translation is backed by the tables and by a
 *     current memslot, and every leaf maps what its memslot says: no
 *     translation from a slot that was deleted or moved;
 *  P3 (every free) no page-table page is freed while reachable from the
 *     root or held in the model's paging-structure cache;
 *  P4 (end) a writable leaf or cached translation of a logged page has
 *     its dirty bit set: no lost dirty bit;
 *  P5 (every step without a writer) every present mirror entry is in the
 *     guard's EPT; (end) mirror == guard;
 *  P6 (end) leaf counts match the tree, the VM is not bugged, and after
 *     teardown every page and object is back in the allocator;
 *  P7 (guard) memory is released only when no cached translation maps it.
 *
 *   test_mmu_explore [--bound N] [--only NAME] [--max N]
 *   test_mmu_explore --replay NAME SCHEDULE
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/tdp/internal.h"
#include "tests/host/mmu/explore.h"
#include "tests/host/mmu/mirror_util.h"
#include "tests/host/tap.h"

#define SLOT1_GPA   (64 * MiB)
#define SLOT1_GPA_B (128 * MiB)
#define TLB_SIZE    16
#define PWC_SIZE    64
#define MAX_PROBES  6

struct mentry {
	uint64_t gfn, pfn, perms;
	int level; /* 0: empty */
};

static struct model {
	struct tdp_mmu *mmu;
	struct tdp_root *root;
	struct pvm pvm;	     /* protected scenarios */
	struct guard *guard; /* the EPT the CPU walks, if any */
	struct guard_registry *reg;
	uint8_t *gmem; /* guard-only scenarios */
	bool protected;
	bool guard_only;
	uint64_t probes[MAX_PROBES];
	int nprobes;
	struct mentry tlb[TLB_SIZE];
	/* The entries on each probe's path, as last seen (P1). */
	struct {
		spte_t *sptep;
		spte_t last;
		bool removed; /* went away since the last flush */
	} path[MAX_PROBES][TDP_MAX_LEVEL + 1];
	void *pwc[PWC_SIZE];
	int npwc;
	int64_t pages0, objs0;
	/* thread results */
	int res[EX_MAX_THREADS];
	long lres[EX_MAX_THREADS];
	int owner;
} m;

/* ---- the model vCPU ---- */

static bool w_present(spte_t s)
{
	return m.guard ? (s & SPTE_RWX) != 0 : spte_is_present(s);
}

static bool w_leaf(spte_t s, int level)
{
	return w_present(s) && (level == 1 || (s & SPTE_LARGE));
}

static spte_t *w_root(void)
{
	if (m.guard)
		return platform_phys_to_virt(guard_eptp(m.guard, false) &
					     SPTE_PFN_MASK);
	return m.root->spt;
}

static void model_flush(void *owner)
{
	int i, l;

	(void)owner;
	memset(m.tlb, 0, sizeof(m.tlb));
	m.npwc = 0;
	for (i = 0; i < MAX_PROBES; i++)
		for (l = 0; l <= TDP_MAX_LEVEL; l++)
			m.path[i][l].removed = false;
}

static void pwc_add(void *table)
{
	int i;

	for (i = 0; i < m.npwc; i++)
		if (m.pwc[i] == table)
			return;
	if (m.npwc < PWC_SIZE)
		m.pwc[m.npwc++] = table;
}

static void tlb_add(uint64_t gfn, spte_t s, int level)
{
	uint64_t base = tdp_level_base(gfn, level);
	int i, free = -1;

	for (i = 0; i < TLB_SIZE; i++) {
		struct mentry *e = &m.tlb[i];

		if (e->level && e->gfn == base && e->level == level &&
		    e->pfn == spte_pfn(s) && e->perms == spte_perms(s))
			return;
		if (!e->level && free < 0)
			free = i;
	}
	/* Full: keep what we have, as a real TLB may. */
	if (free < 0)
		return;
	m.tlb[free] = (struct mentry){base, spte_pfn(s), spte_perms(s), level};
}

/* Walk for @gfn; the leaf and its level, or 0. */
static spte_t walk(uint64_t gfn, int *level, bool cache)
{
	spte_t *table = w_root(), s;
	int l;

	for (l = TDP_ROOT_LEVEL; l >= 1; l--) {
		if (cache)
			pwc_add(table);
		s = tdp_read_spte(&table[tdp_spte_index(gfn, l)]);
		if (!w_present(s))
			return 0;
		if (w_leaf(s, l)) {
			*level = l;
			return s;
		}
		table = platform_phys_to_virt(spte_phys(s));
	}
	return 0;
}

/* The CPU may walk at any moment: cache what the probes reach now. */
static void model_tick(void)
{
	spte_t s;
	int i, level;

	for (i = 0; i < m.nprobes; i++) {
		s = walk(m.probes[i], &level, true);
		if (s)
			tlb_add(m.probes[i], s, level);
	}
}

/* Do the tables map every gfn of @e to @e's frames with @e's rights? */
static bool backed(const struct mentry *e, bool *conflict)
{
	uint64_t n = tdp_pages_per_level(e->level), g;
	spte_t s;
	int level;
	bool ok = true;

	*conflict = false;
	for (g = e->gfn; g < e->gfn + n; g++) {
		s = walk(g, &level, false);
		if (!s) {
			ok = false;
			/* A 2 MiB entry: one probe per 4 KiB is enough. */
			continue;
		}
		if (spte_pfn(s) + (g - tdp_level_base(g, level)) !=
		    e->pfn + (g - e->gfn)) {
			*conflict = true;
			return false;
		}
		/* Split (or recovered): the same frames, another size. */
		if (level != e->level && (spte_perms(s) & e->perms) == e->perms)
			continue;
		if ((spte_perms(s) & e->perms) != e->perms)
			ok = false;
		if (level >= e->level)
			break; /* the same leaf covers the rest */
	}
	return ok;
}

/*
 * P1, on the entries of each probe's path: one that held a leaf or a
 * table and then went FROZEN or empty was removed; until the next flush
 * it may not hold anything again (vCPUs may still use what it held).
 * A split (leaf to table in one exchange) and permission changes are no
 * removals.
 */
static void check_refill(int p)
{
	spte_t *table = w_root(), *sptep, s;
	int l;

	for (l = TDP_ROOT_LEVEL; l >= 1; l--) {
		sptep = &table[tdp_spte_index(m.probes[p], l)];
		s = tdp_read_spte(sptep);
		if (m.path[p][l].sptep != sptep) {
			m.path[p][l].sptep = sptep;
			m.path[p][l].removed = false;
		} else if (w_present(m.path[p][l].last) &&
			   !spte_is_frozen(m.path[p][l].last) &&
			   (!w_present(s) || spte_is_frozen(s))) {
			m.path[p][l].removed = true;
		} else if (m.path[p][l].removed && w_present(s) &&
			   !spte_is_frozen(s)) {
			ex_fail("gfn %#llx level %d: entry filled again before "
				"the flush that covers its removal",
				(unsigned long long)m.probes[p], l);
			m.path[p][l].removed = false;
		}
		m.path[p][l].last = s;
		if (!w_present(s) || spte_is_frozen(s) || w_leaf(s, l))
			break;
		table = platform_phys_to_virt(spte_phys(s));
	}
}

/* P1, on the TLB: a stale translation's addresses keep their frames. */
static void check_stale(void)
{
	bool conflict;
	int i;

	for (i = 0; i < m.nprobes; i++)
		check_refill(i);
	for (i = 0; i < TLB_SIZE; i++) {
		struct mentry *e = &m.tlb[i];

		if (!e->level || backed(e, &conflict) || !conflict)
			continue;
		ex_fail("gfn %#llx: mapped to another frame while a level-%d "
			"translation of it may still be cached",
			(unsigned long long)e->gfn, e->level);
	}
}

/* ---- mirror == guard (P5) ---- */

static bool guard_entry(uint64_t gfn, int level, spte_t *out)
{
	spte_t *table = platform_phys_to_virt(guard_eptp(m.pvm.guard, false) &
					      SPTE_PFN_MASK);
	spte_t s = 0;
	int l;

	for (l = TDP_ROOT_LEVEL; l >= level; l--) {
		s = tdp_read_spte(&table[tdp_spte_index(gfn, l)]);
		if (!(s & SPTE_RWX))
			return false;
		if (l == level)
			break;
		if (s & SPTE_LARGE)
			return false;
		table = platform_phys_to_virt(spte_phys(s));
	}
	*out = s;
	return true;
}

static void mirror_vs_guard(spte_t *table, int level, uint64_t gfn)
{
	uint64_t step = tdp_pages_per_level(level);
	unsigned int i;
	spte_t s, g;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		s = tdp_read_spte(&table[i]);
		if (!spte_is_present(s) || spte_is_frozen(s))
			continue;
		if (!guard_entry(gfn + i * step, level, &g)) {
			ex_fail("mirror %s at gfn %#llx level %d is visible "
				"but the guard's EPT lacks it",
				spte_is_leaf(s, level) ? "leaf" : "table",
				(unsigned long long)(gfn + i * step), level);
			return;
		}
		if (spte_is_leaf(s, level)) {
			if (spte_pfn(s) != spte_pfn(g) ||
			    spte_perms(s) != spte_perms(g))
				ex_fail("mirror leaf at gfn %#llx differs from "
					"the guard's",
					(unsigned long long)(gfn + i * step));
			continue;
		}
		mirror_vs_guard(platform_phys_to_virt(spte_phys(s)), level - 1,
				gfn + i * step);
	}
}

static void step_check(void)
{
	if (!m.guard_only)
		check_stale();
	/* Under the write lock the mirror goes first, legitimately. */
	if (m.protected &&
	    !__atomic_load_n(&m.mmu->mmu_lock.debug_owner, __ATOMIC_RELAXED))
		mirror_vs_guard(m.root->spt, TDP_ROOT_LEVEL, 0);
	model_tick();
}

/* ---- P3: page frees ---- */

static bool reachable(spte_t *table, int level, const void *page)
{
	unsigned int i;
	spte_t s;

	if (table == page)
		return true;
	if (level == 1)
		return false;
	for (i = 0; i < SPTE_PER_PAGE; i++) {
		s = tdp_read_spte(&table[i]);
		if (w_present(s) && !w_leaf(s, level) &&
		    reachable(platform_phys_to_virt(spte_phys(s)), level - 1,
			      page))
			return true;
	}
	return false;
}

static void page_free_hook(void *page)
{
	int i;

	for (i = 0; i < m.npwc; i++)
		if (m.pwc[i] == page)
			ex_fail("table page %p freed while the vCPU may still "
				"cache it (no flush since it was walked)",
				page);
	if ((m.root || m.guard) && reachable(w_root(), TDP_ROOT_LEVEL, page))
		ex_fail("table page %p freed while still reachable", page);
}

/* ---- end-of-run checks ---- */

/* P2 for the tree: every leaf maps what a current memslot says. */
static void leaves_vs_slots(spte_t *table, int level, uint64_t gfn,
			    uint64_t *count)
{
	uint64_t step = tdp_pages_per_level(level);
	const struct memslot *slot;
	unsigned int i;
	spte_t s;

	for (i = 0; i < SPTE_PER_PAGE; i++) {
		uint64_t g = gfn + i * step;

		s = tdp_read_spte(&table[i]);
		if (spte_is_frozen(s)) {
			ex_fail("gfn %#llx level %d left FROZEN",
				(unsigned long long)g, level);
			continue;
		}
		if (spte_is_table(s, level)) {
			leaves_vs_slots(platform_phys_to_virt(spte_phys(s)),
					level - 1, g, count);
			continue;
		}
		if (!spte_is_leaf(s, level))
			continue;
		count[level]++;
		slot = memslot_find(memslot_set_current(m.mmu), g);
		if (!slot || g + step > slot->base_gfn + slot->npages ||
		    memslot_gfn_to_pfn(slot, g) != spte_pfn(s)) {
			ex_fail("gfn %#llx level %d maps pfn %#llx, which no "
				"current memslot maps there (stale install)",
				(unsigned long long)g, level,
				(unsigned long long)spte_pfn(s));
			continue;
		}
		/* P4 for the tree. */
		if (slot->dirty && (s & SPTE_W) &&
		    !((slot->dirty->words[(g - slot->base_gfn) / 64] >>
		       ((g - slot->base_gfn) % 64)) &
		      1))
			ex_fail("gfn %#llx is writable but its dirty bit is "
				"clear: a lost dirty bit",
				(unsigned long long)g);
	}
}

static void tlb_vs_slots(void)
{
	const struct memslot *slot;
	bool conflict;
	int i;

	for (i = 0; i < TLB_SIZE; i++) {
		struct mentry *e = &m.tlb[i];
		uint64_t off;

		if (!e->level)
			continue;
		if (!backed(e, &conflict)) {
			ex_fail("after every operation returned, the vCPU "
				"still caches gfn %#llx level %d, which the "
				"tables no longer map so: a missing flush",
				(unsigned long long)e->gfn, e->level);
			return;
		}
		slot = memslot_find(memslot_set_current(m.mmu), e->gfn);
		if (!slot || memslot_gfn_to_pfn(slot, e->gfn) != e->pfn) {
			ex_fail("the vCPU caches gfn %#llx from no current "
				"memslot",
				(unsigned long long)e->gfn);
			return;
		}
		off = e->gfn - slot->base_gfn;
		if (slot->dirty && (e->perms & SPTE_W) &&
		    !((slot->dirty->words[off / 64] >> (off % 64)) & 1))
			ex_fail("the vCPU can write gfn %#llx, whose dirty bit "
				"is clear",
				(unsigned long long)e->gfn);
	}
}

static void end_checks(void)
{
	uint64_t count[TDP_MAX_LEVEL + 1] = {0};
	struct tdp_mmu_stats st;
	uint64_t ml;
	int l;

	if (tdp_mmu_is_bugged(m.mmu)) {
		ex_fail("the VM was bugged");
		return;
	}
	leaves_vs_slots(m.root->spt, TDP_ROOT_LEVEL, 0, count);
	tlb_vs_slots();
	tdp_mmu_get_stats(m.mmu, &st);
	for (l = 1; l <= TDP_MAX_LEVEL; l++)
		if (st.leaves[l] != count[l])
			ex_fail("level-%d leaves: counted %llu, the tree has "
				"%llu",
				l, (unsigned long long)st.leaves[l],
				(unsigned long long)count[l]);
	if (m.protected && mirror_check(m.mmu, m.root, &ml))
		ex_fail("mirror and guard differ at the end");
}

/* ---- setup and teardown ---- */

static void common_setup(void)
{
	memset(m.tlb, 0, sizeof(m.tlb));
	memset(m.path, 0, sizeof(m.path));
	m.npwc = 0;
	memset(m.res, 0, sizeof(m.res));
	memset(m.lres, 0, sizeof(m.lres));
	m.pages0 = host_pages_live();
	m.objs0 = host_objs_live();
	host_flush_hook = model_flush;
	host_reload_hook = model_flush;
	host_page_free_hook = page_free_hook;
}

/* A plain VM: slot 0 (4 MiB at 0), slot 1 (2 MiB at SLOT1_GPA). */
static void plain_setup(int max_level, uint32_t flags0)
{
	common_setup();
	m.protected = m.guard_only = false;
	m.guard = NULL;
	m.mmu = tdp_mmu_create(&m.owner);
	BUG_ON(!m.mmu);
	tdp_mmu_set_slot_flush_policy(m.mmu, TDP_SLOT_FLUSH_TARGETED);
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, max_level));
	BUG_ON(memslot_create(m.mmu, 0, 0, 4 * MiB, FAKE_HOST_BASE, flags0));
	BUG_ON(memslot_create(m.mmu, 1, SLOT1_GPA, 2 * MiB,
			      FAKE_HOST_BASE + 4 * MiB, 0));
	m.root = tdp_mmu_get_root(m.mmu, tdp_mmu_vcpu_role(m.mmu));
	BUG_ON(!m.root);
}

static void protected_setup(void)
{
	common_setup();
	m.guard_only = false;
	m.protected = true;
	pvm_create(&m.pvm, 64 * KiB, 2, false);
	m.mmu = m.pvm.mmu;
	m.guard = m.pvm.guard;
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, 1));
	m.root = tdp_mmu_get_root(m.mmu, tdp_mmu_vcpu_role(m.mmu));
	BUG_ON(!m.root);
}

static int fault(uint64_t gfn, uint64_t acc);

/*
 * The model vCPU watches @n probe addresses (varargs, uint64_t); the
 * first @nmapped of them are mapped first with access @acc, and the
 * vCPU caches them.
 */
static void watch(uint64_t acc, int nmapped, int n, ...)
{
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		m.probes[i] = va_arg(ap, uint64_t);
	va_end(ap);
	m.nprobes = n;
	for (i = 0; i < nmapped; i++)
		BUG_ON(fault(m.probes[i], acc));
	model_tick();
}

static void teardown_hooks(void)
{
	host_flush_hook = NULL;
	host_reload_hook = NULL;
	host_page_free_hook = NULL;
}

static void balance(void)
{
	if (host_pages_live() != m.pages0)
		ex_fail("%lld pages leaked (a lost table?)",
			(long long)(host_pages_live() - m.pages0));
	if (host_objs_live() != m.objs0)
		ex_fail("%lld objects leaked",
			(long long)(host_objs_live() - m.objs0));
}

static void plain_finish(void)
{
	end_checks();
	teardown_hooks();
	tdp_mmu_put_root(m.mmu, m.root);
	tdp_mmu_destroy(m.mmu);
	m.root = NULL;
	m.mmu = NULL;
	ebr_barrier();
	balance();
}

static void protected_finish(void)
{
	end_checks();
	teardown_hooks();
	tdp_mmu_put_root(m.mmu, m.root);
	m.root = NULL;
	m.guard = NULL;
	pvm_destroy(&m.pvm);
	m.mmu = NULL;
	ebr_barrier();
	balance();
}

static void want_ok(int t, int r, const char *what)
{
	if (r != TDP_MAP_OK)
		ex_fail("thread %d: %s gave %d", t, what, r);
}

static int fault(uint64_t gfn, uint64_t acc)
{
	return map_retry(m.mmu, m.root, gfn, acc, NULL);
}

/* ---- scenarios ---- */

/* A thread body that is one fault, which must succeed. */
#define FAULT_THREAD(fn, t, gfn, acc)                       \
	static void fn(void)                                \
	{                                                   \
		want_ok((t), fault((gfn), (acc)), "fault"); \
	}

/* fault vs fault: both link the same missing tables. */
static void ff_setup(void)
{
	plain_setup(1, 0);
	watch(0, 0, 2, 0ull, 1ull);
}
FAULT_THREAD(ff_t0, 0, 0, TDP_ACC_WRITE)
FAULT_THREAD(ff_t1, 1, 1, TDP_ACC_READ)

/* fault vs zap of the range. */
static void fz_setup(void)
{
	plain_setup(1, 0);
	watch(TDP_ACC_WRITE, 2, 2, 0ull, 1ull);
}
static void fz_t0(void)
{
	tdp_mmu_unmap_range(m.mmu, 0, 2);
}
FAULT_THREAD(fz_t1, 1, 1, TDP_ACC_WRITE)

/*
 * Huge leaf, then the largest level is lowered: two faults inside it
 * must each zap the 2 MiB leaf (frozen, flushed) before mapping 4 KiB.
 */
static void hz_setup(void)
{
	plain_setup(2, 0);
	watch(TDP_ACC_WRITE, 1, 3, 0ull, 5ull, 9ull);
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, 1));
}
FAULT_THREAD(hz_t0, 0, 5, TDP_ACC_WRITE)
FAULT_THREAD(hz_t1, 1, 9, TDP_ACC_READ)

/*
 * A table replaced by a huge leaf while another fault is inside it: the
 * largest level goes up (a plain store, no lock) between the two faults'
 * walks.  The removed table's entries must be frozen so that the late
 * fault cannot install into a table that is already gone.
 */
static void hr_setup(void)
{
	plain_setup(1, 0);
	watch(TDP_ACC_WRITE, 1, 3, 0ull, 5ull, 9ull);
}
static void hr_t0(void)
{
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, 2));
	want_ok(0, fault(5, TDP_ACC_WRITE), "fault");
}
FAULT_THREAD(hr_t1, 1, 9, TDP_ACC_WRITE)

/* fault vs memslot delete / move. */
static const uint64_t s1 = SLOT1_GPA >> PAGE_SHIFT;
static const uint64_t s1b = SLOT1_GPA_B >> PAGE_SHIFT;
static void fs_setup(void)
{
	plain_setup(1, 0);
	watch(0, 0, 2, s1 + 3, s1b + 3);
}
static void fs_fault(void)
{
	int r = fault(s1 + 3, TDP_ACC_WRITE);

	if (r != TDP_MAP_OK && r != TDP_MAP_NO_SLOT)
		ex_fail("fault in slot 1 gave %d", r);
}
static void fs_delete(void)
{
	if (memslot_delete(m.mmu, 1))
		ex_fail("memslot_delete failed");
}
static void fs_move(void)
{
	if (memslot_move(m.mmu, 1, SLOT1_GPA_B))
		ex_fail("memslot_move failed");
}
static void fs_fault_b(void)
{
	int r = fault(s1b + 3, TDP_ACC_READ);

	if (r != TDP_MAP_OK && r != TDP_MAP_NO_SLOT)
		ex_fail("fault in moved slot 1 gave %d", r);
}

/* fault vs dirty-log clear. */
static void fd_setup(void)
{
	plain_setup(1, MEMSLOT_DIRTY_LOG);
	watch(TDP_ACC_WRITE, 2, 2, 0ull, 1ull);
}
static void fd_clear(void)
{
	uint64_t mask = ~0ull;

	if (tdp_mmu_clear_dirty_log(m.mmu, 0, 0, 64, &mask) < 0)
		ex_fail("clear_dirty_log failed");
}
FAULT_THREAD(fd_fault, 1, 1, TDP_ACC_WRITE)

/* age vs fault: a fault widens a read-only leaf while aging clears A. */
static void af_setup(void)
{
	plain_setup(1, MEMSLOT_DIRTY_LOG);
	watch(TDP_ACC_READ, 2, 2, 0ull, 1ull);
}
static void af_age(void)
{
	tdp_mmu_age_gfn(m.mmu, 0, 2);
}
static void af_fault(void)
{
	struct walk w;

	want_ok(1, fault(1, TDP_ACC_WRITE), "write fault");
	/* Nothing takes write access away here: it must still be there. */
	if (!walk_gfn(m.root, 1, &w) || !(w.leaf & SPTE_W))
		ex_fail("write fault returned OK, the leaf is not writable");
}

/* split vs fault. */
static void sf_setup(void)
{
	plain_setup(2, 0);
	watch(TDP_ACC_WRITE, 1, 2, 0ull, 3ull);
	/* Else the fault would map 2 MiB again over the split table. */
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, 1));
}
static void sf_split(void)
{
	tdp_mmu_split_huge_pages(m.mmu, 0, 512, 1);
}
FAULT_THREAD(sf_fault, 1, 3, TDP_ACC_WRITE)

/* huge-page recovery (a table zapped, freed after a flush) vs a fault. */
static void rf_setup(void)
{
	plain_setup(1, 0);
	watch(TDP_ACC_WRITE, 2, 3, 0ull, 7ull, 9ull);
	BUG_ON(tdp_mmu_set_max_huge_level(m.mmu, 2));
}
static void rf_recover(void)
{
	tdp_mmu_recover_huge_pages(m.mmu, 0, 512);
}
FAULT_THREAD(rf_fault, 1, 9, TDP_ACC_WRITE)

/* mirror: two faults (set) vs a zap of the range, protected VM. */
static void mz_setup(void)
{
	protected_setup();
	watch(0, 0, 2, 0ull, 1ull);
}
FAULT_THREAD(mz_f0, 0, 0, TDP_ACC_WRITE)
FAULT_THREAD(mz_f1, 1, 1, TDP_ACC_READ)
static void mz_zap(void)
{
	tdp_mmu_unmap_range(m.mmu, 0, 2);
}

/* prefault (yielding at every entry) vs memslot delete / move. */
static void ps_setup(void)
{
	plain_setup(1, 0);
	/* A table to walk through entry by entry, yielding in between. */
	watch(TDP_ACC_READ, 1, 3, s1, s1 + 2, s1b + 2);
}
static void ps_prefault(void)
{
	long r = tdp_mmu_prefault(m.mmu, m.root, s1, 4);

	if (r < 0 && r != -EAGAIN && r != -ENOENT)
		ex_fail("prefault gave %ld", r);
}

/*
 * The guard alone: remove a leaf and free its table, a flush, and the
 * release of the memory, in every order.
 */
#define G_PAGES 512
static void g_setup(void)
{
	struct guard_config cfg = {.levels = 4, .max_leaf = 2};
	uint64_t pfn;
	int l;

	common_setup();
	m.protected = false;
	m.guard_only = true;
	m.root = NULL;
	m.mmu = NULL;
	m.gmem = aligned_alloc(2 * MiB, G_PAGES * PAGE_SIZE);
	BUG_ON(!m.gmem);
	pfn = platform_virt_to_phys(m.gmem) >> PAGE_SHIFT;
	BUG_ON(guard_registry_create(&m.reg));
	BUG_ON(guard_create(m.reg, &cfg, &m.guard));
	BUG_ON(guard_add_memory(m.guard, pfn, G_PAGES, GUARD_MEM_ZEROED));
	for (l = 4; l >= 2; l--)
		BUG_ON(guard_link_table(m.guard, 0, l));
	BUG_ON(guard_set_leaf(m.guard, 0, 1, pfn, GUARD_PROT_RWX, GUARD_MT_WB));
	watch(0, 0, 1, 0ull);
}
static void g_remove(void)
{
	if (guard_remove_leaf(m.guard, 0, 1) || guard_free_table(m.guard, 0, 2))
		ex_fail("guard removal refused");
}
static void g_flush(void)
{
	uint64_t token = guard_flush_begin(m.guard);

	platform_flush_guest_tlbs(&m.owner);
	guard_flush_done(m.guard, token);
}
static void g_release(void)
{
	uint64_t pfn = platform_virt_to_phys(m.gmem) >> PAGE_SHIFT;
	int i, r = guard_release_memory(m.guard, pfn, G_PAGES);

	m.res[2] = r;
	if (r != GUARD_OK)
		return;
	/* P7: released memory may not be reachable through the TLB. */
	for (i = 0; i < TLB_SIZE; i++)
		if (m.tlb[i].level && m.tlb[i].pfn >= pfn &&
		    m.tlb[i].pfn < pfn + G_PAGES)
			ex_fail("memory released while the vCPU may still "
				"cache a translation to pfn %#llx",
				(unsigned long long)m.tlb[i].pfn);
}
static void g_finish(void)
{
	teardown_hooks();
	if (m.res[2] != GUARD_OK && m.res[2] != GUARD_E_FLUSH &&
	    m.res[2] != GUARD_E_IN_USE)
		ex_fail("release gave %s", guard_strerror(m.res[2]));
	guard_destroy(m.guard);
	BUG_ON(guard_registry_destroy(m.reg));
	m.guard = NULL;
	free(m.gmem);
	ebr_barrier();
	balance();
}

#define SCEN(nm, n, set, fin, ym, ...)                             \
	{                                                          \
		.name = (nm), .nthreads = (n), .setup = (set),     \
		.thread = {__VA_ARGS__}, .step_check = step_check, \
		.finish = (fin), .yield_mask = (ym),               \
	}

static const struct ex_scenario scenarios[] = {
	SCEN("fault-fault", 2, ff_setup, plain_finish, 0, ff_t0, ff_t1),
	SCEN("fault-zap", 2, fz_setup, plain_finish, 0, fz_t0, fz_t1),
	SCEN("fault-fault-huge-zap", 2, hz_setup, plain_finish, 0, hz_t0,
	     hz_t1),
	SCEN("fault-fault-table-replace", 2, hr_setup, plain_finish, 0, hr_t0,
	     hr_t1),
	SCEN("fault-slot-delete", 2, fs_setup, plain_finish, 0, fs_fault,
	     fs_delete),
	SCEN("fault-slot-move", 3, fs_setup, plain_finish, 0, fs_fault, fs_move,
	     fs_fault_b),
	SCEN("fault-dirty-clear", 2, fd_setup, plain_finish, 0, fd_clear,
	     fd_fault),
	SCEN("age-fault", 2, af_setup, plain_finish, 0, af_age, af_fault),
	SCEN("split-fault", 2, sf_setup, plain_finish, 0, sf_split, sf_fault),
	/* 512 frozen entries under the write lock: one preemption. */
	{.name = "recover-fault",
	 .nthreads = 2,
	 .setup = rf_setup,
	 .thread = {rf_recover, rf_fault},
	 .step_check = step_check,
	 .finish = plain_finish,
	 .max_bound = 1},
	SCEN("mirror-set-zap", 3, mz_setup, protected_finish, 0, mz_f0, mz_f1,
	     mz_zap),
	/* The prefault yields at every entry it may (bit 0: thread 0). */
	SCEN("prefault-slot-delete", 2, ps_setup, plain_finish, 1, ps_prefault,
	     fs_delete),
	SCEN("prefault-slot-move", 2, ps_setup, plain_finish, 1, ps_prefault,
	     fs_move),
	SCEN("guard-remove-flush-release", 3, g_setup, g_finish, 0, g_remove,
	     g_flush, g_release),
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/*
 * make test: 2 preemptions in the plain build; the ASan build (3-5 times
 * slower) looks for use-after-free in every schedule with one.
 */
#ifdef __SANITIZE_ADDRESS__
#define DEFAULT_BOUND 1
#else
#define DEFAULT_BOUND 2
#endif

static const struct ex_scenario *find(const char *name)
{
	size_t i;

	for (i = 0; i < NSCEN; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *only = NULL, *replay = NULL, *sched = NULL;
	uint64_t max = 0, total = 0;
	struct ex_result r;
	int bound = DEFAULT_BOUND, i;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bound") && i + 1 < argc)
			bound = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--replay") && i + 2 < argc) {
			replay = argv[++i];
			sched = argv[++i];
		}
	}
	/*
	 * One thread runs at a time: on one CPU every hand-over is a plain
	 * context switch instead of a cross-CPU wake-up.
	 */
	{
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	mmu_test_init();
	if (replay) {
		const struct ex_scenario *s = find(replay);

		if (!s) {
			fprintf(stderr, "no scenario %s\n", replay);
			return 2;
		}
		ex_replay(s, sched, &r);
		ok(!r.failed, "%s, schedule %s%s%s", s->name, sched,
		   r.failed ? ": " : "", r.failed ? r.failure : "");
		return tap_done();
	}
	diag("preemption bound %d", bound);
	for (k = 0; k < NSCEN; k++) {
		const struct ex_scenario *s = &scenarios[k];
		uint64_t t0 = platform_time_ns();

		if (only && strcmp(only, s->name))
			continue;
		ex_explore(s, bound, max, &r);
		total += r.schedules;
		if (r.failed)
			diag("%s FAILED: %s; replay with: --replay %s %s",
			     s->name, r.failure, s->name, r.schedule);
		ok(!r.failed,
		   "%s: %llu schedules (bound %d), up to %llu steps, %.1f s",
		   s->name, (unsigned long long)r.schedules, r.bound,
		   (unsigned long long)r.max_steps,
		   (double)(platform_time_ns() - t0) / 1e9);
	}
	diag("%llu schedules in all", (unsigned long long)total);
	return tap_done();
}
