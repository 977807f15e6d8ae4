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
#include <string.h>

#include "tests/host/tap.h"

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

/*
 * Run @fn in a forked child whose TAP output goes to a temporary file, and
 * report it here as one test, @what, that passes if every check of the
 * child passed.  On failure the child's output is shown as diagnostics.
 * For running a whole test a second time in another mode (the EBR
 * read-side mode is chosen once per process).
 */
static inline bool ok_in_child(void (*fn)(void), const char *what)
{
	FILE *log = tmpfile();
	char line[256];
	int status = -1;
	pid_t pid;
	bool passed;

	if (!log)
		return ok(false, "%s: cannot create a log file", what);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(log), 1);
		fn();
		fflush(stdout);
		_exit(tap_failed ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	passed = ok(status == 0, "%s (child status %#x)", what, status);
	if (!passed) {
		rewind(log);
		while (fgets(line, sizeof(line), log)) {
			line[strcspn(line, "\n")] = 0;
			diag("  %s", line);
		}
	}
	fclose(log);
	return passed;
}

/* Stress duration: $TIDAL_STRESS_SECS, else @dflt. */
static inline double stress_seconds(double dflt)
{
	const char *s = getenv("TIDAL_STRESS_SECS");

	return s && atof(s) > 0 ? atof(s) : dflt;
}

#endif
