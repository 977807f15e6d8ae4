// SPDX-License-Identifier: MIT
/*
 * The I/O APIC model (vmm/vioapic.c): ID and version, redirection entries
 * through IOREGSEL/IOWIN, mask, edge and level pins, remote IRR and EOI
 * (both the local APIC's and the EOI register's).  vlapic_deliver is
 * replaced by a recorder of the messages.
 */
#include "tests/host/tap.h"
#include "vmm/vioapic.h"

static struct irq_msg sent[16];
static unsigned int nsent;

static void record(void *ctx, const struct irq_msg *m)
{
	(void)ctx;
	if (nsent < 16)
		sent[nsent] = *m;
	nsent++;
}

static uint32_t rd(struct vioapic *io, uint32_t reg)
{
	vioapic_write(io, IOAPIC_REGSEL, reg);
	return vioapic_read(io, IOAPIC_WIN);
}

static void wr(struct vioapic *io, uint32_t reg, uint32_t v)
{
	vioapic_write(io, IOAPIC_REGSEL, reg);
	vioapic_write(io, IOAPIC_WIN, v);
}

static void route(struct vioapic *io, unsigned int pin, uint64_t e)
{
	wr(io, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(e >> 32));
	wr(io, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)e);
}

static void test_regs(void)
{
	struct vioapic io;

	vioapic_init(&io, 1, record, NULL);
	is_int(rd(&io, IOAPIC_REG_ID) >> 24, 1, "ID register");
	is_int(rd(&io, IOAPIC_REG_VER), 0x170020, "version 0x20, 24 pins");
	is_int(rd(&io, IOAPIC_REG_REDIR), 0x10000, "pins start masked");
	wr(&io, IOAPIC_REG_ID, 5u << 24);
	is_int(rd(&io, IOAPIC_REG_ID), 5u << 24, "ID written");
	wr(&io, IOAPIC_REG_VER, 0);
	is_int(rd(&io, IOAPIC_REG_VER), 0x170020, "version read-only");
	route(&io, 23, 0x0300000000004031ull | IOAPIC_RTE_REMOTE_IRR);
	is_int(rd(&io, IOAPIC_REG_REDIR + 47), 0x03000000, "pin 23 high half");
	is_int(rd(&io, IOAPIC_REG_REDIR + 46), 0x0031,
	       "remote IRR and delivery status not writable (edge)");
	is_int(rd(&io, IOAPIC_REG_REDIR + 48), 0, "past pin 23 reads 0");
	is_int(vioapic_read(&io, 0x20), 0, "unknown offset reads 0");
}

static void test_edge(void)
{
	struct vioapic io;

	vioapic_init(&io, 0, record, NULL);
	nsent = 0;
	vioapic_set_pin(&io, 2, true);
	vioapic_set_pin(&io, 2, false);
	is_int(nsent, 0, "masked edge pin sends nothing");
	route(&io, 2, 0x0100000000000830ull); /* logical, vector 0x30 */
	is_int(nsent, 0, "unmasking an edge pin sends nothing");
	vioapic_set_pin(&io, 2, true);
	vioapic_set_pin(&io, 2, true);
	is_int(nsent, 1, "one message per rising edge");
	ok(sent[0].vector == 0x30 && sent[0].dest == 1 && sent[0].logical &&
		   !sent[0].level && sent[0].mode == IRQ_DM_FIXED,
	   "message: vector, logical destination 1, fixed, edge");
	vioapic_set_pin(&io, 2, false);
	vioapic_set_pin(&io, 2, true);
	is_int(nsent, 2, "next edge sends again");
	/* Active low: the falling edge is the rising one. */
	route(&io, 3, 0x31 | IOAPIC_RTE_LOW | 7u << 8);
	nsent = 0;
	vioapic_set_pin(&io, 3, true);
	vioapic_set_pin(&io, 3, false);
	ok(nsent == 1 && sent[0].mode == IRQ_DM_EXTINT,
	   "active-low pin fires on the falling edge, ExtINT mode kept");
}

static void test_level(void)
{
	struct vioapic io;

	vioapic_init(&io, 0, record, NULL);
	nsent = 0;
	route(&io, 9, 0x41 | IOAPIC_RTE_LEVEL);
	vioapic_set_pin(&io, 9, true);
	ok(nsent == 1 && sent[0].level, "level pin sends, level message");
	ok(rd(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR,
	   "remote IRR set");
	vioapic_set_pin(&io, 9, false);
	vioapic_set_pin(&io, 9, true);
	is_int(nsent, 1, "no resend while remote IRR is set");
	vioapic_eoi_vector(&io, 0x42);
	is_int(nsent, 1, "EOI of another vector changes nothing");
	vioapic_eoi_vector(&io, 0x41);
	is_int(nsent, 2, "EOI with the line still high resends");
	vioapic_set_pin(&io, 9, false);
	vioapic_write(&io, IOAPIC_EOI, 0x41); /* version-0x20 EOI register */
	ok(!(rd(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR),
	   "EOI register clears remote IRR");
	is_int(nsent, 2, "line low: nothing resent");
	/* Masked while high, unmasked later: sent at unmask. */
	route(&io, 10, 0x50 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	vioapic_set_pin(&io, 10, true);
	is_int(nsent, 2, "masked level pin waits");
	route(&io, 10, 0x50 | IOAPIC_RTE_LEVEL);
	is_int(nsent, 3, "unmasking an active level pin sends it");
	vioapic_set_pin(&io, 30, true); /* no such pin: ignored */
	is_int(nsent, 3, "pin 30 ignored");
}

int main(void)
{
	test_regs();
	test_edge();
	test_level();
	return tap_done();
}
