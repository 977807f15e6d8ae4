// SPDX-License-Identifier: MIT
/* oob: read guest-physical memory that is not there.  tidal must stop us. */
#include "lib/guest.h"

int guest_main(const struct tidal_start_info *si)
{
	uint64_t gpa = cmdline_num("addr", si->mem_bytes + (16u << 20));
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)gpa;

	printf("oob: reading %llx, beyond %llu KiB of RAM\n",
	       (unsigned long long)gpa,
	       (unsigned long long)(si->mem_bytes >> 10));
	uint32_t v = *p;

	/* Reaching this line means tidal let the access through. */
	printf("oob: read %x and survived: tidal did not stop me\n", v);
	return 3;
}
