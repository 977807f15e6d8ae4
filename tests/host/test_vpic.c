// SPDX-License-Identifier: MIT
/* The 8259 pair model (vmm/vpic.c): init, masks, priority, EOI, cascade. */
#include "tests/host/tap.h"
#include "vmm/vpic.h"

/* What Linux and most kernels program: vectors 0x20/0x28, cascade on 2. */
static void setup(struct i8259 *p)
{
	i8259_init(p);
	i8259_write(p, 0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	i8259_write(p, 0x21, 0x20);
	i8259_write(p, 0x21, 0x04);
	i8259_write(p, 0x21, 0x01);
	i8259_write(p, 0xa0, 0x11);
	i8259_write(p, 0xa1, 0x28);
	i8259_write(p, 0xa1, 0x02);
	i8259_write(p, 0xa1, 0x01);
	i8259_write(p, 0x21, 0x00);
	i8259_write(p, 0xa1, 0x00);
}

static void pulse(struct i8259 *p, unsigned int irq)
{
	i8259_set_irq(p, irq, true);
	i8259_set_irq(p, irq, false);
}

static void test_masks(void)
{
	struct i8259 p;

	setup(&p);
	i8259_write(&p, 0x21, 0xa5);
	i8259_write(&p, 0xa1, 0x5a);
	is_int(i8259_read(&p, 0x21), 0xa5, "master mask reads back");
	is_int(i8259_read(&p, 0xa1), 0x5a, "slave mask reads back");
	i8259_write(&p, 0x21, 0xff);
	pulse(&p, 1);
	ok(!i8259_output(&p), "masked IRQ 1 raises no INT");
	i8259_write(&p, 0x20, 0x0a); /* OCW3: read IRR */
	is_int(i8259_read(&p, 0x20), 0x02, "IRR shows masked IRQ 1 latched");
	i8259_write(&p, 0x21, 0xfd);
	ok(i8259_output(&p), "unmasking IRQ 1 raises INT");
	is_int(i8259_intack(&p), 0x21, "vector 0x21 for IRQ 1");
	i8259_write(&p, 0x20, 0x0b); /* OCW3: read ISR */
	is_int(i8259_read(&p, 0x20), 0x02, "ISR shows IRQ 1 in service");
	i8259_write(&p, 0x20, 0x20);
	is_int(i8259_read(&p, 0x20), 0x00, "non-specific EOI clears ISR");
}

static void test_priority(void)
{
	struct i8259 p;

	setup(&p);
	pulse(&p, 3);
	pulse(&p, 5);
	pulse(&p, 1);
	is_int(i8259_intack(&p), 0x21, "IRQ 1 first (highest of 1, 3, 5)");
	ok(!i8259_output(&p), "IRQ 3 waits while IRQ 1 is in service");
	pulse(&p, 0);
	ok(i8259_output(&p), "IRQ 0 preempts IRQ 1 in service");
	is_int(i8259_intack(&p), 0x20, "vector 0x20 nested");
	i8259_write(&p, 0x20, 0x20); /* EOI IRQ 0 (the highest in service) */
	i8259_write(&p, 0x20, 0x0b);
	is_int(i8259_read(&p, 0x20), 0x02, "non-specific EOI took IRQ 0");
	i8259_write(&p, 0x20, 0x61); /* specific EOI, IRQ 1 */
	is_int(i8259_read(&p, 0x20), 0x00, "specific EOI took IRQ 1");
	is_int(i8259_intack(&p), 0x23, "then IRQ 3");
	i8259_write(&p, 0x20, 0x20);
	/* Rotate: make IRQ 5 the highest by setting 4 as the lowest. */
	i8259_write(&p, 0x20, 0xc4);
	pulse(&p, 0);
	is_int(i8259_intack(&p), 0x25, "after set-priority 4, IRQ 5 wins");
	is_int(i8259_intack(&p), 0x27, "nothing else ahead: spurious 7");
}

static void test_cascade(void)
{
	struct i8259 p;

	setup(&p);
	pulse(&p, 12);
	ok(i8259_output(&p), "slave IRQ 12 reaches the master's INT");
	is_int(i8259_intack(&p), 0x2c, "vector 0x2c from the slave");
	ok(!i8259_output(&p), "INT low while both are in service");
	pulse(&p, 9);
	ok(!i8259_output(&p),
	   "slave IRQ 9 (above 12) waits for the master's IRQ 2 EOI");
	i8259_write(&p, 0xa0, 0x20);
	ok(!i8259_output(&p), "master IRQ 2 still in service blocks");
	i8259_write(&p, 0x20, 0x20);
	ok(i8259_output(&p), "after both EOIs IRQ 9 is presented");
	is_int(i8259_intack(&p), 0x29, "vector 0x29");
	i8259_write(&p, 0xa1, 0xff);
	pulse(&p, 10);
	i8259_write(&p, 0xa0, 0x20);
	i8259_write(&p, 0x20, 0x20);
	ok(!i8259_output(&p), "slave mask hides IRQ 10");
}

static void test_level(void)
{
	struct i8259 p;

	setup(&p);
	i8259_write(&p, 0x4d1, 0xff);
	is_int(i8259_read(&p, 0x4d1), 0xde, "ELCR2: IRQ 8 and 13 stay edge");
	i8259_write(&p, 0x4d0, 0xff);
	is_int(i8259_read(&p, 0x4d0), 0xf8, "ELCR1: IRQ 0-2 stay edge");
	i8259_write(&p, 0x4d0, 0x20); /* only IRQ 5 level */
	i8259_set_irq(&p, 5, true);
	is_int(i8259_intack(&p), 0x25, "level IRQ 5 delivered");
	i8259_write(&p, 0x20, 0x20);
	ok(i8259_output(&p), "level IRQ 5 still high: requests again");
	i8259_set_irq(&p, 5, false);
	ok(!i8259_output(&p), "line low: request gone");
	/* An edge input that pulses is latched until acknowledged. */
	pulse(&p, 4);
	ok(i8259_output(&p), "edge IRQ 4 latched after the pulse");
}

static void test_auto_eoi_poll(void)
{
	struct i8259 p;

	i8259_init(&p);
	i8259_write(&p, 0x20, 0x13); /* single, ICW4 */
	i8259_write(&p, 0x21, 0x40);
	i8259_write(&p, 0x21, 0x03); /* auto-EOI */
	pulse(&p, 6);
	is_int(i8259_intack(&p), 0x46, "single mode vector 0x46");
	i8259_write(&p, 0x20, 0x0b);
	is_int(i8259_read(&p, 0x20), 0, "auto-EOI leaves ISR clear");
	pulse(&p, 3);
	i8259_write(&p, 0x20, 0x0c); /* poll */
	is_int(i8259_read(&p, 0x20), 0x83, "poll answers 0x80 | 3");
	ok(!i8259_output(&p), "poll acknowledged it");
}

int main(void)
{
	test_masks();
	test_priority();
	test_cascade();
	test_level();
	test_auto_eoi_poll();
	return tap_done();
}
