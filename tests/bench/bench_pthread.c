// SPDX-License-Identifier: MIT
/*
 * bench-sync contender: pthread_rwlock.  Its "read-side section" is a read
 * lock; it has no grace periods, and its "deferred" free is a free under
 * the write lock, so its backlog is always 0.
 */
#include <pthread.h>

#include "tests/bench/bench_sync.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static void nop(void)
{
}

static double read_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		pthread_rwlock_rdlock(&lock);
		__asm__ __volatile__("" ::: "memory");
		pthread_rwlock_unlock(&lock);
	}
	return (double)(bench_now_ns() - t0);
}

static void section(void (*fn)(void))
{
	pthread_rwlock_rdlock(&lock);
	fn();
	pthread_rwlock_unlock(&lock);
}

static void retire(struct bobj *o)
{
	pthread_rwlock_wrlock(&lock);
	bench_free(o);
	pthread_rwlock_unlock(&lock);
}

static double rw_read_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		pthread_rwlock_rdlock(&rw);
		pthread_rwlock_unlock(&rw);
	}
	return (double)(bench_now_ns() - t0);
}

static double rw_write_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		pthread_rwlock_wrlock(&rw);
		pthread_rwlock_unlock(&rw);
	}
	return (double)(bench_now_ns() - t0);
}

const struct contender bench_pthread = {
	.name = "pthread",
	.label = "pthread_rwlock",
	.online = nop,
	.offline = nop,
	.read_loop = read_loop,
	.section = section,
	.retire = retire,
	.quiesce = nop,
	.rw_read_loop = rw_read_loop,
	.rw_write_loop = rw_write_loop,
};
