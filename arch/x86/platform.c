// SPDX-License-Identifier: MIT
/*
 * lib/platform.h for the hypervisor: pages from the frame allocator seen
 * through the direct map, per-CPU ids from the GS base, the TSC clock and
 * the console.
 */
#include "lib/platform.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/tsc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

struct percpu percpu_area[TIDAL_MAX_CPUS];
unsigned int percpu_online;

void percpu_init_boot_cpu(void)
{
	struct percpu *p = &percpu_area[0];

	p->self = p;
	p->cpu_id = 0;
	wrmsr(MSR_GS_BASE, (uintptr_t)p);
	percpu_online = 1;
}

void *platform_page_alloc(void)
{
	phys_addr_t pa = frame_alloc();
	void *va;

	if (!pa)
		return NULL;
	va = phys_to_virt(pa);
	memset(va, 0, PAGE_SIZE);
	return va;
}

void platform_page_free(void *page)
{
	if (!page)
		return;
	if (!IS_ALIGNED((uintptr_t)page, PAGE_SIZE) ||
	    frame_free(virt_to_phys(page)))
		panic("freeing page %p that is not allocated", page);
}

phys_addr_t platform_virt_to_phys(const void *va)
{
	return virt_to_phys(va);
}

void *platform_phys_to_virt(phys_addr_t pa)
{
	return phys_to_virt(pa);
}

unsigned int platform_cpu_id(void)
{
	return percpu_self()->cpu_id;
}

unsigned int platform_cpu_max(void)
{
	return TIDAL_MAX_CPUS;
}

void platform_relax(void)
{
	cpu_relax();
}

/* No scheduler: a walk never has anyone to yield to. */
bool platform_should_yield(void)
{
	return false;
}

void platform_yield(void)
{
	cpu_relax();
}

unsigned long platform_irq_save(void)
{
	unsigned long flags;

	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	return flags;
}

void platform_irq_restore(unsigned long flags)
{
	if (flags & X86_RFLAGS_IF)
		__asm__ __volatile__("sti" ::: "memory");
}

uint64_t platform_time_ns(void)
{
	return tsc_ns();
}

void platform_log(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	char buf[256];
	va_list ap;

	if (level > console_loglevel)
		return;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("tidal: %s: %s\n", names[level], buf);
}

void platform_panic(const char *file, int line, const char *fmt, ...)
{
	struct percpu *me = percpu_self();
	char buf[256];
	va_list ap;

	/* A panic while panicking: do not loop, just stop. */
	if (me->panicking)
		power_off(1);
	me->panicking = true;
	console_panic();
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("tidal: PANIC on cpu %u at %s:%d: %s\n", me->cpu_id, file, line,
	       buf);
	/* Start at our caller: its return address and saved frame pointer. */
	backtrace_print((uintptr_t)__builtin_return_address(0),
			*(uint64_t *)__builtin_frame_address(0));
	power_off(1);
}
