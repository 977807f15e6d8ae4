// SPDX-License-Identifier: MIT
/* Unit tests for lib/spinlock.c. */
#define _GNU_SOURCE
#include "lib/spinlock.h"
#include "lib/atomic.h"
#include "lib/lock_cpu.h"
#include "tests/host/platform_host.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#include <pthread.h>

#define NTHREADS 4
#define ITERS	 20000

static spinlock_t counter_lock = SPINLOCK_INIT;
static unsigned long counter; /* plain: only touched under the lock */
static unsigned long max_inside, inside;

static void *hammer(void *arg)
{
	for (int i = 0; i < ITERS; i++) {
		if (i % 3 == 0) {
			while (!spin_trylock(&counter_lock))
				platform_relax();
		} else if (i % 3 == 1) {
			spin_lock(&counter_lock);
		} else {
			unsigned long f = spin_lock_irqsave(&counter_lock);

			counter++;
			spin_unlock_irqrestore(&counter_lock, f);
			continue;
		}
		inside++;
		if (inside > max_inside)
			max_inside = inside;
		counter++;
		inside--;
		spin_unlock(&counter_lock);
	}
	host_thread_unregister();
	return NULL;
}

/* Order in which queued waiters got the lock. */
static spinlock_t fifo_lock = SPINLOCK_INIT;
static int order[3], norder;
static int started;

static void *fifo_waiter(void *arg)
{
	int me = (int)(intptr_t)arg;

	atomic_inc(&started);
	spin_lock(&fifo_lock);
	order[norder++] = me;
	spin_unlock(&fifo_lock);
	host_thread_unregister();
	return NULL;
}

static void test_fifo(void)
{
	pthread_t t[3];

	spin_lock(&fifo_lock);
	for (int i = 0; i < 3; i++) {
		uint32_t want = READ_ONCE(fifo_lock.next) + 1;

		pthread_create(&t[i], NULL, fifo_waiter, (void *)(intptr_t)i);
		/* Wait until waiter i holds its ticket before starting i+1. */
		while (READ_ONCE(fifo_lock.next) != want)
			platform_relax();
	}
	ok(spin_is_contended(&fifo_lock), "queued waiters show as contention");
	spin_unlock(&fifo_lock);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok(order[0] == 0 && order[1] == 1 && order[2] == 2,
	   "waiters are served in arrival order (%d %d %d)", order[0], order[1],
	   order[2]);
}

static void *try_other(void *arg)
{
	spinlock_t *l = arg;
	bool got = spin_trylock(l);

	if (got)
		spin_unlock(l);
	host_thread_unregister();
	return (void *)(intptr_t)got;
}

static bool trylock_from_other_thread(spinlock_t *l)
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, try_other, l);
	pthread_join(t, &ret);
	return ret != NULL;
}

static void child_recursive(void)
{
	spinlock_t l = SPINLOCK_INIT;

	spin_lock(&l);
	spin_lock(&l);
}

static void child_unlock_unheld(void)
{
	spinlock_t l = SPINLOCK_INIT;

	spin_unlock(&l);
}

static void child_assert_held(void)
{
	spinlock_t l = SPINLOCK_INIT;

	spin_assert_held(&l);
}

int main(void)
{
	spinlock_t l;
	pthread_t t[NTHREADS];

	spin_lock_init(&l);
	ok(!spin_is_locked(&l), "a new lock is free");
	ok(spin_trylock(&l), "trylock takes a free lock");
	ok(spin_is_locked(&l), "and then it is locked");
	is_int(lock_cpu_held(), 1, "the CPU counts one held lock");
	spin_assert_held(&l);
	ok(!trylock_from_other_thread(&l),
	   "trylock fails while another holds it");
	spin_unlock(&l);
	is_int(lock_cpu_held(), 0, "and none after unlock");
	spin_assert_not_held(&l);
	ok(trylock_from_other_thread(&l), "trylock succeeds once released");
	ok(!spin_is_locked(&l), "the other thread released it");

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	is_int(counter, NTHREADS * ITERS, "no increment lost under contention");
	is_int(max_inside, 1, "never two holders at once");

	test_fifo();

	ok(dies_with_panic(child_recursive), "recursive locking panics");
	ok(dies_with_panic(child_unlock_unheld),
	   "unlocking a free lock panics");
	ok(dies_with_panic(child_assert_held),
	   "spin_assert_held on a free lock panics");
	return tap_done();
}
