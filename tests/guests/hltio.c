// SPDX-License-Identifier: MIT
/* hltio: HLT exits and the emulated I/O devices. */
#include "lib/guest.h"

static int failures;

static void check(bool cond, const char *what)
{
	printf("hltio: %s: %s\n", what, cond ? "ok" : "FAIL");
	if (!cond)
		failures++;
}

/*
 * HLT blocks until an interrupt: each one is woken by a one-shot local
 * APIC timer (x2APIC MSRs) whose handler counts and EOIs.
 */
struct gate32 {
	uint16_t off_lo, sel, attr, off_hi;
};
static struct gate32 idt[0x41] __attribute__((aligned(8)));
volatile uint32_t timer_ticks;
void timer_isr(void);
__asm__(".text\n"
	"timer_isr:\n"
	"pushl %eax; pushl %ecx; pushl %edx\n"
	"incl timer_ticks\n"
	"movl $0x80b, %ecx; xorl %eax, %eax; xorl %edx, %edx; wrmsr\n"
	"popl %edx; popl %ecx; popl %eax\n"
	"iret\n");

static void wrmsr32(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static void timer_setup(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint32_t)idt};
	uint32_t isr = (uint32_t)timer_isr;

	idt[0x40] = (struct gate32){(uint16_t)isr, TIDAL_SEL_CODE32, 0x8e00,
				    (uint16_t)(isr >> 16)};
	__asm__ volatile("lidt %0" ::"m"(idtr));
	wrmsr32(0x1b, 0xfee00000u | (1u << 11) | (1u << 10) | (1u << 8));
	wrmsr32(0x80f, 0x1ff);	 /* SVR: software-enabled */
	wrmsr32(0x83e, 0xb);	 /* divide by 1 */
	wrmsr32(0x832, 0x40);	 /* LVT timer: one-shot, vector 0x40 */
}

int guest_main(const struct tidal_start_info *si)
{
	long before = hc_get_counter(TIDAL_CTR_HLT);

	/* With interrupts enabled, HLT returns at the next interrupt. */
	timer_setup();
	for (int i = 0; i < 5; i++) {
		wrmsr32(0x838, 200000); /* the timer's initial count */
		__asm__ volatile("sti; hlt; cli");
	}
	long after = hc_get_counter(TIDAL_CTR_HLT);

	printf("hltio: HLT exits %ld -> %ld, timer interrupts %u\n", before,
	       after, timer_ticks);
	check(after - before == 5, "five HLT exits counted");
	check(timer_ticks == 5, "each HLT woken by the APIC timer");

	/* 16550: scratch register keeps what we write, LSR says idle. */
	outb(TIDAL_PORT_COM1 + 7, 0x5a);
	check(inb(TIDAL_PORT_COM1 + 7) == 0x5a, "COM1 scratch register");
	check((inb(TIDAL_PORT_COM1 + 5) & 0x60) == 0x60, "COM1 LSR idle");
	check((inb(TIDAL_PORT_COM1 + 2) & 0x01) == 0x01, "COM1 IIR none");
	/* With DLAB set, port 0 is the divisor latch: no printing here. */
	outb(TIDAL_PORT_COM1 + 3, 0x83);
	outb(TIDAL_PORT_COM1 + 0, 0x0c);
	uint8_t dll = inb(TIDAL_PORT_COM1 + 0);

	outb(TIDAL_PORT_COM1 + 3, 0x03);
	check(dll == 0x0c, "COM1 divisor latch");
	check(inb(TIDAL_PORT_COM1 + 3) == 0x03, "COM1 LCR");

	/* Nothing sits at an unused port: reads float high. */
	check(inb(0x80) == 0xff, "unused port reads 0xff");
	debugcon_puts("hltio: port e9 works\n");

	long io = hc_get_counter(TIDAL_CTR_IO);

	check(io > 20, "I/O exits counted");
	printf("hltio: %d failures, leaving through the exit port\n", failures);
	/* Exit through the port (not VMCALL) to cover that path. */
	outl(TIDAL_PORT_EXIT, failures ? 1 : 0);
	return 99; /* not reached */
}
