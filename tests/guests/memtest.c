// SPDX-License-Identifier: MIT
/*
 * memtest: write and verify patterns across every usable byte of guest RAM
 * (the start-info memory map says which), touching it all so that tidal
 * maps all of it.
 */
#include "lib/guest.h"

static uint64_t pattern(uint64_t addr, unsigned int pass)
{
	uint64_t x = addr * 0x9e3779b97f4a7c15ull + pass;

	return pass & 1 ? ~x : x;
}

static uint64_t test_region(uint64_t base, uint64_t size, unsigned int pass)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;
	uint64_t n = size / 8, errors = 0;

	for (uint64_t i = 0; i < n; i++)
		p[i] = pattern(base + i * 8, pass);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = pattern(base + i * 8, pass);

		if (p[i] != want) {
			if (errors++ < 5)
				printf("memtest: at %llx read %llx want %llx\n",
				       (unsigned long long)(base + i * 8),
				       (unsigned long long)p[i],
				       (unsigned long long)want);
		}
	}
	return errors;
}

int guest_main(const struct tidal_start_info *si)
{
	const struct tidal_mem_region *m = start_info_mmap(si);
	uint64_t tested = 0, errors = 0;
	unsigned int passes = (unsigned int)cmdline_num("passes", 2);

	print_start_info(si);
	for (unsigned int pass = 0; pass < passes; pass++) {
		for (uint32_t i = 0; i < si->mmap_count; i++) {
			if (m[i].type != TIDAL_MEM_USABLE)
				continue;
			errors += test_region(m[i].base, m[i].size, pass);
			if (pass == 0)
				tested += m[i].size;
		}
		printf("memtest: pass %u done\n", pass);
	}
	printf("memtest: %llu KiB tested, %llu errors\n",
	       (unsigned long long)(tested >> 10), (unsigned long long)errors);
	printf("memtest: mapped 4K %ld 2M %ld 1G %ld, EPT faults %ld\n",
	       hc_get_counter(TIDAL_CTR_MAPPED_4K),
	       hc_get_counter(TIDAL_CTR_MAPPED_2M),
	       hc_get_counter(TIDAL_CTR_MAPPED_1G),
	       hc_get_counter(TIDAL_CTR_EPT_FAULTS));
	/* Tested must be almost all of RAM: the image and tidal's pages aside.
	 */
	if (tested + (1u << 20) < si->mem_bytes / 2 || !tested) {
		printf("memtest: tested too little\n");
		return 1;
	}
	return errors ? 1 : 0;
}
