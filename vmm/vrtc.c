// SPDX-License-Identifier: MIT
/* The RTC and CMOS RAM (see vmm/vrtc.h). */
#include "vmm/vrtc.h"

#define NS_PER_S   1000000000ull
#define UIP_WINDOW 244000ull /* ns before each second's update */

static void put16(struct mc146818 *r, unsigned int at, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->ram[at] = (uint8_t)v;
	r->ram[at + 1] = (uint8_t)(v >> 8);
}

void mc146818_init(struct mc146818 *r, uint64_t epoch, uint64_t base_ns,
		   uint64_t mem_bytes)
{
	uint64_t kib = mem_bytes >> 10;

	*r = (struct mc146818){.epoch = epoch, .base_ns = base_ns};
	/* Flags count from now: none for the time before the VM. */
	r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz base, 1024 Hz rate */
	r->ram[RTC_REG_B] = RTC_B_24H;
	r->ram[RTC_REG_D] = 0x80; /* valid RAM and time */
	r->ram[0x10] = 0;	  /* no floppy drives */
	r->ram[0x14] = 0x06;	  /* equipment: FPU, VGA/EGA display */
	put16(r, 0x15, 640);	  /* base memory, KiB */
	/* Extended memory above 1 MiB in KiB (to 64 MiB)... */
	put16(r, 0x17, kib > 1024 ? kib - 1024 : 0);
	put16(r, 0x30, kib > 1024 ? kib - 1024 : 0);
	/* ... above 16 MiB in 64 KiB blocks, below 4 GiB. */
	if (mem_bytes > (16ull << 20)) {
		uint64_t below4g =
			mem_bytes < (3ull << 30) ? mem_bytes : 3ull << 30;
		put16(r, 0x34, (below4g - (16ull << 20)) >> 16);
	}
	if (mem_bytes > (3ull << 30)) { /* the rest, above 4 GiB */
		uint64_t hi = (mem_bytes - (3ull << 30)) >> 16;

		r->ram[0x5b] = (uint8_t)hi;
		r->ram[0x5c] = (uint8_t)(hi >> 8);
		r->ram[0x5d] = (uint8_t)(hi >> 16);
	}
}

/*
 * Days since 1970-01-01 to a date: count in 400-year eras starting on
 * March 1st of year 0, so that leap days fall at the end of each year.
 */
void rtc_civil(uint64_t days, unsigned int *year, unsigned int *month,
	       unsigned int *mday)
{
	uint64_t z = days + 719468; /* days from 0000-03-01 */
	uint64_t era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153; /* 0 = March */
	uint64_t y = yoe + era * 400;

	*mday = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (unsigned int)(y + (*month <= 2));
}

static uint8_t fmt(const struct mc146818 *r, unsigned int v)
{
	if (r->ram[RTC_REG_B] & RTC_B_BIN)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t hour_reg(const struct mc146818 *r, unsigned int h)
{
	unsigned int h12;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return fmt(r, h);
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(fmt(r, h12) | (h >= 12 ? 0x80 : 0));
}

static uint8_t time_reg(const struct mc146818 *r, unsigned int idx,
			uint64_t now)
{
	uint64_t secs = r->epoch + (now - r->base_ns) / NS_PER_S;
	uint64_t days = secs / 86400, sod = secs % 86400;
	unsigned int year, month, mday;

	switch (idx) {
	case RTC_SEC:
		return fmt(r, (unsigned int)(sod % 60));
	case RTC_MIN:
		return fmt(r, (unsigned int)(sod / 60 % 60));
	case RTC_HOUR:
		return hour_reg(r, (unsigned int)(sod / 3600));
	case RTC_WDAY: /* 1 = Sunday; 1970-01-01 was a Thursday */
		return fmt(r, (unsigned int)((days + 4) % 7 + 1));
	}
	rtc_civil(days, &year, &month, &mday);
	switch (idx) {
	case RTC_MDAY:
		return fmt(r, mday);
	case RTC_MONTH:
		return fmt(r, month);
	case RTC_YEAR:
		return fmt(r, year % 100);
	default: /* RTC_CENTURY */
		return fmt(r, year / 100);
	}
}

/* Register A's rate select: the periodic interrupt's period, or 0. */
static uint64_t period_ns(const struct mc146818 *r)
{
	unsigned int rs = r->ram[RTC_REG_A] & 0x0f;

	if (!rs)
		return 0;
	if (rs < 3)
		rs += 7; /* 1 and 2 are 256 and 128 Hz, as 8 and 9 */
	/* 32768 Hz >> (rs - 1): 2^(rs - 1) / 32768 s. */
	return (NS_PER_S << (rs - 1)) / 32768;
}

static uint64_t since(const struct mc146818 *r, uint64_t now)
{
	return now > r->base_ns ? now - r->base_ns : 0;
}

/* Restart the periodic count (a new rate): no flag for the past. */
static void period_restart(struct mc146818 *r, uint64_t now)
{
	uint64_t p = period_ns(r);

	r->pf_seen = p ? since(r, now) / p : 0;
}

static uint8_t irqf(const struct mc146818 *r)
{
	uint8_t en = r->ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);

	return (r->flags & en) ? RTC_C_IRQF : 0;
}

bool mc146818_tick(struct mc146818 *r, uint64_t now)
{
	uint64_t p = period_ns(r), t = since(r, now);

	if (p && t / p != r->pf_seen) {
		r->pf_seen = t / p;
		r->flags |= RTC_C_PF;
	}
	if (t / NS_PER_S != r->uf_seen) {
		r->uf_seen = t / NS_PER_S;
		r->flags |= RTC_C_UF;
	}
	return irqf(r);
}

uint64_t mc146818_next_deadline(const struct mc146818 *r, uint64_t now)
{
	uint8_t b = r->ram[RTC_REG_B];
	uint64_t p = period_ns(r), t = since(r, now), next = UINT64_MAX;

	if ((b & RTC_B_PIE) && p && !(r->flags & RTC_C_PF))
		next = r->base_ns + (t / p + 1) * p;
	if ((b & RTC_B_UIE) && !(r->flags & RTC_C_UF)) {
		uint64_t u = r->base_ns + (t / NS_PER_S + 1) * NS_PER_S;

		next = u < next ? u : next;
	}
	return next;
}

/* Registers that show the time. */
static bool is_clock(unsigned int idx)
{
	return idx <= RTC_YEAR ? idx % 2 == 0 || idx >= RTC_WDAY
			       : idx == RTC_CENTURY;
}

uint8_t mc146818_read(struct mc146818 *r, uint16_t port, uint64_t now)
{
	unsigned int idx = r->index & 0x7f;

	if (!(port & 1))
		return 0xff; /* the index port is write-only */
	if (now < r->base_ns)
		now = r->base_ns;
	if (is_clock(idx))
		return time_reg(r, idx, now);
	switch (idx) {
	case RTC_REG_A: {
		uint64_t frac = (now - r->base_ns) % NS_PER_S;

		return (uint8_t)(r->ram[idx] |
				 (frac >= NS_PER_S - UIP_WINDOW ? RTC_A_UIP
								: 0));
	}
	case RTC_REG_C: {
		uint8_t c;

		mc146818_tick(r, now);
		c = (uint8_t)(r->flags | irqf(r));
		r->flags = 0; /* reading C clears it */
		return c;
	}
	default:
		return r->ram[idx];
	}
}

void mc146818_write(struct mc146818 *r, uint16_t port, uint8_t val,
		    uint64_t now)
{
	unsigned int idx = r->index & 0x7f;

	if (!(port & 1)) {
		r->index = val;
		return;
	}
	if (is_clock(idx))
		return; /* the clock is read-only */
	switch (idx) {
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* so are the flags */
	case RTC_REG_A:
		r->ram[idx] = val & 0x7f;
		period_restart(r, now);
		break;
	default:
		r->ram[idx] = val;
		break;
	}
}
