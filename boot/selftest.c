// SPDX-License-Identifier: MIT
/*
 * In-hypervisor self-tests of what host tests cannot reach: the kernel
 * heap, page allocation through the direct map, frame runs on the real
 * memory map, time and interrupt masking, and every AP (work handed over
 * by smp_start_on(), its APIC ID, VMXON, a membarrier round by NMI while
 * the APs spin with interrupts masked).  Run with "selftest" on the
 * command line (the QEMU boot test does); a failure fails the boot.
 */
#include "boot/selftest.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/vmx/vmx.h"
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
	static const size_t sizes[] = {1,    15,   16,	 17,	100,   1000,
				       2032, 2033, 4096, 10000, 100000};
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
	check(a.free == b.free,
	      "heap: freed objects are reused, no new frames");
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

struct ap_report {
	uint32_t apic_id;
	unsigned int cpu;
	bool if_masked, vmx_on;
	int done;
};

static int ap_release;
static unsigned int nmi_seen[TIDAL_MAX_CPUS];

/* An NMI callback (smp_add_nmi_handler): count NMIs per CPU. */
static bool count_nmi(struct trap_frame *tf)
{
	(void)tf;
	__atomic_fetch_add(&nmi_seen[platform_cpu_id()], 1, __ATOMIC_RELAXED);
	return false;
}

/* Runs on an AP: say who we are, then spin with IF = 0 until released. */
static void ap_report(void *arg)
{
	struct ap_report *r = arg;

	r->apic_id = apic_id();
	r->cpu = platform_cpu_id();
	r->if_masked = !(read_rflags() & X86_RFLAGS_IF);
	r->vmx_on = vmx_cpu_is_on();
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ap_release, __ATOMIC_ACQUIRE))
		cpu_relax();
}

/* Wait up to 5 s (TSC time) for @flag to become nonzero. */
static bool wait_flag(const int *flag)
{
	uint64_t end = platform_time_ns() + 5000000000ull;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (platform_time_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

static bool wait_idle(unsigned int cpu)
{
	uint64_t end = platform_time_ns() + 5000000000ull;

	while (smp_cpu_busy(cpu)) {
		if (platform_time_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* Runs on every CPU at once: membarrier rounds that overlap. */
static void mb_storm(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		platform_membarrier();
}

static void test_membarrier_storm(unsigned int n)
{
	bool started = true, idle = true;

	for (unsigned int cpu = 1; cpu < n; cpu++)
		started &= smp_start_on(cpu, mb_storm, NULL) == 0;
	mb_storm(NULL);
	for (unsigned int cpu = 1; cpu < n; cpu++)
		idle &= wait_idle(cpu);
	check(started && idle, "smp: 50 membarrier rounds on every CPU at "
			       "once all complete");
}

static void check_ap(unsigned int cpu, const struct ap_report *r)
{
	bool ok = r->apic_id == smp_apic_id(cpu) && r->cpu == cpu &&
		  r->if_masked && r->vmx_on == smp_vmx_on();

	pr_info("tidal: selftest: cpu %u: APIC ID %u, VMXON %s\n", cpu,
		r->apic_id, r->vmx_on ? "done" : "not done");
	check(ok, "smp: AP runs handed-over work as itself, IF masked, "
		  "VMX as on the boot CPU");
}

static void test_smp(void)
{
	static struct ap_report rep[TIDAL_MAX_CPUS];
	unsigned int n = smp_cpus_online();
	bool started = true, answered = true, idle = true, nmi_ok = true;

	check(smp_start_on(0, ap_report, &rep[0]) == -1 &&
		      smp_start_on(n, ap_report, &rep[0]) == -1,
	      "smp: no work for the boot CPU or an offline CPU");
	ap_release = 0;
	for (unsigned int cpu = 1; cpu < n; cpu++) {
		rep[cpu] = (struct ap_report){0};
		started &= smp_start_on(cpu, ap_report, &rep[cpu]) == 0;
	}
	for (unsigned int cpu = 1; cpu < n; cpu++)
		answered &= wait_flag(&rep[cpu].done);
	check(started && answered, "smp: every AP ran the work handed to it");
	if (n > 1)
		check(smp_cpu_busy(1) &&
			      smp_start_on(1, ap_report, &rep[0]) == -1,
		      "smp: a busy AP takes no second job");
	/* The APs spin with interrupts masked: only NMIs reach them. */
	check(smp_add_nmi_handler(count_nmi) == 0, "smp: NMI callback added");
	for (unsigned int cpu = 0; cpu < n; cpu++)
		nmi_seen[cpu] = 0;
	platform_membarrier();
	for (unsigned int cpu = 1; cpu < n; cpu++)
		nmi_ok &= __atomic_load_n(&nmi_seen[cpu], __ATOMIC_RELAXED) > 0;
	check(nmi_ok, "smp: membarrier round reached every AP spinning with "
		      "IF masked (NMI callbacks ran)");
	__atomic_store_n(&ap_release, 1, __ATOMIC_RELEASE);
	for (unsigned int cpu = 1; cpu < n; cpu++)
		idle &= wait_idle(cpu);
	check(idle, "smp: every AP is back to idle");
	for (unsigned int cpu = 1; cpu < n && answered; cpu++)
		check_ap(cpu, &rep[cpu]);
	test_membarrier_storm(n);
	/* The NMI-exit path: service, then IRET to itself (a bad frame would
	 * fault and fail the boot). */
	smp_nmi_vmexit();
	check(!(read_rflags() & X86_RFLAGS_IF),
	      "smp: smp_nmi_vmexit() returns with RFLAGS intact");
	check(!(read_rflags() & X86_RFLAGS_IF), "smp: boot CPU still masked");
}

int selftest_run(void)
{
	test_heap_sizes();
	test_heap_reuse();
	test_pages();
	test_frames();
	test_time_irq();
	test_smp();
	pr_info("tidal: selftest: %d passed, %d failed\n", passed, failed);
	return failed ? -1 : 0;
}
