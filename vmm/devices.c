// SPDX-License-Identifier: MIT
/*
 * Emulated I/O devices: a 16550 UART at COM1 (vmm/vuart.c, IRQ 4), the
 * 0xE9 debug port, the exit port and, for multiboot and PVH guests, the
 * ACPI PM registers (PM1a event and control blocks, PM timer) and the
 * legacy PC devices of vmm/legacy.c.  One table maps ports to them.  Guest
 * output is collected a line at a time and printed on tidal's console with a
 * "guest: " prefix, with anything unprintable replaced, so that a guest cannot
 * forge tidal's own log lines or send control sequences to the terminal.
 * String I/O (INS/OUTS) goes to the instruction emulator (emulate_vmx.c).
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "lib/spinlock.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "lib/printf.h"
#include "vmm/pc.h"
#include "arch/x86/serial.h"
#include "arch/x86/gdbstub.h"

static void line_putc_raw(struct line_buf *lb, char c);

/* Print what @lb holds; @end: the line is complete. */
static void line_out(struct line_buf *lb, bool end)
{
	lb->buf[lb->len] = '\0';
	console_guest(lb, lb->buf, end);
	lb->len = 0;
	lb->idle_len = 0;
}

static void line_flush(struct line_buf *lb)
{
	line_out(lb, true);
}

/*
 * A line that stopped growing (a shell's prompt, an echoed keystroke) is
 * shown without waiting for its end: after LINE_IDLE_NS with no new byte
 * its bytes go out and the line stays open on the console.
 */
#define LINE_IDLE_NS 20000000ull

static void line_idle(struct line_buf *lb, uint64_t now)
{
	if (!lb->len)
		return;
	if (lb->len != lb->idle_len) {
		lb->idle_len = lb->len;
		lb->idle_since = now;
	} else if (now - lb->idle_since >= LINE_IDLE_NS) {
		line_out(lb, false);
	}
}

/*
 * Terminal control sequences (ESC [ parameters final-byte, what a shell's
 * line editor sends) are dropped whole: their bytes would show as noise.
 * Returns true if @c belongs to one.  A lone ESC shows as '?'.
 */
static bool line_escape(struct line_buf *lb, unsigned char c)
{
	if (lb->esc == 1 && c == 0x1b) {
		line_putc_raw(lb, '?'); /* ESC ESC: the first one is shown */
		return true;
	}
	if (lb->esc == 1) {
		lb->esc = c == '[' ? 2 : 0;
		if (c == '[')
			return true;
		line_putc_raw(lb, '?');
		return false;
	}
	if (lb->esc == 2) {
		if (c >= 0x40 && c <= 0x7e)
			lb->esc = 0; /* the final byte */
		else if (c < 0x20 || c > 0x3f)
			lb->esc = 0; /* not a sequence after all: shown */
		return lb->esc || (c >= 0x40 && c <= 0x7e);
	}
	if (c == 0x1b) {
		lb->esc = 1;
		return true;
	}
	return false;
}

static void line_putc(struct line_buf *lb, char c)
{
	if (!line_escape(lb, (unsigned char)c))
		line_putc_raw(lb, c);
}

/* One byte into the line: printable, or replaced. */
static void line_putc_raw(struct line_buf *lb, char c)
{
	if (c == '\n') {
		line_flush(lb);
		return;
	}
	if (c == '\r')
		return;
	if (c == '\t')
		c = ' ';
	if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
		c = '?';
	lb->buf[lb->len++] = c;
	if (lb->len == sizeof(lb->buf) - 1)
		line_flush(lb);
}

void console_write(struct vm *vm, struct line_buf *lb, const char *s, size_t n)
{
	(void)vm;
	for (size_t i = 0; i < n; i++)
		line_putc(lb, s[i]);
}

void devices_flush(struct vm *vm)
{
	line_flush(&vm->com1_out);
	line_flush(&vm->e9_out);
}

/* Drive IRQ 4 when the UART's interrupt output changed (dev_lock held). */
static void com1_irq_update(struct vm *vm)
{
	bool level = u16550_irq(&vm->uart);

	if (level == vm->uart_irq)
		return;
	vm->uart_irq = level;
	if (level)
		vm->legacy.com1_irqs++;
	vm_irq_line(vm, 4, level);
}

static uint32_t com1_io(struct vm *vm, uint16_t port, unsigned int size,
			bool in, uint32_t val)
{
	unsigned int reg = port - TIDAL_PORT_COM1;
	/* Wider accesses touch the following registers too. */
	uint32_t out = 0;

	for (unsigned int i = 0; i < size && reg + i < 8; i++) {
		int tx;

		if (in) {
			out |= (uint32_t)u16550_read(&vm->uart, reg + i)
			       << (8 * i);
			continue;
		}
		tx = u16550_write(&vm->uart, reg + i,
				  (uint8_t)(val >> (8 * i)));
		if (tx >= 0)
			line_putc(&vm->com1_out, (char)tx);
	}
	com1_irq_update(vm);
	return out;
}

static uint32_t debug_io(struct vm *vm, uint16_t port, unsigned int size,
			 bool in, uint32_t val)
{
	if (in)
		return 0xe9;
	line_putc(&vm->e9_out, (char)val);
	return 0;
}

static uint32_t exit_io(struct vm *vm, uint16_t port, unsigned int size,
			bool in, uint32_t val)
{
	if (in)
		return 0xffffffffu;
	devices_flush(vm);
	if (vm_exit_with(vm, (int)val))
		printk("tidal: vm: guest exited with status %u (exit port)\n",
		       val);
	return 0;
}

/*
 * ACPI PM1a event block: status (no event is ever raised, so it reads 0
 * and writes of 1 to clear have nothing to clear) and enable, which is
 * kept.  Any width at any offset inside the block.
 */
static uint32_t pm1_evt_io(struct vm *vm, uint16_t port, unsigned int size,
			   bool in, uint32_t val)
{
	uint32_t regs = (uint32_t)vm->pm.en << 16;
	unsigned int sh = 8 * (port - PC_PM1A_EVT);
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (in)
		return (regs >> sh) & mask;
	regs = (regs & ~(mask << sh)) | ((val & mask) << sh);
	vm->pm.en = (uint16_t)(regs >> 16);
	return 0;
}

/* PM1a control: SCI_EN always set; SLP_EN with the _S5 type powers off. */
static uint32_t pm1_cnt_io(struct vm *vm, uint16_t port, unsigned int size,
			   bool in, uint32_t val)
{
	unsigned int sh = 8 * (port - PC_PM1A_CNT);

	if (in)
		return (uint32_t)(vm->pm.cnt | PC_PM1_SCI_EN) >> sh;
	if (sh || size == 1) /* a byte at a time: merge it */
		val = (vm->pm.cnt & ~(0xffu << sh)) | ((val & 0xff) << sh);
	vm->pm.cnt = (uint16_t)(val & ~PC_PM1_SLP_EN);
	if ((val & PC_PM1_SLP_EN) && PC_PM1_SLP_TYP(val) == PC_SLP_TYP_S5) {
		devices_flush(vm);
		if (vm_exit_with(vm, 0))
			printk("tidal: vm: guest powered off (ACPI S5)\n");
	}
	return 0;
}

/* The ACPI PM timer: a free-running 32-bit count at 3.579545 MHz. */
static uint32_t pm_tmr_io(struct vm *vm, uint16_t port, unsigned int size,
			  bool in, uint32_t val)
{
	uint64_t hz = tsc_hz(), tsc = rdtsc(), count;

	if (!in || !hz)
		return 0;
	/* Split so that nothing overflows: (tsc % hz) * 3.6e6 < 2^64. */
	count = tsc / hz * PC_PM_TMR_HZ + tsc % hz * PC_PM_TMR_HZ / hz;
	return (uint32_t)count >> (8 * (port - PC_PM_TMR));
}

struct port_range {
	uint16_t first, count;
	uint32_t (*io)(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val);
	bool pc_only; /* only for multiboot and PVH guests */
};

static const struct port_range ports[] = {
	{TIDAL_PORT_COM1, 8, com1_io, false},
	{TIDAL_PORT_DEBUG, 1, debug_io, false},
	{TIDAL_PORT_EXIT, 1, exit_io, false},
	{PC_PM1A_EVT, 4, pm1_evt_io, true},
	{PC_PM1A_CNT, 2, pm1_cnt_io, true},
	{PC_PM_TMR, 4, pm_tmr_io, true},
	{0x20, 2, legacy_pic_io, true},
	{0xa0, 2, legacy_pic_io, true},
	{0x4d0, 2, legacy_pic_io, true},
	{0x40, 4, legacy_pit_io, true},
	{0x70, 2, legacy_rtc_io, true},
	{0x60, 1, legacy_misc_io, true},
	{0x61, 1, legacy_misc_io, true},
	{0x64, 1, legacy_misc_io, true},
	{0x80, 1, legacy_misc_io, true},
	{0x92, 1, legacy_misc_io, true},
	{0xcf8, 8, legacy_pci_io, true},
};

/* Returns the value read (in) or acts on @val (out). */
static uint32_t port_io(struct vm *vm, uint16_t port, unsigned int size,
			bool in, uint32_t val)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++) {
		const struct port_range *r = &ports[i];

		if (port < r->first || port - r->first >= r->count)
			continue;
		if (r->pc_only && vm->format == GUEST_FMT_TIDAL)
			break;
		return r->io(vm, port, size, in, val);
	}
	return 0xffffffffu; /* nothing there */
}

/* Devices are the VM's, shared by its vCPUs: one access at a time. */
uint32_t devices_port_io(struct vm *vm, uint16_t port, unsigned int size,
			 bool in, uint32_t val)
{
	uint32_t r;

	spin_lock(&vm->dev_lock);
	r = port_io(vm, port, size, in, val);
	spin_unlock(&vm->dev_lock);
	return r;
}

enum exit_action handle_io(struct vcpu *v, uint64_t qual)
{
	struct vm *vm = v->vm;
	unsigned int size = (qual & 7) + 1;
	bool in = qual & BIT(3), string = qual & BIT(4);
	uint16_t port = (uint16_t)(qual >> 16);
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (string) {
		emulate_string_io(v); /* sets RIP, or injects a fault */
		return vm->state == VM_STOPPED ? EXIT_STOP : EXIT_RESUME;
	}
	if (size != 1 && size != 2 && size != 4) {
		vm_stop(vm, "bad I/O size %u on port %x", size, port);
		return EXIT_STOP;
	}
	uint32_t r = devices_port_io(vm, port, size, in,
				     (uint32_t)v->regs.rax & mask);

	/* A 32-bit IN zero-extends into RAX; narrower ones merge. */
	if (in && size == 4)
		v->regs.rax = r;
	else if (in)
		v->regs.rax = (v->regs.rax & ~(uint64_t)mask) | (r & mask);
	if (vm->state == VM_RUNNING)
		return EXIT_SKIP;
	return vm->state == VM_EXITED ? EXIT_RESUME : EXIT_STOP;
}

/* How often tidal's console UART is polled for guest input. */
#define RX_POLL_NS 1000000ull

/* Bytes typed on tidal's console go to the guest's COM1 receiver. */
static void com1_poll_input(struct vm *vm, uint64_t now)
{
	int c;

	if (now - vm->legacy.rx_poll_ns < RX_POLL_NS || gdbstub_owns_com1())
		return;
	vm->legacy.rx_poll_ns = now;
	while (u16550_rx_room(&vm->uart) && (c = serial_getc()) >= 0) {
		vm->com1_rx_bytes++;
		if (!u16550_receive(&vm->uart, (uint8_t)c))
			vm->com1_rx_dropped++;
	}
	com1_irq_update(vm);
}

/*
 * After every exit, so the common case (nothing due) reads one word and
 * takes no lock; tick_due_ns is only ever early (then the work below
 * finds nothing and sets it again), never late: every PIT or RTC access
 * clears it.
 */
void devices_tick(struct vm *vm)
{
	uint64_t now = platform_time_ns(), due;

	if (now < __atomic_load_n(&vm->legacy.tick_due_ns, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&vm->dev_lock);
	due = legacy_tick(vm, now);
	com1_poll_input(vm, now);
	line_idle(&vm->com1_out, now);
	line_idle(&vm->e9_out, now);
	due = MIN(due, vm->legacy.rx_poll_ns + RX_POLL_NS);
	__atomic_store_n(&vm->legacy.tick_due_ns, due, __ATOMIC_RELEASE);
	spin_unlock(&vm->dev_lock);
}

uint64_t devices_next_deadline(struct vm *vm)
{
	return legacy_next_deadline(vm, platform_time_ns());
}
