// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the instruction emulator (vmm/emulate.c) on fuzzed
 * bytes and CPU state, with 2 MiB of in-memory guest RAM, one page of
 * device above it and a port space.  The input is a struct hdr (mode,
 * switches, register picks, a segment to spoil, page-table entries to
 * overwrite, the instruction bytes), then bytes for the data page and the
 * device.  The default tables map the first 4 MiB one to one in each
 * paging mode (32-bit, PAE, 4-level), 4 KiB pages over RAM.
 *
 * Checked beyond ASan/UBSan: every access goes through the ops, 1-8
 * bytes inside one page, RAM only for walks and fetches; ports get sizes
 * 1, 2 or 4; the outcome is a result, a fault (#UD, #SS, #GP, #PF with RIP
 * unchanged) or a refusal with a reason; a finished instruction moves
 * RIP by its length; only the registers the instruction names change; a
 * REP stops within its iteration bound; an I/O exit emulates INS/OUTS
 * only.
 */
#include <stdint.h>
#include <string.h>

#include "vmm/emulate.h"
#include "tests/fuzz/fuzz.h"

#define RAM_SIZE  0x200000ull
#define DEV_BASE  RAM_SIZE /* one page of device right above RAM */
#define CODE	  0x1000ull
#define DATA	  0x100000ull
#define PML4	  0x10000ull
#define PDPT	  0x11000ull
#define PD	  0x12000ull
#define PT	  0x13000ull /* 4 KiB pages 0-2 MiB, 4-level and PAE */
#define PD32	  0x14000ull
#define PDPAE	  0x15000ull
#define PT32	  0x16000ull /* 4 KiB pages 0-4 MiB, 32-bit paging */
#define TABLES_SZ 0x7000ull
#define NPATCH	  4

static uint8_t ram[RAM_SIZE], dev[4096];
static bool stop_port;

struct hdr {
	uint8_t mode;  /* % 6: real, flat 32, 32-bit paging, PAE, 64, compat */
	uint8_t sw;    /* switches, see setup() */
	uint8_t seg;   /* segment to spoil (with sw bit 7) */
	uint8_t iters; /* REP bound: 1 + iters % 64 */
	uint8_t gsel[16];
	uint32_t seg_limit, seg_ar;
	uint64_t seg_base, raw_gpr;
	struct {
		uint16_t idx;
		uint64_t val;
	} __attribute__((packed)) patch[NPATCH];
	uint8_t code[16];
} __attribute__((packed));

static void check_piece(uint64_t gpa, unsigned int len)
{
	FUZZ_CHECK(len >= 1 && len <= 8 && (gpa & 0xfff) + len <= 0x1000);
}

static int f_read(void *ctx, uint64_t gpa, void *buf, unsigned int len,
		  bool device_ok)
{
	check_piece(gpa, len);
	if (gpa < RAM_SIZE) {
		memcpy(buf, ram + gpa, len);
		return EMU_OP_OK;
	}
	if (device_ok && gpa - DEV_BASE < sizeof(dev)) {
		memcpy(buf, dev + (gpa - DEV_BASE), len);
		return EMU_OP_OK;
	}
	return EMU_OP_NONE;
}

static int f_write(void *ctx, uint64_t gpa, const void *buf, unsigned int len,
		   bool device_ok)
{
	check_piece(gpa, len);
	if (gpa < RAM_SIZE) {
		memcpy(ram + gpa, buf, len);
		return EMU_OP_OK;
	}
	if (device_ok && gpa - DEV_BASE < sizeof(dev)) {
		memcpy(dev + (gpa - DEV_BASE), buf, len);
		return EMU_OP_OK;
	}
	return EMU_OP_NONE;
}

static int f_in(void *ctx, uint16_t port, unsigned int size, uint32_t *val)
{
	FUZZ_CHECK(size == 1 || size == 2 || size == 4);
	*val = 0xa1b2c3d4u ^ port;
	return EMU_OP_OK;
}

static int f_out(void *ctx, uint16_t port, unsigned int size, uint32_t val)
{
	FUZZ_CHECK(size == 1 || size == 2 || size == 4);
	return stop_port ? EMU_OP_STOP : EMU_OP_OK;
}

static const struct emu_ops ops = {f_read, f_write, f_in, f_out, NULL};

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

/* Identity maps of the first 4 MiB in every paging mode. */
static void build_tables(void)
{
	for (uint64_t i = 0; i < 512; i++)
		put64(PT + 8 * i, (i << 12) | 7);
	put64(PML4, PDPT | 7);
	put64(PDPT, PD | 7);
	put64(PD, PT | 7);
	put64(PD + 8, 0x200000 | 0x87);
	put64(PDPAE, PT | 7);
	put64(PDPAE + 8, 0x200000 | 0x87);
	for (uint32_t i = 0; i < 1024; i++)
		put32(PT32 + 4 * i, (i << 12) | 7);
	put32(PD32, (uint32_t)PT32 | 7);
}

/* Register values worth trying: addresses that hit RAM, the device,
 * unmapped and non-canonical space, counts, and nothing. */
static uint64_t pick(uint8_t sel, uint64_t raw)
{
	static const uint64_t base[16] = {
		0,
		DATA,
		DEV_BASE,
		DEV_BASE + 0xff8,
		0x3ff000,
		0x400000,
		0xfff,
		0xffff,
		0xfffffff0,
		0x7ffffffffff8ull,
		0x800000000000ull,
		-8ull,
		1,
		3,
		0x10000,
		0,
	};

	return (sel & 15) == 15 ? raw : base[sel & 15] + (sel >> 4) * 8;
}

static void seg_set(struct emu_state *st, int s, uint64_t base, uint32_t limit,
		    uint32_t ar)
{
	st->seg[s] = (struct emu_segment){base, limit, ar};
}

/* sw: 1 string I/O only, 2 ports stop the VM, 4 DF, 8 CPL 3, 16 CR0.WP,
 * 32 EFER.NXE, 64 maxphyaddr from raw_gpr, 128 spoil a segment. */
static void setup(struct emu_state *st, const struct hdr *h)
{
	unsigned int mode = h->mode % 6;
	uint32_t dpl = (h->sw & 8) ? 0x60 : 0;

	memset(st, 0, sizeof(*st));
	st->rip = CODE;
	st->rflags = 2 | ((h->sw & 4) ? BIT(10) : 0);
	st->maxphyaddr = (h->sw & 64) ? (unsigned int)(h->raw_gpr % 64) : 40;
	for (int i = 0; i < 16; i++)
		st->gpr[i] = pick(h->gsel[i], h->raw_gpr);
	for (int s = 0; s < EMU_NSEG; s++)
		seg_set(st, s, 0, 0xffffffff, 0xc093 | dpl);
	if (mode == 0) {
		for (int s = 0; s < EMU_NSEG; s++)
			seg_set(st, s, 0, 0xffff, 0x93);
		seg_set(st, EMU_CS, 0, 0xffff, 0x9b);
	} else {
		st->cr0 = BIT(0) | ((h->sw & 16) ? BIT(16) : 0);
		seg_set(st, EMU_CS, 0, 0xffffffff, 0xc09b | dpl);
	}
	if (mode == 2) {
		st->cr0 |= BIT(31);
		st->cr3 = PD32;
	} else if (mode == 3) {
		st->cr0 |= BIT(31);
		st->cr4 = BIT(5);
		st->cr3 = 0x20;
		st->pdpte[0] = PDPAE | 1;
	} else if (mode >= 4) {
		st->cr0 |= BIT(31);
		st->cr4 = BIT(5);
		st->efer = BIT(8) | BIT(10);
		st->cr3 = PML4;
		if (mode == 4)
			seg_set(st, EMU_CS, 0, 0xffffffff, 0xa09b | dpl);
	}
	if (h->sw & 32)
		st->efer |= BIT(11);
	if (h->sw & 128)
		seg_set(st, h->seg % EMU_NSEG, h->seg_base, h->seg_limit,
			h->seg_ar);
}

static bool is_string(enum emu_op op)
{
	return op == EMU_STOS || op == EMU_LODS || op == EMU_MOVS ||
	       op == EMU_INS || op == EMU_OUTS;
}

/* Which general registers the instruction may change. */
static uint32_t may_change(const struct emu_insn *in)
{
	uint32_t m = 0;

	if (is_string(in->op))
		m |= BIT(EMU_RCX) | BIT(EMU_RSI) | BIT(EMU_RDI) | BIT(EMU_RAX);
	else if (in->reg >= 0)
		m |= BIT(in->reg_high ? in->reg & 3 : in->reg);
	return m;
}

static void check_outcome(const struct emu_ctx *c, enum emu_result r,
			  const struct emu_state *before, const struct hdr *h)
{
	const struct emu_state *st = c->st;
	const struct emu_insn *in = &c->insn;
	uint64_t next = before->rip + in->len;
	uint32_t changed = 0;

	for (int i = 0; i < 16; i++)
		if (st->gpr[i] != before->gpr[i])
			changed |= BIT(i);
	FUZZ_CHECK(c->iterations <= c->max_iterations);
	switch (r) {
	case EMU_DONE:
		FUZZ_CHECK(in->len >= 1 && in->len <= 15);
		FUZZ_CHECK(in->op != EMU_OP_INVALID);
		FUZZ_CHECK(st->rip == next || st->rip == (next & 0xffffffff) ||
			   st->rip == (next & 0xffff) ||
			   (in->rep && st->rip == before->rip));
		FUZZ_CHECK(!(changed & ~may_change(in)));
		if (c->string_io_only)
			FUZZ_CHECK(in->op == EMU_INS || in->op == EMU_OUTS);
		break;
	case EMU_FAULT:
		FUZZ_CHECK(st->rip == before->rip);
		FUZZ_CHECK(c->fault.vector == EMU_VEC_UD ||
			   c->fault.vector == EMU_VEC_SS ||
			   c->fault.vector == EMU_VEC_GP ||
			   c->fault.vector == EMU_VEC_PF);
		FUZZ_CHECK(c->fault.vector != EMU_VEC_PF || c->fault.has_error);
		/* Only a REP keeps its progress. */
		FUZZ_CHECK(!changed || (in->rep && is_string(in->op) &&
					!(changed & ~may_change(in))));
		break;
	case EMU_UNHANDLED:
		FUZZ_CHECK(c->why != NULL && c->why[0]);
		FUZZ_CHECK(st->rip == before->rip);
		break;
	case EMU_STOPPED:
		FUZZ_CHECK(h->sw & 2);
		break;
	default:
		FUZZ_CHECK(!"unknown result");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdr h = {0};
	struct emu_state st, before;
	struct emu_ctx c = {0};
	size_t rest = size > sizeof(h) ? size - sizeof(h) : 0;
	enum emu_result r;
	char bytes[64];

	memcpy(&h, data, MIN(size, sizeof(h)));
	memset(ram, 0, sizeof(ram));
	memset(dev, 0x5a, sizeof(dev));
	build_tables();
	for (int i = 0; i < NPATCH; i++)
		put64(PML4 + 8 * (h.patch[i].idx % (TABLES_SZ / 8)),
		      h.patch[i].val);
	memset(ram + CODE, 0x90, 32);
	memcpy(ram + CODE, h.code, sizeof(h.code));
	memcpy(ram + DATA, data + sizeof(h), MIN(rest, 4096));
	if (rest > 4096)
		memcpy(dev, data + sizeof(h) + 4096, MIN(rest - 4096, 4096));
	setup(&st, &h);
	stop_port = h.sw & 2;
	before = st;
	c.st = &st;
	c.ops = &ops;
	c.max_iterations = 1 + h.iters % 64;
	c.string_io_only = h.sw & 1;
	r = emu_run(&c);
	check_outcome(&c, r, &before, &h);
	emu_bytes_str(&c, bytes, sizeof(bytes));
	if (getenv("FUZZ_VERBOSE")) /* say what became of the input */
		fprintf(stderr, "%s: result %d vector %u why %s\n", bytes, r,
			c.fault.vector, c.why ? c.why : "-");
	FUZZ_CHECK(strlen(bytes) < sizeof(bytes));
	return 0;
}
