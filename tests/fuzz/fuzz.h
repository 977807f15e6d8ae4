/* SPDX-License-Identifier: MIT */
/*
 * Shared bits of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * A fuzzer is one file with LLVMFuzzerTestOneInput() that feeds the
 * input to one parser of untrusted data and checks, beyond "no crash, no
 * sanitizer report", what the parser promises about its result.  To add
 * one (see fuzz_template.c): copy the template, add its name to FUZZERS
 * in mk/fuzz.mk with FUZZ_SRCS_<name>, and put a few seed inputs in
 * tests/fuzz/corpus/<name>/.
 */
#ifndef TIDAL_TESTS_FUZZ_FUZZ_H
#define TIDAL_TESTS_FUZZ_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* A broken promise: report and crash, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                \
			abort();                                           \
		}                                                          \
	} while (0)

#endif
