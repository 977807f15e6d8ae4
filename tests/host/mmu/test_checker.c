// SPDX-License-Identifier: MIT
/*
 * The software-TLB checker: randomized concurrent workloads against the
 * TDP MMU, with simulated vCPUs (swtlb.c) that cache what they use.
 *
 * Each round builds a VM, runs vCPU threads (guest accesses), an
 * operations thread (zaps, fast zaps, huge-page restriction and recovery,
 * memslot create/delete/move/flags under both flush policies) and a
 * checker thread, then tears the VM down.  It checks:
 *   1. after each MMU operation (and continuously, whenever no change is in
 *      flight) no vCPU caches a translation that the tables or the memslots
 *      do not back;
 *   2. no page-table page is freed while a vCPU may still hold it;
 *   3. flush counts per operation stay within their bounds;
 *   4. dirty logging loses no write: a migration thread logs one slot,
 *      copies every page it harvests after each get+clear, and at the end
 *      of the round its copy must equal guest memory; after each clear no
 *      vCPU may still write a page whose bit is clear;
 * plus: teardown returns every page and object.
 *
 *   test_mmu_checker [--seconds S] [--seed N]
 * A failure prints the seed; --seed N replays from it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "tests/host/mmu/swtlb.h"
#include "tests/host/tap.h"

#define NPLACES	  12
#define NSLOT_IDS 8
#define G	  (GiB >> PAGE_SHIFT)

/* The migrated slot: place 0, never touched by the slot operations. */
#define LOG_ID	  100
#define LOG_PAGES 1024 /* 4 MiB, 2 MiB-aligned: huge leaves to split */

/* Guest memory of the logged slot and the migration's copy of it. */
struct migration {
	uint64_t mem[LOG_PAGES];  /* written by vCPUs in guest mode */
	uint64_t copy[LOG_PAGES]; /* what the destination received */
	uint64_t next_value;
	bool logging; /* since the last full copy */
	uint64_t cycles, harvested, enables;
};

struct round {
	struct swtlb_vm vm;
	struct tdp_mmu *mmu;
	uint64_t seed;
	int stop;
	bool nomem; /* allocations fail at random this round */
	uint64_t ops, slot_ops, fast_zaps;
	uint64_t prefaults, prefaulted; /* calls, pages reported mapped */
	int restricted[64];
	uint64_t restricted_gfn[64];
	struct migration mig;
};

static uint64_t place_gfn(int place)
{
	return (uint64_t)place * G;
}

#ifdef __SANITIZE_THREAD__
static int nvcpus = 2; /* TSan is slow: keep the operations thread fed */
#else
static int nvcpus = 3;
#endif

/* ---- property 3 helpers ---- */

struct fl_mark {
	uint64_t flushes, yields;
};

static void mark(struct fl_mark *m)
{
	m->flushes = host_thread_flushes;
	m->yields = host_thread_yields;
}

static void bound(const struct fl_mark *m, uint64_t extra, const char *op,
		  bool zero)
{
	uint64_t f = host_thread_flushes - m->flushes;
	uint64_t y = host_thread_yields - m->yields;

	if (zero && f)
		swtlb_fail("%s: %llu flushes, want none", op,
			   (unsigned long long)f);
	else if (f > extra + y)
		swtlb_fail("%s: %llu flushes > %llu + %llu yields", op,
			   (unsigned long long)f, (unsigned long long)extra,
			   (unsigned long long)y);
}

static uint64_t split_zaps(struct tdp_mmu *mmu)
{
	return __atomic_load_n(&mmu->stats.split_zaps, __ATOMIC_RELAXED);
}

/* ---- memslot operations ---- */

static const uint64_t sizes[] = {16 * KiB, 2 * MiB, 4 * MiB + 8 * KiB, 8 * MiB,
				 1 * GiB};
static const uint64_t host_offs[] = {0, 2 * MiB, 4 * KiB};

static bool place_free(struct tdp_mmu *mmu, int place, uint64_t npages)
{
	const struct memslot *s;
	bool free = true;
	uint64_t g;

	ebr_read_lock();
	for (g = place_gfn(place); g < place_gfn(place) + npages && free;
	     g += 512)
		if ((s = memslot_find(memslot_set_current(mmu), g)))
			free = false;
	ebr_read_unlock();
	return free;
}

static void op_slot(struct round *r)
{
	struct tdp_mmu *mmu = r->mmu;
	uint32_t id = host_rand() % NSLOT_IDS;
	int place = 1 + host_rand() % NPLACES, pend, ret = 0;
	bool zap_all = READ_ONCE(mmu->slot_flush_policy) == TDP_SLOT_FLUSH_ALL;
	struct fl_mark m;
	struct memslot old;
	uint64_t size, split_zaps0;

	mark(&m);
	if (!swtlb_slot_copy(mmu, id, &old)) {
		size = sizes[host_rand() %
			     (ARRAY_SIZE(sizes) - (host_rand() % 4 != 0))];
		if (!place_free(mmu, place, size >> PAGE_SHIFT))
			return;
		ret = memslot_create(
			mmu, id, place_gfn(place) << PAGE_SHIFT, size,
			FAKE_HOST_BASE + id * 8 * GiB +
				host_offs[host_rand() % 3],
			host_rand() % 4 == 0 ? MEMSLOT_READONLY : 0);
		if (ret && ret != -EEXIST && !(ret == -ENOMEM && r->nomem))
			swtlb_fail("memslot_create: %d", ret);
		bound(&m, 0, "memslot_create", true);
		return;
	}
	pend = swtlb_pending_add(&r->vm, &old);
	switch (host_rand() % 3) {
	case 0:
		ret = memslot_delete(mmu, id);
		bound(&m, 1, "memslot_delete", zap_all);
		break;
	case 1:
		if (!place_free(mmu, place, old.npages))
			break;
		ret = memslot_move(mmu, id, place_gfn(place) << PAGE_SHIFT);
		bound(&m, 1, "memslot_move", zap_all);
		break;
	default:
		split_zaps0 = split_zaps(mmu);
		ret = memslot_set_flags(
			mmu, id,
			(host_rand() & 1 ? MEMSLOT_READONLY : 0) |
				(host_rand() & 1 ? MEMSLOT_NO_HUGE : 0) |
				(host_rand() & 1 ? MEMSLOT_DIRTY_LOG : 0));
		/* Protect or zap, then recover; plus split fallbacks. */
		bound(&m, 2 + split_zaps(mmu) - split_zaps0,
		      "memslot_set_flags", false);
		break;
	}
	if (ret && ret != -EEXIST && !(ret == -ENOMEM && r->nomem))
		swtlb_fail("memslot op on %u: %d", id, ret);
	swtlb_pending_done(&r->vm, pend);
	r->slot_ops++;
}

/* Mostly inside a current slot (biased to its start), sometimes anywhere. */
static uint64_t slot_gfn(struct tdp_mmu *mmu)
{
	struct memslot_set *set;
	const struct memslot *s;
	uint64_t g = 0;

	ebr_read_lock();
	set = memslot_set_current(mmu);
	if (set->count) {
		s = &set->slots[host_rand() % set->count];
		g = s->base_gfn + (host_rand() % 4
					   ? host_rand() % MIN(s->npages, 2048)
					   : host_rand() % s->npages);
	}
	ebr_read_unlock();
	return g;
}

static uint64_t random_gfn(void)
{
	int place = host_rand() % (NPLACES + 2); /* 0: the logged slot */
	uint64_t off = host_rand() % 8 ? host_rand() % 2048 : host_rand() % G;

	return place_gfn(place) + off;
}

static uint64_t prefault_zaps(struct tdp_mmu *mmu)
{
	return __atomic_load_n(&mmu->stats.prefault_zaps, __ATOMIC_RELAXED);
}

/*
 * Prefault a range, half the time in the migrated slot (dirty logging
 * on: writable only where the bit is set, which property 4 checks).  It
 * flushes only for huge leaves it zapped (not yet split in a slot that
 * just started logging).
 */
static void op_prefault(struct round *r, uint64_t g, bool log_slot,
			struct fl_mark *m)
{
	struct tdp_mmu *mmu = r->mmu;
	struct tdp_root *root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	uint64_t n = host_rand() % 8 ? 1 + host_rand() % 2048 : G;
	uint64_t z = prefault_zaps(mmu);
	long ret;

	if (!root)
		return; /* no memory (failure rounds) */
	if (log_slot)
		g = host_rand() % LOG_PAGES;
	ret = tdp_mmu_prefault(mmu, root, g, n);
	r->prefaults++;
	if (ret > 0)
		r->prefaulted += (uint64_t)ret;
	if (ret == 0 || ret > (long)n ||
	    (ret < 0 && ret != -ENOENT && ret != -EAGAIN && ret != -ENOMEM))
		swtlb_fail("prefault(%#llx, %llu): %ld", (unsigned long long)g,
			   (unsigned long long)n, ret);
	tdp_mmu_put_root(mmu, root);
	bound(m, prefault_zaps(mmu) - z, "prefault", false);
}

static void op_one(struct round *r)
{
	struct tdp_mmu *mmu = r->mmu;
	struct fl_mark m;
	uint64_t g = random_gfn(), n;
	int k, ret;
	bool z;

	mark(&m);
	switch (host_rand() % 13) {
	case 0:
	case 1:
		n = host_rand() % 8 ? 1 + host_rand() % 1024 : G;
		z = tdp_mmu_unmap_range(mmu, g, g + n);
		bound(&m, 1, "unmap_range", !z);
		break;
	case 2:
		tdp_mmu_zap_all_fast(mmu);
		bound(&m, 0, "zap_all_fast", true);
		r->fast_zaps++;
		break;
	case 3:
		rwlock_write_lock(&mmu->mmu_lock);
		tdp_mmu_zap_all_fast_front(mmu);
		rwlock_write_unlock(&mmu->mmu_lock);
		bound(&m, 0, "fast zap front half", true);
		mark(&m);
		tdp_mmu_zap_all_fast_back(mmu);
		bound(&m, 0, "fast zap back half", true);
		r->fast_zaps++;
		break;
	case 4:
		k = host_rand() % 64;
		if (r->restricted[k]) {
			ret = tdp_mmu_unrestrict_huge(mmu,
						      r->restricted_gfn[k]);
			/* The slot may have moved or gone meanwhile. */
			if (ret && ret != -EINVAL && ret != -ENOENT)
				swtlb_fail("unrestrict: %d", ret);
			r->restricted[k] = 0;
			bound(&m, 0, "unrestrict", true);
		} else {
			ret = tdp_mmu_restrict_huge(mmu, g);
			if (!ret) {
				r->restricted[k] = 1;
				r->restricted_gfn[k] = g;
			}
			bound(&m, 1, "restrict", ret != 0);
		}
		break;
	case 5:
		tdp_mmu_recover_huge_pages(mmu, tdp_level_base(g, 3),
					   tdp_level_base(g, 3) + G);
		bound(&m, 1, "recover_huge_pages", false);
		break;
	case 7:
		n = host_rand() % 8 ? 1 + host_rand() % 1024 : G;
		if (host_rand() & 1)
			tdp_mmu_age_gfn(mmu, g, g + n);
		else
			tdp_mmu_test_age_gfn(mmu, g, g + n);
		bound(&m, 0, "age_gfn", true);
		break;
	case 8:
		n = split_zaps(mmu);
		tdp_mmu_split_huge_pages(mmu, tdp_level_base(g, 3),
					 tdp_level_base(g, 3) + G,
					 1 + host_rand() % 2);
		bound(&m, split_zaps(mmu) - n, "split_huge_pages", false);
		break;
	case 9:
		op_prefault(r, g, host_rand() & 1, &m);
		break;
	case 6:
		tdp_mmu_set_slot_flush_policy(
			mmu, host_rand() & 1 ? TDP_SLOT_FLUSH_ALL
					     : TDP_SLOT_FLUSH_TARGETED);
		break;
	default:
		op_slot(r);
		break;
	}
	r->ops++;
}

/* ---- migration (property 4) ---- */

static void mig_on_write(struct swtlb_vcpu *v, uint64_t gfn)
{
	struct round *r = container_of(v->vm, struct round, vm);

	if (gfn < LOG_PAGES)
		__atomic_store_n(&r->mig.mem[gfn],
				 __atomic_add_fetch(&r->mig.next_value, 1,
						    __ATOMIC_RELAXED),
				 __ATOMIC_RELEASE);
}

static void mig_copy(struct migration *mg, uint64_t g)
{
	mg->copy[g] = __atomic_load_n(&mg->mem[g], __ATOMIC_ACQUIRE);
}

/* Start logging and send everything (the first pass of a migration). */
static void mig_start(struct round *r)
{
	struct fl_mark m;
	uint64_t g, z0 = split_zaps(r->mmu);
	int ret;

	mark(&m);
	ret = memslot_set_flags(r->mmu, LOG_ID, MEMSLOT_DIRTY_LOG);
	bound(&m, 1 + split_zaps(r->mmu) - z0, "enable dirty logging", false);
	if (ret) {
		if (!(ret == -ENOMEM && r->nomem))
			swtlb_fail("enable dirty logging: %d", ret);
		return;
	}
	for (g = 0; g < LOG_PAGES; g++)
		mig_copy(&r->mig, g);
	r->mig.logging = true;
	r->mig.enables++;
}

/* One get + clear + copy of what was harvested. */
static void mig_cycle(struct round *r)
{
	uint64_t bm[LOG_PAGES / 64], g;
	struct fl_mark m;
	long ret;

	mark(&m);
	ret = tdp_mmu_get_dirty_log(r->mmu, LOG_ID, bm, ARRAY_SIZE(bm));
	bound(&m, 0, "get_dirty_log", true);
	if (ret) {
		swtlb_fail("get_dirty_log: %ld", ret);
		return;
	}
	mark(&m);
	ret = tdp_mmu_clear_dirty_log(r->mmu, LOG_ID, 0, LOG_PAGES, bm);
	bound(&m, 1, "clear_dirty_log", false);
	if (ret < 0) {
		swtlb_fail("clear_dirty_log: %ld", ret);
		return;
	}
	/* The clear's flush is done: nobody writes a clean page unseen. */
	swtlb_check_dirty(&r->vm, LOG_ID);
	for (g = 0; g < LOG_PAGES; g++)
		if (bm[g / 64] & (1ull << (g % 64)))
			mig_copy(&r->mig, g);
	r->mig.cycles++;
	r->mig.harvested += (uint64_t)ret;
}

static void mig_stop(struct round *r)
{
	struct fl_mark m;
	int ret;

	mark(&m);
	ret = memslot_set_flags(r->mmu, LOG_ID, 0);
	bound(&m, 1, "disable dirty logging", false);
	if (ret && !(ret == -ENOMEM && r->nomem))
		swtlb_fail("disable dirty logging: %d", ret);
	if (!ret)
		r->mig.logging = false;
}

/* After the vCPUs stopped: the last pass, then compare. */
static void mig_finish(struct round *r)
{
	uint64_t g;

	if (!r->mig.logging)
		return;
	mig_cycle(r);
	for (g = 0; g < LOG_PAGES; g++)
		if (r->mig.copy[g] != r->mig.mem[g]) {
			swtlb_fail("lost dirty page: gfn %#llx holds %llu, "
				   "the copy %llu",
				   (unsigned long long)g,
				   (unsigned long long)r->mig.mem[g],
				   (unsigned long long)r->mig.copy[g]);
			break;
		}
}

static void *mig_thread(void *p)
{
	struct round *r = p;

	host_thread_register();
	host_srand(r->seed * 31337 + 5);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		if (!r->mig.logging)
			mig_start(r);
		else if (host_rand() % 16 == 0)
			mig_stop(r);
		else
			mig_cycle(r);
		usleep(200);
	}
	host_thread_unregister();
	return NULL;
}

/* ---- threads ---- */

struct vcpu_arg {
	struct round *r;
	int idx;
};

static void *vcpu_thread(void *p)
{
	struct vcpu_arg *a = p;
	struct swtlb_vcpu *v = &a->r->vm.vcpus[a->idx];
	static const uint64_t acc[] = {TDP_ACC_READ, TDP_ACC_READ,
				       TDP_ACC_WRITE, TDP_ACC_EXEC};
	enum swtlb_result res;

	host_thread_register();
	host_srand(a->r->seed * 7919 + a->idx + 1);
	while (!__atomic_load_n(&a->r->stop, __ATOMIC_ACQUIRE) &&
	       !swtlb_failed) {
		res = swtlb_access(
			v, host_rand() % 8 ? slot_gfn(a->r->mmu) : random_gfn(),
			acc[host_rand() % 4]);
		/* Leave the operations thread some CPU (2 cores, 5 threads). */
		if ((v->accesses & 255) == 0)
			sched_yield();
		if (res == SWTLB_NOMEM && !a->r->nomem)
			swtlb_fail("vCPU %d: out of memory", a->idx);
	}
	host_thread_unregister();
	return NULL;
}

static void op_prefault_first(struct round *r)
{
	struct fl_mark m;

	mark(&m);
	op_prefault(r, 0, true, &m);
}

static void *ops_thread(void *p)
{
	struct round *r = p;

	host_thread_register();
	host_srand(r->seed * 104729 + 17);
	/*
	 * One prefault of the migrated slot first, so that even a round of a
	 * few operations (TSan on a loaded machine) exercises it.
	 */
	op_prefault_first(r);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		op_one(r);
		/* Property 1 right after the operation returned. */
		if (r->ops % 4 == 0)
			swtlb_check(&r->vm);
	}
	host_thread_unregister();
	return NULL;
}

static void *check_thread(void *p)
{
	struct round *r = p;

	host_thread_register();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		swtlb_check(&r->vm);
		usleep(100);
	}
	host_thread_unregister();
	return NULL;
}

/*
 * Before teardown, with every root gone: the accounted bytes must be
 * exactly the memslot set and its counters.
 */
static void check_accounting(struct tdp_mmu *mmu)
{
	struct memslot_set *set = mmu->slots;
	struct tdp_mmu_stats st;
	uint64_t want;
	unsigned int k;

	tdp_mmu_zap_all_fast(mmu);
	ebr_barrier();
	want = sizeof(*set) + set->count * sizeof(struct memslot);
	for (k = 0; k < set->count; k++) {
		want += (set->slots[k].huge_blocks[0] +
			 set->slots[k].huge_blocks[1]) *
			sizeof(uint32_t);
		if (set->slots[k].dirty)
			want += memslot_dirty_bytes(set->slots[k].npages);
	}
	tdp_mmu_get_stats(mmu, &st);
	if (st.bytes != want)
		swtlb_fail("accounted %llu bytes, want %llu",
			   (unsigned long long)st.bytes,
			   (unsigned long long)want);
}

static bool run_round(uint64_t seed, unsigned int ms, struct round *r)
{
	struct vcpu_arg va[SWTLB_VCPUS];
	pthread_t tv[SWTLB_VCPUS], to, tc, tm;
	int64_t pages0 = host_pages_live(), objs0 = host_objs_live();
	int i;

	memset(r, 0, sizeof(*r));
	r->seed = seed;
	swtlb_seed = seed;
	host_srand(seed);
	r->mmu = tdp_mmu_create(&r->vm);
	BUG_ON(!r->mmu);
	swtlb_vm_init(&r->vm, r->mmu, nvcpus);
	swtlb_attach(&r->vm);
	/* A starting layout: two small slots and a 1 GiB one. */
	BUG_ON(memslot_create(r->mmu, 0, place_gfn(1) << PAGE_SHIFT, 8 * MiB,
			      FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(r->mmu, 1, place_gfn(2) << PAGE_SHIFT, 4 * MiB,
			      FAKE_HOST_BASE + 8 * GiB + 4 * KiB, 0));
	BUG_ON(memslot_create(r->mmu, 2, place_gfn(3) << PAGE_SHIFT, 1 * GiB,
			      FAKE_HOST_BASE + 16 * GiB, 0));
	/* The migrated slot, at gfn 0. */
	BUG_ON(memslot_create(r->mmu, LOG_ID, 0, LOG_PAGES << PAGE_SHIFT,
			      FAKE_HOST_BASE + 64 * GiB, 0));
	r->vm.on_write = mig_on_write;

	/* Every fourth round: rare allocation failures everywhere. */
	r->nomem = seed % 4 == 3;
	if (r->nomem)
		host_alloc_fail_rate(3000);
	for (i = 0; i < nvcpus; i++) {
		va[i] = (struct vcpu_arg){r, i};
		pthread_create(&tv[i], NULL, vcpu_thread, &va[i]);
	}
	pthread_create(&to, NULL, ops_thread, r);
	pthread_create(&tc, NULL, check_thread, r);
	pthread_create(&tm, NULL, mig_thread, r);
	usleep(ms * 1000);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nvcpus; i++)
		pthread_join(tv[i], NULL);
	pthread_join(to, NULL);
	pthread_join(tc, NULL);
	pthread_join(tm, NULL);
	host_alloc_fail_rate(0);
	mig_finish(r);

	swtlb_check(&r->vm);
	swtlb_vm_fini(&r->vm);
	check_accounting(r->mmu);
	tdp_mmu_destroy(r->mmu);
	swtlb_attach(NULL);
	swtlb_vm_release(&r->vm);
	if (host_pages_live() != pages0 || host_objs_live() != objs0)
		swtlb_fail("teardown leaked %lld pages, %lld objects",
			   (long long)(host_pages_live() - pages0),
			   (long long)(host_objs_live() - objs0));
	return !swtlb_failed;
}

/* A deliberately broken flush must be caught (the checker can fail). */
static void self_test(void)
{
	struct round r;
	struct swtlb_vcpu *v;
	struct memslot_set *set;
	bool caught;

	memset(&r, 0, sizeof(r));
	swtlb_quiet = true;
	r.mmu = tdp_mmu_create(&r.vm);
	swtlb_vm_init(&r.vm, r.mmu, 1);
	v = &r.vm.vcpus[0];
	BUG_ON(memslot_create(r.mmu, 0, 0, 4 * MiB, FAKE_HOST_BASE + 4 * KiB,
			      0));
	/* Hooks not attached: flushes do not reach the vCPU. */
	BUG_ON(swtlb_access(v, 5, TDP_ACC_WRITE) != SWTLB_OK);
	tdp_mmu_unmap_range(r.mmu, 0, 1024);
	caught = !swtlb_check(&r.vm);
	ok(caught, "checker catches a missing flush");
	__atomic_store_n(&swtlb_failed, 0, __ATOMIC_SEQ_CST);

	swtlb_attach(&r.vm);
	platform_flush_guest_tlbs(&r.vm); /* drop the stale entry */
	BUG_ON(swtlb_access(v, 5, TDP_ACC_WRITE) != SWTLB_OK);
	tdp_mmu_unmap_range(r.mmu, 0, 1024);
	ok(swtlb_check(&r.vm), "with the flush hook: clean");
	BUG_ON(swtlb_access(v, 5, TDP_ACC_WRITE) != SWTLB_OK);
	/* Pretend the slot vanished without a zap: ownership must fail. */
	rwlock_write_lock(&r.mmu->mmu_lock);
	set = r.mmu->slots;
	set->slots[0].flags |= MEMSLOT_READONLY;
	rwlock_write_unlock(&r.mmu->mmu_lock);
	caught = !swtlb_check(&r.vm);
	ok(caught, "checker catches a writable translation of RO memory");
	__atomic_store_n(&swtlb_failed, 0, __ATOMIC_SEQ_CST);
	set->slots[0].flags &= ~MEMSLOT_READONLY;
	/* A clear whose flush never reaches the vCPU must be caught. */
	swtlb_attach(NULL);
	BUG_ON(memslot_create(r.mmu, 1, 8 * MiB, 1 * MiB, FAKE_HOST_BASE,
			      MEMSLOT_DIRTY_LOG));
	BUG_ON(swtlb_access(v, 2048 + 3, TDP_ACC_WRITE) != SWTLB_OK);
	ok(swtlb_check_dirty(&r.vm, 1), "a dirty page may be written");
	{
		uint64_t bm[4] = {~0ull, ~0ull, ~0ull, ~0ull};

		BUG_ON(tdp_mmu_clear_dirty_log(r.mmu, 1, 0, 256, bm) != 1);
	}
	caught = !swtlb_check_dirty(&r.vm, 1);
	ok(caught, "checker catches a write through a stale entry after a "
		   "clear");
	__atomic_store_n(&swtlb_failed, 0, __ATOMIC_SEQ_CST);
	swtlb_attach(&r.vm);
	/* A page freed while cached must be caught by the free hook. */
	host_page_free_hook(v->pwc[0]);
	ok(swtlb_failed, "checker catches a cached table being freed");
	__atomic_store_n(&swtlb_failed, 0, __ATOMIC_SEQ_CST);
	swtlb_vm_fini(&r.vm);
	tdp_mmu_destroy(r.mmu);
	swtlb_attach(NULL);
	swtlb_vm_release(&r.vm);
	swtlb_failure[0] = 0;
	swtlb_quiet = false;
}

int main(int argc, char **argv)
{
	double seconds = 2.0;
	uint64_t seed = 0, t_end, rounds = 0, checks = 0, entries = 0, ops = 0,
		 slot_ops = 0, accesses = 0, faults = 0, noslot = 0,
		 mig_cycles = 0, mig_pages = 0, mig_enables = 0, prefaults = 0, prefaulted = 0;
	const char *env = getenv("TIDAL_STRESS_SECS");
	struct round *r = calloc(1, sizeof(*r));
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
	}
	if (env && atof(env) > 0)
		seconds = atof(env);
	if (!seed)
		seed = platform_time_ns() % 1000000007ull;
	host_thread_register();
	ebr_init();
	self_test();
	diag("seed %llu, %.1f s", (unsigned long long)seed, seconds);

	t_end = platform_time_ns() + (uint64_t)(seconds * 1e9);
	do {
		bool good = run_round(seed + rounds, 250, r);

		rounds++;
		checks += r->vm.checks;
		entries += r->vm.entries_checked;
		ops += r->ops;
		slot_ops += r->slot_ops;
		mig_cycles += r->mig.cycles;
		mig_pages += r->mig.harvested;
		mig_enables += r->mig.enables;
		prefaults += r->prefaults;
		prefaulted += r->prefaulted;
		for (i = 0; i < nvcpus; i++) {
			accesses += r->vm.vcpus[i].accesses;
			faults += r->vm.vcpus[i].faults;
			noslot += r->vm.vcpus[i].noslot;
		}
		if (!good) {
			ok(false, "round with seed %llu: %s",
			   (unsigned long long)(seed + rounds - 1),
			   swtlb_failure);
			diag("replay: %s --seed %llu --seconds 0", argv[0],
			     (unsigned long long)(seed + rounds - 1));
			break;
		}
	} while (platform_time_ns() < t_end);
	ok(!swtlb_failed, "%llu rounds from seed %llu: no violation",
	   (unsigned long long)rounds, (unsigned long long)seed);
	diag("%llu checks of %llu cached entries; %llu ops (%llu memslot); "
	     "%llu accesses, %llu faults (%llu outside slots)",
	     (unsigned long long)checks, (unsigned long long)entries,
	     (unsigned long long)ops, (unsigned long long)slot_ops,
	     (unsigned long long)accesses, (unsigned long long)faults,
	     (unsigned long long)noslot);
	diag("migration: %llu dirty-log cycles, %llu pages harvested, "
	     "logging enabled %llu times",
	     (unsigned long long)mig_cycles, (unsigned long long)mig_pages,
	     (unsigned long long)mig_enables);
	ok(checks > rounds && accesses > 0 && ops > 0,
	   "the workload did real work");
	ok(mig_cycles > rounds && mig_pages > 0,
	   "the migration harvested dirty pages");
	diag("prefault: %llu calls, %llu pages mapped",
	     (unsigned long long)prefaults, (unsigned long long)prefaulted);
	ok(prefaults > 0 && prefaulted > 0, "prefault ran and mapped pages");
	free(r);
	return tap_done();
}
