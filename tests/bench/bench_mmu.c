// SPDX-License-Identifier: MIT
/*
 * bench-mmu: figures for the TDP MMU's main paths, on the host.
 *
 *   faults     4 KiB faults into an empty region, 1..N threads
 *   huge       faults that map 2 MiB and 1 GiB leaves
 *   unmap      zapping leaves of a range (one flush for the batch)
 *   fast zap   front half (write lock) and back half (read lock)
 *   memslot    create + delete of a slot with a mapped range
 *
 * Built from the test objects (lock debugging on), so absolute figures are
 * pessimistic; compare runs of the same build.  Usage: bench_mmu [--quick]
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tests/host/mmu/util.h"

#define G (GiB >> PAGE_SHIFT)

static int owner;
static uint64_t npages = 1 << 18; /* 1 GiB of 4 KiB pages */

static double now_s(void)
{
	return platform_time_ns() / 1e9;
}

static bool never(void)
{
	return false;
}

struct farg {
	struct tdp_mmu *mmu;
	struct tdp_root *root;
	uint64_t first, count;
};

static void *fault_worker(void *p)
{
	struct farg *a = p;
	uint64_t i;

	host_thread_register();
	for (i = 0; i < a->count; i++)
		while (map(a->mmu, a->root, a->first + i, TDP_ACC_WRITE) ==
		       TDP_MAP_RETRY)
			;
	host_thread_unregister();
	return NULL;
}

static void bench_faults(int threads)
{
	struct tdp_mmu *mmu = tdp_mmu_create(&owner);
	struct tdp_root *root;
	struct farg a[8];
	pthread_t t[8];
	uint64_t per = npages / threads;
	double t0, dt;
	int i;

	/* host off by 4 KiB: 4 KiB leaves only */
	BUG_ON(memslot_create(mmu, 0, 0, npages << PAGE_SHIFT,
			      FAKE_HOST_BASE + 4 * KiB, 0));
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	t0 = now_s();
	for (i = 0; i < threads; i++) {
		a[i] = (struct farg){mmu, root, i * per, per};
		pthread_create(&t[i], NULL, fault_worker, &a[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	dt = now_s() - t0;
	printf("faults    4K, %d thread%s: %8.0f ns/fault  %6.2f M faults/s\n",
	       threads, threads > 1 ? "s" : " ", dt * 1e9 / npages,
	       npages / dt / 1e6);

	t0 = now_s();
	tdp_mmu_unmap_range(mmu, 0, npages);
	dt = now_s() - t0;
	if (threads == 1)
		printf("unmap     %llu leaves:  %8.1f ns/leaf   (%llu "
		       "flushes)\n",
		       (unsigned long long)npages, dt * 1e9 / npages,
		       (unsigned long long)host_thread_flushes);
	for (i = 0; i < (int)per && threads == 1; i++)
		BUG_ON(map(mmu, root, i, TDP_ACC_READ) != TDP_MAP_OK);
	if (threads == 1) {
		t0 = now_s();
		rwlock_write_lock(&mmu->mmu_lock);
		tdp_mmu_zap_all_fast_front(mmu);
		rwlock_write_unlock(&mmu->mmu_lock);
		dt = now_s() - t0;
		printf("fast zap  front half:     %8.1f us\n", dt * 1e6);
		t0 = now_s();
		tdp_mmu_zap_all_fast_back(mmu);
		dt = now_s() - t0;
		printf("fast zap  back half:      %8.1f ms for %llu leaves\n",
		       dt * 1e3, (unsigned long long)npages);
	}
	tdp_mmu_put_root(mmu, root);
	tdp_mmu_destroy(mmu);
}

static void bench_huge(void)
{
	struct tdp_mmu *mmu = tdp_mmu_create(&owner);
	struct tdp_root *root;
	uint64_t i, n2 = 4096;
	double t0, dt;

	BUG_ON(memslot_create(mmu, 0, 0, 8 * GiB, FAKE_HOST_BASE, 0));
	BUG_ON(memslot_create(mmu, 1, 8 * GiB, 8 * GiB,
			      FAKE_HOST_BASE + 8 * GiB + 2 * MiB, 0));
	root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	t0 = now_s();
	for (i = 0; i < n2; i++)
		BUG_ON(map(mmu, root, 8 * G + i * 512, TDP_ACC_READ));
	dt = now_s() - t0;
	printf("faults    2M leaves:      %8.0f ns/fault\n", dt * 1e9 / n2);
	t0 = now_s();
	for (i = 0; i < 8; i++)
		BUG_ON(map(mmu, root, i * G, TDP_ACC_READ));
	dt = now_s() - t0;
	printf("faults    1G leaves:      %8.0f ns/fault\n", dt * 1e9 / 8);
	tdp_mmu_put_root(mmu, root);
	tdp_mmu_destroy(mmu);
}

static void bench_memslot(void)
{
	struct tdp_mmu *mmu = tdp_mmu_create(&owner);
	struct tdp_root *root = tdp_mmu_get_root(mmu, TDP_ROLE_DEFAULT);
	int i, n = 2000, j;
	double t0, dt;

	for (i = 0; i < 16; i++)
		BUG_ON(memslot_create(mmu, 100 + i, (uint64_t)(i + 1) * GiB,
				      4 * MiB, FAKE_HOST_BASE, 0));
	t0 = now_s();
	for (i = 0; i < n; i++) {
		BUG_ON(memslot_create(mmu, 1, 0, 1 * MiB,
				      FAKE_HOST_BASE + 4 * KiB, 0));
		for (j = 0; j < 16; j++)
			BUG_ON(map(mmu, root, j * 16, TDP_ACC_READ));
		BUG_ON(memslot_delete(mmu, 1));
	}
	dt = now_s() - t0;
	printf("memslot   create+16 faults+delete (17 slots): %6.1f us\n",
	       dt * 1e6 / n);
	tdp_mmu_put_root(mmu, root);
	tdp_mmu_destroy(mmu);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--quick"))
		npages = 1 << 14;
	host_thread_register();
	ebr_init();
	host_should_yield_hook = never;
	bench_faults(1);
	bench_faults(2);
	bench_huge();
	bench_memslot();
	return 0;
}
