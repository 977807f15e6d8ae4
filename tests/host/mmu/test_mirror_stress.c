// SPDX-License-Identifier: MIT
/*
 * Randomized concurrent test of a protected VM.
 *
 * Fault threads, a zap thread (unmap ranges, huge-page restriction,
 * recovery and splitting) and a memslot thread (move a slot back and
 * forth, delete and re-create it, toggle NO_HUGE) work on one protected
 * VM while the guard answers a share of all requests with "busy".  The
 * work runs in steps;
 * after every step, with everything quiet, the mirror root and the
 * guard's EPT must hold exactly the same leaves and no mirror SPTE may be
 * frozen.  At the end the MMU is torn down (every removal forwarded: the
 * guard must be empty), then the guard, and every page and object must
 * be back in the allocator.
 *
 *   test_mmu_mirror_stress [--steps N] [--seed N] [--busy PER_MILLION]
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/mmu/mirror_util.h"
#include "tests/host/tap.h"

#define MEM	   (32 * MiB)
#define SLOT0_SIZE (16 * MiB)
#define SLOT1_SIZE (16 * MiB)
#define SLOT1_A	   (1 * GiB) /* the two places slot 1 moves between */
#define SLOT1_B	   (3 * GiB + 2 * MiB)
#define NFAULTERS  2
#define NTHREADS   (NFAULTERS + 2)
#define FAULT_OPS  150 /* per fault thread per step */
#define ZAP_OPS	   8
#define SLOT_OPS   2

static struct pvm p;
static struct tdp_root *root;
static pthread_barrier_t step_start, step_end;
static volatile bool done;
static uint64_t seed = 1;
static unsigned long steps = 400;

struct worker {
	int idx;
	unsigned long faults, ok, noslot, retries, errors;
	unsigned long zaps, slot_ops, slot_errors;
};

static uint64_t rnd_gfn(void)
{
	uint64_t r = host_rand();

	switch (r % 3) {
	case 0:
		return (r >> 8) % (SLOT0_SIZE >> PAGE_SHIFT);
	case 1:
		return (SLOT1_A >> PAGE_SHIFT) +
		       (r >> 8) % (SLOT1_SIZE >> PAGE_SHIFT);
	default:
		return (SLOT1_B >> PAGE_SHIFT) +
		       (r >> 8) % (SLOT1_SIZE >> PAGE_SHIFT);
	}
}

static void do_fault(struct worker *w)
{
	uint64_t gfn = rnd_gfn();
	uint64_t acc = (host_rand() & 1) ? TDP_ACC_WRITE : TDP_ACC_READ;
	int r;

	w->faults++;
	r = map_retry(p.mmu, root, gfn, acc, &w->retries);
	if (r == TDP_MAP_OK) {
		w->ok++;
	} else if (r == TDP_MAP_NO_SLOT) {
		w->noslot++;
	} else if (w->errors++ < 3) {
		diag("fault at gfn %#llx: %d", (unsigned long long)gfn, r);
	}
}

static void do_zap(struct worker *w)
{
	uint64_t gfn = rnd_gfn(), n = 1 + host_rand() % 1024;

	w->zaps++;
	switch (host_rand() % 8) {
	case 7:
		tdp_mmu_split_huge_pages(p.mmu, gfn, gfn + n, 1);
		break;
	case 0:
		tdp_mmu_recover_huge_pages(p.mmu, tdp_level_base(gfn, 3),
					   tdp_level_base(gfn, 3) + (1 << 18));
		break;
	case 1:
		/* Slot 0 never moves: its restriction must undo cleanly. */
		if (tdp_mmu_restrict_huge(p.mmu, gfn) == 0 &&
		    tdp_mmu_unrestrict_huge(p.mmu, gfn) &&
		    gfn < (SLOT0_SIZE >> PAGE_SHIFT) && w->errors++ < 3)
			diag("restriction of gfn %#llx did not undo",
			     (unsigned long long)gfn);
		break;
	default:
		tdp_mmu_unmap_range(p.mmu, gfn, gfn + n);
	}
}

static void do_slot(struct worker *w)
{
	phys_addr_t b1 = platform_virt_to_phys(p.mem + SLOT0_SIZE);
	int r;

	w->slot_ops++;
	switch (host_rand() % 4) {
	case 0:
		r = memslot_move(p.mmu, 1, SLOT1_A);
		if (r == -ENOENT)
			r = 0;
		break;
	case 1:
		r = memslot_move(p.mmu, 1, SLOT1_B);
		if (r == -ENOENT)
			r = 0;
		break;
	case 2:
		r = memslot_delete(p.mmu, 1);
		if (r == -ENOENT)
			r = memslot_create(
				p.mmu, 1, (host_rand() & 1) ? SLOT1_A : SLOT1_B,
				SLOT1_SIZE, b1, 0);
		break;
	default:
		r = memslot_set_flags(p.mmu, 0,
				      (host_rand() & 1) ? MEMSLOT_NO_HUGE : 0);
	}
	if (r)
		w->slot_errors++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	mmu_test_init();
	host_srand(seed * 7919 + (uint64_t)w->idx + 1);
	for (;;) {
		pthread_barrier_wait(&step_start);
		if (done)
			break;
		for (i = 0; i < (w->idx < NFAULTERS ? FAULT_OPS : 0); i++)
			do_fault(w);
		for (i = 0; i < (w->idx == NFAULTERS ? ZAP_OPS : 0); i++)
			do_zap(w);
		for (i = 0; i < (w->idx > NFAULTERS ? SLOT_OPS : 0); i++)
			do_slot(w);
		pthread_barrier_wait(&step_end);
	}
	host_thread_unregister();
	return NULL;
}

int main(int argc, char **argv)
{
	struct guard_fault_inject fi = {.error = GUARD_E_BUSY};
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	int64_t pages0, objs0;
	struct tdp_mmu_stats ms;
	struct guard_stats gs;
	unsigned long s, bad_steps = 0, errors = 0, ok_faults = 0, slot_err = 0;
	uint64_t leaves, max_leaves = 0;
	uint32_t busy = 50000;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			steps = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--busy") && i + 1 < argc)
			busy = (uint32_t)strtoul(argv[++i], NULL, 0);
	}
	mmu_test_init();
	diag("seed %llu, %lu steps, busy %u per million",
	     (unsigned long long)seed, steps, busy);
	pages0 = host_pages_live();
	objs0 = host_objs_live();

	pvm_create(&p, MEM, 2, true);
	BUG_ON(memslot_create(p.mmu, 0, 0, SLOT0_SIZE,
			      platform_virt_to_phys(p.mem), 0));
	BUG_ON(memslot_create(p.mmu, 1, SLOT1_A, SLOT1_SIZE,
			      platform_virt_to_phys(p.mem + SLOT0_SIZE), 0));
	root = tdp_mmu_get_root(p.mmu, tdp_mmu_vcpu_role(p.mmu));
	BUG_ON(!root);
	fi.per_million = busy;
	fi.seed = seed;
	BUG_ON(guard_inject_failures(p.guard, &fi));

	pthread_barrier_init(&step_start, NULL, NTHREADS + 1);
	pthread_barrier_init(&step_end, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (s = 0; s < steps; s++) {
		pthread_barrier_wait(&step_start);
		pthread_barrier_wait(&step_end);
		/* Quiet: the equivalence check, with the write lock held. */
		if (mirror_check_locked(p.mmu, root, &leaves)) {
			if (bad_steps++ < 3)
				diag("mismatch after step %lu", s);
		}
		if (leaves > max_leaves)
			max_leaves = leaves;
		if (tdp_mmu_is_bugged(p.mmu))
			break;
	}
	done = true;
	pthread_barrier_wait(&step_start);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
		ok_faults += w[i].ok;
		slot_err += w[i].slot_errors;
	}
	is_int(bad_steps, 0, "mirror == guard EPT after every step (%lu)", s);
	ok(!tdp_mmu_is_bugged(p.mmu), "busy answers never bug the VM");
	is_int(errors, 0, "no fault or restriction failed");
	is_int(slot_err, 0, "every memslot change succeeded");
	ok(ok_faults > 0 && max_leaves > 0,
	   "faults mapped pages (%lu, up to %llu leaves)", ok_faults,
	   (unsigned long long)max_leaves);

	tdp_mmu_get_stats(p.mmu, &ms);
	guard_get_stats(p.guard, &gs);
	diag("guard: %llu link, %llu set, %llu remove, %llu free; injected "
	     "%llu/%llu/%llu/%llu; rollbacks %llu; MMU busy retries %llu",
	     (unsigned long long)gs.calls[GUARD_CALL_LINK_TABLE],
	     (unsigned long long)gs.calls[GUARD_CALL_SET_LEAF],
	     (unsigned long long)gs.calls[GUARD_CALL_REMOVE_LEAF],
	     (unsigned long long)gs.calls[GUARD_CALL_FREE_TABLE],
	     (unsigned long long)gs.injected[GUARD_CALL_LINK_TABLE],
	     (unsigned long long)gs.injected[GUARD_CALL_SET_LEAF],
	     (unsigned long long)gs.injected[GUARD_CALL_REMOVE_LEAF],
	     (unsigned long long)gs.injected[GUARD_CALL_FREE_TABLE],
	     (unsigned long long)gs.rollbacks,
	     (unsigned long long)ms.mirror_busy_retries);
	if (busy) {
		ok(gs.rollbacks > 0 && gs.rollbacks == ms.mirror_rollbacks,
		   "rollbacks happened and both sides count them alike");
		ok(ms.mirror_busy_retries > 0, "busy removals were retried");
	}

	/* Teardown: every removal is forwarded, even with busy answers. */
	tdp_mmu_put_root(p.mmu, root);
	tdp_mmu_destroy(p.mmu);
	guard_get_stats(p.guard, &gs);
	is_int(gs.leaves_live, 0, "MMU teardown emptied the guard's EPT");
	is_int(gs.frames_mapped, 0, "no frame mapped");
	is_int(gs.tables_live, 1, "only the guard's root is left");
	is_int(gs.tables_pending, 0, "no table left pending");
	BUG_ON(guard_inject_failures(p.guard, NULL));
	is_int(guard_release_memory(p.guard, pvm_pfn(&p), MEM >> PAGE_SHIFT),
	       GUARD_OK, "memory released (flushed, unmapped), scrubbed");
	ok(p.mem[0] == 0 && p.mem[MEM - 1] == 0, "released memory is zero");
	BUG_ON(guard_add_memory(p.guard, pvm_pfn(&p), MEM >> PAGE_SHIFT,
				GUARD_MEM_ZEROED));
	p.mmu = tdp_mmu_create_protected(&p.owner, p.guard);
	pvm_destroy(&p);
	is_int(host_pages_live(), pages0, "every page back in the allocator");
	is_int(host_objs_live(), objs0, "every object back in the allocator");
	pthread_barrier_destroy(&step_start);
	pthread_barrier_destroy(&step_end);
	return tap_done();
}
