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

int guest_main(const struct tidal_start_info *si)
{
	long before = hc_get_counter(TIDAL_CTR_HLT);

	/* With interrupts enabled, HLT returns at the next wake-up. */
	for (int i = 0; i < 5; i++)
		__asm__ volatile("sti; hlt; cli");
	long after = hc_get_counter(TIDAL_CTR_HLT);

	printf("hltio: HLT exits %ld -> %ld\n", before, after);
	check(after - before == 5, "five HLT exits counted");

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
