// SPDX-License-Identifier: MIT
/* Unit tests for lib/ebr.c. */
#define _GNU_SOURCE
#include "lib/ebr.h"
#include "lib/atomic.h"
#include "lib/rwlock.h"
#include "lib/spinlock.h"
#include "tests/host/platform_host.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#include <pthread.h>
#include <stdlib.h>

struct obj {
	struct ebr_head rcu;
	int freed;    /* set by the callback (objects here are not freed) */
	int *counter; /* bumped by the callback, if set */
};

static void mark_freed(struct ebr_head *h)
{
	struct obj *o = container_of(h, struct obj, rcu);

	store_release(&o->freed, 1);
	if (o->counter)
		atomic_inc(o->counter);
}

static bool freed(struct obj *o)
{
	return load_acquire(&o->freed);
}

static void sleep_ms(unsigned int ms)
{
	uint64_t t0 = platform_time_ns();

	while (platform_time_ns() - t0 < ms * 1000000ull)
		platform_yield();
}

static void test_basic(void)
{
	struct obj a = {0};

	ok(!ebr_in_read_section(), "not in a section at start");
	ebr_read_lock();
	ebr_read_lock();
	ok(ebr_in_read_section(), "in a section after two locks");
	ebr_read_unlock();
	ok(ebr_in_read_section(), "still in it after one unlock (nesting)");
	ebr_call(&a.rcu, mark_freed);
	ok(!freed(&a),
	   "a callback queued inside a section does not run at once");
	ebr_read_unlock();
	ok(!ebr_in_read_section(), "out after the outer unlock");
	ebr_barrier();
	ok(freed(&a), "ebr_barrier runs it");

	struct ebr_stats s0, s1;
	ebr_get_stats(&s0);
	ebr_synchronize();
	ebr_get_stats(&s1);
	ok(s1.epoch >= s0.epoch + 2, "ebr_synchronize moves the epoch twice");
}

/*
 * A reader stuck in a section: what it can see is not freed, and
 * ebr_synchronize() in another thread waits for it; both resume when it
 * leaves.
 */
static struct obj *shared;
static int reader_in, reader_release, sync_done;

static void *stuck_reader(void *arg)
{
	struct obj *seen;

	ebr_read_lock();
	seen = load_acquire(&shared);
	store_release(&reader_in, 1);
	while (!load_acquire(&reader_release))
		platform_yield();
	/* Still ours to read: nothing we saw may be freed. */
	if (READ_ONCE(seen->freed))
		atomic_inc((int *)arg);
	ebr_read_unlock();
	host_thread_unregister();
	return NULL;
}

static void *syncer(void *arg)
{
	ebr_synchronize();
	store_release(&sync_done, 1);
	host_thread_unregister();
	return NULL;
}

static void test_stuck_reader(void)
{
	struct obj *x = calloc(1, sizeof(*x));
	struct obj *others = calloc(1000, sizeof(*others));
	pthread_t r, s;
	int reader_saw_freed = 0, others_run = 0;

	shared = x;
	pthread_create(&r, NULL, stuck_reader, &reader_saw_freed);
	while (!load_acquire(&reader_in))
		platform_yield();
	/* Unlink x and queue its free, plus a flood of later frees. */
	store_release(&shared, NULL);
	ebr_call(&x->rcu, mark_freed);
	pthread_create(&s, NULL, syncer, NULL);
	for (int i = 0; i < 1000; i++) {
		others[i].counter = &others_run;
		ebr_call(&others[i].rcu, mark_freed);
		if (i % 100 == 0)
			ebr_poll();
	}
	sleep_ms(100);
	ebr_poll();
	ok(!freed(x), "an object a stuck reader may see is not freed");
	is_int(READ_ONCE(others_run), 0,
	       "nothing queued after the reader entered is freed either");
	ok(!load_acquire(&sync_done), "ebr_synchronize waits for the reader");

	store_release(&reader_release, 1);
	pthread_join(r, NULL);
	pthread_join(s, NULL);
	ok(load_acquire(&sync_done), "ebr_synchronize returns after it leaves");
	is_int(reader_saw_freed, 0, "the reader never saw its object freed");
	ebr_barrier();
	ok(freed(x), "reclamation resumes once the reader has left");
	is_int(READ_ONCE(others_run), 1000, "and the flood is reclaimed too");
	free(x);
	free(others);
}

/* Threads that queue and exit; threads that leave do not block. */
static void *queue_and_exit(void *arg)
{
	ebr_read_lock();
	ebr_call(arg, mark_freed);
	ebr_read_unlock();
	host_thread_unregister();
	return NULL;
}

static void *enter_leave_exit(void *arg)
{
	ebr_read_lock();
	ebr_read_unlock();
	host_thread_unregister();
	return NULL;
}

static void test_exited_threads(void)
{
	struct obj o[4] = {0};
	pthread_t t[4];
	int all = 1;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, queue_and_exit, &o[i].rcu);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_create(&t[0], NULL, enter_leave_exit, NULL);
	pthread_join(t[0], NULL);
	ebr_synchronize();
	ok(true, "threads that have left do not block a grace period");
	ebr_barrier();
	for (int i = 0; i < 4; i++)
		all &= freed(&o[i]);
	ok(all, "ebr_barrier runs callbacks of threads that have exited");
}

/* Bounded backlog under a writer flood. */
static void free_obj(struct ebr_head *h)
{
	free(container_of(h, struct obj, rcu));
}

static int flood_released;

static void *flood_blocker(void *arg)
{
	ebr_read_lock();
	store_release((int *)arg, 1);
	sleep_ms(100);
	ebr_read_unlock();
	store_release(&flood_released, 1);
	host_thread_unregister();
	return NULL;
}

static bool flood(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct obj *o = calloc(1, sizeof(*o));

		if (!o)
			return false;
		ebr_call(&o->rcu, free_obj);
	}
	return true;
}

static void test_flood(void)
{
	struct ebr_stats s0, s;
	spinlock_t l = SPINLOCK_INIT;
	pthread_t t;
	int up = 0;

	ebr_barrier();
	ebr_get_stats(&s0);
	ok(flood(100000), "100000 frees queued outside any section");
	ebr_get_stats(&s);
	ok(s.max_pending <= EBR_PENDING_HARD,
	   "backlog stays under the hard limit (peak %llu)",
	   (unsigned long long)s.max_pending);
	ok(s.pending < EBR_PENDING_SOFT + EBR_PENDING_STEP,
	   "and ends near the soft limit (%llu)",
	   (unsigned long long)s.pending);

	/* With another reader stuck for 100 ms, the flood has to wait. */
	pthread_create(&t, NULL, flood_blocker, &up);
	while (!load_acquire(&up))
		platform_yield();
	flood(3 * EBR_PENDING_HARD);
	ok(load_acquire(&flood_released),
	   "a flood past the hard limit waits for the stuck reader");
	pthread_join(t, NULL);
	ebr_get_stats(&s);
	ok(s.max_pending <= EBR_PENDING_HARD, "peak still bounded (%llu)",
	   (unsigned long long)s.max_pending);
	ok(s.waits > s0.waits, "and the waits were counted (%llu)",
	   (unsigned long long)(s.waits - s0.waits));

	/* With a lock held it must not wait: it counts overflows instead. */
	ebr_get_stats(&s0);
	spin_lock(&l);
	ebr_read_lock();
	flood(EBR_PENDING_HARD + 100);
	ebr_read_unlock();
	spin_unlock(&l);
	ebr_get_stats(&s);
	ok(s.overflows > s0.overflows && s.waits == s0.waits,
	   "inside a section with a lock held: no wait, overflow counted");
	ebr_barrier();
	ebr_get_stats(&s);
	is_int(s.pending, 0, "ebr_barrier leaves nothing pending");
	is_int(s.queued, s.run, "every queued callback ran");
}

/* Misuse caught in debug builds. */
static void child_sync_in_section(void)
{
	ebr_read_lock();
	ebr_synchronize();
}

static void child_barrier_in_section(void)
{
	ebr_read_lock();
	ebr_barrier();
}

static void child_unbalanced_unlock(void)
{
	ebr_read_unlock();
}

static void sync_in_callback(struct ebr_head *h)
{
	ebr_synchronize();
}

static void child_sync_in_callback(void)
{
	static struct ebr_head h;

	ebr_call(&h, sync_in_callback);
	ebr_barrier();
}

static void all_tests(void)
{
	test_basic();
	test_stuck_reader();
	test_exited_threads();
	test_flood();
}

static void fenced_run(void)
{
	ebr_init_mode(false);
	all_tests();
}

int main(void)
{
	ok_in_child(fenced_run, "every test below also passes in fenced mode");
	ebr_init();
	diag("read-side mode: %s",
	     ebr_asymmetric() ? "asymmetric (membarrier)" : "fenced");
	all_tests();
	ok(dies_with_panic(child_sync_in_section),
	   "ebr_synchronize inside a section panics");
	ok(dies_with_panic(child_barrier_in_section),
	   "ebr_barrier inside a section panics");
	ok(dies_with_panic(child_unbalanced_unlock),
	   "unbalanced ebr_read_unlock panics");
	ok(dies_with_panic(child_sync_in_callback),
	   "ebr_synchronize from a callback panics");
	return tap_done();
}
