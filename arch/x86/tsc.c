// SPDX-License-Identifier: MIT
/*
 * TSC calibration and nanosecond time.
 *
 * Why these sources: CPUID 0x15 (crystal clock and TSC ratio) is exact
 * when the CPU fills in all three values, which recent Intel parts do.
 * Otherwise tidal measures against PIT channel 2, which every vehicle
 * tidal runs on has (QEMU, Bochs, PC hardware) and which needs no ACPI
 * table walk (the HPET would).  Under Bochs with "clock: sync=none" both
 * the TSC and the PIT follow the instruction count, so the result is
 * repeatable there.  Conversion uses a 32.32 fixed-point multiplier so
 * tsc_ns() needs no division.
 */
#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"

#define PIT_HZ		 1193182u
#define PIT_CH2		 0x42
#define PIT_CMD		 0x43
#define PIT_GATE_PORT	 0x61
#define CALIBRATE_MS	 10
#define PIT_SPIN_LIMIT	 100000000u
#define FALLBACK_HZ	 1000000000ull

static uint64_t hz, tsc_base, mult; /* ns = (delta * mult) >> 32 */

static uint64_t hz_from_cpuid(void)
{
	struct cpuid_regs r;

	if (cpuid_max_leaf(0) < 0x15)
		return 0;
	r = cpuid(0x15); /* eax: denominator, ebx: numerator, ecx: crystal Hz */
	if (!r.eax || !r.ebx || !r.ecx)
		return 0;
	return (uint64_t)r.ecx * r.ebx / r.eax;
}

static uint64_t hz_from_pit(void)
{
	uint32_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t t0, t1;
	uint32_t spins = 0;
	uint8_t gate;

	/* Gate channel 2 on, speaker off; mode 0, binary, lo/hi byte. */
	gate = inb(PIT_GATE_PORT);
	outb(PIT_GATE_PORT, (gate & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	t0 = rdtsc();
	/* OUT2 (bit 5) goes high when the count reaches zero. */
	while (!(inb(PIT_GATE_PORT) & 0x20)) {
		if (++spins == PIT_SPIN_LIMIT)
			return 0;
	}
	t1 = rdtsc();
	outb(PIT_GATE_PORT, gate);
	return (t1 - t0) * 1000 / CALIBRATE_MS;
}

void tsc_init(void)
{
	const char *how = "CPUID 0x15";

	hz = hz_from_cpuid();
	if (!hz) {
		how = "PIT";
		hz = hz_from_pit();
	}
	if (!hz) {
		how = "a guess (no PIT answer)";
		hz = FALLBACK_HZ;
	}
	mult = (1000000000ull << 32) / hz; /* 1e9 * 2^32 fits in 64 bits */
	tsc_base = rdtsc();
	pr_info("tidal: tsc: %llu.%03llu MHz (from %s)\n",
		(unsigned long long)(hz / 1000000),
		(unsigned long long)(hz / 1000 % 1000), how);
}

uint64_t tsc_hz(void)
{
	return hz;
}

uint64_t tsc_ns(void)
{
	if (!hz)
		return 0;
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_base) * mult) >>
			  32);
}

void tsc_delay_us(uint64_t us)
{
	uint64_t end = tsc_ns() + us * 1000;

	while (tsc_ns() < end)
		cpu_relax();
}
