/* SPDX-License-Identifier: MIT */
/*
 * bench-sync: what every contender (tidal EBR, liburcu urcu-memb, Concurrency
 * Kit ck_epoch, pthread_rwlock) provides to the harness in bench_sync.c.
 * Each contender lives in its own file so that its fast paths are inlined
 * into its own loops, as a real user would get them.
 */
#ifndef TIDAL_TESTS_BENCH_SYNC_H
#define TIDAL_TESTS_BENCH_SYNC_H

#include <stdbool.h>
#include <stdint.h>

/* An object freed through deferred reclamation; room for any header. */
struct bobj {
	void *hdr[4];
	char payload[64];
};

struct contender {
	const char *name;      /* JSON prefix */
	const char *label;     /* table heading */
	void (*online)(void);  /* a thread starts using the contender */
	void (*offline)(void); /* ... and stops */
	/* Time @iters empty read-side sections, in ns (NULL: a lock only). */
	double (*read_loop)(uint64_t iters);
	/* One read-side section around @fn(). */
	void (*section)(void (*fn)(void));
	void (*synchronize)(void); /* NULL: no grace periods */
	/* Unlink-and-free of @o: deferred, or at once for a plain lock. */
	void (*retire)(struct bobj *o);
	void (*quiesce)(void); /* all retired objects freed */
	/* rwlock acquire+release loops, ns in total (NULL: not a lock). */
	double (*rw_read_loop)(uint64_t iters);
	double (*rw_write_loop)(uint64_t iters);
};

extern const struct contender bench_tidal, bench_tidal_pcpu, bench_urcu,
	bench_urcu_inline, bench_ck, bench_pthread;

/* Harness services. */
uint64_t bench_now_ns(void);
struct bobj *bench_alloc(void);
void bench_free(struct bobj *o);

#endif
