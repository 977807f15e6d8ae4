// SPDX-License-Identifier: MIT
/*
 * CPUID for guests: a consistent CPU made from the host's.
 *
 * Two tables decide the answer.  leaf_table lists every leaf a guest gets
 * and how it is made: passed through, zeroed, or computed (topology, XSAVE,
 * TSC and hypervisor leaves).  bit_table then removes the features tidal
 * does not virtualise (VMX, the PMU, MONITOR/MWAIT, thermal and power
 * management, SGX, PT, speculation-control MSRs, XSAVES) and adds those it
 * emulates (x2APIC and the TSC deadline timer, the hypervisor bit).
 * Leaves above the shown maximum answer as the highest basic leaf, as
 * Intel CPUs do.
 */
#include "vmm/cpuid.h"
#include "vmm/guest_abi.h"

#define CR4_OSXSAVE BIT(18)

enum reg { EAX, EBX, ECX, EDX };

/* Highest leaves shown (the host's if lower). */
#define MAX_BASIC 0x1fu
#define MAX_EXT	  0x80000008u

/* Leaf 1. */
#define L1_ECX_MONITOR	BIT(3)
#define L1_ECX_DSCPL	BIT(4)
#define L1_ECX_VMX	BIT(5)
#define L1_ECX_SMX	BIT(6)
#define L1_ECX_EST	BIT(7)
#define L1_ECX_TM2	BIT(8)
#define L1_ECX_SDBG	BIT(11)
#define L1_ECX_PDCM	BIT(15)
#define L1_ECX_X2APIC	BIT(21)
#define L1_ECX_DEADLINE BIT(24)
#define L1_ECX_OSXSAVE	BIT(27)
#define L1_ECX_HV	BIT(31)
#define L1_EDX_DS	BIT(21)
#define L1_EDX_ACPI	BIT(22)
#define L1_EDX_HTT	BIT(28)
#define L1_EDX_TM	BIT(29)
#define L1_EDX_PBE	BIT(31)
/* Leaf 6: only "APIC timer always running" survives. */
#define L6_EAX_ARAT BIT(2)
/* Leaf 7.0. */
#define L7_EBX_SGX	BIT(2)
#define L7_EBX_ERMS	BIT(9)
#define L7_EBX_PQM	BIT(12)
#define L7_EBX_MPX	BIT(14)
#define L7_EBX_PQE	BIT(15)
#define L7_EBX_PT	BIT(25)
#define L7_ECX_PKU	BIT(3)
#define L7_ECX_OSPKE	BIT(4)
#define L7_ECX_WAITPKG	BIT(5)
#define L7_ECX_SGXLC	BIT(30)
#define L7_EDX_FSRM	BIT(4)
#define L7_EDX_HYBRID	BIT(15)
#define L7_EDX_PCONFIG	BIT(18)
#define L7_EDX_SPEC	(BIT(26) | BIT(27) | BIT(28) | BIT(31))
#define L7_EDX_ARCH_CAP BIT(29)
#define L7_EDX_CORE_CAP BIT(30)
/* Leaf 0xD.1: XSAVES needs IA32_XSS, which tidal does not offer. */
#define LD1_EAX_XSAVES BIT(3)
/* 0x8000_0001. */
#define LX1_ECX_SVM BIT(2)
/* 0x8000_0007: only the invariant TSC survives. */
#define LX7_EDX_INVTSC BIT(8)

enum how {
	PASS,	  /* the host's answer, then bit_table */
	ZERO,	  /* all four registers 0 */
	COMPUTED, /* a function below */
};

struct leaf_rule {
	uint32_t leaf;
	enum how how;
	void (*fn)(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r);
};

struct bit_rule {
	uint32_t leaf, sub; /* sub: for leaves 7 and 0xD only */
	enum reg reg;
	uint32_t clear, set;
};

static const struct bit_rule bit_table[] = {
	{1, 0, ECX,
	 L1_ECX_MONITOR | L1_ECX_DSCPL | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_EST |
		 L1_ECX_TM2 | L1_ECX_SDBG | L1_ECX_PDCM | L1_ECX_OSXSAVE,
	 /* OSXSAVE: reflect_os_bits() */
	 L1_ECX_X2APIC | L1_ECX_DEADLINE | L1_ECX_HV},
	{1, 0, EDX, L1_EDX_DS | L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE,
	 L1_EDX_HTT},
	{6, 0, EAX, ~(uint32_t)L6_EAX_ARAT, 0},
	{6, 0, EBX, ~0u, 0},
	{6, 0, ECX, ~0u, 0}, /* APERF/MPERF, energy bias */
	{6, 0, EDX, ~0u, 0},
	{7, 0, EAX, ~0u, 0}, /* no sub-leaf beyond 0 */
	{7, 0, EBX,
	 L7_EBX_SGX | L7_EBX_PQM | L7_EBX_MPX | L7_EBX_PQE | L7_EBX_PT, 0},
	{7, 0, ECX, L7_ECX_PKU | L7_ECX_OSPKE | L7_ECX_WAITPKG | L7_ECX_SGXLC,
	 0},
	{7, 0, EDX,
	 L7_EDX_HYBRID | L7_EDX_PCONFIG | L7_EDX_SPEC | L7_EDX_ARCH_CAP |
		 L7_EDX_CORE_CAP,
	 0},
	{0xd, 1, EAX, LD1_EAX_XSAVES, 0},
	{0x80000001, 0, ECX, LX1_ECX_SVM, 0},
	{0x80000007, 0, EAX, ~0u, 0},
	{0x80000007, 0, EBX, ~0u, 0},
	{0x80000007, 0, ECX, ~0u, 0},
	{0x80000007, 0, EDX, ~(uint32_t)LX7_EDX_INVTSC, 0},
	{0x80000008, 0, EBX, ~0u, 0},
	{0x80000008, 0, ECX, ~0u, 0},
};

static uint32_t *reg_of(struct cpuid_regs *r, enum reg reg)
{
	switch (reg) {
	case EAX:
		return &r->eax;
	case EBX:
		return &r->ebx;
	case ECX:
		return &r->ecx;
	default:
		return &r->edx;
	}
}

/* The VM's package: a power of two at least nr_vcpus, and its log2. */
static unsigned int pkg_shift(const struct cpuid_env *e)
{
	unsigned int s = 0;

	while ((1u << s) < e->nr_vcpus)
		s++;
	return s;
}

static void leaf_0(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r)
{
	*r = e->host(0, 0);
	if (r->eax > MAX_BASIC)
		r->eax = MAX_BASIC;
}

static void leaf_1(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r)
{
	*r = e->host(1, 0);
	/* EBX: brand and CLFLUSH size kept; logical count; APIC ID. */
	r->ebx = (r->ebx & 0xffffu) | ((1u << pkg_shift(e)) << 16) |
		 (e->vcpu_index << 24);
}

/* Deterministic cache parameters: one core per vCPU, L3 shared by all. */
static void leaf_4(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r)
{
	uint32_t cores = (1u << pkg_shift(e)) - 1;

	*r = e->host(4, sub);
	if (!(r->eax & 0x1f)) {
		*r = (struct cpuid_regs){0};
		return;
	}
	r->eax &= 0x3ffu; /* type, level, self-init, fully associative */
	r->eax |= cores << 26;
	if (((r->eax >> 5) & 7) >= 3)
		r->eax |= cores << 14;
}

static void leaf_7(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r)
{
	if (sub) {
		*r = (struct cpuid_regs){0};
		return;
	}
	*r = e->host(7, 0);
}

/* 0xB and 0x1F: an SMT level of one thread, a core level of the VM. */
static void leaf_topology(const struct cpuid_env *e, uint32_t sub,
			  struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){0, 0, sub & 0xff, e->vcpu_index};
	if (sub == 0) {
		r->ebx = 1;
		r->ecx |= 1u << 8; /* SMT */
	} else if (sub == 1) {
		r->eax = pkg_shift(e);
		r->ebx = e->nr_vcpus;
		r->ecx |= 2u << 8; /* core */
	}
}

uint64_t cpuid_xcr0_supported(cpuid_fn host)
{
	struct cpuid_regs r;
	uint64_t xcr0;

	if (host(0, 0).eax < 0xd || !(host(1, 0).ecx & BIT(26)))
		return 0; /* no XSAVE */
	r = host(0xd, 0);
	xcr0 = (((uint64_t)r.edx << 32) | r.eax) & XCR0_ALLOWED;
	/* AVX-512 only whole, and only on top of AVX. */
	if ((xcr0 & XCR0_AVX512) != XCR0_AVX512 || !(xcr0 & XCR0_AVX))
		xcr0 &= ~(uint64_t)XCR0_AVX512;
	if ((xcr0 & (XCR0_X87 | XCR0_SSE)) != (XCR0_X87 | XCR0_SSE))
		xcr0 &= ~(uint64_t)XCR0_AVX;
	return xcr0 & XCR0_X87 ? xcr0 : 0;
}

bool xcr0_valid(uint64_t supported, uint64_t val)
{
	if (!(val & XCR0_X87) || (val & ~supported))
		return false;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return false;
	/* AVX-512 state: all three or none, and with AVX. */
	if ((val & XCR0_AVX512) &&
	    ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_AVX)))
		return false;
	return true;
}

/* Size of an XSAVE area holding @mask (standard or compacted form). */
static uint32_t xsave_size(cpuid_fn host, uint64_t mask, bool compacted)
{
	uint32_t size = 576; /* legacy area + header */

	for (unsigned int i = 2; i < 64; i++) {
		struct cpuid_regs c;
		uint32_t end;

		if (!(mask & BIT(i)))
			continue;
		c = host(0xd, i);
		if (compacted) {
			if (c.ecx & BIT(1))
				size = (size + 63) & ~63u;
			end = size + c.eax;
		} else {
			end = c.ebx + c.eax;
		}
		if (end > size)
			size = end;
	}
	return size;
}

static void leaf_d(const struct cpuid_env *e, uint32_t sub,
		   struct cpuid_regs *r)
{
	uint64_t xcr0 = cpuid_xcr0_supported(e->host);

	*r = (struct cpuid_regs){0};
	if (!xcr0)
		return;
	if (sub == 0) {
		r->eax = (uint32_t)xcr0;
		r->edx = (uint32_t)(xcr0 >> 32);
		r->ebx = xsave_size(e->host, e->guest_xcr0 & xcr0, false);
		r->ecx = xsave_size(e->host, xcr0, false);
	} else if (sub == 1) {
		*r = e->host(0xd, 1);
		r->ebx = xsave_size(e->host, e->guest_xcr0 & xcr0, true);
		r->ecx = r->edx = 0; /* no IA32_XSS components */
	} else if (sub < 64 && (xcr0 & BIT(sub))) {
		*r = e->host(0xd, sub);
		r->ecx &= BIT(1); /* user component; alignment kept */
		r->edx = 0;
	}
}

/*
 * 0x15: TSC = crystal * EBX / EAX.  The crystal is the local APIC timer's
 * clock, which ticks at the TSC rate; absent (ECX 0) when it does not fit.
 */
static void leaf_15(const struct cpuid_env *e, uint32_t sub,
		    struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){0};
	if (!e->tsc_hz || e->tsc_hz > 0xffffffffull)
		return;
	*r = (struct cpuid_regs){1, 1, (uint32_t)e->tsc_hz, 0};
}

/* 0x16: base, maximum and bus frequency in MHz. */
static void leaf_16(const struct cpuid_env *e, uint32_t sub,
		    struct cpuid_regs *r)
{
	uint32_t mhz = (uint32_t)(e->tsc_hz / 1000000u) & 0xffff;

	*r = (struct cpuid_regs){mhz, mhz, mhz, 0};
}

static void leaf_hv_signature(const struct cpuid_env *e, uint32_t sub,
			      struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){CPUID_HV_TIMING, TIDAL_CPUID_SIG_EBX,
				 TIDAL_CPUID_SIG_ECX, TIDAL_CPUID_SIG_EDX};
}

static void leaf_hv_features(const struct cpuid_env *e, uint32_t sub,
			     struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){TIDAL_ABI_VERSION, 0, 0, 0};
}

/* The hypervisor timing leaf: TSC and APIC bus rates in kHz. */
static void leaf_hv_timing(const struct cpuid_env *e, uint32_t sub,
			   struct cpuid_regs *r)
{
	uint32_t khz = (uint32_t)(e->tsc_hz / 1000u);

	*r = (struct cpuid_regs){khz, khz, 0, 0};
}

static void leaf_ext_max(const struct cpuid_env *e, uint32_t sub,
			 struct cpuid_regs *r)
{
	*r = e->host(0x80000000u, 0);
	if (r->eax > MAX_EXT)
		r->eax = MAX_EXT;
}

/*
 * Features that need another one: XSAVE and the AVX families need the
 * XCR0 components tidal lets the guest enable; fast short REP MOVSB needs
 * ERMS (Linux 6.1 misbehaves with FSRM alone).  OSXSAVE reflects the
 * guest's CR4 (PKE stays 0: PKU is hidden).
 */
#define L1_ECX_AVX_FAMILY (BIT(12) | BIT(28) | BIT(29)) /* FMA, AVX, F16C */
#define L1_ECX_XSAVE	  BIT(26)
#define L7_EBX_AVX2	  BIT(5)
#define L7_EBX_AVX512                                                          \
	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | \
	 BIT(31))
#define L7_ECX_AVX512 (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_EDX_AVX512 (BIT(2) | BIT(3) | BIT(8) | BIT(23))

static void fix_dependencies(const struct cpuid_env *e, uint32_t leaf,
			     uint32_t sub, struct cpuid_regs *r)
{
	uint64_t xcr0 = cpuid_xcr0_supported(e->host);

	if (leaf == 1) {
		if (!xcr0)
			r->ecx &= ~(uint32_t)L1_ECX_XSAVE;
		if (!(xcr0 & XCR0_AVX))
			r->ecx &= ~(uint32_t)L1_ECX_AVX_FAMILY;
		if ((r->ecx & L1_ECX_XSAVE) && (e->guest_cr4 & CR4_OSXSAVE))
			r->ecx |= L1_ECX_OSXSAVE;
	}
	if (leaf != 7 || sub)
		return;
	if (!(xcr0 & XCR0_AVX))
		r->ebx &= ~(uint32_t)L7_EBX_AVX2;
	if (!(xcr0 & XCR0_AVX512)) {
		r->ebx &= ~(uint32_t)L7_EBX_AVX512;
		r->ecx &= ~(uint32_t)L7_ECX_AVX512;
		r->edx &= ~(uint32_t)L7_EDX_AVX512;
	}
	if (!(r->ebx & L7_EBX_ERMS))
		r->edx &= ~(uint32_t)L7_EDX_FSRM;
}

static const struct leaf_rule leaf_table[] = {
	{0x0, COMPUTED, leaf_0},
	{0x1, COMPUTED, leaf_1},
	{0x2, PASS, NULL},
	{0x4, COMPUTED, leaf_4},
	{0x6, PASS, NULL},
	{0x7, COMPUTED, leaf_7},
	{0xb, COMPUTED, leaf_topology},
	{0xd, COMPUTED, leaf_d},
	{0x15, COMPUTED, leaf_15},
	{0x16, COMPUTED, leaf_16},
	{0x1f, COMPUTED, leaf_topology},
	{TIDAL_CPUID_SIGNATURE, COMPUTED, leaf_hv_signature},
	{TIDAL_CPUID_FEATURES, COMPUTED, leaf_hv_features},
	{CPUID_HV_TIMING, COMPUTED, leaf_hv_timing},
	{0x80000000u, COMPUTED, leaf_ext_max},
	{0x80000001u, PASS, NULL},
	{0x80000002u, PASS, NULL},
	{0x80000003u, PASS, NULL},
	{0x80000004u, PASS, NULL},
	{0x80000006u, PASS, NULL},
	{0x80000007u, PASS, NULL},
	{0x80000008u, PASS, NULL},
};

/* Is @leaf within a range the guest is told exists? */
static bool leaf_in_range(const struct cpuid_env *e, uint32_t leaf)
{
	struct cpuid_regs m;

	if (leaf >= 0x80000000u) {
		leaf_ext_max(e, 0, &m);
		return leaf <= m.eax;
	}
	if (leaf >= TIDAL_CPUID_SIGNATURE)
		return leaf <= CPUID_HV_TIMING;
	leaf_0(e, 0, &m);
	return leaf <= m.eax;
}

static bool uses_sub(uint32_t leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd ||
	       leaf == 0x1f;
}

struct cpuid_regs cpuid_guest(const struct cpuid_env *e, uint32_t leaf,
			      uint32_t sub)
{
	struct cpuid_regs r = {0};
	const struct leaf_rule *rule = NULL;

	if (!leaf_in_range(e, leaf)) {
		leaf_0(e, 0, &r);
		leaf = r.eax; /* Intel: the highest basic leaf's answer */
	}
	if (!uses_sub(leaf))
		sub = 0;
	for (size_t i = 0; i < ARRAY_SIZE(leaf_table); i++)
		if (leaf_table[i].leaf == leaf)
			rule = &leaf_table[i];
	if (!rule)
		return (struct cpuid_regs){0}; /* a leaf tidal does not show */
	if (rule->how == PASS)
		r = e->host(leaf, sub);
	else if (rule->how == COMPUTED)
		rule->fn(e, sub, &r);
	for (size_t i = 0; i < ARRAY_SIZE(bit_table); i++) {
		const struct bit_rule *b = &bit_table[i];
		uint32_t *p = reg_of(&r, b->reg);

		if (b->leaf != leaf || b->sub != sub)
			continue;
		*p = (*p & ~b->clear) | b->set;
	}
	fix_dependencies(e, leaf, sub, &r);
	return r;
}

bool cpuid_has_erms(cpuid_fn host)
{
	return host(0, 0).eax >= 7 && (host(7, 0).ebx & L7_EBX_ERMS);
}
