// SPDX-License-Identifier: MIT
/*
 * Host tests of the instruction emulator (vmm/emulate.c) and the MMIO
 * table (vmm/mmio.c): every supported form from a table assembled by GNU
 * as (emulate_forms.h) is decoded and executed in 16-, 32- and 64-bit
 * code; then the semantics (values, flags, REP, DF), the guest page walk
 * (32-bit, PAE, 4-level; U/S, R/W, NX, WP, reserved bits, A/D), segment
 * and canonical faults, a fault in the middle of a REP, clean refusals,
 * and random bytes.  Guest RAM, the device and the ports are arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/emulate.h"
#include "vmm/guest_abi.h"
#include "vmm/mmio.h"
#include "tests/host/tap.h"

#define RAM_SIZE  (4 * MiB)
#define CODE	  0x1000ull
#define DEV_BASE  0xfebff000ull
#define LOW_BASE  0xa0000ull /* a second device window for real mode */
#define LOW_SIZE  0x10000ull
#define PML4	  0x100000ull
#define PDPT	  0x101000ull
#define PD0	  0x102000ull
#define PD3	  0x103000ull
#define PT_DEV	  0x104000ull
#define PT_LOW	  0x105000ull
#define VA_HOLE	  0x600000ull /* 4-level: not present */
#define VA_RO	  0x401000ull /* read-only 4K page -> 0x201000 */
#define VA_USER	  0x402000ull /* user page -> 0x202000 */
#define VA_NX	  0x403000ull /* no-execute page -> 0x203000 */
#define VA_RSVD	  0x404000ull /* reserved bit set */
#define VA_MAPPED 0x405000ull /* plain page -> 0x205000, before the hole */

static uint8_t *ram;
static uint8_t dev[TIDAL_TESTDEV_SIZE], low[LOW_SIZE];
static unsigned int dev_reads, dev_writes;
static uint64_t last_gpa;
static uint8_t port_out_log[256];
static unsigned int port_out_n, port_in_n;
static uint16_t last_port;
static bool stop_on_port;

static uint8_t *device_at(uint64_t gpa, unsigned int len)
{
	if (gpa >= DEV_BASE && gpa + len <= DEV_BASE + TIDAL_TESTDEV_SIZE)
		return dev + (gpa - DEV_BASE);
	if (gpa >= LOW_BASE && gpa + len <= LOW_BASE + LOW_SIZE)
		return low + (gpa - LOW_BASE);
	return NULL;
}

static int t_read(void *ctx, uint64_t gpa, void *buf, unsigned int len,
		  bool device_ok)
{
	uint8_t *d = device_at(gpa, len);

	if (len < 1 || len > 8 || (gpa & 0xfff) + len > 0x1000)
		abort(); /* the emulator promised pieces inside one page */
	if (d) {
		if (!device_ok)
			return EMU_OP_NONE;
		memcpy(buf, d, len);
		dev_reads++;
		last_gpa = gpa;
		return EMU_OP_OK;
	}
	if (gpa >= RAM_SIZE || RAM_SIZE - gpa < len)
		return EMU_OP_NONE;
	memcpy(buf, ram + gpa, len);
	return EMU_OP_OK;
}

static int t_write(void *ctx, uint64_t gpa, const void *buf, unsigned int len,
		   bool device_ok)
{
	uint8_t *d = device_at(gpa, len);

	if (len < 1 || len > 8 || (gpa & 0xfff) + len > 0x1000)
		abort();
	if (d) {
		if (!device_ok)
			return EMU_OP_NONE;
		memcpy(d, buf, len);
		dev_writes++;
		last_gpa = gpa;
		return EMU_OP_OK;
	}
	if (gpa >= RAM_SIZE || RAM_SIZE - gpa < len)
		return EMU_OP_NONE;
	memcpy(ram + gpa, buf, len);
	return EMU_OP_OK;
}

static int t_in(void *ctx, uint16_t port, unsigned int size, uint32_t *val)
{
	if (size != 1 && size != 2 && size != 4)
		abort();
	last_port = port;
	*val = 0x40302010u + port_in_n++;
	return EMU_OP_OK;
}

static int t_out(void *ctx, uint16_t port, unsigned int size, uint32_t val)
{
	if (size != 1 && size != 2 && size != 4)
		abort();
	last_port = port;
	for (unsigned int i = 0; i < size; i++)
		port_out_log[port_out_n++ & 255] = (uint8_t)(val >> (8 * i));
	return stop_on_port ? EMU_OP_STOP : EMU_OP_OK;
}

static const struct emu_ops ops = {t_read, t_write, t_in, t_out, NULL};
static struct emu_state st;
static struct emu_ctx ctx;

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, 8);
	return v;
}

/* 4-level tables: 2 MiB identity pages for 0-4 MiB, 4K test pages. */
static void build_tables64(void)
{
	memset(ram + PML4, 0, 0x6000);
	put64(PML4, PDPT | 7);
	put64(PDPT, PD0 | 7);
	put64(PDPT + 3 * 8, PD3 | 3);
	put64(PD0, 0x000000 | 0x83);
	put64(PD0 + 8, 0x200000 | 0x83);
	put64(PD0 + 2 * 8, PT_LOW | 7);
	/* 0xfebff000: PD3 index 0x1f5, PT index 0x1ff. */
	put64(PD3 + 0x1f5 * 8, PT_DEV | 3);
	put64(PT_DEV + 0x1ff * 8, DEV_BASE | 3);
	put64(PT_LOW + 1 * 8, 0x201000 | 0x1);		 /* read-only */
	put64(PT_LOW + 2 * 8, 0x202000 | 0x7);		 /* user */
	put64(PT_LOW + 3 * 8, 0x203000 | 0x3 | BIT(63)); /* NX */
	put64(PT_LOW + 4 * 8, 0x204000 | 0x3 | BIT(50)); /* reserved */
	put64(PT_LOW + 5 * 8, 0x205000 | 0x3);
}

static void seg(int s, uint64_t base, uint32_t limit, uint32_t ar)
{
	st.seg[s] = (struct emu_segment){base, limit, ar};
}

static void setup(int mode)
{
	memset(&st, 0, sizeof(st));
	memset(&ctx, 0, sizeof(ctx));
	ctx.st = &st;
	ctx.ops = &ops;
	st.rip = CODE;
	st.rflags = 2;
	st.maxphyaddr = 46;
	uint64_t r[16] = {0x8877665544332211ull,
			  4,
			  0xe9,
			  0xfebff100,
			  0xfebff400,
			  0xfebff300,
			  0x8,
			  0xfebff200,
			  0x20,
			  1,
			  0x100,
			  0,
			  0xfebff500,
			  0xfebff600,
			  0x1234,
			  0xfebff700};
	memcpy(st.gpr, r, sizeof(r));
	if (mode == 8) {
		build_tables64();
		st.cr0 = BIT(0) | BIT(16) | BIT(31);
		st.cr4 = BIT(5);
		st.efer = BIT(8) | BIT(10) | BIT(11);
		st.cr3 = PML4;
		for (int s = 0; s < EMU_NSEG; s++)
			seg(s, 0, 0xffffffff, 0xc093);
		seg(EMU_CS, 0, 0xffffffff, 0xa09b);
		seg(EMU_GS, 0, 0xffffffff, 0xc093);
	} else if (mode == 4) {
		st.cr0 = BIT(0);
		for (int s = 0; s < EMU_NSEG; s++)
			seg(s, 0, 0xffffffff, 0xc093);
		seg(EMU_CS, 0, 0xffffffff, 0xc09b);
		for (int i = 0; i < 16; i++)
			st.gpr[i] &= 0xffffffff;
	} else {
		for (int s = 0; s < EMU_NSEG; s++)
			seg(s, LOW_BASE, 0xffff, 0x93);
		seg(EMU_CS, 0, 0xffff, 0x9b);
		uint64_t r16[8] = {0x8877665544332211ull,
				   4,
				   0xe9,
				   0x100,
				   0x400,
				   0x300,
				   0x8,
				   0x200};
		memcpy(st.gpr, r16, sizeof(r16));
	}
}

static void code(const uint8_t *b, unsigned int n)
{
	memset(ram + CODE, 0x90, 32);
	memcpy(ram + CODE, b, n);
}

#define CODE_BYTES(...)                                     \
	do {                                                \
		static const uint8_t __b[] = {__VA_ARGS__}; \
		code(__b, sizeof(__b));                     \
	} while (0)

struct form {
	unsigned int mode;
	uint8_t bytes[15];
	unsigned int len;
	enum emu_op op;
	unsigned int opsize, memsize;
	int dir;
	int reg;
	bool high;
	bool has_ea;
	uint64_t ea;
	bool has_imm;
	uint64_t imm;
	unsigned int seg, addrsize;
	const char *text;
};

static const struct form forms[] = {
#include "tests/host/emulate_forms.h"
};

static void check_form(const struct form *f)
{
	const struct emu_insn *in = &ctx.insn;
	enum emu_result r;
	bool good;

	setup((int)f->mode);
	code(f->bytes, f->len);
	r = emu_decode(&ctx);
	good = r == EMU_DONE && in->len == f->len && in->op == f->op &&
	       in->opsize == f->opsize && in->memsize == f->memsize &&
	       in->addrsize == f->addrsize && in->seg == f->seg &&
	       (f->dir < 0 || (int)in->dir == f->dir) && in->reg == f->reg &&
	       in->reg_high == f->high && in->has_imm == f->has_imm &&
	       (!f->has_imm || in->imm == f->imm) &&
	       (!f->has_ea || emu_effective_address(&st, in) == f->ea);
	if (!ok(good, "decode %u-bit %s", f->mode * 8, f->text))
		diag("  result %d len %u op %d opsize %u memsize %u asz %u "
		     "seg %u dir %d reg %d%s imm %llx ea %llx",
		     r, in->len, in->op, in->opsize, in->memsize, in->addrsize,
		     in->seg, in->dir, in->reg, in->reg_high ? "h" : "",
		     (unsigned long long)in->imm,
		     (unsigned long long)emu_effective_address(&st, in));

	/* And it runs: one access at the expected place, RIP moves on. */
	setup((int)f->mode);
	code(f->bytes, f->len);
	dev_reads = dev_writes = 0;
	r = emu_run(&ctx);
	uint64_t base = f->mode == 8 ? (f->seg == EMU_FS || f->seg == EMU_GS
						? st.seg[f->seg].base
						: 0)
				     : st.seg[f->seg].base;
	good = r == EMU_DONE && st.rip == CODE + f->len;
	if (f->has_ea &&
	    (base + f->ea >= DEV_BASE ||
	     (base + f->ea >= LOW_BASE && base + f->ea < LOW_BASE + LOW_SIZE)))
		good = good && dev_reads + dev_writes >= 1 &&
		       last_gpa == ((base + f->ea) & 0xffffffffffffull);
	if (!ok(good, "run %u-bit %s", f->mode * 8, f->text))
		diag("  result %d (%s) rip %llx reads %u writes %u last %llx",
		     r, ctx.why ? ctx.why : "", (unsigned long long)st.rip,
		     dev_reads, dev_writes, (unsigned long long)last_gpa);
}

static void test_forms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		check_form(&forms[i]);
}

static uint64_t dev64(unsigned int off)
{
	uint64_t v;

	memcpy(&v, dev + off, 8);
	return v;
}

static void set_dev64(unsigned int off, uint64_t v)
{
	memcpy(dev + off, &v, 8);
}

static void test_values(void)
{
	/* mov %eax,(%rbx): 4 bytes stored, neighbours untouched. */
	setup(8);
	set_dev64(0x100, ~0ull);
	CODE_BYTES(0x89, 0x03);
	is_int(emu_run(&ctx), EMU_DONE, "MOV store runs");
	is_int(dev64(0x100), 0xffffffff44332211ull, "MOV stores 4 bytes");

	/* mov (%rbx),%eax zero-extends; mov (%rbx),%ax merges. */
	setup(8);
	set_dev64(0x100, 0xcafef00d12345678ull);
	CODE_BYTES(0x8b, 0x03);
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0x12345678, "32-bit load zero-extends");
	setup(8);
	CODE_BYTES(0x66, 0x8b, 0x03);
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0x8877665544335678ull, "16-bit load merges");
	setup(8);
	CODE_BYTES(0x8a, 0x23); /* mov (%rbx),%ah */
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0x8877665544337811ull, "load into AH");
	setup(8);
	CODE_BYTES(0x48, 0x8b, 0x03);
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0xcafef00d12345678ull, "64-bit load");

	/* MOVZX / MOVSX. */
	setup(8);
	dev[0x100] = 0x80;
	CODE_BYTES(0x0f, 0xbe, 0x03); /* movsbl (%rbx),%eax */
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0xffffff80, "MOVSX byte to 32 bits");
	setup(8);
	CODE_BYTES(0x48, 0x0f, 0xbe, 0x03); /* movsbq */
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0xffffffffffffff80ull, "MOVSX byte to 64");
	setup(8);
	CODE_BYTES(0x0f, 0xb6, 0x03); /* movzbl */
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0x80, "MOVZX byte");
	setup(8);
	set_dev64(0x100, 0x80000000ull);
	CODE_BYTES(0x48, 0x63, 0x03); /* movslq */
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0xffffffff80000000ull, "MOVSXD");

	/* Immediate stores. */
	setup(8);
	set_dev64(0x100, 0);
	CODE_BYTES(0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff); /* movq $-2 */
	emu_run(&ctx);
	is_int(dev64(0x100), 0xfffffffffffffffeull, "MOV imm32 sign-extends");
	setup(8);
	set_dev64(0x100, 0);
	CODE_BYTES(0xc6, 0x03, 0x5a);
	emu_run(&ctx);
	is_int(dev64(0x100), 0x5a, "MOV imm8 stores one byte");

	/* moffs. */
	setup(8);
	set_dev64(0x800, 0x1122334455667788ull);
	CODE_BYTES(0x48, 0xa1, 0x00, 0xf8, 0xbf, 0xfe, 0, 0, 0, 0);
	emu_run(&ctx);
	is_int(st.gpr[EMU_RAX], 0x1122334455667788ull, "MOV rax,moffs64");
	is_int(st.rip, CODE + 10, "moffs64 length");

	/* 16-bit real mode: DS base 0xa0000 plus BX+SI. */
	setup(2);
	memset(low, 0, 0x200);
	CODE_BYTES(0x89, 0x00); /* mov %ax,(%bx,%si) */
	emu_run(&ctx);
	is_int(low[0x108] | low[0x109] << 8, 0x2211, "real-mode store");
	is_int(st.rip, CODE + 2, "real-mode RIP");
}

static uint64_t flags_after(const uint8_t *b, unsigned int n, uint64_t mem,
			    uint64_t rax)
{
	setup(8);
	set_dev64(0x100, mem);
	st.gpr[EMU_RAX] = rax;
	code(b, n);
	if (emu_run(&ctx) != EMU_DONE)
		return ~0ull;
	return st.rflags & 0x8d5;
}

static void test_alu(void)
{
	static const uint8_t cmp[] = {0x39, 0x03};  /* cmp %eax,(%rbx) */
	static const uint8_t add[] = {0x01, 0x03};  /* add %eax,(%rbx) */
	static const uint8_t andm[] = {0x21, 0x03}; /* and %eax,(%rbx) */
	static const uint8_t test[] = {0x85, 0x03}; /* test %eax,(%rbx) */
	static const uint8_t orr[] = {0x0b, 0x03};  /* or (%rbx),%eax */

	is_int(flags_after(cmp, 2, 5, 5), 0x44, "CMP equal: ZF PF");
	is_int(flags_after(cmp, 2, 4, 5), 0x95, "CMP below: CF SF AF PF");
	is_int(flags_after(cmp, 2, 0x80000000, 1), 0x814,
	       "CMP signed overflow: OF AF PF");
	is_int(dev64(0x100), 0x80000000, "CMP does not store");
	is_int(flags_after(add, 2, 0xffffffff, 1), 0x55,
	       "ADD carry out: CF ZF AF PF");
	is_int(dev64(0x100), 0, "ADD stores the sum");
	is_int(flags_after(add, 2, 0x7fffffff, 1), 0x894,
	       "ADD overflow: OF SF AF PF");
	is_int(flags_after(andm, 2, 0xf0f0, 0xff00), 0x4, "AND: PF only");
	is_int(dev64(0x100), 0xf000, "AND stores");
	is_int(flags_after(test, 2, 0xf0, 0x0f), 0x44, "TEST zero: ZF PF");
	is_int(dev64(0x100), 0xf0, "TEST does not store");
	flags_after(orr, 2, 0x100, 0x1);
	is_int(st.gpr[EMU_RAX], 0x101, "OR into a register");

	/* XCHG swaps. */
	setup(8);
	set_dev64(0x100, 0xaaaa);
	CODE_BYTES(0x87, 0x03);
	emu_run(&ctx);
	is_int(dev64(0x100), 0x44332211, "XCHG stores the register");
	is_int(st.gpr[EMU_RAX], 0xaaaa, "XCHG loads the memory");

	/* LOCK on a store is #UD; on OR to memory it is fine. */
	setup(8);
	CODE_BYTES(0xf0, 0x89, 0x03);
	is_int(emu_run(&ctx), EMU_FAULT, "LOCK MOV faults");
	is_int(ctx.fault.vector, EMU_VEC_UD, "... with #UD");
	setup(8);
	CODE_BYTES(0xf0, 0x83, 0x0b, 0x01);
	is_int(emu_run(&ctx), EMU_DONE, "LOCK OR runs");
}

static void test_strings(void)
{
	/* rep stosl forwards and backwards. */
	setup(8);
	memset(dev + 0x200, 0, 32);
	CODE_BYTES(0xf3, 0xab);
	is_int(emu_run(&ctx), EMU_DONE, "REP STOSL runs");
	is_int(st.gpr[EMU_RCX], 0, "REP STOSL counts RCX down");
	is_int(st.gpr[EMU_RDI], 0xfebff210, "REP STOSL advances RDI");
	is_int(dev64(0x208), 0x4433221144332211ull, "REP STOSL stores");
	is_int(ctx.iterations, 4, "four iterations");
	setup(8);
	st.rflags |= BIT(10);
	CODE_BYTES(0xf3, 0xab);
	emu_run(&ctx);
	is_int(st.gpr[EMU_RDI], 0xfebff1f0, "DF=1 moves RDI down");

	/* rep outsb of a string in RAM to port 0xe9. */
	setup(8);
	memcpy(ram + 0x8, "hello", 5);
	st.gpr[EMU_RCX] = 5;
	port_out_n = 0;
	CODE_BYTES(0xf3, 0x6e);
	is_int(emu_run(&ctx), EMU_DONE, "REP OUTSB runs");
	ok(port_out_n == 5 && !memcmp(port_out_log, "hello", 5) &&
		   last_port == 0xe9,
	   "REP OUTSB sends the string to DX");
	is_int(st.gpr[EMU_RSI], 0xd, "REP OUTSB advances RSI");

	/* rep insw: port values land at ES:RDI in order. */
	setup(8);
	port_in_n = 0;
	st.gpr[EMU_RCX] = 2;
	CODE_BYTES(0x66, 0xf3, 0x6d);
	emu_run(&ctx);
	ok(dev[0x200] == 0x10 && dev[0x201] == 0x20 && dev[0x202] == 0x11,
	   "REP INSW stores each port read");

	/* 16-bit address size wraps SI; count zero does nothing. */
	setup(2);
	st.gpr[EMU_RSI] = 0x1234ffff;
	st.gpr[EMU_RCX] = 0x10001;
	port_out_n = 0;
	CODE_BYTES(0xf3, 0x6e);
	emu_run(&ctx);
	ok(st.gpr[EMU_RSI] == 0x12340000 && st.gpr[EMU_RCX] == 0x10000,
	   "16-bit REP OUTSB: SI wraps, CX counts, upper bits kept");
	setup(8);
	st.gpr[EMU_RCX] = 0;
	port_out_n = 0;
	CODE_BYTES(0xf3, 0x6e);
	ok(emu_run(&ctx) == EMU_DONE && port_out_n == 0 && st.rip == CODE + 2,
	   "REP with RCX=0 does nothing and moves on");

	/* An iteration bound leaves RIP on the instruction. */
	setup(8);
	st.gpr[EMU_RCX] = 10;
	ctx.max_iterations = 4;
	CODE_BYTES(0xf3, 0xaa);
	ok(emu_run(&ctx) == EMU_DONE && st.gpr[EMU_RCX] == 6 && st.rip == CODE,
	   "REP stopped at the iteration bound resumes later");

	/* A device that stops the VM ends the REP there. */
	setup(8);
	stop_on_port = true;
	CODE_BYTES(0xf3, 0x6e);
	ok(emu_run(&ctx) == EMU_STOPPED && st.gpr[EMU_RCX] == 3,
	   "a stopping port ends REP OUTS after one iteration");
	stop_on_port = false;

	/* A fault part-way: RCX/RSI say how far it got, RIP unchanged. */
	setup(8);
	memset(ram + 0x205ffd, 'x', 3);
	st.gpr[EMU_RSI] = VA_MAPPED + 0xffd;
	st.gpr[EMU_RCX] = 8;
	st.gpr[EMU_RDI] = 0;
	put64(PT_LOW + 6 * 8, 0); /* VA_MAPPED + 0x1000: not present */
	port_out_n = 0;
	CODE_BYTES(0xf3, 0x6e);
	is_int(emu_run(&ctx), EMU_FAULT, "REP OUTSB into a hole faults");
	ok(ctx.fault.vector == EMU_VEC_PF && ctx.fault.error == 0 &&
		   ctx.fault.cr2 == VA_MAPPED + 0x1000,
	   "... #PF, error 0, CR2 at the hole");
	ok(st.gpr[EMU_RCX] == 5 && st.gpr[EMU_RSI] == VA_MAPPED + 0x1000 &&
		   st.rip == CODE && port_out_n == 3,
	   "... after 3 bytes: RCX 5, RSI at the hole, RIP unchanged");

	/* INS into a read-only page: the port is not read. */
	setup(8);
	st.gpr[EMU_RDI] = VA_RO;
	port_in_n = 0;
	CODE_BYTES(0x6c);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.error == 3 && port_in_n == 0,
	   "INSB to a read-only page: #PF P|W before the port read");
}

static enum emu_result access(int mode, uint64_t va, enum emu_access kind)
{
	uint64_t gpa;

	(void)mode;
	return emu_translate(&ctx, va, kind, &gpa);
}

static void test_paging(void)
{
	uint64_t gpa = 0;

	setup(8);
	ok(emu_translate(&ctx, DEV_BASE + 0x10, EMU_READ, &gpa) == EMU_DONE &&
		   gpa == DEV_BASE + 0x10,
	   "4-level walk to the device page");
	ok(emu_translate(&ctx, 0x212345, EMU_WRITE, &gpa) == EMU_DONE &&
		   gpa == 0x212345,
	   "4-level walk through a 2 MiB page");
	ok(get64(PD0 + 8) & BIT(6), "a write sets the dirty bit");
	ok(get64(PDPT) & BIT(5), "the walk sets accessed bits");

	is_int(access(8, VA_HOLE, EMU_READ), EMU_FAULT, "hole: fault");
	ok(ctx.fault.vector == EMU_VEC_PF && ctx.fault.error == 0 &&
		   ctx.fault.cr2 == VA_HOLE,
	   "hole: #PF error 0 CR2");
	access(8, VA_HOLE, EMU_WRITE);
	is_int(ctx.fault.error, EMU_PF_W, "hole write: W");
	is_int(access(8, VA_RO, EMU_WRITE), EMU_FAULT, "WP: write faults");
	is_int(ctx.fault.error, EMU_PF_P | EMU_PF_W, "WP write: P|W");
	st.cr0 &= ~BIT(16);
	is_int(access(8, VA_RO, EMU_WRITE), EMU_DONE,
	       "no WP: supervisor writes read-only page");
	seg(EMU_SS, 0, 0xffffffff, 0xc0f3); /* CPL 3 */
	is_int(access(8, VA_RO, EMU_WRITE), EMU_FAULT, "user write faults");
	is_int(ctx.fault.error, EMU_PF_P | EMU_PF_W | EMU_PF_U,
	       "user write to supervisor read-only page: P|W|U");
	is_int(access(8, VA_USER, EMU_WRITE), EMU_DONE, "user page is user's");
	seg(EMU_SS, 0, 0xffffffff, 0xc093);
	st.cr4 |= BIT(21);
	is_int(access(8, VA_USER, EMU_READ), EMU_FAULT, "SMAP: fault");
	st.rflags |= BIT(18);
	is_int(access(8, VA_USER, EMU_READ), EMU_DONE, "SMAP with AC: ok");
	is_int(access(8, VA_NX, EMU_FETCH), EMU_FAULT, "NX fetch faults");
	is_int(ctx.fault.error, EMU_PF_P | EMU_PF_I, "NX fetch: P|I");
	is_int(access(8, VA_NX, EMU_READ), EMU_DONE, "NX page readable");
	is_int(access(8, VA_RSVD, EMU_READ), EMU_FAULT, "reserved bit");
	is_int(ctx.fault.error, EMU_PF_P | EMU_PF_RSVD, "reserved: P|RSVD");

	/* Fetching the instruction from an NX page faults with I. */
	setup(8);
	st.rip = VA_NX;
	is_int(emu_run(&ctx), EMU_FAULT, "fetch from NX page");
	ok(ctx.fault.vector == EMU_VEC_PF &&
		   ctx.fault.error == (EMU_PF_P | EMU_PF_I) &&
		   ctx.fault.cr2 == VA_NX,
	   "... #PF P|I at RIP");

	/* 32-bit paging: a 4 MiB page and a 4K table. */
	setup(4);
	st.cr0 |= BIT(31) | BIT(16);
	st.cr4 = BIT(4);
	st.cr3 = 0x300000;
	memset(ram + 0x300000, 0, 0x2000);
	uint32_t pde0 = 0x301000 | 3, pde1 = 0x000000 | 0x83;
	uint32_t pte = 0x0207000 | 3;

	memcpy(ram + 0x300000 + 0xff8 * 1, &pde1, 4); /* 0x3fe: 0xff800000 */
	memcpy(ram + 0x300000, &pde0, 4);
	memcpy(ram + 0x301000 + 5 * 4, &pte, 4);
	ok(emu_translate(&ctx, 0x5123, EMU_READ, &gpa) == EMU_DONE &&
		   gpa == 0x207123,
	   "32-bit paging: 4K page");
	ok(emu_translate(&ctx, 0xff812345, EMU_READ, &gpa) == EMU_DONE &&
		   gpa == 0x12345,
	   "32-bit paging: 4 MiB page");
	is_int(emu_translate(&ctx, 0x6000, EMU_READ, &gpa), EMU_FAULT,
	       "32-bit paging: not present");

	/* PAE: PDPTEs from the state, 2 MiB page. */
	setup(4);
	st.cr0 |= BIT(31);
	st.cr4 = BIT(5);
	st.pdpte[3] = 0x310000 | 1;
	memset(ram + 0x310000, 0, 0x1000);
	put64(0x310000 + 0x1f5 * 8, 0x200000 | 0x83);
	ok(emu_translate(&ctx, 0xfebff123, EMU_READ, &gpa) == EMU_DONE &&
		   gpa == 0x3ff123,
	   "PAE paging: 2 MiB page");
	st.pdpte[3] = 0;
	is_int(emu_translate(&ctx, 0xfebff123, EMU_READ, &gpa), EMU_FAULT,
	       "PAE paging: PDPTE not present");
}

static void test_segments(void)
{
	/* Non-canonical in 64-bit mode: #GP(0); through RSP/RBP: #SS(0). */
	setup(8);
	st.gpr[EMU_RBX] = 0x0000800000000000ull;
	CODE_BYTES(0x89, 0x03);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_GP &&
		   ctx.fault.error == 0 && st.rip == CODE,
	   "non-canonical address: #GP(0)");
	setup(8);
	st.gpr[EMU_RBP] = 0xffff000000000000ull;
	CODE_BYTES(0x89, 0x45, 0x00);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_SS,
	   "non-canonical stack address: #SS(0)");

	/* FS base applies in 64-bit mode. */
	setup(8);
	st.seg[EMU_FS].base = 0x100;
	st.gpr[EMU_RBX] = 0xfebff000;
	CODE_BYTES(0x64, 0x89, 0x03);
	emu_run(&ctx);
	is_int(last_gpa, 0xfebff100, "FS base is added");

	/* 32-bit limits and types. */
	setup(4);
	seg(EMU_DS, 0, 0xfebff101, 0xc093);
	CODE_BYTES(0x89, 0x03); /* 4 bytes at 0xfebff100: past the limit */
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_GP,
	   "past the segment limit: #GP(0)");
	setup(4);
	seg(EMU_SS, 0, 0x1000, 0xc093);
	CODE_BYTES(0x89, 0x45, 0x00);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_SS,
	   "past the stack limit: #SS(0)");
	setup(4);
	seg(EMU_DS, 0, 0xffffffff, 0xc091); /* read-only data */
	CODE_BYTES(0x89, 0x03);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_GP,
	   "write to a read-only segment: #GP(0)");
	setup(4);
	CODE_BYTES(0x2e, 0x89, 0x03); /* store through CS */
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_GP,
	   "write through CS: #GP(0)");
	setup(4);
	seg(EMU_ES, 0, 0xffffffff, 0x1c093); /* unusable */
	CODE_BYTES(0xaa);
	ok(emu_run(&ctx) == EMU_FAULT && ctx.fault.vector == EMU_VEC_GP,
	   "STOS with an unusable ES: #GP(0)");
	setup(4);
	seg(EMU_DS, 0x10000000, 0xffffffff, 0xc093);
	st.gpr[EMU_RBX] = 0xeebff100;
	CODE_BYTES(0x89, 0x03);
	emu_run(&ctx);
	is_int(last_gpa, 0xfebff100, "32-bit segment base is added");
}

static void test_refusals(void)
{
	char buf[64];

	setup(8);
	CODE_BYTES(0x89, 0xc0); /* mov %eax,%eax */
	ok(emu_run(&ctx) == EMU_UNHANDLED && ctx.why,
	   "register-only ModRM refused: %s", ctx.why ? ctx.why : "");
	setup(8);
	CODE_BYTES(0x0f, 0x0b);
	ok(emu_run(&ctx) == EMU_UNHANDLED && ctx.why, "UD2 refused");
	emu_bytes_str(&ctx, buf, sizeof(buf));
	is_int(strcmp(buf, "0f 0b 90 90 90 90 90 90"), 0,
	       "refusal names the bytes at RIP");
	setup(8);
	CODE_BYTES(0xa6); /* cmpsb */
	is_int(emu_run(&ctx), EMU_UNHANDLED, "CMPSB refused");
	setup(4);
	st.gpr[EMU_RBX] = 0x80000000;
	CODE_BYTES(0x89, 0x03);
	ok(emu_run(&ctx) == EMU_UNHANDLED && ctx.has_bad_gpa &&
		   ctx.bad_gpa == 0x80000000,
	   "access where nothing is: refused with the GPA");
	setup(8);
	memset(ram + CODE, 0x66, 15);
	is_int(emu_run(&ctx), EMU_FAULT, "16 bytes of prefixes fault");
	is_int(ctx.fault.vector, EMU_VEC_GP, "... with #GP");
	setup(8);
	st.cr4 |= BIT(12);
	CODE_BYTES(0x89, 0x03);
	is_int(emu_run(&ctx), EMU_UNHANDLED, "5-level paging refused");
	setup(8);
	dev_writes = 0;
	ctx.string_io_only = true;
	CODE_BYTES(0x89, 0x03);
	ok(emu_run(&ctx) == EMU_UNHANDLED && dev_writes == 0,
	   "an I/O exit with no INS/OUTS at RIP is refused");
	setup(4);
	CODE_BYTES(0x63, 0x03);
	is_int(emu_run(&ctx), EMU_UNHANDLED, "ARPL refused");
	setup(4);
	st.rip = RAM_SIZE;
	ok(emu_run(&ctx) == EMU_UNHANDLED && ctx.has_bad_gpa,
	   "instruction bytes outside RAM refused");
}

static void test_mmio_table(void)
{
	struct mmio_table t = {0};
	struct testdev d;
	uint8_t buf[8];
	uint32_t id;

	memset(&d, 0, sizeof(d));
	is_int(testdev_register(&t, &d), 0, "test device registers");
	struct mmio_region r = {
		DEV_BASE + 0x800, 0x1000, "x", NULL, NULL, NULL};

	is_int(mmio_register(&t, &r), -1, "overlapping region refused");
	r.base = 0xfec00000;
	is_int(mmio_register(&t, &r), 0, "second region registers");
	ok(mmio_find(&t, DEV_BASE + 0xffc, 4) == &t.r[0],
	   "find inside the test device");
	ok(!mmio_find(&t, DEV_BASE + 0xffc, 8), "an access past the end");
	ok(!mmio_find(&t, 0xfebfe000, 1), "no region below");
	const struct mmio_region *tr = &t.r[0];

	tr->read(tr->dev, TIDAL_TESTDEV_ID, &id, 4);
	is_int(id, TIDAL_TESTDEV_MAGIC, "test device ID");
	memset(buf, 0xab, 8);
	tr->write(tr->dev, 0, buf, 8);
	tr->read(tr->dev, TIDAL_TESTDEV_ID, &id, 4);
	is_int(id, TIDAL_TESTDEV_MAGIC, "ID is read-only");
	tr->write(tr->dev, 0x100, buf, 2);
	tr->read(tr->dev, 0x100, buf, 4);
	is_int(buf[1] << 8 | buf[2], 0xab00, "scratch keeps what was written");
	uint64_t n;

	tr->read(tr->dev, TIDAL_TESTDEV_WRITES, &n, 8);
	is_int(n, 2, "write counter");
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_random(unsigned int rounds)
{
	unsigned int done = 0, faults = 0, refused = 0, bad = 0;
	static const int modes[3] = {2, 4, 8};

	for (unsigned int i = 0; i < rounds; i++) {
		setup(modes[rnd() % 3]);
		for (int b = 0; b < 16; b++)
			ram[CODE + b] = (uint8_t)rnd();
		/* Often a likely opcode after random prefixes. */
		if (rnd() & 1)
			ram[CODE + rnd() % 3] = (uint8_t)(0x88 + rnd() % 4);
		for (int g = 0; g < 16; g++)
			if (rnd() & 1)
				st.gpr[g] = rnd() & 1
						    ? DEV_BASE + (rnd() & 0xfff)
						    : rnd();
		if (!(rnd() % 8)) /* random page tables too */
			for (int b = 0; b < 64; b++)
				put64(PML4 + 8 * (rnd() % 1024), rnd());
		st.rflags ^= rnd() & (BIT(10) | BIT(17) | BIT(18));
		if (!(rnd() % 4)) { /* odd segments and control bits */
			int sg = (int)(rnd() % EMU_NSEG);

			seg(sg, rnd(), (uint32_t)rnd(), (uint32_t)rnd());
			st.cr0 ^= rnd() & (BIT(16) | BIT(31));
			st.cr4 ^= rnd() & (BIT(4) | BIT(5) | BIT(20) | BIT(21));
			st.efer ^= rnd() & BIT(11);
			st.pdpte[rnd() % 4] = rnd();
			st.maxphyaddr = (unsigned int)(rnd() % 64);
		}
		ctx.max_iterations = 64;
		enum emu_result r = emu_run(&ctx);

		switch (r) {
		case EMU_DONE:
			done++;
			if (ctx.insn.len < 1 || ctx.insn.len > 15)
				bad++;
			break;
		case EMU_FAULT:
			faults++;
			if (ctx.fault.vector > 31)
				bad++;
			break;
		case EMU_UNHANDLED:
			refused++;
			if (!ctx.why)
				bad++;
			break;
		default:
			bad++;
		}
	}
	ok(bad == 0,
	   "random bytes: %u rounds, %u emulated, %u faults, %u "
	   "refused with a reason, %u bad",
	   rounds, done, faults, refused, bad);
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 200000;

	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 1;
	test_forms();
	test_values();
	test_alu();
	test_strings();
	test_paging();
	test_segments();
	test_refusals();
	test_mmio_table();
	test_random(rounds);
	free(ram);
	return tap_done();
}
