// SPDX-License-Identifier: MIT
/*
 * storm: every vCPU touches all of usable RAM at once, page by page in
 * an interleaved order, so EPT violations for the same 2 MiB blocks race
 * on different CPUs.  Each vCPU writes a word in the pages it owns
 * (page % vCPUs == its index) and reads one word in every page; vCPU 0
 * waits for all, verifies every written word and prints the counters.
 * Option: passes=N (default 1).
 */
#include "lib/guest.h"

static volatile unsigned int done[GUEST_MAX_VCPUS];
static volatile uint64_t bad;

static uint64_t stamp(uint64_t addr, unsigned int pass)
{
	return (addr * 0x9e3779b97f4a7c15ull) ^ pass;
}

/* Visit every usable page: write ours, read the others'. */
static void touch(unsigned int me, unsigned int n, unsigned int pass)
{
	const struct tidal_start_info *si = start_info();
	const struct tidal_mem_region *m = start_info_mmap(si);
	uint64_t sink = 0;

	for (uint32_t i = 0; i < si->mmap_count; i++) {
		if (m[i].type != TIDAL_MEM_USABLE)
			continue;
		for (uint64_t a = m[i].base; a + 4096 <= m[i].base + m[i].size;
		     a += 4096) {
			volatile uint64_t *p =
				(volatile uint64_t *)(uintptr_t)a;

			if ((a >> 12) % n == me)
				p[1] = stamp(a, pass);
			else
				sink += p[0];
		}
	}
	(void)sink;
}

static void verify(unsigned int n, unsigned int pass)
{
	const struct tidal_start_info *si = start_info();
	const struct tidal_mem_region *m = start_info_mmap(si);

	for (uint32_t i = 0; i < si->mmap_count; i++) {
		if (m[i].type != TIDAL_MEM_USABLE)
			continue;
		for (uint64_t a = m[i].base; a + 4096 <= m[i].base + m[i].size;
		     a += 4096) {
			volatile uint64_t *p =
				(volatile uint64_t *)(uintptr_t)a;

			/* Pages holding our own state are not stamped. */
			if (p[1] != stamp(a, pass) && bad++ < 3)
				printf("storm: page %llx lost its stamp\n",
				       (unsigned long long)a);
		}
	}
	(void)n;
}

static unsigned int passes(void)
{
	return (unsigned int)cmdline_num("passes", 1);
}

void guest_vcpu_main(unsigned int me, const struct tidal_start_info *si)
{
	unsigned int n = guest_nr_vcpus();

	(void)si;
	for (unsigned int pass = 0; pass < passes(); pass++)
		touch(me, n, pass);
	done[me] = 1;
}

int guest_main(const struct tidal_start_info *si)
{
	unsigned int n = guest_nr_vcpus();

	(void)si;
	printf("storm: %u vCPUs touching all usable RAM\n", n);
	for (unsigned int pass = 0; pass < passes(); pass++)
		touch(0, n, pass);
	for (unsigned int i = 1; i < n; i++)
		while (!done[i])
			cpu_pause();
	verify(n, passes() - 1);
	printf("storm: EPT faults %ld retried %ld, %s\n",
	       hc_get_counter(TIDAL_CTR_EPT_FAULTS),
	       hc_get_counter(TIDAL_CTR_EPT_RETRIES),
	       bad ? "stamps lost" : "all stamps kept");
	return bad ? 1 : 0;
}
