/* SPDX-License-Identifier: MIT */
/*
 * The 8254 programmable interval timer (ports 0x40-0x43) and the PC's
 * system control port B (0x61), whose bit 0 gates channel 2 and whose bit
 * 5 shows channel 2's output (the calibration loops of PC kernels poll
 * it).  Counters are not ticked: each is derived from the time (ns) the
 * caller passes in, at 1.193182 MHz.
 *
 * Emulated: channels 0-2; modes 0 (interrupt on terminal count), 1 and 5
 * (gate-triggered one-shot and strobe, counted like 0 and 4 from the gate's
 * rising edge), 2 (rate generator), 3 (square wave), 4 (software strobe);
 * LSB, MSB and LSB-then-MSB access; counter latch and read-back (count and
 * status); BCD counting (4 decimal digits, a count of 0 meaning 10000; the
 * count read back in BCD).  Not emulated: channel 1's refresh role.
 *
 * Channel 0's output drives ISA IRQ 0: i8254_irq0_edges() says whether it
 * rose since the last call, i8254_next_deadline() when it next will.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_VPIT_H
#define TIDAL_VMM_VPIT_H

#include "lib/compiler.h"

#define PIT_HZ 1193182u

struct i8254_chan {
	uint8_t mode, access, bcd;
	uint32_t reload;     /* 1..65536 (BCD: 1..10000), in binary */
	uint64_t start_ns;   /* counting since (gate-adjusted) */
	uint64_t frozen;     /* ticks done while the gate was low */
	uint64_t irq_seen;   /* output rises already reported */
	uint16_t latch;	     /* latched count */
	uint8_t latch_bytes; /* latched count bytes left to read */
	uint8_t status;	     /* latched status */
	bool status_latched;
	bool read_hi, write_hi; /* LSB-then-MSB flip-flops */
	uint8_t write_lo;	/* LSB written, waiting for the MSB */
	bool gate, counting, null_count;
};

struct i8254 {
	struct i8254_chan ch[3];
	uint8_t port61; /* bits 0-3 as written */
};

void i8254_init(struct i8254 *p, uint64_t now_ns);
/* A byte access to 0x40-0x43 at time @now_ns. */
uint8_t i8254_read(struct i8254 *p, uint16_t port, uint64_t now_ns);
void i8254_write(struct i8254 *p, uint16_t port, uint8_t val, uint64_t now_ns);
/* Port 0x61. */
uint8_t i8254_port61_read(struct i8254 *p, uint64_t now_ns);
void i8254_port61_write(struct i8254 *p, uint8_t val, uint64_t now_ns);
/* Channel 0's output rose since the last call (one IRQ 0 edge, coalesced). */
bool i8254_irq0_edges(struct i8254 *p, uint64_t now_ns);
/* When channel 0's output next rises (ns), or UINT64_MAX. */
uint64_t i8254_next_deadline(const struct i8254 *p, uint64_t now_ns);
/* Channel @ch's count and output at @now_ns (for tests and the above). */
uint16_t i8254_count(const struct i8254 *p, unsigned int ch, uint64_t now_ns);
bool i8254_out(const struct i8254 *p, unsigned int ch, uint64_t now_ns);

#endif
