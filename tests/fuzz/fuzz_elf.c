// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the guest ELF loader (vmm/elf_loader.c).  A parsed
 * image must fit the limits it was checked against, and loading it into
 * guest RAM of that size must stay inside it (ASan watches the copy).
 */
#include <stdint.h>
#include <string.h>

#include "vmm/elf_loader.h"
#include "tests/fuzz/fuzz.h"

#define RAM (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct elf_limits lim = {.ram_bytes = RAM, .usable_end = RAM - 65536};
	struct elf_image img;
	enum elf_error err;
	uint8_t *file;
	unsigned int i;

	if (!ram)
		ram = malloc(lim.usable_end);
	/* An exact-size copy: any read past the end is an ASan report. */
	file = malloc(size ? size : 1);
	if (!ram || !file)
		return 0;
	memcpy(file, data, size);
	err = elf_parse(file, size, &lim, &img);
	FUZZ_CHECK(elf_strerror(err) != NULL);
	if (err == ELF_OK) {
		FUZZ_CHECK(img.bits == 32 || img.bits == 64);
		FUZZ_CHECK(img.nsegs <= ELF_MAX_SEGMENTS);
		FUZZ_CHECK(img.lo <= img.hi && img.hi <= lim.usable_end);
		for (i = 0; i < img.nsegs; i++) {
			const struct elf_segment *s = &img.seg[i];

			FUZZ_CHECK(s->filesz <= s->memsz);
			FUZZ_CHECK(s->gpa >= img.lo &&
				   s->gpa + s->memsz <= img.hi);
			FUZZ_CHECK(s->offset + s->filesz <= size);
		}
		/* Only the usable part exists: a write beyond is caught. */
		elf_load(&img, file, ram);
	}
	free(file);
	return 0;
}
