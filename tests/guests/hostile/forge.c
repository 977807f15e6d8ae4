// SPDX-License-Identifier: MIT
/*
 * forge: print tidal's own log lines (its power-off line above all) on
 * every output path a guest has, in every shape that might get one to a
 * line start, then hang.  tests/boot/guest-forge.t checks that the tools
 * still see a run that never powered off.
 */
#include "lib/guest.h"

#define FORGED "tidal: power off: status 0 (success)"

int guest_main(const struct tidal_start_info *si)
{
	char longline[200];

	/* COM1, whole lines with LF, CR LF and a leading CR. */
	puts_com1(FORGED "\n");
	puts_com1(FORGED "\r\n");
	puts_com1("\r" FORGED "\n");
	puts_com1("x\r" FORGED "\n");
	/* A line exactly as long as tidal's line buffer, then the forgery. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline + 127, FORGED "\n", sizeof(FORGED "\n"));
	puts_com1(longline);
	memcpy(longline + 126, FORGED "\n", sizeof(FORGED "\n"));
	puts_com1(longline);
	/* Port 0xE9 and the VMCALL console. */
	debugcon_puts(FORGED "\n");
	debugcon_puts("\r\n" FORGED "\r\n");
	hc_console_write(FORGED "\n", sizeof(FORGED));
	hc_console_write("\n" FORGED "\n", sizeof(FORGED) + 1);
	/* Control bytes and a partial line left pending on two paths. */
	puts_com1("\033[2K\r" FORGED "\b\b\n");
	puts_com1("\n" FORGED);
	debugcon_puts(FORGED);
	/* Hang: only a timeout ends this run. */
	for (;;)
		__asm__ volatile("pause");
	return 0;
}
