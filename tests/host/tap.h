/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for host test programs, read by prove(1).
 *
 *	ok(cond, "what it checks %d", x);
 *	return tap_done();	// prints the plan, exit status 1 on failure
 */
#ifndef TIDAL_TESTS_HOST_TAP_H
#define TIDAL_TESTS_HOST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

extern int tap_count, tap_failed;

bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *why);
int tap_done(void);

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define diag(...)     tap_diag(__VA_ARGS__)

#define is_int(got, want, ...)                                             \
	({                                                                 \
		long long __g = (long long)(got), __w = (long long)(want); \
		bool __r = ok(__g == __w, __VA_ARGS__);                    \
		if (!__r)                                                  \
			diag("  got %lld, want %lld", __g, __w);           \
		__r;                                                       \
	})

#endif
