// SPDX-License-Identifier: MIT
/*
 * The legacy PC devices of a VM wired together (see vmm/legacy.h): the
 * port handlers, the I/O APIC's MMIO window and the host clock the RTC
 * starts from.  Interrupt routing is in vmm/legacy_irq.c.
 */
#include "vmm/legacy.h"

#include "arch/x86/cpu.h"
#include "lib/platform.h"
#include "lib/printf.h"
#include "vmm/emulate.h"
#include "vmm/pc.h"
#include "vmm/vm.h"

/* Byte registers reached with a wider access: one byte per port. */
typedef uint8_t (*byte_in_fn)(struct vm *vm, uint16_t port);
typedef void (*byte_out_fn)(struct vm *vm, uint16_t port, uint8_t val);

static uint32_t bytewise(struct vm *vm, uint16_t port, unsigned int size,
			 bool in, uint32_t val, byte_in_fn rd, byte_out_fn wr)
{
	uint32_t out = 0;

	for (unsigned int i = 0; i < size; i++) {
		if (in)
			out |= (uint32_t)rd(vm, (uint16_t)(port + i))
			       << (8 * i);
		else
			wr(vm, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
	}
	return out;
}

static uint8_t pic_in(struct vm *vm, uint16_t port)
{
	struct irq_outbox box;
	uint8_t v;

	legacy_irq_lock(vm, &box);
	v = i8259_read(&vm->legacy.pic, port);
	legacy_pic_output(vm, &box); /* a poll read acknowledges */
	legacy_irq_unlock(vm, &box);
	return v;
}

static void pic_out(struct vm *vm, uint16_t port, uint8_t val)
{
	struct irq_outbox box;

	legacy_irq_lock(vm, &box);
	i8259_write(&vm->legacy.pic, port, val);
	legacy_pic_output(vm, &box);
	legacy_irq_unlock(vm, &box);
}

uint32_t legacy_pic_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val)
{
	/* One access per port: 0x22/0xA2 and 0x4D2 are not ours. */
	return bytewise(vm, port, 1, in, val, pic_in, pic_out);
}

/* A PIT or RTC access may move the next IRQ: devices_tick() looks. */
static void tick_soon(struct vm *vm)
{
	__atomic_store_n(&vm->legacy.tick_due_ns, 0, __ATOMIC_RELEASE);
}

static uint8_t pit_in(struct vm *vm, uint16_t port)
{
	tick_soon(vm);
	return i8254_read(&vm->legacy.pit, port, platform_time_ns());
}

static void pit_out(struct vm *vm, uint16_t port, uint8_t val)
{
	tick_soon(vm);
	i8254_write(&vm->legacy.pit, port, val, platform_time_ns());
}

uint32_t legacy_pit_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val)
{
	return bytewise(vm, port, 1, in, val, pit_in, pit_out);
}

/* IRQ 8 follows the RTC's IRQF (dev_lock held). */
static void rtc_irq_update(struct vm *vm, uint64_t now)
{
	bool level = mc146818_tick(&vm->legacy.rtc, now);

	if (level == vm->legacy.rtc_irq)
		return;
	vm->legacy.rtc_irq = level;
	if (level)
		vm->legacy.rtc_irqs++;
	vm_irq_line(vm, 8, level);
}

static uint8_t rtc_in(struct vm *vm, uint16_t port)
{
	uint64_t now = platform_time_ns();
	uint8_t v = mc146818_read(&vm->legacy.rtc, port, now);

	rtc_irq_update(vm, now); /* reading C lowers IRQ 8 */
	return v;
}

static void rtc_out(struct vm *vm, uint16_t port, uint8_t val)
{
	uint64_t now = platform_time_ns();

	mc146818_write(&vm->legacy.rtc, port, val, now);
	rtc_irq_update(vm, now); /* enables changed */
	tick_soon(vm);
}

uint32_t legacy_rtc_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val)
{
	return bytewise(vm, port, 1, in, val, rtc_in, rtc_out);
}

/*
 * 0x61: system control port B (PIT channel 2 gate and output).
 * 0x80: POST codes, used as a delay: ignored.
 * 0x92: system control port A: A20 always on; fast reset is not done
 *       (noted once).
 * 0x60, 0x64: no i8042 (the FADT says so too): all ones, writes ignored.
 */
static uint8_t misc_in(struct vm *vm, uint16_t port)
{
	switch (port) {
	case 0x61:
		return i8254_port61_read(&vm->legacy.pit, platform_time_ns());
	case 0x92:
		return 0x02;
	default:
		return 0xff;
	}
}

static void misc_out(struct vm *vm, uint16_t port, uint8_t val)
{
	if (port == 0x61) {
		tick_soon(vm);
		i8254_port61_write(&vm->legacy.pit, val, platform_time_ns());
	} else if (port == 0x92 && (val & 1) && !vm->legacy.reset_noted) {
		vm->legacy.reset_noted = true;
		printk("tidal: vm: guest asked for a fast reset (port 0x92): "
		       "not done\n");
	}
}

uint32_t legacy_misc_io(struct vm *vm, uint16_t port, unsigned int size,
			bool in, uint32_t val)
{
	return bytewise(vm, port, 1, in, val, misc_in, misc_out);
}

/*
 * PCI configuration mechanism 1 with nothing on the bus: 0xCF8 keeps the
 * address a dword write puts there (a guest probes for mechanism 1 by
 * reading it back); data reads are all ones ("no device"), writes vanish.
 */
uint32_t legacy_pci_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val)
{
	if (port == 0xcf8 && size == 4) {
		if (in)
			return vm->legacy.pci_addr;
		vm->legacy.pci_addr = val & 0x80fffffcu;
		return 0;
	}
	return 0xffffffffu;
}

uint64_t legacy_tick(struct vm *vm, uint64_t now)
{
	if (vm->format != GUEST_FMT_TIDAL)
		rtc_irq_update(vm, now);
	if (i8254_irq0_edges(&vm->legacy.pit, now)) {
		vm->legacy.pit_irqs++;
		vm_irq_line(vm, 0, true); /* an edge: IRR latches it */
		vm_irq_line(vm, 0, false);
	}
	return MIN(i8254_next_deadline(&vm->legacy.pit, now),
		   mc146818_next_deadline(&vm->legacy.rtc, now));
}

uint64_t legacy_next_deadline(struct vm *vm, uint64_t now)
{
	uint64_t t;

	spin_lock(&vm->dev_lock);
	t = i8254_next_deadline(&vm->legacy.pit, now);
	t = MIN(t, mc146818_next_deadline(&vm->legacy.rtc, now));
	spin_unlock(&vm->dev_lock);
	return t;
}

/* The I/O APIC window: aligned dwords; narrower reads see part of one. */
static int ioapic_mmio_read(void *dev, uint64_t off, void *buf,
			    unsigned int len)
{
	struct vm *vm = dev;
	struct irq_outbox box;
	uint32_t v;

	legacy_irq_lock(vm, &box);
	v = vioapic_read(&vm->legacy.ioapic, off & ~3ull);
	legacy_irq_unlock(vm, &box);
	v >>= 8 * (off & 3);
	for (unsigned int i = 0; i < len; i++, v >>= 8)
		((uint8_t *)buf)[i] = i < 4 ? (uint8_t)v : 0;
	return EMU_OP_OK;
}

static int ioapic_mmio_write(void *dev, uint64_t off, const void *buf,
			     unsigned int len)
{
	struct vm *vm = dev;
	struct irq_outbox box;
	uint32_t v = 0;

	/* IOREGSEL takes a byte; the others only whole dwords. */
	if ((off & 3) || (len < 4 && off != IOAPIC_REGSEL))
		return EMU_OP_OK;
	for (unsigned int i = 0; i < len && i < 4; i++)
		v |= (uint32_t)((const uint8_t *)buf)[i] << (8 * i);
	legacy_irq_lock(vm, &box);
	vioapic_write(&vm->legacy.ioapic, off, v);
	legacy_irq_unlock(vm, &box);
	return EMU_OP_OK;
}

/* CMOS of the host (for the guest's RTC): Unix seconds, or 0. */
static uint8_t host_cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned int from_bcd(uint8_t v, bool bin)
{
	return bin ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint64_t days_from_civil(unsigned int y, unsigned int m, unsigned int d)
{
	/* Years start in March so that the leap day comes last. */
	uint64_t yy = m <= 2 ? y - 1 : y, era = yy / 400, yoe = yy % 400;
	uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static uint64_t host_epoch(void)
{
	unsigned int s, mi, h, d, mo, y;
	bool bin, h12;
	uint8_t b;

	for (int i = 0; i < 100000 && (host_cmos(RTC_REG_A) & RTC_A_UIP); i++)
		cpu_relax();
	b = host_cmos(RTC_REG_B);
	bin = b & RTC_B_BIN;
	h12 = !(b & RTC_B_24H);
	s = from_bcd(host_cmos(RTC_SEC), bin);
	mi = from_bcd(host_cmos(RTC_MIN), bin);
	h = host_cmos(RTC_HOUR);
	d = from_bcd(host_cmos(RTC_MDAY), bin);
	mo = from_bcd(host_cmos(RTC_MONTH), bin);
	y = 2000 + from_bcd(host_cmos(RTC_YEAR), bin);
	if (h12)
		h = from_bcd(h & 0x7f, bin) % 12 + (h & 0x80 ? 12 : 0);
	else
		h = from_bcd((uint8_t)h, bin);
	if (s > 59 || mi > 59 || h > 23 || !d || d > 31 || !mo || mo > 12)
		return 0;
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

int legacy_init(struct vm *vm)
{
	struct pc_legacy *l = &vm->legacy;
	uint64_t now = platform_time_ns();
	struct mmio_region r = {
		.base = PC_IOAPIC_BASE,
		.size = IOAPIC_SIZE,
		.name = "I/O APIC",
		.read = ioapic_mmio_read,
		.write = ioapic_mmio_write,
		.dev = vm,
	};

	legacy_irq_init(vm);
	i8254_init(&l->pit, now);
	mc146818_init(&l->rtc, host_epoch(), now, vm->mem_bytes);
	if (vm->format == GUEST_FMT_TIDAL)
		return 0;
	return mmio_register(&vm->mmio, &r);
}
