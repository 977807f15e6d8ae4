// SPDX-License-Identifier: MIT
/*
 * The platform interface for Linux test programs.  See platform_host.h.
 */
#define _GNU_SOURCE
#include "tests/host/platform_host.h"
#include "lib/atomic.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static __thread int cpu_id = -1;
static uint64_t cpu_used; /* bitmap of ids in use */

static struct host_alloc_stats stats;
static long fail_after = -1;
static unsigned int fail_rate;

void (*host_page_free_hook)(void *page);
bool (*host_should_yield_hook)(void);
enum log_level host_log_level = LOG_WARN;

static __thread uint64_t rng_state;

void (*host_flush_hook)(void *owner);
void (*host_reload_hook)(void *owner);
__thread uint64_t host_thread_flushes;
__thread uint64_t host_thread_reloads;

void platform_flush_guest_tlbs(void *owner)
{
	host_thread_flushes++;
	if (host_flush_hook)
		host_flush_hook(owner);
}

void platform_reload_guest_roots(void *owner)
{
	host_thread_reloads++;
	if (host_reload_hook)
		host_reload_hook(owner);
}

void host_srand(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t host_rand(void)
{
	uint64_t x = rng_state;

	if (!x)
		x = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

unsigned int host_thread_register(void)
{
	uint64_t used, bit;
	int id;

	if (cpu_id >= 0)
		return cpu_id;
	used = __atomic_load_n(&cpu_used, __ATOMIC_RELAXED);
	do {
		if (~used == 0)
			panic("more than %d threads registered", HOST_MAX_CPUS);
		id = __builtin_ctzll(~used);
		bit = 1ull << id;
	} while (!__atomic_compare_exchange_n(&cpu_used, &used, used | bit,
					      false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	cpu_id = id;
	return id;
}

void host_thread_unregister(void)
{
	if (cpu_id < 0)
		return;
	__atomic_fetch_and(&cpu_used, ~(1ull << cpu_id), __ATOMIC_ACQ_REL);
	cpu_id = -1;
}

unsigned int platform_cpu_id(void)
{
	return cpu_id >= 0 ? (unsigned int)cpu_id : host_thread_register();
}

unsigned int platform_cpu_max(void)
{
	return HOST_MAX_CPUS;
}

void (*host_sched_hook)(enum sched_point point, const void *addr);

/*
 * Host threads are not pinned CPUs: with more threads than cores, the one
 * a spinner waits for may not be running.  Give the core away now and
 * then, as a vCPU never needs to, so a wait lasts a few spins, not a
 * scheduler tick.
 */
void platform_relax(void)
{
	static __thread unsigned int spins;

	platform_sched_point(SCHED_SPIN, NULL);
	__builtin_ia32_pause();
	if ((++spins & 63) == 0)
		sched_yield();
}

bool platform_should_yield(void)
{
	if (host_should_yield_hook)
		return host_should_yield_hook();
	return (host_rand() & 1023) == 0;
}

__thread uint64_t host_thread_yields;

void platform_yield(void)
{
	host_thread_yields++;
	platform_sched_point(SCHED_YIELD, NULL);
	sched_yield();
}

bool platform_membarrier_init(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return false;
	return syscall(SYS_membarrier,
		       MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void platform_membarrier(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		panic("membarrier(PRIVATE_EXPEDITED) failed");
}

unsigned long platform_irq_save(void)
{
	return 0;
}

void platform_irq_restore(unsigned long flags)
{
	(void)flags;
}

uint64_t platform_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void host_alloc_fail_after(long n)
{
	__atomic_store_n(&fail_after, n, __ATOMIC_SEQ_CST);
}

void host_alloc_fail_rate(unsigned int per_million)
{
	__atomic_store_n(&fail_rate, per_million, __ATOMIC_SEQ_CST);
}

static bool should_fail(void)
{
	long n = __atomic_load_n(&fail_after, __ATOMIC_SEQ_CST);
	unsigned int rate = __atomic_load_n(&fail_rate, __ATOMIC_RELAXED);

	while (n >= 0) {
		if (n == 0)
			return true;
		if (__atomic_compare_exchange_n(&fail_after, &n, n - 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			break;
	}
	return rate && host_rand() % 1000000 < rate;
}

void *platform_page_alloc(void)
{
	void *p;

	if (should_fail())
		return NULL;
	p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return NULL;
	memset(p, 0, PAGE_SIZE);
	stat_inc(&stats.pages_alloced);
	return p;
}

void platform_page_free(void *page)
{
	if (!page)
		return;
	if (host_page_free_hook)
		host_page_free_hook(page);
	/* Poison, so a use after free shows as garbage even without ASan. */
	memset(page, 0x6b, PAGE_SIZE);
	stat_inc(&stats.pages_freed);
	free(page);
}

phys_addr_t platform_virt_to_phys(const void *va)
{
	return (phys_addr_t)(uintptr_t)va;
}

void *platform_phys_to_virt(phys_addr_t pa)
{
	return (void *)(uintptr_t)pa;
}

void *platform_zalloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = calloc(1, size);
	if (p)
		stat_inc(&stats.objs_alloced);
	return p;
}

void platform_free(void *p)
{
	if (!p)
		return;
	stat_inc(&stats.objs_freed);
	free(p);
}

void host_alloc_stats(struct host_alloc_stats *s)
{
	s->pages_alloced =
		__atomic_load_n(&stats.pages_alloced, __ATOMIC_SEQ_CST);
	s->pages_freed = __atomic_load_n(&stats.pages_freed, __ATOMIC_SEQ_CST);
	s->objs_alloced =
		__atomic_load_n(&stats.objs_alloced, __ATOMIC_SEQ_CST);
	s->objs_freed = __atomic_load_n(&stats.objs_freed, __ATOMIC_SEQ_CST);
}

int64_t host_pages_live(void)
{
	struct host_alloc_stats s;

	host_alloc_stats(&s);
	return (int64_t)(s.pages_alloced - s.pages_freed);
}

int64_t host_objs_live(void)
{
	struct host_alloc_stats s;

	host_alloc_stats(&s);
	return (int64_t)(s.objs_alloced - s.objs_freed);
}

void platform_log(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	va_list ap;

	if (level > host_log_level)
		return;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "%s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

void (*host_panic_hook)(void);

void platform_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (host_panic_hook)
		host_panic_hook();

	va_start(ap, fmt);
	fprintf(stderr, "panic at %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	/* Tell prove, too: the TAP stream should not just stop. */
	printf("Bail out! panic at %s:%d\n", file, line);
	fflush(stdout);
	abort();
}
