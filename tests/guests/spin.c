// SPDX-License-Identifier: MIT
/* spin: never exit, never trap.  Only tidal's time limit can stop this. */
#include "lib/guest.h"

int guest_main(const struct tidal_start_info *si)
{
	volatile uint64_t n = 0;

	printf("spin: spinning forever (time limit flag %s)\n",
	       si->flags & TIDAL_SI_TIME_LIMIT ? "set" : "clear");
	for (;;)
		n++;
	return 3;
}
