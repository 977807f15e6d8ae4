/* SPDX-License-Identifier: MIT */
/*
 * The legacy PC platform of multiboot and PVH guests (vmm/legacy.c): the
 * 8259 pair, the I/O APIC, the PIT with port 0x61, the RTC/CMOS and the
 * small ports (0x80, 0x92, i8042, PCI configuration), put together and
 * wired to the VM's interrupt lines (vmm/irq.h).  docs/guest-abi.md has
 * the guest's view.
 *
 * Locking: the interrupt controllers are under irq_lock (taken inside
 * dev_lock when a device raises a line, alone when a local APIC EOIs or
 * acknowledges); messages for the local APICs are collected under it and
 * delivered after it is dropped, so vlapic_deliver() and
 * vlapic_pic_changed() may call back into vpic_pending() and friends.
 * The timers and the small ports are under dev_lock.
 */
#ifndef TIDAL_VMM_LEGACY_H
#define TIDAL_VMM_LEGACY_H

#include "lib/spinlock.h"
#include "vmm/vioapic.h"
#include "vmm/vpic.h"
#include "vmm/vpit.h"
#include "vmm/vrtc.h"

struct vm;

struct pc_legacy {
	spinlock_t irq_lock;
	struct i8259 pic;
	struct vioapic ioapic;
	bool pic_out; /* the 8259's INT output as last reported */
	struct i8254 pit;
	struct mc146818 rtc;
	uint32_t pci_addr; /* 0xCF8 */
	bool reset_noted;  /* port 0x92 fast reset asked for once */
	uint64_t rx_poll_ns;
	bool rtc_irq; /* IRQ 8 as last driven */
	/* Summary figures: PIT IRQ 0 edges, COM1 IRQ 4 and RTC IRQ 8 raised,
	 * INTA cycles. */
	uint64_t pit_irqs, com1_irqs, rtc_irqs, pic_intas;
	/*
	 * When devices_tick() next has work (platform_time_ns() clock): the
	 * PIT's next IRQ 0 edge or the next COM1 input poll.  Written under
	 * dev_lock, read without it; 0 (set by every PIT access) makes the
	 * next devices_tick() look again.
	 */
	uint64_t tick_due_ns;
};

/*
 * legacy_irq.c: reset the interrupt controllers; irq_lock()/irq_unlock()
 * bracket a change to them (legacy.c's port and MMIO handlers).
 */
struct irq_outbox {
	struct irq_msg msg[IOAPIC_PINS + 1];
	unsigned int n;
	bool pic_changed;
};
void legacy_irq_init(struct vm *vm);
void legacy_irq_lock(struct vm *vm, struct irq_outbox *box);
/* Recompute the 8259's INT output after a change (lock held). */
void legacy_pic_output(struct vm *vm, struct irq_outbox *box);
void legacy_irq_unlock(struct vm *vm, struct irq_outbox *box);

/* legacy.c: set up the devices; for PC guests also map the I/O APIC. */
int legacy_init(struct vm *vm);
/* Port handlers for devices.c's table (dev_lock held). */
uint32_t legacy_pic_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val);
uint32_t legacy_pit_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val);
uint32_t legacy_rtc_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val);
uint32_t legacy_misc_io(struct vm *vm, uint16_t port, unsigned int size,
			bool in, uint32_t val);
uint32_t legacy_pci_io(struct vm *vm, uint16_t port, unsigned int size, bool in,
		       uint32_t val);
/*
 * dev_lock held: PIT channel 0 and RTC interrupts due by @now_ns; returns
 * when the next one is due (UINT64_MAX: none).
 */
uint64_t legacy_tick(struct vm *vm, uint64_t now_ns);
/* When the PIT or the RTC next raises its IRQ (ns, platform_time_ns), or
 * UINT64_MAX. */
uint64_t legacy_next_deadline(struct vm *vm, uint64_t now_ns);

#endif
