// SPDX-License-Identifier: MIT
/* TAP output for host test programs; see tap.h. */
#include "tests/host/tap.h"

#include <pthread.h>
#include <string.h>

int tap_count, tap_failed;
static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;

bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
	return cond;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

void tap_skip(const char *why)
{
	pthread_mutex_lock(&tap_lock);
	tap_count++;
	printf("ok %d # skip %s\n", tap_count, why);
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_count);
	fflush(stdout);
	return tap_failed || tap_count == 0 ? 1 : 0;
}
