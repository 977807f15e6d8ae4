// SPDX-License-Identifier: MIT
/*
 * The 8254 model (vmm/vpit.c): counter arithmetic in modes 0, 2 and 3,
 * access modes, latch and read-back, channel 2 gated through port 0x61
 * with OUT2 in bit 5, and channel 0's IRQ 0 edges and deadlines.
 */
#include "tests/host/tap.h"
#include "vmm/vpit.h"

#define US 1000ull
#define MS 1000000ull

/* ns for @t PIT ticks, rounded up. */
static uint64_t tk(uint64_t t)
{
	return (t * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static uint16_t read16(struct i8254 *p, unsigned int ch, uint64_t now)
{
	uint8_t lo = i8254_read(p, 0x40 + ch, now);

	return (uint16_t)(lo | i8254_read(p, 0x40 + ch, now) << 8);
}

static void test_mode2(void)
{
	struct i8254 p;
	uint64_t t0 = 5 * MS;

	i8254_init(&p, 0);
	i8254_write(&p, 0x43, 0x34, t0); /* ch0, lo/hi, mode 2 */
	i8254_write(&p, 0x40, 0xe8, t0);
	i8254_write(&p, 0x40, 0x03, t0); /* 1000 */
	is_int(i8254_count(&p, 0, t0), 1000, "mode 2 starts at the reload");
	is_int(i8254_count(&p, 0, t0 + tk(250)), 750, "250 ticks later: 750");
	is_int(i8254_count(&p, 0, t0 + tk(1250)), 750, "it reloads: 750 again");
	ok(!i8254_out(&p, 0, t0 + tk(999)), "OUT low at count 1");
	ok(i8254_out(&p, 0, t0 + tk(1000)), "OUT high after reload");
	i8254_write(&p, 0x43, 0x00, t0 + tk(100)); /* latch ch0 */
	is_int(read16(&p, 0, t0 + tk(600)), 900, "latched count is 900");
	is_int(read16(&p, 0, t0 + tk(600)), 400, "then live: 400");
	ok(!i8254_irq0_edges(&p, t0 + tk(999)), "no IRQ 0 before a period");
	ok(i8254_irq0_edges(&p, t0 + tk(1000)), "IRQ 0 after one period");
	ok(!i8254_irq0_edges(&p, t0 + tk(1500)), "one edge per period");
	ok(i8254_irq0_edges(&p, t0 + tk(5000)), "missed periods coalesce");
	is_int(i8254_next_deadline(&p, t0 + tk(5000)), t0 + tk(6000),
	       "next deadline: the next period");
}

static void test_mode3_access(void)
{
	struct i8254 p;

	i8254_init(&p, 0);
	i8254_write(&p, 0x43, 0x36, 0); /* ch0 mode 3 */
	i8254_write(&p, 0x40, 100, 0);
	i8254_write(&p, 0x40, 0, 0);
	ok(i8254_out(&p, 0, tk(49)), "square wave high in the first half");
	ok(!i8254_out(&p, 0, tk(50)), "low in the second half");
	is_int(i8254_count(&p, 0, tk(10)), 80, "counts down by two");
	is_int(i8254_count(&p, 0, tk(60)), 80, "twice per period");
	/* LSB-only and MSB-only access. */
	i8254_write(&p, 0x43, 0x90, 0); /* ch2 LSB, mode 0 */
	i8254_write(&p, 0x42, 0x80, 0);
	i8254_port61_write(&p, 0x01, 0);
	is_int(i8254_read(&p, 0x42, tk(16)), 0x70, "LSB-only read");
	i8254_write(&p, 0x43, 0xa0, 0); /* ch2 MSB, mode 0 */
	i8254_write(&p, 0x42, 0x02, 0);
	is_int(i8254_count(&p, 2, 0), 0x200, "MSB-only write loads 0x200");
}

static void test_ch2_gate(void)
{
	struct i8254 p;
	uint64_t t0 = 3 * MS;

	/* The calibration sequence of PC kernels. */
	i8254_init(&p, 0);
	i8254_port61_write(&p, 0x00, t0);
	i8254_write(&p, 0x43, 0xb0, t0); /* ch2, lo/hi, mode 0 */
	i8254_write(&p, 0x42, 0x2e, t0);
	i8254_write(&p, 0x42, 0x9b, t0); /* 0x9b2e: ~33 ms */
	is_int(i8254_count(&p, 2, t0 + 10 * MS), 0x9b2e,
	       "gate low: channel 2 does not count");
	ok(!(i8254_port61_read(&p, t0) & 0x20), "OUT2 low in mode 0");
	i8254_port61_write(&p, 0x01, t0 + 10 * MS);
	is_int(i8254_port61_read(&p, t0) & 0x0f, 0x01, "port 0x61 gate bit");
	is_int(i8254_count(&p, 2, t0 + 10 * MS + tk(0x1000)), 0x8b2e,
	       "gate high: counts");
	ok(!(i8254_port61_read(&p, t0 + 10 * MS + tk(0x9b2d)) & 0x20),
	   "OUT2 low one tick before terminal count");
	ok(i8254_port61_read(&p, t0 + 10 * MS + tk(0x9b2e)) & 0x20,
	   "OUT2 high at terminal count");
	is_int(i8254_count(&p, 2, t0 + 10 * MS + tk(0x9b2f)), 0xffff,
	       "mode 0 wraps past 0");
	/* Read-back: status and count of channel 2 at once. */
	i8254_write(&p, 0x43, 0xc8, t0 + 10 * MS + tk(0x100));
	is_int(i8254_read(&p, 0x42, 0), 0x30, "status: OUT low, lo/hi, mode 0");
	is_int(read16(&p, 2, 0), 0x9a2e, "then the latched count");
	i8254_write(&p, 0x43, 0xe8, t0 + 10 * MS + tk(0x9c00));
	is_int(i8254_read(&p, 0x42, 0) & 0x80, 0x80,
	       "read-back status: OUT high after terminal count");
}

static void test_mode0_irq(void)
{
	struct i8254 p;

	i8254_init(&p, 0);
	i8254_write(&p, 0x43, 0x30, MS);
	i8254_write(&p, 0x40, 0x10, MS);
	is_int(i8254_next_deadline(&p, MS), UINT64_MAX,
	       "half-written count: stopped");
	i8254_write(&p, 0x40, 0x00, MS); /* 16 ticks */
	is_int(i8254_next_deadline(&p, MS), MS + tk(16), "one-shot deadline");
	ok(!i8254_irq0_edges(&p, MS + tk(15)), "not yet");
	ok(i8254_irq0_edges(&p, MS + tk(16)), "IRQ 0 at terminal count");
	ok(!i8254_irq0_edges(&p, MS + tk(70000)), "mode 0 fires once");
	is_int(i8254_next_deadline(&p, MS), UINT64_MAX, "then no deadline");
	(void)US;
}

/* BCD: 4 decimal digits written and read, 0 meaning 10000. */
static void test_bcd(void)
{
	struct i8254 p;
	uint64_t t0 = 3 * MS;

	i8254_init(&p, 0);
	i8254_write(&p, 0x43, 0x35, t0); /* ch0, lo/hi, mode 2, BCD */
	i8254_write(&p, 0x40, 0x00, t0);
	i8254_write(&p, 0x40, 0x10, t0); /* 1000 decimal */
	is_int(i8254_count(&p, 0, t0), 0x1000, "BCD: starts at 1000 (0x1000)");
	is_int(i8254_count(&p, 0, t0 + tk(1)), 0x0999, "BCD: then 0999");
	is_int(read16(&p, 0, t0 + tk(250)), 0x0750, "BCD: 250 ticks: 0750");
	is_int(i8254_count(&p, 0, t0 + tk(1250)), 0x0750,
	       "BCD: period 1000 ticks, not 0x1000");
	ok(i8254_next_deadline(&p, t0) <= t0 + tk(1000) + 1,
	   "BCD: IRQ 0 every 1000 ticks");
	i8254_write(&p, 0x43, 0x31, t0); /* mode 0, BCD */
	i8254_write(&p, 0x40, 0x00, t0);
	i8254_write(&p, 0x40, 0x00, t0); /* 0 = 10000 */
	is_int(i8254_count(&p, 0, t0 + tk(1)), 0x9999, "BCD: 0 is 10000");
	i8254_write(&p, 0x43, 0x31, t0);
	i8254_write(&p, 0x40, 0x05, t0);
	i8254_write(&p, 0x40, 0x00, t0); /* 5 */
	is_int(i8254_count(&p, 0, t0 + tk(7)), 0x9998,
	       "BCD mode 0: wraps past 0 to 9999");
	i8254_write(&p, 0x43, 0xe2, t0); /* read-back status, ch0 */
	ok(i8254_read(&p, 0x40, t0) & 1, "BCD bit in the status byte");
}

int main(void)
{
	test_mode2();
	test_mode3_access();
	test_ch2_gate();
	test_mode0_irq();
	test_bcd();
	return tap_done();
}
