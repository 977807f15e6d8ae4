// SPDX-License-Identifier: MIT
/* Command-line look-ups; see lib/cmdline.h. */
#include "lib/cmdline.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * If the word at @w is @key or starts with "@key=", return a pointer to
 * what follows the key ('\0', a space, or '='), else NULL.
 */
static const char *match_key(const char *w, const char *key)
{
	while (*key && *w == *key) {
		w++;
		key++;
	}
	if (*key)
		return NULL;
	if (*w == '\0' || *w == '=' || is_space(*w))
		return w;
	return NULL;
}

static const char *find_last(const char *cmdline, const char *key)
{
	const char *p = cmdline, *found = NULL, *m;

	if (!cmdline || !key || !*key)
		return NULL;
	while (*p) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		m = match_key(p, key);
		if (m)
			found = m;
		while (*p && !is_space(*p))
			p++;
	}
	return found;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	return find_last(cmdline, key) != NULL;
}

bool cmdline_get(const char *cmdline, const char *key, char *out,
		 size_t outlen)
{
	const char *v = find_last(cmdline, key);
	size_t n = 0;

	if (!v || !outlen)
		return false;
	if (*v == '=') {
		v++;
		while (v[n] && !is_space(v[n]) && n + 1 < outlen) {
			out[n] = v[n];
			n++;
		}
	}
	out[n] = '\0';
	return true;
}
