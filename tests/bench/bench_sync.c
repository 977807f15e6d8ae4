// SPDX-License-Identifier: MIT
/*
 * bench-sync: tidal's EBR and rwlock against liburcu (urcu-memb),
 * Concurrency Kit (ck_epoch) and pthread_rwlock, in one run on one machine.
 *
 * Metrics (JSON key <contender>.<metric>):
 *   read_ns          read-side section enter+exit, one thread, best of
 *                    15 rounds run round-robin across contenders
 *   sync_us          one grace period (synchronize), no other reader;
 *                    median of sync_iters calls
 *   sync_busy_us     the same while another thread runs sections non-stop
 *   free_mops        deferred frees per second (millions) by one writer
 *                    while another thread runs sections, until all are
 *                    really freed
 *   peak_pending_kib peak of memory retired but not yet freed in that flood
 *   rw_read_ns_1t/2t rwlock read lock+unlock with 1 (best round, as
 *                    read_ns) and 2 threads (best of 3)
 *   rw_write_ns_1t/2t rwlock write lock+unlock with 1 and 2 threads
 *
 * Usage: bench_sync [--json] [--quick]
 */
#define _GNU_SOURCE
#include "tests/bench/bench_sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct contender *const contenders[] = {
	&bench_tidal,	    &bench_tidal_pcpu, &bench_urcu,
	&bench_urcu_inline, &bench_ck,	       &bench_pthread,
};
#define NCONT (sizeof(contenders) / sizeof(contenders[0]))

enum metric {
	M_READ,
	M_SYNC,
	M_SYNC_BUSY,
	M_FREE,
	M_PEAK,
	M_RW_READ_1T,
	M_RW_READ_2T,
	M_RW_WRITE_1T,
	M_RW_WRITE_2T,
	M_COUNT,
};

static const struct {
	const char *key, *label, *fmt;
} metrics[M_COUNT] = {
	[M_READ] = {"read_ns", "read section enter+exit (ns)", "%.2f"},
	[M_SYNC] = {"sync_us", "grace period, idle (us)", "%.2f"},
	[M_SYNC_BUSY] = {"sync_busy_us", "grace period, busy reader (us)",
			 "%.2f"},
	[M_FREE] = {"free_mops", "deferred frees (M/s)", "%.2f"},
	[M_PEAK] = {"peak_pending_kib", "peak pending (KiB)", "%.0f"},
	[M_RW_READ_1T] = {"rw_read_ns_1t", "rwlock read, 1 thread (ns)",
			  "%.2f"},
	[M_RW_READ_2T] = {"rw_read_ns_2t", "rwlock read, 2 threads (ns)",
			  "%.2f"},
	[M_RW_WRITE_1T] = {"rw_write_ns_1t", "rwlock write, 1 thread (ns)",
			   "%.2f"},
	[M_RW_WRITE_2T] = {"rw_write_ns_2t", "rwlock write, 2 threads (ns)",
			   "%.2f"},
};

static double results[NCONT][M_COUNT];
static bool have[NCONT][M_COUNT];

static uint64_t read_iters = 1000000, sync_iters = 2000, flood_objs = 1000000,
		rw_iters = 500000;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Objects retired and not yet freed, and the peak of that count. */
static int64_t live, peak;

struct bobj *bench_alloc(void)
{
	struct bobj *o = malloc(sizeof(*o));
	int64_t n, p;

	if (!o) {
		fprintf(stderr, "bench_sync: out of memory\n");
		exit(1);
	}
	memset(o, 0, sizeof(*o));
	n = __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	p = __atomic_load_n(&peak, __ATOMIC_RELAXED);
	while (n > p &&
	       !__atomic_compare_exchange_n(&peak, &p, n, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return o;
}

void bench_free(struct bobj *o)
{
	__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
	free(o);
}

/* A thread that runs read-side sections until told to stop. */
struct reader_arg {
	const struct contender *c;
	int stop, running;
};

static volatile uint64_t reader_sink;

static void reader_body(void)
{
	for (int i = 0; i < 16; i++)
		reader_sink++;
}

static void *busy_reader(void *p)
{
	struct reader_arg *a = p;

	a->c->online();
	__atomic_store_n(&a->running, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE))
		a->c->section(reader_body);
	a->c->offline();
	return NULL;
}

static void start_reader(pthread_t *t, struct reader_arg *a,
			 const struct contender *c)
{
	a->c = c;
	a->stop = a->running = 0;
	pthread_create(t, NULL, busy_reader, a);
	while (!__atomic_load_n(&a->running, __ATOMIC_ACQUIRE))
		;
}

static void stop_reader(pthread_t t, struct reader_arg *a)
{
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
}

static void set(unsigned int ci, enum metric m, double v)
{
	results[ci][m] = v;
	have[ci][m] = true;
}

/*
 * Single-thread costs, measured round-robin: every round times each
 * contender once, and each keeps its best round.  Interleaving gives all
 * contenders the same chances on a machine whose load changes over time.
 */
#define ROUNDS 15

static void keep_best(unsigned int ci, enum metric m, double v)
{
	if (!have[ci][m] || v < results[ci][m])
		set(ci, m, v);
}

static void bench_single_thread(void)
{
	for (unsigned int ci = 0; ci < NCONT; ci++)
		if (contenders[ci]->read_loop)
			contenders[ci]->read_loop(read_iters / 10); /* warm */
	for (int round = 0; round < ROUNDS; round++) {
		for (unsigned int ci = 0; ci < NCONT; ci++) {
			const struct contender *c = contenders[ci];

			if (c->read_loop)
				keep_best(ci, M_READ,
					  c->read_loop(read_iters) /
						  read_iters);
			if (!c->rw_read_loop)
				continue;
			keep_best(ci, M_RW_READ_1T,
				  c->rw_read_loop(rw_iters) / rw_iters);
			keep_best(ci, M_RW_WRITE_1T,
				  c->rw_write_loop(rw_iters) / rw_iters);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median latency of one synchronize, in us.  The median, because on a
 * shared machine a few calls wait for a descheduled reader thread, which
 * says more about the scheduler than about the contender.
 */
static double time_syncs(const struct contender *c)
{
	uint64_t *lat = calloc(sync_iters, sizeof(*lat)), med;

	if (!lat) {
		fprintf(stderr, "bench_sync: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < sync_iters; i++) {
		uint64_t t0 = bench_now_ns();

		c->synchronize();
		lat[i] = bench_now_ns() - t0;
	}
	qsort(lat, sync_iters, sizeof(*lat), cmp_u64);
	med = lat[sync_iters / 2];
	free(lat);
	return med / 1e3;
}

static void bench_sync(unsigned int ci)
{
	const struct contender *c = contenders[ci];
	struct reader_arg a;
	pthread_t t;

	if (!c->synchronize)
		return;
	set(ci, M_SYNC, time_syncs(c));
	start_reader(&t, &a, c);
	set(ci, M_SYNC_BUSY, time_syncs(c));
	stop_reader(t, &a);
}

static void bench_flood(unsigned int ci)
{
	const struct contender *c = contenders[ci];
	struct reader_arg a;
	pthread_t t;
	uint64_t t0, ns;

	if (!c->retire)
		return; /* a lock only */
	c->quiesce();
	__atomic_store_n(&peak, __atomic_load_n(&live, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	start_reader(&t, &a, c);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < flood_objs; i++)
		c->retire(bench_alloc());
	stop_reader(t, &a);
	c->quiesce();
	ns = bench_now_ns() - t0;
	set(ci, M_FREE, flood_objs / (ns / 1e9) / 1e6);
	set(ci, M_PEAK,
	    __atomic_load_n(&peak, __ATOMIC_RELAXED) * sizeof(struct bobj) /
		    1024.0);
}

/* Two threads run the same rwlock loop at once. */
struct rw_arg {
	const struct contender *c;
	double (*loop)(uint64_t);
	int *go;
	double ns;
};

static void *rw_thread(void *p)
{
	struct rw_arg *a = p;

	a->c->online();
	while (!__atomic_load_n(a->go, __ATOMIC_ACQUIRE))
		;
	a->ns = a->loop(rw_iters);
	a->c->offline();
	return NULL;
}

static double rw_two(const struct contender *c, double (*loop)(uint64_t))
{
	struct rw_arg a[2];
	pthread_t t[2];
	int go = 0;

	for (int i = 0; i < 2; i++) {
		a[i] = (struct rw_arg){c, loop, &go, 0};
		pthread_create(&t[i], NULL, rw_thread, &a[i]);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return (a[0].ns > a[1].ns ? a[0].ns : a[1].ns) / rw_iters;
}

static void bench_rw(unsigned int ci)
{
	const struct contender *c = contenders[ci];

	if (!c->rw_read_loop)
		return;
	for (int rep = 0; rep < 3; rep++) {
		keep_best(ci, M_RW_READ_2T, rw_two(c, c->rw_read_loop));
		keep_best(ci, M_RW_WRITE_2T, rw_two(c, c->rw_write_loop));
	}
}

static void print_table(void)
{
	printf("%-32s", "metric");
	for (unsigned int ci = 0; ci < NCONT; ci++)
		printf(" %14s", contenders[ci]->name);
	printf("\n");
	for (int m = 0; m < M_COUNT; m++) {
		printf("%-32s", metrics[m].label);
		for (unsigned int ci = 0; ci < NCONT; ci++) {
			char buf[32] = "-";

			if (have[ci][m])
				snprintf(buf, sizeof(buf), metrics[m].fmt,
					 results[ci][m]);
			printf(" %14s", buf);
		}
		printf("\n");
	}
	printf("\ncontenders:");
	for (unsigned int ci = 0; ci < NCONT; ci++)
		printf(" %s = %s%s", contenders[ci]->name,
		       contenders[ci]->label, ci + 1 < NCONT ? "," : "\n");
}

static void print_json(void)
{
	const char *sep = "";

	printf("{");
	for (unsigned int ci = 0; ci < NCONT; ci++) {
		for (int m = 0; m < M_COUNT; m++) {
			if (!have[ci][m])
				continue;
			printf("%s\"%s.%s\": ", sep, contenders[ci]->name,
			       metrics[m].key);
			printf(metrics[m].fmt, results[ci][m]);
			sep = ", ";
		}
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			read_iters /= 10;
			sync_iters /= 10;
			flood_objs /= 10;
			rw_iters /= 10;
		} else {
			fprintf(stderr,
				"usage: %s [--json] [--quick]\n"
				"  --json   print one JSON object instead of "
				"a table\n"
				"  --quick  a tenth of the iterations\n",
				argv[0]);
			return 2;
		}
	}
	for (unsigned int ci = 0; ci < NCONT; ci++)
		contenders[ci]->online();
	bench_single_thread();
	for (unsigned int ci = 0; ci < NCONT; ci++) {
		bench_sync(ci);
		bench_flood(ci);
		bench_rw(ci);
	}
	for (unsigned int ci = 0; ci < NCONT; ci++)
		contenders[ci]->offline();
	if (json)
		print_json();
	else
		print_table();
	return 0;
}
