// SPDX-License-Identifier: MIT
/*
 * Randomized concurrent test of the external page-table guard.
 *
 * Several threads change one VM's EPT at once, the way the MMU will under
 * its mmu_lock held for read: each thread owns some 2 MiB blocks of guest
 * address space (siblings in one shared level-2 table) and a pool of the
 * VM's frames, and links/frees level-1 tables, maps/unmaps 4K and 2M
 * leaves, provokes refusals (double maps, double removes, foreign frames,
 * freeing non-empty tables) and flushes, while failures are injected.
 * After every step it checks the EPT, through guard_lookup, against its
 * own shadow model.  Meanwhile a second VM runs the same on another thread
 * and a "memslot" thread moves a spare range between the two VMs through
 * the shared registry.  At the end the whole EPT is compared with the
 * union of the shadows, the VMs are destroyed, and every frame must be
 * scrubbed and every page and object given back.
 */
#define _GNU_SOURCE
#include "mm/guard.h"
#include "tests/host/platform_host.h"
#include "tests/host/tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS    4	 /* on VM A */
#define BLOCKS	    8	 /* 2M blocks of guest space per thread */
#define POOL_PAGES  2048 /* frames per thread (four 2M blocks) */
#define SPARE_PAGES 64
#define BLK	    512 /* frames per 2M block */

#ifndef STEPS
#define STEPS 50000
#endif

enum blk_state { B_NONE, B_TABLE, B_LEAF };

struct vm {
	struct guard *g;
	uint8_t *mem;
	uint64_t base;
	unsigned int nworkers;
};

struct worker {
	struct vm *vm, *other;
	unsigned int id, nworkers;
	uint64_t seed;
	uint64_t pool; /* first frame of the pool */
	uint8_t *pool_va;
	/* Shadow: per block its state, the 2M frame, or per-gfn frame + 1. */
	enum blk_state state[BLOCKS];
	uint64_t leaf2m[BLOCKS];
	uint64_t pte[BLOCKS][BLK];
	uint32_t nmapped[BLOCKS];
	uint8_t frame_used[POOL_PAGES];
	/* Results. */
	unsigned long mismatches, unexpected, steps, injected, refusals;
	unsigned long race_links;
};

static struct guard_registry *reg;
static struct vm vm_a, vm_b;
static uint8_t *spare;
static volatile int stop_memslot;
static unsigned long memslot_moves, memslot_bad;

static uint64_t pfn_of(const void *p)
{
	return platform_virt_to_phys(p) >> PAGE_SHIFT;
}

static uint64_t block_gfn(struct worker *w, int b)
{
	return ((uint64_t)b * w->nworkers + w->id) * BLK;
}

/* What the shadow says gfn maps to: frame + 1, or 0. */
static uint64_t shadow_frame(struct worker *w, int b, unsigned int i)
{
	if (w->state[b] == B_LEAF)
		return w->leaf2m[b] + i + 1;
	if (w->state[b] == B_TABLE)
		return w->pte[b][i];
	return 0;
}

static bool check_gfn(struct worker *w, int b, unsigned int i)
{
	struct guard_leaf l;
	uint64_t want = shadow_frame(w, b, i), got = 0;
	int err = guard_lookup(w->vm->g, block_gfn(w, b) + i, &l);

	if (err == GUARD_OK)
		got = l.pfn + (block_gfn(w, b) + i - l.gfn) + 1;
	if (got == want &&
	    (!want || l.level == (w->state[b] == B_LEAF ? 2 : 1)))
		return true;
	if (w->mismatches++ < 5)
		diag("thread %u: gfn %#llx maps %#llx, shadow %#llx", w->id,
		     (unsigned long long)(block_gfn(w, b) + i),
		     (unsigned long long)got, (unsigned long long)want);
	return false;
}

static void check_block(struct worker *w, int b)
{
	for (unsigned int i = 0; i < BLK; i++)
		if (!check_gfn(w, b, i))
			return;
}

/* Injected failures change nothing; anything else must be as expected. */
static bool outcome(struct worker *w, int err, int want)
{
	if (err == GUARD_E_BUSY || err == GUARD_E_INVAL) {
		w->injected++;
		return false;
	}
	if (err != want) {
		if (w->unexpected++ < 5)
			diag("thread %u: got %s, want %s", w->id,
			     guard_strerror(err), guard_strerror(want));
		return false;
	}
	if (err)
		w->refusals++;
	return err == GUARD_OK;
}

static void guest_writes(struct worker *w, uint64_t pfn)
{
	uint8_t *va = platform_phys_to_virt(pfn << PAGE_SHIFT);

	va[(w->steps * 64) % PAGE_SIZE] = (uint8_t)(w->steps | 1);
}

static void op_link(struct worker *w, int b)
{
	int want = w->state[b] == B_NONE ? GUARD_OK : GUARD_E_PRESENT;

	if (outcome(w, guard_link_table(w->vm->g, block_gfn(w, b), 2), want)) {
		w->state[b] = B_TABLE;
		memset(w->pte[b], 0, sizeof(w->pte[b]));
		w->nmapped[b] = 0;
	}
}

static void op_map4k(struct worker *w, int b)
{
	unsigned int i = host_rand() % BLK;
	uint64_t f = host_rand() % POOL_PAGES;
	int want;

	if (w->state[b] == B_NONE)
		want = GUARD_E_NO_PARENT;
	else if (w->state[b] == B_LEAF)
		want = GUARD_E_UNDER_LEAF;
	else if (w->pte[b][i])
		want = GUARD_E_PRESENT;
	else if (w->frame_used[f])
		want = GUARD_E_DOUBLE_MAP;
	else
		want = GUARD_OK;
	if (outcome(w,
		    guard_set_leaf(w->vm->g, block_gfn(w, b) + i, 1,
				   w->pool + f, GUARD_PROT_RWX, GUARD_MT_WB),
		    want)) {
		w->pte[b][i] = w->pool + f + 1;
		w->frame_used[f] = 1;
		w->nmapped[b]++;
		guest_writes(w, w->pool + f);
	}
	check_gfn(w, b, i);
}

static bool frames_free(struct worker *w, uint64_t f, uint64_t n)
{
	for (uint64_t k = f; k < f + n; k++)
		if (w->frame_used[k])
			return false;
	return true;
}

static void op_map2m(struct worker *w, int b)
{
	uint64_t f = (host_rand() % (POOL_PAGES / BLK)) * BLK;
	int want;

	if (w->state[b] != B_NONE)
		want = GUARD_E_PRESENT;
	else if (!frames_free(w, f, BLK))
		want = GUARD_E_DOUBLE_MAP;
	else
		want = GUARD_OK;
	if (outcome(w,
		    guard_set_leaf(w->vm->g, block_gfn(w, b), 2, w->pool + f,
				   GUARD_PROT_R | GUARD_PROT_W, GUARD_MT_WB),
		    want)) {
		w->state[b] = B_LEAF;
		w->leaf2m[b] = w->pool + f;
		memset(&w->frame_used[f], 1, BLK);
		guest_writes(w, w->pool + f + host_rand() % BLK);
	}
	check_gfn(w, b, host_rand() % BLK);
}

static void op_unmap(struct worker *w, int b)
{
	unsigned int i = host_rand() % BLK;
	int want;

	if (w->state[b] == B_LEAF) {
		if (outcome(w, guard_remove_leaf(w->vm->g, block_gfn(w, b), 2),
			    GUARD_OK)) {
			memset(&w->frame_used[w->leaf2m[b] - w->pool], 0, BLK);
			w->state[b] = B_NONE;
		}
		check_gfn(w, b, i);
		return;
	}
	/* Prefer a mapped gfn, but sometimes try an unmapped one. */
	if (w->state[b] == B_TABLE && w->nmapped[b] && host_rand() % 4)
		while (!w->pte[b][i])
			i = (i + 1) % BLK;
	if (w->state[b] == B_NONE)
		want = GUARD_E_NO_PARENT;
	else if (!w->pte[b][i])
		want = GUARD_E_NOT_PRESENT;
	else
		want = GUARD_OK;
	if (outcome(w, guard_remove_leaf(w->vm->g, block_gfn(w, b) + i, 1),
		    want)) {
		w->frame_used[w->pte[b][i] - 1 - w->pool] = 0;
		w->pte[b][i] = 0;
		w->nmapped[b]--;
	}
	check_gfn(w, b, i);
}

static void op_free_table(struct worker *w, int b)
{
	int want;

	if (w->state[b] == B_NONE)
		want = GUARD_E_NOT_PRESENT;
	else if (w->state[b] == B_LEAF)
		want = GUARD_E_KIND;
	else if (w->nmapped[b])
		want = GUARD_E_NOT_EMPTY;
	else
		want = GUARD_OK;
	if (outcome(w, guard_free_table(w->vm->g, block_gfn(w, b), 2), want))
		w->state[b] = B_NONE;
	check_gfn(w, b, host_rand() % BLK);
}

/* Requests that must always be refused, whatever the other threads do. */
static void op_foreign(struct worker *w, int b)
{
	uint64_t gfn = block_gfn(w, b) + host_rand() % BLK;
	uint64_t bad[] = {
		w->other->base + host_rand() % (POOL_PAGES / 2), /* other VM */
		guard_root_pa(w->vm->g) >> PAGE_SHIFT,		 /* own EPT */
		pfn_of(spare) + host_rand() % SPARE_PAGES, /* maybe not ours */
	};
	uint64_t f = bad[host_rand() % ARRAY_SIZE(bad)];
	int err;

	if (w->state[b] != B_TABLE || w->pte[b][gfn - block_gfn(w, b)])
		return;
	bool in_spare = f >= pfn_of(spare) && f < pfn_of(spare) + SPARE_PAGES;

	err = guard_set_leaf(w->vm->g, gfn, 1, f, GUARD_PROT_R, GUARD_MT_WB);
	if (err == GUARD_OK) {
		/* Only the spare range may be ours (while we own it)... */
		if (!in_spare)
			outcome(w, err, GUARD_E_NOT_OWNED);
		/* ...and the memslot thread cannot release it until we undo. */
		do
			err = guard_remove_leaf(w->vm->g, gfn, 1);
		while (err == GUARD_E_BUSY || err == GUARD_E_INVAL);
		outcome(w, err, GUARD_OK);
	} else if (!(in_spare && err == GUARD_E_DOUBLE_MAP)) {
		/* Another worker may hold that spare frame right now. */
		outcome(w, err, GUARD_E_NOT_OWNED);
	}
	check_gfn(w, b, gfn - block_gfn(w, b));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int err;

	host_srand(w->seed);
	/* Everyone races to link the same shared table: one must win. */
	err = guard_link_table(w->vm->g, 1ull << 18, 3);
	while (err == GUARD_E_BUSY || err == GUARD_E_INVAL)
		err = guard_link_table(w->vm->g, 1ull << 18, 3);
	if (err == GUARD_OK)
		__atomic_add_fetch(&w->race_links, 1, __ATOMIC_RELAXED);
	else
		outcome(w, err, GUARD_E_PRESENT);

	for (w->steps = 0; w->steps < STEPS; w->steps++) {
		int b = host_rand() % BLOCKS;
		unsigned int r = host_rand() % 100;

		if (r < 10)
			op_link(w, b);
		else if (r < 45)
			op_map4k(w, b);
		else if (r < 52)
			op_map2m(w, b);
		else if (r < 85)
			op_unmap(w, b);
		else if (r < 92)
			op_free_table(w, b);
		else if (r < 97)
			op_foreign(w, b);
		else
			guard_flush_done(w->vm->g, guard_flush_begin(w->vm->g));
		if (w->steps % 512 == 0)
			check_block(w, b);
	}
	for (int b = 0; b < BLOCKS; b++)
		check_block(w, b);
	return NULL;
}

/* Moves a spare range between the VMs through the shared registry. */
static void *memslot_main(void *arg)
{
	uint64_t sp = pfn_of(spare);
	struct vm *vms[2] = {&vm_a, &vm_b};
	unsigned int k = 0;

	while (!__atomic_load_n(&stop_memslot, __ATOMIC_RELAXED)) {
		struct vm *own = vms[k & 1], *oth = vms[!(k & 1)];
		int err;

		k++;
		if (guard_add_memory(own->g, sp, SPARE_PAGES,
				     GUARD_MEM_ZEROED)) {
			memslot_bad++;
			continue;
		}
		if (guard_add_memory(oth->g, sp + 7, 1, 0) != GUARD_E_OVERLAP)
			memslot_bad++;
		/* Workers may map it briefly; wait until they let go. */
		do {
			guard_flush_done(own->g, guard_flush_begin(own->g));
			err = guard_release_memory(own->g, sp, SPARE_PAGES);
			if (err)
				platform_yield();
		} while (err == GUARD_E_IN_USE || err == GUARD_E_FLUSH);
		if (err != GUARD_OK)
			memslot_bad++;
		memslot_moves++;
		platform_yield();
	}
	return NULL;
}

struct walk_count {
	uint64_t leaves, frames;
};

static int count_leaf(const struct guard_leaf *l, void *arg)
{
	struct walk_count *c = arg;

	c->leaves++;
	c->frames += GUARD_LEVEL_PAGES(l->level);
	return 0;
}

static uint64_t nonzero_pages(const uint8_t *p, size_t npages)
{
	uint64_t n = 0;

	for (size_t i = 0; i < npages; i++) {
		const uint64_t *wd = (const uint64_t *)(p + i * PAGE_SIZE);

		for (size_t k = 0; k < PAGE_SIZE / 8; k++) {
			if (wd[k]) {
				n++;
				break;
			}
		}
	}
	return n;
}

static void vm_setup(struct vm *vm, unsigned int nworkers)
{
	size_t bytes = (size_t)nworkers * POOL_PAGES * PAGE_SIZE;

	vm->nworkers = nworkers;
	vm->mem = aligned_alloc(2 * MiB, bytes);
	BUG_ON(!vm->mem);
	memset(vm->mem, 0, bytes);
	vm->base = pfn_of(vm->mem);
	BUG_ON(guard_create(reg, &(struct guard_config){4, 2}, &vm->g));
	BUG_ON(guard_add_memory(vm->g, vm->base, nworkers * POOL_PAGES, 0));
	/* The top of the tree is shared by every worker. */
	BUG_ON(guard_link_table(vm->g, 0, 4));
	BUG_ON(guard_link_table(vm->g, 0, 3));
}

int main(void)
{
	struct worker *w = calloc(NTHREADS + 1, sizeof(*w));
	pthread_t th[NTHREADS + 1], ms;
	struct guard_fault_inject fi = {
		.per_million = 50000, .error = GUARD_E_BUSY, .seed = 7};
	struct guard_stats st;
	struct walk_count wc = {0};
	uint64_t want_leaves = 0, want_frames = 0, wins = 0;
	unsigned long mism = 0, unexp = 0, inj = 0, refs = 0;

	BUG_ON(!w);
	BUG_ON(guard_registry_create(&reg));
	vm_setup(&vm_a, NTHREADS);
	vm_setup(&vm_b, 1);
	spare = aligned_alloc(PAGE_SIZE, SPARE_PAGES * PAGE_SIZE);
	BUG_ON(!spare);
	memset(spare, 0, SPARE_PAGES * PAGE_SIZE);
	BUG_ON(guard_inject_failures(vm_a.g, &fi));
	fi.error = GUARD_E_INVAL;
	BUG_ON(guard_inject_failures(vm_b.g, &fi));

	for (unsigned int t = 0; t <= NTHREADS; t++) {
		bool on_b = t == NTHREADS;

		w[t].vm = on_b ? &vm_b : &vm_a;
		w[t].other = on_b ? &vm_a : &vm_b;
		w[t].id = on_b ? 0 : t;
		w[t].nworkers = w[t].vm->nworkers;
		w[t].seed = 1000 + t;
		w[t].pool = w[t].vm->base + (uint64_t)w[t].id * POOL_PAGES;
		BUG_ON(pthread_create(&th[t], NULL, worker_main, &w[t]));
	}
	BUG_ON(pthread_create(&ms, NULL, memslot_main, NULL));
	for (unsigned int t = 0; t <= NTHREADS; t++)
		pthread_join(th[t], NULL);
	__atomic_store_n(&stop_memslot, 1, __ATOMIC_RELAXED);
	pthread_join(ms, NULL);

	for (unsigned int t = 0; t <= NTHREADS; t++) {
		mism += w[t].mismatches;
		unexp += w[t].unexpected;
		inj += w[t].injected;
		refs += w[t].refusals;
		if (t < NTHREADS)
			wins += w[t].race_links;
	}
	diag("%d steps x %d threads: %lu refusals, %lu injected, "
	     "%lu memslot moves",
	     STEPS, NTHREADS + 1, refs, inj, memslot_moves);
	is_int(mism, 0, "the EPT matched every shadow after every step");
	is_int(unexp, 0, "every call returned what the shadow predicted");
	is_int(wins, 1, "exactly one of the racing links won");
	ok(inj > 0 && refs > 0, "failures were injected and requests refused");
	ok(memslot_moves > 0, "the spare range moved between VMs");
	is_int(memslot_bad, 0, "the registry never let both VMs own it");

	/* The whole EPT of VM A is the union of the workers' shadows. */
	for (unsigned int t = 0; t < NTHREADS; t++) {
		for (int b = 0; b < BLOCKS; b++) {
			if (w[t].state[b] == B_LEAF) {
				want_leaves++;
				want_frames += BLK;
			} else if (w[t].state[b] == B_TABLE) {
				want_leaves += w[t].nmapped[b];
				want_frames += w[t].nmapped[b];
			}
		}
	}
	guard_walk_leaves(vm_a.g, count_leaf, &wc);
	is_int(wc.leaves, want_leaves, "VM A has exactly the shadows' leaves");
	is_int(wc.frames, want_frames, "and maps exactly their frames");
	guard_get_stats(vm_a.g, &st);
	is_int(st.leaves_live, want_leaves, "leaf counter agrees");
	is_int(st.frames_mapped, want_frames, "frame counter agrees");
	ok(st.injected[GUARD_CALL_SET_LEAF] > 0, "injections counted");
	ok(st.refusals[-GUARD_E_DOUBLE_MAP] > 0 &&
		   st.refusals[-GUARD_E_NOT_OWNED] > 0 &&
		   st.refusals[-GUARD_E_NOT_EMPTY] > 0,
	   "double maps, foreign frames and non-empty frees were refused");

	guard_destroy(vm_a.g);
	guard_destroy(vm_b.g);
	is_int(nonzero_pages(vm_a.mem, NTHREADS * POOL_PAGES), 0,
	       "VM A's memory is scrubbed");
	is_int(nonzero_pages(vm_b.mem, POOL_PAGES), 0,
	       "VM B's memory is scrubbed");
	is_int(host_pages_live(), 0, "every table page is back");
	is_int(guard_registry_destroy(reg), GUARD_OK, "registry destroyed");
	is_int(host_objs_live(), 0, "every object is back");
	free(vm_a.mem);
	free(vm_b.mem);
	free(spare);
	free(w);
	return tap_done();
}
