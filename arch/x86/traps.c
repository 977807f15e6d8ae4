// SPDX-License-Identifier: MIT
/*
 * The exception path: optional per-vector handlers, else a full report
 * (vector, error code, RIP, CR2, all registers, a frame-pointer
 * backtrace) and a failing power-off.  tools/symbolize turns the
 * addresses of the report into file:line.
 */
#include "arch/x86/desc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "lib/printf.h"
#include "mm/paging.h"

#define BACKTRACE_MAX 32

extern char __image_start[], __image_end[], __text_start[], __text_end[];

static trap_handler_t handlers[256];

static const char *const names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD error",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

void trap_set_handler(unsigned int vector, trap_handler_t fn)
{
	if (vector < 256)
		__atomic_store_n(&handlers[vector], fn, __ATOMIC_RELEASE);
}

/* Can the 16 bytes at @fp (saved rbp, return address) be read safely? */
static bool frame_readable(uint64_t fp)
{
	uint64_t img_lo = (uintptr_t)__image_start, img_hi =
		(uintptr_t)__image_end;

	if (fp & 7)
		return false;
	if (fp >= img_lo && fp + 16 <= img_hi)
		return true;
	return fp >= DIRECT_MAP_BASE &&
	       fp + 16 <= DIRECT_MAP_BASE + paging_direct_map_end();
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	uint64_t fp = rbp, ret;
	int n = 0;

	printk("tidal: backtrace:\n");
	printk("  #%d %p\n", n++, (void *)rip);
	while (n < BACKTRACE_MAX && fp && frame_readable(fp)) {
		ret = ((uint64_t *)fp)[1];
		if (!ret)
			break;
		printk("  #%d %p\n", n++, (void *)ret);
		/* Frames grow towards higher addresses as we unwind. */
		if (((uint64_t *)fp)[0] <= fp)
			break;
		fp = ((uint64_t *)fp)[0];
	}
	printk("tidal: end of backtrace\n");
}

static void dump_frame(const struct trap_frame *tf)
{
	const char *name = tf->vector < 32 && names[tf->vector] ?
				   names[tf->vector] :
				   "unexpected interrupt";

	printk("tidal: EXCEPTION %s (vector %llu) error %#llx on cpu %u\n",
	       name, (unsigned long long)tf->vector,
	       (unsigned long long)tf->error, percpu_self()->cpu_id);
	printk("  RIP %p CS  %#06llx RFLAGS %#llx\n", (void *)tf->rip,
	       (unsigned long long)tf->cs, (unsigned long long)tf->rflags);
	printk("  RSP %p SS  %#06llx\n", (void *)tf->rsp,
	       (unsigned long long)tf->ss);
	printk("  CR2 %p CR3 %p\n", (void *)read_cr2(), (void *)read_cr3());
	printk("  CR0 %p CR4 %p\n", (void *)read_cr0(), (void *)read_cr4());
	printk("  RAX %p RBX %p RCX %p\n", (void *)tf->rax, (void *)tf->rbx,
	       (void *)tf->rcx);
	printk("  RDX %p RSI %p RDI %p\n", (void *)tf->rdx, (void *)tf->rsi,
	       (void *)tf->rdi);
	printk("  RBP %p R8  %p R9  %p\n", (void *)tf->rbp, (void *)tf->r8,
	       (void *)tf->r9);
	printk("  R10 %p R11 %p R12 %p\n", (void *)tf->r10, (void *)tf->r11,
	       (void *)tf->r12);
	printk("  R13 %p R14 %p R15 %p\n", (void *)tf->r13, (void *)tf->r14,
	       (void *)tf->r15);
	if (tf->vector == 14)
		printk("  page fault: %s %s address, %s mode%s\n",
		       tf->error & 1 ? "protection violation on" :
				       "not-present",
		       tf->error & 2 ? "write to" :
		       tf->error & 16 ? "instruction fetch at" : "read of",
		       tf->error & 4 ? "user" : "supervisor",
		       tf->error & 8 ? ", reserved bit set" : "");
}

void trap_dispatch(struct trap_frame *tf)
{
	trap_handler_t fn = __atomic_load_n(&handlers[tf->vector & 0xff],
					    __ATOMIC_ACQUIRE);
	struct percpu *me = percpu_self();

	if (fn && fn(tf))
		return;
	if (me->panicking) {
		printk("tidal: exception %llu while panicking\n",
		       (unsigned long long)tf->vector);
		power_off(1);
	}
	me->panicking = true;
	dump_frame(tf);
	backtrace_print(tf->rip, tf->rbp);
	power_off(1);
}
