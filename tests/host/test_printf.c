// SPDX-License-Identifier: MIT
/*
 * The formatter (lib/printf.c) against libc's snprintf for every
 * conversion, flag, width, precision and length modifier it supports,
 * plus its own %p form, truncation, and the command-line helpers.
 */
#include "lib/printf.h"
#include "lib/cmdline.h"
#include "tests/host/tap.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/*
 * Some cases below are deliberately unusual formats (a 0 flag with a
 * precision, unknown conversions, NULL strings): GCC's format checker
 * rightly flags them, but they are exactly what this test is about.
 */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-extra-args"

static char got[256], want[256];

/* Compare kvsnprintf with the C library on the same arguments. */
#define SAME(fmt, ...)                                                       \
	do {                                                                 \
		int gn = ksnprintf(got, sizeof(got), fmt, __VA_ARGS__);      \
		int wn = snprintf(want, sizeof(want), fmt, __VA_ARGS__);     \
		if (!ok(gn == wn && !strcmp(got, want), "\"%s\" -> \"%s\"",  \
			fmt, want))                                          \
			diag("  got \"%s\" (%d), want \"%s\" (%d)", got, gn, \
			     want, wn);                                      \
	} while (0)

static void test_integers(void)
{
	SAME("%d", 0);
	SAME("%d", 42);
	SAME("%d", -42);
	SAME("%d", INT_MIN);
	SAME("%d", INT_MAX);
	SAME("%i", -7);
	SAME("%u", 4000000000u);
	SAME("%x", 0xdeadbeefu);
	SAME("%X", 0xdeadbeefu);
	SAME("%o", 0755u);
	SAME("%ld", LONG_MIN);
	SAME("%lu", ULONG_MAX);
	SAME("%lld", LLONG_MIN);
	SAME("%llx", 0x0123456789abcdefull);
	SAME("%hhd", 200);
	SAME("%hhu", 300);
	SAME("%hd", 70000);
	SAME("%hu", 70000);
	SAME("%zu", (size_t)123456789);
	SAME("%zx", SIZE_MAX);
	SAME("%td", (ptrdiff_t)-5);
	SAME("%jd", (intmax_t)INT64_MIN);
	SAME("%ju", (uintmax_t)UINT64_MAX);
}

static void test_flags_width(void)
{
	SAME("[%5d]", 42);
	SAME("[%-5d]", 42);
	SAME("[%05d]", 42);
	SAME("[%05d]", -42);
	SAME("[%+d]", 42);
	SAME("[%+d]", -42);
	SAME("[% d]", 42);
	SAME("[%+5d]", 42);
	SAME("[%-+6d]", 42);
	SAME("[%#x]", 255);
	SAME("[%#X]", 255);
	SAME("[%#x]", 0);
	SAME("[%#o]", 8);
	SAME("[%#o]", 0);
	SAME("[%#10x]", 255);
	SAME("[%#010x]", 255);
	SAME("[%-#10x]", 255);
	SAME("[%.5d]", 42);
	SAME("[%.5d]", -42);
	SAME("[%8.5d]", 42);
	SAME("[%-8.5d]", 42);
	SAME("[%08.5d]", 42); /* 0 flag ignored with a precision */
	SAME("[%.0d]", 0);
	SAME("[%5.0d]", 0);
	SAME("[%.0x]", 0);
	SAME("[%#.0o]", 0);
	SAME("[%.3x]", 0xa);
	SAME("[%*d]", 6, 42);
	SAME("[%-*d]", 6, 42);
	SAME("[%*d]", -6, 42);
	SAME("[%.*d]", 4, 7);
	SAME("[%.*d]", -1, 7);
	SAME("[%016llx]", 0x1234ull);
	SAME("[%1d]", 12345);
}

static void test_chars_strings(void)
{
	SAME("%c", 'A');
	SAME("[%3c]", 'A');
	SAME("[%-3c]", 'A');
	SAME("%s", "hello");
	SAME("[%10s]", "hello");
	SAME("[%-10s]", "hello");
	SAME("[%.3s]", "hello");
	SAME("[%10.3s]", "hello");
	SAME("[%-10.3s]", "hello");
	SAME("[%.*s]", 2, "hello");
	SAME("[%.10s]", "hi");
	SAME("%s", "");
	SAME("100%%%s", "");
	SAME("%s and %s", "a", "b");
	SAME("%d%c%s%x", 1, '-', "two", 3u);
}

static void test_own_forms(void)
{
	int n;

	n = ksnprintf(got, sizeof(got), "%p", (void *)0x1234);
	ok(n == 18 && !strcmp(got, "0x0000000000001234"),
	   "%%p is 0x + 16 hex digits: %s", got);
	ksnprintf(got, sizeof(got), "[%20p]", (void *)0xabc);
	ok(!strcmp(got, "[  0x0000000000000abc]"), "%%p with width: %s", got);
	ksnprintf(got, sizeof(got), "%p", (void *)0);
	ok(!strcmp(got, "0x0000000000000000"), "NULL %%p: %s", got);
	ksnprintf(got, sizeof(got), "%s", (char *)NULL);
	ok(!strcmp(got, "(null)"), "NULL %%s prints (null)");
	ksnprintf(got, sizeof(got), "a%qb");
	ok(!strcmp(got, "a%qb"), "unknown conversion shown as is: %s", got);
	ksnprintf(got, sizeof(got), "end%");
	ok(!strcmp(got, "end%"), "lone %% at the end: %s", got);
}

static void test_truncation(void)
{
	char small[6];
	int n;

	memset(small, 'x', sizeof(small));
	n = ksnprintf(small, sizeof(small), "%s", "hello world");
	ok(n == 11 && !strcmp(small, "hello"),
	   "truncated to the buffer, full length returned (%d)", n);
	memset(small, 'x', sizeof(small));
	n = ksnprintf(small, 0, "%d", 12345);
	ok(n == 5 && small[0] == 'x', "size 0 writes nothing, returns 5");
	n = ksnprintf(small, 1, "%d", 12345);
	ok(n == 5 && small[0] == '\0', "size 1 gives an empty string");
	n = ksnprintf(small, sizeof(small), "%100d", 1);
	ok(n == 100 && strlen(small) == 5, "wide field truncated safely");
}

static void test_log_levels(void)
{
	enum log_level l = LOG_INFO;

	ok(log_level_parse("debug", &l) && l == LOG_DEBUG, "debug");
	ok(log_level_parse("err", &l) && l == LOG_ERR, "err");
	ok(log_level_parse("warn", &l) && l == LOG_WARN, "warn");
	ok(log_level_parse("2", &l) && l == LOG_INFO, "2 is info");
	ok(log_level_parse("3", &l) && l == LOG_DEBUG, "3 is debug");
	ok(!log_level_parse("4", &l) && l == LOG_DEBUG, "4 refused");
	ok(!log_level_parse("verbose", &l), "unknown name refused");
	ok(!log_level_parse("infox", &l), "prefix match refused");
	ok(!log_level_parse("", &l), "empty refused");
}

static void test_cmdline(void)
{
	const char *c = "loglevel=debug test=ud2  quiet x=1 x=2 long=abcdefghij";
	char v[8];

	ok(cmdline_get(c, "loglevel", v, sizeof(v)) && !strcmp(v, "debug"),
	   "loglevel=debug found");
	ok(cmdline_get(c, "test", v, sizeof(v)) && !strcmp(v, "ud2"),
	   "test=ud2 found");
	ok(cmdline_get(c, "x", v, sizeof(v)) && !strcmp(v, "2"),
	   "last value wins");
	ok(cmdline_get(c, "quiet", v, sizeof(v)) && !strcmp(v, ""),
	   "bare key has an empty value");
	ok(cmdline_get(c, "long", v, sizeof(v)) && !strcmp(v, "abcdefg"),
	   "long value truncated to the buffer");
	ok(!cmdline_get(c, "log", v, sizeof(v)), "key prefix does not match");
	ok(!cmdline_get(c, "level", v, sizeof(v)), "key suffix does not match");
	ok(!cmdline_get("", "x", v, sizeof(v)), "empty command line");
	ok(!cmdline_get(NULL, "x", v, sizeof(v)), "NULL command line");
	ok(cmdline_has(c, "quiet") && cmdline_has(c, "test") &&
		   !cmdline_has(c, "ud2"),
	   "cmdline_has matches keys only");
}

int main(void)
{
	test_integers();
	test_flags_width();
	test_chars_strings();
	test_own_forms();
	test_truncation();
	test_log_levels();
	test_cmdline();
	return tap_done();
}
