// SPDX-License-Identifier: MIT
/*
 * bench-sync contender: Concurrency Kit's ck_epoch.  One record per thread;
 * deferred frees are dispatched by ck_epoch_poll() every 64 calls, the
 * same rhythm as tidal's EBR_PENDING_STEP.
 */
#include <ck_epoch.h>
#include <pthread.h>
#include <stdlib.h>

#include "tests/bench/bench_sync.h"

_Static_assert(sizeof(ck_epoch_entry_t) <= sizeof(((struct bobj *)0)->hdr),
	       "ck_epoch_entry_t fits the object header");

static ck_epoch_t epoch;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread ck_epoch_record_t *rec;
static __thread unsigned int calls;

static void init_epoch(void)
{
	ck_epoch_init(&epoch);
}

static void online(void)
{
	pthread_once(&once, init_epoch);
	if (rec)
		return;
	rec = ck_epoch_recycle(&epoch, NULL);
	if (!rec) {
		rec = malloc(sizeof(*rec));
		if (!rec)
			abort();
		ck_epoch_register(&epoch, rec, NULL);
	}
}

static void offline(void)
{
	/* Run what is left, then give the record back for reuse. */
	ck_epoch_barrier(rec);
	ck_epoch_unregister(rec);
	rec = NULL;
}

static double read_loop(uint64_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		ck_epoch_begin(rec, NULL);
		__asm__ __volatile__("" ::: "memory");
		ck_epoch_end(rec, NULL);
	}
	return (double)(bench_now_ns() - t0);
}

static void section(void (*fn)(void))
{
	ck_epoch_begin(rec, NULL);
	fn();
	ck_epoch_end(rec, NULL);
}

static void synchronize(void)
{
	ck_epoch_synchronize(rec);
}

static void free_cb(ck_epoch_entry_t *e)
{
	bench_free((struct bobj *)e);
}

static void retire(struct bobj *o)
{
	ck_epoch_call(rec, (ck_epoch_entry_t *)o->hdr, free_cb);
	if (++calls % 64 == 0)
		ck_epoch_poll(rec);
}

static void quiesce(void)
{
	ck_epoch_barrier(rec);
}

const struct contender bench_ck = {
	.name = "ck",
	.label = "ck_epoch",
	.online = online,
	.offline = offline,
	.read_loop = read_loop,
	.section = section,
	.synchronize = synchronize,
	.retire = retire,
	.quiesce = quiesce,
};
