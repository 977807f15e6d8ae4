// SPDX-License-Identifier: MIT
/* bench-sync contender: tidal's EBR and rwlock (release build). */
#include "tests/bench/bench_sync.h"
#include "lib/compiler.h"
#include "lib/ebr.h"
#include "lib/rwlock.h"
#include "tests/host/platform_host.h"

STATIC_ASSERT(sizeof(struct ebr_head) <= sizeof(((struct bobj *)0)->hdr),
	      "ebr_head fits the object header");

static bool inited;

static void online(void)
{
	/* The first call comes from main(), before any other thread. */
	if (!inited) {
		ebr_init();
		inited = true;
	}
	host_thread_register();
}

static void offline(void)
{
	host_thread_unregister();
}

static double read_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		ebr_read_lock();
		__asm__ __volatile__("" ::: "memory");
		ebr_read_unlock();
	}
	return (double)(bench_now_ns() - t0);
}

static void section(void (*fn)(void))
{
	ebr_read_lock();
	fn();
	ebr_read_unlock();
}

static void free_cb(struct ebr_head *h)
{
	bench_free((struct bobj *)h);
}

static void retire(struct bobj *o)
{
	ebr_call((struct ebr_head *)o->hdr, free_cb);
}

static rwlock_t lock = RWLOCK_INIT; /* queued flavour */
static rwlock_t plock;		    /* per-CPU flavour (mmu_lock's) */

static double read_loop_on(rwlock_t *l, uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		rwlock_read_lock(l);
		rwlock_read_unlock(l);
	}
	return (double)(bench_now_ns() - t0);
}

static double write_loop_on(rwlock_t *l, uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		rwlock_write_lock(l);
		rwlock_write_unlock(l);
	}
	return (double)(bench_now_ns() - t0);
}

static double rw_read_loop(uint64_t iters)
{
	return read_loop_on(&lock, iters);
}

static double rw_write_loop(uint64_t iters)
{
	return write_loop_on(&lock, iters);
}

static double pcpu_read_loop(uint64_t iters)
{
	return read_loop_on(&plock, iters);
}

static double pcpu_write_loop(uint64_t iters)
{
	return write_loop_on(&plock, iters);
}

/* main() calls it first, before any other thread: no race on the init. */
static void pcpu_online(void)
{
	static bool ready;

	online();
	if (!ready && !rwlock_init_percpu(&plock))
		panic("bench: out of memory");
	ready = true;
}

const struct contender bench_tidal = {
	.name = "tidal",
	.label = "tidal EBR/rwlock",
	.online = online,
	.offline = offline,
	.read_loop = read_loop,
	.section = section,
	.synchronize = ebr_synchronize,
	.retire = retire,
	.quiesce = ebr_barrier,
	.rw_read_loop = rw_read_loop,
	.rw_write_loop = rw_write_loop,
};

/* The per-CPU rwlock flavour: lock figures only. */
const struct contender bench_tidal_pcpu = {
	.name = "tidal_pcpu",
	.label = "tidal per-CPU rwlock (mmu_lock)",
	.online = pcpu_online,
	.offline = offline,
	.rw_read_loop = pcpu_read_loop,
	.rw_write_loop = pcpu_write_loop,
};
