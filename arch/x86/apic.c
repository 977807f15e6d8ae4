// SPDX-License-Identifier: MIT
/* The local APIC; see apic.h. */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "lib/printf.h"
#include "mm/paging.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_X2APIC   BIT(10)
#define APIC_BASE_ENABLE   BIT(11)
#define APIC_BASE_ADDR	   0x000ffffffffff000ull

/* Register offsets (xAPIC MMIO); x2APIC MSR = 0x800 + offset / 16. */
#define APIC_ID	       0x020
#define APIC_TPR       0x080
#define APIC_EOI       0x0b0
#define APIC_SVR       0x0f0
#define APIC_ESR       0x280
#define APIC_ICR_LO    0x300
#define APIC_ICR_HI    0x310
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360

#define SVR_ENABLE	  BIT(8)
#define ICR_PENDING	  BIT(12)
#define ICR_LEVEL_ASSERT  BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define LVT_MASKED	  BIT(16)
#define LVT_DM_NMI	  0x400

static volatile uint32_t *mmio;
static bool x2apic;

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + reg / 16);
	return mmio[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + reg / 16, v);
	else
		mmio[reg / 4] = v;
}

bool apic_x2apic_mode(void)
{
	return x2apic;
}

uint32_t apic_id(void)
{
	uint32_t v = apic_read(APIC_ID);

	return x2apic ? v : v >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/* Software-enable this CPU's APIC and accept every priority. */
static void enable_local(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (x2apic && !(base & APIC_BASE_X2APIC)) {
		/* xAPIC mode first, then x2APIC (SDM: no direct jump). */
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_IA32_APIC_BASE, base);
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
	} else if (!(base & APIC_BASE_ENABLE)) {
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	}
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	/* No external interrupts through LINT0; NMIs through LINT1 stay. */
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_DM_NMI);
	if (!x2apic) {
		/* The ESR is cleared by back-to-back writes. */
		apic_write(APIC_ESR, 0);
		apic_write(APIC_ESR, 0);
	}
	apic_eoi();
}

int apic_init_boot(uint64_t madt_base)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	uint64_t pa = base & APIC_BASE_ADDR;

	if (!(cpuid(1).edx & BIT(9))) {
		pr_err("tidal: apic: this CPU has no local APIC\n");
		return -1;
	}
	x2apic = (base & (APIC_BASE_X2APIC | APIC_BASE_ENABLE)) ==
		 (APIC_BASE_X2APIC | APIC_BASE_ENABLE);
	if (madt_base && madt_base != pa)
		pr_warn("tidal: apic: MADT says the APIC is at %#llx, "
			"IA32_APIC_BASE says %#llx; using the latter\n",
			(unsigned long long)madt_base, (unsigned long long)pa);
	if (!x2apic) {
		mmio = paging_map_uc(pa);
		if (!mmio) {
			pr_err("tidal: apic: cannot map the APIC at %#llx\n",
			       (unsigned long long)pa);
			return -1;
		}
	}
	enable_local();
	pr_debug("tidal: apic: %s mode, base %#llx, boot CPU APIC ID %u\n",
		 x2apic ? "x2APIC" : "xAPIC", (unsigned long long)pa,
		 apic_id());
	return 0;
}

void apic_init_ap(void)
{
	enable_local();
}

/* Wait (bounded) for the xAPIC to report the last IPI sent. */
static bool wait_idle(void)
{
	if (x2apic)
		return true; /* x2APIC ICR writes complete synchronously */
	for (unsigned long i = 0; i < 10000000ul; i++) {
		if (!(apic_read(APIC_ICR_LO) & ICR_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

static bool icr_write(uint32_t dest, uint32_t lo)
{
	if (!wait_idle())
		return false;
	if (x2apic) {
		wrmsr(0x830, ((uint64_t)dest << 32) | lo);
		return true;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	return wait_idle();
}

bool apic_send(uint32_t dest, uint32_t mode, uint8_t vector)
{
	uint32_t lo = mode | vector;

	if (mode == APIC_DM_INIT)
		lo |= ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL;
	else
		lo |= ICR_LEVEL_ASSERT;
	return icr_write(dest, lo);
}

void apic_send_init_deassert(uint32_t dest)
{
	if (!x2apic)
		icr_write(dest, APIC_DM_INIT | ICR_TRIGGER_LEVEL);
}

#define APIC_LVT_TIMER	      0x320
#define LVT_TIMER_TSCDEADLINE (2u << 17)
#define MSR_IA32_TSC_DEADLINE 0x6e0

bool apic_timer_deadline(uint8_t vector, uint64_t tsc)
{
	if ((!mmio && !x2apic) || !(cpuid(1).ecx & BIT(24)))
		return false;
	if (!tsc) {
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
		return true;
	}
	apic_write(APIC_LVT_TIMER, LVT_TIMER_TSCDEADLINE | vector);
	/* SDM: order the LVT write before the deadline write. */
	__asm__ __volatile__("mfence" ::: "memory");
	wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
	return true;
}
