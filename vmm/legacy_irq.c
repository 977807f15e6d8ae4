// SPDX-License-Identifier: MIT
/*
 * Interrupt routing of the legacy PC (see vmm/legacy.h): GSI lines to the
 * 8259 pair and the I/O APIC, and the vmm/irq.h interface the local APICs
 * use.  Portable: the host test links it with its own vlapic_deliver().
 */
#include "vmm/legacy.h"

#include "vmm/vm.h"

static void collect(void *ctx, const struct irq_msg *m)
{
	struct irq_outbox *box = ctx;

	if (box->n < ARRAY_SIZE(box->msg))
		box->msg[box->n++] = *m;
}

/* Messages for the local APICs are sent once irq_lock is dropped. */
void legacy_irq_lock(struct vm *vm, struct irq_outbox *box)
{
	box->n = 0;
	box->pic_changed = false;
	spin_lock(&vm->legacy.irq_lock);
	vm->legacy.ioapic.ctx = box;
}

/* The 8259's INT goes to the local APIC and to I/O APIC pin 0 (ExtINT). */
void legacy_pic_output(struct vm *vm, struct irq_outbox *box)
{
	struct pc_legacy *l = &vm->legacy;
	bool out = i8259_output(&l->pic);

	if (out == l->pic_out)
		return;
	l->pic_out = out;
	box->pic_changed = true;
	vioapic_set_pin(&l->ioapic, 0, out);
}

void legacy_irq_unlock(struct vm *vm, struct irq_outbox *box)
{
	vm->legacy.ioapic.ctx = NULL;
	spin_unlock(&vm->legacy.irq_lock);
	for (unsigned int i = 0; i < box->n; i++)
		vlapic_deliver(vm, &box->msg[i]);
	if (box->pic_changed)
		vlapic_pic_changed(vm);
}

/*
 * @gsi below 16 is an ISA IRQ: it reaches the 8259 pair and the I/O APIC
 * pin the MADT names (IRQ 0 is on pin 2, the others on their own number).
 * 16-23 are I/O APIC pins only.
 */
void vm_irq_line(struct vm *vm, unsigned int gsi, bool high)
{
	struct pc_legacy *l = &vm->legacy;
	struct irq_outbox box;

	if (gsi >= IOAPIC_PINS)
		return;
	legacy_irq_lock(vm, &box);
	if (gsi < 16) {
		i8259_set_irq(&l->pic, gsi, high);
		legacy_pic_output(vm, &box);
	}
	if (gsi != 2) /* ISA IRQ 2 is the cascade; pin 2 is IRQ 0 */
		vioapic_set_pin(&l->ioapic, gsi ? gsi : 2, high);
	legacy_irq_unlock(vm, &box);
}

void vioapic_eoi(struct vm *vm, uint8_t vector)
{
	struct irq_outbox box;

	legacy_irq_lock(vm, &box);
	vioapic_eoi_vector(&vm->legacy.ioapic, vector);
	legacy_irq_unlock(vm, &box);
}

bool vpic_pending(struct vm *vm)
{
	bool out;

	spin_lock(&vm->legacy.irq_lock);
	out = i8259_output(&vm->legacy.pic);
	spin_unlock(&vm->legacy.irq_lock);
	return out;
}

/*
 * The INTA cycle, asked for by the local APIC.  When it lowers the
 * output (the last request taken), vlapic_pic_changed() hears of it, so
 * that vCPU 0 stops seeing INTR: a stale one would keep its HLT from
 * blocking.  The I/O APIC's pin 0 follows.
 */
int vpic_ack(struct vm *vm)
{
	struct pc_legacy *l = &vm->legacy;
	struct irq_outbox box;
	int vec = -1;

	legacy_irq_lock(vm, &box);
	if (i8259_output(&l->pic)) {
		vec = i8259_intack(&l->pic);
		l->pic_intas++;
	}
	legacy_pic_output(vm, &box);
	legacy_irq_unlock(vm, &box);
	return vec;
}

void legacy_irq_init(struct vm *vm)
{
	struct pc_legacy *l = &vm->legacy;

	spin_lock_init(&l->irq_lock);
	i8259_init(&l->pic);
	/* The I/O APIC's ID follows the CPUs', as the MADT says. */
	vioapic_init(&l->ioapic, vm->nr_vcpus, collect, NULL);
	l->pic_out = false;
}
