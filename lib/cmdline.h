/* SPDX-License-Identifier: MIT */
/*
 * Command-line look-ups (lib/cmdline.c, portable).  A command line is a
 * list of words separated by spaces; a word is "key" or "key=value".
 * Values cannot contain spaces.
 */
#ifndef TIDAL_LIB_CMDLINE_H
#define TIDAL_LIB_CMDLINE_H

#include "lib/compiler.h"

/*
 * Copy the value of the last "key=value" word into @out (@outlen bytes,
 * NUL-terminated, truncated if need be).  Returns true if @key was found
 * with a value; "key" alone gives true and an empty value.
 */
bool cmdline_get(const char *cmdline, const char *key, char *out,
		 size_t outlen);

/* True if "key" or "key=..." is on the command line. */
bool cmdline_has(const char *cmdline, const char *key);

#endif
