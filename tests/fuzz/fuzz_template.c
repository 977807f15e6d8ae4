// SPDX-License-Identifier: MIT
/*
 * The pattern for a new libFuzzer target, kept out of the build (the
 * parsers it was written for now have theirs: fuzz_pcboot, fuzz_hcmem,
 * fuzz_emulate).  For a new parser of untrusted input: copy this file to
 * tests/fuzz/fuzz_<name>.c, fill in the three marked places, add <name>
 * to FUZZERS in mk/fuzz.mk with its sources in FUZZ_SRCS_fuzz_<name>, add
 * it to the list in tests/fuzz/short.t, and add seeds (valid inputs
 * first, then a few malformed ones) to tests/fuzz/corpus/fuzz_<name>/.
 * make test then runs it for FUZZ_SECS seconds, make fuzz for
 * FUZZ_LONG_SECS.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
/* (1) the parser's header, e.g. #include "vmm/hypercall.h" */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: reading past the input is an ASan report. */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/*
	 * (2) decode @buf as the guest (or loader) would hand it over, e.g.
	 * registers taken from the first bytes, guest memory from the rest.
	 */
	/*
	 * (3) check what the parser promises, with FUZZ_CHECK: a rejected
	 * input gives an architectural error (never a crash), an accepted
	 * one only refers to memory inside what it was given, ...
	 */
	free(buf);
	return 0;
}
