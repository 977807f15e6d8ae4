/* SPDX-License-Identifier: MIT */
/*
 * Thin inline wrappers over x86-64 instructions that C cannot express:
 * CPUID, MSRs, control registers, the TSC and port I/O.  Hypervisor only.
 */
#ifndef TIDAL_ARCH_X86_CPU_H
#define TIDAL_ARCH_X86_CPU_H

#include "lib/compiler.h"

/* Control register bits tidal relies on. */
#define X86_CR0_PE BIT(0)
#define X86_CR0_MP BIT(1)
#define X86_CR0_EM BIT(2)
#define X86_CR0_TS BIT(3)
#define X86_CR0_NE BIT(5)
#define X86_CR0_WP BIT(16)
#define X86_CR0_PG BIT(31)

#define X86_CR4_PAE	 BIT(5)
#define X86_CR4_PGE	 BIT(7)
#define X86_CR4_OSFXSR	 BIT(9)
#define X86_CR4_VMXE	 BIT(13)
#define X86_CR4_FSGSBASE BIT(16)

#define X86_RFLAGS_IF BIT(9)

/* MSRs. */
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_IA32_PAT		 0x00000277
#define MSR_EFER		 0xc0000080
#define MSR_FS_BASE		 0xc0000100
#define MSR_GS_BASE		 0xc0000101
#define MSR_KERNEL_GS_BASE	 0xc0000102

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx),
			       "=d"(r.edx)
			     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

/* Highest basic (0x0...) or extended (0x8000_0000...) leaf. */
static inline uint32_t cpuid_max_leaf(uint32_t base)
{
	return cpuid(base).eax;
}

/* The host's CPUID as a function (for vmm/cpuid.c). */
struct cpuid_regs cpuid_host(uint32_t leaf, uint32_t sub);

static inline void xsetbv(uint32_t reg, uint64_t val)
{
	__asm__ __volatile__("xsetbv"
			     :
			     : "c"(reg), "a"((uint32_t)val),
			       "d"((uint32_t)(val >> 32))
			     : "memory");
}

/*
 * XCR0 while tidal runs: every component a guest may enable (so switching
 * to a guest's XCR0 only ever disables unused ones), or 0 without XSAVE.
 * Set by cpu_enable_xsave() on each CPU before VMXON.
 */
extern uint64_t host_xcr0;
void cpu_enable_xsave(uint64_t xcr0);

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ __volatile__("wrmsr"
			     :
			     : "c"(msr), "a"((uint32_t)val),
			       "d"((uint32_t)(val >> 32))
			     : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                                 \
	static inline uint64_t read_cr##n(void)                                \
	{                                                                      \
		uint64_t v;                                                    \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                      \
	}                                                                      \
	static inline void write_cr##n(uint64_t v)                             \
	{                                                                      \
		__asm__ __volatile__("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

/* CR2: the faulting address of the last #PF. */
static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* Written only to hand a guest the CR2 of a #PF that tidal injects. */
static inline void write_cr2(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr2" : : "r"(v) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static inline void cpu_halt_forever(void) __noreturn;
static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/*
 * Feature queries used across the hypervisor.  Each reads CPUID afresh:
 * they are not on hot paths.
 */
static inline bool cpu_has_nx(void)
{
	return cpuid_max_leaf(0x80000000) >= 0x80000001 &&
	       (cpuid(0x80000001).edx & BIT(20));
}

static inline bool cpu_has_1g_pages(void)
{
	return cpuid_max_leaf(0x80000000) >= 0x80000001 &&
	       (cpuid(0x80000001).edx & BIT(26));
}

static inline bool cpu_has_vmx(void)
{
	return cpuid(1).ecx & BIT(5);
}

/* Fills @buf (at least 13 bytes) with the CPUID vendor string. */
void cpu_vendor(char buf[13]);

#endif
