// SPDX-License-Identifier: MIT
/*
 * apictest: a PVH kernel that exercises tidal's emulated local APIC from
 * inside (tests/boot/guest-apic.t).  Argument cpus=N says how many vCPUs
 * to expect.
 *
 *  - xAPIC registers through the page at 0xFEE00000: ID, version, TPR and
 *    PPR, SVR, ESR on an illegal vector;
 *  - the timer in one-shot, periodic and TSC-deadline modes, each woken
 *    from HLT, periods measured with RDTSC; the TSC-deadline runs give the
 *    interrupt-delivery latency figure (deadline to the handler's RDTSC);
 *  - self IPIs, then INIT-SIPI-SIPI start of every AP at a real-mode
 *    trampoline copied to 0x8000; fixed IPIs to each AP (physical,
 *    logical flat, all-but-self) that wake it from HLT and are answered
 *    by an IPI that wakes the BSP; an NMI IPI;
 *  - a level-triggered interrupt through the I/O APIC (COM1's THR-empty
 *    on pin 4): TMR set, and the EOI reaches the I/O APIC (remote IRR
 *    clears), in xAPIC and in x2APIC mode;
 *  - a vCPU that runs with IF=0 while another sends it IPIs takes none
 *    of them until it sets IF again (each IPI kicks it out of guest mode
 *    with its earlier vector already pending);
 *  - an AP parked in cli; hlt (as Linux parks its APs before powering
 *    off) does not stop the VM, and an NMI IPI wakes it;
 *  - x2APIC: APIC_BASE switch, ID/version/LDR MSRs, an IPI and a self
 *    IPI through MSRs, TSC-deadline once more.
 *
 * Powers off through ACPI at the end (pc_finish); with park=1 every CPU
 * parks in cli; hlt instead, which tidal must stop as a dead VM.
 */
#include "pc_checks.h"
#include "pc_cpu.h"
#include "vmm/pc.h"

#define VEC_TIMER     0x40
#define VEC_IPI	      0x41 /* to an AP: count, answer the BSP */
#define VEC_REPLY     0x42 /* to the BSP */
#define VEC_SELF      0x43
#define VEC_LEVEL     0x44 /* COM1 through the I/O APIC, level */
#define VEC_CLI	      0x45 /* to the BSP while it runs with IF=0 */
#define CLI_IPIS      24
#define COM1	      0x3f8
#define MAX_CPUS      PC_CPU_MAX
#define MSR_APIC_BASE PC_CPU_MSR_APIC_BASE
#define MSR_DEADLINE  0x6e0

PVH_ENTRY(apic_main);

/* Interrupt stubs: the timer one reads the TSC before anything else. */
__asm__(".text\n"
	".code32\n"
	"isr_timer:\n"
	"pushl %eax\n"
	"pushl %edx\n"
	"rdtsc\n"
	"movl %eax, isr_tsc\n"
	"movl %edx, isr_tsc + 4\n"
	"popl %edx\n"
	"popl %eax\n"
	"pushal\n"
	"cld\n"
	"call on_timer\n"
	"popal\n"
	"iret\n"
	"isr_ipi:\n"
	"pushal\n"
	"cld\n"
	"call on_ipi\n"
	"popal\n"
	"iret\n"
	"isr_reply:\n"
	"pushal\n"
	"cld\n"
	"call on_reply\n"
	"popal\n"
	"iret\n"
	"isr_self:\n"
	"pushal\n"
	"cld\n"
	"call on_self\n"
	"popal\n"
	"iret\n"
	"isr_level:\n"
	"pushal\n"
	"cld\n"
	"call on_level\n"
	"popal\n"
	"iret\n"
	"isr_cli:\n"
	"pushal\n"
	"cld\n"
	"call on_cli\n"
	"popal\n"
	"iret\n"
	"isr_nmi:\n"
	"pushal\n"
	"cld\n"
	"call on_nmi\n"
	"popal\n"
	"iret\n");

void isr_level(void);
void on_level(void);
void isr_timer(void), isr_ipi(void), isr_reply(void), isr_self(void),
	isr_nmi(void), isr_cli(void);
void apic_main(uint32_t eax, uint32_t info_pa); /* eax: the PVH magic */
void on_timer(void), on_ipi(void), on_reply(void), on_self(void), on_nmi(void),
	on_cli(void);

volatile uint64_t isr_tsc;
static volatile uint32_t timer_hits, reply_hits, self_hits, ap_alive, answers;
static volatile uint32_t ipi_hits[MAX_CPUS], nmi_hits[MAX_CPUS];
static volatile uint32_t level_hits, level_tmr;
static volatile bool ap_answer;
static volatile uint32_t park_req[MAX_CPUS], parked_n, unparked_n;
static volatile uint64_t ticks[8];
static volatile uint32_t cli_req, cli_sent, cli_hits, cli_early;
static volatile bool bsp_cli; /* the BSP runs with IF=0 */

void on_timer(void)
{
	if (timer_hits < 8)
		ticks[timer_hits] = isr_tsc;
	timer_hits++;
	lapic_wr(0xb0, 0);
}

void on_ipi(void)
{
	uint32_t id = my_id();

	if (id < MAX_CPUS)
		ipi_hits[id]++;
	lapic_wr(0xb0, 0);
	/*
	 * Count in memory first: replies sent at once coalesce in the BSP's
	 * IRR, so the BSP counts answers, the IPI only wakes it.
	 */
	if (ap_answer) {
		__atomic_fetch_add(&answers, 1, __ATOMIC_SEQ_CST);
		send_ipi(0, VEC_REPLY);
	}
}

void on_reply(void)
{
	reply_hits++;
	lapic_wr(0xb0, 0);
}

void on_self(void)
{
	self_hits++;
	lapic_wr(0xb0, 0);
}

void on_level(void)
{
	level_hits++;
	level_tmr = lapic_rd(0x180 + VEC_LEVEL / 32 * 0x10) &
		    (1u << (VEC_LEVEL % 32));
	(void)inb(COM1 + 2); /* IIR: reading it clears THR-empty */
	outb(COM1 + 1, 0);   /* IER: no more */
	lapic_wr(0xb0, 0);
}

void on_cli(void)
{
	if (bsp_cli)
		cli_early++;
	cli_hits++;
	lapic_wr(0xb0, 0);
}

void on_nmi(void)
{
	uint32_t id = my_id();

	if (id < MAX_CPUS)
		nmi_hits[id]++;
}

/* AP 1: IPIs to the BSP, far enough apart that each is taken alone. */
static void send_cli_ipis(void)
{
	cli_req = 0;
	for (int i = 0; i < CLI_IPIS; i++) {
		uint64_t end = rdtsc() + 200000;

		send_ipi(0, VEC_CLI);
		while (rdtsc() < end)
			__asm__ volatile("pause");
	}
	cli_sent = 1;
}

void ap_main(uint32_t n)
{
	(void)n;
	load_tables();
	lapic_wr(0xf0, 0x1ff);		       /* SVR: enabled */
	lapic_wr(0xe0, 0xffffffffu);	       /* DFR: flat */
	lapic_wr(0xd0, (1u << my_id()) << 24); /* LDR: one bit per CPU */
	__atomic_fetch_add(&ap_alive, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		__asm__ volatile("sti; hlt; cli");
		if (cli_req && my_id() == 1)
			send_cli_ipis();
		if (!park_req[my_id()])
			continue;
		park_req[my_id()] = 0;
		__atomic_fetch_add(&parked_n, 1, __ATOMIC_SEQ_CST);
		__asm__ volatile(
			"hlt"); /* IF=0: only an NMI or INIT wakes it */
		__atomic_fetch_add(&unparked_n, 1, __ATOMIC_SEQ_CST);
	}
}

/* Ask AP @id to park in cli; hlt (an IPI gets it out of its HLT loop). */
static void park(uint32_t id)
{
	park_req[id] = 1;
	send_ipi(id, VEC_IPI);
}

/* AP 1 parks; the VM runs on; an NMI IPI wakes it. */
static void park_and_wake(void)
{
	uint64_t end;

	ap_answer = false;
	park(1);
	pc_check(spin_for(&parked_n, 1, 400000000ull), "AP 1 parked");
	/* Give it time to reach its HLT: an NMI before it would be lost. */
	end = rdtsc() + 20000000ull;
	while (rdtsc() < end)
		__asm__ volatile("pause");
	send_ipi(1, 0x400); /* NMI */
	pc_check(spin_for(&unparked_n, 1, 400000000ull),
		 "an NMI IPI woke AP 1 from cli; hlt");
	ap_answer = true;
}

/*
 * The BSP runs with IF=0 while AP 1 sends it IPIs.  From the second one on,
 * the kick that makes it exit arrives while the first vector already waits
 * for IF: none may be taken before the BSP's STI, and then one is.
 */
static void cli_ipis(void)
{
	uint64_t end;
	bool sent;

	ap_answer = false;
	cli_hits = cli_early = cli_sent = 0;
	bsp_cli = true;
	cli_req = 1;
	send_ipi(1, VEC_IPI);
	/* CLI in the loop, as kernels do: it must not open a window. */
	end = rdtsc() + 2000000000ull;
	while (!cli_sent && rdtsc() < end)
		__asm__ volatile("cli; pause");
	sent = cli_sent;
	bsp_cli = false;
	__asm__ volatile("sti; nop; nop; cli");
	pc_check(sent, "AP 1 sent %d IPIs to the BSP while it ran with IF=0",
		 CLI_IPIS);
	pc_check(cli_early == 0,
		 "no interrupt reached the BSP while its IF was 0 (%u did)",
		 cli_early);
	pc_check(cli_hits >= 1, "the held IPI was taken after STI (%u)",
		 cli_hits);
	ap_answer = true;
}

/* Every AP parks, then the BSP: nothing can wake the VM any more. */
static __attribute__((noreturn)) void park_all(unsigned int ncpus)
{
	for (unsigned int id = 1; id < ncpus; id++)
		park(id);
	pc_check(spin_for(&parked_n, ncpus - 1, 400000000ull), "%u APs parked",
		 ncpus - 1);
	printf("apic: every CPU parks now\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void check_xapic(void)
{
	uint32_t ver = lapic_rd(0x30);

	pc_check(my_id() == 0, "BSP's xAPIC ID is 0 (read %x)", lapic_rd(0x20));
	pc_check((ver & 0xff) == 0x14 && ((ver >> 16) & 0xff) >= 5,
		 "xAPIC version %x", ver);
	pc_check(rdmsr(MSR_APIC_BASE) == (PC_CPU_APIC | (1u << 11) | (1u << 8)),
		 "APIC_BASE: enabled, BSP, at fee00000");
	lapic_wr(0xf0, 0x1ff);
	pc_check(lapic_rd(0xf0) == 0x1ff, "SVR software-enabled");
	lapic_wr(0x80, 0x50);
	pc_check(lapic_rd(0x80) == 0x50 && lapic_rd(0xa0) == 0x50,
		 "TPR 0x50 gives PPR 0x50");
	/* A self IPI below the TPR's class waits in IRR. */
	send_ipi(0, (1u << 18) | VEC_SELF);
	__asm__ volatile("sti; nop; nop; cli");
	pc_check(self_hits == 0 && (lapic_rd(0x200 + 0x20) & (1u << 3)),
		 "self IPI 0x43 held in IRR under TPR 0x50");
	lapic_wr(0x80, 0);
	__asm__ volatile("sti; nop; nop; cli");
	pc_check(self_hits == 1, "self IPI delivered once TPR is lowered");
	pc_check(lapic_rd(0x100 + 0x20) == 0, "ISR clear after EOI");
	send_ipi(0, (1u << 18) | 3); /* illegal vector */
	lapic_wr(0x280, 0);
	pc_check(lapic_rd(0x280) & (1u << 5), "ESR: send illegal vector");
	send_ipi(0, 0x400); /* NMI to itself, by its ID, with IF=0 */
	pc_check(nmi_hits[0] == 1, "NMI IPI to itself taken at once");
}

static void timer_oneshot(void)
{
	const uint32_t n = 300000;
	uint64_t t0;

	timer_hits = 0;
	lapic_wr(0x3e0, 0xb);	    /* divide by 1 */
	lapic_wr(0x320, VEC_TIMER); /* one-shot */
	t0 = rdtsc();
	lapic_wr(0x380, n);
	pc_check(wait_for(&timer_hits, 1, 100ull * n),
		 "one-shot timer woke HLT");
	printf("apic: one-shot count %u: fired after %u cycles\n", n,
	       (uint32_t)(ticks[0] - t0));
	pc_check(ticks[0] - t0 >= n, "one-shot timer not early");
	pc_check(lapic_rd(0x390) == 0, "one-shot: current count 0 after");
}

static void timer_periodic(void)
{
	const uint32_t n = 200000;
	uint64_t avg;

	timer_hits = 0;
	lapic_wr(0x3e0, 0x0); /* divide by 2 */
	lapic_wr(0x320, VEC_TIMER | (1u << 17));
	lapic_wr(0x380, n);
	pc_check(wait_for(&timer_hits, 6, 200ull * n),
		 "periodic timer: 6 ticks");
	lapic_wr(0x320, VEC_TIMER | (1u << 16)); /* masked */
	lapic_wr(0x380, 0);
	avg = (ticks[5] - ticks[0]) / 5;
	printf("apic: periodic count %u divide 2: mean period %u cycles\n", n,
	       (uint32_t)avg);
	pc_check(avg >= 2ull * n * 9 / 10 && avg <= 2ull * n * 3,
		 "periodic period near count x divide");
}

/* TSC-deadline runs: the latency figure. */
static void timer_deadline(const char *mode)
{
	uint64_t lat, min = ~0ull, max = 0, sum = 0;
	const int runs = 6;
	bool ok = true;

	lapic_wr(0x320, VEC_TIMER | (2u << 17));
	for (int i = 0; i < runs; i++) {
		uint64_t dl = rdtsc() + 100000;

		timer_hits = 0;
		wrmsr(MSR_DEADLINE, dl);
		ok &= wait_for(&timer_hits, 1, 100000000ull);
		lat = ticks[0] - dl;
		if (ticks[0] < dl)
			ok = false;
		min = lat < min ? lat : min;
		max = lat > max ? lat : max;
		sum += lat;
	}
	pc_check(ok, "%s: TSC-deadline timer fired %d times, never early", mode,
		 runs);
	pc_check(rdmsr(MSR_DEADLINE) == 0, "%s: deadline MSR 0 after firing",
		 mode);
	printf("apic: %s: interrupt-delivery latency (deadline to handler "
	       "RDTSC): min %u avg %u max %u cycles\n",
	       mode, (uint32_t)min, (uint32_t)(sum / runs), (uint32_t)max);
}

/*
 * A level-triggered interrupt: COM1's THR-empty on I/O APIC pin 4.  The
 * handler clears the source before its EOI, so the EOI must reach the
 * I/O APIC (remote IRR clear) and nothing comes again.
 */
static void check_level(const char *mode)
{
	const uint32_t rte = 0x10 + 2 * 4;
	uint8_t mcr = inb(COM1 + 4);

	outb(0x21, 0xff); /* the 8259s stay out of it */
	outb(0xa1, 0xff);
	level_hits = level_tmr = 0;
	ioapic_wr(rte + 1, 0);		    /* physical, APIC ID 0 */
	ioapic_wr(rte, 0x8000 | VEC_LEVEL); /* level, active high, fixed */
	outb(COM1 + 4, mcr | 0x08);	    /* OUT2: the IRQ reaches pin 4 */
	outb(COM1 + 1, 0x02);		    /* IER: THR empty raises it */
	pc_check(wait_for(&level_hits, 1, 100000000ull),
		 "%s: level-triggered I/O APIC interrupt taken", mode);
	pc_check(level_tmr, "%s: its vector's TMR bit was set", mode);
	pc_check(!(ioapic_rd(rte) & 0x4000),
		 "%s: the EOI reached the I/O APIC (remote IRR clear)", mode);
	spin_for(&level_hits, 2, 1000000ull);
	pc_check(level_hits == 1, "%s: taken once (%u)", mode, level_hits);
	ioapic_wr(rte, 0x10000); /* masked */
	outb(COM1 + 4, mcr);
}

static void start_all(unsigned int ncpus)
{
	pc_check(start_aps(ncpus, &ap_alive),
		 "%u APs started by INIT-SIPI-SIPI (%u alive)", ncpus - 1,
		 ap_alive);
}

static void ipis(unsigned int ncpus)
{
	uint32_t want = 0;

	ap_answer = true;
	for (unsigned int id = 1; id < ncpus; id++) {
		send_ipi(id, VEC_IPI); /* physical, fixed */
		want++;
		pc_check(wait_for(&answers, want, 400000000ull) &&
				 ipi_hits[id] == 1,
			 "IPI to AP %u woke it, its answer woke the BSP", id);
	}
	/* Logical flat: every AP's bit. */
	send_ipi(((1u << ncpus) - 2) & 0xff, (1u << 11) | VEC_IPI);
	want += ncpus - 1;
	pc_check(wait_for(&answers, want, 400000000ull),
		 "logical IPI reached all %u APs", ncpus - 1);
	/* All but self. */
	send_ipi(0, (3u << 18) | VEC_IPI);
	want += ncpus - 1;
	pc_check(wait_for(&answers, want, 400000000ull),
		 "all-but-self IPI reached every AP");
	pc_check(reply_hits >= 1 && reply_hits <= want,
		 "BSP took %u reply interrupts for %u answers", reply_hits,
		 want);
	for (unsigned int id = 1; id < ncpus; id++)
		pc_check(ipi_hits[id] == 3, "AP %u took 3 IPIs (%u)", id,
			 ipi_hits[id]);
	/* NMI to the last AP, which sits in HLT. */
	send_ipi(ncpus - 1, 0x400);
	pc_check(spin_for(&nmi_hits[ncpus - 1], 1, 400000000ull),
		 "NMI IPI reached AP %u", ncpus - 1);
}

static void check_x2apic(unsigned int ncpus)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	wrmsr(MSR_APIC_BASE, base | (1u << 10));
	pc_check(x2(), "x2APIC mode on");
	pc_check(rdmsr(0x802) == 0, "x2APIC ID 0");
	pc_check(rdmsr(0x80d) == 1, "x2APIC LDR cluster 0, bit 0");
	pc_check((rdmsr(0x803) & 0xff) == 0x14, "x2APIC version");
	self_hits = 0;
	wrmsr(0x83f, VEC_SELF); /* SELF IPI register */
	__asm__ volatile("sti; nop; nop; cli");
	pc_check(self_hits == 1, "x2APIC SELF IPI delivered");
	if (ncpus > 1) {
		uint32_t want = answers + 1;

		send_ipi(1, VEC_IPI);
		pc_check(wait_for(&answers, want, 400000000ull),
			 "x2APIC ICR IPI to AP 1 answered");
	}
	timer_deadline("x2APIC");
	check_level("x2APIC");
}

void apic_main(uint32_t eax __attribute__((unused)), uint32_t info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info_pa;
	const char *cmdline =
		si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr
				  : "";
	unsigned int ncpus = (unsigned int)pc_arg(cmdline, "cpus", 1);

	com1_init();
	pc_check_acpi(cmdline); /* pc_finish powers off through the FADT */
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	printf("apic: %u CPUs expected\n", ncpus);
	set_gate(2, isr_nmi);
	set_gate(VEC_TIMER, isr_timer);
	set_gate(VEC_IPI, isr_ipi);
	set_gate(VEC_REPLY, isr_reply);
	set_gate(VEC_SELF, isr_self);
	set_gate(VEC_LEVEL, isr_level);
	set_gate(VEC_CLI, isr_cli);
	load_tables();
	check_xapic();
	timer_oneshot();
	timer_periodic();
	timer_deadline("xAPIC");
	check_level("xAPIC");
	if (ncpus > 1) {
		start_all(ncpus);
		ipis(ncpus);
		cli_ipis();
		if (pc_arg(cmdline, "park", 0))
			park_all(ncpus);
		park_and_wake();
	}
	check_x2apic(ncpus);
	pc_finish("apic");
}
