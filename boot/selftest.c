// SPDX-License-Identifier: MIT
/*
 * In-hypervisor self-tests of what host tests cannot reach: the kernel
 * heap, page allocation through the direct map, frame runs on the real
 * memory map, time and interrupt masking.  Run with "selftest" on the
 * command line (the QEMU boot test does); a failure fails the boot.
 */
#include "boot/selftest.h"
#include "arch/x86/cpu.h"
#include "lib/platform.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

static int passed, failed;

static void check(bool cond, const char *what)
{
	if (cond) {
		passed++;
		pr_debug("tidal: selftest: ok - %s\n", what);
	} else {
		failed++;
		pr_err("tidal: selftest: FAILED - %s\n", what);
	}
}

static bool all_bytes(const void *p, uint8_t v, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != v)
			return false;
	}
	return true;
}

static void test_heap_sizes(void)
{
	static const size_t sizes[] = { 1,    15,   16,   17,    100,	 1000,
					2032, 2033, 4096, 10000, 100000 };
	void *p[ARRAY_SIZE(sizes)];
	bool zeroed = true, aligned = true, intact = true;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = platform_zalloc(sizes[i]);
		if (!p[i]) {
			check(false, "heap: allocation of every size");
			return;
		}
		zeroed &= all_bytes(p[i], 0, sizes[i]);
		aligned &= IS_ALIGNED((uintptr_t)p[i], 16);
		memset(p[i], (int)(i + 1), sizes[i]);
	}
	/* Overlapping objects would have overwritten each other's pattern. */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		intact &= all_bytes(p[i], (uint8_t)(i + 1), sizes[i]);
	check(zeroed, "heap: objects of 1 B .. 100 KB come zeroed");
	check(aligned, "heap: objects are 16-byte aligned");
	check(intact, "heap: objects do not overlap");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		platform_free(p[i]);
}

static void test_heap_reuse(void)
{
	enum { N = 600 };
	static void *p[N];
	struct frame_stats a, b;
	bool ok = true;

	for (int i = 0; i < N; i++)
		ok &= (p[i] = platform_zalloc(40)) != NULL;
	for (int i = 0; i < N; i++)
		platform_free(p[i]);
	frame_get_stats(&a);
	for (int i = 0; i < N; i++) {
		p[i] = platform_zalloc(40);
		ok &= p[i] && all_bytes(p[i], 0, 40);
		if (p[i])
			memset(p[i], 0xee, 40);
	}
	frame_get_stats(&b);
	check(ok, "heap: freed small objects come back zeroed");
	check(a.free == b.free, "heap: freed objects are reused, no new frames");
	for (int i = 0; i < N; i++)
		platform_free(p[i]);

	frame_get_stats(&a);
	p[0] = platform_zalloc(3 * PAGE_SIZE);
	platform_free(p[0]);
	frame_get_stats(&b);
	check(p[0] && a.free == b.free, "heap: large objects give frames back");
}

static void test_pages(void)
{
	uint8_t *pg = platform_page_alloc();
	phys_addr_t pa;

	if (!pg) {
		check(false, "page: allocation");
		return;
	}
	pa = platform_virt_to_phys(pg);
	check(platform_phys_to_virt(pa) == pg && IS_ALIGNED(pa, PAGE_SIZE),
	      "page: phys<->virt round trip through the direct map");
	check(all_bytes(pg, 0, PAGE_SIZE), "page: comes zeroed");
	memset(pg, 0x5a, PAGE_SIZE);
	platform_page_free(pg);
	check(frame_is_free(pa), "page: freed page is free again");
}

static void test_frames(void)
{
	struct frame_stats a, b;
	phys_addr_t run;

	frame_get_stats(&a);
	run = frame_alloc_run(512, 2 * MiB, 0);
	check(run && IS_ALIGNED(run, 2 * MiB) && run >= 1 * MiB,
	      "frames: 2 MiB aligned run of 512 frames");
	if (run) {
		memset(phys_to_virt(run), 0, 2 * MiB); /* it is real RAM */
		check(frame_free_run(run, 512) == 0, "frames: run freed");
		check(frame_free(run) != 0, "frames: double free refused");
	}
	frame_get_stats(&b);
	check(a.free == b.free, "frames: counters back where they were");
}

static void test_time_irq(void)
{
	uint64_t t0 = platform_time_ns(), t1;
	unsigned long f;

	for (volatile int i = 0; i < 100000; i++)
		;
	t1 = platform_time_ns();
	check(t1 > t0, "time: platform_time_ns() advances");
	f = platform_irq_save();
	check(!(read_rflags() & X86_RFLAGS_IF), "irq: save masks interrupts");
	platform_irq_restore(f);
	check((read_rflags() & X86_RFLAGS_IF) == (f & X86_RFLAGS_IF),
	      "irq: restore brings the old state back");
	check(platform_cpu_id() == 0 && platform_cpu_max() >= 1,
	      "cpu: boot CPU is 0");
}

int selftest_run(void)
{
	test_heap_sizes();
	test_heap_reuse();
	test_pages();
	test_frames();
	test_time_irq();
	pr_info("tidal: selftest: %d passed, %d failed\n", passed, failed);
	return failed ? -1 : 0;
}
