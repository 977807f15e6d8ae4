/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers over the GCC __atomic builtins, which work both in the
 * freestanding hypervisor and in Linux test programs (where ThreadSanitizer
 * understands them).
 */
#ifndef TIDAL_LIB_ATOMIC_H
#define TIDAL_LIB_ATOMIC_H

#include "lib/compiler.h"

#define READ_ONCE(x)	 __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define load_acquire(p)	     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/*
 * Strong compare-and-exchange.  On failure *old is updated with the value
 * found, so a caller can retry on fresh data.
 */
#define try_cmpxchg(p, old, new)                                         \
	__atomic_compare_exchange_n((p), (old), (new), false,              \
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

#define xchg(p, v)	     __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_add(p, v)     __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_sub(p, v)     __atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_inc(p)	     atomic_add((p), 1)
#define atomic_dec(p)	     atomic_sub((p), 1)
/* Statistics counters: atomic, but with no ordering cost. */
#define stat_add(p, v)	     __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define stat_inc(p)	     stat_add((p), 1)

#define smp_mb()	 __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()	 __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()	 __atomic_thread_fence(__ATOMIC_RELEASE)
#define barrier()	 __asm__ __volatile__("" ::: "memory")

#endif
