// SPDX-License-Identifier: MIT
/*
 * The software-TLB checker on protected VMs: the simulated vCPUs walk the
 * guard's EPT (what the CPU uses as EPTP) and cache what they use, while
 * an operations thread zaps, restricts, recovers and splits huge pages,
 * fast-zaps (which leaves mirror roots alone) and creates, deletes, moves
 * and changes memslots, and the guard answers a share of all requests
 * with "busy".  Checked, as for ordinary VMs (swtlb.h):
 *   1. no vCPU caches a translation that the guard's EPT or the memslots
 *      do not back (after every operation, and continuously);
 *   2. no page-table page of the guard is freed while a vCPU may still
 *      cache it (the guard frees them only after a flush);
 * and, after every operation, that the mirror root and the guard's EPT
 * hold the same leaves with nothing frozen; at the end, teardown leaves
 * the guard empty and returns every page and object.
 *
 *   test_mmu_mirror_tlb [--seconds S] [--seed N]
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/host/mmu/mirror_util.h"
#include "tests/host/mmu/swtlb.h"
#include "tests/host/tap.h"

#define G	   (GiB >> PAGE_SHIFT)
#define NIDS	   4
#define NPLACES	   8
#define ID_MEM	   (4 * MiB + 4 * KiB) /* backing per slot id */
#define POOL_BYTES (NIDS * 8 * MiB)    /* ids 2 MiB-aligned apart */

#ifdef __SANITIZE_THREAD__
static int nvcpus = 2;
#else
static int nvcpus = 3;
#endif

struct run {
	struct pvm p;
	struct swtlb_vm vm;
	uint64_t seed;
	int stop;
	uint64_t ops, slot_ops, mismatches;
};

static uint64_t place_gfn(int place)
{
	return (uint64_t)place * G;
}

static phys_addr_t id_backing(struct run *r, uint32_t id)
{
	return platform_virt_to_phys(r->p.mem + id * 8 * MiB);
}

static void op_slot(struct run *r)
{
	struct tdp_mmu *mmu = r->p.mmu;
	uint32_t id = host_rand() % NIDS;
	uint64_t gpa = place_gfn(1 + host_rand() % NPLACES) << PAGE_SHIFT;
	struct memslot old;
	int pend, ret;

	if (!swtlb_slot_copy(mmu, id, &old)) {
		/* 4 MiB (2M leaves) or 2 MiB off by 4K (4K leaves only). */
		bool off = host_rand() & 1;

		ret = memslot_create(mmu, id, gpa, off ? 2 * MiB : 4 * MiB,
				     id_backing(r, id) + (off ? 4 * KiB : 0),
				     host_rand() % 4 == 0 ? MEMSLOT_READONLY
							  : 0);
		if (ret && ret != -EEXIST)
			swtlb_fail("memslot_create: %d", ret);
		return;
	}
	pend = swtlb_pending_add(&r->vm, &old);
	switch (host_rand() % 3) {
	case 0:
		ret = memslot_delete(mmu, id);
		break;
	case 1:
		ret = memslot_move(mmu, id, gpa);
		break;
	default:
		ret = memslot_set_flags(
			mmu, id,
			(host_rand() & 1 ? MEMSLOT_READONLY : 0) |
				(host_rand() & 1 ? MEMSLOT_NO_HUGE : 0));
	}
	if (ret && ret != -EEXIST)
		swtlb_fail("memslot op on %u: %d", id, ret);
	swtlb_pending_done(&r->vm, pend);
	r->slot_ops++;
}

static uint64_t any_gfn(void)
{
	return place_gfn(1 + host_rand() % NPLACES) + host_rand() % 1100;
}

static void op_one(struct run *r)
{
	struct tdp_mmu *mmu = r->p.mmu;
	uint64_t g = any_gfn(), n = 1 + host_rand() % 1024;

	switch (host_rand() % 8) {
	case 0:
		tdp_mmu_unmap_range(mmu, g, g + n);
		break;
	case 1:
		tdp_mmu_zap_all_fast(mmu);
		break;
	case 2:
		if (!tdp_mmu_restrict_huge(mmu, g))
			tdp_mmu_unrestrict_huge(mmu, g);
		break;
	case 3:
		tdp_mmu_recover_huge_pages(mmu, tdp_level_base(g, 3),
					   tdp_level_base(g, 3) + G);
		break;
	case 4:
		tdp_mmu_split_huge_pages(mmu, g, g + n, 1);
		break;
	default:
		op_slot(r);
	}
	r->ops++;
}

static void *vcpu_thread(void *arg)
{
	struct swtlb_vcpu *v = arg;
	struct run *r = container_of(v->vm, struct run, vm);
	static const uint64_t acc[] = {TDP_ACC_READ, TDP_ACC_WRITE,
				       TDP_ACC_EXEC};
	enum swtlb_result res;

	host_thread_register();
	host_srand(r->seed * 7919 + (uint64_t)(v - r->vm.vcpus) + 1);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		res = swtlb_access(v, any_gfn(), acc[host_rand() % 3]);
		if (res == SWTLB_NOMEM)
			swtlb_fail("vCPU: out of memory");
		if (res == SWTLB_BUGGED)
			swtlb_fail("vCPU: the VM got bugged");
		if ((v->accesses & 255) == 0)
			sched_yield();
	}
	host_thread_unregister();
	return NULL;
}

static void *ops_thread(void *arg)
{
	struct run *r = arg;
	struct tdp_root *root;

	host_thread_register();
	host_srand(r->seed * 104729 + 17);
	root = tdp_mmu_get_root(r->p.mmu, tdp_mmu_vcpu_role(r->p.mmu));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		op_one(r);
		swtlb_check(&r->vm);
		if (mirror_check_locked(r->p.mmu, root, NULL)) {
			r->mismatches++;
			swtlb_fail("mirror and guard differ after op %llu",
				   (unsigned long long)r->ops);
		}
		if (tdp_mmu_is_bugged(r->p.mmu))
			swtlb_fail("the VM got bugged");
	}
	tdp_mmu_put_root(r->p.mmu, root);
	host_thread_unregister();
	return NULL;
}

static void *check_thread(void *arg)
{
	struct run *r = arg;

	host_thread_register();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !swtlb_failed) {
		swtlb_check(&r->vm);
		usleep(100);
	}
	host_thread_unregister();
	return NULL;
}

int main(int argc, char **argv)
{
	struct guard_fault_inject fi = {.error = GUARD_E_BUSY,
					.per_million = 30000};
	pthread_t tv[SWTLB_VCPUS], to, tc;
	double seconds = 1.5;
	int64_t pages0, objs0;
	struct guard_stats gs;
	uint64_t accesses = 0;
	struct run *r;
	int i;

	r = calloc(1, sizeof(*r));
	BUG_ON(!r);
	r->seed = 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			r->seed = strtoull(argv[++i], NULL, 0);
	}
	mmu_test_init();
	diag("seed %llu, %.1f s", (unsigned long long)r->seed, seconds);
	swtlb_seed = r->seed;
	host_srand(r->seed);
	pages0 = host_pages_live();
	objs0 = host_objs_live();

	pvm_create(&r->p, POOL_BYTES, 2, true);
	/* Flush and reload hooks find the simulated vCPUs by the owner. */
	r->p.mmu->owner = &r->vm;
	swtlb_vm_init(&r->vm, r->p.mmu, nvcpus);
	swtlb_attach(&r->vm);
	BUG_ON(memslot_create(r->p.mmu, 0, place_gfn(1) << PAGE_SHIFT, 4 * MiB,
			      id_backing(r, 0), 0));
	BUG_ON(memslot_create(r->p.mmu, 1, place_gfn(2) << PAGE_SHIFT, 2 * MiB,
			      id_backing(r, 1) + 4 * KiB, 0));
	fi.seed = r->seed;
	BUG_ON(guard_inject_failures(r->p.guard, &fi));

	for (i = 0; i < nvcpus; i++)
		pthread_create(&tv[i], NULL, vcpu_thread, &r->vm.vcpus[i]);
	pthread_create(&to, NULL, ops_thread, r);
	pthread_create(&tc, NULL, check_thread, r);
	usleep((useconds_t)(seconds * 1e6));
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nvcpus; i++) {
		pthread_join(tv[i], NULL);
		accesses += r->vm.vcpus[i].accesses;
	}
	pthread_join(to, NULL);
	pthread_join(tc, NULL);
	swtlb_check(&r->vm);

	ok(!swtlb_failed,
	   "no stale translation, no early free, mirror == "
	   "guard after every op%s%s",
	   swtlb_failed ? ": " : "", swtlb_failure);
	ok(r->ops > 20 && accesses > 1000,
	   "the workload did real work (%llu ops, %llu slot ops, %llu "
	   "accesses, %llu checks)",
	   (unsigned long long)r->ops, (unsigned long long)r->slot_ops,
	   (unsigned long long)accesses, (unsigned long long)r->vm.checks);
	guard_get_stats(r->p.guard, &gs);
	ok(gs.rollbacks > 0 || r->ops < 100,
	   "busy answers were rolled back "
	   "(%llu)",
	   (unsigned long long)gs.rollbacks);

	BUG_ON(guard_inject_failures(r->p.guard, NULL));
	swtlb_vm_fini(&r->vm);
	tdp_mmu_destroy(r->p.mmu);
	guard_get_stats(r->p.guard, &gs);
	is_int(gs.leaves_live + gs.tables_pending + gs.tables_live, 1,
	       "teardown left only the guard's root table");
	swtlb_attach(NULL); /* the vCPUs are gone */
	r->p.mmu = tdp_mmu_create_protected(&r->p.owner, r->p.guard);
	pvm_destroy(&r->p);
	swtlb_vm_release(&r->vm);
	is_int(host_pages_live(), pages0, "every page back in the allocator");
	is_int(host_objs_live(), objs0, "every object back in the allocator");
	free(r);
	return tap_done();
}
