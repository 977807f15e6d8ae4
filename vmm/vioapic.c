// SPDX-License-Identifier: MIT
/* The I/O APIC model (see vmm/vioapic.h). */
#include "vmm/vioapic.h"

/* Bits a guest may write: all but delivery status and remote IRR. */
#define RTE_WRITABLE (~(IOAPIC_RTE_PENDING | IOAPIC_RTE_REMOTE_IRR))

void vioapic_init(struct vioapic *io, uint32_t id,
		  void (*deliver)(void *ctx, const struct irq_msg *m),
		  void *ctx)
{
	*io = (struct vioapic){.id = id & 0xf, .deliver = deliver, .ctx = ctx};
	for (unsigned int i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

/* Is @pin's input active, given its polarity? */
static bool asserted(const struct vioapic *io, unsigned int pin)
{
	bool high = io->lines & (1u << pin);

	return (io->rte[pin] & IOAPIC_RTE_LOW) ? !high : high;
}

static void send(struct vioapic *io, unsigned int pin)
{
	uint64_t e = io->rte[pin];
	struct irq_msg m = {
		.dest = (uint32_t)(e >> 56),
		.logical = e & IOAPIC_RTE_DESTMODE,
		.vector = (uint8_t)(e & IOAPIC_RTE_VECTOR),
		.mode = (uint8_t)((e >> 8) & 7),
		.level = e & IOAPIC_RTE_LEVEL,
	};

	if (m.level)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	io->sent++;
	io->deliver(io->ctx, &m);
}

/* Send a level-triggered pin that is active and not waiting for EOI. */
static void check_level(struct vioapic *io, unsigned int pin)
{
	uint64_t e = io->rte[pin];

	if ((e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED) &&
	    !(e & IOAPIC_RTE_REMOTE_IRR) && asserted(io, pin))
		send(io, pin);
}

void vioapic_set_pin(struct vioapic *io, unsigned int pin, bool high)
{
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	was = asserted(io, pin);
	io->lines = high ? io->lines | (1u << pin) : io->lines & ~(1u << pin);
	if (io->rte[pin] & IOAPIC_RTE_LEVEL)
		check_level(io, pin);
	else if (!was && asserted(io, pin) &&
		 !(io->rte[pin] & IOAPIC_RTE_MASKED))
		send(io, pin); /* a rising edge */
}

void vioapic_eoi_vector(struct vioapic *io, uint8_t vector)
{
	for (unsigned int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];

		if ((e & IOAPIC_RTE_VECTOR) != vector ||
		    !(e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		io->level_eois++;
		check_level(io, pin);
	}
}

static uint32_t reg_read(const struct vioapic *io)
{
	unsigned int r = io->regsel;

	switch (r) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return io->id << 24;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION | (IOAPIC_PINS - 1) << 16;
	default:
		if (r < IOAPIC_REG_REDIR ||
		    r >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
			return 0;
		r -= IOAPIC_REG_REDIR;
		return (uint32_t)(io->rte[r / 2] >> (r & 1 ? 32 : 0));
	}
}

static void reg_write(struct vioapic *io, uint32_t val)
{
	unsigned int r = io->regsel, pin;
	uint64_t e, keep;

	if (r == IOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (r < IOAPIC_REG_REDIR || r >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
		return; /* version, arbitration, nothing: read-only */
	r -= IOAPIC_REG_REDIR;
	pin = r / 2;
	e = io->rte[pin];
	if (r & 1)
		e = (e & 0xffffffffull) | (uint64_t)val << 32;
	else
		e = (e & ~0xffffffffull) | val;
	keep = io->rte[pin] & ~RTE_WRITABLE;
	e = (e & RTE_WRITABLE) | keep;
	if (!(e & IOAPIC_RTE_LEVEL))
		e &= ~IOAPIC_RTE_REMOTE_IRR; /* edge pins have none */
	io->rte[pin] = e;
	check_level(io, pin); /* unmasked with the line active: send now */
}

uint32_t vioapic_read(struct vioapic *io, uint64_t off)
{
	switch (off) {
	case IOAPIC_REGSEL:
		return io->regsel;
	case IOAPIC_WIN:
		return reg_read(io);
	default:
		return 0;
	}
}

void vioapic_write(struct vioapic *io, uint64_t off, uint32_t val)
{
	switch (off) {
	case IOAPIC_REGSEL:
		io->regsel = val & 0xff;
		break;
	case IOAPIC_WIN:
		reg_write(io, val);
		break;
	case IOAPIC_EOI:
		vioapic_eoi_vector(io, (uint8_t)val);
		break;
	default:
		break;
	}
}
