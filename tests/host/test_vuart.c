// SPDX-License-Identifier: MIT
/*
 * The 16550A model (vmm/vuart.c): receive FIFO and trigger levels, IIR
 * priorities, THRE, overrun, loopback with MCR-to-MSR wiring, and the
 * interrupt output gated by OUT2.
 */
#include "tests/host/tap.h"
#include "vmm/vuart.h"

static void test_fifo(void)
{
	struct u16550 u;
	bool all = true;

	u16550_init(&u);
	u16550_write(&u, UART_IIR_FCR, 0x87); /* FIFO on, trigger 8 */
	is_int(u16550_rx_room(&u), 16, "16-byte receive FIFO");
	for (int i = 0; i < 16; i++)
		all &= u16550_receive(&u, (uint8_t)('a' + i));
	ok(all, "16 bytes fit");
	ok(!u16550_receive(&u, 'x'), "the 17th overruns");
	is_int(u16550_read(&u, UART_LSR), 0x63, "LSR: DR, OE, THRE, TEMT");
	is_int(u16550_read(&u, UART_LSR), 0x61, "OE clears on read");
	is_int(u16550_read(&u, UART_RBR_THR), 'a', "first in, first out");
	for (int i = 1; i < 16; i++)
		u16550_read(&u, UART_RBR_THR);
	is_int(u16550_read(&u, UART_LSR) & 1, 0, "empty after 16 reads");
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc1, "IIR: FIFOs on, none");
	u16550_write(&u, UART_IIR_FCR, 0x00);
	ok(u16550_receive(&u, 1) && !u16550_receive(&u, 2),
	   "FIFO off: a one-byte holding register");
}

static void test_iir(void)
{
	struct u16550 u;

	u16550_init(&u);
	u16550_write(&u, UART_IIR_FCR, 0x47); /* trigger 4 */
	u16550_write(&u, UART_MCR, UART_MCR_OUT2);
	u16550_write(&u, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	ok(!u16550_irq(&u), "nothing pending, no IRQ");
	u16550_receive(&u, 'q');
	is_int(u16550_read(&u, UART_IIR_FCR), 0xcc,
	       "below trigger: character timeout");
	for (int i = 0; i < 3; i++)
		u16550_receive(&u, 'r');
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc4, "at trigger: RX data");
	ok(u16550_irq(&u), "IRQ raised");
	u16550_write(&u, UART_MCR, 0);
	ok(!u16550_irq(&u), "OUT2 low gates the IRQ");
	u16550_write(&u, UART_MCR, UART_MCR_OUT2);
	for (int i = 0; i < 13; i++)
		u16550_receive(&u, 's');
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc6,
	       "overrun: line status beats RX data");
	u16550_read(&u, UART_LSR);
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc4, "then RX data");
	u16550_write(&u, UART_IIR_FCR, 0x47 | UART_FCR_CLRRX);
	u16550_write(&u, UART_IER, UART_IER_THRI);
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc2,
	       "enabling THRE with THR empty raises it");
	is_int(u16550_read(&u, UART_IIR_FCR), 0xc1, "reading IIR cleared it");
	is_int(u16550_write(&u, UART_RBR_THR, 'z'), 'z', "THR byte sent");
	ok(u16550_irq(&u), "THRE again after the byte left");
	u16550_write(&u, UART_IER, 0);
	ok(!u16550_irq(&u), "IER 0: no IRQ");
}

static void test_loopback(void)
{
	struct u16550 u;

	u16550_init(&u);
	u16550_write(&u, UART_IIR_FCR, 0x07);
	u16550_write(&u, UART_MCR, UART_MCR_LOOP | 0x0b); /* DTR RTS OUT2 */
	is_int(u16550_read(&u, UART_MSR) & 0xf0, 0xb0,
	       "loopback: DTR->DSR, RTS->CTS, OUT2->DCD");
	is_int(u16550_read(&u, UART_MSR) & 0x0f, 0, "MSR deltas clear on read");
	u16550_write(&u, UART_MCR, UART_MCR_LOOP | 0x04); /* OUT1 only */
	is_int(u16550_read(&u, UART_MSR), 0x4b, "OUT1->RI, deltas CTS DSR DCD");
	is_int(u16550_write(&u, UART_RBR_THR, 'L'), -1,
	       "loopback: nothing leaves");
	u16550_write(&u, UART_RBR_THR, 'B');
	ok(!u16550_receive(&u, 'X'), "outside input ignored in loopback");
	is_int(u16550_read(&u, UART_RBR_THR), 'L', "byte looped back");
	is_int(u16550_read(&u, UART_RBR_THR), 'B', "in order");
	u16550_write(&u, UART_LCR, UART_LCR_DLAB);
	u16550_write(&u, UART_RBR_THR, 0x0c);
	u16550_write(&u, UART_IER, 0x00);
	is_int(u16550_read(&u, UART_RBR_THR), 0x0c, "divisor latch low");
	u16550_write(&u, UART_LCR, 0x03);
	is_int(u16550_read(&u, UART_LSR) & 1, 0, "DLAB write went nowhere");
}

int main(void)
{
	test_fifo();
	test_iir();
	test_loopback();
	return tap_done();
}
