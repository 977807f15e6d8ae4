/* SPDX-License-Identifier: MIT */
/*
 * The platform interface: the only way the portable core (lib/, mm/tdp*,
 * mm/memslot*, the external page-table guard) reaches the machine.
 *
 * It is implemented twice: once by the hypervisor (arch/x86) and once by
 * the Linux test harness (tests/host/platform_host.c).  Core files include
 * this header and nothing machine-specific; there is no #ifdef for the
 * hosted build inside the core.
 */
#ifndef TIDAL_LIB_PLATFORM_H
#define TIDAL_LIB_PLATFORM_H

#include "lib/compiler.h"

typedef uint64_t phys_addr_t;

/*
 * Memory.  Pages are 4 KiB, 4 KiB aligned and zeroed.  Both allocators may
 * fail and return NULL; callers must handle that.
 */
void *platform_page_alloc(void);
void platform_page_free(void *page);
phys_addr_t platform_virt_to_phys(const void *va);
void *platform_phys_to_virt(phys_addr_t pa);

/* Small zeroed objects for core bookkeeping (roots, slot arrays, ...). */
void *platform_zalloc(size_t size);
void platform_free(void *p);

/*
 * CPUs.  In the hypervisor a "CPU" is a physical CPU; in host programs it
 * is a registered thread.  Ids are dense: 0 <= id < platform_cpu_max().
 *
 * platform_cpu_id() is declared const: a CPU's id never changes while it
 * runs tidal code, so the compiler may compute it once per function (the
 * EBR read side and the locks depend on that to stay cheap).  A host
 * thread must therefore not use the platform after host_thread_unregister()
 * in the same function.
 */
unsigned int platform_cpu_id(void) __attribute__((const));
unsigned int platform_cpu_max(void);

/* Spin-wait hint (PAUSE). */
void platform_relax(void);

/*
 * Scheduling.  Long walks ask platform_should_yield() between steps; when
 * it says yes they drop their locks and read-side section and call
 * platform_yield() before taking them again.
 */
bool platform_should_yield(void);
void platform_yield(void);

/*
 * Guest TLBs (used by the TDP MMU).  @owner is the opaque pointer the VM's
 * MMU was created with.
 *
 * platform_flush_guest_tlbs(): when it returns, no vCPU of @owner uses a
 * translation or a cached page-table page from before the call (INVEPT on
 * every CPU that may hold them, waiting for completion).
 *
 * platform_reload_guest_roots(): when it returns, no vCPU of @owner is
 * running on a root that was invalid at the time of the call, and each one
 * reloads its root (with a local flush) before it runs the guest again.
 * No flush of other roots is implied.
 */
void platform_flush_guest_tlbs(void *owner);
void platform_reload_guest_roots(void *owner);

/*
 * Asymmetric memory barrier (optional; lib/ebr.c has weak fallbacks that
 * say "not available").  platform_membarrier_init() returns true if
 * platform_membarrier() can be used: it returns only after every other
 * CPU that runs tidal code has executed a full memory barrier (or is
 * not running tidal code at all), so that fast paths can do without
 * their own.  Host: Linux membarrier(PRIVATE_EXPEDITED).
 */
bool platform_membarrier_init(void);
void platform_membarrier(void);

/*
 * Scheduling points, for the host's deterministic interleaving explorer
 * (tests/host/mmu/explore.c).  The core calls platform_sched_point() at
 * every atomic operation on an SPTE, before taking and after dropping a
 * lock, at EBR section entry and exit and when a TLB-flush batch commits.
 * The definition comes from "platform_sched.h", picked by each build's
 * include path: the hypervisor's (arch/x86/include/) is an empty inline,
 * so it costs nothing there; the host's (tests/host/include/) calls the
 * explorer's hook when one is installed.  Spin-waits reach the explorer
 * through platform_relax() and platform_yield().
 */
enum sched_point {
	SCHED_SPTE,	 /* an atomic operation on an SPTE follows */
	SCHED_LOCK,	 /* a lock is about to be taken */
	SCHED_UNLOCK,	 /* a lock was dropped */
	SCHED_EBR_ENTER, /* an EBR read-side section is about to begin */
	SCHED_EBR_EXIT,	 /* an EBR read-side section ended */
	SCHED_FLUSH,	 /* a TLB-flush batch is about to commit */
	SCHED_SPIN,	 /* host only: waiting for another CPU (relax) */
	SCHED_YIELD,	 /* host only: platform_yield() */
};

#include "platform_sched.h"

/* Local interrupt masking for IRQ-safe locks (a no-op on the host). */
unsigned long platform_irq_save(void);
void platform_irq_restore(unsigned long flags);

/* Monotonic time in nanoseconds. */
uint64_t platform_time_ns(void);

/* Diagnostics. */
enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};
void platform_log(enum log_level level, const char *fmt, ...) __printf(2, 3);
void platform_panic(const char *file, int line, const char *fmt, ...)
	__printf(3, 4) __noreturn;

#define panic(...) platform_panic(__FILE__, __LINE__, __VA_ARGS__)

#define BUG_ON(cond)                                                     \
	do {                                                             \
		if (unlikely(cond))                                      \
			panic("BUG_ON(%s)", #cond);                      \
	} while (0)

/* Warn once per call site; evaluates to the condition. */
#define WARN_ON(cond)                                                    \
	({                                                               \
		bool __c = !!(cond);                                     \
		static bool __warned;                                    \
		if (unlikely(__c) && !__atomic_exchange_n(&__warned, true, \
							  __ATOMIC_RELAXED)) \
			platform_log(LOG_WARN, "WARN_ON(%s) at %s:%d",   \
				     #cond, __FILE__, __LINE__);         \
		__c;                                                     \
	})

#endif
