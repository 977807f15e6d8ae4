// SPDX-License-Identifier: MIT
/*
 * The RTC/CMOS model (vmm/vrtc.c): a known instant in BCD and binary,
 * 12-hour form, update-in-progress, read-only time, CMOS memory sizes,
 * the calendar arithmetic across leap years, and the periodic and
 * update-ended interrupts (register C, IRQ 8).
 */
#include "tests/host/tap.h"
#include "vmm/vrtc.h"

#define S 1000000000ull

static uint8_t cmos(struct mc146818 *r, uint8_t idx, uint64_t now)
{
	mc146818_write(r, 0x70, idx, now);
	return mc146818_read(r, 0x71, now);
}

static void set_at(struct mc146818 *r, uint8_t idx, uint8_t v, uint64_t now)
{
	mc146818_write(r, 0x70, idx, now);
	mc146818_write(r, 0x71, v, now);
}

static void set(struct mc146818 *r, uint8_t idx, uint8_t v)
{
	set_at(r, idx, v, 0);
}

static void test_civil(void)
{
	unsigned int y, m, d;

	rtc_civil(0, &y, &m, &d);
	ok(y == 1970 && m == 1 && d == 1, "day 0 is 1970-01-01");
	rtc_civil(11016, &y, &m, &d);
	ok(y == 2000 && m == 2 && d == 29, "day 11016 is 2000-02-29");
	rtc_civil(20792, &y, &m, &d);
	ok(y == 2026 && m == 12 && d == 5, "day 20792 is 2026-12-05");
	rtc_civil(47541, &y, &m, &d);
	ok(y == 2100 && m == 3 && d == 1, "2100 is no leap year");
}

static void test_time(void)
{
	struct mc146818 r;
	/* 2026-12-05 19:07:45 UTC, a Saturday. */
	uint64_t epoch = 20792ull * 86400 + 19 * 3600 + 7 * 60 + 45;
	uint64_t base = 7 * S;

	mc146818_init(&r, epoch, base, 64ull << 20);
	is_int(cmos(&r, RTC_SEC, base), 0x45, "seconds in BCD");
	is_int(cmos(&r, RTC_MIN, base), 0x07, "minutes in BCD");
	is_int(cmos(&r, RTC_HOUR, base), 0x19, "hours in BCD, 24h");
	is_int(cmos(&r, RTC_MDAY, base), 0x05, "day of month");
	is_int(cmos(&r, RTC_MONTH, base), 0x12, "month in BCD");
	is_int(cmos(&r, RTC_YEAR, base), 0x26, "year in BCD");
	is_int(cmos(&r, RTC_CENTURY, base), 0x20, "century");
	is_int(cmos(&r, RTC_WDAY, base), 7, "weekday: Saturday is 7");
	is_int(cmos(&r, RTC_SEC, base + 20 * S), 0x05, "time runs");
	is_int(cmos(&r, RTC_MIN, base + 20 * S), 0x08, "minute carries");
	set(&r, RTC_REG_B, RTC_B_24H | RTC_B_BIN);
	is_int(cmos(&r, RTC_SEC, base), 45, "binary seconds");
	is_int(cmos(&r, RTC_MONTH, base), 12, "binary month");
	set(&r, RTC_REG_B, 0);
	is_int(cmos(&r, RTC_HOUR, base), 0x87, "12h BCD: 7 PM");
	set(&r, RTC_REG_B, RTC_B_24H);
	set(&r, RTC_SEC, 0x11);
	is_int(cmos(&r, RTC_SEC, base), 0x45, "time is read-only");
	ok(!(cmos(&r, RTC_REG_A, base + S / 2) & RTC_A_UIP),
	   "no update in progress mid-second");
	ok(cmos(&r, RTC_REG_A, base + S - 100000) & RTC_A_UIP,
	   "UIP set just before the second ticks");
	is_int(cmos(&r, RTC_REG_A, base) & 0x7f, 0x26, "register A divider");
	is_int(cmos(&r, RTC_REG_D, base), 0x80, "register D: valid");
	is_int(cmos(&r, RTC_REG_C, base), 0, "register C: no flags");
}

static void test_cmos(void)
{
	struct mc146818 r;

	mc146818_init(&r, 0, 0, 64ull << 20);
	is_int(cmos(&r, 0x15, 0) | cmos(&r, 0x16, 0) << 8, 640,
	       "base memory 640 KiB");
	is_int(cmos(&r, 0x17, 0) | cmos(&r, 0x18, 0) << 8, 63 * 1024,
	       "extended memory 63 MiB");
	is_int(cmos(&r, 0x34, 0) | cmos(&r, 0x35, 0) << 8, 48 * 16,
	       "memory above 16 MiB in 64 KiB blocks");
	set(&r, 0x40, 0x5a);
	is_int(cmos(&r, 0x40, 0), 0x5a, "CMOS scratch byte kept");
	set(&r, 0x80 | 0x40, 0x33);
	is_int(cmos(&r, 0x40, 0), 0x33, "NMI-disable bit ignored for index");
	is_int(mc146818_read(&r, 0x70, 0), 0xff, "index port reads 0xff");
}

static void test_irqs(void)
{
	struct mc146818 r;
	uint64_t t0 = 5 * S + S / 2, ms = S / 1000;

	mc146818_init(&r, 0, t0, 64ull << 20);
	ok(!mc146818_tick(&r, t0 + 100 * ms), "no IRQ 8 with nothing enabled");
	is_int(cmos(&r, 0x0c, t0 + 100 * ms), 0x40,
	       "register C: periodic flag set (1024 Hz), no IRQF");
	is_int(cmos(&r, 0x0c, t0 + 100 * ms), 0, "reading C cleared it");
	set_at(&r, 0x0a, 0x2a, t0 + 100 * ms); /* rate 10: 64 Hz */
	set_at(&r, 0x0b, 0x42, t0 + 100 * ms); /* PIE, 24-hour */
	ok(!mc146818_tick(&r, t0 + 100 * ms), "PIE: no flag yet at the start");
	uint64_t next = mc146818_next_deadline(&r, t0 + 100 * ms);

	ok(next > t0 + 100 * ms && next <= t0 + 100 * ms + S / 64,
	   "next periodic interrupt within 1/64 s");
	ok(!mc146818_tick(&r, next - 1), "not before it");
	ok(mc146818_tick(&r, next), "IRQ 8 at the period");
	is_int(cmos(&r, 0x0c, next), 0xc0, "C: IRQF and PF");
	ok(!mc146818_tick(&r, next), "reading C lowered IRQ 8");
	set_at(&r, 0x0b, 0x12, next); /* UIE only */
	(void)cmos(&r, 0x0c, next);
	next = mc146818_next_deadline(&r, next);
	is_int((long long)((next - t0) % S), 0,
	       "update-ended: at the next second of the clock");
	ok(mc146818_tick(&r, next), "IRQ 8 at the update");
	is_int(cmos(&r, 0x0c, next) & 0x90, 0x90,
	       "C: IRQF and UF (PF too: it is set whether enabled or not)");
	set_at(&r, 0x0b, 0x02, next);
	is_int((long long)(mc146818_next_deadline(&r, next) == UINT64_MAX), 1,
	       "nothing enabled: no deadline");
}

int main(void)
{
	test_civil();
	test_time();
	test_cmos();
	test_irqs();
	return tap_done();
}
