// SPDX-License-Identifier: MIT
/* Out-of-line CPU helpers; the inline ones are in arch/x86/cpu.h. */
#include "arch/x86/cpu.h"
#include "lib/string.h"

void cpu_vendor(char buf[13])
{
	struct cpuid_regs r = cpuid(0);

	memcpy(buf, &r.ebx, 4);
	memcpy(buf + 4, &r.edx, 4);
	memcpy(buf + 8, &r.ecx, 4);
	buf[12] = '\0';
}
