/* SPDX-License-Identifier: MIT */
/*
 * A deterministic interleaving explorer for the portable core.
 *
 * A scenario has 2 or 3 logical threads.  Each is a host thread, but only
 * the one holding the baton runs: at every scheduling point of the core
 * (lib/platform.h: SPTE atomics, lock/unlock, EBR enter/exit, flush
 * commit) the running thread asks the scheduler who runs next.  By
 * default it goes on; a *preemption* hands the baton to another thread
 * although this one could continue.  Spin-waits (platform_relax) and
 * platform_yield() always hand it on, for free.
 *
 * The explorer enumerates, depth first, every schedule with at most
 * @bound preemptions.  A schedule is named by its deviations from the
 * default choice, "step:thread,step:thread,...", printed with every
 * failure and accepted by --replay.  At every step, before the scheduler
 * decides, the scenario's step check runs (with every other thread
 * stopped, so it may read any shared state without locks; it must not
 * take any).
 */
#ifndef TIDAL_TESTS_HOST_MMU_EXPLORE_H
#define TIDAL_TESTS_HOST_MMU_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#define EX_MAX_THREADS 3
#define EX_MAX_STEPS   20000
#define EX_MAX_DEVS    16

struct ex_scenario {
	const char *name;
	int nthreads;
	/* Main thread, before the threads start: build the state. */
	void (*setup)(void);
	/* Thread bodies (registered platform CPUs, EBR ready). */
	void (*thread[EX_MAX_THREADS])(void);
	/* At every scheduling point, with the baton; NULL: none. */
	void (*step_check)(void);
	/* Main thread, after every thread ended: final checks, teardown. */
	void (*finish)(void);
	/* platform_should_yield() answers yes in these threads (bit mask). */
	unsigned int yield_mask;
	/*
	 * If not 0: never more preemptions than this (a scenario with a
	 * long run of points, e.g. a table of 512 entries frozen one by
	 * one under the write lock, would otherwise take minutes).
	 */
	int max_bound;
};

struct ex_result {
	uint64_t schedules; /* complete runs */
	int bound;	    /* the preemption bound used */
	uint64_t max_steps; /* longest run, in scheduling points */
	bool failed;
	char failure[512];
	char schedule[256]; /* the failing schedule */
};

/*
 * Run every schedule of @s with at most @bound preemptions (stop at the
 * first failure, or after @max_schedules runs if not 0).
 */
void ex_explore(const struct ex_scenario *s, int bound, uint64_t max_schedules,
		struct ex_result *r);
/* Run the one schedule named by @sched (see above). */
void ex_replay(const struct ex_scenario *s, const char *sched,
	       struct ex_result *r);

/* For scenarios: record a property violation (the first one counts). */
void ex_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool ex_failed(void);
/* Index of the calling logical thread, -1 outside of one. */
int ex_self(void);
/* Which logical thread holds which lock/section is not tracked; this is. */
int ex_step(void);

#endif
