// SPDX-License-Identifier: MIT
/*
 * The interleaving explorer's scheduler.  See explore.h.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ebr.h"
#include "tests/host/mmu/explore.h"
#include "tests/host/platform_host.h"

#define EX_MAIN (-2) /* the baton is back with the main thread */

struct ex_step {
	uint8_t ncand, pos;
	uint8_t cand[EX_MAX_THREADS];
	bool branch; /* another choice could be explored here */
	bool free;   /* a different choice costs no preemption */
	uint16_t preempt_before;
};

struct ex_dev {
	int step, thread;
};

static struct {
	pthread_mutex_t m;
	pthread_cond_t cv;
	const struct ex_scenario *s;
	int cur;
	int registered;
	bool done[EX_MAX_THREADS];
	struct ex_dev devs[EX_MAX_DEVS];
	int ndevs;
	int nsteps;
	int preemptions;
	struct ex_step steps[EX_MAX_STEPS];
	bool failed;
	char failure[512];
} ex = {
	.m = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

static __thread int self = -1;
static __thread bool in_check;

int ex_self(void)
{
	return self;
}

int ex_step(void)
{
	return ex.nsteps;
}

static void format_schedule(char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	if (!ex.ndevs) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < ex.ndevs && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%d:%d", i ? "," : "",
				      ex.devs[i].step, ex.devs[i].thread);
}

void ex_fail(const char *fmt, ...)
{
	va_list ap;

	if (ex.failed)
		return;
	ex.failed = true;
	va_start(ap, fmt);
	vsnprintf(ex.failure, sizeof(ex.failure), fmt, ap);
	va_end(ap);
}

bool ex_failed(void)
{
	return ex.failed;
}

/* Where a panic or a hang ends the program: say how to get here again. */
static void print_where(void)
{
	char sched[256];

	if (!ex.s)
		return;
	format_schedule(sched, sizeof(sched));
	fprintf(stderr,
		"explore: scenario %s, step %d, schedule %s\n"
		"explore: replay with: test_mmu_explore --replay %s %s\n",
		ex.s->name, ex.nsteps, sched, ex.s->name, sched);
}

static void fatal(const char *why)
{
	fprintf(stderr, "explore: %s\n", why);
	print_where();
	printf("Bail out! explore: %s\n", why);
	fflush(stdout);
	abort();
}

static int forced_choice(int step)
{
	int i;

	for (i = 0; i < ex.ndevs; i++)
		if (ex.devs[i].step == step)
			return ex.devs[i].thread;
	return -1;
}

/*
 * One decision.  @me: the thread at the point (-1 at the start);
 * @blocked: it cannot go on (spin-wait, yield) or has ended; @may_stay:
 * it may keep the baton if nobody else can run.
 */
static int decide(int me, bool blocked, bool may_stay)
{
	int k = ex.nsteps++, want, i, t;
	struct ex_step *st;

	if (k >= EX_MAX_STEPS)
		fatal("too many steps: a livelock, or a thread spinning on "
		      "something no thread will do");
	st = &ex.steps[k];
	st->ncand = 0;
	st->preempt_before = (uint16_t)ex.preemptions;
	if (!blocked && me >= 0)
		st->cand[st->ncand++] = (uint8_t)me;
	for (i = 1; i <= ex.s->nthreads; i++) {
		t = (me + i + ex.s->nthreads) % ex.s->nthreads;
		if (me < 0)
			t = i - 1;
		if (t != me && !ex.done[t])
			st->cand[st->ncand++] = (uint8_t)t;
	}
	if (!st->ncand) {
		if (may_stay)
			return me;
		if (me >= 0 && !ex.done[me])
			fatal("deadlock: the only runnable thread waits");
		return EX_MAIN;
	}
	/* A spinning thread just hands on: no branching, it changes nothing. */
	st->branch = !(blocked && me >= 0 && !ex.done[me]);
	st->free = blocked || me < 0;
	if (!st->branch)
		st->ncand = 1;
	st->pos = 0;
	want = forced_choice(k);
	if (want >= 0) {
		for (i = 0; i < st->ncand && st->cand[i] != want; i++)
			;
		if (i == st->ncand) {
			ex_fail("replay diverged at step %d", k);
			i = 0;
		}
		st->pos = (uint8_t)i;
	}
	if (st->pos && !st->free)
		ex.preemptions++;
	return st->cand[st->pos];
}

static void hand_to(int next)
{
	ex.cur = next;
	pthread_cond_broadcast(&ex.cv);
}

static void wait_for(int me)
{
	while (ex.cur != me)
		pthread_cond_wait(&ex.cv, &ex.m);
}

static void hook(enum sched_point p, const void *addr)
{
	int me = self, next;
	bool blocked = p == SCHED_SPIN || p == SCHED_YIELD;

	(void)addr;
	if (me < 0 || in_check)
		return;
	if (ex.s->step_check) {
		in_check = true;
		ex.s->step_check();
		in_check = false;
	}
	next = decide(me, blocked, p == SCHED_YIELD);
	if (next == me)
		return;
	pthread_mutex_lock(&ex.m);
	hand_to(next);
	wait_for(me);
	pthread_mutex_unlock(&ex.m);
}

static bool yield_hook(void)
{
	return self >= 0 && ((ex.s->yield_mask >> self) & 1);
}

static void *thread_main(void *arg)
{
	int me = (int)(intptr_t)arg, next;

	host_thread_register();
	host_srand((uint64_t)me + 1);
	pthread_mutex_lock(&ex.m);
	ex.registered++;
	pthread_cond_broadcast(&ex.cv);
	wait_for(me);
	pthread_mutex_unlock(&ex.m);

	self = me;
	ex.s->thread[me]();
	if (ex.s->step_check) {
		in_check = true;
		ex.s->step_check();
		in_check = false;
	}
	self = -1;
	host_thread_unregister();

	pthread_mutex_lock(&ex.m);
	ex.done[me] = true;
	next = decide(me, true, false);
	hand_to(next);
	pthread_mutex_unlock(&ex.m);
	return NULL;
}

static void run_one(const struct ex_scenario *s)
{
	pthread_t t[EX_MAX_THREADS];
	int i;

	ex.s = s;
	ex.nsteps = 0;
	ex.preemptions = 0;
	ex.registered = 0;
	ex.cur = -1;
	memset(ex.done, 0, sizeof(ex.done));
	s->setup();
	host_sched_hook = hook;
	host_should_yield_hook = yield_hook;
	/* One at a time, so that CPU ids come out the same every run. */
	for (i = 0; i < s->nthreads; i++) {
		pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
		pthread_mutex_lock(&ex.m);
		while (ex.registered != i + 1)
			pthread_cond_wait(&ex.cv, &ex.m);
		pthread_mutex_unlock(&ex.m);
	}
	pthread_mutex_lock(&ex.m);
	hand_to(decide(-1, false, false));
	wait_for(EX_MAIN);
	pthread_mutex_unlock(&ex.m);
	for (i = 0; i < s->nthreads; i++)
		pthread_join(t[i], NULL);
	host_sched_hook = NULL;
	host_should_yield_hook = NULL;
	/* Every callback of this run runs now, not in the next one. */
	ebr_barrier();
	s->finish();
	ebr_barrier();
}

/* The next schedule in depth-first order within @bound, false if none. */
static bool next_schedule(int bound)
{
	struct ex_step *st;
	int k, p, i, n;

	for (k = ex.nsteps - 1; k >= 0; k--) {
		st = &ex.steps[k];
		if (!st->branch)
			continue;
		for (p = st->pos + 1; p < st->ncand; p++) {
			if (st->preempt_before + (st->free ? 0 : 1) > bound)
				break;
			for (i = n = 0; i < ex.ndevs; i++)
				if (ex.devs[i].step < k)
					ex.devs[n++] = ex.devs[i];
			if (n == EX_MAX_DEVS)
				fatal("schedule too long");
			ex.devs[n].step = k;
			ex.devs[n].thread = st->cand[p];
			ex.ndevs = n + 1;
			return true;
		}
	}
	return false;
}

static void result_of_run(struct ex_result *r)
{
	r->schedules++;
	if ((uint64_t)ex.nsteps > r->max_steps)
		r->max_steps = (uint64_t)ex.nsteps;
	if (ex.failed) {
		r->failed = true;
		snprintf(r->failure, sizeof(r->failure), "%s", ex.failure);
		format_schedule(r->schedule, sizeof(r->schedule));
	}
}

static void panic_hook(void)
{
	print_where();
}

void ex_explore(const struct ex_scenario *s, int bound, uint64_t max_schedules,
		struct ex_result *r)
{
	memset(r, 0, sizeof(*r));
	ex.ndevs = 0;
	ex.failed = false;
	if (s->max_bound && bound > s->max_bound)
		bound = s->max_bound;
	r->bound = bound;
	host_panic_hook = panic_hook;
	do {
		run_one(s);
		result_of_run(r);
		if (r->failed)
			break;
		if (max_schedules && r->schedules >= max_schedules)
			break;
	} while (next_schedule(bound));
	host_panic_hook = NULL;
	ex.s = NULL;
}

void ex_replay(const struct ex_scenario *s, const char *sched,
	       struct ex_result *r)
{
	const char *p = sched;
	char *end;

	memset(r, 0, sizeof(*r));
	ex.ndevs = 0;
	ex.failed = false;
	while (*p && *p != '-' && ex.ndevs < EX_MAX_DEVS) {
		ex.devs[ex.ndevs].step = (int)strtol(p, &end, 10);
		if (*end != ':')
			break;
		ex.devs[ex.ndevs].thread = (int)strtol(end + 1, &end, 10);
		ex.ndevs++;
		p = *end == ',' ? end + 1 : end;
	}
	host_panic_hook = panic_hook;
	run_one(s);
	result_of_run(r);
	host_panic_hook = NULL;
	ex.s = NULL;
}
