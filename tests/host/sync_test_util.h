/* SPDX-License-Identifier: MIT */
/* Helpers shared by the host tests of the sync primitives. */
#ifndef TIDAL_TESTS_HOST_SYNC_TEST_UTIL_H
#define TIDAL_TESTS_HOST_SYNC_TEST_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

/*
 * Run @fn in a forked child with stdout/stderr silenced; true if the child
 * died by abort() (which is what platform_panic() ends in).
 */
static inline bool dies_with_panic(void (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		fn();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* Stress duration: $TIDAL_STRESS_SECS, else @dflt. */
static inline double stress_seconds(double dflt)
{
	const char *s = getenv("TIDAL_STRESS_SECS");

	return s && atof(s) > 0 ? atof(s) : dflt;
}

#endif
