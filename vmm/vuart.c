// SPDX-License-Identifier: MIT
/* The 16550A model (see vmm/vuart.h). */
#include "vmm/vuart.h"

/* MSR bits outside loopback: CTS, DSR and DCD asserted. */
#define MSR_IDLE 0xb0

void u16550_init(struct u16550 *u)
{
	*u = (struct u16550){.msr = MSR_IDLE};
}

static bool fifo_on(const struct u16550 *u)
{
	return u->fcr & UART_FCR_EN;
}

static unsigned int rx_cap(const struct u16550 *u)
{
	return fifo_on(u) ? UART_FIFO : 1;
}

static unsigned int rx_trigger(const struct u16550 *u)
{
	static const uint8_t level[4] = {1, 4, 8, 14};

	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

unsigned int u16550_rx_room(const struct u16550 *u)
{
	return rx_cap(u) - u->rx_len;
}

static bool rx_push(struct u16550 *u, uint8_t b)
{
	if (!u16550_rx_room(u)) {
		u->lsr_err |= UART_LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_len++) % UART_FIFO] = b;
	return true;
}

/* The pending source, highest priority first (IIR bits 3:0). */
static uint8_t iir_source(const struct u16550 *u)
{
	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_len)
		return u->rx_len >= rx_trigger(u) ? UART_IIR_RDI
						  : UART_IIR_TOUT;
	if ((u->ier & UART_IER_THRI) && u->thre_irq)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
		return UART_IIR_MSI;
	return UART_IIR_NONE;
}

bool u16550_irq(const struct u16550 *u)
{
	return iir_source(u) != UART_IIR_NONE && (u->mcr & UART_MCR_OUT2);
}

/* MSR's upper half: from MCR in loopback, else the idle lines. */
static void update_msr(struct u16550 *u)
{
	uint8_t m = u->mcr, now = MSR_IDLE, old = u->msr & 0xf0, d = 0;

	if (m & UART_MCR_LOOP)
		now = (uint8_t)((m & 0x01) << 5 | (m & 0x02) << 3 |
				(m & 0x04) << 4 | (m & 0x08) << 4);
	if ((now ^ old) & 0x10)
		d |= 0x01; /* delta CTS */
	if ((now ^ old) & 0x20)
		d |= 0x02; /* delta DSR */
	if ((old & 0x40) && !(now & 0x40))
		d |= 0x04; /* trailing edge of RI */
	if ((now ^ old) & 0x80)
		d |= 0x08; /* delta DCD */
	u->msr = (uint8_t)(now | (u->msr & 0x0f) | d);
}

static uint8_t rx_pop(struct u16550 *u)
{
	uint8_t b;

	if (!u->rx_len)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO;
	u->rx_len--;
	return b;
}

static uint8_t read_iir(struct u16550 *u)
{
	uint8_t src = iir_source(u);

	if (src == UART_IIR_THRI)
		u->thre_irq = false; /* reading IIR clears THRE */
	return (uint8_t)(src | (fifo_on(u) ? UART_IIR_FIFOS : 0));
}

uint8_t u16550_read(struct u16550 *u, unsigned int reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err |
			      (u->rx_len ? UART_LSR_DR : 0));
		u->lsr_err = 0;
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0;
		return v;
	default:
		return u->scr;
	}
}

static void write_fcr(struct u16550 *u, uint8_t val)
{
	/* Turning the FIFOs on or off empties them. */
	if ((val ^ u->fcr) & UART_FCR_EN || (val & UART_FCR_CLRRX)) {
		u->rx_len = 0;
		u->rx_head = 0;
	}
	u->fcr = val & 0xc9; /* trigger level, DMA mode, enable */
}

int u16550_write(struct u16550 *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	int tx = -1;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = val;
			break;
		}
		if (u->mcr & UART_MCR_LOOP)
			rx_push(u, val);
		else
			tx = val;
		u->thre_irq = true; /* sent at once: THR empty again */
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
			break;
		}
		/* Enabling THRE with THR empty raises it. */
		if ((val & ~u->ier) & UART_IER_THRI)
			u->thre_irq = true;
		u->ier = val & 0x0f;
		break;
	case UART_IIR_FCR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		update_msr(u);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		break; /* LSR, MSR: read-only */
	}
	return tx;
}

bool u16550_receive(struct u16550 *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP)
		return false; /* the receiver listens to the transmitter */
	return rx_push(u, byte);
}
