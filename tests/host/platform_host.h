/* SPDX-License-Identifier: MIT */
/*
 * Host (Linux) implementation of the platform interface: the controls that
 * test programs have over it.
 *
 * Threads are the "CPUs": a thread gets a dense id the first time it calls
 * platform_cpu_id() (or host_thread_register()) and gives it back with
 * host_thread_unregister().  "Physical" addresses are the virtual ones.
 */
#ifndef TIDAL_TESTS_HOST_PLATFORM_HOST_H
#define TIDAL_TESTS_HOST_PLATFORM_HOST_H

#include "lib/platform.h"

#define HOST_MAX_CPUS 64

unsigned int host_thread_register(void);
void host_thread_unregister(void);

/* Counters of the page and object allocators since program start. */
struct host_alloc_stats {
	uint64_t pages_alloced, pages_freed;
	uint64_t objs_alloced, objs_freed;
};
void host_alloc_stats(struct host_alloc_stats *s);
/* Pages and objects currently allocated. */
int64_t host_pages_live(void);
int64_t host_objs_live(void);

/*
 * Failure injection: fail the next page/object allocations after @n more
 * succeed (-1 disables), or fail each with probability @per_million.
 */
void host_alloc_fail_after(long n);
void host_alloc_fail_rate(unsigned int per_million);

/*
 * Hooks, NULL by default.  page_free_hook sees every page before it goes
 * back to libc (a checker can assert nobody still uses it).  should_yield
 * replaces the default answer (yield with a small random probability).
 */
extern void (*host_page_free_hook)(void *page);
extern bool (*host_should_yield_hook)(void);
/*
 * The scheduling-point hook (lib/platform.h, tests/host/include/
 * platform_sched.h): NULL but in the interleaving explorer.
 */
extern void (*host_sched_hook)(enum sched_point point, const void *addr);
/* Called first by platform_panic() (the explorer prints its schedule). */
extern void (*host_panic_hook)(void);

/*
 * Guest-TLB hooks for MMU tests, NULL by default (then the calls are only
 * counted): flush_hook implements platform_flush_guest_tlbs(), reload_hook
 * platform_reload_guest_roots().  The counters count calls by the
 * calling thread (so a test can bound the flushes of one operation).
 */
extern void (*host_flush_hook)(void *owner);
extern void (*host_reload_hook)(void *owner);
extern __thread uint64_t host_thread_flushes;
extern __thread uint64_t host_thread_reloads;
/* Calls of platform_yield() by the calling thread. */
extern __thread uint64_t host_thread_yields;

/* Only messages at or below this level are printed (default LOG_WARN). */
extern enum log_level host_log_level;

/* Deterministic per-thread random numbers (xorshift). */
void host_srand(uint64_t seed);
uint64_t host_rand(void);

#endif
