/* SPDX-License-Identifier: MIT */
/* The 16550 UART on COM1 and Bochs/QEMU's port 0xE9 (arch/x86/serial.c). */
#ifndef TIDAL_ARCH_X86_SERIAL_H
#define TIDAL_ARCH_X86_SERIAL_H

#include "lib/compiler.h"

#define COM1_PORT 0x3f8

void serial_init(void);
void serial_putc(char c);
/* Wait until everything written has left the transmitter (LSR.TEMT). */
void serial_flush(void);
/* A byte received on COM1, or -1 if none is waiting. */
int serial_getc(void);

#endif
