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

/* Call @fn on the address of every usable page of RAM. */
static void for_each_page(void (*fn)(uint64_t a, void *ctx), void *ctx)
{
	const struct tidal_start_info *si = start_info();
	const struct tidal_mem_region *m = start_info_mmap(si);

	for (uint32_t i = 0; i < si->mmap_count; i++) {
		if (m[i].type != TIDAL_MEM_USABLE)
			continue;
		for (uint64_t a = m[i].base; a + 4096 <= m[i].base + m[i].size;
		     a += 4096)
			fn(a, ctx);
	}
}

struct touch {
	unsigned int me, n, pass;
	uint64_t sink;
};

/* Write our pages (page % vCPUs == our index), read the others'. */
static void touch_page(uint64_t a, void *ctx)
{
	struct touch *t = ctx;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a;

	if ((a >> 12) % t->n == t->me)
		p[1] = stamp(a, t->pass);
	else
		t->sink += p[0];
}

static void touch(unsigned int me, unsigned int n, unsigned int pass)
{
	struct touch t = {me, n, pass, 0};

	for_each_page(touch_page, &t);
}

static void verify_page(uint64_t a, void *ctx)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a;
	unsigned int pass = *(unsigned int *)ctx;

	if (p[1] != stamp(a, pass) && bad++ < 3)
		printf("storm: page %llx lost its stamp\n",
		       (unsigned long long)a);
}

static void verify(unsigned int pass)
{
	for_each_page(verify_page, &pass);
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
	verify(passes() - 1);
	printf("storm: EPT faults %ld retried %ld, %s\n",
	       hc_get_counter(TIDAL_CTR_EPT_FAULTS),
	       hc_get_counter(TIDAL_CTR_EPT_RETRIES),
	       bad ? "stamps lost" : "all stamps kept");
	return bad ? 1 : 0;
}
