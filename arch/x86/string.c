// SPDX-License-Identifier: MIT
/*
 * memset, memcpy and memmove for the hypervisor (lib/string.h; host
 * programs use libc's), with the string instructions: one REP STOSB or
 * REP MOVSB per call.  CPUs with ERMS run these at full speed, and under
 * Bochs they take its fast string path (a page per step instead of an
 * emulated instruction per byte): zeroing a guest's RAM and loading its
 * image were the bulk of tidal's own boot time (docs/linux.md,
 * "Performance").  GCC may emit calls to these on its own, so they must
 * not call themselves: they contain no loops for it to turn back into
 * library calls.
 */
#include "lib/string.h"

void *memset(void *s, int c, size_t n)
{
	void *p = s;

	__asm__ volatile("rep stosb"
			 : "+D"(p), "+c"(n)
			 : "a"((unsigned char)c)
			 : "memory");
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	void *dp = d;

	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n)::"memory");
	return d;
}

/* Forwards unless @d starts inside @s: then backwards, DF set briefly. */
void *memmove(void *d, const void *s, size_t n)
{
	const unsigned char *sp = s;
	unsigned char *dp = d;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	sp += n - 1;
	dp += n - 1;
	__asm__ volatile("std\n\t"
			 "rep movsb\n\t"
			 "cld"
			 : "+D"(dp), "+S"(sp), "+c"(n)::"memory");
	return d;
}
