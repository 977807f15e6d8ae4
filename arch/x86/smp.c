// SPDX-License-Identifier: MIT
/*
 * One CPU: the boot CPU.  Placeholder until AP bring-up lands; every call
 * behaves as on a machine with a single CPU.
 */
#include "arch/x86/smp.h"

unsigned int smp_cpus_online(void)
{
	return 1;
}

uint32_t smp_apic_id(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

int smp_start_on(unsigned int cpu, void (*fn)(void *), void *arg)
{
	(void)cpu;
	(void)fn;
	(void)arg;
	return -1;
}

bool smp_cpu_busy(unsigned int cpu)
{
	(void)cpu;
	return false;
}

void smp_send_ipi(unsigned int cpu, uint8_t vector)
{
	(void)cpu;
	(void)vector;
}

void smp_send_nmi(unsigned int cpu)
{
	(void)cpu;
}
