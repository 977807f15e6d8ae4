// SPDX-License-Identifier: MIT
/*
 * The x86 instruction emulator for MMIO and string I/O.
 *
 * It runs when the guest touched a device register (an EPT violation on a
 * registered MMIO region) or executed INS/OUTS.  It decodes the one
 * instruction at CS:RIP, walks the guest's page tables for every
 * guest-virtual address, performs the access through struct emu_ops and
 * updates registers, flags and RIP as the CPU would have.
 *
 * Forms accepted (16-, 32- and 64-bit code; prefixes 66 67 F0 F2 F3, the
 * six segment overrides, REX; every ModRM/SIB addressing mode with 8/16/32
 * bit displacements, RIP-relative in 64-bit mode, 16-bit addressing):
 *
 *   88 89 8A 8B       MOV r/m,reg / MOV reg,r/m
 *   C6 /0 C7 /0       MOV r/m,imm (imm32 sign-extended for 64-bit)
 *   A0 A1 A2 A3       MOV AL/AX/EAX/RAX <-> moffs (moffs of address size)
 *   0F B6 0F B7       MOVZX reg, r/m8 / r/m16
 *   0F BE 0F BF       MOVSX reg, r/m8 / r/m16
 *   63                MOVSXD reg, r/m32 (64-bit mode only)
 *   00-03 08-0B 10-13 18-1B 20-23 28-2B 30-33 38-3B
 *                     ADD OR ADC SBB AND SUB XOR CMP with a memory operand
 *   80 81 83 /0-/7    the same with an immediate
 *   84 85, F6 F7 /0   TEST r/m,reg / TEST r/m,imm
 *   86 87             XCHG r/m,reg
 *   AA AB AC AD A4 A5 STOS LODS MOVS, with or without REP (F3 or F2)
 *   6C 6D 6E 6F       INS OUTS, with or without REP
 *
 * LOCK is accepted on the read-modify-write forms and raises #UD on the
 * others.  Anything else (a register-only ModRM, another opcode, 5-level
 * paging) is refused with EMU_UNHANDLED and a reason: the caller stops
 * the VM naming the bytes.  Faults follow the SDM: segment limit, type
 * and unusable checks outside 64-bit mode and the canonical check inside
 * it give #GP(0) (#SS(0) for SS); a failed page walk gives #PF with the
 * error code (P, W, U, RSVD, I) and CR2; an instruction over 15 bytes
 * gives #GP(0).  A REP instruction that faults part-way leaves RCX, RSI
 * and RDI as they are after the last completed iteration, with RIP still
 * on the instruction.  A long REP stops after ctx->max_iterations
 * (default 4096) with the same state, and the guest executes it again to
 * go on, as after an interrupt.
 *
 * Not modelled: CMPS/SCAS, SSE/AVX moves, protection keys, 5-level paging,
 * the TLB (each access walks the tables), I/O permission checks (the CPU
 * makes them before the VM exit), the wrap of a 32-bit access that
 * crosses 4 GiB in a 4 GiB segment (it raises #GP(0) here).
 */
#include "vmm/emulate.h"

#include "lib/string.h"

#define CR0_PE	  BIT(0)
#define CR0_WP	  BIT(16)
#define CR0_PG	  BIT(31)
#define CR4_PSE	  BIT(4)
#define CR4_PAE	  BIT(5)
#define CR4_LA57  BIT(12)
#define CR4_SMEP  BIT(20)
#define CR4_SMAP  BIT(21)
#define EFER_LMA  BIT(10)
#define EFER_NXE  BIT(11)
#define RFL_CF	  BIT(0)
#define RFL_PF	  BIT(2)
#define RFL_AF	  BIT(4)
#define RFL_ZF	  BIT(6)
#define RFL_SF	  BIT(7)
#define RFL_DF	  BIT(10)
#define RFL_OF	  BIT(11)
#define RFL_RF	  BIT(16)
#define RFL_VM	  BIT(17)
#define RFL_AC	  BIT(18)
#define RFL_ARITH (RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF)

#define AR_TYPE_CODE  BIT(3)
#define AR_TYPE_RW    BIT(1) /* data: writable; code: readable */
#define AR_TYPE_EDOWN BIT(2) /* data: expand-down */
#define AR_S	      BIT(4)
#define AR_L	      BIT(13)
#define AR_DB	      BIT(14)
#define AR_UNUSABLE   BIT(16)

#define PTE_P  BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_A  BIT(5)
#define PTE_D  BIT(6)
#define PTE_PS BIT(7)
#define PTE_XD BIT(63)

#define MAX_INSN_LEN	  15
#define DEFAULT_MAX_ITERS 4096
#define REFUSAL_BYTES	  8

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

static enum emu_result unhandled(struct emu_ctx *c, const char *why)
{
	c->why = why;
	return EMU_UNHANDLED;
}

static enum emu_result fault(struct emu_ctx *c, uint8_t vector, bool has_error,
			     uint32_t error, uint64_t cr2)
{
	c->fault = (struct emu_fault){vector, has_error, error, cr2};
	return EMU_FAULT;
}

static unsigned int cpl(const struct emu_state *st)
{
	if (!(st->cr0 & CR0_PE))
		return 0;
	if (st->rflags & RFL_VM)
		return 3;
	return (st->seg[EMU_SS].ar >> 5) & 3;
}

unsigned int emu_code_size(const struct emu_state *st)
{
	uint32_t cs = st->seg[EMU_CS].ar;

	if (!(st->cr0 & CR0_PE) || (st->rflags & RFL_VM))
		return 2;
	if ((st->efer & EFER_LMA) && (cs & AR_L))
		return 8;
	return cs & AR_DB ? 4 : 2;
}

/* ---- guest page-table walk ---- */

struct walk {
	bool wide; /* 8-byte entries */
	int levels;
	uint64_t table;
	uint64_t entry_gpa[5];
	uint64_t entry[5];
	int n;
};

static uint64_t addr_mask(const struct emu_state *st)
{
	unsigned int w = st->maxphyaddr;

	if (w < 32 || w > 52)
		w = 52;
	return (BIT(w) - 1) & ~0xfffull;
}

/* Bits that must be zero in an 8-byte entry: above MAXPHYADDR, XD w/o NXE */
static bool reserved_wide(const struct emu_state *st, uint64_t e)
{
	uint64_t rsvd = ~(BIT(st->maxphyaddr < 32 || st->maxphyaddr > 52
				      ? 52
				      : st->maxphyaddr) -
			  1) &
			(BIT(52) - 1);

	if (!(st->efer & EFER_NXE))
		rsvd |= PTE_XD;
	return e & rsvd;
}

static int read_entry(struct emu_ctx *c, struct walk *w, uint64_t gpa,
		      uint64_t *e)
{
	uint32_t e32;
	int rc;

	*e = 0;
	if (w->wide)
		rc = c->ops->read_phys(c->ops->ctx, gpa, e, 8, false);
	else
		rc = c->ops->read_phys(c->ops->ctx, gpa, &e32, 4, false);
	if (!w->wide)
		*e = rc ? 0 : e32;
	return rc;
}

/* Set accessed bits on every level and dirty on the leaf for a write. */
static void set_ad(struct emu_ctx *c, const struct walk *w, bool write)
{
	for (int i = 0; i < w->n; i++) {
		uint64_t e = w->entry[i] | PTE_A;

		if (write && i == w->n - 1)
			e |= PTE_D;
		if (e == w->entry[i])
			continue;
		if (w->wide) {
			c->ops->write_phys(c->ops->ctx, w->entry_gpa[i], &e, 8,
					   false);
		} else {
			uint32_t e32 = (uint32_t)e;

			c->ops->write_phys(c->ops->ctx, w->entry_gpa[i], &e32,
					   4, false);
		}
	}
}

static enum emu_result walk_start(struct emu_ctx *c, uint64_t la,
				  struct walk *w, uint32_t err)
{
	const struct emu_state *st = c->st;

	memset(w, 0, sizeof(*w));
	if (st->efer & EFER_LMA) {
		if (st->cr4 & CR4_LA57)
			return unhandled(c, "5-level guest paging");
		w->wide = true;
		w->levels = 4;
		w->table = st->cr3 & addr_mask(st);
	} else if (st->cr4 & CR4_PAE) {
		uint64_t pdpte = st->pdpte[(la >> 30) & 3];

		if (!(pdpte & PTE_P))
			return fault(c, EMU_VEC_PF, true, err, la);
		if (reserved_wide(c->st, pdpte & ~PTE_XD) ||
		    (pdpte & (PTE_RW | PTE_US | 0x1e0)))
			return fault(c, EMU_VEC_PF, true,
				     err | EMU_PF_P | EMU_PF_RSVD, la);
		w->wide = true;
		w->levels = 2;
		w->table = pdpte & addr_mask(st);
	} else {
		w->levels = 2;
		w->table = st->cr3 & 0xfffff000ull;
	}
	return EMU_DONE;
}

/* Is this entry at @level (1 = PT) a large leaf? */
static bool is_large(const struct emu_state *st, const struct walk *w,
		     int level, uint64_t e)
{
	if (!(e & PTE_PS) || level == 1)
		return false;
	if (!w->wide)
		return level == 2 && (st->cr4 & CR4_PSE);
	return level <= 3;
}

/* Frame of a leaf at @level: the GPA of byte 0 of its page. */
static uint64_t leaf_base(const struct emu_state *st, const struct walk *w,
			  int level, uint64_t e, uint64_t *rsvd)
{
	*rsvd = 0;
	if (!w->wide) {
		if (level == 1)
			return e & 0xfffff000ull;
		/* 4 MiB page; PSE-36 puts address bits 39:32 in 20:13. */
		*rsvd = e & BIT(21);
		return (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
	}
	if (level == 1)
		return e & addr_mask(st);
	uint64_t size = BIT(12 + 9 * (level - 1));

	*rsvd = e & (size - 1) & ~0x1fffull;
	return e & addr_mask(st) & ~(size - 1);
}

static uint32_t pf_error(const struct emu_state *st, enum emu_access kind)
{
	uint32_t err = 0;

	if (kind == EMU_WRITE)
		err |= EMU_PF_W;
	if (cpl(st) == 3)
		err |= EMU_PF_U;
	if (kind == EMU_FETCH &&
	    (((st->efer & EFER_NXE) && (st->cr4 & CR4_PAE)) ||
	     (st->cr4 & CR4_SMEP)))
		err |= EMU_PF_I;
	return err;
}

/* Permission checks once the walk reached a leaf. */
static bool walk_allows(const struct emu_state *st, enum emu_access kind,
			bool us, bool rw, bool xd)
{
	bool user = cpl(st) == 3;

	if (user && !us)
		return false;
	if (kind == EMU_WRITE && !rw && (user || (st->cr0 & CR0_WP)))
		return false;
	if (kind == EMU_FETCH) {
		if (xd)
			return false;
		if (!user && us && (st->cr4 & CR4_SMEP))
			return false;
	} else if (!user && us && (st->cr4 & CR4_SMAP) &&
		   !(st->rflags & RFL_AC)) {
		return false;
	}
	return true;
}

enum emu_result emu_translate(struct emu_ctx *c, uint64_t la,
			      enum emu_access kind, uint64_t *gpa)
{
	const struct emu_state *st = c->st;
	uint32_t err = pf_error(st, kind);
	bool us = true, rw = true, xd = false;
	struct walk w;
	enum emu_result r;

	if (!(st->cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffull;
		return EMU_DONE;
	}
	r = walk_start(c, la, &w, err);
	if (r != EMU_DONE)
		return r;
	for (int level = w.levels;; level--) {
		unsigned int shift = 12 + (w.wide ? 9 : 10) * (level - 1);
		unsigned int idx = (la >> shift) & (w.wide ? 511 : 1023);
		uint64_t egpa = w.table + idx * (w.wide ? 8 : 4), e, rsvd;

		if (read_entry(c, &w, egpa, &e)) {
			c->bad_gpa = egpa;
			c->has_bad_gpa = true;
			return unhandled(c, "guest page table outside RAM");
		}
		w.entry_gpa[w.n] = egpa;
		w.entry[w.n++] = e;
		if (!(e & PTE_P))
			return fault(c, EMU_VEC_PF, true, err, la);
		if (w.wide &&
		    (reserved_wide(st, e) || (level == 4 && (e & PTE_PS))))
			return fault(c, EMU_VEC_PF, true,
				     err | EMU_PF_P | EMU_PF_RSVD, la);
		us = us && (e & PTE_US);
		rw = rw && (e & PTE_RW);
		xd = xd || (w.wide && (st->efer & EFER_NXE) && (e & PTE_XD));
		if (level == 1 || is_large(st, &w, level, e)) {
			uint64_t base = leaf_base(st, &w, level, e, &rsvd);

			if (rsvd)
				return fault(c, EMU_VEC_PF, true,
					     err | EMU_PF_P | EMU_PF_RSVD, la);
			if (!walk_allows(st, kind, us, rw, xd))
				return fault(c, EMU_VEC_PF, true,
					     err | EMU_PF_P, la);
			set_ad(c, &w, kind == EMU_WRITE);
			*gpa = base | (la & (BIT(shift) - 1));
			return EMU_DONE;
		}
		w.table = w.wide ? e & addr_mask(st) : e & 0xfffff000ull;
	}
}

/* ---- segmentation and memory access ---- */

static enum emu_result seg_fault(struct emu_ctx *c, unsigned int seg)
{
	return fault(c, seg == EMU_SS ? EMU_VEC_SS : EMU_VEC_GP, true, 0, 0);
}

static bool canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* Linear address of @size bytes at @seg:@off, with the SDM's checks. */
static enum emu_result linear(struct emu_ctx *c, unsigned int seg, uint64_t off,
			      unsigned int size, enum emu_access kind,
			      uint64_t *la)
{
	const struct emu_state *st = c->st;
	const struct emu_segment *s = &st->seg[seg];

	if (emu_code_size(st) == 8) {
		uint64_t base = seg == EMU_FS || seg == EMU_GS ? s->base : 0;

		*la = base + off;
		if (!canonical(*la) || !canonical(*la + size - 1))
			return seg_fault(c, seg);
		return EMU_DONE;
	}
	bool prot = (st->cr0 & CR0_PE) && !(st->rflags & RFL_VM);

	if (prot && kind != EMU_FETCH) {
		bool code = s->ar & AR_TYPE_CODE;

		if ((s->ar & AR_UNUSABLE) || !(s->ar & AR_S))
			return seg_fault(c, seg);
		if (kind == EMU_WRITE && (code || !(s->ar & AR_TYPE_RW)))
			return seg_fault(c, seg);
		if (kind == EMU_READ && code && !(s->ar & AR_TYPE_RW))
			return seg_fault(c, seg);
	}
	uint64_t last = off + size - 1;

	if (prot && !(s->ar & AR_TYPE_CODE) && (s->ar & AR_TYPE_EDOWN)) {
		uint64_t top = s->ar & AR_DB ? 0xffffffffull : 0xffffull;

		if (off <= s->limit || last > top)
			return seg_fault(c, seg);
	} else if (last > s->limit) {
		return seg_fault(c, seg);
	}
	*la = (s->base + off) & 0xffffffffull;
	return EMU_DONE;
}

/* An access split at page boundaries: at most two pieces for 8 bytes. */
struct span {
	uint64_t gpa[2];
	unsigned int len[2];
	int n;
};

static enum emu_result mem_prepare(struct emu_ctx *c, unsigned int seg,
				   uint64_t off, unsigned int size,
				   enum emu_access kind, struct span *sp)
{
	uint64_t la, wrap = emu_code_size(c->st) == 8 ? ~0ull : 0xffffffffull;
	enum emu_result r = linear(c, seg, off, size, kind, &la);

	sp->n = 0;
	while (r == EMU_DONE && size) {
		unsigned int room = PAGE_SIZE - (la & (PAGE_SIZE - 1));
		unsigned int n = size < room ? size : room;

		r = emu_translate(c, la, kind, &sp->gpa[sp->n]);
		sp->len[sp->n++] = n;
		size -= n;
		la = (la + n) & wrap;
	}
	return r;
}

static enum emu_result mem_commit(struct emu_ctx *c, const struct span *sp,
				  void *buf, bool write, bool device_ok)
{
	uint8_t *p = buf;

	for (int i = 0; i < sp->n; i++) {
		int rc = write ? c->ops->write_phys(c->ops->ctx, sp->gpa[i], p,
						    sp->len[i], device_ok)
			       : c->ops->read_phys(c->ops->ctx, sp->gpa[i], p,
						   sp->len[i], device_ok);

		if (rc == EMU_OP_STOP)
			return EMU_STOPPED;
		if (rc) {
			c->bad_gpa = sp->gpa[i];
			c->has_bad_gpa = true;
			return unhandled(
				c, device_ok ? "no memory or device at the "
					       "guest-physical address"
					     : "instruction bytes outside RAM");
		}
		p += sp->len[i];
	}
	return EMU_DONE;
}

static enum emu_result mem_read(struct emu_ctx *c, unsigned int seg,
				uint64_t off, unsigned int size, uint64_t *val)
{
	struct span sp;
	enum emu_result r = mem_prepare(c, seg, off, size, EMU_READ, &sp);

	*val = 0;
	return r == EMU_DONE ? mem_commit(c, &sp, val, false, true) : r;
}

static enum emu_result mem_write(struct emu_ctx *c, unsigned int seg,
				 uint64_t off, unsigned int size, uint64_t val)
{
	struct span sp;
	enum emu_result r = mem_prepare(c, seg, off, size, EMU_WRITE, &sp);

	return r == EMU_DONE ? mem_commit(c, &sp, &val, true, true) : r;
}

/* ---- decoding ---- */

static enum emu_result fetch(struct emu_ctx *c, uint8_t *b)
{
	struct emu_insn *in = &c->insn;
	unsigned int cs = emu_code_size(c->st);
	uint64_t off = c->st->rip + in->len;
	struct span sp;
	enum emu_result r;

	if (in->len >= MAX_INSN_LEN)
		return fault(c, EMU_VEC_GP, true, 0, 0);
	if (cs != 8)
		off &= size_mask(cs);
	r = mem_prepare(c, EMU_CS, off, 1, EMU_FETCH, &sp);
	if (r == EMU_DONE)
		r = mem_commit(c, &sp, b, false, false);
	if (r == EMU_DONE)
		in->bytes[in->len++] = *b;
	return r;
}

static enum emu_result fetch_imm(struct emu_ctx *c, unsigned int size,
				 uint64_t *val)
{
	uint64_t v = 0;

	*val = 0;
	for (unsigned int i = 0; i < size; i++) {
		uint8_t b;
		enum emu_result r = fetch(c, &b);

		if (r != EMU_DONE)
			return r;
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return EMU_DONE;
}

static uint64_t sext(uint64_t v, unsigned int size)
{
	unsigned int sh = 64 - 8 * size;

	return size >= 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}

/* An immediate, sign-extended to 64 bits (users mask to the size). */
static enum emu_result fetch_simm(struct emu_ctx *c, unsigned int size,
				  uint64_t *val)
{
	enum emu_result r = fetch_imm(c, size, val);

	*val = sext(*val, size);
	return r;
}

/* imm8/16/32: 64-bit operations take a sign-extended imm32. */
static unsigned int imm_size(const struct emu_insn *in)
{
	return in->opsize == 8 ? 4 : in->opsize;
}

static const int8_t modrm16_base[8] = {EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP,
				       -1,	-1,	 EMU_RBP, EMU_RBX};
static const int8_t modrm16_index[8] = {EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI,
					EMU_RSI, EMU_RDI, -1,	   -1};

static enum emu_result modrm16(struct emu_ctx *c, unsigned int mod,
			       unsigned int rm, uint64_t *disp_size)
{
	struct emu_insn *in = &c->insn;

	in->base = modrm16_base[rm];
	in->index = modrm16_index[rm];
	in->scale = 1;
	if (mod == 0 && rm == 6) {
		in->base = -1;
		*disp_size = 2;
	} else {
		*disp_size = mod == 1 ? 1 : mod == 2 ? 2 : 0;
	}
	if (in->base == EMU_RBP)
		in->seg = EMU_SS;
	return EMU_DONE;
}

static enum emu_result modrm32(struct emu_ctx *c, unsigned int mod,
			       unsigned int rm, unsigned int rex,
			       uint64_t *disp_size)
{
	struct emu_insn *in = &c->insn;
	enum emu_result r;

	*disp_size = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	in->scale = 1;
	if (rm == 4) {
		uint8_t sib;
		unsigned int idx, base;

		r = fetch(c, &sib);
		if (r != EMU_DONE)
			return r;
		in->scale = 1 << (sib >> 6);
		idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
		base = (sib & 7) | ((rex & 1) << 3);
		in->index = idx == 4 ? -1 : (int)idx;
		if ((sib & 7) == 5 && mod == 0) {
			in->base = -1;
			*disp_size = 4;
		} else {
			in->base = (int)base;
		}
	} else if (rm == 5 && mod == 0) {
		in->rip_rel = emu_code_size(c->st) == 8;
		*disp_size = 4;
	} else {
		in->base = (int)(rm | ((rex & 1) << 3));
	}
	if (in->base == EMU_RSP || in->base == EMU_RBP)
		in->seg = EMU_SS;
	return EMU_DONE;
}

/* ModRM with a memory operand (register forms are refused). */
static enum emu_result modrm(struct emu_ctx *c, unsigned int rex,
			     unsigned int *regf)
{
	struct emu_insn *in = &c->insn;
	uint64_t disp_size = 0, disp = 0;
	enum emu_result r;
	uint8_t m;

	r = fetch(c, &m);
	if (r != EMU_DONE)
		return r;
	unsigned int mod = m >> 6, rm = m & 7;

	*regf = ((m >> 3) & 7) | ((rex & 4) << 1);
	if (mod == 3)
		return unhandled(c, "ModRM names a register, not memory");
	in->has_mem = true;
	if (in->addrsize == 2)
		r = modrm16(c, mod, rm, &disp_size);
	else
		r = modrm32(c, mod, rm, rex, &disp_size);
	if (r == EMU_DONE && disp_size)
		r = fetch_imm(c, (unsigned int)disp_size, &disp);
	in->disp =
		(int64_t)sext(disp, (unsigned int)(disp_size ? disp_size : 8));
	return r;
}

/* The register operand of a ModRM form, with the AH..BH quirk. */
static void set_reg(struct emu_insn *in, unsigned int regf)
{
	in->reg = (int)regf;
	if (in->opsize == 1 && !in->rex && regf >= 4 && regf < 8) {
		in->reg = (int)regf - 4;
		in->reg_high = true;
	}
}

struct prefixes {
	bool opsz, adsz;
	int seg; /* -1: none */
	uint8_t rex;
};

static enum emu_result read_prefixes(struct emu_ctx *c, struct prefixes *p,
				     uint8_t *op)
{
	static const uint8_t seg_prefix[EMU_NSEG] = {0x26, 0x2e, 0x36,
						     0x3e, 0x64, 0x65};
	struct emu_insn *in = &c->insn;
	bool long64 = emu_code_size(c->st) == 8;

	p->seg = -1;
	for (;;) {
		enum emu_result r = fetch(c, op);
		bool seen = false;

		if (r != EMU_DONE)
			return r;
		for (int s = 0; s < EMU_NSEG; s++) {
			if (*op == seg_prefix[s]) {
				/* 64-bit mode ignores ES/CS/SS/DS overrides */
				if (!long64 || s >= EMU_FS)
					p->seg = s;
				seen = true;
			}
		}
		if (*op == 0x66)
			p->opsz = seen = true;
		else if (*op == 0x67)
			p->adsz = seen = true;
		else if (*op == 0xf2 || *op == 0xf3)
			in->rep = *op, seen = true;
		else if (*op == 0xf0)
			in->lock = seen = true;
		if (seen) {
			p->rex = 0; /* a REX must come last to count */
			continue;
		}
		if (long64 && (*op & 0xf0) == 0x40) {
			p->rex = *op;
			continue;
		}
		return EMU_DONE;
	}
}

/* Operand sizes for a full-size (non-byte) operation. */
static unsigned int full_opsize(struct emu_ctx *c, const struct prefixes *p)
{
	unsigned int cs = emu_code_size(c->st);

	if (p->rex & 8)
		return 8;
	if (p->opsz)
		return cs == 2 ? 4 : 2;
	return cs == 2 ? 2 : 4;
}

static const enum emu_op alu_ops[8] = {EMU_ADD, EMU_OR,	 EMU_ADC, EMU_SBB,
				       EMU_AND, EMU_SUB, EMU_XOR, EMU_CMP};

/* Opcode classes and what follows each. */
static enum emu_result decode_alu_imm(struct emu_ctx *c, uint8_t op,
				      unsigned int regf)
{
	struct emu_insn *in = &c->insn;
	unsigned int isz = op == 0x81 ? (in->opsize == 2 ? 2 : 4) : 1;

	in->op = alu_ops[regf & 7];
	in->dir = EMU_TO_MEM;
	in->has_imm = true;
	return fetch_simm(c, isz, &in->imm);
}

static enum emu_result decode_opcode(struct emu_ctx *c, struct prefixes *p,
				     uint8_t op)
{
	struct emu_insn *in = &c->insn;
	unsigned int full = full_opsize(c, p), regf = 0;
	enum emu_result r = EMU_DONE;
	uint8_t op2;

	in->opsize = (op & 1) ? full : 1;
	if (op < 0x40 && (op & 7) < 4) { /* ALU r/m,reg and reg,r/m */
		in->op = alu_ops[op >> 3];
		in->dir = op & 2 ? EMU_FROM_MEM : EMU_TO_MEM;
		r = modrm(c, p->rex, &regf);
		set_reg(in, regf);
		return r;
	}
	switch (op) {
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		in->op = EMU_MOV;
		in->dir = op & 2 ? EMU_FROM_MEM : EMU_TO_MEM;
		r = modrm(c, p->rex, &regf);
		set_reg(in, regf);
		return r;
	case 0x84:
	case 0x85:
	case 0x86:
	case 0x87:
		in->op = op < 0x86 ? EMU_TEST : EMU_XCHG;
		in->dir = EMU_TO_MEM;
		r = modrm(c, p->rex, &regf);
		set_reg(in, regf);
		return r;
	case 0x63:
		if (emu_code_size(c->st) != 8)
			return unhandled(c, "ARPL");
		in->op = full == 8 ? EMU_MOVSX : EMU_MOV;
		in->opsize = full;
		in->memsize = full == 8 ? 4 : full;
		in->dir = EMU_FROM_MEM;
		r = modrm(c, p->rex, &regf);
		set_reg(in, regf);
		return r;
	case 0xc6:
	case 0xc7:
		r = modrm(c, p->rex, &regf);
		if (r != EMU_DONE)
			return r;
		if (regf & 7)
			return unhandled(c,
					 "C6/C7 with a reg field other than 0");
		in->op = EMU_MOV;
		in->dir = EMU_TO_MEM;
		in->has_imm = true;
		return fetch_simm(c, imm_size(in), &in->imm);
	case 0x80:
	case 0x81:
	case 0x83:
		r = modrm(c, p->rex, &regf);
		return r == EMU_DONE ? decode_alu_imm(c, op, regf) : r;
	case 0xf6:
	case 0xf7:
		r = modrm(c, p->rex, &regf);
		if (r != EMU_DONE)
			return r;
		if ((regf & 7) > 1)
			return unhandled(c, "F6/F7 other than TEST");
		in->op = EMU_TEST;
		in->dir = EMU_TO_MEM;
		in->has_imm = true;
		return fetch_simm(c, imm_size(in), &in->imm);
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3: {
		uint64_t moff = 0;

		in->op = EMU_MOV;
		in->dir = op & 2 ? EMU_TO_MEM : EMU_FROM_MEM;
		in->reg = EMU_RAX;
		in->has_mem = true;
		r = fetch_imm(c, in->addrsize, &moff);
		in->disp = (int64_t)moff;
		return r;
	}
	case 0xa4:
	case 0xa5:
		in->op = EMU_MOVS;
		return EMU_DONE;
	case 0xaa:
	case 0xab:
		in->op = EMU_STOS;
		in->reg = EMU_RAX;
		in->dir = EMU_TO_MEM;
		in->seg = EMU_ES;
		return EMU_DONE;
	case 0xac:
	case 0xad:
		in->op = EMU_LODS;
		in->reg = EMU_RAX;
		in->dir = EMU_FROM_MEM;
		return EMU_DONE;
	case 0x6c:
	case 0x6d:
	case 0x6e:
	case 0x6f:
		in->op = op < 0x6e ? EMU_INS : EMU_OUTS;
		in->dir = op < 0x6e ? EMU_TO_MEM : EMU_FROM_MEM;
		if (op & 1)
			in->opsize = full == 2 ? 2 : 4;
		if (in->op == EMU_INS)
			in->seg = EMU_ES;
		return EMU_DONE;
	case 0x0f:
		r = fetch(c, &op2);
		if (r != EMU_DONE)
			return r;
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return unhandled(c, "two-byte opcode not emulated");
		in->op = op2 < 0xbe ? EMU_MOVZX : EMU_MOVSX;
		in->opsize = full;
		in->memsize = op2 & 1 ? 2 : 1;
		in->dir = EMU_FROM_MEM;
		r = modrm(c, p->rex, &regf);
		set_reg(in, regf);
		return r;
	}
	return unhandled(c, "opcode not emulated");
}

static bool lock_ok(const struct emu_insn *in)
{
	switch (in->op) {
	case EMU_ADD:
	case EMU_OR:
	case EMU_ADC:
	case EMU_SBB:
	case EMU_AND:
	case EMU_SUB:
	case EMU_XOR:
	case EMU_XCHG:
		return in->dir == EMU_TO_MEM;
	default:
		return false;
	}
}

enum emu_result emu_decode(struct emu_ctx *c)
{
	struct emu_insn *in = &c->insn;
	unsigned int cs = emu_code_size(c->st);
	struct prefixes p = {0};
	enum emu_result r;
	uint8_t op;

	memset(in, 0, sizeof(*in));
	in->reg = in->base = in->index = -1;
	in->seg = EMU_DS;
	r = read_prefixes(c, &p, &op);
	if (r != EMU_DONE)
		return r;
	in->rex = p.rex != 0;
	in->addrsize = p.adsz ? (cs == 8 ? 4 : cs == 4 ? 2 : 4) : cs;
	r = decode_opcode(c, &p, op);
	if (r != EMU_DONE)
		return r;
	/* ES:rDI of STOS/MOVS/INS cannot be overridden; the rest can. */
	if (p.seg >= 0 && in->op != EMU_STOS && in->op != EMU_INS)
		in->seg = (uint8_t)p.seg;
	if (!in->memsize)
		in->memsize = in->opsize;
	if (in->op == EMU_INS || in->op == EMU_OUTS)
		in->memsize = in->opsize;
	if (in->lock && !lock_ok(in))
		return fault(c, EMU_VEC_UD, false, 0, 0);
	return EMU_DONE;
}

uint64_t emu_effective_address(const struct emu_state *st,
			       const struct emu_insn *in)
{
	uint64_t ea = (uint64_t)in->disp;

	if (in->base >= 0)
		ea += st->gpr[in->base];
	if (in->index >= 0)
		ea += st->gpr[in->index] * in->scale;
	if (in->rip_rel)
		ea += st->rip + in->len;
	return ea & size_mask(in->addrsize);
}

/* ---- execution ---- */

static uint64_t reg_get(const struct emu_state *st, const struct emu_insn *in,
			unsigned int size)
{
	if (in->reg_high)
		return (st->gpr[in->reg] >> 8) & 0xff;
	return st->gpr[in->reg] & size_mask(size);
}

/* Write @size bytes of a register as the CPU does (32-bit zero-extends). */
static void reg_put(uint64_t *r, unsigned int size, bool high, uint64_t v)
{
	if (high)
		*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
	else if (size == 4)
		*r = (uint32_t)v;
	else
		*r = (*r & ~size_mask(size)) | (v & size_mask(size));
}

static void set_flags(struct emu_state *st, uint64_t res, unsigned int size,
		      bool cf, bool of, bool af)
{
	uint64_t f = st->rflags & ~RFL_ARITH;

	res &= size_mask(size);
	if (cf)
		f |= RFL_CF;
	if (of)
		f |= RFL_OF;
	if (af)
		f |= RFL_AF;
	if (!res)
		f |= RFL_ZF;
	if (res >> (8 * size - 1))
		f |= RFL_SF;
	if (!__builtin_parity((unsigned int)(res & 0xff)))
		f |= RFL_PF;
	st->rflags = f;
}

/* dst OP src with flags; returns the result. */
static uint64_t alu(struct emu_state *st, enum emu_op op, uint64_t a,
		    uint64_t b, unsigned int size)
{
	uint64_t m = size_mask(size), sign = BIT(8 * size - 1), res;
	unsigned int carry = (unsigned int)(st->rflags & RFL_CF);
	unsigned __int128 wide;

	a &= m;
	b &= m;
	switch (op) {
	case EMU_ADD:
	case EMU_ADC:
		if (op == EMU_ADD)
			carry = 0;
		wide = (unsigned __int128)a + b + carry;
		res = (uint64_t)wide & m;
		set_flags(st, res, size, size == 8 ? wide >> 64 : wide > m,
			  (a ^ res) & (b ^ res) & sign, (a ^ b ^ res) & 0x10);
		return res;
	case EMU_SUB:
	case EMU_SBB:
	case EMU_CMP:
		if (op != EMU_SBB)
			carry = 0;
		res = (a - b - carry) & m;
		set_flags(st, res, size,
			  (unsigned __int128)a < (unsigned __int128)b + carry,
			  (a ^ b) & (a ^ res) & sign, (a ^ b ^ res) & 0x10);
		return res;
	case EMU_AND:
	case EMU_TEST:
		res = a & b;
		break;
	case EMU_OR:
		res = a | b;
		break;
	default: /* XOR */
		res = a ^ b;
		break;
	}
	set_flags(st, res, size, false, false, false);
	return res;
}

static enum emu_result exec_mov(struct emu_ctx *c, uint64_t ea)
{
	struct emu_state *st = c->st;
	struct emu_insn *in = &c->insn;
	enum emu_result r;
	uint64_t v;

	if (in->dir == EMU_TO_MEM)
		return mem_write(c, in->seg, ea, in->opsize,
				 in->has_imm ? in->imm
					     : reg_get(st, in, in->opsize));
	r = mem_read(c, in->seg, ea, in->memsize, &v);
	if (r != EMU_DONE)
		return r;
	if (in->op == EMU_MOVSX)
		v = sext(v, in->memsize);
	reg_put(&st->gpr[in->reg], in->opsize, in->reg_high, v);
	return EMU_DONE;
}

static enum emu_result exec_alu(struct emu_ctx *c, uint64_t ea)
{
	struct emu_state *st = c->st;
	struct emu_insn *in = &c->insn;
	bool store = in->op != EMU_CMP && in->op != EMU_TEST;
	uint64_t mem, src, res;
	enum emu_result r;

	r = mem_read(c, in->seg, ea, in->opsize, &mem);
	if (r != EMU_DONE)
		return r;
	if (in->op == EMU_XCHG) {
		r = mem_write(c, in->seg, ea, in->opsize,
			      reg_get(st, in, in->opsize));
		if (r == EMU_DONE)
			reg_put(&st->gpr[in->reg], in->opsize, in->reg_high,
				mem);
		return r;
	}
	src = in->has_imm ? in->imm : reg_get(st, in, in->opsize);
	if (in->dir == EMU_FROM_MEM) {
		res = alu(st, in->op, src, mem, in->opsize);
		if (store)
			reg_put(&st->gpr[in->reg], in->opsize, in->reg_high,
				res);
		return EMU_DONE;
	}
	/* Flags are only committed with the store: keep them until then. */
	uint64_t rflags = st->rflags;

	res = alu(st, in->op, mem, src, in->opsize);
	if (!store)
		return EMU_DONE;
	r = mem_write(c, in->seg, ea, in->opsize, res);
	if (r != EMU_DONE)
		st->rflags = rflags;
	return r;
}

/* Update an index or count register at the address size. */
static void addr_reg_put(struct emu_state *st, int reg, unsigned int asz,
			 uint64_t v)
{
	reg_put(&st->gpr[reg], asz, false, v);
}

/* One iteration of a string instruction. */
static enum emu_result string_step(struct emu_ctx *c)
{
	struct emu_state *st = c->st;
	struct emu_insn *in = &c->insn;
	unsigned int sz = in->opsize, asz = in->addrsize;
	uint64_t am = size_mask(asz), si = st->gpr[EMU_RSI] & am;
	uint64_t di = st->gpr[EMU_RDI] & am, v = 0, delta;
	uint16_t port = (uint16_t)st->gpr[EMU_RDX];
	struct span sp;
	enum emu_result r = EMU_DONE;

	delta = st->rflags & RFL_DF ? (uint64_t) - (int64_t)sz : sz;
	switch (in->op) {
	case EMU_STOS:
		r = mem_write(c, EMU_ES, di, sz, st->gpr[EMU_RAX]);
		break;
	case EMU_LODS:
		r = mem_read(c, in->seg, si, sz, &v);
		if (r == EMU_DONE)
			reg_put(&st->gpr[EMU_RAX], sz, false, v);
		break;
	case EMU_MOVS:
		r = mem_read(c, in->seg, si, sz, &v);
		if (r == EMU_DONE)
			r = mem_write(c, EMU_ES, di, sz, v);
		break;
	case EMU_OUTS:
		r = mem_read(c, in->seg, si, sz, &v);
		if (r == EMU_DONE) {
			int rc = c->ops->port_out(c->ops->ctx, port, sz,
						  (uint32_t)v);
			r = rc == EMU_OP_STOP ? EMU_STOPPED : EMU_DONE;
		}
		break;
	default: { /* INS: check the destination before reading the port */
		uint32_t pv = 0;
		int rc;

		r = mem_prepare(c, EMU_ES, di, sz, EMU_WRITE, &sp);
		if (r != EMU_DONE)
			break;
		rc = c->ops->port_in(c->ops->ctx, port, sz, &pv);
		if (rc == EMU_OP_STOP)
			return EMU_STOPPED;
		v = pv;
		r = mem_commit(c, &sp, &v, true, true);
		break;
	}
	}
	if (r != EMU_DONE && r != EMU_STOPPED)
		return r;
	if (in->op == EMU_LODS || in->op == EMU_MOVS || in->op == EMU_OUTS)
		addr_reg_put(st, EMU_RSI, asz, si + delta);
	if (in->op != EMU_LODS && in->op != EMU_OUTS)
		addr_reg_put(st, EMU_RDI, asz, di + delta);
	c->iterations++;
	return r;
}

/* Returns EMU_DONE with *finished false when the REP should go on later. */
static enum emu_result exec_string(struct emu_ctx *c, bool *finished)
{
	struct emu_state *st = c->st;
	struct emu_insn *in = &c->insn;
	unsigned int asz = in->addrsize;
	uint64_t limit =
		c->max_iterations ? c->max_iterations : DEFAULT_MAX_ITERS;

	*finished = true;
	if (!in->rep)
		return string_step(c);
	for (uint64_t done = 0;; done++) {
		uint64_t count = st->gpr[EMU_RCX] & size_mask(asz);
		enum emu_result r;

		if (!count)
			return EMU_DONE;
		if (done == limit) {
			*finished = false;
			return EMU_DONE;
		}
		r = string_step(c);
		if (r == EMU_DONE || r == EMU_STOPPED)
			addr_reg_put(st, EMU_RCX, asz, count - 1);
		if (r != EMU_DONE)
			return r;
	}
}

/* For the message of a refusal: the bytes at RIP beyond those decoded. */
static void more_bytes(struct emu_ctx *c)
{
	struct emu_ctx keep = *c;
	uint8_t b;

	while (c->insn.len < REFUSAL_BYTES && fetch(c, &b) == EMU_DONE)
		;
	keep.insn.len = c->insn.len;
	memcpy(keep.insn.bytes, c->insn.bytes, sizeof(keep.insn.bytes));
	*c = keep;
}

enum emu_result emu_run(struct emu_ctx *c)
{
	struct emu_state *st = c->st;
	struct emu_insn *in = &c->insn;
	bool finished = true;
	enum emu_result r;
	unsigned int cs;

	c->iterations = 0;
	c->has_bad_gpa = false;
	c->why = NULL;
	r = emu_decode(c);
	if (r == EMU_DONE && c->string_io_only && in->op != EMU_INS &&
	    in->op != EMU_OUTS)
		r = unhandled(c, "an I/O exit, but no INS/OUTS at RIP");
	if (r == EMU_UNHANDLED)
		more_bytes(c);
	if (r != EMU_DONE)
		return r;
	switch (in->op) {
	case EMU_MOV:
	case EMU_MOVZX:
	case EMU_MOVSX:
		r = exec_mov(c, emu_effective_address(st, in));
		break;
	case EMU_STOS:
	case EMU_LODS:
	case EMU_MOVS:
	case EMU_INS:
	case EMU_OUTS:
		r = exec_string(c, &finished);
		break;
	default:
		r = exec_alu(c, emu_effective_address(st, in));
		break;
	}
	if (r != EMU_DONE || !finished)
		return r;
	cs = emu_code_size(st);
	st->rip = st->rip + in->len;
	if (cs != 8)
		st->rip &= size_mask(cs);
	st->rflags &= ~RFL_RF;
	return EMU_DONE;
}

void emu_bytes_str(const struct emu_ctx *c, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (unsigned int i = 0; i < c->insn.len && n + 4 <= size; i++) {
		if (i)
			buf[n++] = ' ';
		buf[n++] = hex[c->insn.bytes[i] >> 4];
		buf[n++] = hex[c->insn.bytes[i] & 15];
	}
	if (size)
		buf[n < size ? n : size - 1] = '\0';
}
