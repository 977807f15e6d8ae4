// SPDX-License-Identifier: MIT
/*
 * demo: the guest `make run` boots.  It greets, shows what tidal told it,
 * touches its free memory twice (the first touch makes tidal map it, the
 * second runs at full speed), checks every word it wrote, measures a few
 * exits, and exits with status 0 when all is well.
 */
#include "lib/guest.h"

static uint64_t touch(uint64_t base, uint64_t size, uint64_t seed)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;

	/* One word per 4 KiB page: the cost is dominated by the mapping. */
	for (uint64_t off = 0; off < size; off += 4096)
		p[off / 8] = (base + off) ^ seed;
	return size / 4096;
}

static uint64_t verify(uint64_t base, uint64_t size, uint64_t seed)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;
	uint64_t bad = 0;

	for (uint64_t off = 0; off < size; off += 4096)
		bad += p[off / 8] != ((base + off) ^ seed);
	return bad;
}

static uint64_t per_op(uint64_t cycles, uint64_t ops)
{
	return ops ? cycles / ops : 0;
}

int guest_main(const struct tidal_start_info *si)
{
	const struct tidal_mem_region *m = start_info_mmap(si);
	uint64_t pages = 0, bad = 0, t0, t1, t2;
	uint32_t r[4];

	printf("demo: hello from a %d-bit guest running on tidal\n",
	       (int)sizeof(void *) * 8);
	print_start_info(si);

	t0 = rdtsc();
	for (uint32_t i = 0; i < si->mmap_count; i++)
		if (m[i].type == TIDAL_MEM_USABLE)
			pages += touch(m[i].base, m[i].size, 0x71da1);
	t1 = rdtsc();
	for (uint32_t i = 0; i < si->mmap_count; i++)
		if (m[i].type == TIDAL_MEM_USABLE)
			touch(m[i].base, m[i].size, 0x5eed);
	t2 = rdtsc();
	for (uint32_t i = 0; i < si->mmap_count; i++)
		if (m[i].type == TIDAL_MEM_USABLE)
			bad += verify(m[i].base, m[i].size, 0x5eed);
	printf("demo: touched %llu pages: first touch %llu cycles/page, "
	       "second %llu cycles/page; %llu bad words\n",
	       (unsigned long long)pages,
	       (unsigned long long)per_op(t1 - t0, pages),
	       (unsigned long long)per_op(t2 - t1, pages),
	       (unsigned long long)bad);

	t0 = rdtsc();
	for (int i = 0; i < 100; i++)
		vmcall3(TIDAL_HC_VERSION, 0, 0, 0);
	t1 = rdtsc();
	for (int i = 0; i < 100; i++)
		cpuid(0, 0, r);
	t2 = rdtsc();
	printf("demo: VMCALL round trip %llu cycles, CPUID exit %llu cycles\n",
	       (unsigned long long)((t1 - t0) / 100),
	       (unsigned long long)((t2 - t1) / 100));
	printf("demo: tidal counted %ld exits and %ld EPT faults so far\n",
	       hc_get_counter(TIDAL_CTR_EXITS),
	       hc_get_counter(TIDAL_CTR_EPT_FAULTS));
	printf("demo: %s, goodbye\n", bad ? "MEMORY ERRORS" : "all good");
	return bad ? 1 : 0;
}
