// SPDX-License-Identifier: MIT
/*
 * irqtest: a PVH kernel that takes device interrupts end to end
 * (tests/boot/guest-irq.t).  Arguments: cpus=N (vCPUs to expect), echo=1
 * (echo COM1 input at the end).
 *
 *  - PIT channel 0 through the I/O APIC pin the MADT's IRQ 0 override
 *    names, to vCPU 0: ticks wake HLT, their rate is checked against the
 *    TSC; masking the pin stops them, unmasking brings them back;
 *  - COM1 on IRQ 4 (edge) with the 16550's modem-control loopback: bytes
 *    written come back through RX interrupts; the THRE interrupt;
 *  - IRQ 4 level-triggered: remote IRR set while in service, cleared by
 *    the local APIC's EOI (a line still high is sent again) or by the I/O
 *    APIC's EOI register;
 *  - with 2+ vCPUs: the pin routed to vCPU 1 by physical, then logical
 *    destination;
 *  - the RTC on IRQ 8 (I/O APIC pin 8): periodic interrupts at 64 Hz and
 *    the update-ended interrupt, each cleared by reading register C;
 *  - the 8259 path: the I/O APIC masked, the local APIC's LINT0 in
 *    virtual-wire (ExtINT) mode, the PIT and COM1 through the 8259 with
 *    its in-service register and EOI;
 *  - echo=1: COM1 input (typed on tidal's console) taken by RX interrupts
 *    and written back, until a line "quit".
 *
 * Powers off through ACPI at the end (pc_finish).
 */
#include "pc_checks.h"
#include "pc_cpu.h"
#include "vmm/pc.h"

#define COM1	     0x3f8
#define VEC_PIT	     0x50
#define VEC_COM	     0x51
#define VEC_LEVEL    0x52
#define VEC_AP	     0x53
#define VEC_RTC	     0x54
#define PIC_BASE     0x20  /* master 0x20-0x27, slave 0x28-0x2f */
#define PIT_COUNT    11932 /* ~100 Hz */
#define RTE_MASKED   0x10000u
#define RTE_LEVEL    0x8000u
#define RTE_RIRR     0x4000u
#define RTE_LOGICAL  0x800u
#define LVT_LINT0    0x350
#define EOI_LAPIC    1
#define EOI_REGISTER 2

PVH_ENTRY(irq_main);
void irq_main(uint32_t eax, uint32_t info_pa);

static volatile uint32_t *const ioapic = (volatile uint32_t *)PC_IOAPIC_BASE;
static volatile uint32_t pit_hits, com_hits, thre_hits, level_hits, ap_hits;
static volatile uint32_t pic_pit_hits, pic_com_hits, ap_alive, ap_who;
static volatile uint64_t pit_tsc[16];
static volatile uint8_t rx[256];
static volatile uint32_t rx_len;
static volatile uint32_t level_mode, level_rirr_in, level_rirr_after;
static volatile uint8_t pic_isr_in;
static volatile uint32_t rtc_hits, rtc_pf, rtc_uf;
static unsigned int pit_pin;

static void rte_set(unsigned int pin, uint32_t lo, uint32_t dest)
{
	ioapic_wr(0x10 + 2 * pin + 1, dest << 24);
	ioapic_wr(0x10 + 2 * pin, lo);
}

static uint32_t rte_lo(unsigned int pin)
{
	return ioapic_rd(0x10 + 2 * pin);
}

/* Take every byte the receiver holds. */
static void rx_drain(void)
{
	while (inb(COM1 + 5) & 0x01) {
		uint8_t b = inb(COM1);

		if (rx_len < sizeof(rx))
			rx[rx_len++] = b;
	}
}

/* Serve the 16550 until IIR says nothing is pending. */
static void com_serve(void)
{
	uint8_t iir;

	for (int i = 0; i < 32 && !((iir = inb(COM1 + 2)) & 1); i++) {
		switch (iir & 0x0e) {
		case 0x04: /* RX data */
		case 0x0c: /* character timeout */
			rx_drain();
			break;
		case 0x02: /* THR empty: reading IIR cleared it */
			thre_hits++;
			break;
		case 0x06:
			inb(COM1 + 5);
			break;
		default:
			inb(COM1 + 6);
			break;
		}
	}
}

PC_ISR(isr_pit, on_pit)
{
	if (pit_hits < 16)
		pit_tsc[pit_hits] = rdtsc();
	pit_hits++;
	lapic_wr(0xb0, 0);
}

PC_ISR(isr_com, on_com)
{
	com_hits++;
	com_serve();
	lapic_wr(0xb0, 0);
}

PC_ISR(isr_level, on_level)
{
	level_hits++;
	if (level_hits == 1)
		level_rirr_in = rte_lo(4) & RTE_RIRR;
	if (level_mode == EOI_REGISTER) {
		rx_drain();
		ioapic[0x40 / 4] = VEC_LEVEL;
		level_rirr_after = rte_lo(4) & RTE_RIRR;
	} else if (level_hits > 1) {
		rx_drain(); /* the first time the line is left high */
	}
	lapic_wr(0xb0, 0);
}

PC_ISR(isr_ap, on_ap)
{
	ap_who = my_id();
	rx_drain();
	ap_hits++;
	lapic_wr(0xb0, 0);
}

PC_ISR(isr_rtc, on_rtc)
{
	uint8_t c;

	outb(0x70, 0x0c);
	c = inb(0x71); /* clears the flags, lowers IRQ 8 */
	rtc_hits++;
	rtc_pf += !!(c & 0x40);
	rtc_uf += !!(c & 0x10);
	lapic_wr(0xb0, 0);
}

PC_ISR(isr_pic_pit, on_pic_pit)
{
	pic_pit_hits++;
	outb(0x20, 0x20);
}

PC_ISR(isr_pic_com, on_pic_com)
{
	outb(0x20, 0x0b); /* OCW3: read ISR */
	pic_isr_in = inb(0x20);
	outb(0x20, 0x0a);
	pic_com_hits++;
	com_serve();
	outb(0x20, 0x20);
}

void ap_main(uint32_t n)
{
	(void)n;
	load_tables();
	lapic_wr(0xf0, 0x1ff);
	lapic_wr(0xe0, 0xffffffffu);	       /* DFR: flat */
	lapic_wr(0xd0, (1u << my_id()) << 24); /* LDR: one bit per CPU */
	__atomic_fetch_add(&ap_alive, 1, __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ volatile("sti; hlt; cli");
}

static uint64_t tsc_khz(void)
{
	uint32_t r[4];

	cpuid(0x40000010, 0, r);
	return r[0];
}

static void pit_start(uint16_t count)
{
	outb(0x43, 0x34); /* channel 0, LSB then MSB, mode 2 */
	outb(0x40, (uint8_t)count);
	outb(0x40, (uint8_t)(count >> 8));
}

/* Interrupts on for about @ms of TSC time (no HLT). */
static void run_for_ms(uint64_t khz, unsigned int ms)
{
	uint64_t end = rdtsc() + khz * ms;

	__asm__ volatile("sti");
	while (rdtsc() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
}

static void check_pit(uint64_t khz)
{
	/* 11932 / 1193182 Hz is 10.0003 ms; 32-bit divisions only here. */
	uint32_t want = (uint32_t)khz * 10, mean;
	uint32_t before;

	pit_pin = pc_irq0_gsi;
	pc_check(pit_pin == 2, "MADT: IRQ 0 is GSI %u", pit_pin);
	rte_set(pit_pin, VEC_PIT, 0);
	pit_start(PIT_COUNT);
	pc_check(wait_for(&pit_hits, 8, khz * 2000),
		 "PIT through I/O APIC pin %u: 8 ticks woke HLT (%u)", pit_pin,
		 pit_hits);
	mean = (uint32_t)(pit_tsc[7] - pit_tsc[1]) / 6;
	printf("irq: PIT period %u cycles, want %u (TSC %u kHz)\n", mean, want,
	       (unsigned int)khz);
	pc_check(mean >= want * 8 / 10 && mean <= want * 5 / 4,
		 "PIT rate within 20%% of 100 Hz by the TSC");
	rte_set(pit_pin, RTE_MASKED | VEC_PIT, 0);
	before = pit_hits;
	run_for_ms(khz, 50);
	pc_check(pit_hits == before, "masked pin: no tick in 50 ms (%u)",
		 pit_hits - before);
	rte_set(pit_pin, VEC_PIT, 0);
	pc_check(wait_for(&pit_hits, before + 3, khz * 1000),
		 "unmasked: ticks again");
	rte_set(pit_pin, RTE_MASKED | VEC_PIT, 0);
}

/* Loopback on, FIFO on (trigger 1), interrupts as @ier: no printing. */
static void com_loop(uint8_t ier)
{
	outb(COM1 + 1, 0);
	outb(COM1 + 2, 0x07);
	outb(COM1 + 4, 0x1b); /* loopback, OUT2, RTS, DTR */
	outb(COM1 + 1, ier);
}

static void com_restore(void)
{
	outb(COM1 + 1, 0);
	outb(COM1 + 2, 0xc7);
	outb(COM1 + 4, 0x03);
}

static void check_com1(void)
{
	uint32_t hits, thre;

	rx_len = 0;
	rte_set(4, VEC_COM, 0);
	com_loop(0x01);
	outb(COM1, 'i');
	outb(COM1, 'r');
	outb(COM1, 'q');
	wait_for(&rx_len, 3, 100000000ull);
	hits = com_hits;
	com_loop(0x02); /* THRE: raised when enabled */
	wait_for(&thre_hits, 1, 100000000ull);
	outb(COM1, '!'); /* goes to RX (not enabled); THR empty again */
	wait_for(&thre_hits, 2, 100000000ull);
	thre = thre_hits;
	rx_drain();
	com_restore();
	pc_check(rx_len == 4 && rx[0] == 'i' && rx[2] == 'q' && rx[3] == '!',
		 "COM1 loopback bytes came back by RX interrupts (%u)", rx_len);
	pc_check(hits >= 1, "COM1 RX interrupts on IRQ 4: %u", hits);
	pc_check(thre == 2, "COM1 THRE interrupts: %u (want 2)", thre);
	/* Masked: a byte in loopback raises IRQ 4, nothing is delivered. */
	rte_set(4, RTE_MASKED | VEC_COM, 0);
	hits = com_hits;
	rx_len = 0;
	com_loop(0x01);
	outb(COM1, 'm');
	__asm__ volatile("sti; nop; nop; nop; cli");
	rx_drain();
	com_restore();
	pc_check(com_hits == hits && rx_len == 1,
		 "masked pin 4: the RX interrupt was not delivered");
}

/* IRQ 4 level-triggered, EOI'd by the local APIC or the EOI register. */
static void level_round(uint32_t mode, uint32_t want_hits)
{
	level_hits = 0;
	level_mode = mode;
	level_rirr_in = level_rirr_after = 0xdead;
	rx_len = 0;
	rte_set(4, RTE_LEVEL | VEC_LEVEL, 0);
	com_loop(0x01);
	outb(COM1, 'L');
	wait_for(&level_hits, want_hits, 100000000ull);
	/* A little longer: a wrongly repeated interrupt would show. */
	run_for_ms(tsc_khz(), 5);
	rx_drain();
	com_restore();
}

static void check_level(void)
{
	uint32_t rirr_now;

	level_round(EOI_LAPIC, 2);
	rirr_now = rte_lo(4) & RTE_RIRR;
	pc_check(level_rirr_in == RTE_RIRR,
		 "level: remote IRR set while in service");
	pc_check(level_hits == 2,
		 "level: EOI with the line high sends it again, once (%u)",
		 level_hits);
	pc_check(!rirr_now, "level: remote IRR clear after the last EOI");
	level_round(EOI_REGISTER, 1);
	pc_check(level_hits == 1 && level_rirr_after == 0,
		 "level: the I/O APIC EOI register clears remote IRR (%u, %x)",
		 level_hits, level_rirr_after);
	rte_set(4, RTE_MASKED, 0);
}

/* IRQ 4 to vCPU 1: by APIC ID, then by logical (flat) destination. */
static void check_routing(unsigned int ncpus)
{
	uint32_t bsp = com_hits;

	pc_check(start_aps(ncpus, &ap_alive), "%u APs started", ncpus - 1);
	rte_set(4, VEC_AP, 1);
	com_loop(0x01);
	outb(COM1, 'p');
	spin_for(&ap_hits, 1, 400000000ull);
	rte_set(4, RTE_LOGICAL | VEC_AP, 0x02);
	outb(COM1, 'l');
	spin_for(&ap_hits, 2, 400000000ull);
	com_restore();
	rte_set(4, RTE_MASKED, 0);
	pc_check(ap_hits == 2 && ap_who == 1,
		 "IRQ 4 reached vCPU 1 by physical and logical destination "
		 "(%u, vCPU %u)",
		 ap_hits, ap_who);
	pc_check(com_hits == bsp, "vCPU 0 took none of them");
}

static void cmos_wr(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

/* The RTC's periodic (64 Hz) then update-ended interrupts on pin 8. */
static void check_rtc(void)
{
	uint64_t khz = tsc_khz();
	uint32_t pf;

	rte_set(8, VEC_RTC, 0);
	cmos_wr(0x0a, 0x2a); /* rate 10: 64 Hz */
	outb(0x70, 0x0c);
	inb(0x71);
	cmos_wr(0x0b, 0x42); /* PIE, 24-hour */
	pc_check(wait_for(&rtc_hits, 4, khz * 1000),
		 "RTC periodic interrupts on IRQ 8: %u", rtc_hits);
	pf = rtc_pf;
	cmos_wr(0x0b, 0x12); /* UIE only */
	rtc_hits = 0;
	rtc_uf = 0;
	pc_check(wait_for(&rtc_uf, 1, khz * 3000) && rtc_hits == 1,
		 "RTC update-ended interrupt (%u)", rtc_hits);
	cmos_wr(0x0b, 0x02);
	rte_set(8, RTE_MASKED, 0);
	pc_check(pf >= 4, "register C showed the periodic flag %u times", pf);
}

static void pic_init(uint8_t master_mask)
{
	outb(0x20, 0x11);
	outb(0x21, PIC_BASE);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, PIC_BASE + 8);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, 0xff);
}

/* The I/O APIC masked: the 8259 reaches vCPU 0 through LINT0 (ExtINT). */
static void check_pic(void)
{
	uint32_t lint0 = lapic_rd(LVT_LINT0);

	pc_check((lint0 & 0x10700) == 0x700,
		 "LINT0 in virtual-wire mode (ExtINT, unmasked): %x", lint0);
	pic_init(0xfe); /* IRQ 0 only */
	pit_start(PIT_COUNT);
	pc_check(wait_for(&pic_pit_hits, 4, tsc_khz() * 2000),
		 "PIT through the 8259: 4 ticks at vector %x (%u)", PIC_BASE,
		 pic_pit_hits);
	outb(0x21, 0xff);
	outb(0x43, 0x30); /* channel 0 to mode 0, stopped */
	rx_len = 0;
	outb(0x21, 0xef); /* IRQ 4 only */
	com_loop(0x01);
	outb(COM1, '8');
	wait_for(&pic_com_hits, 1, 100000000ull);
	rx_drain();
	com_restore();
	outb(0x21, 0xff);
	pc_check(pic_com_hits == 1 && rx_len == 1 && rx[0] == '8',
		 "COM1 through the 8259 at vector %x", PIC_BASE + 4);
	pc_check(pic_isr_in == 0x10, "8259 ISR showed IRQ 4 in service (%x)",
		 pic_isr_in);
	outb(0x20, 0x0b);
	pc_check(inb(0x20) == 0, "8259 ISR empty after EOI");
	outb(0x20, 0x0a);
}

static bool is_quit(const char *line, unsigned int n)
{
	return n == 4 && !memcmp(line, "quit", 4);
}

/* Echo what COM1 receives (RX interrupts) until a line "quit". */
static void echo(void)
{
	char line[80];
	unsigned int n = 0, got = 0, seen = 0;

	rx_len = 0;
	com_hits = 0;
	outb(COM1 + 2, 0xc7);
	outb(COM1 + 4, 0x0b); /* OUT2, RTS, DTR: no loopback */
	rte_set(4, VEC_COM, 0);
	outb(COM1 + 1, 0x01);
	printf("irq: echo-ready\n");
	for (;;) {
		__asm__ volatile("cli");
		if (seen == rx_len)
			__asm__ volatile("sti; hlt");
		__asm__ volatile("sti");
		while (seen < rx_len) {
			char c = (char)rx[seen++ % sizeof(rx)];

			got++;
			outb(COM1, (uint8_t)c);
			if (c == '\n' || c == '\r') {
				if (is_quit(line, n))
					goto done;
				n = 0;
			} else if (n < sizeof(line)) {
				line[n++] = c;
			}
		}
		__asm__ volatile("cli");
		if (rx_len >= sizeof(rx) && seen == rx_len)
			rx_len = seen = 0; /* start the buffer over */
		__asm__ volatile("sti");
	}
done:
	__asm__ volatile("cli");
	outb(COM1 + 1, 0);
	rte_set(4, RTE_MASKED, 0);
	printf("irq: echo: %u bytes by %u RX interrupts\n", got, com_hits);
	pc_check(com_hits >= 1, "echo: input came by RX interrupts");
}

void irq_main(uint32_t eax, uint32_t info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info_pa;
	const char *cmdline =
		si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr
				  : "";
	unsigned int ncpus = (unsigned int)pc_arg(cmdline, "cpus", 1);
	uint64_t khz = tsc_khz();

	(void)eax;
	com1_init();
	pc_check_acpi(cmdline);
	if (ncpus > PC_CPU_MAX)
		ncpus = PC_CPU_MAX;
	set_gate(VEC_PIT, isr_pit);
	set_gate(VEC_COM, isr_com);
	set_gate(VEC_LEVEL, isr_level);
	set_gate(VEC_AP, isr_ap);
	set_gate(VEC_RTC, isr_rtc);
	set_gate(PIC_BASE, isr_pic_pit);
	set_gate(PIC_BASE + 4, isr_pic_com);
	load_tables();
	lapic_wr(0xf0, 0x1ff);
	pic_init(0xff); /* the 8259 masked while the I/O APIC is used */
	pc_check(khz > 0, "TSC rate from CPUID 0x40000010: %u kHz",
		 (unsigned int)khz);
	check_pit(khz);
	check_com1();
	check_level();
	check_rtc();
	if (ncpus > 1)
		check_routing(ncpus);
	check_pic();
	if (pc_arg(cmdline, "echo", 0))
		echo();
	printf("irq: PIT interrupts taken %u\n", pit_hits + pic_pit_hits);
	/* tidal drops terminal control sequences, shows a lone ESC as '?'. */
	printf("irq: esc \033[1;31mred\033[0m \033x \033[6n.\n");
	pc_finish("irq");
}
