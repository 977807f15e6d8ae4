// SPDX-License-Identifier: MIT
/* triplefault: an exception with an empty IDT escalates to a triple fault. */
#include "lib/guest.h"

int guest_main(const struct tidal_start_info *si)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uintptr_t base;
	} idtr = {0, 0};

	printf("triplefault: loading an empty IDT and raising #UD\n");
	__asm__ volatile("mov $0x7ead, %%eax; mov $0xfa17, %%ebx\n\t"
			 "lidt %0; ud2"
			 :
			 : "m"(idtr)
			 : "eax", "ebx");
	printf("triplefault: still alive?\n");
	return 3;
}
