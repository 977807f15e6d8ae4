/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic generator (Marsaglia's xorshift64) for host tests
 * that feed pseudo-random input: the same seed gives the same run.
 */
#ifndef TIDAL_TESTS_HOST_XORSHIFT_H
#define TIDAL_TESTS_HOST_XORSHIFT_H

#include <stdint.h>

/* The next value of the sequence in *state, which must not be 0. */
static inline uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

#endif
