/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC model (one, 24 pins, version 0x20) at PC_IOAPIC_BASE:
 * IOREGSEL (offset 0x00), IOWIN (0x10) and the EOI register (0x40); ID,
 * version, arbitration and the redirection table with mask, polarity,
 * edge or level trigger and remote IRR.  Each interrupt it sends goes to
 * @deliver as a struct irq_msg (vmm/irq.h); vmm/legacy.c wires it to the
 * local APICs and to the VM's GSI lines.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_VIOAPIC_H
#define TIDAL_VMM_VIOAPIC_H

#include "lib/compiler.h"
#include "vmm/irq.h"

#define IOAPIC_PINS    24
#define IOAPIC_VERSION 0x20
#define IOAPIC_SIZE    0x1000 /* MMIO window */

/* Register offsets in the window, and register indexes. */
#define IOAPIC_REGSEL	 0x00
#define IOAPIC_WIN	 0x10
#define IOAPIC_EOI	 0x40
#define IOAPIC_REG_ID	 0x00
#define IOAPIC_REG_VER	 0x01
#define IOAPIC_REG_ARB	 0x02
#define IOAPIC_REG_REDIR 0x10 /* two registers per pin */

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR     0xffull
#define IOAPIC_RTE_DESTMODE   (1ull << 11)
#define IOAPIC_RTE_PENDING    (1ull << 12) /* delivery status, read-only */
#define IOAPIC_RTE_LOW	      (1ull << 13) /* active low */
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL      (1ull << 15)
#define IOAPIC_RTE_MASKED     (1ull << 16)

struct vioapic {
	uint32_t regsel, id;
	uint64_t rte[IOAPIC_PINS];
	uint32_t lines; /* pin input levels now */
	void (*deliver)(void *ctx, const struct irq_msg *m);
	void *ctx;
	/* Messages sent; remote IRRs cleared by an EOI (summary figures). */
	uint64_t sent, level_eois;
};

/* Every pin masked, edge, vector 0; @deliver receives the messages. */
void vioapic_init(struct vioapic *io, uint32_t id,
		  void (*deliver)(void *ctx, const struct irq_msg *m),
		  void *ctx);
void vioapic_set_pin(struct vioapic *io, unsigned int pin, bool high);
/* A local APIC EOI'd @vector: clear remote IRR, resend if still high. */
void vioapic_eoi_vector(struct vioapic *io, uint8_t vector);
/* An aligned 32-bit window access (others: see vioapic.c). */
uint32_t vioapic_read(struct vioapic *io, uint64_t off);
void vioapic_write(struct vioapic *io, uint64_t off, uint32_t val);

#endif
