// SPDX-License-Identifier: MIT
/*
 * lib/gdb_proto.c on the host: framing, checksums, every packet the stub
 * answers against a fake target with a small memory window, and a fuzzer
 * that feeds random and mutated packets through the receiver and the
 * handler (run under ASan/UBSan: any out-of-bounds access fails).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gdb_proto.h"
#include "tests/host/tap.h"
#include "tests/host/xorshift.h"

#define MEM_BASE 0x1000u
#define MEM_SIZE 0x100u

struct fake {
	uint8_t mem[MEM_SIZE];
	uint64_t regs[GDB_NUM_REGS][2];
	unsigned int tid, cont, bps; /* cont: Hc thread, 0 for any */
};

static int f_read_reg(void *ctx, unsigned int reg, void *val)
{
	struct fake *f = ctx;

	if (reg >= GDB_REG_ST0 && reg < GDB_REG_FCTRL)
		return -1;
	memcpy(val, f->regs[reg], gdb_reg_size(reg));
	return 0;
}

static int f_write_reg(void *ctx, unsigned int reg, const void *val)
{
	struct fake *f = ctx;

	if (reg >= GDB_NUM_REGS)
		abort();
	memcpy(f->regs[reg], val, gdb_reg_size(reg));
	return 0;
}

static bool in_window(uint64_t addr, size_t n)
{
	return addr >= MEM_BASE && addr - MEM_BASE <= MEM_SIZE &&
	       n <= MEM_SIZE - (addr - MEM_BASE);
}

static int f_read_mem(void *ctx, uint64_t addr, void *buf, size_t n)
{
	struct fake *f = ctx;

	if (!in_window(addr, n))
		return -1;
	memcpy(buf, f->mem + (addr - MEM_BASE), n);
	return 0;
}

static int f_write_mem(void *ctx, uint64_t addr, const void *buf, size_t n)
{
	struct fake *f = ctx;

	if (!in_window(addr, n))
		return -1;
	memcpy(f->mem + (addr - MEM_BASE), buf, n);
	return 0;
}

static int f_breakpoint(void *ctx, enum gdb_bp_type type, uint64_t addr,
			uint64_t kind, bool insert)
{
	struct fake *f = ctx;

	if (type > GDB_WP_ACCESS)
		abort();
	if (!in_window(addr, 1))
		return -1;
	f->bps += insert ? 1 : -1;
	return 0;
}

static unsigned int f_count(void *ctx)
{
	return 2;
}

static int f_select(void *ctx, unsigned int tid, bool cont)
{
	struct fake *f = ctx;

	if (tid > 2)
		abort(); /* the parser checks the range first */
	if (cont)
		f->cont = tid;
	else if (tid)
		f->tid = tid;
	return 0;
}

static unsigned int f_name(void *ctx, unsigned int tid, char *out, size_t cap)
{
	if (tid < 1 || tid > 2)
		abort();
	snprintf(out, cap, "vCPU %u (CPU %u)", tid - 1, tid + 4);
	return tid + 4;
}

static unsigned int f_current(void *ctx)
{
	return ((struct fake *)ctx)->tid;
}

static int f_monitor(void *ctx, const char *cmd, char *out, size_t cap)
{
	if (strcmp(cmd, "hello"))
		return -1;
	snprintf(out, cap, "hi there\n");
	return 0;
}

static void f_stop(void *ctx, char *out, size_t cap)
{
	snprintf(out, cap, "T05thread:%x;", ((struct fake *)ctx)->tid);
}

static const struct gdb_target_ops fake_ops = {
	.read_reg = f_read_reg,
	.write_reg = f_write_reg,
	.read_mem = f_read_mem,
	.write_mem = f_write_mem,
	.breakpoint = f_breakpoint,
	.thread_count = f_count,
	.select_thread = f_select,
	.current_thread = f_current,
	.thread_name = f_name,
	.monitor = f_monitor,
	.stop_reply = f_stop,
};

static struct fake fk = {.tid = 1};
static char reply[GDB_PKT_MAX + 1];

static enum gdb_action run(const char *pkt)
{
	return gdb_handle(&fake_ops, &fk, pkt, strlen(pkt), reply);
}

/* Feed a framed string to a receiver; the last event. */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t n)
{
	enum gdb_rx_event ev = GDB_RX_NONE;

	for (size_t i = 0; i < n; i++) {
		enum gdb_rx_event e = gdb_rx_byte(rx, (uint8_t)s[i]);

		if (e != GDB_RX_NONE)
			ev = e;
	}
	return ev;
}

static void test_framing(void)
{
	struct gdb_rx rx;
	char out[64];
	size_t n;

	gdb_rx_reset(&rx);
	is_int(feed(&rx, "$m1000,4#8e", 11), GDB_RX_PACKET, "good packet");
	ok(!strcmp(rx.buf, "m1000,4"), "payload kept");
	is_int(feed(&rx, "$m1000,4#8f", 11), GDB_RX_BAD, "bad checksum");
	is_int(feed(&rx, "$m1000,4#zz", 11), GDB_RX_BAD, "non-hex checksum");
	is_int(feed(&rx, "\x03", 1), GDB_RX_INTERRUPT,
	       "Ctrl-C outside a packet");
	is_int(feed(&rx, "junk$?#3f", 9), GDB_RX_PACKET, "resync on '$'");
	n = gdb_frame(out, sizeof(out), "a$b#c}d*", 8);
	ok(n > 0 && !strncmp(out,
			     "$a}\x04"
			     "b}\x03"
			     "c}]d}\x0a#",
			     n - 2),
	   "frame escapes $ # } *: %.*s", (int)n, out);
	is_int(feed(&rx, out, n), GDB_RX_PACKET, "framed packet received");
	ok(rx.len == 8 && !memcmp(rx.buf, "a$b#c}d*", 8), "escapes undone");
	is_int(gdb_frame(out, 5, "abc", 3), 0, "frame refuses a small buffer");

	/* A packet longer than the buffer: rejected, no overflow. */
	static char big[3 * GDB_PKT_MAX];
	memset(big, 'a', sizeof(big));
	big[0] = '$';
	gdb_rx_reset(&rx);
	ok(feed(&rx, big, sizeof(big)) == GDB_RX_NONE, "huge packet buffered");
	is_int(feed(&rx, "#00", 3), GDB_RX_BAD, "huge packet rejected");
}

static void test_regs(void)
{
	char pkt[GDB_PKT_MAX];

	fk.regs[GDB_REG_RIP][0] = 0xffffffff81000000ull;
	run("g");
	ok(strlen(reply) > 2 * 8 * 17, "g: %zu hex digits", strlen(reply));
	ok(!strncmp(reply + 2 * 8 * 16, "00000081ffffffff", 16), "g: rip");
	run("p10");
	ok(!strcmp(reply, "00000081ffffffff"), "p10 is rip: %s", reply);
	run("p18");
	ok(!strcmp(reply, "xxxxxxxxxxxxxxxxxxxx"), "st0 unavailable: %s",
	   reply);
	run("P0=0102030405060708");
	ok(!strcmp(reply, "OK") && fk.regs[0][0] == 0x0807060504030201ull,
	   "P writes rax");
	run("P0=01");
	ok(reply[0] == 'E', "P with a short value: %s", reply);
	run("p999");
	ok(reply[0] == 'E', "p of no register: %s", reply);
	snprintf(pkt, sizeof(pkt), "G%s", "1111111111111111");
	run(pkt);
	ok(!strcmp(reply, "OK") && fk.regs[0][0] == 0x1111111111111111ull,
	   "short G writes the first register");
}

static void test_memory(void)
{
	run("M1000,4:deadbeef");
	ok(!strcmp(reply, "OK"), "M");
	run("m1000,4");
	ok(!strcmp(reply, "deadbeef"), "m reads it back: %s", reply);
	run("m10fe,8");
	ok(!strcmp(reply, "0000"), "m across the end: partial %s", reply);
	run("m0,4");
	ok(!strcmp(reply, "E0e"), "m of unmapped: %s", reply);
	run("mffffffffffffffff,ffffffffffffffff");
	ok(reply[0] == 'E', "m at the top with a huge length: %s", reply);
	run("m10000000000000000,1");
	ok(reply[0] == 'E', "m with 17 digits: %s", reply);
	run("M1000,4:dead");
	ok(reply[0] == 'E', "M with too little data: %s", reply);
	run("M1000,2:zzzz");
	ok(reply[0] == 'E', "M with bad hex: %s", reply);
	ok(gdb_handle(&fake_ops, &fk, "X1004,3:a#}", 11, reply) == GDB_REPLY &&
		   !strcmp(reply, "OK") && !memcmp(fk.mem + 4, "a#}", 3),
	   "X writes binary data");
	run("X1004,5:ab");
	ok(reply[0] == 'E', "X with a wrong length: %s", reply);
	run("M0,1:00");
	ok(!strcmp(reply, "E0e"), "M to unmapped: %s", reply);
}

static void test_control(void)
{
	is_int(run("c"), GDB_CONTINUE, "c");
	is_int(run("s"), GDB_STEP, "s");
	is_int(run("c1000"), GDB_CONTINUE, "c ADDR");
	ok(fk.regs[GDB_REG_RIP][0] == 0x1000, "c ADDR sets rip");
	is_int(run("cxyz"), GDB_REPLY, "c with junk is an error");
	is_int(run("k"), GDB_KILL, "k");
	is_int(run("vKill;1"), GDB_KILL, "vKill");
	is_int(run("D"), GDB_DETACH, "D");
	run("Z0,1010,1");
	ok(!strcmp(reply, "OK") && fk.bps == 1, "Z0");
	run("z0,1010,1");
	ok(!strcmp(reply, "OK") && fk.bps == 0, "z0");
	run("Z2,0,8");
	ok(reply[0] == 'E', "Z2 at an unmapped address: %s", reply);
	run("Z9,1000,1");
	ok(!reply[0], "Z9 unsupported: empty reply");
	run("Z0");
	ok(reply[0] == 'E', "Z0 without arguments: %s", reply);
}

static void test_queries(void)
{
	size_t total = 0;
	char pkt[96];

	run("qSupported:multiprocess+;swbreak+");
	ok(strstr(reply, "qXfer:features:read+") &&
		   strstr(reply, "PacketSize="),
	   "qSupported: %s", reply);
	for (;;) {
		snprintf(pkt, sizeof(pkt),
			 "qXfer:features:read:target.xml:%zx,100", total);
		run(pkt);
		if (reply[0] != 'm' && reply[0] != 'l')
			break;
		total += strlen(reply) - 1;
		if (reply[0] == 'l')
			break;
	}
	is_int(total, strlen(gdb_target_xml), "target.xml read in windows");
	ok(strstr(gdb_target_xml, "name=\"cr3\"") &&
		   strstr(gdb_target_xml, "name=\"fs_base\""),
	   "target.xml has control and segment registers");
	run("qXfer:threads:read::0,fff");
	ok(reply[0] == 'l' && strstr(reply, "<thread id=\"2\" core=\"6\" "
					    "name=\"vCPU 1 (CPU 6)\"/>"),
	   "threads: the target's names and cores: %s", reply);
	run("qfThreadInfo");
	ok(!strcmp(reply, "m1,2"), "qfThreadInfo: %s", reply);
	run("Hg2");
	ok(!strcmp(reply, "OK") && fk.tid == 2, "Hg2 selects CPU 1");
	run("qC");
	ok(!strcmp(reply, "QC2"), "qC: %s", reply);
	run("Hg3");
	ok(reply[0] == 'E', "Hg3: no such CPU");
	run("Hg0");
	ok(!strcmp(reply, "OK") && fk.tid == 2, "Hg0 (any) keeps thread 2");
	run("Hc1");
	ok(!strcmp(reply, "OK") && fk.cont == 1 && fk.tid == 2,
	   "Hc1 picks the thread to step, Hg unchanged");
	run("Hc-1");
	ok(!strcmp(reply, "OK") && fk.cont == 0, "Hc-1: any thread steps");
	run("Hc2");
	run("Hc0");
	ok(!strcmp(reply, "OK") && fk.cont == 0, "Hc0: any thread steps");
	run("Hc3");
	ok(reply[0] == 'E' && fk.cont == 0, "Hc3: no such thread");
	run("Hc-2");
	ok(reply[0] == 'E', "Hc-2: refused");
	run("Hg");
	ok(reply[0] == 'E', "Hg without a thread: refused");
	run("Hgffffffffffffffff1");
	ok(reply[0] == 'E', "Hg with 17 digits: refused");
	run("T2");
	ok(!strcmp(reply, "OK"), "T2 alive");
	run("T5");
	ok(reply[0] == 'E', "T5 dead");
	run("?");
	ok(!strcmp(reply, "T05thread:2;"), "?: %s", reply);
	run("qRcmd,68656c6c6f");
	ok(!strcmp(reply, "68692074686572650a"), "monitor hello: %s", reply);
	run("qRcmd,6");
	ok(reply[0] == 'E', "monitor with odd hex");
	run("qRcmd,6e6f7065");
	ok(reply[0] == 'E', "unknown monitor command");
	run("vMustReplyEmpty");
	ok(!reply[0], "unknown v packet: empty");
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return xorshift64(&rng);
}

static const char *const seeds[] = {
	"g",
	"G00",
	"p10",
	"P10=0000000000000000",
	"m1000,10",
	"M1000,2:abcd",
	"X1000,1:a",
	"Z0,1000,1",
	"z1,1000,1",
	"Z2,1008,8",
	"qSupported",
	"qXfer:features:read:target.xml:0,ffff",
	"qXfer:threads:read::10,20",
	"Hg1",
	"T1",
	"qRcmd,68656c6c6f",
	"c",
	"s1000",
	"?",
	"qC",
};

/* Random bytes and mutated good packets, framed and raw. */
static void test_fuzz(void)
{
	static char pkt[GDB_PKT_MAX + 64], framed[2 * GDB_PKT_MAX + 16];
	struct gdb_rx rx;
	unsigned long packets = 0, handled = 0;
	const unsigned long rounds = 200000;

	gdb_rx_reset(&rx);
	for (unsigned long i = 0; i < rounds; i++) {
		const char *seed =
			seeds[rnd() % (sizeof(seeds) / sizeof(*seeds))];
		size_t n = strlen(seed);

		memcpy(pkt, seed, n);
		for (int m = rnd() % 4; m > 0; m--) {
			size_t at = rnd() % (n + 1);

			switch (rnd() % 3) {
			case 0: /* replace a byte */
				if (n)
					pkt[rnd() % n] = (char)rnd();
				break;
			case 1: /* insert bytes */
				if (n < GDB_PKT_MAX - 16)
					pkt[n++] =
						"0123456789abcdef,:;=-"[rnd() %
									21];
				break;
			default: /* cut */
				n = at;
			}
		}
		if (rnd() % 50 == 0) { /* sometimes very long */
			size_t extra = rnd() % (GDB_PKT_MAX + 32);

			memset(pkt + n, 'f',
			       extra < sizeof(pkt) - n ? extra : 0);
			n += extra < sizeof(pkt) - n ? extra : 0;
		}
		size_t fl = gdb_frame(framed, sizeof(framed), pkt, n);

		if (fl && rnd() % 8 == 0)
			framed[rnd() % fl] =
				(char)rnd(); /* corrupt the frame */
		for (size_t b = 0; b < fl; b++) {
			if (gdb_rx_byte(&rx, (uint8_t)framed[b]) !=
			    GDB_RX_PACKET)
				continue;
			packets++;
			gdb_handle(&fake_ops, &fk, rx.buf, rx.len, reply);
			if (strlen(reply) > GDB_PKT_MAX)
				abort();
			handled++;
		}
	}
	diag("fuzz: %lu rounds, %lu packets received and handled", rounds,
	     packets);
	ok(packets > rounds / 2 && handled == packets,
	   "fuzzer: every received packet handled, replies within bounds");
}

int main(void)
{
	test_framing();
	test_regs();
	test_memory();
	test_control();
	test_queries();
	test_fuzz();
	return tap_done();
}
