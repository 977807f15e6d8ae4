// SPDX-License-Identifier: MIT
/* cpuid: check what tidal shows a guest through CPUID. */
#include "lib/guest.h"

static int failures;

static void check(bool cond, const char *what)
{
	printf("cpuid: %s: %s\n", what, cond ? "ok" : "FAIL");
	if (!cond)
		failures++;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v));
}

static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

/*
 * tidal keeps its CPUID answers per vCPU: asked again after CR4.OSXSAVE
 * or XCR0 changed, a leaf must show the change (leaf 1 ECX[27] OSXSAVE,
 * leaf 0xD.0 EBX the save area for the XCR0 in force).
 */
static void check_cpuid_follows_state(void)
{
	uint32_t r[4], before[4], after[4];
	uint64_t cr4 = read_cr4();

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 26)) || !(r[2] & (1u << 28))) {
		printf("cpuid: no XSAVE or AVX, OSXSAVE check skipped\n");
		return;
	}
	check(!(r[2] & (1u << 27)) == !(cr4 & (1u << 18)),
	      "OSXSAVE matches CR4 before");
	write_cr4(cr4 | (1u << 18));
	cpuid(1, 0, r);
	check(r[2] & (1u << 27), "OSXSAVE set after CR4.OSXSAVE is set");
	xsetbv0(3); /* x87 + SSE */
	cpuid(0xd, 0, before);
	xsetbv0(7); /* + AVX */
	cpuid(0xd, 0, after);
	check(after[1] > before[1],
	      "leaf 0xD EBX grows with XCR0 (AVX state added)");
	xsetbv0(3);
	cpuid(0xd, 0, r);
	check(r[1] == before[1], "leaf 0xD EBX back with XCR0 back");
	write_cr4(cr4 & ~(1ull << 18));
	cpuid(1, 0, r);
	check(!(r[2] & (1u << 27)),
	      "OSXSAVE clear after CR4.OSXSAVE is cleared");
}

int guest_main(const struct tidal_start_info *si)
{
	uint32_t r[4], vendor[4] = {0};
	char sig[13];

	cpuid(0, 0, r);
	vendor[0] = r[1];
	vendor[1] = r[3];
	vendor[2] = r[2];
	printf("cpuid: vendor \"%s\", max basic leaf %x\n",
	       (const char *)vendor, r[0]);
	check(r[0] >= 1, "basic leaf 1 present");

	cpuid(1, 0, r);
	printf("cpuid: leaf 1 eax %08x ecx %08x edx %08x\n", r[0], r[2], r[3]);
	check(r[2] & (1u << 31), "hypervisor-present bit set");
	check(!(r[2] & (1u << 5)), "VMX hidden from the guest");

	cpuid(TIDAL_CPUID_SIGNATURE, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	printf("cpuid: hypervisor leaf: \"%s\" max %x\n", sig, r[0]);
	check(!memcmp(sig, "tidal", 6), "hypervisor signature is tidal");
	check(r[0] >= TIDAL_CPUID_FEATURES, "hypervisor max leaf");

	cpuid(TIDAL_CPUID_FEATURES, 0, r);
	check(r[0] == TIDAL_ABI_VERSION, "ABI version in leaf 0x40000001");

	/* A second read must agree: tidal answers the same every time. */
	uint32_t again[4];

	cpuid(TIDAL_CPUID_SIGNATURE, 0, again);
	check(again[1] == TIDAL_CPUID_SIG_EBX, "signature stable");
	/* Five CPUID instructions above, each an exit. */
	check(hc_get_counter(TIDAL_CTR_CPUID) == 5, "CPUID exits counted");

	/* The TSC rate: leaf 0x15 and the timing leaf 0x40000010 agree. */
	uint32_t t15[4], t10[4];

	cpuid(0x15, 0, t15);
	cpuid(0x40000010, 0, t10);
	printf("cpuid: leaf 0x15 %u/%u crystal %u Hz, leaf 0x40000010 TSC %u "
	       "kHz\n",
	       t15[1], t15[0], t15[2], t10[0]);
	check(t10[0] && t15[0] &&
		      (uint64_t)t15[2] * t15[1] / t15[0] / 1000 == t10[0],
	      "TSC kHz in leaf 0x40000010 matches leaf 0x15");
	cpuid(1, 0, r);
	check(!(r[2] & (1u << 3)) && !(r[2] & (1u << 15)),
	      "MONITOR and PDCM hidden");
	cpuid(0xa, 0, r);
	check(!r[0] && !r[1] && !r[3], "perfmon leaf 0xA zeroed");
	check_cpuid_follows_state();
	printf("cpuid: %d failures\n", failures);
	return failures ? 1 : 0;
}
