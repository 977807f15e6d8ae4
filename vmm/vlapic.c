// SPDX-License-Identifier: MIT
/*
 * The local APIC register model (vmm/vlapic.h).  Values and rules from the
 * Intel SDM, volume 3, chapter "Advanced Programmable Interrupt
 * Controller" (xAPIC page layout, x2APIC MSR rules, PPR, timer).
 */
#include "vmm/vlapic.h"

/* Version 0x14 (integrated APIC), seven LVT entries (max LVT index 6). */
#define LAPIC_VERSION ((uint32_t)(LVT_COUNT - 1) << 16 | 0x14)

/* Bits an LVT entry keeps when written. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_CMCI] = 0x107ff,  [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff,  [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

/* Bits 63:52 and 9, 7:0 of IA32_APIC_BASE are reserved. */
#define APIC_BASE_RESERVED (0xfff0000000000000ull | 0x2ffull)

/* Word @w (0-7) of the 256-bit register at @off (ISR, TMR, IRR). */
static uint32_t *vec_word(const struct vlapic *l, uint32_t off, int w)
{
	return &l->regs[(off >> 2) + 4 * w];
}

static bool test_bit(const struct vlapic *l, uint32_t off, int vec)
{
	return __atomic_load_n(vec_word(l, off, vec >> 5), __ATOMIC_RELAXED) &
	       (1u << (vec & 31));
}

static void set_bit_atomic(struct vlapic *l, uint32_t off, int vec)
{
	__atomic_fetch_or(vec_word(l, off, vec >> 5), 1u << (vec & 31),
			  __ATOMIC_SEQ_CST);
}

static void clear_bit_atomic(struct vlapic *l, uint32_t off, int vec)
{
	__atomic_fetch_and(vec_word(l, off, vec >> 5), ~(1u << (vec & 31)),
			   __ATOMIC_SEQ_CST);
}

static uint32_t inbox_word(const struct vlapic *l, uint32_t off, int w)
{
	if (off != LAPIC_IRR || !l->irr_inbox)
		return 0;
	return __atomic_load_n(&l->inbox[w], __ATOMIC_RELAXED);
}

/* Highest bit of a 256-bit register (IRR: with the inbox). */
static int highest_bit(const struct vlapic *l, uint32_t off)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w =
			__atomic_load_n(vec_word(l, off, i), __ATOMIC_RELAXED) |
			inbox_word(l, off, i);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static int lvt_index(uint32_t off)
{
	if (off == LAPIC_LVT_CMCI)
		return LVT_CMCI;
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR)
		return LVT_TIMER + (int)((off - LAPIC_LVT_TIMER) >> 4);
	return -1;
}

/* The ID register: bits 31:24 in xAPIC mode, all 32 in x2APIC mode. */
static uint32_t id_value(const struct vlapic *l)
{
	return vlapic_x2apic(l) ? l->id : l->id << 24;
}

static void set_x2apic_ldr(struct vlapic *l)
{
	vlapic_set_reg(l, LAPIC_LDR,
		       ((l->id >> 4) << 16) | (1u << (l->id & 15)));
}

/* Everything but the ID and APIC_BASE: reset values, the rest 0. */
static void reset_registers(struct vlapic *l)
{
	for (unsigned int i = 0; i < VLAPIC_REGS_WORDS; i++)
		__atomic_store_n(&l->regs[i], 0, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < 8; i++)
		__atomic_store_n(&l->inbox[i], 0, __ATOMIC_RELAXED);
	vlapic_set_reg(l, LAPIC_ID, id_value(l));
	vlapic_set_reg(l, LAPIC_VER, LAPIC_VERSION);
	vlapic_set_reg(l, LAPIC_SVR, 0xff);
	vlapic_set_reg(l, LAPIC_DFR, 0xffffffffu);
	for (int i = 0; i < LVT_COUNT; i++)
		vlapic_set_reg(l, vlapic_lvt_off(i), LVT_MASKED);
	l->esr_pending = 0;
	l->dirty = true;
	l->timer_mode = LVT_TIMER_ONESHOT;
	l->timer_start = l->timer_next = l->tsc_deadline = 0;
}

void vlapic_reset(struct vlapic *l, uint32_t id, bool bsp)
{
	l->id = id;
	l->base = VLAPIC_BASE_GPA | APIC_BASE_EN | (bsp ? APIC_BASE_BSP : 0);
	l->events = 0;
	l->sipi_vector = 0;
	l->regs = l->own;
	l->irr_inbox = false;
	reset_registers(l);
}

void vlapic_attach_regs(struct vlapic *l, uint32_t *page)
{
	for (unsigned int i = 0; i < VLAPIC_REGS_WORDS; i++)
		page[i] = l->regs[i];
	l->regs = page;
	l->irr_inbox = true;
}

unsigned int vlapic_sync_irr(struct vlapic *l)
{
	unsigned int moved = 0;

	if (!__atomic_exchange_n(&l->inbox_full, false, __ATOMIC_SEQ_CST))
		return 0;
	for (int i = 0; i < 8; i++) {
		uint32_t w;

		if (!__atomic_load_n(&l->inbox[i], __ATOMIC_RELAXED))
			continue;
		w = __atomic_exchange_n(&l->inbox[i], 0, __ATOMIC_SEQ_CST);
		__atomic_fetch_or(vec_word(l, LAPIC_IRR, i), w,
				  __ATOMIC_SEQ_CST);
		moved += (unsigned int)__builtin_popcount(w);
	}
	if (moved)
		l->dirty = true;
	return moved;
}

void vlapic_init_signal(struct vlapic *l)
{
	reset_registers(l);
	if (vlapic_x2apic(l))
		set_x2apic_ldr(l);
}

bool vlapic_hw_enabled(const struct vlapic *l)
{
	return l->base & APIC_BASE_EN;
}

bool vlapic_sw_enabled(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) &&
	       (vlapic_reg(l, LAPIC_SVR) & SVR_APIC_ENABLED);
}

bool vlapic_x2apic(const struct vlapic *l)
{
	return (l->base & (APIC_BASE_EN | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_EN | APIC_BASE_X2APIC);
}

bool vlapic_set_base(struct vlapic *l, uint64_t val)
{
	uint64_t old = l->base;
	bool was_x2 = vlapic_x2apic(l), was_en = old & APIC_BASE_EN;
	bool en = val & APIC_BASE_EN, x2 = val & APIC_BASE_X2APIC;

	if (val & APIC_BASE_RESERVED)
		return false;
	if (x2 && !en)
		return false; /* x2APIC set, enable clear: invalid */
	if (was_x2 && en && !x2)
		return false; /* x2APIC -> xAPIC directly */
	if (!was_en && en && x2)
		return false; /* disabled -> x2APIC directly */
	/* BSP is read-only. */
	l->base = (val & ~(uint64_t)APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if (was_en && !en) {
		reset_registers(l);
		l->events = 0;
	} else if (!was_x2 && vlapic_x2apic(l)) {
		/* x2APIC: the ID is 32 bits, the LDR derived, DFR gone. */
		vlapic_set_reg(l, LAPIC_ID, id_value(l));
		set_x2apic_ldr(l);
	}
	return true;
}

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isr = vlapic_highest_isr(l);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;
	uint32_t tpr = vlapic_reg(l, LAPIC_TPR) & 0xff;

	if ((tpr & 0xf0) >= (isrv & 0xf0))
		return tpr;
	return isrv & 0xf0;
}

int vlapic_highest_irr(const struct vlapic *l)
{
	return highest_bit(l, LAPIC_IRR);
}

int vlapic_highest_isr(const struct vlapic *l)
{
	return highest_bit(l, LAPIC_ISR);
}

int vlapic_pending_vector(const struct vlapic *l)
{
	int vec = vlapic_highest_irr(l);

	if (vec < 0 || !vlapic_sw_enabled(l))
		return -1;
	if (((uint32_t)vec & 0xf0) <= (vlapic_ppr(l) & 0xf0))
		return -1;
	return vec;
}

void vlapic_ack(struct vlapic *l, int vec)
{
	vlapic_sync_irr(l);
	l->dirty = true;
	clear_bit_atomic(l, LAPIC_IRR, vec);
	set_bit_atomic(l, LAPIC_ISR, vec);
}

/* After the ISR bit of @vec went: the vector for the I/O APIC, or -1. */
static int eoi_level(struct vlapic *l, int vec)
{
	if (vec < 0 || !test_bit(l, LAPIC_TMR, vec))
		return -1;
	clear_bit_atomic(l, LAPIC_TMR, vec);
	return vec;
}

static int do_eoi(struct vlapic *l)
{
	int vec = vlapic_highest_isr(l);

	if (vec >= 0)
		clear_bit_atomic(l, LAPIC_ISR, vec);
	l->dirty = true;
	return eoi_level(l, vec);
}

int vlapic_virtual_eoi(struct vlapic *l, int vec)
{
	if (vec < 0 || vec > 255)
		return -1;
	l->dirty = true;
	return eoi_level(l, vec);
}

void vlapic_eoi_exit_bitmap(const struct vlapic *l, uint64_t out[4])
{
	for (int i = 0; i < 4; i++)
		out[i] = __atomic_load_n(vec_word(l, LAPIC_TMR, 2 * i),
					 __ATOMIC_RELAXED) |
			 (uint64_t)__atomic_load_n(
				 vec_word(l, LAPIC_TMR, 2 * i + 1),
				 __ATOMIC_RELAXED)
				 << 32;
}

void vlapic_error(struct vlapic *l, uint32_t esr_bit)
{
	uint32_t lvt = vlapic_lvt(l, LVT_ERROR);

	__atomic_fetch_or(&l->esr_pending, esr_bit, __ATOMIC_RELAXED);
	/* The error LVT raises its vector (never an illegal one: no loop). */
	if (!(lvt & LVT_MASKED) && (lvt & LVT_VECTOR) >= 16)
		vlapic_accept(l, (uint8_t)(lvt & LVT_VECTOR), false);
}

bool vlapic_accept(struct vlapic *l, uint8_t vec, bool level)
{
	if (vec < 16) {
		vlapic_error(l, ESR_RECV_ILLEGAL_VEC);
		return false;
	}
	if (!vlapic_sw_enabled(l))
		return false;
	if (level)
		set_bit_atomic(l, LAPIC_TMR, vec);
	else
		clear_bit_atomic(l, LAPIC_TMR, vec);
	if (l->irr_inbox) {
		__atomic_fetch_or(&l->inbox[vec >> 5], 1u << (vec & 31),
				  __ATOMIC_SEQ_CST);
		__atomic_store_n(&l->inbox_full, true, __ATOMIC_SEQ_CST);
	} else
		set_bit_atomic(l, LAPIC_IRR, vec);
	return true;
}

void vlapic_post(struct vlapic *l, int ev, uint8_t vec)
{
	if (ev == VLAPIC_EV_SIPI)
		__atomic_store_n(&l->sipi_vector, vec, __ATOMIC_RELAXED);
	__atomic_fetch_or(&l->events, 1ul << ev, __ATOMIC_SEQ_CST);
}

bool vlapic_take(struct vlapic *l, int ev)
{
	return __atomic_fetch_and(&l->events, ~(1ul << ev), __ATOMIC_SEQ_CST) &
	       (1ul << ev);
}

bool vlapic_has_event(const struct vlapic *l, int ev)
{
	return __atomic_load_n(&l->events, __ATOMIC_SEQ_CST) & (1ul << ev);
}

bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical)
{
	uint32_t ldr = vlapic_reg(l, LAPIC_LDR);

	if (vlapic_x2apic(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == l->id;
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (l->id & 0xff);
	if ((vlapic_reg(l, LAPIC_DFR) >> 28) == 0xf) /* flat: 8-APIC bitmap */
		return dest & (ldr >> 24);
	/* Cluster model: cluster in bits 7:4, members in 3:0. */
	return ((dest >> 4) == 0xf || (dest >> 4) == (ldr >> 28)) &&
	       (dest & (ldr >> 24) & 0xf);
}

unsigned int vlapic_timer_divisor(uint32_t dcr)
{
	unsigned int v = ((dcr & 8) >> 1) | (dcr & 3);

	return v == 7 ? 1 : 2u << v;
}

static uint32_t timer_icr(const struct vlapic *l)
{
	return vlapic_reg(l, LAPIC_TIMER_ICR);
}

static uint64_t timer_period(const struct vlapic *l)
{
	return (uint64_t)timer_icr(l) *
	       vlapic_timer_divisor(vlapic_reg(l, LAPIC_TIMER_DCR));
}

static unsigned int timer_mode(const struct vlapic *l)
{
	return LVT_TIMER_MODE(vlapic_lvt(l, LVT_TIMER));
}

uint64_t vlapic_timer_next(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) ? l->timer_next : 0;
}

bool vlapic_timer_expire(struct vlapic *l, uint64_t now)
{
	uint32_t lvt = vlapic_lvt(l, LVT_TIMER);

	if (!l->timer_next || now < l->timer_next)
		return false;
	if (!(lvt & LVT_MASKED))
		vlapic_accept(l, (uint8_t)(lvt & LVT_VECTOR), false);
	if (timer_mode(l) == LVT_TIMER_PERIODIC && timer_icr(l)) {
		uint64_t p = timer_period(l);

		l->timer_next += p;
		if (l->timer_next <= now) /* missed periods are dropped */
			l->timer_next = now + p;
	} else {
		l->timer_next = 0;
		if (timer_mode(l) == LVT_TIMER_TSCDL)
			l->tsc_deadline = 0;
	}
	return true;
}

static uint32_t timer_ccr(const struct vlapic *l, uint64_t now)
{
	uint32_t icr = timer_icr(l);
	uint64_t ticks;

	if (!icr || timer_mode(l) == LVT_TIMER_TSCDL || now < l->timer_start)
		return timer_mode(l) == LVT_TIMER_TSCDL ? 0 : icr;
	ticks = (now - l->timer_start) /
		vlapic_timer_divisor(vlapic_reg(l, LAPIC_TIMER_DCR));
	if (timer_mode(l) == LVT_TIMER_PERIODIC)
		return icr - (uint32_t)(ticks % icr);
	if (!l->timer_next || ticks >= icr)
		return 0;
	return icr - (uint32_t)ticks;
}

static void timer_load(struct vlapic *l, uint32_t count, uint64_t now)
{
	if (timer_mode(l) == LVT_TIMER_TSCDL) {
		/* The count is ignored in TSC-deadline mode: it stays 0. */
		vlapic_set_reg(l, LAPIC_TIMER_ICR, 0);
		return;
	}
	vlapic_set_reg(l, LAPIC_TIMER_ICR, count);
	l->timer_start = now;
	l->timer_next = count ? now + timer_period(l) : 0;
}

uint64_t vlapic_tsc_deadline_read(const struct vlapic *l)
{
	return timer_mode(l) == LVT_TIMER_TSCDL ? l->tsc_deadline : 0;
}

void vlapic_tsc_deadline_write(struct vlapic *l, uint64_t val)
{
	if (timer_mode(l) != LVT_TIMER_TSCDL)
		return;
	l->tsc_deadline = val;
	l->timer_next = val;
}

static void write_lvt(struct vlapic *l, int idx, uint32_t val)
{
	val &= lvt_writable[idx];
	if (idx == LVT_TIMER && LVT_TIMER_MODE(val) == 3)
		val &= ~(3u << 17); /* reserved mode: treated as one-shot */
	if (!(vlapic_reg(l, LAPIC_SVR) & SVR_APIC_ENABLED))
		val |= LVT_MASKED;
	vlapic_set_reg(l, vlapic_lvt_off(idx), val);
	/*
	 * Switching modes disarms the timer.  The mode before the write is
	 * remembered apart: with APIC virtualization the CPU has already
	 * stored the new value in the register (vlapic_apic_write).
	 */
	if (idx == LVT_TIMER && l->timer_mode != timer_mode(l)) {
		l->timer_mode = (uint8_t)timer_mode(l);
		l->timer_next = 0;
		vlapic_set_reg(l, LAPIC_TIMER_ICR, 0);
		l->tsc_deadline = 0;
	}
}

static void write_svr(struct vlapic *l, uint32_t val)
{
	l->dirty = true;
	vlapic_set_reg(l, LAPIC_SVR, val & 0x1ff);
	if (!(val & SVR_APIC_ENABLED))
		for (int i = 0; i < LVT_COUNT; i++)
			vlapic_set_reg(l, vlapic_lvt_off(i),
				       vlapic_lvt(l, i) | LVT_MASKED);
}

/*
 * Registers whose value is what was last stored in the file (the ID is
 * put back on a write): what an APIC-write exit can report, with EOI.
 */
static bool stored_reg(uint32_t off)
{
	if (lvt_index(off) >= 0)
		return true;
	switch (off) {
	case LAPIC_ID:
	case LAPIC_TPR:
	case LAPIC_LDR:
	case LAPIC_DFR:
	case LAPIC_SVR:
	case LAPIC_ESR:
	case LAPIC_ICR:
	case LAPIC_ICR2:
	case LAPIC_TIMER_ICR:
	case LAPIC_TIMER_DCR:
		return true;
	}
	return false;
}

uint32_t vlapic_read(struct vlapic *l, uint32_t off, uint64_t now)
{
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80)
		return vlapic_reg(l, off) |
		       inbox_word(l, LAPIC_IRR, (int)(off - LAPIC_IRR) >> 4);
	if (stored_reg(off) || off == LAPIC_VER ||
	    (off >= LAPIC_ISR && off < LAPIC_IRR))
		return vlapic_reg(l, off);
	switch (off) {
	case LAPIC_PPR:
		return vlapic_ppr(l);
	case LAPIC_TIMER_CCR:
		return timer_ccr(l, now);
	}
	return 0; /* APR, RRD, reserved: read as 0 */
}

void vlapic_write(struct vlapic *l, uint32_t off, uint32_t val, uint64_t now,
		  struct vlapic_effect *e)
{
	int lvt = lvt_index(off);

	*e = (struct vlapic_effect){.eoi_level_vec = -1};
	if (lvt >= 0) {
		write_lvt(l, lvt, val);
		return;
	}
	switch (off) {
	case LAPIC_ID:
		/* Read-only here: keep (or put back) the real ID. */
		vlapic_set_reg(l, LAPIC_ID, id_value(l));
		break;
	case LAPIC_TPR:
		vlapic_set_reg(l, LAPIC_TPR, val & 0xff);
		break;
	case LAPIC_EOI:
		vlapic_set_reg(l, LAPIC_EOI, 0);
		e->eoi_level_vec = do_eoi(l);
		break;
	case LAPIC_LDR:
		if (!vlapic_x2apic(l))
			vlapic_set_reg(l, LAPIC_LDR, val & 0xff000000u);
		break;
	case LAPIC_DFR:
		if (!vlapic_x2apic(l))
			vlapic_set_reg(l, LAPIC_DFR, val | 0x0fffffffu);
		break;
	case LAPIC_SVR:
		write_svr(l, val);
		break;
	case LAPIC_ESR:
		vlapic_set_reg(l, LAPIC_ESR,
			       __atomic_exchange_n(&l->esr_pending, 0,
						   __ATOMIC_RELAXED));
		break;
	case LAPIC_ICR:
		vlapic_set_reg(l, LAPIC_ICR,
			       val & ~(uint32_t)ICR_BUSY & 0x000ccfffu);
		e->send_ipi = true;
		break;
	case LAPIC_ICR2:
		vlapic_set_reg(l, LAPIC_ICR2, val & 0xff000000u);
		break;
	case LAPIC_TIMER_ICR:
		timer_load(l, val, now);
		break;
	case LAPIC_TIMER_DCR:
		vlapic_set_reg(l, LAPIC_TIMER_DCR, val & 0xb);
		break;
	default:
		/* Version, PPR, ISR/TMR/IRR, CCR: read-only, dropped. */
		break;
	}
}

/* The registers an APIC-write VM exit can report (SDM, "APIC-Write
 * Emulation"): the value is in the register already. */
void vlapic_apic_write(struct vlapic *l, uint32_t off, uint64_t now,
		       struct vlapic_effect *e)
{
	uint32_t val = vlapic_reg(l, off);

	*e = (struct vlapic_effect){.eoi_level_vec = -1};
	if (!stored_reg(off) && off != LAPIC_EOI)
		return; /* not a register the CPU writes through */
	vlapic_write(l, off, val, now, e);
}

/* x2APIC registers a RDMSR may read. */
static bool x2_readable(uint32_t off)
{
	if (lvt_index(off) >= 0)
		return true;
	if (off >= LAPIC_ISR && off < LAPIC_IRR + 0x80)
		return true;
	switch (off) {
	case LAPIC_ID:
	case LAPIC_VER:
	case LAPIC_TPR:
	case LAPIC_PPR:
	case LAPIC_LDR:
	case LAPIC_SVR:
	case LAPIC_ESR:
	case LAPIC_ICR:
	case LAPIC_TIMER_ICR:
	case LAPIC_TIMER_CCR:
	case LAPIC_TIMER_DCR:
		return true;
	}
	return false;
}

bool vlapic_x2apic_read_direct(uint32_t msr)
{
	uint32_t off = (msr - 0x800) << 4;

	if (msr < 0x800 || msr > 0x8ff || !x2_readable(off))
		return false;
	return off != LAPIC_TIMER_CCR && off != LAPIC_PPR && off != LAPIC_ICR;
}

bool vlapic_x2apic_write_direct(uint32_t msr)
{
	uint32_t off = (msr - 0x800) << 4;

	return msr >= 0x800 && msr <= 0x8ff &&
	       (off == LAPIC_TPR || off == LAPIC_EOI || off == LAPIC_SELF_IPI);
}

bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now,
		     uint64_t *val)
{
	uint32_t off = (msr - 0x800) << 4;

	if (!vlapic_x2apic(l) || msr < 0x800 || msr > 0x8ff ||
	    !x2_readable(off))
		return false;
	*val = vlapic_read(l, off, now);
	if (off == LAPIC_ICR)
		*val |= (uint64_t)vlapic_reg(l, LAPIC_ICR2) << 32;
	return true;
}

bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val,
		      uint64_t now, struct vlapic_effect *e)
{
	uint32_t off = (msr - 0x800) << 4;

	*e = (struct vlapic_effect){.eoi_level_vec = -1};
	if (!vlapic_x2apic(l) || msr < 0x800 || msr > 0x8ff)
		return false;
	if (off == LAPIC_ICR) {
		vlapic_set_reg(l, LAPIC_ICR2, (uint32_t)(val >> 32));
		vlapic_set_reg(l, LAPIC_ICR, (uint32_t)val & 0x000ccfffu);
		e->send_ipi = true;
		return true;
	}
	if (val >> 32)
		return false;
	switch (off) {
	case LAPIC_EOI:
	case LAPIC_ESR:
		if (val)
			return false; /* only 0 may be written */
		break;
	case LAPIC_SELF_IPI:
		if (val & ~0xffull)
			return false;
		vlapic_accept(l, (uint8_t)val, false);
		return true;
	case LAPIC_TPR:
	case LAPIC_SVR:
	case LAPIC_TIMER_ICR:
	case LAPIC_TIMER_DCR:
		break;
	default:
		if (lvt_index(off) < 0)
			return false; /* read-only or not there */
	}
	vlapic_write(l, off, (uint32_t)val, now, e);
	return true;
}
