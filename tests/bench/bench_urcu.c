// SPDX-License-Identifier: MIT
/*
 * bench-sync contender: liburcu's urcu-memb flavour, through its library
 * calls (the default API).  bench_urcu_inline.c is the same with the
 * read side inlined (_LGPL_SOURCE).
 */
#ifndef URCU_CONTENDER
#define URCU_CONTENDER bench_urcu
#define URCU_NAME      "urcu"
#define URCU_LABEL     "liburcu memb"
#define URCU_OWNS_SHARED
#endif
#include <urcu/urcu-memb.h>

#include "tests/bench/bench_sync.h"

_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct bobj *)0)->hdr),
	       "rcu_head fits the object header");

/*
 * Both urcu contenders drive the same library, whose registration is per
 * thread: count them, so that a thread registers once.
 */
#ifdef URCU_OWNS_SHARED
__thread int bench_urcu_users;
#else
extern __thread int bench_urcu_users;
#endif

static void online(void)
{
	if (bench_urcu_users++ == 0)
		urcu_memb_register_thread();
}

static void offline(void)
{
	if (--bench_urcu_users == 0)
		urcu_memb_unregister_thread();
}

static double read_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		urcu_memb_read_lock();
		__asm__ __volatile__("" ::: "memory");
		urcu_memb_read_unlock();
	}
	return (double)(bench_now_ns() - t0);
}

static void section(void (*fn)(void))
{
	urcu_memb_read_lock();
	fn();
	urcu_memb_read_unlock();
}

static void free_cb(struct rcu_head *h)
{
	bench_free((struct bobj *)h);
}

static void retire(struct bobj *o)
{
	urcu_memb_call_rcu((struct rcu_head *)o->hdr, free_cb);
}

static void quiesce(void)
{
	urcu_memb_barrier();
}

const struct contender URCU_CONTENDER = {
	.name = URCU_NAME,
	.label = URCU_LABEL,
	.online = online,
	.offline = offline,
	.read_loop = read_loop,
	.section = section,
	.synchronize = urcu_memb_synchronize_rcu,
	.retire = retire,
	.quiesce = quiesce,
};
