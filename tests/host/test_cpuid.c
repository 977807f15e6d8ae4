// SPDX-License-Identifier: MIT
/*
 * vmm/cpuid.c against fake host CPUs: every rule of the guest's CPU,
 * checked for each host in the table and several VM shapes.  The rules
 * are the SDM's (leaf layouts, XSAVE sizes, topology) plus tidal's
 * contract (hidden features, TSC leaves matching tsc_hz()).
 */
#include <string.h>

#include "tests/host/tap.h"
#include "vmm/cpuid.h"
#include "vmm/guest_abi.h"

struct fake_leaf {
	uint32_t leaf, sub;
	struct cpuid_regs r;
};

/*
 * A Tiger Lake as Bochs shows it: VMX, PMU, MONITOR, HWP, APERF/MPERF,
 * FSRM, AVX-512, PKU, SPEC_CTRL; ERMS set or not by the test.
 */
static struct fake_leaf tgl[] = {
	{0, 0, {0x1b, 0x756e6547, 0x6c65746e, 0x49656e69}},
	{1, 0, {0x806c1, 0x00100800, 0xfffab3ff, 0xbfebfbff}},
	{4, 0, {0x1c004121, 0x02c0003f, 0x3f, 0}},
	{4, 1, {0x1c004122, 0x01c0003f, 0x3f, 0}},
	{4, 2, {0x1c004143, 0x03c0003f, 0x3ff, 0}},
	{4, 3, {0x1c03c163, 0x02c0003f, 0x2fff, 6}},
	{5, 0, {0x40, 0x40, 3, 0x11142120}},
	{6, 0, {0x0017aff7, 2, 9, 0}},
	{7, 0, {0, 0xf3bfa7eb, 0x18c05fce, 0xfc100010}},
	{0xa, 0, {0x08300805, 0, 0xf, 0x8603}},
	{0xb, 0, {1, 2, 0x100, 0}},
	{0xb, 1, {4, 8, 0x201, 0}},
	{0xd, 0, {0x2e7, 0xa88, 0xa88, 0}},
	{0xd, 1, {0xf, 0xa88, 0x2900, 0}},
	{0xd, 2, {0x100, 0x240, 0, 0}},
	{0xd, 5, {0x40, 0x440, 0, 0}},
	{0xd, 6, {0x200, 0x480, 0, 0}},
	{0xd, 7, {0x400, 0x680, 0, 0}},
	{0xd, 9, {8, 0xa80, 0, 0}},
	{0x15, 0, {2, 0xfc, 0x249f000, 0}},
	{0x16, 0, {0xbb8, 0x1194, 0x64, 0}},
	{0x80000000, 0, {0x80000008, 0, 0, 0}},
	{0x80000001, 0, {0, 0, 0x121, 0x2c100800}},
	{0x80000007, 0, {0, 0, 0, 0x100}},
	{0x80000008, 0, {0x3027, 0, 0, 0}},
};

static bool with_erms;
static uint32_t max_basic = 0x1b;
static bool no_avx512;

static struct cpuid_regs fake_host(uint32_t leaf, uint32_t sub)
{
	for (size_t i = 0; i < ARRAY_SIZE(tgl); i++) {
		struct cpuid_regs r = tgl[i].r;

		if (tgl[i].leaf != leaf || tgl[i].sub != sub)
			continue;
		if (leaf == 0)
			r.eax = max_basic;
		if (leaf == 7 && !with_erms)
			r.ebx &= ~(uint32_t)BIT(9);
		if (leaf == 0xd && sub == 0 && no_avx512)
			r.eax &= ~0xe0u;
		return r;
	}
	return (struct cpuid_regs){0};
}

#define TSC_HZ 2419200000ull

static struct cpuid_regs q(const struct cpuid_env *e, uint32_t leaf,
			   uint32_t sub)
{
	return cpuid_guest(e, leaf, sub);
}

static bool is_zero(struct cpuid_regs r)
{
	return !r.eax && !r.ebx && !r.ecx && !r.edx;
}

static void check_topology(const struct cpuid_env *e)
{
	unsigned int n = e->nr_vcpus, idx = e->vcpu_index;
	struct cpuid_regs l1 = q(e, 1, 0);
	uint32_t leaves[] = {0xb, 0x1f};

	ok(l1.ebx >> 24 == idx, "%u/%u: leaf 1 EBX[31:24] is the APIC ID", idx,
	   n);
	ok(((l1.ebx >> 16) & 0xff) >= n && (l1.edx & BIT(28)),
	   "%u/%u: leaf 1 logical count %u covers the VM, HTT set", idx, n,
	   (l1.ebx >> 16) & 0xff);
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		if (leaves[i] > q(e, 0, 0).eax) /* 0x1f only where it exists */
			continue;
		struct cpuid_regs s0 = q(e, leaves[i], 0);
		struct cpuid_regs s1 = q(e, leaves[i], 1);
		struct cpuid_regs s2 = q(e, leaves[i], 2);

		ok(s0.ecx == 0x100 && s0.ebx == 1 && s0.edx == idx,
		   "%u/%u: leaf %x.0 is the SMT level, 1 thread, x2APIC ID",
		   idx, n, leaves[i]);
		ok(s1.ecx == 0x201 && s1.ebx == n && (1u << s1.eax) >= n &&
			   (s1.eax == 0 || (1u << (s1.eax - 1)) < n) &&
			   s1.edx == idx,
		   "%u/%u: leaf %x.1 is the core level: %u vCPUs, shift %u",
		   idx, n, leaves[i], s1.ebx, s1.eax);
		ok(s2.ecx == 2 && !s2.eax && !s2.ebx,
		   "%u/%u: leaf %x.2 is invalid (type 0)", idx, n, leaves[i]);
		ok((((l1.ebx >> 16) & 0xff) == (1u << s1.eax)),
		   "%u/%u: leaf 1 count matches leaf %x's shift", idx, n,
		   leaves[i]);
	}
	ok(((q(e, 4, 0).eax >> 26) + 1) == (1u << q(e, 0xb, 1).eax),
	   "%u/%u: leaf 4 cores per package match leaf 0xB", idx, n);
}

static void check_hidden(const struct cpuid_env *e)
{
	struct cpuid_regs l1 = q(e, 1, 0), l7 = q(e, 7, 0), l6 = q(e, 6, 0);

	ok(!(l1.ecx & BIT(5)) && !(l1.ecx & BIT(6)), "VMX and SMX hidden");
	ok(!(l1.ecx & BIT(3)) && is_zero(q(e, 5, 0)),
	   "MONITOR/MWAIT hidden, leaf 5 zero");
	ok(!(l1.ecx & BIT(15)) && is_zero(q(e, 0xa, 0)),
	   "PDCM hidden, perfmon leaf 0xA zero");
	ok(l6.eax == BIT(2) && !l6.ecx,
	   "leaf 6: only ARAT; no HWP, turbo, APERF/MPERF");
	ok((l1.ecx & BIT(31)) && (l1.ecx & BIT(21)) && (l1.ecx & BIT(24)),
	   "hypervisor, x2APIC and TSC-deadline bits shown");
	ok(!(l7.ebx & BIT(2)) && !(l7.ebx & BIT(25)) && !(l7.ecx & BIT(3)),
	   "SGX, PT, PKU hidden");
	ok(!(l7.edx & (BIT(26) | BIT(27) | BIT(29) | BIT(31))),
	   "SPEC_CTRL, STIBP, ARCH_CAPABILITIES, SSBD hidden (no MSRs)");
	ok(!(q(e, 0xd, 1).eax & BIT(3)), "XSAVES hidden (no IA32_XSS)");
	ok(q(e, 0x80000007, 0).edx == BIT(8), "0x80000007: invariant TSC only");
	ok(is_zero(q(e, 7, 1)), "leaf 7.1 zero (7.0 EAX says 0 sub-leaves)");
	ok(q(e, 7, 0).eax == 0, "leaf 7.0 EAX: no further sub-leaf");
}

static void check_xsave(struct cpuid_env *e)
{
	uint64_t sup = cpuid_xcr0_supported(e->host);
	struct cpuid_regs d0;

	ok(sup == (no_avx512 ? 7u : 0xe7u),
	   "XCR0 supported %llx: x87/SSE/AVX%s, no PKRU",
	   (unsigned long long)sup, no_avx512 ? "" : "/AVX-512");
	e->guest_xcr0 = 1;
	d0 = q(e, 0xd, 0);
	ok(d0.eax == sup && !d0.edx, "leaf 0xD.0 EDX:EAX = what XSETBV takes");
	ok(d0.ebx == 576, "leaf 0xD.0 EBX: 576 bytes for XCR0=1");
	e->guest_xcr0 = 7;
	ok(q(e, 0xd, 0).ebx == 832, "leaf 0xD.0 EBX: 832 bytes for XCR0=7");
	ok(d0.ecx == (no_avx512 ? 832u : 0xa80u),
	   "leaf 0xD.0 ECX: %u, the size for everything supported", d0.ecx);
	ok(is_zero(q(e, 0xd, 9)), "PKRU component: leaf 0xD.9 zero");
	ok(no_avx512 ? is_zero(q(e, 0xd, 5)) : q(e, 0xd, 5).eax == 0x40,
	   "AVX-512 component leaf as supported");
	ok(no_avx512 == !(q(e, 7, 0).ebx & BIT(16)),
	   "AVX512F shown exactly when XCR0 can hold its state");
	ok(xcr0_valid(sup, 7) && !xcr0_valid(sup, 5) && !xcr0_valid(sup, 6) &&
		   !xcr0_valid(sup, 0x207),
	   "xcr0_valid: AVX needs SSE, x87 always, PKRU never");
	ok(no_avx512 ? !xcr0_valid(sup, 0xe7)
		     : (xcr0_valid(sup, 0xe7) && !xcr0_valid(sup, 0x67) &&
			!xcr0_valid(sup, 0xe3)),
	   "xcr0_valid: AVX-512 whole, on top of AVX");
	e->guest_cr4 = 0;
	ok(!(q(e, 1, 0).ecx & BIT(27)), "OSXSAVE clear with CR4.OSXSAVE clear");
	e->guest_cr4 = BIT(18);
	ok(q(e, 1, 0).ecx & BIT(27), "OSXSAVE set with CR4.OSXSAVE set");
	e->guest_cr4 = 0;
}

static void check_tsc(const struct cpuid_env *e)
{
	struct cpuid_regs t = q(e, 0x15, 0), f = q(e, 0x16, 0);
	struct cpuid_regs hv = q(e, 0x40000000, 0);
	struct cpuid_regs tm = q(e, CPUID_HV_TIMING, 0);

	ok(t.eax && (uint64_t)t.ecx * t.ebx / t.eax == TSC_HZ,
	   "leaf 0x15: crystal %u Hz * %u / %u = tsc_hz()", t.ecx, t.ebx,
	   t.eax);
	ok(f.eax == TSC_HZ / 1000000, "leaf 0x16: base %u MHz", f.eax);
	ok(hv.eax == CPUID_HV_TIMING && hv.ebx == TIDAL_CPUID_SIG_EBX,
	   "0x40000000: tidal, max leaf 0x40000010");
	ok(q(e, TIDAL_CPUID_FEATURES, 0).eax == TIDAL_ABI_VERSION,
	   "0x40000001: ABI version");
	ok(tm.eax == TSC_HZ / 1000 && tm.ebx == TSC_HZ / 1000,
	   "0x40000010: TSC and APIC bus kHz (%u, %u)", tm.eax, tm.ebx);
	ok(is_zero(q(e, 0x40000005, 0)), "0x40000005: zero");
}

static void check_ranges(const struct cpuid_env *e)
{
	struct cpuid_regs top = q(e, 0x1b, 0), beyond = q(e, 0x20, 0);

	ok(q(e, 0, 0).eax == 0x1b, "leaf 0: the host's maximum (0x1b)");
	ok(!memcmp(&top, &beyond, sizeof(top)),
	   "leaf 0x20 answers as the highest basic leaf");
	beyond = q(e, 0x80000009, 0);
	ok(!memcmp(&top, &beyond, sizeof(top)),
	   "0x80000009 (beyond the extended max) too");
	ok(!(q(e, 0x80000001, 0).ecx & BIT(2)), "SVM hidden");
}

int main(void)
{
	struct cpuid_env e = {.host = fake_host, .tsc_hz = TSC_HZ};
	static const unsigned int shapes[][2] = {
		{1, 0}, {2, 1}, {3, 2}, {4, 3}, {8, 5}};

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		e.nr_vcpus = shapes[i][0];
		e.vcpu_index = shapes[i][1];
		check_topology(&e);
	}
	max_basic = 0x20; /* a host with leaf 0x1F: shown, capped at 0x1F */
	ok(q(&e, 0, 0).eax == 0x1f, "leaf 0: capped at 0x1F");
	check_topology(&e);
	max_basic = 0x1b;
	e.nr_vcpus = 1;
	e.vcpu_index = 0;
	with_erms = false;
	ok(!(q(&e, 7, 0).edx & BIT(4)), "FSRM hidden without ERMS (Bochs TGL)");
	ok(!cpuid_has_erms(fake_host), "so MISC_ENABLE fast strings read 0");
	with_erms = true;
	ok(q(&e, 7, 0).edx & BIT(4), "FSRM kept with ERMS");
	ok(cpuid_has_erms(fake_host), "and fast strings read 1");
	check_hidden(&e);
	check_xsave(&e);
	no_avx512 = true;
	check_xsave(&e);
	no_avx512 = false;
	check_tsc(&e);
	check_ranges(&e);
	e.tsc_hz = 5000000000ull;
	ok(is_zero(q(&e, 0x15, 0)), "leaf 0x15 absent when the TSC > 4.29 GHz");
	return tap_done();
}
