// SPDX-License-Identifier: MIT
/*
 * Placeholders for the interrupt interface of vmm/irq.h while the local
 * APIC and the legacy devices are written on separate branches: weak, so
 * the real definitions replace them.  Delete this file once both exist.
 */
#include "vmm/irq.h"

__attribute__((weak)) void vlapic_deliver(struct vm *vm,
					  const struct irq_msg *m)
{
	(void)vm;
	(void)m;
}

__attribute__((weak)) void vlapic_pic_changed(struct vm *vm)
{
	(void)vm;
}

__attribute__((weak)) void vm_irq_line(struct vm *vm, unsigned int gsi,
				       bool high)
{
	(void)vm;
	(void)gsi;
	(void)high;
}

__attribute__((weak)) void vioapic_eoi(struct vm *vm, uint8_t vector)
{
	(void)vm;
	(void)vector;
}

__attribute__((weak)) bool vpic_pending(struct vm *vm)
{
	(void)vm;
	return false;
}

__attribute__((weak)) int vpic_ack(struct vm *vm)
{
	(void)vm;
	return -1;
}
