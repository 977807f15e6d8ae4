// SPDX-License-Identifier: MIT
/* Unit tests for lib/rwlock.c, run on both flavours (queued, per-CPU). */
#define _GNU_SOURCE
#include "lib/rwlock.h"
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "tests/host/platform_host.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#include <pthread.h>

static rwlock_t lock = RWLOCK_INIT;
static bool percpu; /* the flavour under test */

static void init_lock(rwlock_t *l)
{
	if (percpu)
		BUG_ON(!rwlock_init_percpu(l));
	else
		rwlock_init(l);
}

/* Run @fn(arg) in a new thread and return its result. */
static intptr_t in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, fn, arg);
	pthread_join(t, &ret);
	return (intptr_t)ret;
}

static void *try_read(void *arg)
{
	bool got = rwlock_read_trylock(&lock);

	if (got)
		rwlock_read_unlock(&lock);
	host_thread_unregister();
	return (void *)(intptr_t)got;
}

static void *try_write(void *arg)
{
	bool got = rwlock_write_trylock(&lock);

	if (got)
		rwlock_write_unlock(&lock);
	host_thread_unregister();
	return (void *)(intptr_t)got;
}

static void test_basic(void)
{
	rwlock_read_lock(&lock);
	rwlock_assert_held_read(&lock);
	rwlock_assert_held(&lock);
	is_int(lock_cpu_held(), 1, "a read lock counts as held");
	if (percpu)
		ok(READ_ONCE(lock.cnts) == 0 &&
			   READ_ONCE(lock.readers[platform_cpu_id()].count) ==
				   1,
		   "a reader writes only its own CPU's count");
	ok(in_thread(try_read, NULL), "a second reader gets in");
	ok(!in_thread(try_write, NULL),
	   "a writer does not get in with a reader");
	ok(!rwlock_contended(&lock), "no contention with nobody waiting");
	rwlock_read_unlock(&lock);
	rwlock_assert_not_held(&lock);

	rwlock_write_lock(&lock);
	rwlock_assert_held_write(&lock);
	rwlock_assert_held(&lock);
	ok(!in_thread(try_read, NULL), "no reader while a writer holds it");
	ok(!in_thread(try_write, NULL), "no second writer");
	rwlock_write_unlock(&lock);
	is_int(lock_cpu_held(), 0, "nothing held after unlock");

	ok(rwlock_write_trylock(&lock), "write trylock on a free lock");
	rwlock_write_unlock(&lock);
	ok(rwlock_read_trylock(&lock), "read trylock on a free lock");
	rwlock_read_unlock(&lock);
	ok(in_thread(try_write, NULL), "the lock is free at the end");
}

/*
 * Writer starvation: two readers keep the lock read-held at all times
 * (their sections overlap); a writer must still get in, and while it
 * waits the holders see contention.
 */
static int stop_readers, writer_done, saw_contended;

static void *overlapping_reader(void *arg)
{
	while (!load_acquire(&stop_readers)) {
		rwlock_read_lock(&lock);
		if (rwlock_contended(&lock))
			WRITE_ONCE(saw_contended, 1);
		for (int i = 0; i < 200; i++)
			platform_relax();
		rwlock_read_unlock(&lock);
	}
	host_thread_unregister();
	return NULL;
}

static void *starving_writer(void *arg)
{
	rwlock_write_lock(&lock);
	rwlock_assert_held_write(&lock);
	rwlock_write_unlock(&lock);
	store_release(&writer_done, 1);
	host_thread_unregister();
	return NULL;
}

static void test_writer_not_starved(void)
{
	pthread_t r[3], w;
	uint64_t t0;

	for (int i = 0; i < 3; i++)
		pthread_create(&r[i], NULL, overlapping_reader, NULL);
	/* Let the readers get going before the writer arrives. */
	t0 = platform_time_ns();
	while (platform_time_ns() - t0 < 20000000)
		platform_relax();
	pthread_create(&w, NULL, starving_writer, NULL);
	t0 = platform_time_ns();
	while (!load_acquire(&writer_done) &&
	       platform_time_ns() - t0 < 5000000000ull)
		platform_yield();
	ok(load_acquire(&writer_done),
	   "a writer gets in while readers stream (%.1f ms)",
	   (platform_time_ns() - t0) / 1e6);
	store_release(&stop_readers, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	pthread_join(w, NULL);
	diag("readers saw contention: %d", saw_contended);
}

/* contended() as seen by a holder while a writer waits. */
static int waiter_started;

static void *blocked_writer(void *arg)
{
	store_release(&waiter_started, 1);
	rwlock_write_lock(&lock);
	rwlock_write_unlock(&lock);
	host_thread_unregister();
	return NULL;
}

static void test_contended(void)
{
	pthread_t w;
	uint64_t t0;
	bool seen = false;

	rwlock_read_lock(&lock);
	pthread_create(&w, NULL, blocked_writer, NULL);
	t0 = platform_time_ns();
	while (!seen && platform_time_ns() - t0 < 5000000000ull) {
		seen = rwlock_contended(&lock);
		platform_yield();
	}
	ok(seen, "a reader sees a waiting writer as contention");
	/*
	 * The writer announces itself once queued: RW_WAITING (bit 1) in
	 * the queued flavour, RW_LOCKED (bit 0) in the per-CPU one.
	 */
	while (!(READ_ONCE(lock.cnts) & 0x3) &&
	       platform_time_ns() - t0 < 5000000000ull)
		platform_yield();
	ok(!in_thread(try_read, NULL),
	   "a new reader does not overtake the waiting writer");
	rwlock_read_unlock(&lock);
	pthread_join(w, NULL);
	ok(!rwlock_contended(&lock), "no contention once the writer is done");
}

/* Mutual exclusion with mixed readers and writers. */
#define MIX_THREADS 4
#define MIX_ITERS   20000
static unsigned long pair_a, pair_b; /* equal whenever no writer is inside */
static int torn;

static void *mixed(void *arg)
{
	int id = (int)(intptr_t)arg;

	host_srand(id + 1);
	for (int i = 0; i < MIX_ITERS; i++) {
		if (host_rand() % 4 == 0) {
			rwlock_write_lock(&lock);
			pair_a++;
			platform_relax();
			pair_b++;
			rwlock_write_unlock(&lock);
		} else {
			rwlock_read_lock(&lock);
			if (pair_a != pair_b)
				atomic_inc(&torn);
			rwlock_read_unlock(&lock);
		}
	}
	host_thread_unregister();
	return NULL;
}

static void test_mixed(void)
{
	pthread_t t[MIX_THREADS];

	for (int i = 0; i < MIX_THREADS; i++)
		pthread_create(&t[i], NULL, mixed, (void *)(intptr_t)i);
	for (int i = 0; i < MIX_THREADS; i++)
		pthread_join(t[i], NULL);
	is_int(torn, 0, "readers never see a half-done write");
	is_int(pair_a, pair_b, "every write completed");
	diag("%lu writes", pair_a);
}

/* Misuse caught by the debug checks (each in a forked child). */
static void child_read_recursive(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_read_lock(&l);
	rwlock_read_lock(&l);
}

static void child_write_after_read(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_read_lock(&l);
	rwlock_write_lock(&l);
}

static void child_assert_read_unheld(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_assert_held_read(&l);
}

static void child_assert_write_when_read(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_read_lock(&l);
	rwlock_assert_held_write(&l);
}

static void child_assert_not_held(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_write_lock(&l);
	rwlock_assert_not_held(&l);
}

static void child_unlock_unheld(void)
{
	rwlock_t l;

	init_lock(&l);

	rwlock_read_unlock(&l);
}

static rwlock_t other_lock = RWLOCK_INIT;

static void *hold_read_forever(void *arg)
{
	rwlock_read_lock(&other_lock);
	store_release((int *)arg, 1);
	for (;;)
		platform_yield();
	return NULL;
}

/* Held for read by someone else is not "held" by me. */
static void child_assert_held_by_other(void)
{
	pthread_t t;
	int up = 0;

	init_lock(&other_lock);
	pthread_create(&t, NULL, hold_read_forever, &up);
	while (!load_acquire(&up))
		platform_yield();
	rwlock_assert_held(&other_lock);
}

static void test_debug_checks(void)
{
	ok(dies_with_panic(child_read_recursive), "recursive read lock panics");
	ok(dies_with_panic(child_write_after_read),
	   "write lock while holding it for read panics");
	ok(dies_with_panic(child_assert_read_unheld),
	   "assert_held_read on a free lock panics");
	ok(dies_with_panic(child_assert_write_when_read),
	   "assert_held_write with only a read hold panics");
	ok(dies_with_panic(child_assert_not_held),
	   "assert_not_held with a write hold panics");
	ok(dies_with_panic(child_unlock_unheld),
	   "read_unlock of a free lock panics");
	ok(dies_with_panic(child_assert_held_by_other),
	   "assert_held ignores holds of other threads");
}

static void run_all(void)
{
	diag("%s flavour", percpu ? "per-CPU" : "queued");
	init_lock(&lock);
	torn = 0;
	pair_a = pair_b = 0;
	stop_readers = writer_done = saw_contended = waiter_started = 0;
	test_basic();
	test_contended();
	test_writer_not_starved();
	test_mixed();
	test_debug_checks();
	rwlock_destroy(&lock);
}

int main(void)
{
	run_all();
	percpu = true;
	run_all();
	return tap_done();
}
