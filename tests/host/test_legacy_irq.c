// SPDX-License-Identifier: MIT
/*
 * Interrupt routing of the legacy PC (vmm/legacy_irq.c) with recording
 * local APIC stubs: ISA IRQ 0 on I/O APIC pin 2, COM1 on pin 4, the 8259
 * INT output reported through vlapic_pic_changed() and acknowledged with
 * vpic_ack(), level EOI through vioapic_eoi(), and a local APIC that calls
 * back into vpic_pending() from its notification (no deadlock).
 */
#include "tests/host/tap.h"
#include "vmm/vm.h"

static struct vm the_vm;
static struct irq_msg msgs[32];
static unsigned int nmsgs, pic_changes;
static bool seen_pending;

void vlapic_deliver(struct vm *vm, const struct irq_msg *m)
{
	(void)vm;
	if (nmsgs < 32)
		msgs[nmsgs] = *m;
	nmsgs++;
}

void vlapic_pic_changed(struct vm *vm)
{
	pic_changes++;
	seen_pending = vpic_pending(vm); /* re-entry must not deadlock */
}

static void route(struct vm *vm, unsigned int pin, uint64_t e)
{
	struct irq_outbox box;

	legacy_irq_lock(vm, &box);
	vioapic_write(&vm->legacy.ioapic, IOAPIC_REGSEL, 0x10 + 2 * pin);
	vioapic_write(&vm->legacy.ioapic, IOAPIC_WIN, (uint32_t)e);
	legacy_irq_unlock(vm, &box);
}

static void pic_init(struct vm *vm)
{
	static const uint8_t seq[][2] = {
		{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
		{0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01},
		{0x21, 0x00}, {0xa1, 0x00},
	};
	struct irq_outbox box;

	legacy_irq_lock(vm, &box);
	for (unsigned int i = 0; i < ARRAY_SIZE(seq); i++)
		i8259_write(&vm->legacy.pic, seq[i][0], seq[i][1]);
	legacy_pic_output(vm, &box);
	legacy_irq_unlock(vm, &box);
}

static void test_ioapic_routes(struct vm *vm)
{
	route(vm, 2, 0x30);
	route(vm, 4, 0x34);
	route(vm, 0, IOAPIC_RTE_MASKED); /* the ExtINT pin, masked */
	nmsgs = 0;
	vm_irq_line(vm, 0, true);
	vm_irq_line(vm, 0, false);
	ok(nmsgs == 1 && msgs[0].vector == 0x30,
	   "ISA IRQ 0 arrives on I/O APIC pin 2 (vector 0x30)");
	vm_irq_line(vm, 4, true);
	ok(nmsgs == 2 && msgs[1].vector == 0x34, "COM1's IRQ 4 on pin 4");
	vm_irq_line(vm, 4, false);
	vm_irq_line(vm, 2, true);
	vm_irq_line(vm, 2, false);
	is_int(nmsgs, 2, "ISA IRQ 2 (the cascade) reaches no pin");
	route(vm, 20, 0x50 | IOAPIC_RTE_LEVEL);
	vm_irq_line(vm, 20, true);
	is_int(nmsgs, 3, "GSI 20: I/O APIC only, level");
	vioapic_eoi(vm, 0x50);
	is_int(nmsgs, 4, "EOI with GSI 20 still high resends");
	vm_irq_line(vm, 20, false);
	vioapic_eoi(vm, 0x50);
	is_int(nmsgs, 4, "line low: nothing after EOI");
	vm_irq_line(vm, 99, true); /* hostile or buggy: ignored */
	is_int(nmsgs, 4, "GSI 99 ignored");
}

static void test_pic_path(struct vm *vm)
{
	pic_init(vm);
	pic_changes = 0;
	ok(!vpic_pending(vm), "8259 quiet after init");
	is_int(vpic_ack(vm), -1, "INTA with nothing pending: -1");
	vm_irq_line(vm, 0, true);
	vm_irq_line(vm, 0, false);
	ok(pic_changes == 1 && seen_pending,
	   "IRQ 0 raised the 8259 INT (local APIC told, sees it pending)");
	is_int(vpic_ack(vm), 0x20, "INTA gives vector 0x20");
	ok(!vpic_pending(vm), "in service: INT low");
	ok(pic_changes == 2 && !seen_pending,
	   "INTA lowered INT: the local APIC is told (no stale INTR)");
	vm_irq_line(vm, 12, true);
	is_int(pic_changes, 2, "IRQ 12 waits behind IRQ 0 in service");
	{
		struct irq_outbox box;

		legacy_irq_lock(vm, &box);
		i8259_write(&vm->legacy.pic, 0x20, 0x20); /* EOI */
		legacy_pic_output(vm, &box);
		legacy_irq_unlock(vm, &box);
	}
	ok(pic_changes == 3 && seen_pending, "after EOI IRQ 12 raises INT");
	is_int(vpic_ack(vm), 0x2c, "from the slave: vector 0x2c");
}

int main(void)
{
	struct vm *vm = &the_vm;

	vm->nr_vcpus = 1;
	legacy_irq_init(vm);
	test_ioapic_routes(vm);
	test_pic_path(vm);
	return tap_done();
}
