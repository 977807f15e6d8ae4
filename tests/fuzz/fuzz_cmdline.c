// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: command-line look-ups (lib/cmdline.c).  The input is
 * "key\0cmdline": the key is looked up in the command line with output
 * buffers of every small size.
 */
#include <stdint.h>
#include <string.h>

#include "lib/cmdline.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2), out[16];
	const char *key, *line;
	size_t klen, len;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = 0;
	key = buf;
	klen = strlen(key);
	line = buf + klen + 1 <= buf + size ? buf + klen + 1 : buf + size;
	for (len = 0; len <= sizeof(out); len++) {
		bool got;

		memset(out, 0x5a, sizeof(out));
		got = cmdline_get(line, key, out, len);
		/* The value fits its buffer and is NUL-terminated. */
		if (got && len)
			FUZZ_CHECK(memchr(out, 0, len) != NULL);
		if (len < sizeof(out))
			FUZZ_CHECK(out[len] == 0x5a);
		/* Whatever get finds, has finds too. */
		if (got)
			FUZZ_CHECK(cmdline_has(line, key));
	}
	free(buf);
	return 0;
}
