// SPDX-License-Identifier: MIT
/*
 * The GDB remote serial protocol (see lib/gdb_proto.h): framing, hex and
 * the packet handler.  Portable: no hardware, no allocation; every length
 * is checked against the buffers before it is used.
 */
#include "lib/gdb_proto.h"
#include "lib/printf.h"
#include "lib/string.h"

enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

void gdb_rx_reset(struct gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->len = 0;
	rx->sum = 0;
	rx->csum = 0;
	rx->overflow = false;
	rx->escaped = false;
	rx->buf[0] = '\0';
}

int gdb_hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void rx_store(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len >= GDB_PKT_MAX) {
		rx->overflow = true;
		return;
	}
	rx->buf[rx->len++] = (char)c;
}

/* A byte inside "$...#": escapes ('}' then byte ^ 0x20) are undone here. */
static void rx_data(struct gdb_rx *rx, uint8_t c)
{
	if (c == '#') {
		rx->state = RX_CSUM1;
		return;
	}
	rx->sum += c;
	if (rx->escaped) {
		rx->escaped = false;
		rx_store(rx, c ^ 0x20);
	} else if (c == '}') {
		rx->escaped = true;
	} else {
		rx_store(rx, c);
	}
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
	int v;

	/* A '$' always starts a new packet: resynchronise after garbage. */
	if (c == '$' && rx->state != RX_CSUM1 && rx->state != RX_CSUM2) {
		gdb_rx_reset(rx);
		rx->state = RX_DATA;
		return GDB_RX_NONE;
	}
	switch (rx->state) {
	case RX_IDLE:
		return c == 0x03 ? GDB_RX_INTERRUPT : GDB_RX_NONE;
	case RX_DATA:
		rx_data(rx, c);
		return GDB_RX_NONE;
	case RX_CSUM1:
		v = gdb_hex_val((char)c);
		rx->csum = (uint8_t)(v < 0 ? 0 : v << 4);
		rx->state = v < 0 ? RX_IDLE : RX_CSUM2;
		return v < 0 ? GDB_RX_BAD : GDB_RX_NONE;
	default:
		v = gdb_hex_val((char)c);
		rx->state = RX_IDLE;
		if (v < 0 || (uint8_t)(rx->csum | v) != rx->sum || rx->overflow)
			return GDB_RX_BAD;
		rx->buf[rx->len] = '\0';
		return GDB_RX_PACKET;
	}
}

static const char hexdig[] = "0123456789abcdef";

size_t gdb_frame(char *out, size_t cap, const char *data, size_t len)
{
	size_t o = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)data[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';

		if (o + (esc ? 2 : 1) + 3 > cap)
			return 0;
		if (esc) {
			out[o++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[o++] = (char)c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = hexdig[sum >> 4];
	out[o++] = hexdig[sum & 15];
	return o;
}

bool gdb_parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0, d;

	while ((d = gdb_hex_val(*s)) >= 0) {
		if (++n > 16)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (!n)
		return false;
	*p = s;
	*out = v;
	return true;
}

size_t gdb_hex_encode(char *out, const void *in, size_t n)
{
	const uint8_t *b = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	return 2 * n;
}

bool gdb_hex_decode(void *out, const char *in, size_t n)
{
	uint8_t *b = out;

	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hex_val(in[2 * i]), lo;

		if (hi < 0)
			return false;
		lo = gdb_hex_val(in[2 * i + 1]);
		if (lo < 0)
			return false;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * The register file.  Written for tidal from the register names and
 * sizes gdb's x86-64 features expect; the system registers are a feature
 * of tidal's own, which gdb shows with "info registers cr3" etc.
 */
const char gdb_target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"uint128\" regnum=\"40\"/>\n"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"uint128\"/>\n"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n"
	"<feature name=\"org.tidal.x86.sys\">\n"
	"<reg name=\"cr0\" bitsize=\"64\" type=\"int\" regnum=\"59\" "
	"group=\"system\"/>\n"
	"<reg name=\"cr2\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr3\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr4\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr8\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"efer\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"</feature>\n"
	"</target>\n";

unsigned int gdb_reg_size(unsigned int reg)
{
	if (reg < GDB_REG_EFLAGS)
		return 8;
	if (reg < GDB_REG_ST0)
		return 4;
	if (reg < GDB_REG_FCTRL)
		return 10;
	if (reg < GDB_REG_XMM0)
		return 4;
	if (reg < GDB_REG_MXCSR)
		return 16;
	if (reg == GDB_REG_MXCSR)
		return 4;
	return reg < GDB_NUM_REGS ? 8 : 0;
}

static void put(char *reply, const char *s)
{
	ksnprintf(reply, GDB_PKT_MAX + 1, "%s", s);
}

static void put_error(char *reply, int code)
{
	ksnprintf(reply, GDB_PKT_MAX + 1, "E%02x", code & 0xff);
}

static void read_all_regs(const struct gdb_target_ops *ops, void *ctx,
			  char *reply)
{
	uint8_t val[16];
	size_t o = 0;

	for (unsigned int r = 0; r < GDB_NUM_REGS; r++) {
		unsigned int n = gdb_reg_size(r);

		if (ops->read_reg(ctx, r, val)) {
			/* "xx": unavailable in this context. */
			memset(reply + o, 'x', 2 * n);
			o += 2 * n;
			continue;
		}
		o += gdb_hex_encode(reply + o, val, n);
	}
	reply[o] = '\0';
}

static void write_all_regs(const struct gdb_target_ops *ops, void *ctx,
			   const char *hex, size_t len, char *reply)
{
	uint8_t val[16];
	size_t o = 0;

	for (unsigned int r = 0; r < GDB_NUM_REGS; r++) {
		unsigned int n = gdb_reg_size(r);

		/* A shorter 'G' leaves the remaining registers alone. */
		if (o + 2 * n > len)
			break;
		if (gdb_hex_decode(val, hex + o, n))
			ops->write_reg(ctx, r, val);
		o += 2 * n;
	}
	put(reply, "OK");
}

/* "ADDR,LEN" followed by @term (or the end when @term is 0). */
static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len,
			   char term)
{
	if (!gdb_parse_hex(p, addr) || **p != ',')
		return false;
	(*p)++;
	if (!gdb_parse_hex(p, len) || **p != term)
		return false;
	if (term)
		(*p)++;
	return true;
}

enum { E_ARGS = 0x01, E_RANGE = 0x02, E_MEM = 0x0e, E_REG = 0x16 };

#define MEM_CHUNK 64

static void read_memory(const struct gdb_target_ops *ops, void *ctx,
			const char *args, char *reply)
{
	uint64_t addr, len;
	uint8_t buf[MEM_CHUNK];
	size_t o = 0, chunk = MEM_CHUNK;

	if (!parse_addr_len(&args, &addr, &len, 0))
		return put_error(reply, E_ARGS);
	if (len > GDB_PKT_MAX / 2)
		len = GDB_PKT_MAX / 2; /* gdb asks again for the rest */
	while (len) {
		size_t n = len < chunk ? (size_t)len : chunk;

		/* Per byte after a failure: return what is readable. */
		if (ops->read_mem(ctx, addr, buf, n)) {
			if (n == 1)
				break;
			chunk = 1;
			continue;
		}
		o += gdb_hex_encode(reply + o, buf, n);
		addr += n;
		len -= n;
	}
	if (!o)
		return put_error(reply, E_MEM);
	reply[o] = '\0';
}

/* 'M' (hex data) and 'X' (binary data, already unescaped). */
static void write_memory(const struct gdb_target_ops *ops, void *ctx,
			 const char *args, size_t args_len, bool binary,
			 char *reply)
{
	const char *p = args;
	uint64_t addr, len;
	uint8_t buf[MEM_CHUNK];
	size_t avail;

	if (!parse_addr_len(&p, &addr, &len, ':'))
		return put_error(reply, E_ARGS);
	avail = args_len - (size_t)(p - args);
	if (len > GDB_PKT_MAX || (binary ? len : 2 * len) != avail)
		return put_error(reply, E_ARGS);
	while (len) {
		size_t n = len < MEM_CHUNK ? (size_t)len : MEM_CHUNK;

		if (binary)
			memcpy(buf, p, n);
		else if (!gdb_hex_decode(buf, p, n))
			return put_error(reply, E_ARGS);
		if (ops->write_mem(ctx, addr, buf, n))
			return put_error(reply, E_MEM);
		p += binary ? n : 2 * n;
		addr += n;
		len -= n;
	}
	put(reply, "OK");
}

static void read_one_reg(const struct gdb_target_ops *ops, void *ctx,
			 const char *args, char *reply)
{
	uint64_t reg;
	uint8_t val[16];
	unsigned int n;

	if (!gdb_parse_hex(&args, &reg) || *args)
		return put_error(reply, E_ARGS);
	n = reg < GDB_NUM_REGS ? gdb_reg_size((unsigned int)reg) : 0;
	if (!n)
		return put_error(reply, E_REG);
	if (ops->read_reg(ctx, (unsigned int)reg, val)) {
		memset(reply, 'x', 2 * n);
		reply[2 * n] = '\0';
		return;
	}
	reply[gdb_hex_encode(reply, val, n)] = '\0';
}

static void write_one_reg(const struct gdb_target_ops *ops, void *ctx,
			  const char *args, char *reply)
{
	uint64_t reg;
	uint8_t val[16];
	unsigned int n;

	if (!gdb_parse_hex(&args, &reg) || *args != '=')
		return put_error(reply, E_ARGS);
	args++;
	n = reg < GDB_NUM_REGS ? gdb_reg_size((unsigned int)reg) : 0;
	if (!n)
		return put_error(reply, E_REG);
	if (strlen(args) != 2 * n || !gdb_hex_decode(val, args, n))
		return put_error(reply, E_ARGS);
	if (ops->write_reg(ctx, (unsigned int)reg, val))
		return put_error(reply, E_REG);
	put(reply, "OK");
}

static void breakpoint(const struct gdb_target_ops *ops, void *ctx,
		       const char *args, bool insert, char *reply)
{
	uint64_t type, addr, kind;

	if (!gdb_parse_hex(&args, &type) || *args++ != ',' ||
	    !parse_addr_len(&args, &addr, &kind, 0))
		return put_error(reply, E_ARGS);
	if (type > GDB_WP_ACCESS) {
		reply[0] = '\0'; /* not supported: empty reply */
		return;
	}
	if (ops->breakpoint(ctx, (enum gdb_bp_type)type, addr, kind, insert))
		return put_error(reply, E_RANGE);
	put(reply, "OK");
}

/* One window of a qXfer object: 'm' (more follows) or 'l' (last). */
static void xfer(const char *doc, size_t doc_len, const char *args, char *reply)
{
	uint64_t off, len;

	if (!parse_addr_len(&args, &off, &len, 0))
		return put_error(reply, E_ARGS);
	if (len > GDB_PKT_MAX - 1)
		len = GDB_PKT_MAX - 1;
	if (off >= doc_len) {
		put(reply, "l");
		return;
	}
	if (len > doc_len - off)
		len = doc_len - off;
	reply[0] = off + len < doc_len ? 'm' : 'l';
	memcpy(reply + 1, doc + off, (size_t)len);
	reply[1 + len] = '\0';
}

static void threads_xml(const struct gdb_target_ops *ops, void *ctx,
			const char *args, char *reply)
{
	char doc[2048];
	unsigned int count = ops->thread_count(ctx);
	size_t o = 0;

	o += (size_t)ksnprintf(doc, sizeof(doc),
			       "<?xml version=\"1.0\"?>\n<threads>\n");
	for (unsigned int t = 1; t <= count && o + 100 < sizeof(doc); t++) {
		char name[32];
		unsigned int core =
			ops->thread_name(ctx, t, name, sizeof(name));

		name[sizeof(name) - 1] = '\0';
		o += (size_t)ksnprintf(
			doc + o, sizeof(doc) - o,
			"<thread id=\"%x\" core=\"%u\" name=\"%s\"/>\n", t,
			core, name);
	}
	o += (size_t)ksnprintf(doc + o, sizeof(doc) - o, "</threads>\n");
	xfer(doc, o, args, reply);
}

static void thread_list(const struct gdb_target_ops *ops, void *ctx,
			char *reply)
{
	unsigned int count = ops->thread_count(ctx);
	size_t o = 0;

	reply[o++] = 'm';
	for (unsigned int t = 1; t <= count && o + 12 < GDB_PKT_MAX; t++)
		o += (size_t)ksnprintf(reply + o, GDB_PKT_MAX + 1 - o, "%s%x",
				       t > 1 ? "," : "", t);
	reply[o] = '\0';
}

static void monitor(const struct gdb_target_ops *ops, void *ctx,
		    const char *hex, char *reply)
{
	char cmd[128], out[512];
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n >= sizeof(cmd) || !gdb_hex_decode(cmd, hex, n))
		return put_error(reply, E_ARGS);
	cmd[n] = '\0';
	out[0] = '\0';
	if (ops->monitor(ctx, cmd, out, sizeof(out)))
		return put_error(reply, E_ARGS);
	n = strnlen(out, sizeof(out) - 1);
	if (!n)
		return put(reply, "OK");
	reply[gdb_hex_encode(reply, out, n)] = '\0';
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void query(const struct gdb_target_ops *ops, void *ctx, const char *q,
		  char *reply)
{
	if (starts(q, "qSupported"))
		ksnprintf(reply, GDB_PKT_MAX + 1,
			  "PacketSize=%x;qXfer:features:read+;"
			  "qXfer:threads:read+;swbreak+;hwbreak+;"
			  "QStartNoAckMode+",
			  GDB_PKT_MAX);
	else if (starts(q, "qXfer:features:read:target.xml:"))
		xfer(gdb_target_xml, sizeof(gdb_target_xml) - 1,
		     q + strlen("qXfer:features:read:target.xml:"), reply);
	else if (starts(q, "qXfer:threads:read::"))
		threads_xml(ops, ctx, q + strlen("qXfer:threads:read::"),
			    reply);
	else if (!strcmp(q, "qfThreadInfo"))
		thread_list(ops, ctx, reply);
	else if (!strcmp(q, "qsThreadInfo"))
		put(reply, "l");
	else if (!strcmp(q, "qC"))
		ksnprintf(reply, GDB_PKT_MAX + 1, "QC%x",
			  ops->current_thread(ctx));
	else if (!strcmp(q, "qAttached"))
		put(reply, "1");
	else if (starts(q, "qRcmd,"))
		monitor(ops, ctx, q + strlen("qRcmd,"), reply);
	else
		reply[0] = '\0';
}

enum thread_how { THREAD_REGS, THREAD_CONT, THREAD_ALIVE };

/* "Hg TID" / "Hc TID" and "T TID": -1 and 0 mean any thread. */
static void thread_op(const struct gdb_target_ops *ops, void *ctx,
		      const char *args, enum thread_how how, char *reply)
{
	uint64_t tid;

	if (args[0] == '-' && args[1] == '1' && !args[2])
		tid = 0;
	else if (!gdb_parse_hex(&args, &tid) || *args)
		return put_error(reply, E_ARGS);
	if (tid > ops->thread_count(ctx))
		return put_error(reply, E_RANGE);
	if (how != THREAD_ALIVE &&
	    ops->select_thread(ctx, (unsigned int)tid, how == THREAD_CONT))
		return put_error(reply, E_RANGE);
	put(reply, "OK");
}

/* 'c ADDR' / 's ADDR': resume at ADDR. */
static bool resume_at(const struct gdb_target_ops *ops, void *ctx,
		      const char *args)
{
	uint64_t addr;

	if (!*args)
		return true;
	if (!gdb_parse_hex(&args, &addr) || *args)
		return false;
	return !ops->write_reg(ctx, GDB_REG_RIP, &addr);
}

enum gdb_action gdb_handle(const struct gdb_target_ops *ops, void *ctx,
			   const char *pkt, size_t len, char *reply)
{
	const char *args = len ? pkt + 1 : pkt;

	reply[0] = '\0';
	if (!len)
		return GDB_REPLY;
	switch (pkt[0]) {
	case '?':
		ops->stop_reply(ctx, reply, GDB_PKT_MAX + 1);
		break;
	case 'g':
		read_all_regs(ops, ctx, reply);
		break;
	case 'G':
		write_all_regs(ops, ctx, args, len - 1, reply);
		break;
	case 'p':
		read_one_reg(ops, ctx, args, reply);
		break;
	case 'P':
		write_one_reg(ops, ctx, args, reply);
		break;
	case 'm':
		read_memory(ops, ctx, args, reply);
		break;
	case 'M':
	case 'X':
		write_memory(ops, ctx, args, len - 1, pkt[0] == 'X', reply);
		break;
	case 'c':
	case 's':
		if (!resume_at(ops, ctx, args)) {
			put_error(reply, E_ARGS);
			break;
		}
		return pkt[0] == 'c' ? GDB_CONTINUE : GDB_STEP;
	case 'C': /* with a signal: tidal has none to deliver */
		return GDB_CONTINUE;
	case 'S':
		return GDB_STEP;
	case 'Z':
	case 'z':
		breakpoint(ops, ctx, args, pkt[0] == 'Z', reply);
		break;
	case 'q':
		query(ops, ctx, pkt, reply);
		break;
	case 'H':
		if (args[0] == 'g' || args[0] == 'c')
			thread_op(ops, ctx, args + 1,
				  args[0] == 'g' ? THREAD_REGS : THREAD_CONT,
				  reply);
		else
			put_error(reply, E_ARGS);
		break;
	case 'T':
		thread_op(ops, ctx, args, THREAD_ALIVE, reply);
		break;
	case 'k':
		return GDB_KILL;
	case 'D':
		put(reply, "OK");
		return GDB_DETACH;
	case 'Q':
		if (!strcmp(pkt, "QStartNoAckMode")) {
			put(reply, "OK");
			return GDB_NO_ACK;
		}
		break;
	case 'v':
		if (!strcmp(pkt, "vKill") || starts(pkt, "vKill;"))
			return GDB_KILL;
		break; /* vCont and the rest: empty, gdb uses c/s */
	default:
		break; /* unsupported: empty reply */
	}
	return GDB_REPLY;
}
