// SPDX-License-Identifier: MIT
/*
 * Unit tests of the external page-table guard (mm/guard.c): every refusal
 * is provoked and must leave the EPT and the accounting unchanged; then
 * scrubbing, the flush protocol, fault injection, counters, huge leaves
 * and 5-level tables.
 */
#define _GNU_SOURCE
#include "mm/guard.h"
#include "tests/host/platform_host.h"
#include "tests/host/tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define VM_PAGES 2048 /* 8 MiB */

static uint64_t pfn_of(const void *p)
{
	return platform_virt_to_phys(p) >> PAGE_SHIFT;
}

/* ---- "Nothing changed": a fingerprint of everything a call may touch. */

struct snap {
	uint64_t leaves, hash;
	struct guard_stats st;
	int64_t pages_live, objs_live;
	bool flush;
};

static int hash_leaf(const struct guard_leaf *l, void *arg)
{
	struct snap *s = arg;

	s->leaves++;
	s->hash = s->hash * 1000003 ^ (l->gfn * 31 + l->pfn * 7 + l->level +
				       l->prot * 131 + l->mt * 1031);
	return 0;
}

static void take_snap(struct guard *g, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	guard_walk_leaves(g, hash_leaf, s);
	guard_get_stats(g, &s->st);
	s->pages_live = host_pages_live();
	s->objs_live = host_objs_live();
	s->flush = guard_flush_needed(g);
}

static bool same_state(const struct snap *a, const struct snap *b)
{
	return a->leaves == b->leaves && a->hash == b->hash &&
	       a->st.tables_live == b->st.tables_live &&
	       a->st.tables_pending == b->st.tables_pending &&
	       a->st.leaves_live == b->st.leaves_live &&
	       a->st.frames_mapped == b->st.frames_mapped &&
	       a->pages_live == b->pages_live && a->objs_live == b->objs_live &&
	       a->flush == b->flush;
}

/* Run @call, which must be refused with @want and change nothing. */
#define REFUSED(g, call, want, what)                                          \
	do {                                                                  \
		struct snap __b, __a;                                         \
		uint64_t __r;                                                 \
		int __e;                                                      \
		take_snap(g, &__b);                                           \
		__r = __b.st.refusals[-(want)];                               \
		__e = (call);                                                 \
		take_snap(g, &__a);                                           \
		if (!is_int(__e, want, "%s: %s", what, guard_strerror(want))) \
			diag("  got %s", guard_strerror(__e));                \
		ok(same_state(&__b, &__a), "%s: nothing changed", what);      \
		is_int(__a.st.refusals[-(want)], __r + 1,                     \
		       "%s: refusal counted", what);                          \
	} while (0)

#define DONE(call, what) is_int((call), GUARD_OK, "%s", what)

/* ---- Memory for the "VMs". ---- */

static void *vm_alloc(size_t bytes, size_t align)
{
	void *p = aligned_alloc(align, bytes);

	BUG_ON(!p);
	memset(p, 0, bytes);
	return p;
}

/* ---- Tests. ---- */

static void test_create(struct guard_registry *reg)
{
	struct guard_config bad[] = {{3, 2}, {6, 2}, {4, 1}, {4, 4}};
	struct guard *g = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(guard_create(reg, &bad[i], &g), GUARD_E_LEVEL,
		       "create refuses levels=%u max_leaf=%u", bad[i].levels,
		       bad[i].max_leaf);
	is_int(guard_create(NULL, &bad[0], &g), GUARD_E_INVAL,
	       "create refuses a NULL registry");
	host_alloc_fail_after(0);
	is_int(guard_create(reg, &(struct guard_config){4, 2}, &g),
	       GUARD_E_NOMEM, "create reports allocation failure");
	host_alloc_fail_after(1);
	is_int(guard_create(reg, &(struct guard_config){4, 2}, &g),
	       GUARD_E_NOMEM, "create reports root allocation failure");
	host_alloc_fail_after(-1);
	is_int(host_pages_live(), 0, "failed creates leak no page");
	is_int(host_objs_live(), 1, "failed creates leak no object");
}

static struct guard_registry *reg;
static struct guard *g, *g2;
static uint8_t *mem, *mem2, *rsvd;
static uint64_t base, base2, rbase;

static void test_memory(void)
{
	uint8_t *hv = vm_alloc(PAGE_SIZE, PAGE_SIZE);

	REFUSED(g, guard_add_memory(g, base, VM_PAGES, 0), GUARD_E_OVERLAP,
		"add_memory of the VM's own range again");
	REFUSED(g, guard_add_memory(g, base2 + 5, 1, 0), GUARD_E_OVERLAP,
		"add_memory of another VM's frame");
	REFUSED(g, guard_add_memory(g, rbase - 1, 2, 0), GUARD_E_OVERLAP,
		"add_memory overlapping reserved hypervisor frames");
	REFUSED(g, guard_add_memory(g, base, 0, 0), GUARD_E_INVAL,
		"add_memory of zero frames");
	REFUSED(g, guard_add_memory(g, (1ull << 40) - 1, 2, 0), GUARD_E_INVAL,
		"add_memory beyond the physical address width");
	REFUSED(g, guard_add_memory(g, pfn_of(hv), 1, 0x80), GUARD_E_INVAL,
		"add_memory with unknown flags");
	host_alloc_fail_after(1);
	REFUSED(g, guard_add_memory(g, pfn_of(hv), 1, 0), GUARD_E_NOMEM,
		"add_memory when a bitmap cannot be allocated");
	host_alloc_fail_after(-1);
	REFUSED(g, guard_release_memory(g, base, VM_PAGES - 1),
		GUARD_E_NOT_OWNED,
		"release of a range that is not exactly one of the VM's");
	REFUSED(g, guard_release_memory(g, base2, VM_PAGES / 2),
		GUARD_E_NOT_OWNED, "release of another VM's range");

	is_int(guard_registry_reserve(reg, base + 3, 1), GUARD_E_OVERLAP,
	       "reserve refuses a VM's frame");
	is_int(guard_registry_reserve(reg, 0, 0), GUARD_E_INVAL,
	       "reserve refuses an empty range");
	is_int(guard_registry_unreserve(reg, base, VM_PAGES), GUARD_E_INVAL,
	       "unreserve refuses a range that is not reserved");
	is_int(guard_registry_destroy(reg), GUARD_E_IN_USE,
	       "registry in use is not destroyed");

	/* A range can be given, released and given again. */
	DONE(guard_add_memory(g, pfn_of(hv), 1, 0), "add one frame");
	DONE(guard_release_memory(g, pfn_of(hv), 1), "release it");
	DONE(guard_add_memory(g2, pfn_of(hv), 1, 0),
	     "another VM may own it now");
	DONE(guard_release_memory(g2, pfn_of(hv), 1), "and release it");
	free(hv);
}

/* Link the path of tables above the level-1 entries that cover gfn. */
static void link_path(struct guard *gd, uint64_t gfn, int levels)
{
	for (int l = levels; l >= GUARD_LEVEL_2M; l--) {
		uint64_t egfn = gfn & ~(GUARD_LEVEL_PAGES(l) - 1);
		int err = guard_link_table(gd, egfn, l);

		if (err != GUARD_OK && err != GUARD_E_PRESENT)
			is_int(err, GUARD_OK, "link level %d at %#llx", l,
			       (unsigned long long)egfn);
	}
}

static void test_tables(void)
{
	uint8_t *hv = vm_alloc(PAGE_SIZE, PAGE_SIZE);
	uint64_t *root = platform_phys_to_virt(guard_root_pa(g));
	uint64_t e;

	REFUSED(g, guard_link_table(g, 0, 2), GUARD_E_NO_PARENT,
		"link with no table above");
	DONE(guard_link_table(g, 0, 4), "link a level-4 entry");
	e = root[0];
	ok((e & 7) == 7 && (e & 0xf8) == 0,
	   "table entries are RWX with no leaf bits (%#llx)",
	   (unsigned long long)e);
	DONE(guard_link_table(g, 0, 3), "link a level-3 entry");
	REFUSED(g, guard_link_table(g, 0, 4), GUARD_E_PRESENT, "double link");
	REFUSED(g, guard_link_table(g, 0, 1), GUARD_E_LEVEL,
		"link at level 1 (no tables below 4K)");
	REFUSED(g, guard_link_table(g, 0, 5), GUARD_E_LEVEL,
		"link at level 5 in a 4-level EPT");
	REFUSED(g, guard_link_table(g, 0, 0), GUARD_E_LEVEL, "link at level 0");
	REFUSED(g, guard_link_table(g, 1ull << 36, 4), GUARD_E_GFN,
		"link beyond the 48-bit address width");
	REFUSED(g, guard_link_table(g, 1, 2), GUARD_E_GFN_ALIGN,
		"link at an unaligned gfn");
	REFUSED(g, guard_free_table(g, 0, 1), GUARD_E_LEVEL, "free at level 1");
	REFUSED(g, guard_free_table(g, 512, 2), GUARD_E_NOT_PRESENT,
		"free where there is no table");
	REFUSED(g, guard_free_table(g, 0, 4), GUARD_E_NOT_EMPTY,
		"free of a table that still links a table");
	host_alloc_fail_after(0);
	REFUSED(g, guard_link_table(g, 0, 2), GUARD_E_NOMEM,
		"link when no page can be allocated");
	host_alloc_fail_after(-1);

	DONE(guard_link_table(g, 0, 2), "link a level-2 entry");
	DONE(guard_set_leaf(g, 0, 1, base, GUARD_PROT_RWX, GUARD_MT_WB),
	     "map a 4K leaf");
	REFUSED(g, guard_free_table(g, 0, 2), GUARD_E_NOT_EMPTY,
		"free of a table that still maps a page");
	DONE(guard_remove_leaf(g, 0, 1), "unmap it");
	host_alloc_fail_after(0);
	REFUSED(g, guard_free_table(g, 0, 2), GUARD_E_NOMEM,
		"free when its bookkeeping cannot be allocated");
	host_alloc_fail_after(-1);

	/* Freed tables wait for a flush before they go back. */
	int64_t before = host_pages_live();
	struct guard_stats st;
	uint64_t tok;

	DONE(guard_free_table(g, 0, 2), "free the empty level-1 table");
	REFUSED(g, guard_free_table(g, 0, 2), GUARD_E_NOT_PRESENT,
		"double free");
	is_int(host_pages_live(), before, "the page is kept until a flush");
	guard_get_stats(g, &st);
	is_int(st.tables_pending, 1, "one table pending");
	ok(guard_flush_needed(g), "a flush is needed");
	tok = guard_flush_begin(g);
	DONE(guard_link_table(g, 0, 2), "relink during the flush");
	DONE(guard_set_leaf(g, 0, 1, base, GUARD_PROT_R, GUARD_MT_WB), "map");
	DONE(guard_remove_leaf(g, 0, 1), "unmap during the flush");
	guard_flush_done(g, tok);
	is_int(host_pages_live(), before, "old table freed, new one live");
	ok(guard_flush_needed(g), "a removal after begin still needs a flush");
	guard_flush_done(g, guard_flush_begin(g));
	ok(!guard_flush_needed(g), "second flush covers it");
	guard_flush_done(g, 12345);
	ok(!guard_flush_needed(g), "a token from the future changes nothing");
	free(hv);
}

#define MAP(gd, gfn, lvl, pfn) \
	guard_set_leaf(gd, gfn, lvl, pfn, GUARD_PROT_RWX, GUARD_MT_WB)

static void test_leaves(void)
{
	uint8_t *hv = vm_alloc(PAGE_SIZE, PAGE_SIZE);
	uint64_t *t3, *t2;
	struct guard_leaf l;

	link_path(g, 0, 4);
	link_path(g, 512, 4); /* level-1 table for gfns 512..1023 */

	/* Ownership: only this VM's frames. */
	REFUSED(g, MAP(g, 1, 1, pfn_of(hv)), GUARD_E_NOT_OWNED,
		"map a hypervisor page");
	REFUSED(g, MAP(g, 1, 1, guard_root_pa(g) >> PAGE_SHIFT),
		GUARD_E_NOT_OWNED, "map the guard's own root table");
	REFUSED(g, MAP(g, 1, 1, guard_root_pa(g2) >> PAGE_SHIFT),
		GUARD_E_NOT_OWNED, "map another VM's EPT root");
	REFUSED(g, MAP(g, 1, 1, base2 + 7), GUARD_E_NOT_OWNED,
		"map another VM's frame");
	REFUSED(g, MAP(g, 1, 1, rbase), GUARD_E_NOT_OWNED,
		"map a reserved hypervisor frame");
	REFUSED(g, MAP(g, 1, 1, base + VM_PAGES), GUARD_E_NOT_OWNED,
		"map the frame just past the VM's memory");
	REFUSED(g, MAP(g, 1, 1, (1ull << 40) + 3), GUARD_E_NOT_OWNED,
		"map a frame beyond the address width");

	/* Arguments. */
	REFUSED(g, guard_set_leaf(g, 2, 1, base, 0, GUARD_MT_WB), GUARD_E_PROT,
		"map with no permission");
	REFUSED(g, guard_set_leaf(g, 2, 1, base, GUARD_PROT_W, GUARD_MT_WB),
		GUARD_E_PROT, "map write-only");
	REFUSED(g,
		guard_set_leaf(g, 2, 1, base, 0x8 | GUARD_PROT_R, GUARD_MT_WB),
		GUARD_E_PROT, "map with an unknown permission bit");
	static const int bad_mt[] = {2, 3, 7, 8};
	for (size_t k = 0; k < ARRAY_SIZE(bad_mt); k++)
		REFUSED(g,
			guard_set_leaf(g, 2, 1, base, GUARD_PROT_R,
				       (enum guard_memtype)bad_mt[k]),
			GUARD_E_MEMTYPE, "map with reserved memory type");
	REFUSED(g, MAP(g, 0, 3, base), GUARD_E_LEVEL,
		"1G leaf when the guard allows only 2M");
	REFUSED(g, MAP(g, 0, 0, base), GUARD_E_LEVEL, "leaf at level 0");
	REFUSED(g, MAP(g, 1ull << 36, 1, base), GUARD_E_GFN,
		"leaf beyond the address width");
	REFUSED(g, MAP(g, 1, 2, base), GUARD_E_GFN_ALIGN,
		"2M leaf at an unaligned gfn");
	REFUSED(g, MAP(g, 1024, 2, base + 1), GUARD_E_PFN_ALIGN,
		"2M leaf on an unaligned frame");
	REFUSED(g, MAP(g, 1ull << 27, 1, base), GUARD_E_NO_PARENT,
		"leaf whose tables do not exist");
	REFUSED(g, MAP(g, 0, 2, base), GUARD_E_PRESENT,
		"2M leaf where a table is");

	/* Each frame at most once. */
	DONE(guard_set_leaf(g, 1, 1, base + 1, GUARD_PROT_R | GUARD_PROT_X,
			    GUARD_MT_WT),
	     "map gfn 1");
	ok(guard_lookup(g, 1, &l) == GUARD_OK && l.pfn == base + 1 &&
		   l.level == 1 && l.gfn == 1 &&
		   l.prot == (GUARD_PROT_R | GUARD_PROT_X) &&
		   l.mt == GUARD_MT_WT,
	   "lookup finds the 4K leaf as mapped");
	REFUSED(g, MAP(g, 1, 1, base + 2), GUARD_E_PRESENT, "double set");
	REFUSED(g, MAP(g, 2, 1, base + 1), GUARD_E_DOUBLE_MAP,
		"a second gfn for the same frame");
	DONE(MAP(g, 1024, 2, base + 512), "map a 2M leaf");
	ok(guard_lookup(g, 1030, &l) == GUARD_OK && l.pfn == base + 512 &&
		   l.level == 2 && l.gfn == 1024,
	   "lookup inside the 2M leaf");
	REFUSED(g, MAP(g, 1025, 1, base + 3), GUARD_E_UNDER_LEAF,
		"4K leaf under a 2M leaf");
	REFUSED(g, guard_link_table(g, 1024, 2), GUARD_E_PRESENT,
		"link a table where a 2M leaf is");
	REFUSED(g, MAP(g, 1536, 2, base), GUARD_E_DOUBLE_MAP,
		"2M leaf over a frame mapped by a 4K leaf");
	REFUSED(g, MAP(g, 3, 1, base + 600), GUARD_E_DOUBLE_MAP,
		"4K leaf on a frame inside a 2M leaf");
	REFUSED(g, MAP(g, 1536, 2, base + VM_PAGES), GUARD_E_NOT_OWNED,
		"2M leaf past the VM's memory");

	/* The encoding the CPU sees. */
	t3 = platform_phys_to_virt(
		((uint64_t *)platform_phys_to_virt(guard_root_pa(g)))[0] &
		0xffffffffff000ull);
	t2 = platform_phys_to_virt(t3[0] & 0xffffffffff000ull);
	is_int(t2[2], ((base + 512) << PAGE_SHIFT) | 0x80 | (6 << 3) | 7,
	       "2M leaf entry: frame, large bit, WB, RWX");
	is_int(guard_eptp(g, true), guard_root_pa(g) | 6 | (3 << 3) | 0x40,
	       "EPTP: root, WB walk, 4 levels, A/D");
	is_int(guard_eptp(g, false), guard_root_pa(g) | 6 | (3 << 3),
	       "EPTP without A/D");

	/* Removal: right place, right kind, once. */
	REFUSED(g, guard_remove_leaf(g, 2, 1), GUARD_E_NOT_PRESENT,
		"remove where nothing is mapped");
	REFUSED(g, guard_remove_leaf(g, 1024, 1), GUARD_E_UNDER_LEAF,
		"remove a 4K leaf inside a 2M leaf");
	REFUSED(g, guard_remove_leaf(g, 0, 2), GUARD_E_KIND,
		"remove a leaf where a table is");
	REFUSED(g, guard_remove_leaf(g, 0, 3), GUARD_E_LEVEL,
		"remove at a level above the largest leaf");
	REFUSED(g, guard_free_table(g, 1024, 2), GUARD_E_KIND,
		"free a table where a leaf is");
	DONE(guard_remove_leaf(g, 1024, 2), "remove the 2M leaf");
	REFUSED(g, guard_remove_leaf(g, 1024, 2), GUARD_E_NOT_PRESENT,
		"double remove");
	is_int(guard_lookup(g, 1030, &l), GUARD_E_NOT_PRESENT,
	       "lookup after remove");
	DONE(guard_remove_leaf(g, 1, 1), "remove gfn 1");
	DONE(MAP(g, 5, 1, base + 1), "an unmapped frame can be mapped again");
	DONE(MAP(g, 1536, 2, base + 512), "so can a 2M block");
	free(hv);
}

static uint64_t nonzero_pages(const uint8_t *p, size_t npages)
{
	uint64_t n = 0;

	for (size_t i = 0; i < npages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE_SIZE);

		for (size_t k = 0; k < PAGE_SIZE / 8; k++) {
			if (w[k]) {
				n++;
				break;
			}
		}
	}
	return n;
}

static int dirty_table_frees;

static void check_freed_page(void *page)
{
	const uint64_t *w = page;

	for (size_t k = 0; k < PAGE_SIZE / 8; k++) {
		if (w[k]) {
			dirty_table_frees++;
			return;
		}
	}
}

/* VM 2 has frames [0, 700) and, later, [700, 1536) of mem2. */
#define R1 700
#define R2 836

/* Frames of two adjacent ranges of one VM form one 2M leaf. */
static void test_adjacent_ranges(void)
{
	link_path(g2, 0, 4);
	REFUSED(g2, MAP(g2, 512, 2, base2 + 512), GUARD_E_NOT_OWNED,
		"2M leaf running past the VM's only range");
	DONE(guard_add_memory(g2, base2 + R1, R2, 0),
	     "give VM 2 a second, adjacent range");
	DONE(MAP(g2, 512, 2, base2 + 512), "2M leaf across both ranges");
	DONE(MAP(g2, 1024, 2, base2 + 1024), "2M leaf in the second range");
	REFUSED(g2, MAP(g2, 1536, 2, base2 + 1536), GUARD_E_NOT_OWNED,
		"2M leaf past the second range");
	REFUSED(g2, guard_release_memory(g2, base2 + R1, R2), GUARD_E_IN_USE,
		"release of mapped memory");
	DONE(guard_remove_leaf(g2, 512, 2), "unmap");
	DONE(guard_remove_leaf(g2, 1024, 2), "unmap");
	REFUSED(g2, guard_release_memory(g2, base2 + R1, R2), GUARD_E_FLUSH,
		"release before the removals are flushed");
	guard_flush_done(g2, guard_flush_begin(g2));
}

/* Frames that held guest data are zero once the guard lets them go. */
static void test_scrub(void)
{
	struct guard_stats st0, st;

	guard_get_stats(g2, &st0);
	/* Guest data in frames of both ranges of VM 2. */
	DONE(MAP(g2, 512, 2, base2 + 512), "map across both ranges again");
	memset(mem2 + 512 * PAGE_SIZE, 0xa5, 512 * PAGE_SIZE);
	/* A frame of the ZEROED range that was never mapped. */
	memset(mem2 + 3 * PAGE_SIZE, 0x5a, PAGE_SIZE);
	DONE(guard_remove_leaf(g2, 512, 2), "unmap");
	guard_flush_done(g2, guard_flush_begin(g2));
	DONE(guard_release_memory(g2, base2 + R1, R2), "release range 2");
	is_int(nonzero_pages(mem2 + R1 * PAGE_SIZE, R2), 0,
	       "every frame of the released range is zero");
	is_int(nonzero_pages(mem2 + 512 * PAGE_SIZE, R1 - 512), R1 - 512,
	       "frames of a range still owned keep their data");
	DONE(guard_release_memory(g2, base2, R1), "release range 1");
	is_int(nonzero_pages(mem2 + 512 * PAGE_SIZE, R1 - 512), 0,
	       "the mapped frames of range 1 are scrubbed");
	is_int(nonzero_pages(mem2 + 3 * PAGE_SIZE, 1), 1,
	       "a never-mapped frame of a ZEROED range is left alone");
	memset(mem2 + 3 * PAGE_SIZE, 0, PAGE_SIZE);
	guard_get_stats(g2, &st);
	is_int(st.pages_scrubbed - st0.pages_scrubbed, R2 + (R1 - 512),
	       "scrubbed: all of range 2, the mapped part of range 1");
	is_int(st.frames_mapped, 0, "no frame of VM 2 is mapped");
}

static void test_inject(void)
{
	struct guard_fault_inject fi = {.nth = 3, .error = GUARD_E_BUSY};
	struct guard_stats st0, st;
	struct snap a, b;
	int fails = 0;

	is_int(guard_inject_failures(g2,
				     &(struct guard_fault_inject){
					     .error = GUARD_E_NOT_OWNED}),
	       GUARD_E_INVAL, "injection only of busy or invalid");
	is_int(guard_inject_failures(
		       g2,
		       &(struct guard_fault_inject){.error = GUARD_E_BUSY,
						    .per_million = 1000001}),
	       GUARD_E_INVAL, "injection probability at most one");
	DONE(guard_add_memory(g2, base2, 512, GUARD_MEM_ZEROED), "memory");
	guard_get_stats(g2, &st0);
	DONE(guard_inject_failures(g2, &fi), "fail the 3rd request, busy");
	DONE(MAP(g2, 1536, 2, base2), "request 1 passes");
	DONE(guard_remove_leaf(g2, 1536, 2), "request 2 passes");
	take_snap(g2, &a);
	is_int(MAP(g2, 1536, 2, base2), GUARD_E_BUSY, "request 3 is busy");
	take_snap(g2, &b);
	ok(same_state(&a, &b), "the injected failure changed nothing");
	DONE(MAP(g2, 1536, 2, base2), "request 4 passes");
	guard_get_stats(g2, &st);
	is_int(st.injected[GUARD_CALL_SET_LEAF] -
		       st0.injected[GUARD_CALL_SET_LEAF],
	       1, "one injected failure counted");
	is_int(st.calls[GUARD_CALL_SET_LEAF] - st0.calls[GUARD_CALL_SET_LEAF],
	       3, "three set_leaf calls counted");
	is_int(st.done[GUARD_CALL_SET_LEAF] - st0.done[GUARD_CALL_SET_LEAF], 2,
	       "two set_leaf calls applied");
	ok(!memcmp(st.refusals, st0.refusals, sizeof(st.refusals)),
	   "injected failures are not refusals");

	fi = (struct guard_fault_inject){.per_million = 1000000,
					 .error = GUARD_E_INVAL};
	DONE(guard_inject_failures(g2, &fi), "fail every request, invalid");
	take_snap(g2, &a);
	is_int(guard_remove_leaf(g2, 1536, 2), GUARD_E_INVAL, "remove fails");
	is_int(guard_link_table(g2, 512, 2), GUARD_E_INVAL, "link fails");
	is_int(guard_free_table(g2, 512, 2), GUARD_E_INVAL, "free fails");
	take_snap(g2, &b);
	ok(same_state(&a, &b), "nothing changed");

	fi = (struct guard_fault_inject){
		.per_million = 300000, .error = GUARD_E_BUSY, .seed = 42};
	DONE(guard_inject_failures(g2, &fi), "fail 30% of requests");
	for (int k = 0; k < 1000; k++) {
		struct guard_leaf l;
		bool mapped = guard_lookup(g2, 1536, &l) == GUARD_OK;
		int err = mapped ? guard_remove_leaf(g2, 1536, 2)
				 : MAP(g2, 1536, 2, base2);

		if (err == GUARD_E_BUSY) {
			fails++;
			if ((guard_lookup(g2, 1536, &l) == GUARD_OK) != mapped)
				break;
		} else if (err) {
			break;
		}
	}
	ok(fails > 200 && fails < 400, "about 30%% failed (%d of 1000)", fails);
	DONE(guard_inject_failures(g2, NULL), "injection off");
	struct guard_leaf l;
	if (guard_lookup(g2, 1536, &l) == GUARD_OK)
		DONE(guard_remove_leaf(g2, 1536, 2), "unmap");
	guard_flush_done(g2, guard_flush_begin(g2));
	DONE(guard_release_memory(g2, base2, 512), "release");
}

/* 5-level EPT and 1 GiB leaves, on 1 GiB of lazily backed memory. */
static void test_huge(void)
{
	size_t len = 2 * GiB;
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *gig;
	uint64_t gb, top = 1ull << 36; /* beyond a 4-level EPT */
	struct guard *g3;
	struct guard_leaf l;
	struct guard_stats st;

	if (raw == MAP_FAILED) {
		tap_skip("cannot reserve 2 GiB of address space");
		return;
	}
	gig = (uint8_t *)ALIGN_UP((uintptr_t)raw, GiB);
	gb = pfn_of(gig);
	DONE(guard_create(reg, &(struct guard_config){5, 3}, &g3),
	     "create a 5-level guard with 1G leaves");
	DONE(guard_add_memory(g3, gb, GiB >> PAGE_SHIFT, GUARD_MEM_ZEROED),
	     "give it 1 GiB");
	is_int(guard_eptp(g3, false) & 0x3f, 6 | (4 << 3),
	       "EPTP says 5 levels");
	REFUSED(g3, guard_link_table(g3, 1ull << 45, 5), GUARD_E_GFN,
		"link beyond the 57-bit address width");
	DONE(guard_link_table(g3, top, 5), "link above 2^48");
	DONE(guard_link_table(g3, top, 4), "link level 4");
	REFUSED(g3, MAP(g3, top + 512, 3, gb), GUARD_E_GFN_ALIGN,
		"1G leaf at a 2M-aligned gfn");
	REFUSED(g3, MAP(g3, top, 3, gb + 512), GUARD_E_PFN_ALIGN,
		"1G leaf on a 2M-aligned frame");
	DONE(MAP(g3, top, 3, gb), "map a 1G leaf");
	ok(guard_lookup(g3, top + 12345, &l) == GUARD_OK && l.level == 3 &&
		   l.pfn == gb && l.gfn == top,
	   "lookup inside the 1G leaf");
	REFUSED(g3, guard_link_table(g3, top, 3), GUARD_E_PRESENT,
		"link a table where a 1G leaf is");
	REFUSED(g3, MAP(g3, top + 512, 2, gb + 512), GUARD_E_UNDER_LEAF,
		"2M leaf under a 1G leaf");
	memset(gig + 12345 * PAGE_SIZE, 0x77, 64);
	DONE(guard_remove_leaf(g3, top, 3), "unmap the 1G leaf");
	guard_flush_done(g3, guard_flush_begin(g3));
	DONE(guard_release_memory(g3, gb, GiB >> PAGE_SHIFT), "release 1 GiB");
	is_int(gig[12345 * PAGE_SIZE], 0, "guest data in it is scrubbed");
	guard_get_stats(g3, &st);
	is_int(st.pages_scrubbed, GiB >> PAGE_SHIFT,
	       "every frame the 1G leaf mapped was scrubbed");
	guard_destroy(g3);
	munmap(raw, len);
}

static void test_destroy(void)
{
	struct guard_stats st;

	memset(mem + 5 * PAGE_SIZE, 0x11, PAGE_SIZE);
	memset(mem + 1536 * PAGE_SIZE, 0x22, 512 * PAGE_SIZE);
	memset(mem + 100 * PAGE_SIZE, 0x33, PAGE_SIZE); /* never mapped */
	guard_get_stats(g, &st);
	ok(st.leaves_live == 2 && st.frames_mapped == 513,
	   "VM 1 still maps two leaves, 513 frames");
	guard_destroy(g);
	is_int(nonzero_pages(mem, VM_PAGES), 0,
	       "destroy scrubbed every frame of a range not given as zeroed");
	guard_destroy(g2);
	is_int(dirty_table_frees, 0, "every table page was zero when freed");
	is_int(host_pages_live(), 0, "every table page is back");
	is_int(guard_registry_destroy(reg), GUARD_E_IN_USE,
	       "registry with a reservation is not destroyed");
	DONE(guard_registry_unreserve(reg, rbase, 16), "unreserve");
	DONE(guard_registry_destroy(reg), "destroy the registry");
	is_int(host_objs_live(), 0, "every object is back");
}

int main(void)
{
	BUG_ON(guard_registry_create(&reg));
	test_create(reg);

	mem = vm_alloc(VM_PAGES * PAGE_SIZE, 2 * MiB);
	mem2 = vm_alloc(VM_PAGES * PAGE_SIZE, 2 * MiB);
	rsvd = vm_alloc(16 * PAGE_SIZE, PAGE_SIZE);
	base = pfn_of(mem);
	base2 = pfn_of(mem2);
	rbase = pfn_of(rsvd);
	DONE(guard_registry_reserve(reg, rbase, 16),
	     "reserve hypervisor frames");
	DONE(guard_create(reg, &(struct guard_config){4, 2}, &g),
	     "create a 4-level guard");
	DONE(guard_create(reg, &(struct guard_config){4, 2}, &g2),
	     "create a second guard");
	DONE(guard_add_memory(g, base, VM_PAGES, 0), "give memory to VM 1");
	DONE(guard_add_memory(g2, base2, R1, GUARD_MEM_ZEROED),
	     "give memory to VM 2");

	test_memory();
	test_tables();
	test_leaves();
	test_adjacent_ranges();
	test_scrub();
	test_inject();
	test_huge();
	host_page_free_hook = check_freed_page;
	test_destroy();
	free(mem);
	free(mem2);
	free(rsvd);
	return tap_done();
}
