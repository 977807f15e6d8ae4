// SPDX-License-Identifier: MIT
/* The 8254 PIT and port 0x61 (see vmm/vpit.h). */
#include "vmm/vpit.h"

#define NS_PER_S 1000000000ull

#define P61_GATE2   0x01
#define P61_RW_MASK 0x0f /* gate, speaker, parity/channel-check enables */
#define P61_REFRESH 0x10 /* toggles every 15 us */
#define P61_OUT2    0x20

#define ACCESS_LATCH 0
#define ACCESS_LSB   1
#define ACCESS_MSB   2
#define ACCESS_WORD  3

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The first ns at which @ticks PIT ticks have passed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / PIT_HZ * NS_PER_S +
	       (ticks % PIT_HZ * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

/* Ticks counted since the count was loaded (0 before it is). */
static uint64_t ticks(const struct i8254_chan *c, uint64_t now)
{
	if (!c->counting)
		return 0;
	if (!c->gate &&
	    (c->mode == 0 || c->mode == 4 || c->mode == 2 || c->mode == 3))
		return c->frozen;
	return c->frozen +
	       ns_to_ticks(now > c->start_ns ? now - c->start_ns : 0);
}

/* The count's range: 4 BCD digits (0 = 10000) or 16 bits (0 = 65536). */
static uint32_t modulus(const struct i8254_chan *c)
{
	return c->bcd ? 10000 : 65536;
}

static uint32_t from_bcd(uint32_t v)
{
	return (v >> 12 & 15) * 1000 + (v >> 8 & 15) * 100 +
	       (v >> 4 & 15) * 10 + (v & 15);
}

/* A count as the guest reads it: binary, or BCD in a BCD channel. */
static uint16_t count_form(const struct i8254_chan *c, uint32_t v)
{
	if (!c->bcd)
		return (uint16_t)v;
	v %= 10000;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 |
			  (v / 10 % 10) << 4 | v % 10);
}

/* Modes 0, 1, 4, 5 count down once then wrap; 2 and 3 reload. */
static bool periodic(const struct i8254_chan *c)
{
	return c->mode == 2 || c->mode == 3;
}

uint16_t i8254_count(const struct i8254 *p, unsigned int ch, uint64_t now)
{
	const struct i8254_chan *c = &p->ch[ch];
	uint64_t t = ticks(c, now);

	if (!c->counting)
		return count_form(c, c->reload);
	if (c->mode == 3) {
		/* Counts down by two, twice per period. */
		uint64_t half = (c->reload + 1) / 2, ph = t % c->reload;

		if (ph >= half)
			ph -= half;
		return count_form(c, (uint32_t)(c->reload - 2 * ph) & ~1u);
	}
	if (periodic(c))
		return count_form(c, (uint32_t)(c->reload - t % c->reload));
	/* Past 0 it wraps to 0xffff (9999 in BCD) and goes on. */
	return count_form(c,
			  (uint32_t)((c->reload + modulus(c) - t % modulus(c)) %
				     modulus(c)));
}

bool i8254_out(const struct i8254 *p, unsigned int ch, uint64_t now)
{
	const struct i8254_chan *c = &p->ch[ch];
	uint64_t t = ticks(c, now);

	if (!c->counting)
		return c->mode != 0; /* mode 0 starts low, the others high */
	switch (c->mode) {
	case 0:
	case 1:
		return t >= c->reload;
	case 2:
		return t % c->reload != c->reload - 1;
	case 3:
		return t % c->reload < (c->reload + 1) / 2;
	default: /* 4, 5: a one-tick low pulse at terminal count */
		return t != c->reload;
	}
}

void i8254_init(struct i8254 *p, uint64_t now)
{
	*p = (struct i8254){0};
	for (unsigned int i = 0; i < 3; i++) {
		p->ch[i].reload = 65536;
		p->ch[i].access = ACCESS_WORD;
		p->ch[i].gate = i != 2; /* channel 2: port 0x61 bit 0 */
		p->ch[i].start_ns = now;
	}
}

static void load(struct i8254_chan *c, uint32_t val, uint64_t now)
{
	if (c->bcd)
		val = from_bcd(val);
	c->reload = val ? val : modulus(c);
	if (c->mode == 3 && c->reload == 1)
		c->reload = 2; /* not a valid square wave */
	c->counting = c->gate || (c->mode != 1 && c->mode != 5);
	c->start_ns = now;
	c->frozen = 0;
	c->irq_seen = 0;
	c->null_count = false;
}

static void write_count(struct i8254_chan *c, uint8_t val, uint64_t now)
{
	switch (c->access) {
	case ACCESS_LSB:
		load(c, val, now);
		break;
	case ACCESS_MSB:
		load(c, (uint32_t)val << 8, now);
		break;
	default:
		if (!c->write_hi) {
			c->write_lo = val;
			c->write_hi = true;
			c->null_count = true;
			if (c->mode == 0) /* the first byte stops mode 0 */
				c->counting = false;
			break;
		}
		c->write_hi = false;
		load(c, c->write_lo | (uint32_t)val << 8, now);
		break;
	}
}

static uint8_t status_byte(const struct i8254 *p, unsigned int ch, uint64_t now)
{
	const struct i8254_chan *c = &p->ch[ch];

	return (uint8_t)(i8254_out(p, ch, now) << 7 | c->null_count << 6 |
			 c->access << 4 | c->mode << 1 | c->bcd);
}

static void latch_count(struct i8254 *p, unsigned int ch, uint64_t now)
{
	struct i8254_chan *c = &p->ch[ch];

	if (c->latch_bytes)
		return; /* a latch not yet read stays */
	c->latch = i8254_count(p, ch, now);
	c->latch_bytes = c->access == ACCESS_WORD ? 2 : 1;
	c->read_hi = c->access == ACCESS_MSB;
}

static void read_back(struct i8254 *p, uint8_t val, uint64_t now)
{
	for (unsigned int ch = 0; ch < 3; ch++) {
		struct i8254_chan *c = &p->ch[ch];

		if (!(val & (2u << ch)))
			continue;
		if (!(val & 0x20))
			latch_count(p, ch, now);
		if (!(val & 0x10) && !c->status_latched) {
			c->status = status_byte(p, ch, now);
			c->status_latched = true;
		}
	}
}

static void control(struct i8254 *p, uint8_t val, uint64_t now)
{
	unsigned int ch = val >> 6, access = (val >> 4) & 3;
	struct i8254_chan *c;

	if (ch == 3) {
		read_back(p, val, now);
		return;
	}
	if (access == ACCESS_LATCH) {
		latch_count(p, ch, now);
		return;
	}
	c = &p->ch[ch];
	c->access = (uint8_t)access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 are 2 and 3 */
	c->bcd = val & 1;
	c->read_hi = c->write_hi = false;
	c->latch_bytes = 0;
	c->status_latched = false;
	c->counting = false; /* until a count is written */
	c->null_count = true;
}

static uint8_t read_count(struct i8254 *p, unsigned int ch, uint64_t now)
{
	struct i8254_chan *c = &p->ch[ch];
	uint16_t v;
	bool hi;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_bytes) {
		c->latch_bytes--;
		hi = c->read_hi;
		c->read_hi = !c->read_hi;
		return (uint8_t)(hi ? c->latch >> 8 : c->latch);
	}
	v = i8254_count(p, ch, now);
	switch (c->access) {
	case ACCESS_LSB:
		return (uint8_t)v;
	case ACCESS_MSB:
		return (uint8_t)(v >> 8);
	default:
		hi = c->read_hi;
		c->read_hi = !c->read_hi;
		return (uint8_t)(hi ? v >> 8 : v);
	}
}

uint8_t i8254_read(struct i8254 *p, uint16_t port, uint64_t now)
{
	unsigned int ch = port & 3;

	return ch == 3 ? 0xff : read_count(p, ch, now);
}

void i8254_write(struct i8254 *p, uint16_t port, uint8_t val, uint64_t now)
{
	unsigned int ch = port & 3;

	if (ch == 3)
		control(p, val, now);
	else
		write_count(&p->ch[ch], val, now);
}

static void set_gate(struct i8254 *p, unsigned int ch, bool gate, uint64_t now)
{
	struct i8254_chan *c = &p->ch[ch];

	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = ticks(c, now); /* modes 0, 2, 3, 4 pause */
		c->gate = false;
		return;
	}
	c->gate = true;
	c->start_ns = now;
	if (c->mode == 1 || c->mode == 5 || periodic(c)) {
		/* A rising gate (re)starts these from the reload value. */
		c->frozen = 0;
		c->irq_seen = 0;
		c->counting = c->counting || !c->null_count;
	}
}

uint8_t i8254_port61_read(struct i8254 *p, uint64_t now)
{
	uint8_t v = p->port61 & P61_RW_MASK;

	if ((now / 15000) & 1)
		v |= P61_REFRESH;
	if (i8254_out(p, 2, now))
		v |= P61_OUT2;
	return v;
}

void i8254_port61_write(struct i8254 *p, uint8_t val, uint64_t now)
{
	p->port61 = val & P61_RW_MASK;
	set_gate(p, 2, val & P61_GATE2, now);
}

/* Rises of channel 0's output so far (mode 0/4: at most one). */
static uint64_t rises(const struct i8254 *p, uint64_t now)
{
	const struct i8254_chan *c = &p->ch[0];
	uint64_t t = ticks(c, now);

	if (!c->counting)
		return 0;
	if (periodic(c))
		return t / c->reload;
	return t >= c->reload + (c->mode == 4 || c->mode == 5);
}

bool i8254_irq0_edges(struct i8254 *p, uint64_t now)
{
	uint64_t r = rises(p, now);

	if (r <= p->ch[0].irq_seen)
		return false;
	p->ch[0].irq_seen = r;
	return true;
}

uint64_t i8254_next_deadline(const struct i8254 *p, uint64_t now)
{
	const struct i8254_chan *c = &p->ch[0];
	uint64_t want;

	if (!c->counting || !c->gate)
		return UINT64_MAX;
	if (periodic(c))
		want = (c->irq_seen + 1) * c->reload;
	else if (c->irq_seen)
		return UINT64_MAX;
	else
		want = c->reload + (c->mode == 4 || c->mode == 5);
	if (want <= c->frozen)
		return now;
	return c->start_ns + ticks_to_ns(want - c->frozen);
}
