// SPDX-License-Identifier: MIT
/*
 * bench-mmu: figures for the TDP MMU, modelled on what KVM's selftests
 * dirty_log_perf_test, demand_paging_test and memslot_perf_test measure:
 * N vCPU threads over M GiB of (fake) guest memory.
 *
 *   floor        one thread stores the same 4 KiB leaves into tables
 *                allocated and linked beforehand: a walk from the root and
 *                a plain store per page, the least work a fault can do
 *   populate     faults that map everything at 4 KiB (1, 2, 4 and N vCPUs,
 *                best of R rounds, warm allocator; 1 vCPU cold), 2 MiB and
 *                1 GiB; and the same 4 KiB mapping made by tdp_mmu_prefault
 *                (one vCPU, no faults)
 *   global lock  the 4 KiB populate with faults taking mmu_lock for write
 *   dirty        enable logging (eager split), K rounds of write-all +
 *                get + clear, disable and recover huge pages
 *   aging        age_gfn over everything, twice
 *   memslot      delete of a mapped slot under each flush policy
 *   unmap        zap of every 4 KiB leaf of a range
 *   zapall       fast zap: front half and back half timed apart, with
 *                everything mapped and with one page mapped
 *
 * Usage: bench_mmu [--vcpus N] [--gib M] [--rounds K] [--reps R] [--quick]
 *                  [--json]
 * --json prints one JSON object, keys "<phase>.<metric>".  Built from the
 * test objects (-O2, lock debugging on): compare runs of the same build.
 */
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/host/mmu/util.h"

#define G	  (GiB >> PAGE_SHIFT)
#define MAX_VCPUS 16
#define MAX_RES	  128

static int owner;
static int nvcpus = 2, rounds = 3, reps = 5;
static long online_cpus;
static uint64_t gib = 1;
static uint64_t npages; /* 4 KiB pages in the test region */
static bool json;

/* ---- results ---- */

static struct {
	char key[64];
	double val;
} res[MAX_RES];
static int nres;

static void put(const char *phase, const char *metric, double v)
{
	BUG_ON(nres == MAX_RES);
	snprintf(res[nres].key, sizeof(res[nres].key), "%s.%s", phase, metric);
	res[nres++].val = v;
}

static double get(const char *key)
{
	int i;

	for (i = 0; i < nres; i++)
		if (!strcmp(res[i].key, key))
			return res[i].val;
	return 0;
}

static void print_results(void)
{
	int i;

	if (json) {
		printf("{");
		for (i = 0; i < nres; i++)
			printf("%s\"%s\": %.6g", i ? ", " : "", res[i].key,
			       res[i].val);
		printf("}\n");
		return;
	}
	printf("%-36s %16s\n", "phase.metric", "value");
	for (i = 0; i < nres; i++)
		printf("%-36s %16.6g\n", res[i].key, res[i].val);
	if (online_cpus < 4)
		printf("note: %ld CPUs online, so populate_4k_4v "
		       "oversubscribes them\n",
		       online_cpus);
}

static double now_s(void)
{
	return platform_time_ns() / 1e9;
}

static bool never(void)
{
	return false;
}

static struct tdp_mmu_stats stats(struct tdp_mmu *mmu)
{
	struct tdp_mmu_stats s;

	tdp_mmu_get_stats(mmu, &s);
	return s;
}

static uint64_t pt_pages(const struct tdp_mmu_stats *s)
{
	return s->pt_pages[1] + s->pt_pages[2] + s->pt_pages[3] +
	       s->pt_pages[4];
}

/* ---- the floor ---- */

static void *page(void)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	BUG_ON(!p);
	memset(p, 0, PAGE_SIZE);
	return p;
}

/* The 4 KiB tables for @npages from gfn 0, linked under a root. */
static spte_t *floor_build(void)
{
	spte_t *root = page(), *t3 = NULL, *t2 = NULL;
	uint64_t g;

	for (g = 0; g < npages; g += 512) {
		if (g % (512 * G) == 0) {
			t3 = page();
			root[tdp_spte_index(g, 4)] =
				spte_make_table((uintptr_t)t3);
		}
		if (g % G == 0) {
			t2 = page();
			t3[tdp_spte_index(g, 3)] =
				spte_make_table((uintptr_t)t2);
		}
		t2[tdp_spte_index(g, 2)] = spte_make_table((uintptr_t)page());
	}
	return root;
}

static void floor_free(spte_t *t, int level)
{
	unsigned int i;

	for (i = 0; level > 1 && i < SPTE_PER_PAGE; i++)
		if (spte_is_table(t[i], level))
			floor_free((spte_t *)(uintptr_t)spte_phys(t[i]),
				   level - 1);
	free(t);
}

static void bench_floor(void)
{
	spte_t *root = floor_build(), *t;
	uint64_t base = (FAKE_HOST_BASE >> PAGE_SHIFT), g;
	double t0, dt;
	int l;

	t0 = now_s();
	for (g = 0; g < npages; g++) {
		t = root;
		for (l = 4; l > 1; l--)
			t = (spte_t *)(uintptr_t)spte_phys(
				t[tdp_spte_index(g, l)]);
		t[tdp_spte_index(g, 1)] = spte_make_leaf(base + g, 1, SPTE_RWX);
	}
	dt = now_s() - t0;
	__asm__ volatile("" ::"r"(root) : "memory");
	put("floor_4k", "ms", dt * 1e3);
	put("floor_4k", "ns_per_page", dt * 1e9 / npages);
	floor_free(root, 4);
}

/* ---- populate ---- */

struct farg {
	struct tdp_mmu *mmu;
	struct tdp_root *root;
	uint64_t first, count, step, access;
	pthread_barrier_t *go;
	double start, end; /* when this vCPU started and finished */
	double cpu;	   /* CPU time it used meanwhile (s) */
};

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *fault_worker(void *p)
{
	struct farg *a = p;
	uint64_t i;
	int ret;

	host_thread_register();
	pthread_barrier_wait(a->go);
	a->start = now_s();
	a->cpu = thread_cpu_s();
	for (i = 0; i < a->count; i++) {
		do
			ret = map(a->mmu, a->root, a->first + i * a->step,
				  a->access);
		while (ret == TDP_MAP_RETRY);
		if (ret != TDP_MAP_OK)
			panic("fault at gfn %#llx: %d",
			      (unsigned long long)(a->first + i * a->step),
			      ret);
	}
	a->end = now_s();
	a->cpu = thread_cpu_s() - a->cpu;
	host_thread_unregister();
	return NULL;
}

/* CPU time the vCPU threads of the last run_faults() used, together. */
static double last_run_cpu_s;

/*
 * @threads vCPUs fault in [start, start + n * step) every @step pages.
 * Timed from the moment they are all released until the last one is
 * done, so thread creation is not counted.
 */
static double run_faults(struct tdp_mmu *mmu, struct tdp_root *root,
			 uint64_t start, uint64_t n, uint64_t step,
			 uint64_t access, int threads)
{
	struct farg a[MAX_VCPUS];
	pthread_t t[MAX_VCPUS];
	pthread_barrier_t go;
	uint64_t per = n / threads;
	double t0 = 1e300, end = 0;
	int i;

	pthread_barrier_init(&go, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		a[i] = (struct farg){mmu,
				     root,
				     start + i * per * step,
				     i == threads - 1 ? n - i * per : per,
				     step,
				     access,
				     &go,
				     0,
				     0,
				     0};
		pthread_create(&t[i], NULL, fault_worker, &a[i]);
	}
	pthread_barrier_wait(&go);
	last_run_cpu_s = 0;
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		last_run_cpu_s += a[i].cpu;
		t0 = MIN(t0, a[i].start);
		end = MAX(end, a[i].end);
	}
	pthread_barrier_destroy(&go);
	return end - t0;
}

struct vm {
	struct tdp_mmu *mmu;
	struct tdp_root *root;
};

static struct vm vm_new(uint64_t size, uint64_t host_off, uint32_t flags)
{
	struct vm v;

	v.mmu = tdp_mmu_create(&owner);
	BUG_ON(!v.mmu);
	BUG_ON(memslot_create(v.mmu, 0, 0, size, FAKE_HOST_BASE + host_off,
			      flags));
	v.root = tdp_mmu_get_root(v.mmu, TDP_ROLE_DEFAULT);
	BUG_ON(!v.root);
	return v;
}

static void vm_free(struct vm *v)
{
	tdp_mmu_put_root(v->mmu, v->root);
	tdp_mmu_destroy(v->mmu);
}

/* Drop every table (and give their pages back) but keep the VM. */
static void vm_reset(struct vm *v)
{
	tdp_mmu_put_root(v->mmu, v->root);
	tdp_mmu_zap_all_fast(v->mmu);
	ebr_barrier();
	v->root = tdp_mmu_get_root(v->mmu, TDP_ROLE_DEFAULT);
}

static void put_populate(const char *phase, int threads, uint64_t n,
			 uint64_t step, double dt,
			 const struct tdp_mmu_stats *s0,
			 const struct tdp_mmu_stats *s1)
{
	uint64_t mapped = n * step;

	put(phase, "vcpus", threads);
	put(phase, "ms", dt * 1e3);
	put(phase, "ns_per_page", dt * 1e9 / n);
	put(phase, "pages_per_s", n / dt);
	put(phase, "faults", s1->faults - s0->faults);
	put(phase, "retries", s1->fault_retries - s0->fault_retries);
	put(phase, "pt_pages", pt_pages(s1) - pt_pages(s0));
	put(phase, "pt_bytes_per_gib",
	    (double)(s1->bytes - s0->bytes) /
		    ((double)mapped * PAGE_SIZE / GiB));
}

static void populate(const char *phase, struct vm *v, uint64_t n, uint64_t step,
		     int threads)
{
	struct tdp_mmu_stats s0 = stats(v->mmu), s1;
	double dt =
		run_faults(v->mmu, v->root, 0, n, step, TDP_ACC_WRITE, threads);

	s1 = stats(v->mmu);
	put_populate(phase, threads, n, step, dt, &s0, &s1);
}

/*
 * The 4 KiB populate with 1, 2 and 4 vCPUs (and --vcpus N), @reps rounds
 * that take each vCPU count in turn, so that a change in the machine's
 * load hits every count alike; each count keeps its best round.  The
 * machine is shared: the best round is the one the scheduler disturbed
 * least.  Counts above the online CPUs oversubscribe them (and say so).
 */
static void bench_scale(struct vm *v)
{
	int counts[] = {1, 2, 4, nvcpus},
	    ncounts = nvcpus > 2 && nvcpus != 4 ? 4 : 3;
	struct tdp_mmu_stats s0, s1, best_s0[4], best_s1[4];
	double best[4], best_cpu[4], dt;
	char phase[32];
	int r, i;

	for (i = 0; i < ncounts; i++)
		best[i] = 1e300;
	for (r = 0; r < reps; r++) {
		for (i = 0; i < ncounts; i++) {
			vm_reset(v);
			s0 = stats(v->mmu);
			dt = run_faults(v->mmu, v->root, 0, npages, 1,
					TDP_ACC_WRITE, counts[i]);
			s1 = stats(v->mmu);
			if (dt < best[i]) {
				best[i] = dt;
				best_cpu[i] = last_run_cpu_s;
				best_s0[i] = s0;
				best_s1[i] = s1;
			}
		}
	}
	for (i = 0; i < ncounts; i++) {
		snprintf(phase, sizeof(phase), "populate_4k_%dv", counts[i]);
		put_populate(phase, counts[i], npages, 1, best[i], &best_s0[i],
			     &best_s1[i]);
		put(phase, "cpu_ns_per_page", best_cpu[i] * 1e9 / npages);
		put(phase, "oversubscribed", counts[i] > online_cpus);
		if (counts[i] == 1)
			put_populate("populate_4k", 1, npages, 1, best[i],
				     &best_s0[i], &best_s1[i]);
		if (counts[i] == nvcpus)
			put_populate("populate_4k_nvcpu", nvcpus, npages, 1,
				     best[i], &best_s0[i], &best_s1[i]);
	}
	put("populate_4k", "rounds", reps);
}

/*
 * One vCPU maps every page at 4 KiB through tdp_mmu_prefault, in calls of
 * 2 MiB as a VMM populating guest RAM would make them (so yielding stays
 * possible between calls as well as inside them).
 */
static void populate_prefault(const char *phase, struct vm *v, uint64_t n)
{
	struct tdp_mmu_stats s0 = stats(v->mmu), s1;
	uint64_t g, chunk = 512;
	double t0, dt;
	long r;

	t0 = now_s();
	for (g = 0; g < n; g += (uint64_t)r) {
		r = tdp_mmu_prefault(v->mmu, v->root, g, MIN(chunk, n - g));
		if (r <= 0)
			panic("prefault at gfn %#llx: %ld",
			      (unsigned long long)g, r);
	}
	dt = now_s() - t0;
	s1 = stats(v->mmu);
	put(phase, "vcpus", 1);
	put(phase, "ms", dt * 1e3);
	put(phase, "ns_per_page", dt * 1e9 / n);
	put(phase, "faults", s1.faults - s0.faults);
	put(phase, "leaves", s1.leaves[1] - s0.leaves[1]);
	put(phase, "pt_pages", pt_pages(&s1) - pt_pages(&s0));
	put(phase, "flushes", s1.flushes - s0.flushes);
	put(phase, "pt_bytes_per_gib",
	    (double)(s1.bytes - s0.bytes) / ((double)n * PAGE_SIZE / GiB));
}

static void bench_populate(void)
{
	struct vm v;

	/* 4 KiB: host frames off by 4 KiB, so nothing can be huge. */
	v = vm_new(npages << PAGE_SHIFT, 4 * KiB, 0);
	populate("populate_4k_cold", &v, npages, 1, 1);
	bench_scale(&v);
	vm_reset(&v);
	populate_prefault("populate_4k_prefault", &v, npages);
	vm_reset(&v);
	tdp_mmu_set_fault_exclusive(v.mmu, true);
	populate("globallock_4k", &v, npages, 1, nvcpus);
	tdp_mmu_set_fault_exclusive(v.mmu, false);
	vm_free(&v);

	v = vm_new(npages << PAGE_SHIFT, 0, 0);
	tdp_mmu_set_max_huge_level(v.mmu, 2);
	populate("populate_2m", &v, npages / 512, 512, nvcpus);
	vm_free(&v);
	/* 1 GiB: 64 times the region, so there is more than one fault. */
	v = vm_new(64 * gib * GiB, 0, 0);
	populate("populate_1g", &v, 64 * gib, G, nvcpus);
	vm_free(&v);
}

/* ---- dirty logging ---- */

static void bench_dirty(void)
{
	struct vm v = vm_new(npages << PAGE_SHIFT, 0, 0);
	uint64_t nwords = (npages + 63) / 64, *bm = calloc(nwords, 8);
	struct tdp_mmu_stats s0, s1;
	double t0, dt, tw = 0, tg = 0, tc = 0;
	uint64_t flushes = 0, dirty = 0, i, n, step = npages >= G ? G : 512;
	long cleared;
	int r;

	BUG_ON(!bm);
	/* Mapped by the largest leaves, written: everything writable. */
	run_faults(v.mmu, v.root, 0, npages / step, step, TDP_ACC_WRITE, 1);
	s0 = stats(v.mmu);
	t0 = now_s();
	BUG_ON(memslot_set_flags(v.mmu, 0, MEMSLOT_DIRTY_LOG));
	dt = now_s() - t0;
	s1 = stats(v.mmu);
	put("dirty_enable", "ms", dt * 1e3);
	put("dirty_enable", "splits", s1.splits - s0.splits);
	put("dirty_enable", "split_zaps", s1.split_zaps - s0.split_zaps);
	put("dirty_enable", "flushes", s1.flushes - s0.flushes);
	put("dirty_enable", "pt_pages", pt_pages(&s1) - pt_pages(&s0));

	for (r = 0; r < rounds; r++) {
		s0 = stats(v.mmu);
		tw += run_faults(v.mmu, v.root, 0, npages, 1, TDP_ACC_WRITE,
				 nvcpus);
		t0 = now_s();
		BUG_ON(tdp_mmu_get_dirty_log(v.mmu, 0, bm, nwords));
		tg += now_s() - t0;
		for (i = n = 0; i < nwords; i++)
			n += __builtin_popcountll(bm[i]);
		t0 = now_s();
		cleared = tdp_mmu_clear_dirty_log(v.mmu, 0, 0, npages, bm);
		tc += now_s() - t0;
		BUG_ON(cleared != (long)n || n != npages);
		s1 = stats(v.mmu);
		flushes += s1.flushes - s0.flushes;
		dirty += n;
	}
	put("dirty_round", "rounds", rounds);
	put("dirty_round", "ms", (tw + tg + tc) * 1e3 / rounds);
	put("dirty_round", "write_ns_per_page", tw * 1e9 / rounds / npages);
	put("dirty_round", "get_us", tg * 1e6 / rounds);
	put("dirty_round", "clear_ms", tc * 1e3 / rounds);
	put("dirty_round", "clear_ns_per_page", tc * 1e9 / rounds / npages);
	put("dirty_round", "dirty_pages", (double)dirty / rounds);
	put("dirty_round", "flushes", (double)flushes / rounds);

	/* A round where nothing was written: no flush at all. */
	s0 = stats(v.mmu);
	BUG_ON(tdp_mmu_get_dirty_log(v.mmu, 0, bm, nwords));
	BUG_ON(tdp_mmu_clear_dirty_log(v.mmu, 0, 0, npages, bm) != 0);
	s1 = stats(v.mmu);
	put("dirty_idle_round", "flushes", s1.flushes - s0.flushes);

	s0 = stats(v.mmu);
	t0 = now_s();
	BUG_ON(memslot_set_flags(v.mmu, 0, 0));
	dt = now_s() - t0;
	s1 = stats(v.mmu);
	put("dirty_disable", "ms", dt * 1e3);
	put("dirty_disable", "tables_recovered", s1.recovered - s0.recovered);
	put("dirty_disable", "flushes", s1.flushes - s0.flushes);
	/* One fault per huge block: each must map a huge leaf again. */
	s0 = stats(v.mmu);
	run_faults(v.mmu, v.root, 0, npages / step, step, TDP_ACC_WRITE, 1);
	s1 = stats(v.mmu);
	put("dirty_disable", "huge_leaves_after_refault",
	    s1.leaves[2] + s1.leaves[3]);
	put("dirty_disable", "refaults", (double)(s1.faults - s0.faults));
	free(bm);
	vm_free(&v);
}

/* ---- aging ---- */

static void bench_age(void)
{
	struct vm v = vm_new(npages << PAGE_SHIFT, 4 * KiB, 0);
	struct tdp_mmu_stats s0, s1;
	double t0, dt;

	run_faults(v.mmu, v.root, 0, npages, 1, TDP_ACC_READ, 1);
	s0 = stats(v.mmu);
	t0 = now_s();
	tdp_mmu_age_gfn(v.mmu, 0, npages);
	dt = now_s() - t0;
	s1 = stats(v.mmu);
	put("age", "ns_per_page", dt * 1e9 / npages);
	put("age", "flushes", s1.flushes - s0.flushes);
	vm_free(&v);
}

/* ---- memslot delete, unmap, fast zap ---- */

static void bench_delete(const char *phase, enum tdp_slot_flush_policy pol)
{
	struct vm v = vm_new(npages << PAGE_SHIFT, 4 * KiB, 0);
	struct tdp_mmu_stats s0, s1;
	double t0, dt;

	/* Other slots that a zap-all also takes down. */
	BUG_ON(memslot_create(v.mmu, 1, 64 * GiB, 64 * MiB, FAKE_HOST_BASE, 0));
	run_faults(v.mmu, v.root, 0, npages, 1, TDP_ACC_READ, 1);
	tdp_mmu_set_slot_flush_policy(v.mmu, pol);
	s0 = stats(v.mmu);
	t0 = now_s();
	BUG_ON(memslot_delete(v.mmu, 0));
	dt = now_s() - t0;
	s1 = stats(v.mmu);
	put(phase, "ms", dt * 1e3);
	put(phase, "flushes", s1.flushes - s0.flushes);
	vm_free(&v);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define ZAP_REPS 9

/*
 * Push the MMU's own data out of the caches, so that the front half is
 * timed cold whatever was mapped before it (populating 1 GiB evicts
 * everything; one page evicts nothing).
 */
static void evict_caches(void)
{
	static char *junk;
	size_t i, n = 32 << 20;

	if (!junk)
		junk = malloc(n);
	BUG_ON(!junk);
	for (i = 0; i < n; i += 64)
		junk[i]++;
}

/*
 * Fast zap of a VM with @n pages mapped at 4 KiB, ZAP_REPS times: the
 * medians of the front half (us) and the back half (ms).
 */
static void zap_all_timed(struct vm *v, uint64_t n, double *front, double *back)
{
	double f[ZAP_REPS], b[ZAP_REPS], t0;
	int r;

	for (r = 0; r < ZAP_REPS; r++) {
		run_faults(v->mmu, v->root, 0, n, 1, TDP_ACC_READ, 1);
		evict_caches();
		t0 = now_s();
		rwlock_write_lock(&v->mmu->mmu_lock);
		tdp_mmu_zap_all_fast_front(v->mmu);
		rwlock_write_unlock(&v->mmu->mmu_lock);
		f[r] = (now_s() - t0) * 1e6;
		t0 = now_s();
		tdp_mmu_zap_all_fast_back(v->mmu);
		b[r] = (now_s() - t0) * 1e3;
		tdp_mmu_put_root(v->mmu, v->root);
		v->root = tdp_mmu_get_root(v->mmu, TDP_ROLE_DEFAULT);
	}
	qsort(f, ZAP_REPS, sizeof(double), cmp_double);
	qsort(b, ZAP_REPS, sizeof(double), cmp_double);
	*front = f[ZAP_REPS / 2];
	*back = b[ZAP_REPS / 2];
}

static void bench_zap(void)
{
	struct vm v = vm_new(npages << PAGE_SHIFT, 4 * KiB, 0);
	double t0, dt, front, back;

	run_faults(v.mmu, v.root, 0, npages, 1, TDP_ACC_READ, 1);
	t0 = now_s();
	tdp_mmu_unmap_range(v.mmu, 0, npages);
	dt = now_s() - t0;
	put("unmap", "ns_per_leaf", dt * 1e9 / npages);

	put("zapall", "mapped_pages", npages);
	zap_all_timed(&v, npages, &front, &back);
	put("zapall_front", "us", front);
	put("zapall_back", "ms", back);
	/* One page mapped: the front half must take the same time. */
	zap_all_timed(&v, 1, &front, &back);
	put("zapall_front_1page", "us", front);
	put("zapall_back_1page", "ms", back);
	vm_free(&v);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--vcpus N] [--gib M] [--rounds K] [--reps R] "
		"[--quick] [--json]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			gib = 0;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < argc)
			nvcpus = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--gib") && i + 1 < argc)
			gib = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else
			usage(argv[0]);
	}
	if (nvcpus < 1 || nvcpus > MAX_VCPUS || rounds < 1 || reps < 1 ||
	    gib > 64)
		usage(argv[0]);
	online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* --quick: 64 MiB, enough to run every phase in well under 1 s. */
	npages = gib ? gib * G : 16384;
	if (!gib)
		gib = 1; /* the 1 GiB phases still map whole GiBs */
	/*
	 * Keep freed memory in the process: otherwise glibc hands the table
	 * pages of one phase back to the kernel and the next phase pays a
	 * host page fault per table, and "warm" would not be warm.  The
	 * floor allocates its tables before timing, so this does not touch
	 * it; the _cold phase still runs on never-used memory.
	 */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	host_thread_register();
	ebr_init();
	host_should_yield_hook = never;

	bench_floor();
	bench_populate();
	bench_dirty();
	bench_age();
	bench_delete("memslot_delete_targeted", TDP_SLOT_FLUSH_TARGETED);
	bench_delete("memslot_delete_zapall", TDP_SLOT_FLUSH_ALL);
	bench_zap();

	put("summary", "populate_4k_vs_floor",
	    get("populate_4k.ns_per_page") / get("floor_4k.ns_per_page"));
	put("summary", "populate_4k_prefault_vs_floor",
	    get("populate_4k_prefault.ns_per_page") /
		    get("floor_4k.ns_per_page"));
	put("summary", "nvcpu_speedup",
	    get("populate_4k.ns_per_page") /
		    get("populate_4k_nvcpu.ns_per_page"));
	put("summary", "speedup_2v",
	    get("populate_4k_2v.pages_per_s") /
		    get("populate_4k_1v.pages_per_s"));
	put("summary", "speedup_4v",
	    get("populate_4k_4v.pages_per_s") /
		    get("populate_4k_1v.pages_per_s"));
	put("summary", "online_cpus", online_cpus);
	put("summary", "globallock_vs_readlock",
	    get("globallock_4k.ns_per_page") /
		    get("populate_4k_nvcpu.ns_per_page"));
	print_results();
	return 0;
}
