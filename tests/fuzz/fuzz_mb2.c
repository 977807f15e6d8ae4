// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the multiboot2 information parser (boot/mb2.c).  The
 * input is the information block; it is parsed with each of the last 16
 * read limits up to its size, and the result must stay inside what was
 * given.
 */
#include <stdint.h>
#include <string.h>

#include "boot/bootinfo.h"
#include "tests/fuzz/fuzz.h"

static bool inside(const void *p, const uint8_t *buf, size_t n)
{
	return (const uint8_t *)p >= buf && (const uint8_t *)p < buf + n;
}

static void check(const struct boot_info *bi, const uint8_t *buf, size_t n)
{
	unsigned int i;

	FUZZ_CHECK(bi->mmap_count <= BOOT_MAX_MMAP);
	FUZZ_CHECK(bi->module_count <= BOOT_MAX_MODULES);
	/* Strings point into the block, NUL-terminated inside it. */
	if (bi->cmdline && *bi->cmdline) {
		FUZZ_CHECK(inside(bi->cmdline, buf, n));
		FUZZ_CHECK(memchr(
			bi->cmdline, 0,
			n - (size_t)((const uint8_t *)bi->cmdline - buf)));
	}
	for (i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];

		FUZZ_CHECK(m->start <= m->end);
		if (m->cmdline && *m->cmdline)
			FUZZ_CHECK(inside(m->cmdline, buf, n));
	}
	for (i = 0; i < bi->mmap_count; i++)
		FUZZ_CHECK(bi->mmap[i].len == 0 ||
			   bi->mmap[i].base + bi->mmap[i].len - 1 >=
				   bi->mmap[i].base);
	if (bi->rsdp) {
		FUZZ_CHECK(inside(bi->rsdp, buf, n));
		FUZZ_CHECK((const uint8_t *)bi->rsdp + bi->rsdp_len <= buf + n);
	}
	(void)boot_usable_bytes(bi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_info bi;
	char err[64];
	uint8_t *buf;
	size_t avail;

	for (avail = size > 16 ? size - 16 : 0; avail <= size; avail++) {
		/*
		 * Exactly @avail bytes (malloc aligns them as the loader
		 * would): any read beyond the limit is an ASan report.
		 */
		buf = malloc(avail ? avail : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, avail);
		memset(&bi, 0, sizeof(bi));
		if (mb2_parse(buf, avail, 0x10000, &bi, err, sizeof(err)) == 0)
			check(&bi, buf, avail);
		else
			FUZZ_CHECK(memchr(err, 0, sizeof(err)) && err[0]);
		free(buf);
	}
	return 0;
}
