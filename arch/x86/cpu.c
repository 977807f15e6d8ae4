// SPDX-License-Identifier: MIT
/* Out-of-line CPU helpers; the inline ones are in arch/x86/cpu.h. */
#include "arch/x86/cpu.h"
#include "lib/string.h"

uint64_t host_xcr0;

struct cpuid_regs cpuid_host(uint32_t leaf, uint32_t sub)
{
	return cpuid_count(leaf, sub);
}

#define CR4_OSXSAVE BIT(18)

void cpu_enable_xsave(uint64_t xcr0)
{
	if (!xcr0)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xcr0);
	host_xcr0 = xcr0;
}

void cpu_vendor(char buf[13])
{
	struct cpuid_regs r = cpuid(0);

	memcpy(buf, &r.ebx, 4);
	memcpy(buf + 4, &r.edx, 4);
	memcpy(buf + 8, &r.ecx, 4);
	buf[12] = '\0';
}
