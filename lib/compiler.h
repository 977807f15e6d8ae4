/* SPDX-License-Identifier: MIT */
/*
 * Small compiler helpers shared by every part of tidal, hypervisor and host
 * test programs alike.
 */
#ifndef TIDAL_LIB_COMPILER_H
#define TIDAL_LIB_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)	 __builtin_expect(!!(x), 1)
#define unlikely(x)	 __builtin_expect(!!(x), 0)
#define __must_check	 __attribute__((warn_unused_result))
#define __noreturn	 __attribute__((noreturn))
#define __printf(a, b)	 __attribute__((format(printf, a, b)))
#define __aligned(x)	 __attribute__((aligned(x)))
#define __packed	 __attribute__((packed))
#define __unused	 __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Power-of-two alignment helpers. */
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ALIGN_UP(x, a)	 ALIGN_DOWN((x) + (a) - 1, (a))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define BIT(n)	  (1ull << (n))
#define KiB	  (1ull << 10)
#define MiB	  (1ull << 20)
#define GiB	  (1ull << 30)
#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ul << PAGE_SHIFT)

#define STATIC_ASSERT(c, msg) _Static_assert(c, msg)

#endif
