// SPDX-License-Identifier: MIT
/* hello32 / hello64: greet through every console path and exit 0. */
#include "lib/guest.h"

int guest_main(const struct tidal_start_info *si)
{
	static const char hc_msg[] = "hello through VMCALL console write\n";
	bool lm = si->flags & TIDAL_SI_LONG_MODE;

	printf("hello from a %d-bit guest (%s mode)\n", (int)sizeof(void *) * 8,
	       lm ? "long" : "protected");
	print_start_info(si);
	debugcon_puts("hello through port 0xe9\n");
	if (hc_console_write(hc_msg, sizeof(hc_msg) - 1) !=
	    (long)sizeof(hc_msg) - 1) {
		printf("hello: console write failed\n");
		return 1;
	}
	if (vmcall3(TIDAL_HC_VERSION, 0, 0, 0) != TIDAL_ABI_VERSION) {
		printf("hello: wrong ABI version\n");
		return 1;
	}
	/* A mode that does not match the ELF class is a loader bug. */
	if (lm != (sizeof(void *) == 8)) {
		printf("hello: start-info mode flag is wrong\n");
		return 1;
	}
	printf("hello: done\n");
	return 0;
}
