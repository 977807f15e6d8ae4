// SPDX-License-Identifier: MIT
/*
 * exitbench: a PVH kernel that times tidal's exit paths from inside, with
 * the whole PC platform present (8259s, I/O APIC, PIT, RTC, COM1, the
 * local APIC enabled).  Run by `make bench-exits` (tools/bench-exits),
 * smoke-tested by tests/boot/guest-exitbench.t.
 *
 * Every figure is guest TSC ticks per operation, RDTSC around a loop.
 * Under Bochs with `clock: sync=none` one tick is one emulated
 * instruction, so a figure is the instructions one round trip costs
 * (the loop's own few included, as in the KVM figures it is compared
 * with).  Each loop runs ROUNDS times; the lowest mean is kept.
 *
 *  cpuid        CPUID leaf 0
 *  vmcall       VMCALL TIDAL_HC_VERSION
 *  io_out       OUT to port 0x80 (POST code, ignored)
 *  io_in        IN from COM1's LSR (what a polled console spins on)
 *  rdmsr        RDMSR IA32_MISC_ENABLE
 *  wrmsr        WRMSR IA32_TSC_DEADLINE 0 (disarm, as Linux does)
 *  mmio_read    a read of the local APIC's TPR (instruction emulator)
 *  mmio_eoi     a write to the local APIC's EOI register
 *  timer_hlt    TSC deadline to the handler's RDTSC, the vCPU in HLT
 *  timer_spin   the same with the vCPU spinning (IF=1)
 *  timer_cpuid  the same with the vCPU spinning on CPUID (tidal's fast path)
 *  loop, rdtsc  baselines: an empty loop turn and one RDTSC
 *
 * Prints one line per figure, "exitbench: NAME N cycles" (tidal splits
 * long guest lines, so no JSON here: tools/bench-exits makes it), then
 * powers off through ACPI (pc_finish) after sanity checks that say
 * nothing about speed.
 */
#include "pc_checks.h"
#include "vmm/pc.h"

#define APIC	     0xfee00000u
#define VEC_TIMER    0x40
#define VEC_PIT	     0x20 /* IRQ 0 through the 8259 and LINT0 */
#define MSR_DEADLINE 0x6e0
#define MSR_MISC_EN  0x1a0
#define ITERS	     1000
#define ROUNDS	     3
#define TIMER_RUNS   8

PVH_ENTRY(bench_main);

/* The timer stub reads the TSC before anything else. */
__asm__(".text\n"
	".code32\n"
	"isr_timer:\n"
	"pushl %eax\n"
	"pushl %edx\n"
	"rdtsc\n"
	"movl %eax, isr_tsc\n"
	"movl %edx, isr_tsc + 4\n"
	"incl isr_hits\n"
	"movl $0, 0xfee000b0\n" /* EOI */
	"popl %edx\n"
	"popl %eax\n"
	"iret\n"
	"isr_pit:\n"
	"pushl %eax\n"
	"incl pit_hits\n"
	"movb $0x20, %al\n"
	"outb %al, $0x20\n" /* 8259 EOI */
	"popl %eax\n"
	"iret\n");

void isr_timer(void), isr_pit(void);
void bench_main(uint32_t eax, uint32_t info_pa);

volatile uint64_t isr_tsc;
volatile uint32_t isr_hits, pit_hits;

struct gate {
	uint16_t off_lo, sel, attr, off_hi;
};
static struct gate idt[256] __attribute__((aligned(8)));

static inline void lapic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(APIC + off) = v;
}

static inline uint32_t lapic_rd(uint32_t off)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC + off);
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

enum op {
	OP_LOOP,
	OP_RDTSC,
	OP_CPUID,
	OP_VMCALL,
	OP_IO_OUT,
	OP_IO_IN,
	OP_RDMSR,
	OP_WRMSR,
	OP_MMIO_READ,
	OP_MMIO_EOI,
	OP_COUNT,
};

static const char *const op_name[OP_COUNT] = {
	"loop",	 "rdtsc", "cpuid", "vmcall",	"io_out",
	"io_in", "rdmsr", "wrmsr", "mmio_read", "mmio_eoi",
};

/* One operation, ITERS times; the mean ticks per turn. */
static uint32_t time_op(enum op op)
{
	uint32_t r[4];
	uint64_t t0 = rdtsc();

	for (int i = 0; i < ITERS; i++) {
		switch (op) {
		case OP_LOOP:
			__asm__ volatile("" ::: "memory");
			break;
		case OP_RDTSC:
			(void)rdtsc();
			break;
		case OP_CPUID:
			cpuid(0, 0, r);
			break;
		case OP_VMCALL:
			vmcall3(TIDAL_HC_VERSION, 0, 0, 0);
			break;
		case OP_IO_OUT:
			outb(0x80, 0);
			break;
		case OP_IO_IN:
			(void)inb(0x3fd);
			break;
		case OP_RDMSR:
			(void)rdmsr(MSR_MISC_EN);
			break;
		case OP_WRMSR:
			wrmsr(MSR_DEADLINE, 0);
			break;
		case OP_MMIO_READ:
			(void)lapic_rd(0x80);
			break;
		case OP_MMIO_EOI:
			lapic_wr(0xb0, 0);
			break;
		case OP_COUNT:
			break;
		}
	}
	/* 32-bit division: there is no libgcc for 64-bit ones here. */
	return (uint32_t)(rdtsc() - t0) / ITERS;
}

static uint32_t best_of(enum op op)
{
	uint32_t best = ~0u;

	for (int i = 0; i < ROUNDS; i++) {
		uint32_t t = time_op(op);

		best = t < best ? t : best;
	}
	return best;
}

enum wait { WAIT_HLT, WAIT_PAUSE, WAIT_CPUID };

/*
 * Interrupt-delivery latency: arm the TSC deadline a little ahead, wait
 * (in HLT, or spinning with IF=1 on PAUSE or on CPUID, whose exits tidal
 * takes on its fast path), and take the handler's RDTSC minus the
 * deadline.  The lowest of TIMER_RUNS; *ok false if one was early or
 * never came.
 */
static uint32_t timer_latency(enum wait how, bool *ok)
{
	uint32_t r[4];
	uint64_t best = ~0ull;

	for (int i = 0; i < TIMER_RUNS; i++) {
		uint64_t dl, end;
		uint32_t want = isr_hits + 1;

		__asm__ volatile("cli");
		dl = rdtsc() + 20000;
		end = dl + 100000000ull;
		wrmsr(MSR_DEADLINE, dl);
		if (how == WAIT_HLT) {
			while (isr_hits < want && rdtsc() < end)
				__asm__ volatile("sti; hlt; cli");
		} else {
			__asm__ volatile("sti");
			while (isr_hits < want && rdtsc() < end) {
				if (how == WAIT_CPUID)
					cpuid(0, 0, r);
				else
					__asm__ volatile("pause");
			}
			__asm__ volatile("cli");
		}
		if (isr_hits < want || isr_tsc < dl) {
			*ok = false;
			continue;
		}
		if (isr_tsc - dl < best)
			best = isr_tsc - dl;
	}
	return best == ~0ull ? 0 : (uint32_t)best;
}

/*
 * Not a figure, a check on the exit path's shortcut: tidal looks at the
 * PIT only when it has work due, so a reprogrammed PIT must be seen at
 * once.  Channel 0 gets a 55 ms period, then at once 0.1 ms (below
 * tidal's 1 ms console poll, the other thing that bounds the wait): the
 * first IRQ 0 (8259, LINT0 virtual wire) must come within 0.5 ms, then
 * two more.
 */
static void pit_check(void)
{
	const uint32_t ms = 2419200; /* TSC ticks: tidal's 2419.2 MHz */
	uint32_t first;
	uint64_t t0;

	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0x21, VEC_PIT);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0x21, 0xfe); /* only IRQ 0 */
	outb(0x43, 0x34); /* channel 0, LSB then MSB, mode 2 */
	outb(0x40, 0xff);
	outb(0x40, 0xff); /* 65535: 55 ms */
	__asm__ volatile("cli");
	outb(0x43, 0x34);
	outb(0x40, 119);
	outb(0x40, 0); /* 119: 0.1 ms */
	t0 = rdtsc();
	while (pit_hits < 1 && rdtsc() - t0 < 40ull * ms)
		__asm__ volatile("sti; hlt; cli");
	first = (uint32_t)(rdtsc() - t0);
	while (pit_hits < 3 && rdtsc() - t0 < 40ull * ms)
		__asm__ volatile("sti; hlt; cli");
	outb(0x21, 0xff);
	outb(0x43, 0x30); /* stop the ticking: mode 0, one edge, then none */
	outb(0x40, 1);
	outb(0x40, 0);
	printf("exitbench: PIT reprogrammed to 0.1 ms: first IRQ 0 after %u "
	       "us\n",
	       first / (ms / 1000));
	pc_check(pit_hits >= 3 && first < ms / 2,
		 "reprogrammed PIT: first IRQ 0 after %u us (want < 500), %u "
		 "in all",
		 first / (ms / 1000), pit_hits);
}

static void setup_apic(void)
{
	static struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr;
	uint32_t a = (uint32_t)isr_timer;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[VEC_TIMER] =
		(struct gate){(uint16_t)a, cs, 0x8e00, (uint16_t)(a >> 16)};
	a = (uint32_t)isr_pit;
	idt[VEC_PIT] =
		(struct gate){(uint16_t)a, cs, 0x8e00, (uint16_t)(a >> 16)};
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint32_t)idt;
	__asm__ volatile("lidt %0" ::"m"(idtr));
	lapic_wr(0xf0, 0x1ff);			 /* SVR: enabled */
	lapic_wr(0x80, 0);			 /* TPR 0 */
	lapic_wr(0x320, VEC_TIMER | (2u << 17)); /* TSC-deadline mode */
}

void bench_main(uint32_t eax __attribute__((unused)), uint32_t info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info_pa;
	const char *cmdline =
		si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr
				  : "";
	uint32_t fig[OP_COUNT], hlt_lat, spin_lat, cpuid_lat;
	long exits0 = hc_get_counter(TIDAL_CTR_CPUID);
	bool ok = true;

	com1_init();
	pc_check_acpi(cmdline); /* pc_finish powers off through the FADT */
	setup_apic();
	for (int op = 0; op < OP_COUNT; op++) {
		fig[op] = best_of((enum op)op);
		printf("exitbench: %s %u cycles\n", op_name[op], fig[op]);
	}
	hlt_lat = timer_latency(WAIT_HLT, &ok);
	spin_lat = timer_latency(WAIT_PAUSE, &ok);
	cpuid_lat = timer_latency(WAIT_CPUID, &ok);
	pit_check(); /* after the figures: it leaves the 8259 set up */
	printf("exitbench: timer_hlt %u cycles\n", hlt_lat);
	printf("exitbench: timer_spin %u cycles\n", spin_lat);
	printf("exitbench: timer_cpuid %u cycles\n", cpuid_lat);

	/* Sanity only: each exit was taken and cost more than no exit. */
	pc_check(hc_get_counter(TIDAL_CTR_CPUID) - exits0 >=
			 (long)ITERS * ROUNDS,
		 "every CPUID was an exit");
	pc_check(fig[OP_CPUID] > fig[OP_LOOP] && fig[OP_VMCALL] > fig[OP_LOOP],
		 "an exit costs more than an empty loop turn");
	pc_check(ok,
		 "the TSC-deadline timer fired %d times each way, never "
		 "early",
		 TIMER_RUNS);
	/*
	 * A vCPU that keeps exiting on the fast path still takes its timer
	 * on time: within a few CPUID round trips of the other waits.
	 */
	pc_check(cpuid_lat < spin_lat + 20000,
		 "the timer reached a CPUID loop in %u cycles (spinning: %u)",
		 cpuid_lat, spin_lat);
	pc_finish("exitbench");
}
