// SPDX-License-Identifier: MIT
/*
 * The legacy PC devices as a multiboot/PVH kernel sees them, probed by
 * their registers (docs/guest-abi.md "Platform"): 8259 masks, I/O APIC
 * identity and redirection entries, PIT counting down, port 0x61 OUT2
 * following PIT channel 2, a plausible RTC date, PCI with no device,
 * no i8042, COM1 loopback through its FIFO.  Interrupts stay off: until
 * the local APIC exists nothing would deliver them.
 */
#include "pc_checks.h"
#include "pc_cpu.h"
#include "vmm/pc.h"

#define COM1 0x3f8

static void check_pic(void)
{
	/* Program the pair the way PC kernels do, then mask and read back. */
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, 0xa5);
	outb(0xa1, 0x5a);
	pc_check(inb(0x21) == 0xa5 && inb(0xa1) == 0x5a,
		 "8259 masks read back");
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x0b);
	pc_check(inb(0x20) == 0, "8259 ISR empty");
	outb(0x4d1, 0xff);
	pc_check(inb(0x4d1) == 0xde, "ELCR2 keeps IRQ 8 and 13 edge (%x)",
		 inb(0x4d1));
	outb(0x4d1, 0);
}

static void check_ioapic(void)
{
	uint32_t ver = ioapic_rd(1);

	pc_check(ver == 0x170020, "I/O APIC version %x (want 170020)", ver);
	ioapic_wr(0x10 + 2 * 4, 0x4000 | 0x8000 | 0x10000 | 0x34);
	pc_check(ioapic_rd(0x10 + 2 * 4) == (0x8000 | 0x10000 | 0x34),
		 "I/O APIC pin 4 entry kept, remote IRR read-only");
	ioapic_wr(0x10 + 2 * 4, 0x10000);
	printf("devices: I/O APIC id %u, %u pins\n", ioapic_rd(0) >> 24,
	       ((ver >> 16) & 0xff) + 1);
}

static uint16_t pit_latch(unsigned int ch)
{
	uint8_t lo;

	outb(0x43, (uint8_t)(ch << 6));
	lo = inb(0x40 + ch);
	return (uint16_t)(lo | inb(0x40 + ch) << 8);
}

static void check_pit(void)
{
	uint16_t a, b;
	int i;

	outb(0x43, 0x34); /* channel 0, rate generator, count 0xffff */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	a = pit_latch(0);
	for (i = 0; i < 1000000 && (b = pit_latch(0)) == a; i++)
		;
	pc_check(b < a, "PIT channel 0 counts down (%u then %u)", a, b);
	/* Channel 2 mode 0, ~1 ms, gated through port 0x61: OUT2 rises. */
	outb(0x61, (inb(0x61) & ~0x03) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, 0xa9);
	outb(0x42, 0x04);
	pc_check(!(inb(0x61) & 0x20), "OUT2 low while channel 2 counts");
	for (i = 0; i < 10000000 && !(inb(0x61) & 0x20); i++)
		;
	pc_check(inb(0x61) & 0x20, "OUT2 high at terminal count (%d polls)", i);
	/* Mode 3 on channel 2: OUT2 toggles. */
	outb(0x43, 0xb6);
	outb(0x42, 0x00);
	outb(0x42, 0x02); /* 512 ticks: a 430 us period */
	unsigned int lows = 0, highs = 0;

	for (i = 0; i < 200000 && (lows < 3 || highs < 3); i++) {
		if (inb(0x61) & 0x20)
			highs++;
		else
			lows++;
	}
	pc_check(lows && highs, "OUT2 toggles in mode 3 (%u high, %u low)",
		 highs, lows);
	outb(0x61, inb(0x61) & ~0x03);
	/* Read-back: channel 2's status says mode 3, LSB then MSB. */
	outb(0x43, 0xe8);
	pc_check((inb(0x42) & 0x3e) == 0x36, "PIT read-back status");
	/* BCD: channel 2 in mode 2 from 2000 decimal counts in BCD digits. */
	outb(0x61, (inb(0x61) & ~0x03) | 0x01);
	outb(0x43, 0xb5);
	outb(0x42, 0x00);
	outb(0x42, 0x20);
	for (i = 0, a = b = 0x2000; i < 100000 && b == a; i++)
		b = pit_latch(2);
	outb(0x61, inb(0x61) & ~0x03);
	pc_check(b < 0x2000 && (b & 0xf) <= 9 && (b >> 4 & 0xf) <= 9 &&
			 (b >> 8 & 0xf) <= 9,
		 "PIT BCD: 2000 counts down in decimal digits (%x)", b);
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static void check_rtc(void)
{
	unsigned int y, m, d, h, mi, s;
	int i;

	for (i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		;
	pc_check(cmos(0x0b) & 0x02, "RTC in 24-hour mode");
	y = bcd(cmos(0x32)) * 100 + bcd(cmos(0x09));
	m = bcd(cmos(0x08));
	d = bcd(cmos(0x07));
	h = bcd(cmos(0x04));
	mi = bcd(cmos(0x02));
	s = bcd(cmos(0x00));
	printf("devices: RTC %04u-%02u-%02u %02u:%02u:%02u\n", y, m, d, h, mi,
	       s);
	pc_check(y >= 2020 && y < 2200 && m >= 1 && m <= 12 && d >= 1 &&
			 d <= 31 && h < 24 && mi < 60 && s < 60,
		 "RTC date plausible");
	pc_check(cmos(0x0d) == 0x80, "RTC register D: time valid");
	pc_check((cmos(0x15) | cmos(0x16) << 8) == 640,
		 "CMOS base memory 640 KiB");
}

static void check_small_ports(void)
{
	outl(0xcf8, 0x80000000u);
	pc_check(inl(0xcf8) == 0x80000000u, "PCI address register reads back");
	pc_check(inl(0xcfc) == 0xffffffffu, "PCI 00:00.0: no device");
	pc_check(inb(0xcfe) == 0xff, "PCI data byte: all ones");
	outb(0x80, 0x42);
	pc_check(inb(0x64) == 0xff, "no i8042 controller");
	pc_check(inb(0x92) & 0x02, "A20 on (port 0x92)");
	outb(0x92, 0x03); /* fast reset: tidal says no, the guest goes on */
	outb(0x92, 0x03);
	pc_check(inb(0x92) == 0x02, "still here after a port 0x92 reset");
}

/* COM1 loopback: no printing until the port is restored. */
static void check_com1(void)
{
	static const char msg[] = "loop";
	uint8_t got[8], lsr_data, iir, lsr_ovr, msr;
	unsigned int n = 0;

	outb(COM1 + 2, 0x87); /* FIFO on, cleared, trigger 8 */
	outb(COM1 + 4, 0x1b); /* loopback, OUT2, RTS, DTR */
	msr = inb(COM1 + 6);
	for (unsigned int i = 0; i < 4; i++)
		outb(COM1, (uint8_t)msg[i]);
	lsr_data = inb(COM1 + 5);
	outb(COM1 + 1, 0x01); /* RX data interrupt enable */
	iir = inb(COM1 + 2);
	outb(COM1 + 1, 0x00);
	while (n < sizeof(got) && (inb(COM1 + 5) & 0x01))
		got[n++] = inb(COM1);
	for (unsigned int i = 0; i < 17; i++)
		outb(COM1, 'x');
	lsr_ovr = inb(COM1 + 5);
	outb(COM1 + 2, 0xc7);
	outb(COM1 + 4, 0x03);
	pc_check((msr & 0xf0) == 0xb0, "COM1 loopback MSR %x", msr);
	pc_check(lsr_data == 0x61, "COM1 LSR with data %x", lsr_data);
	pc_check(iir == 0xcc, "COM1 IIR below trigger: timeout (%x)", iir);
	pc_check(n == 4 && got[0] == 'l' && got[3] == 'p',
		 "COM1 loopback gave back %u bytes", n);
	pc_check(lsr_ovr & 0x02, "COM1 FIFO of 16 overran at 17");
}

void pc_check_devices(void)
{
	check_pic();
	check_ioapic();
	check_pit();
	check_rtc();
	check_small_ports();
	check_com1();
	printf("devices: probed\n");
}
