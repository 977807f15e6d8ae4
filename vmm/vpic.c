// SPDX-License-Identifier: MIT
/* The 8259A pair (see vmm/vpic.h). */
#include "vmm/vpic.h"

/* ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge. */
#define ELCR_MASTER_MASK 0xf8
#define ELCR_SLAVE_MASK	 0xde

static uint8_t bit(unsigned int irq)
{
	return (uint8_t)(1u << (irq & 7));
}

/* Priority rank of @irq: 0 is the highest. */
static unsigned int rank(const struct i8259_chip *c, unsigned int irq)
{
	return (irq - c->lowest - 1) & 7;
}

/* The highest-priority IRQ set in @bits, or -1. */
static int highest(const struct i8259_chip *c, uint8_t bits)
{
	for (unsigned int r = 0; r < 8; r++) {
		unsigned int irq = (c->lowest + 1 + r) & 7;

		if (bits & bit(irq))
			return (int)irq;
	}
	return -1;
}

static bool is_level(const struct i8259_chip *c, unsigned int irq)
{
	return c->ltim || (c->elcr & bit(irq));
}

/* The IRQ this chip would present now, or -1. */
static int chip_pending(const struct i8259_chip *c)
{
	int req = highest(c, c->irr & ~c->imr);
	uint8_t blocking = c->isr;
	int svc;

	if (req < 0)
		return -1;
	/* In special mask mode a masked in-service IRQ blocks nothing. */
	if (c->special_mask)
		blocking &= ~c->imr;
	svc = highest(c, blocking);
	if (svc >= 0 &&
	    rank(c, (unsigned int)svc) <= rank(c, (unsigned int)req))
		return -1;
	return req;
}

static void chip_line(struct i8259_chip *c, unsigned int irq, bool high)
{
	uint8_t b = bit(irq);

	if (is_level(c, irq)) {
		/* Level: the request follows the line. */
		c->irr = high ? c->irr | b : c->irr & ~b;
	} else if (high && !(c->lines & b)) {
		c->irr |= b; /* edge: latched until acknowledged */
	}
	c->lines = high ? c->lines | b : c->lines & ~b;
}

/* The slave's INT drives the master's IRQ 2 line. */
static void cascade(struct i8259 *p)
{
	chip_line(&p->c[0], 2, chip_pending(&p->c[1]) >= 0);
}

static void chip_reset(struct i8259_chip *c, uint8_t elcr)
{
	*c = (struct i8259_chip){.lowest = 7, .elcr = elcr};
}

void i8259_init(struct i8259 *p)
{
	chip_reset(&p->c[0], 0);
	chip_reset(&p->c[1], 0);
}

void i8259_set_irq(struct i8259 *p, unsigned int irq, bool high)
{
	if (irq >= 16)
		return;
	chip_line(&p->c[irq >> 3], irq & 7, high);
	cascade(p);
}

bool i8259_output(const struct i8259 *p)
{
	return chip_pending(&p->c[0]) >= 0;
}

/* Acknowledge @irq on @c: in service unless auto-EOI, request dropped. */
static void chip_ack(struct i8259_chip *c, unsigned int irq)
{
	uint8_t b = bit(irq);

	if (!is_level(c, irq))
		c->irr &= ~b;
	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)irq;
	} else {
		c->isr |= b;
	}
}

/* One chip's part of INTA: its IRQ, or 7 (spurious) if none. */
static unsigned int chip_intack(struct i8259_chip *c)
{
	int irq = chip_pending(c);

	if (irq < 0)
		return 7;
	chip_ack(c, (unsigned int)irq);
	return (unsigned int)irq;
}

uint8_t i8259_intack(struct i8259 *p)
{
	struct i8259_chip *m = &p->c[0];
	int irq = chip_pending(m);
	uint8_t vec;

	if (irq < 0) {
		vec = (uint8_t)(m->base + 7); /* spurious IRQ 7 */
	} else if (irq == 2 && !m->single) {
		chip_ack(m, 2);
		vec = (uint8_t)(p->c[1].base + chip_intack(&p->c[1]));
	} else {
		chip_ack(m, (unsigned int)irq);
		vec = (uint8_t)(m->base + irq);
	}
	cascade(p);
	return vec;
}

static void icw1(struct i8259_chip *c, uint8_t val)
{
	uint8_t elcr = c->elcr, lines = c->lines;

	chip_reset(c, elcr);
	c->lines = lines;
	c->need_icw4 = val & 0x01;
	c->single = val & 0x02;
	c->ltim = val & 0x08;
	c->init = 2;
	/* Level inputs that are high request again at once. */
	for (unsigned int irq = 0; irq < 8; irq++)
		if (is_level(c, irq) && (lines & bit(irq)))
			c->irr |= bit(irq);
}

static void ocw2(struct i8259_chip *c, uint8_t val)
{
	unsigned int cmd = val >> 5, level = val & 7;
	int irq = -1;

	switch (cmd) {
	case 1: /* non-specific EOI */
	case 5: /* ... and rotate */
		irq = highest(c, c->isr);
		break;
	case 3: /* specific EOI */
	case 7: /* ... and rotate */
		irq = (int)level;
		break;
	case 4: /* rotate in auto-EOI mode: set */
	case 0: /* ... clear */
		c->rotate_aeoi = cmd == 4;
		return;
	case 6: /* set priority: @level becomes the lowest */
		c->lowest = (uint8_t)level;
		return;
	default: /* 2: no operation */
		return;
	}
	if (irq < 0)
		return;
	c->isr &= ~bit((unsigned int)irq);
	if (cmd == 5 || cmd == 7)
		c->lowest = (uint8_t)irq;
}

static void ocw3(struct i8259_chip *c, uint8_t val)
{
	if (val & 0x02)
		c->read_isr = val & 0x01;
	if (val & 0x40)
		c->special_mask = val & 0x20;
	c->poll = val & 0x04;
}

static void chip_write(struct i8259_chip *c, bool data, uint8_t val)
{
	if (!data) {
		if (val & 0x10)
			icw1(c, val);
		else if (val & 0x08)
			ocw3(c, val);
		else
			ocw2(c, val);
		return;
	}
	switch (c->init) {
	case 2:
		c->base = val & 0xf8;
		c->init = !c->single ? 3 : c->need_icw4 ? 4 : 0;
		break;
	case 3:
		c->icw3 = val;
		c->init = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & 0x02;
		c->init = 0;
		break;
	default:
		c->imr = val; /* OCW1 */
		break;
	}
}

/* A poll command read: acknowledges like INTA, answers 0x80 | IRQ. */
static uint8_t chip_poll(struct i8259 *p, struct i8259_chip *c)
{
	int irq = chip_pending(c);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned int)irq);
	cascade(p);
	return (uint8_t)(0x80 | irq);
}

uint8_t i8259_read(struct i8259 *p, uint16_t port)
{
	struct i8259_chip *c = &p->c[(port & 0x80) ? 1 : 0];

	if (port == 0x4d0 || port == 0x4d1)
		return p->c[port & 1].elcr;
	if (c->poll)
		return chip_poll(p, c);
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void i8259_write(struct i8259 *p, uint16_t port, uint8_t val)
{
	if (port == 0x4d0 || port == 0x4d1) {
		struct i8259_chip *c = &p->c[port & 1];

		c->elcr = val & (port & 1 ? ELCR_SLAVE_MASK : ELCR_MASTER_MASK);
		/* A line switched to level requests iff it is high. */
		c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
	} else {
		chip_write(&p->c[(port & 0x80) ? 1 : 0], port & 1, val);
	}
	cascade(p);
}
