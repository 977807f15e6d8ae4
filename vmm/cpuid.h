/* SPDX-License-Identifier: MIT */
/*
 * The CPU a guest sees through CPUID (vmm/cpuid.c): the host's leaves,
 * filtered so that every feature shown is one tidal lets the guest use,
 * with the topology, XSAVE and TSC leaves computed for the VM.  Portable:
 * the host's CPUID comes in through a function, so the host test
 * (tests/host/test_cpuid.c) feeds it fake CPUs.
 */
#ifndef TIDAL_VMM_CPUID_H
#define TIDAL_VMM_CPUID_H

#include "lib/compiler.h"
#include "arch/x86/cpu.h"

typedef struct cpuid_regs (*cpuid_fn)(uint32_t leaf, uint32_t sub);

/* What the answer depends on besides the host. */
struct cpuid_env {
	cpuid_fn host;
	unsigned int nr_vcpus;
	unsigned int vcpu_index; /* its APIC ID */
	uint64_t tsc_hz;	 /* also the local APIC timer's rate */
	uint64_t guest_cr4;	 /* OSXSAVE, PKE are reflected */
	uint64_t guest_xcr0;	 /* leaf 0xD's EBX follows it */
};

/* Highest hypervisor leaf: the timing leaf. */
#define CPUID_HV_TIMING 0x40000010u

/* XCR0 components tidal lets a guest enable: x87, SSE, AVX, AVX-512. */
#define XCR0_X87     BIT(0)
#define XCR0_SSE     BIT(1)
#define XCR0_AVX     BIT(2)
#define XCR0_AVX512  (BIT(5) | BIT(6) | BIT(7))
#define XCR0_ALLOWED (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)

struct cpuid_regs cpuid_guest(const struct cpuid_env *env, uint32_t leaf,
			      uint32_t sub);
/* The XCR0 bits a guest may set on this host (leaf 0xD.0 as shown). */
uint64_t cpuid_xcr0_supported(cpuid_fn host);
/* Would XSETBV accept this XCR0 (SDM's #GP rules)? */
bool xcr0_valid(uint64_t supported, uint64_t val);
/* Does the guest CPUID show ERMS (so MISC_ENABLE.fast-strings reads 1)? */
bool cpuid_has_erms(cpuid_fn host);

#endif
