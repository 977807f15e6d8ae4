// SPDX-License-Identifier: MIT
/*
 * rwlock stress test, in the way the TDP MMU uses mmu_lock: long readers
 * walk a table and yield when rwlock_contended() says someone waits;
 * writers change the table as a whole.  Readers check that the table is
 * never half-updated; writers' waits are measured so that starvation would
 * show.  Runs on both flavours, queued then per-CPU (the mmu_lock's),
 * $TIDAL_STRESS_SECS seconds each (default 1).
 */
#define _GNU_SOURCE
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "lib/rwlock.h"
#include "tests/host/platform_host.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#include <pthread.h>

#define TABLE	 256
#define NREADERS 3
#define NWRITERS 2

static rwlock_t mmu_lock = RWLOCK_INIT;
static uint64_t table[TABLE]; /* all equal whenever no writer is inside */
static int stop, torn, unbalanced;
static uint64_t reads, writes, yields, max_write_wait_ns;

static void *reader(void *arg)
{
	host_srand((uintptr_t)arg + 11);
	while (!load_acquire(&stop)) {
		unsigned int i = 0;
		uint64_t v;

		if (host_rand() & 1) {
			rwlock_read_lock(&mmu_lock);
		} else if (!rwlock_read_trylock(&mmu_lock)) {
			continue;
		}
		v = table[0];
		while (i < TABLE) {
			if (table[i] != v)
				atomic_inc(&torn);
			i++;
			if (i % 16 == 0 && i < TABLE &&
			    rwlock_contended(&mmu_lock)) {
				/*
				 * Yield like a long walk: drop, relax, retake,
				 * and resume where we were.  A writer may have
				 * run meanwhile: the rest of the table must
				 * then agree with its new value.
				 */
				rwlock_read_unlock(&mmu_lock);
				stat_inc(&yields);
				platform_relax();
				rwlock_read_lock(&mmu_lock);
				v = table[i];
			}
		}
		rwlock_assert_held_read(&mmu_lock);
		rwlock_read_unlock(&mmu_lock);
		stat_inc(&reads);
		if (lock_cpu_held() != 0)
			atomic_inc(&unbalanced);
	}
	host_thread_unregister();
	return NULL;
}

static void *writer(void *arg)
{
	host_srand((uintptr_t)arg + 101);
	while (!load_acquire(&stop)) {
		uint64_t t0 = platform_time_ns(), waited;

		if (host_rand() % 4 == 0) {
			if (!rwlock_write_trylock(&mmu_lock))
				continue;
		} else {
			rwlock_write_lock(&mmu_lock);
		}
		waited = platform_time_ns() - t0;
		rwlock_assert_held_write(&mmu_lock);
		for (unsigned int i = 0; i < TABLE; i++)
			table[i]++;
		rwlock_write_unlock(&mmu_lock);
		stat_inc(&writes);
		uint64_t m = READ_ONCE(max_write_wait_ns);
		while (waited > m &&
		       !__atomic_compare_exchange_n(
			       &max_write_wait_ns, &m, waited, false,
			       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		for (int i = 0; i < 100; i++)
			platform_relax();
	}
	host_thread_unregister();
	return NULL;
}

static void run(bool percpu, double secs)
{
	const char *name = percpu ? "per-CPU" : "queued";
	pthread_t r[NREADERS], w[NWRITERS];
	uint64_t t_end;

	if (percpu)
		BUG_ON(!rwlock_init_percpu(&mmu_lock));
	else
		rwlock_init(&mmu_lock);
	memset(table, 0, sizeof(table));
	stop = torn = unbalanced = 0;
	reads = writes = yields = max_write_wait_ns = 0;
	for (int i = 0; i < NREADERS; i++)
		pthread_create(&r[i], NULL, reader, (void *)(intptr_t)i);
	for (int i = 0; i < NWRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i);
	t_end = platform_time_ns() + (uint64_t)(secs * 1e9);
	while (platform_time_ns() < t_end)
		platform_yield();
	store_release(&stop, 1);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(w[i], NULL);

	diag("%s, %.1f s: %llu read walks, %llu writes, %llu yields, "
	     "longest write wait %.2f ms",
	     name, secs, (unsigned long long)reads, (unsigned long long)writes,
	     (unsigned long long)yields, max_write_wait_ns / 1e6);
	is_int(torn, 0, "%s: no reader saw a half-updated table", name);
	is_int(unbalanced, 0, "%s: held-lock count back to 0 after every walk",
	       name);
	ok(reads > 10 && writes > 10, "%s: readers and writers both progressed",
	   name);
	is_int(table[0], writes, "%s: every write landed", name);
	ok(!rwlock_contended(&mmu_lock), "%s: nobody waiting at the end", name);
	rwlock_destroy(&mmu_lock);
}

int main(void)
{
	double secs = stress_seconds(1.0);

	run(false, secs);
	run(true, secs);
	return tap_done();
}
