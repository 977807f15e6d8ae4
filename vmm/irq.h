/* SPDX-License-Identifier: MIT */
/*
 * How interrupts travel inside a VM: devices drive GSI lines; the I/O APIC
 * and the 8259 pair (vioapic.c, vpic.c) turn line changes into messages
 * for the local APICs (vlapic.c), which inject them into their vCPUs.
 *
 * Locking: devices call vm_irq_line() with the VM's dev_lock held.  The
 * PIC/I/O APIC state has its own lock inside (vmm/legacy.h: irq_lock,
 * nested in dev_lock), so vioapic_eoi(), vpic_pending() and vpic_ack() may
 * be called with or without dev_lock.  vlapic_deliver() and
 * vlapic_pic_changed() are called after that inner lock is dropped
 * (possibly with dev_lock held): they may call vpic_pending()/vpic_ack()
 * but never take dev_lock.  vlapic_deliver() only sets bits in the target
 * local APICs and kicks their vCPUs.
 */
#ifndef TIDAL_VMM_IRQ_H
#define TIDAL_VMM_IRQ_H

#include "lib/compiler.h"

struct vm;

/* Delivery modes (ICR and I/O APIC redirection entry bits 10:8). */
enum irq_delivery {
	IRQ_DM_FIXED = 0,
	IRQ_DM_LOWEST = 1,
	IRQ_DM_SMI = 2,
	IRQ_DM_NMI = 4,
	IRQ_DM_INIT = 5,
	IRQ_DM_SIPI = 6,
	IRQ_DM_EXTINT = 7,
};

/* An interrupt message, as an I/O APIC or an MSI would send it. */
struct irq_msg {
	uint32_t dest; /* APIC ID (physical) or logical destination */
	bool logical;  /* destination mode */
	uint8_t vector;
	uint8_t mode; /* enum irq_delivery */
	bool level;   /* trigger mode: true = level */
};

/* vlapic.c: deliver @m to the local APICs it names (and kick them). */
void vlapic_deliver(struct vm *vm, const struct irq_msg *m);
/*
 * vlapic.c: the 8259's INT output changed (vpic.c calls it, dev_lock
 * held); vCPU 0's local APIC takes it through LINT0 (ExtINT) when its
 * LVT allows, or directly when the local APIC is disabled.
 */
void vlapic_pic_changed(struct vm *vm);

/* vioapic.c + vpic.c: a device's interrupt line @gsi went high or low. */
void vm_irq_line(struct vm *vm, unsigned int gsi, bool high);
/* vioapic.c: a local APIC EOI'd a level-triggered @vector. */
void vioapic_eoi(struct vm *vm, uint8_t vector);
/* vpic.c: is the 8259 pair asserting INT? */
bool vpic_pending(struct vm *vm);
/* vpic.c: the INTA cycle: the vector to deliver (ISR updated), or -1. */
int vpic_ack(struct vm *vm);

#endif
