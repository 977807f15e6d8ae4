/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART (the guest's COM1): 16-byte receive FIFO, IER, IIR, FCR,
 * LCR, MCR (with loopback), LSR, MSR, scratch and divisor latch, and its
 * interrupt output (IIR says which source, in 16550 priority order).
 *
 * Transmission is instantaneous: a byte written to THR leaves at once (or
 * goes to the receive FIFO in loopback), so THR and the transmit FIFO are
 * always empty and LSR always shows THRE and TEMT; the THRE interrupt is
 * raised after each write and when it is enabled.  No baud-rate timing:
 * the character timeout interrupt is reported as soon as the FIFO holds
 * data below its trigger level.  The IRQ output is the register state
 * gated by MCR.OUT2, as on PCs.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_VUART_H
#define TIDAL_VMM_VUART_H

#include "lib/compiler.h"

#define UART_FIFO 16

/* Register offsets. */
#define UART_RBR_THR 0
#define UART_IER     1
#define UART_IIR_FCR 2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_MSR     6
#define UART_SCR     7

#define UART_IER_RDI   0x01
#define UART_IER_THRI  0x02
#define UART_IER_RLSI  0x04
#define UART_IER_MSI   0x08
#define UART_IIR_NONE  0x01
#define UART_IIR_MSI   0x00
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_RLSI  0x06
#define UART_IIR_TOUT  0x0c
#define UART_IIR_FIFOS 0xc0
#define UART_FCR_EN    0x01
#define UART_FCR_CLRRX 0x02
#define UART_LCR_DLAB  0x80
#define UART_MCR_OUT2  0x08
#define UART_MCR_LOOP  0x10
#define UART_LSR_DR    0x01
#define UART_LSR_OE    0x02
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40

struct u16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t msr;	 /* modem status, deltas in bits 0-3 */
	uint8_t lsr_err; /* OE until LSR is read */
	bool thre_irq;	 /* THR-empty interrupt pending */
	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_len;
};

void u16550_init(struct u16550 *u);
uint8_t u16550_read(struct u16550 *u, unsigned int reg);
/* A register write; returns the byte to transmit, or -1. */
int u16550_write(struct u16550 *u, unsigned int reg, uint8_t val);
/* A byte arrived from outside; false if dropped (loopback, overrun). */
bool u16550_receive(struct u16550 *u, uint8_t byte);
/* Receive FIFO room left (how many bytes the owner may feed now). */
unsigned int u16550_rx_room(const struct u16550 *u);
/* The interrupt output (IRQ 4 for COM1). */
bool u16550_irq(const struct u16550 *u);

#endif
