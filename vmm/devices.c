// SPDX-License-Identifier: MIT
/*
 * Emulated I/O devices: a 16550 UART at COM1, the 0xE9 debug port and the
 * exit port.  Guest output is collected a line at a time and printed on
 * tidal's console with a "guest: " prefix, with anything unprintable
 * replaced, so that a guest cannot forge tidal's own log lines or send
 * control sequences to the terminal.  String I/O (INS/OUTS, with or
 * without REP) moves its elements through the guest's page tables.
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "lib/spinlock.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/printf.h"

/* 16550 registers (offsets from the base port). */
#define UART_RBR_THR  0
#define UART_IER      1
#define UART_IIR_FCR  2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5
#define UART_MSR      6
#define UART_SCR      7
#define UART_LCR_DLAB 0x80
#define UART_LSR_IDLE 0x60 /* THR empty, transmitter empty */

static void line_flush(struct line_buf *lb)
{
	if (!lb->len)
		return;
	lb->buf[lb->len] = '\0';
	printk("guest: %s\n", lb->buf);
	lb->len = 0;
}

static void line_putc(struct line_buf *lb, char c)
{
	if (c == '\n') {
		line_flush(lb);
		return;
	}
	if (c == '\r')
		return;
	if (c == '\t')
		c = ' ';
	if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
		c = '?';
	lb->buf[lb->len++] = c;
	if (lb->len == sizeof(lb->buf) - 1)
		line_flush(lb);
}

void console_write(struct vm *vm, struct line_buf *lb, const char *s, size_t n)
{
	(void)vm;
	for (size_t i = 0; i < n; i++)
		line_putc(lb, s[i]);
}

void devices_flush(struct vm *vm)
{
	line_flush(&vm->com1_out);
	line_flush(&vm->e9_out);
}

static uint8_t uart_read(struct uart16550 *u, unsigned int reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : 0; /* no input */
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		/* No interrupt pending; FIFO bits mirror FCR's enable. */
		return 0x01 | (u->fcr & 1 ? 0xc0 : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_IDLE;
	case UART_MSR:
		return 0xb0; /* CTS, DSR, DCD */
	default:
		return u->scr;
	}
}

static void uart_write(struct vm *vm, unsigned int reg, uint8_t val)
{
	struct uart16550 *u = &vm->uart;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			line_putc(&vm->com1_out, (char)val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case UART_IIR_FCR:
		u->fcr = val;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		break; /* LSR, MSR: read-only */
	}
}

static uint32_t port_io(struct vm *vm, uint16_t port, unsigned int size,
		       bool in, uint32_t val)
{
	if (port >= TIDAL_PORT_COM1 && port < TIDAL_PORT_COM1 + 8) {
		unsigned int reg = port - TIDAL_PORT_COM1;

		/* Wider accesses touch the following registers too. */
		uint32_t out = 0;

		for (unsigned int i = 0; i < size && reg + i < 8; i++) {
			if (in)
				out |= (uint32_t)uart_read(&vm->uart, reg + i)
				       << (8 * i);
			else
				uart_write(vm, reg + i,
					   (uint8_t)(val >> (8 * i)));
		}
		return out;
	}
	if (port == TIDAL_PORT_DEBUG) {
		if (in)
			return 0xe9;
		line_putc(&vm->e9_out, (char)val);
		return 0;
	}
	if (port == TIDAL_PORT_EXIT && !in) {
		devices_flush(vm);
		if (vm_exit_with(vm, (int)val))
			printk("tidal: vm: guest exited with status %u (exit "
			       "port)\n",
			       val);
		return 0;
	}
	return 0xffffffffu; /* nothing there */
}

/* Devices are the VM's, shared by its vCPUs: one access at a time. */
uint32_t devices_port_io(struct vm *vm, uint16_t port, unsigned int size,
			 bool in, uint32_t val)
{
	uint32_t r;

	spin_lock(&vm->dev_lock);
	r = port_io(vm, port, size, in, val);
	spin_unlock(&vm->dev_lock);
	return r;
}

enum exit_action handle_io(struct vcpu *v, uint64_t qual)
{
	struct vm *vm = v->vm;
	unsigned int size = (qual & 7) + 1;
	bool in = qual & BIT(3), string = qual & BIT(4);
	uint16_t port = (uint16_t)(qual >> 16);
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (string) {
		emulate_string_io(v); /* sets RIP, or injects a fault */
		return vm->state == VM_STOPPED ? EXIT_STOP : EXIT_RESUME;
	}
	if (size != 1 && size != 2 && size != 4) {
		vm_stop(vm, "bad I/O size %u on port %x", size, port);
		return EXIT_STOP;
	}
	uint32_t r = devices_port_io(vm, port, size, in,
				     (uint32_t)v->regs.rax & mask);

	/* A 32-bit IN zero-extends into RAX; narrower ones merge. */
	if (in && size == 4)
		v->regs.rax = r;
	else if (in)
		v->regs.rax = (v->regs.rax & ~(uint64_t)mask) | (r & mask);
	if (vm->state == VM_RUNNING)
		return EXIT_SKIP;
	return vm->state == VM_EXITED ? EXIT_RESUME : EXIT_STOP;
}
