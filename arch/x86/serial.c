// SPDX-License-Identifier: MIT
/*
 * Polled output on COM1 (115200 8N1), mirrored to port 0xE9 which QEMU
 * (-debugcon) and Bochs (port_e9_hack) print.  Input is polled too (it
 * feeds the guest's COM1); no interrupts.
 */
#include "arch/x86/serial.h"
#include "arch/x86/cpu.h"

#define UART_THR 0 /* transmit holding register */
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LSR_DR	 BIT(0) /* a byte was received */
#define LSR_THRE BIT(5) /* room for one more byte */
#define LSR_TEMT BIT(6) /* everything sent */

/* Bounded waits: a missing or stuck UART must not hang the hypervisor. */
#define UART_SPIN_LIMIT 1000000

static bool uart_present;

void serial_init(void)
{
	/* The scratch register tells whether a UART answers at all. */
	outb(COM1_PORT + UART_SCR, 0x5a);
	uart_present = inb(COM1_PORT + UART_SCR) == 0x5a;
	if (!uart_present)
		return;
	outb(COM1_PORT + UART_IER, 0x00);
	outb(COM1_PORT + UART_LCR, 0x80);
	outb(COM1_PORT + UART_DLL, 1);
	outb(COM1_PORT + UART_DLM, 0);
	outb(COM1_PORT + UART_LCR, 0x03);
	outb(COM1_PORT + UART_FCR, 0xc7);
	outb(COM1_PORT + UART_MCR, 0x03);
}

static void uart_wait(uint8_t bit)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++) {
		if (inb(COM1_PORT + UART_LSR) & bit)
			return;
		cpu_relax();
	}
}

void serial_putc(char c)
{
	outb(0xe9, (uint8_t)c);
	if (!uart_present)
		return;
	uart_wait(LSR_THRE);
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_flush(void)
{
	if (uart_present)
		uart_wait(LSR_TEMT);
}

int serial_getc(void)
{
	if (!uart_present || !(inb(COM1_PORT + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1_PORT + UART_THR);
}
