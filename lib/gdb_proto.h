/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote serial protocol, without hardware: packet framing (a
 * byte-at-a-time receiver that checks checksums and lengths), hex
 * helpers, and the command handler that turns one packet into one reply
 * through a table of target operations.  arch/x86/gdbstub.c supplies the
 * operations (registers, memory, breakpoints, CPUs) and the serial port;
 * tests/host/test_gdb_proto.c drives the same code with a fake target
 * and random bytes.  Nothing here trusts the bytes it is given.
 */
#ifndef TIDAL_LIB_GDB_PROTO_H
#define TIDAL_LIB_GDB_PROTO_H

#include "lib/compiler.h"

/* Largest packet payload accepted or produced (announced as PacketSize). */
#define GDB_PKT_MAX 4096

enum gdb_rx_event {
	GDB_RX_NONE,	  /* byte consumed, nothing complete yet */
	GDB_RX_PACKET,	  /* a packet with a good checksum: ack with '+' */
	GDB_RX_BAD,	  /* bad checksum or too long: nak with '-' */
	GDB_RX_INTERRUPT, /* Ctrl-C (0x03) outside a packet */
};

struct gdb_rx {
	int state;
	uint8_t sum, csum;
	bool overflow, escaped;
	size_t len;
	char buf[GDB_PKT_MAX + 1]; /* payload, unescaped, NUL-terminated */
};

void gdb_rx_reset(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/*
 * Frame @len bytes of @data as "$data#xx" into @out (escaping '$', '#',
 * '}' and '*').  Returns the framed length, or 0 if @cap is too small.
 */
size_t gdb_frame(char *out, size_t cap, const char *data, size_t len);

int gdb_hex_val(char c);
/* Parse up to 16 hex digits at *@p; false if there are none or too many. */
bool gdb_parse_hex(const char **p, uint64_t *out);
/* Encode @n bytes as 2n hex digits (no NUL); returns 2n. */
size_t gdb_hex_encode(char *out, const void *in, size_t n);
/* Decode exactly 2n hex digits of @in; false on a bad digit. */
bool gdb_hex_decode(void *out, const char *in, size_t n);

enum gdb_bp_type {
	GDB_BP_SW = 0,	  /* Z0: int3 */
	GDB_BP_HW = 1,	  /* Z1: execution, debug register */
	GDB_WP_WRITE = 2, /* Z2 */
	GDB_WP_READ = 3,  /* Z3: x86 has no read-only watch: read/write */
	GDB_WP_ACCESS = 4 /* Z4 */
};

/* What the stub should do after a packet. */
enum gdb_action {
	GDB_REPLY,    /* send the reply and wait for the next packet */
	GDB_CONTINUE, /* send nothing, resume */
	GDB_STEP,     /* send nothing, resume for one instruction */
	GDB_DETACH,   /* send the reply ("OK"), drop breakpoints, resume */
	GDB_KILL,     /* no reply; end the run */
	GDB_NO_ACK,   /* send the reply, then stop sending and expecting acks */
};

/*
 * The target.  Register numbers follow gdb_target_xml (GDB_REG_*); sizes
 * come from gdb_reg_size().  Every operation returns 0 or a negative
 * value that becomes an "E.." reply.
 */
struct gdb_target_ops {
	int (*read_reg)(void *ctx, unsigned int reg, void *val);
	int (*write_reg)(void *ctx, unsigned int reg, const void *val);
	int (*read_mem)(void *ctx, uint64_t addr, void *buf, size_t n);
	int (*write_mem)(void *ctx, uint64_t addr, const void *buf, size_t n);
	int (*breakpoint)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			  uint64_t kind, bool insert);
	/*
	 * Threads are 1..thread_count().  select_thread: "Hg TID" picks the
	 * thread g/p/m/... act on (@cont false), "Hc TID" the one a step
	 * runs (@cont true); @tid 0 is "any" ("0" or "-1" from gdb).
	 */
	unsigned int (*thread_count)(void *ctx);
	int (*select_thread)(void *ctx, unsigned int tid, bool cont);
	unsigned int (*current_thread)(void *ctx);
	/* Name of thread @tid for qXfer:threads; returns its core. */
	unsigned int (*thread_name)(void *ctx, unsigned int tid, char *out,
				    size_t cap);
	/* "monitor CMD": write text for the console into @out. */
	int (*monitor)(void *ctx, const char *cmd, char *out, size_t cap);
	/* The stop reply for '?' (e.g. "T05thread:1;"). */
	void (*stop_reply)(void *ctx, char *out, size_t cap);
};

/* The x86-64 register file as described by gdb_target_xml. */
enum {
	GDB_REG_RAX = 0,
	GDB_REG_RSP = 7,
	GDB_REG_R8 = 8,
	GDB_REG_RIP = 16,
	GDB_REG_EFLAGS = 17,
	GDB_REG_CS = 18, /* then ss ds es fs gs */
	GDB_REG_ST0 = 24,
	GDB_REG_FCTRL = 32, /* to fop: 8 registers */
	GDB_REG_XMM0 = 40,
	GDB_REG_MXCSR = 56,
	GDB_REG_FS_BASE = 57,
	GDB_REG_GS_BASE = 58,
	GDB_REG_CR0 = 59, /* then cr2 cr3 cr4 cr8 efer */
	GDB_REG_CR2,
	GDB_REG_CR3,
	GDB_REG_CR4,
	GDB_REG_CR8,
	GDB_REG_EFER,
	GDB_NUM_REGS
};

/* Bytes of register @reg, 0 if there is no such register. */
unsigned int gdb_reg_size(unsigned int reg);
extern const char gdb_target_xml[];

/*
 * Handle one packet (@pkt, NUL-terminated, @len bytes).  The reply
 * payload (unframed, NUL-terminated) goes to @reply, which must hold
 * GDB_PKT_MAX + 1 bytes.
 */
enum gdb_action gdb_handle(const struct gdb_target_ops *ops, void *ctx,
			   const char *pkt, size_t len, char *reply);

#endif
