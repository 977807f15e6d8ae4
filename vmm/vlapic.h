/* SPDX-License-Identifier: MIT */
/*
 * The register model of one emulated local APIC (xAPIC and x2APIC), with
 * no VMX in it: registers, priorities (TPR/PPR, IRR/ISR), EOI, LVTs, the
 * timer's arithmetic and destination matching.  vmm/intr.c connects it to
 * a vCPU (MMIO page, MSRs, injection, IPIs, HLT).
 *
 * Concurrency: IRR/TMR bits and the pending NMI/INIT/SIPI events are set
 * by any CPU with atomic operations (vlapic_accept, vlapic_post);
 * everything else belongs to the vCPU's own CPU.
 *
 * The timer counts at the TSC rate divided by the divide configuration,
 * so every time here is a TSC value.  Portable: host-tested
 * (tests/host/test_vlapic.c).
 */
#ifndef TIDAL_VMM_VLAPIC_H
#define TIDAL_VMM_VLAPIC_H

#include "lib/compiler.h"

#define VLAPIC_BASE_GPA 0xfee00000u /* xAPIC page, default APIC_BASE */

/* IA32_APIC_BASE bits. */
#define APIC_BASE_BSP	 BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_EN	 BIT(11)

/* Register offsets in the xAPIC page (x2APIC MSR = 0x800 + off / 16). */
enum {
	LAPIC_ID = 0x20,
	LAPIC_VER = 0x30,
	LAPIC_TPR = 0x80,
	LAPIC_APR = 0x90,
	LAPIC_PPR = 0xa0,
	LAPIC_EOI = 0xb0,
	LAPIC_RRD = 0xc0,
	LAPIC_LDR = 0xd0,
	LAPIC_DFR = 0xe0,
	LAPIC_SVR = 0xf0,
	LAPIC_ISR = 0x100,
	LAPIC_TMR = 0x180,
	LAPIC_IRR = 0x200,
	LAPIC_ESR = 0x280,
	LAPIC_LVT_CMCI = 0x2f0,
	LAPIC_ICR = 0x300,
	LAPIC_ICR2 = 0x310,
	LAPIC_LVT_TIMER = 0x320,
	LAPIC_LVT_THERMAL = 0x330,
	LAPIC_LVT_PERF = 0x340,
	LAPIC_LVT_LINT0 = 0x350,
	LAPIC_LVT_LINT1 = 0x360,
	LAPIC_LVT_ERROR = 0x370,
	LAPIC_TIMER_ICR = 0x380,
	LAPIC_TIMER_CCR = 0x390,
	LAPIC_TIMER_DCR = 0x3e0,
	LAPIC_SELF_IPI = 0x3f0, /* x2APIC only */
};

/* LVT indexes (vlapic_lvt()). */
enum lvt_index {
	LVT_CMCI,
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_COUNT,
};

#define LVT_VECTOR	   0xffu
#define LVT_DM(l)	   (((l) >> 8) & 7)
#define LVT_PENDING	   BIT(12)
#define LVT_LEVEL	   BIT(15)
#define LVT_MASKED	   BIT(16)
#define LVT_TIMER_MODE(l)  (((l) >> 17) & 3)
#define LVT_TIMER_ONESHOT  0
#define LVT_TIMER_PERIODIC 1
#define LVT_TIMER_TSCDL	   2

#define SVR_APIC_ENABLED BIT(8)

/* ICR low word. */
#define ICR_VECTOR(i)	 ((i)&0xff)
#define ICR_DM(i)	 (((i) >> 8) & 7)
#define ICR_LOGICAL	 BIT(11)
#define ICR_BUSY	 BIT(12)
#define ICR_ASSERT	 BIT(14)
#define ICR_LEVEL	 BIT(15)
#define ICR_SHORTHAND(i) (((i) >> 18) & 3)
enum { ICR_DEST = 0, ICR_SELF = 1, ICR_ALL = 2, ICR_OTHERS = 3 };

/* ESR bits tidal sets. */
#define ESR_SEND_ILLEGAL_VEC BIT(5)
#define ESR_RECV_ILLEGAL_VEC BIT(6)
#define ESR_ILLEGAL_REG	     BIT(7)

/* Pending events other than fixed interrupts (vlapic.events). */
enum {
	VLAPIC_EV_NMI = 0,
	VLAPIC_EV_INIT = 1,
	VLAPIC_EV_SIPI = 2,
};

/*
 * The register file: the xAPIC page layout (a 32-bit register at each
 * 16-byte offset), 0x000-0x3ff.  Every architectural register lives here
 * and nowhere else: regs points at own[], or, with APIC virtualization,
 * at the vCPU's virtual-APIC page (vlapic_attach_regs), where the CPU
 * reads and updates TPR, IRR, ISR, PPR and EOI itself.
 */
#define VLAPIC_REGS_WORDS 256

struct vlapic {
	uint32_t id;	      /* APIC ID (the vCPU's index) */
	uint64_t base;	      /* IA32_APIC_BASE */
	uint32_t esr_pending; /* errors since the last ESR write */
	unsigned long events; /* atomic: VLAPIC_EV_* */
	uint8_t sipi_vector;
	/* Timer: when the count was loaded, when it fires next. */
	uint64_t timer_start, timer_next; /* TSC; timer_next 0: not armed */
	uint64_t tsc_deadline;		  /* IA32_TSC_DEADLINE */
	uint8_t timer_mode;		  /* the LVT timer's mode, as applied */
	/*
	 * With the virtual-APIC page attached, other CPUs do not set IRR
	 * bits in it (the CPU may be updating VIRR in guest mode): they set
	 * them here, atomically, and the owner moves them to the page before
	 * it enters (vlapic_sync_irr).  IRR is the page's bits and these.
	 */
	bool irr_inbox;
	uint32_t inbox[8];
	bool inbox_full; /* atomic: a bit was put in the inbox */
	/* The owner changed IRR, ISR, TMR or SVR (APICv: RVI/SVI to redo). */
	bool dirty;
	uint32_t *regs; /* own[] or the virtual-APIC page */
	uint32_t own[VLAPIC_REGS_WORDS];
};

/* The register at xAPIC page offset @off (IRR/TMR words: any CPU). */
static inline uint32_t vlapic_reg(const struct vlapic *l, uint32_t off)
{
	return __atomic_load_n(&l->regs[(off & 0x3f0) >> 2], __ATOMIC_RELAXED);
}

static inline void vlapic_set_reg(struct vlapic *l, uint32_t off, uint32_t v)
{
	__atomic_store_n(&l->regs[(off & 0x3f0) >> 2], v, __ATOMIC_RELAXED);
}

/* xAPIC page offset of LVT @idx. */
static inline uint32_t vlapic_lvt_off(int idx)
{
	return idx == LVT_CMCI ? LAPIC_LVT_CMCI
			       : LAPIC_LVT_TIMER + 16u * (uint32_t)(idx - 1);
}

static inline uint32_t vlapic_lvt(const struct vlapic *l, int idx)
{
	return vlapic_reg(l, vlapic_lvt_off(idx));
}

/* What a register write asks the caller to do. */
struct vlapic_effect {
	int eoi_level_vec; /* EOI of a level-triggered vector, or -1 */
	bool send_ipi;	   /* ICR written: deliver icr_lo/icr_hi */
	bool gp;	   /* x2APIC: the write raises #GP */
};

/* Power-on/INIT state; @bsp sets APIC_BASE.BSP.  Registers in own[]. */
void vlapic_reset(struct vlapic *l, uint32_t id, bool bsp);
/*
 * Move the register file to @page (4 KiB, zeroed; the virtual-APIC
 * page): the registers are copied, and from now on live there.
 */
void vlapic_attach_regs(struct vlapic *l, uint32_t *page);
/* INIT: everything but APIC_BASE and the ID back to its reset value. */
void vlapic_init_signal(struct vlapic *l);

bool vlapic_hw_enabled(const struct vlapic *l);
bool vlapic_sw_enabled(const struct vlapic *l);
bool vlapic_x2apic(const struct vlapic *l);

/*
 * IA32_APIC_BASE write: false when the architecture refuses it (#GP:
 * reserved bits, x2APIC without enable, x2APIC back to xAPIC).
 */
bool vlapic_set_base(struct vlapic *l, uint64_t val);

/* xAPIC page access, 32 bits at a 16-byte aligned @off. */
uint32_t vlapic_read(struct vlapic *l, uint32_t off, uint64_t now);
void vlapic_write(struct vlapic *l, uint32_t off, uint32_t val, uint64_t now,
		  struct vlapic_effect *e);
/* x2APIC MSRs 0x800-0x8ff; false: #GP. */
bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now,
		     uint64_t *val);
bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val,
		      uint64_t now, struct vlapic_effect *e);

/* Priorities. */
uint32_t vlapic_ppr(const struct vlapic *l);
/* Highest vector in IRR (ISR), or -1. */
int vlapic_highest_irr(const struct vlapic *l);
int vlapic_highest_isr(const struct vlapic *l);
/* The vector the local APIC would present to the CPU now, or -1. */
int vlapic_pending_vector(const struct vlapic *l);
/* The CPU takes @vec: IRR -> ISR. */
void vlapic_ack(struct vlapic *l, int vec);

/* Any CPU: a fixed interrupt arrives (false: illegal vector, dropped). */
bool vlapic_accept(struct vlapic *l, uint8_t vec, bool level);
/* Record an ESR error bit and raise the error LVT's interrupt. */
void vlapic_error(struct vlapic *l, uint32_t esr_bit);
/* Any CPU: an NMI, INIT or SIPI (@vec) arrives. */
void vlapic_post(struct vlapic *l, int ev, uint8_t vec);
/* The owner: take a posted event (true if it was pending). */
bool vlapic_take(struct vlapic *l, int ev);
bool vlapic_has_event(const struct vlapic *l, int ev);

/*
 * APIC virtualization (vmm/apicv.c).  The CPU has already written the
 * register at @off (an APIC-write VM exit): apply what the write means,
 * as vlapic_write() would, leaving the register with its proper value.
 */
void vlapic_apic_write(struct vlapic *l, uint32_t off, uint64_t now,
		       struct vlapic_effect *e);
/*
 * The CPU completed a virtualized EOI of @vec (it cleared the ISR bit):
 * the level-triggered vector to pass to the I/O APIC, or -1.
 */
int vlapic_virtual_eoi(struct vlapic *l, int vec);
/*
 * The owner, outside guest mode: move the inbox's IRR bits to the page;
 * returns how many vectors it moved (interrupts for the CPU to deliver).
 */
unsigned int vlapic_sync_irr(struct vlapic *l);
/*
 * The EOI-exit bitmap: the vectors whose EOI the I/O APIC must see, the
 * level-triggered ones (the TMR).  256 bits in four words.
 */
void vlapic_eoi_exit_bitmap(const struct vlapic *l, uint64_t out[4]);

/*
 * x2APIC MSRs the CPU may serve from the register file without an exit
 * when it virtualizes x2APIC mode (the MSR bitmap's holes): reads of
 * registers kept there (not the current count, PPR or the 64-bit ICR),
 * and writes of TPR, EOI and SELF IPI, which the CPU virtualizes.
 */
bool vlapic_x2apic_read_direct(uint32_t msr);
bool vlapic_x2apic_write_direct(uint32_t msr);

/* Does a message for @dest (@logical mode) reach this local APIC? */
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical);

/* Timer: TSC of the next expiry, or 0 when not armed. */
uint64_t vlapic_timer_next(const struct vlapic *l);
/*
 * At @now: if the timer expired, raise its LVT vector (unless masked),
 * re-arm a periodic one, and return true.
 */
bool vlapic_timer_expire(struct vlapic *l, uint64_t now);
/* IA32_TSC_DEADLINE: reads 0 and ignores writes outside TSC-deadline
 * mode; a write of 0 disarms. */
uint64_t vlapic_tsc_deadline_read(const struct vlapic *l);
void vlapic_tsc_deadline_write(struct vlapic *l, uint64_t val);
/* TSC cycles per timer count for a divide configuration value. */
unsigned int vlapic_timer_divisor(uint32_t dcr);

#endif
