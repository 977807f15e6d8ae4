// SPDX-License-Identifier: MIT
/*
 * Unit tests for the local APIC register model (vmm/vlapic.c): priority
 * (TPR, PPR, the class rule), IRR/ISR/EOI with level-triggered vectors,
 * destination matching (physical, flat and cluster logical, x2APIC),
 * the timer's arithmetic in its three modes, APIC_BASE transitions and the
 * x2APIC MSR rules.
 */
#include "tests/host/tap.h"
#include "vmm/vlapic.h"

static struct vlapic l;

static void fresh(uint32_t id)
{
	vlapic_reset(&l, id, id == 0);
	vlapic_set_reg(&l, LAPIC_SVR, 0x1ff); /* software-enabled */
}

static void wr(uint32_t off, uint32_t val, uint64_t now,
	       struct vlapic_effect *e)
{
	struct vlapic_effect tmp;

	vlapic_write(&l, off, val, now, e ? e : &tmp);
}

static void test_priority(void)
{
	struct vlapic_effect e;

	fresh(0);
	is_int(vlapic_pending_vector(&l), -1, "nothing pending after reset");
	ok(!vlapic_accept(&l, 8, false), "vector 8 is illegal: dropped");
	is_int(vlapic_highest_irr(&l), -1, "... and not in IRR");
	wr(LAPIC_ESR, 0, 0, NULL);
	is_int(vlapic_read(&l, LAPIC_ESR, 0), ESR_RECV_ILLEGAL_VEC,
	       "ESR write latches 'receive illegal vector'");
	wr(LAPIC_LVT_ERROR, 0xfe, 0, NULL);
	vlapic_accept(&l, 3, false);
	is_int(vlapic_highest_irr(&l), 0xfe, "error LVT raises its vector");
	vlapic_ack(&l, 0xfe);
	wr(LAPIC_EOI, 0, 0, &e);
	vlapic_accept(&l, 0x31, false);
	vlapic_accept(&l, 0x52, true);
	is_int(vlapic_pending_vector(&l), 0x52, "highest IRR vector wins");
	wr(LAPIC_TPR, 0x60, 0, NULL);
	is_int(vlapic_ppr(&l), 0x60, "PPR follows TPR when ISR is empty");
	is_int(vlapic_pending_vector(&l), -1, "TPR class 6 masks 0x52");
	wr(LAPIC_TPR, 0x52, 0, NULL);
	is_int(vlapic_pending_vector(&l), -1,
	       "same class as the TPR: still masked");
	wr(LAPIC_TPR, 0, 0, NULL);
	vlapic_ack(&l, 0x52);
	is_int(vlapic_highest_isr(&l), 0x52, "ack moves 0x52 to ISR");
	is_int(vlapic_ppr(&l), 0x50, "PPR is the ISR class");
	is_int(vlapic_pending_vector(&l), -1,
	       "0x31 waits under the in-service 0x52");
	vlapic_accept(&l, 0x65, false);
	is_int(vlapic_pending_vector(&l), 0x65, "a higher class nests");
	vlapic_ack(&l, 0x65);
	wr(LAPIC_EOI, 0, 0, &e);
	is_int(e.eoi_level_vec, -1, "EOI of edge 0x65: no I/O APIC EOI");
	is_int(vlapic_highest_isr(&l), 0x52, "EOI cleared the highest ISR");
	wr(LAPIC_EOI, 0, 0, &e);
	is_int(e.eoi_level_vec, 0x52, "EOI of level 0x52 reaches the I/O APIC");
	is_int(vlapic_read(&l, LAPIC_TMR + 0x20, 0) & (1u << 18), 0,
	       "TMR bit cleared by the EOI");
	is_int(vlapic_pending_vector(&l), 0x31, "0x31 now deliverable");
	is_int(vlapic_read(&l, LAPIC_IRR + 0x10, 0), 1u << 17,
	       "IRR register 1 shows 0x31");
	wr(LAPIC_SVR, 0xff, 0, NULL);
	is_int(vlapic_pending_vector(&l), -1,
	       "software-disabled: nothing presented");
	ok(vlapic_read(&l, LAPIC_LVT_TIMER, 0) & LVT_MASKED,
	   "software disable masks the LVTs");
}

static void test_dest(void)
{
	fresh(3);
	ok(vlapic_match_dest(&l, 3, false), "physical: own ID");
	ok(!vlapic_match_dest(&l, 2, false), "physical: other ID");
	ok(vlapic_match_dest(&l, 0xff, false), "physical broadcast");
	wr(LAPIC_LDR, 0x08u << 24, 0, NULL);
	ok(vlapic_match_dest(&l, 0x0c, true), "flat: bit 3 in 0x0c");
	ok(!vlapic_match_dest(&l, 0x07, true), "flat: not in 0x07");
	wr(LAPIC_DFR, 0x0fffffff, 0, NULL);
	wr(LAPIC_LDR, 0x24u << 24, 0, NULL); /* cluster 2, member bit 2 */
	ok(vlapic_match_dest(&l, 0x26, true), "cluster 2, members 1|2");
	ok(!vlapic_match_dest(&l, 0x16, true), "other cluster");
	ok(!vlapic_match_dest(&l, 0x21, true), "cluster 2, other member");
	ok(vlapic_match_dest(&l, 0xf4, true), "cluster broadcast");
	/* x2APIC: LDR from the ID, 32-bit destinations. */
	fresh(0x13);
	ok(vlapic_set_base(&l, l.base | APIC_BASE_X2APIC), "to x2APIC");
	is_int(vlapic_reg(&l, LAPIC_LDR), (1u << 16) | (1u << 3),
	       "x2APIC LDR: cluster 1, bit 3");
	ok(vlapic_match_dest(&l, 0x13, false), "x2APIC physical");
	ok(!vlapic_match_dest(&l, 0x113, false), "x2APIC: all 32 bits count");
	ok(vlapic_match_dest(&l, (1u << 16) | 0x18, true), "x2APIC logical");
	ok(!vlapic_match_dest(&l, (2u << 16) | 0x08, true),
	   "x2APIC logical, other cluster");
}

static void test_timer(void)
{
	uint64_t t0 = 1000;

	fresh(0);
	is_int(vlapic_timer_divisor(0xb), 1, "divide config 1011: 1");
	is_int(vlapic_timer_divisor(0x0), 2, "divide config 0000: 2");
	is_int(vlapic_timer_divisor(0xa), 128, "divide config 1010: 128");
	/* One-shot, divide 4. */
	wr(LAPIC_TIMER_DCR, 0x1, 0, NULL);
	wr(LAPIC_LVT_TIMER, 0x40, 0, NULL);
	wr(LAPIC_TIMER_ICR, 100, t0, NULL);
	is_int(vlapic_timer_next(&l), t0 + 400, "one-shot: 100 x 4 cycles");
	is_int(vlapic_read(&l, LAPIC_TIMER_CCR, t0 + 41), 90,
	       "current count after 41 cycles");
	ok(!vlapic_timer_expire(&l, t0 + 399), "not before its time");
	ok(vlapic_timer_expire(&l, t0 + 400), "expires on time");
	is_int(vlapic_pending_vector(&l), 0x40, "vector 0x40 raised");
	is_int(vlapic_timer_next(&l), 0, "one-shot disarms");
	is_int(vlapic_read(&l, LAPIC_TIMER_CCR, t0 + 500), 0, "count is 0");
	vlapic_ack(&l, 0x40);
	wr(LAPIC_EOI, 0, 0, NULL);
	/* Periodic: re-arms from the previous expiry, drops missed ones. */
	wr(LAPIC_LVT_TIMER, 0x41 | (1u << 17), 0, NULL);
	wr(LAPIC_TIMER_ICR, 50, t0, NULL);
	ok(vlapic_timer_expire(&l, t0 + 210), "periodic: first expiry");
	is_int(vlapic_timer_next(&l), t0 + 400, "next period from the last");
	ok(vlapic_timer_expire(&l, t0 + 1700), "late by several periods");
	is_int(vlapic_timer_next(&l), t0 + 1900, "missed periods dropped");
	is_int(vlapic_read(&l, LAPIC_TIMER_CCR, t0 + 4), 49,
	       "periodic count reloads");
	/* Masked: counts, raises nothing. */
	vlapic_ack(&l, 0x41);
	wr(LAPIC_EOI, 0, 0, NULL);
	wr(LAPIC_LVT_TIMER, 0x41 | (1u << 17) | LVT_MASKED, 0, NULL);
	ok(vlapic_timer_expire(&l, t0 + 5000), "masked timer still expires");
	is_int(vlapic_highest_irr(&l), -1, "... without an interrupt");
	/* TSC-deadline: ICR ignored, MSR arms, cleared when it fires. */
	wr(LAPIC_LVT_TIMER, 0x42 | (2u << 17), 0, NULL);
	is_int(vlapic_timer_next(&l), 0, "mode switch disarms");
	wr(LAPIC_TIMER_ICR, 10, t0, NULL);
	is_int(vlapic_timer_next(&l), 0, "ICR ignored in TSC-deadline mode");
	vlapic_tsc_deadline_write(&l, 7777);
	is_int(vlapic_tsc_deadline_read(&l), 7777, "deadline reads back");
	ok(vlapic_timer_expire(&l, 7777), "fires at the deadline");
	is_int(vlapic_tsc_deadline_read(&l), 0, "deadline cleared after");
	is_int(vlapic_pending_vector(&l), 0x42, "vector 0x42 raised");
	wr(LAPIC_LVT_TIMER, 0x42, 0, NULL);
	vlapic_tsc_deadline_write(&l, 9999);
	is_int(vlapic_tsc_deadline_read(&l), 0,
	       "deadline MSR inert outside TSC-deadline mode");
}

static void test_base_and_msrs(void)
{
	struct vlapic_effect e;
	uint64_t v;

	fresh(1);
	ok(!vlapic_msr_read(&l, 0x802, 0, &v), "x2APIC MSR in xAPIC mode: #GP");
	ok(!vlapic_set_base(&l, l.base | 1), "reserved bit: #GP");
	ok(!vlapic_set_base(&l, VLAPIC_BASE_GPA | APIC_BASE_X2APIC),
	   "x2APIC without enable: #GP");
	ok(vlapic_set_base(&l, l.base | APIC_BASE_X2APIC), "xAPIC -> x2APIC");
	ok(vlapic_msr_read(&l, 0x802, 0, &v) && v == 1, "x2APIC ID 1");
	ok(!vlapic_set_base(&l, VLAPIC_BASE_GPA | APIC_BASE_EN),
	   "x2APIC -> xAPIC: #GP");
	ok(!vlapic_msr_write(&l, 0x802, 5, 0, &e), "ID write: #GP");
	ok(!vlapic_msr_write(&l, 0x80b, 1, 0, &e), "EOI of non-zero: #GP");
	ok(!vlapic_msr_read(&l, 0x80b, 0, &v), "EOI read: #GP");
	ok(!vlapic_msr_read(&l, 0x80e, 0, &v), "no DFR in x2APIC: #GP");
	ok(!vlapic_msr_write(&l, 0x808, 1ull << 32, 0, &e),
	   "TPR with high bits: #GP");
	ok(vlapic_msr_write(&l, 0x830, (5ull << 32) | 0x4031, 0, &e) &&
		   e.send_ipi && vlapic_reg(&l, LAPIC_ICR2) == 5 &&
		   vlapic_reg(&l, LAPIC_ICR) == 0x4031,
	   "ICR: one 64-bit write sends");
	ok(vlapic_msr_write(&l, 0x83f, 0x55, 0, &e) &&
		   vlapic_highest_irr(&l) == 0x55,
	   "SELF IPI register");
	ok(!vlapic_msr_write(&l, 0x83f, 0x155, 0, &e),
	   "SELF IPI reserved bits");
	ok(vlapic_set_base(&l, VLAPIC_BASE_GPA), "x2APIC -> disabled");
	ok(!vlapic_hw_enabled(&l) && vlapic_highest_irr(&l) == -1,
	   "disable resets the APIC");
	ok(!vlapic_set_base(&l, l.base | APIC_BASE_EN | APIC_BASE_X2APIC),
	   "disabled -> x2APIC: #GP");
	is_int(l.base & APIC_BASE_BSP, 0, "BSP bit stays read-only");
}

static void test_events(void)
{
	fresh(2);
	vlapic_post(&l, VLAPIC_EV_SIPI, 0x9a);
	ok(vlapic_has_event(&l, VLAPIC_EV_SIPI) && l.sipi_vector == 0x9a,
	   "SIPI posted with its vector");
	ok(vlapic_take(&l, VLAPIC_EV_SIPI), "taken once");
	ok(!vlapic_take(&l, VLAPIC_EV_SIPI), "... and only once");
	vlapic_accept(&l, 0x40, false);
	vlapic_init_signal(&l);
	is_int(vlapic_highest_irr(&l), -1, "INIT clears IRR");
	ok(vlapic_hw_enabled(&l) && l.id == 2, "INIT keeps APIC_BASE and ID");
	ok(vlapic_read(&l, LAPIC_SVR, 0) == 0xff, "INIT: SVR back to 0xff");
}

/* The register file as the virtual-APIC page (APIC virtualization). */
static uint32_t page[1024] __attribute__((aligned(4096)));

static uint32_t pw(uint32_t off)
{
	return page[off >> 2];
}

static void test_regs_page(void)
{
	struct vlapic_effect e;
	uint64_t bm[4];

	fresh(3);
	vlapic_set_reg(&l, LAPIC_TPR, 0x20);
	vlapic_attach_regs(&l, page);
	is_int(pw(LAPIC_ID), 3u << 24, "attach copies the ID to offset 0x20");
	is_int(pw(LAPIC_SVR), 0x1ff, "... SVR to 0xf0");
	is_int(pw(LAPIC_TPR), 0x20, "... TPR to 0x80");
	is_int(pw(LAPIC_LVT_TIMER), LVT_MASKED, "... LVT timer to 0x320");
	vlapic_accept(&l, 0x41, false);
	vlapic_accept(&l, 0xa5, true);
	/* Accepted vectors wait in the inbox until the owner's sync. */
	ok(pw(LAPIC_IRR + 0x20) == 0 && pw(LAPIC_IRR + 0x50) == 0,
	   "accept does not touch the page's IRR (the CPU may own it)");
	is_int(vlapic_highest_irr(&l), 0xa5, "... but IRR includes the inbox");
	is_int(vlapic_read(&l, LAPIC_IRR + 0x20, 0), 1u << 1,
	       "... and so do IRR reads");
	vlapic_sync_irr(&l);
	ok(l.inbox[2] == 0 && l.inbox[5] == 0, "sync empties the inbox");
	is_int(pw(LAPIC_IRR + 0x20), 1u << 1, "IRR bit of 0x41 at 0x220");
	is_int(pw(LAPIC_IRR + 0x50), 1u << 5, "IRR bit of 0xa5 at 0x250");
	is_int(pw(LAPIC_TMR + 0x50), 1u << 5, "level: TMR bit at 0x1d0");
	/* What the CPU does on virtual-interrupt delivery and TPR writes. */
	page[(LAPIC_IRR + 0x50) >> 2] = 0;
	page[(LAPIC_ISR + 0x50) >> 2] = 1u << 5;
	page[LAPIC_TPR >> 2] = 0x30;
	is_int(vlapic_highest_isr(&l), 0xa5, "the model sees the CPU's ISR");
	is_int(vlapic_ppr(&l), 0xa0, "... and PPR follows from it");
	is_int(vlapic_read(&l, LAPIC_TPR, 0), 0x30, "... and its TPR");
	vlapic_eoi_exit_bitmap(&l, bm);
	ok(bm[0] == 0 && bm[1] == 0 && bm[2] == 1ull << 37 && bm[3] == 0,
	   "EOI-exit bitmap: the level-triggered vector 0xa5 only");
	/* The CPU's virtualized EOI of 0xa5 cleared ISR; tidal tells the
	 * I/O APIC and forgets the level. */
	page[(LAPIC_ISR + 0x50) >> 2] = 0;
	is_int(vlapic_virtual_eoi(&l, 0xa5), 0xa5, "EOI exit: level vector");
	is_int(pw(LAPIC_TMR + 0x50), 0, "... TMR bit cleared");
	is_int(vlapic_virtual_eoi(&l, 0x41), -1, "edge vector: nothing");
	is_int(vlapic_virtual_eoi(&l, 300), -1, "a bad vector: nothing");

	/* APIC-write exits: the CPU stored the guest's value first. */
	page[LAPIC_ICR2 >> 2] = 0x02000000;
	page[LAPIC_ICR >> 2] = 0xfff35031; /* reserved and busy bits set */
	vlapic_apic_write(&l, LAPIC_ICR, 0, &e);
	ok(e.send_ipi && pw(LAPIC_ICR) == 0x4031,
	   "ICR write: sends, reserved bits dropped");
	page[LAPIC_ID >> 2] = 0x7f000000;
	vlapic_apic_write(&l, LAPIC_ID, 0, &e);
	is_int(pw(LAPIC_ID), 3u << 24, "ID write: the real ID put back");
	page[LAPIC_LVT_TIMER >> 2] = 0x50 | (1u << 17);
	vlapic_apic_write(&l, LAPIC_LVT_TIMER, 0, &e);
	page[LAPIC_TIMER_ICR >> 2] = 100;
	vlapic_apic_write(&l, LAPIC_TIMER_ICR, 1000, &e);
	ok(vlapic_timer_next(&l) != 0,
	   "periodic timer armed by the CPU's write");
	page[LAPIC_LVT_TIMER >> 2] = 0x50 | (2u << 17);
	vlapic_apic_write(&l, LAPIC_LVT_TIMER, 0, &e);
	ok(vlapic_timer_next(&l) == 0 && pw(LAPIC_TIMER_ICR) == 0,
	   "mode switch seen although the page held the new mode: disarmed");
	page[LAPIC_TIMER_ICR >> 2] = 77;
	vlapic_apic_write(&l, LAPIC_TIMER_ICR, 0, &e);
	is_int(pw(LAPIC_TIMER_ICR), 0, "TSC-deadline mode: count stays 0");
	page[LAPIC_ESR >> 2] = 0xffffffff;
	vlapic_error(&l, ESR_SEND_ILLEGAL_VEC);
	vlapic_apic_write(&l, LAPIC_ESR, 0, &e);
	is_int(pw(LAPIC_ESR), ESR_SEND_ILLEGAL_VEC,
	       "ESR write: latched errors");
	page[0x3c0 >> 2] = 5;
	vlapic_apic_write(&l, 0x3c0, 0, &e);
	ok(!e.send_ipi && e.eoi_level_vec == -1, "reserved offset: no effect");
}

static void test_x2apic_bitmap(void)
{
	ok(vlapic_x2apic_read_direct(0x802) &&
		   vlapic_x2apic_read_direct(0x808) &&
		   vlapic_x2apic_read_direct(0x832) &&
		   vlapic_x2apic_read_direct(0x827),
	   "x2APIC reads served by the CPU: ID, TPR, LVT timer, IRR");
	ok(!vlapic_x2apic_read_direct(0x839) &&
		   !vlapic_x2apic_read_direct(0x80a) &&
		   !vlapic_x2apic_read_direct(0x830),
	   "... not the current count, PPR or the 64-bit ICR");
	ok(!vlapic_x2apic_read_direct(0x80b) &&
		   !vlapic_x2apic_read_direct(0x80e) &&
		   !vlapic_x2apic_read_direct(0x801) &&
		   !vlapic_x2apic_read_direct(0x900),
	   "... nor what must #GP (EOI, DFR, reserved, out of range)");
	ok(vlapic_x2apic_write_direct(0x808) &&
		   vlapic_x2apic_write_direct(0x80b) &&
		   vlapic_x2apic_write_direct(0x83f),
	   "x2APIC writes the CPU virtualizes: TPR, EOI, SELF IPI");
	ok(!vlapic_x2apic_write_direct(0x830) &&
		   !vlapic_x2apic_write_direct(0x832) &&
		   !vlapic_x2apic_write_direct(0x802),
	   "... the rest exit (ICR, LVT, ID)");
}

int main(void)
{
	test_priority();
	test_dest();
	test_timer();
	test_base_and_msrs();
	test_events();
	test_regs_page();
	test_x2apic_bitmap();
	return tap_done();
}
