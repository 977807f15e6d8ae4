/* SPDX-License-Identifier: MIT */
/*
 * The standard memory and string functions.  The hypervisor implements
 * them in lib/string.c and arch/x86/string.c (memset, memcpy, memmove);
 * host programs get libc's.
 */
#ifndef TIDAL_LIB_STRING_H
#define TIDAL_LIB_STRING_H

#include <stddef.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
