/* SPDX-License-Identifier: MIT */
/*
 * The 8259A interrupt controller pair of a PC (master at 0x20/0x21, slave
 * at 0xA0/0xA1 on the master's IRQ 2) and the edge/level control
 * registers (ELCR, 0x4D0/0x4D1).  The model keeps register state only:
 * vmm/legacy.c drives its input lines, watches its INT output and runs
 * the INTA cycle for the local APIC (vpic_pending/vpic_ack in vmm/irq.h).
 *
 * Emulated: ICW1-ICW4 (edge or level from ICW1.LTIM or the ELCR, single
 * or cascaded, auto-EOI), OCW1 (mask), OCW2 (specific and non-specific
 * EOI, rotation, set priority), OCW3 (read IRR/ISR, poll, special mask).
 * Not emulated: special fully nested mode, buffered mode, 8080 vectors.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_VPIC_H
#define TIDAL_VMM_VPIC_H

#include "lib/compiler.h"

struct i8259_chip {
	uint8_t irr, isr, imr;
	uint8_t lines; /* input levels now */
	uint8_t elcr;  /* level-triggered inputs */
	uint8_t base;  /* ICW2: vector of IRQ 0 */
	uint8_t icw3;
	uint8_t lowest; /* lowest-priority IRQ (7 until rotated) */
	uint8_t init;	/* ICW expected next: 0 (none), 2, 3 or 4 */
	bool need_icw4, single, ltim, auto_eoi, rotate_aeoi;
	bool read_isr, special_mask, poll;
};

struct i8259 {
	struct i8259_chip c[2]; /* master, slave */
};

void i8259_init(struct i8259 *p);
/* ISA IRQ @irq (0-15) input is now @high. */
void i8259_set_irq(struct i8259 *p, unsigned int irq, bool high);
/* The master's INT output: an unmasked request beats what is in service. */
bool i8259_output(const struct i8259 *p);
/* INTA: the vector to deliver (IRQ 7/15 spurious vectors if none). */
uint8_t i8259_intack(struct i8259 *p);
/* A byte access to 0x20, 0x21, 0xA0, 0xA1, 0x4D0 or 0x4D1. */
uint8_t i8259_read(struct i8259 *p, uint16_t port);
void i8259_write(struct i8259 *p, uint16_t port, uint8_t val);

#endif
