// SPDX-License-Identifier: MIT
/*
 * RDMSR and WRMSR (every one exits: tidal uses no MSR bitmap).  One table
 * says, for each MSR a guest may touch, where the guest's value lives:
 *
 *  - a VMCS guest-state field (EFER, PAT, FS/GS base, SYSENTER_*,
 *    DEBUGCTL), loaded at entry and saved at exit by the CPU;
 *  - the VM-entry MSR-load area, which is also the VM-exit MSR-store area
 *    (STAR, LSTAR, CSTAR, FMASK, KERNEL_GS_BASE, TSC_AUX): the CPU loads
 *    the guest's values at entry, stores them at exit (SWAPGS changes
 *    KERNEL_GS_BASE without an exit) and loads the host's from the
 *    VM-exit MSR-load area, so no host value is ever visible to the guest;
 *  - or a constant (read-only MSRs);
 *  - or tidal's own per-vCPU state, through the functions of
 *    emulated_table (TSC and TSC_ADJUST, MTRRs, MISC_ENABLE, machine
 *    check, microcode revision, platform information).
 *
 * Every write is checked as the architecture checks WRMSR, which also
 * keeps it valid for the VM-entry checks (canonical bases, PAT types, EFER
 * transitions).  Anything not in the table raises #GP.  docs/vmx.md lists
 * the table.
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "vmm/intr.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"
#include "vmm/cpuid.h"
#include "arch/x86/tsc.h"

#define MSR_IA32_TSC	     0x10
#define MSR_FEATURE_CONTROL  0x3a
#define MSR_TSC_ADJUST	     0x3b
#define MSR_UCODE_REV	     0x8b
#define MSR_PLATFORM_INFO    0xce
#define MSR_MCG_CAP	     0x179
#define MSR_MCG_STATUS	     0x17a
#define MSR_MTRR_PHYS_BASE0  0x200
#define MSR_MTRR_PHYS_MASK7  0x20f
#define MSR_MTRR_FIX64K	     0x250
#define MSR_MTRR_FIX16K_80   0x258
#define MSR_MTRR_FIX16K_A0   0x259
#define MSR_MTRR_FIX4K_C0    0x268
#define MSR_MTRR_FIX4K_F8    0x26f
#define MSR_MTRR_DEF_TYPE    0x2ff
#define MSR_IA32_MTRRCAP     0xfe
#define MSR_SYSENTER_CS	     0x174
#define MSR_SYSENTER_ESP     0x175
#define MSR_SYSENTER_EIP     0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_DEBUGCTL    0x1d9
#define MSR_STAR	     0xc0000081
#define MSR_LSTAR	     0xc0000082
#define MSR_CSTAR	     0xc0000083
#define MSR_FMASK	     0xc0000084
#define MSR_TSC_AUX	     0xc0000103

const uint32_t vcpu_switched_msrs[VCPU_SWITCHED_MSRS] = {
	MSR_STAR,  MSR_LSTAR,	       MSR_CSTAR,
	MSR_FMASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
};

enum msr_check {
	CHECK_ANY,	 /* every 64-bit value */
	CHECK_CANONICAL, /* a linear address */
	CHECK_LOW32,	 /* bits 63:32 reserved */
	CHECK_PAT,	 /* eight memory types */
	CHECK_ZERO,	 /* only 0 (features tidal does not offer) */
	CHECK_READONLY,
};

struct msr_desc {
	uint32_t msr;
	uint32_t field; /* VMCS field, or 0 */
	enum msr_check check;
	uint64_t value; /* constant, when no field and not switched */
};

static const struct msr_desc msr_table[] = {
	{MSR_EFER, VMCS_GUEST_EFER, CHECK_ANY, 0}, /* guest_write_efer() */
	{MSR_IA32_PAT, VMCS_GUEST_PAT, CHECK_PAT, 0},
	{MSR_FS_BASE, VMCS_GUEST_FS_BASE, CHECK_CANONICAL, 0},
	{MSR_GS_BASE, VMCS_GUEST_GS_BASE, CHECK_CANONICAL, 0},
	{MSR_SYSENTER_CS, VMCS_GUEST_SYSENTER_CS, CHECK_LOW32, 0},
	{MSR_SYSENTER_ESP, VMCS_GUEST_SYSENTER_ESP, CHECK_CANONICAL, 0},
	{MSR_SYSENTER_EIP, VMCS_GUEST_SYSENTER_EIP, CHECK_CANONICAL, 0},
	{MSR_IA32_DEBUGCTL, VMCS_GUEST_DEBUGCTL, CHECK_ZERO, 0},
	{MSR_STAR, 0, CHECK_ANY, 0},
	{MSR_LSTAR, 0, CHECK_CANONICAL, 0},
	{MSR_CSTAR, 0, CHECK_CANONICAL, 0},
	{MSR_FMASK, 0, CHECK_LOW32, 0},
	{MSR_KERNEL_GS_BASE, 0, CHECK_CANONICAL, 0},
	{MSR_TSC_AUX, 0, CHECK_LOW32, 0},
	/* 8 variable ranges, fixed ranges, WC; no SMRR. */
	{MSR_IA32_MTRRCAP, 0, CHECK_READONLY, 0x508},
	/* Locked, VMX off (the guest gets no VMX). */
	{MSR_FEATURE_CONTROL, 0, CHECK_READONLY, 1},
	/* No machine-check banks, no MCG_CTL. */
	{MSR_MCG_CAP, 0, CHECK_READONLY, 0},
};

bool is_canonical(uint64_t va)
{
	/* 48-bit linear addresses: bits 63:47 all equal. */
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static bool pat_valid(uint64_t pat)
{
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int t = (pat >> (8 * i)) & 0xff;

		/* UC, WC, WT, WP, WB, UC-; 2, 3 and 8+ are reserved. */
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool value_ok(enum msr_check c, uint64_t val)
{
	switch (c) {
	case CHECK_ANY:
		return true;
	case CHECK_CANONICAL:
		return is_canonical(val);
	case CHECK_LOW32:
		return !(val >> 32);
	case CHECK_PAT:
		return pat_valid(val);
	case CHECK_ZERO:
		return !val;
	case CHECK_READONLY:
		return false;
	}
	return false;
}

static const struct msr_desc *msr_find(uint32_t msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].msr == msr)
			return &msr_table[i];
	return NULL;
}

/* The guest's slot in the MSR area, or NULL when it is not switched. */
static struct msr_entry *switched_slot(struct vcpu *v, uint32_t msr)
{
	for (unsigned int i = 0; i < v->msr_count; i++)
		if (v->msr_guest[i].index == msr)
			return &v->msr_guest[i];
	return NULL;
}

/* Is this MSR usable at all (VMCS field present, area slot present)? */
static bool msr_present(struct vcpu *v, const struct msr_desc *d)
{
	if (d->field == VMCS_GUEST_PAT)
		return vmx_caps.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT;
	if (d->field == VMCS_GUEST_DEBUGCTL)
		return vmx_caps.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_DEBUG;
	if (!d->field && d->check != CHECK_READONLY)
		return switched_slot(v, d->msr);
	return true;
}

/* --- MSRs kept in struct vcpu ------------------------------------------ */

static uint64_t guest_tsc(struct vcpu *v)
{
	return rdtsc() + v->tsc_offset;
}

/* The guest's TSC moves by @delta: the VMCS offset, when offsetting is on. */
static bool tsc_shift(struct vcpu *v, uint64_t delta)
{
	if (!(vmx_caps.ctl[VMX_CTL_PROC] & PROC_TSC_OFFSET))
		return false;
	v->tsc_offset += delta;
	vmcs_write(VMCS_TSC_OFFSET, v->tsc_offset);
	return true;
}

static bool tsc_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	*out = msr == MSR_IA32_TSC ? guest_tsc(v) : v->tsc_adjust;
	return true;
}

/* SDM 17.17.3: a TSC write moves TSC_ADJUST by as much, and the reverse. */
static bool tsc_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t delta =
		msr == MSR_IA32_TSC ? val - guest_tsc(v) : val - v->tsc_adjust;

	if (!tsc_shift(v, delta))
		return false;
	v->tsc_adjust += delta;
	return true;
}

/* Memory types valid in MTRRs: UC, WC, WT, WP, WB. */
static bool mtrr_type_ok(unsigned int t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static uint64_t phys_mask(void)
{
	unsigned int n = cpuid_host(0x80000008u, 0).eax & 0xff;

	return ~0ull >> (64 - (n >= 36 && n <= 52 ? n : 36));
}

static uint64_t *mtrr_slot(struct vcpu *v, uint32_t msr)
{
	if (msr == MSR_MTRR_DEF_TYPE)
		return &v->mtrr_def;
	if (msr >= MSR_MTRR_PHYS_BASE0 && msr <= MSR_MTRR_PHYS_MASK7)
		return &v->mtrr_var[msr - MSR_MTRR_PHYS_BASE0];
	if (msr == MSR_MTRR_FIX64K)
		return &v->mtrr_fixed[0];
	if (msr == MSR_MTRR_FIX16K_80 || msr == MSR_MTRR_FIX16K_A0)
		return &v->mtrr_fixed[1 + msr - MSR_MTRR_FIX16K_80];
	if (msr >= MSR_MTRR_FIX4K_C0 && msr <= MSR_MTRR_FIX4K_F8)
		return &v->mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_C0];
	return NULL;
}

/* Until the guest writes them: all memory write-back (fixed ranges too). */
static bool mtrr_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	uint64_t *p = mtrr_slot(v, msr);

	if (!p)
		return false;
	*out = *p;
	return true;
}

bool mtrr_value_ok(uint32_t msr, uint64_t val, uint64_t pmask)
{
	if (msr == MSR_MTRR_DEF_TYPE)
		return !(val & ~0xcffull) && mtrr_type_ok(val & 0xff);
	if (msr >= MSR_MTRR_PHYS_BASE0 && msr <= MSR_MTRR_PHYS_MASK7) {
		if (msr & 1) /* mask: bits 10:0 reserved, 11 valid */
			return !(val & (0x7ffull | ~pmask));
		return !(val & (0xf00ull | ~pmask)) && mtrr_type_ok(val & 0xff);
	}
	for (unsigned int i = 0; i < 8; i++)
		if (!mtrr_type_ok((val >> (8 * i)) & 0xff))
			return false;
	return true;
}

static bool mtrr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t *p = mtrr_slot(v, msr);

	if (!p || !mtrr_value_ok(msr, val, phys_mask()))
		return false;
	*p = val; /* kept: EPT maps guest RAM write-back regardless */
	return true;
}

/*
 * IA32_MISC_ENABLE: fast strings (bit 0) as CPUID's ERMS says, BTS and
 * PEBS unavailable (11, 12).  The SDM makes most bits model-specific;
 * tidal lets a write through only when it changes nothing but bit 0,
 * whose change is ignored (Linux reads the bit to decide on ERMS, so it
 * must stay stable), and refuses anything else with #GP.
 */
#define MISC_FAST_STRINGS BIT(0)
#define MISC_NO_BTS	  BIT(11)
#define MISC_NO_PEBS	  BIT(12)

static uint64_t misc_enable(void)
{
	return MISC_NO_BTS | MISC_NO_PEBS |
	       (cpuid_has_erms(cpuid_host) ? MISC_FAST_STRINGS : 0);
}

static bool misc_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	*out = misc_enable();
	return true;
}

static bool misc_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return !((val ^ misc_enable()) & ~MISC_FAST_STRINGS);
}

/* MCG_STATUS: nothing in progress; only 0 may be written. */
static bool mcg_status_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	*out = 0;
	return true;
}

static bool mcg_status_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return !val;
}

/* Microcode revision: Linux writes 0, runs CPUID, reads it back. */
static bool ucode_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	*out = 0;
	return true;
}

static bool ucode_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return true;
}

/* PLATFORM_INFO: the maximum non-turbo ratio (100 MHz units) from the TSC. */
static bool platform_info_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	*out = ((tsc_hz() / 100000000u) & 0xff) << 8;
	return true;
}

struct msr_emulated {
	uint32_t first, last;
	bool (*read)(struct vcpu *v, uint32_t msr, uint64_t *out);
	bool (*write)(struct vcpu *v, uint32_t msr, uint64_t val); /* or NULL */
};

static const struct msr_emulated emulated_table[] = {
	{MSR_IA32_TSC, MSR_IA32_TSC, tsc_read, tsc_write},
	{MSR_TSC_ADJUST, MSR_TSC_ADJUST, tsc_read, tsc_write},
	{MSR_UCODE_REV, MSR_UCODE_REV, ucode_read, ucode_write},
	{MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, platform_info_read, NULL},
	{MSR_MCG_STATUS, MSR_MCG_STATUS, mcg_status_read, mcg_status_write},
	{MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, misc_read, misc_write},
	{MSR_MTRR_PHYS_BASE0, MSR_MTRR_PHYS_MASK7, mtrr_read, mtrr_write},
	{MSR_MTRR_FIX64K, MSR_MTRR_FIX16K_A0, mtrr_read, mtrr_write},
	{MSR_MTRR_FIX4K_C0, MSR_MTRR_FIX4K_F8, mtrr_read, mtrr_write},
	{MSR_MTRR_DEF_TYPE, MSR_MTRR_DEF_TYPE, mtrr_read, mtrr_write},
};

static const struct msr_emulated *emulated_find(uint32_t msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(emulated_table); i++)
		if (msr >= emulated_table[i].first &&
		    msr <= emulated_table[i].last)
			return &emulated_table[i];
	return NULL;
}

void msr_vcpu_reset(struct vcpu *v)
{
	v->tsc_offset = v->tsc_adjust = 0;
	vmcs_write(VMCS_TSC_OFFSET, 0);
	v->mtrr_def = 0xc06; /* enabled, fixed enabled, default WB */
	for (unsigned int i = 0; i < ARRAY_SIZE(v->mtrr_fixed); i++)
		v->mtrr_fixed[i] = 0x0606060606060606ull;
	for (unsigned int i = 0; i < ARRAY_SIZE(v->mtrr_var); i++)
		v->mtrr_var[i] = 0;
}

static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	const struct msr_desc *d = msr_find(msr);
	const struct msr_emulated *e = emulated_find(msr);

	/* The local APIC's own (vmm/intr.c). */
	if (intr_owns_msr(msr))
		return intr_rdmsr(v, msr, out);
	if (e)
		return e->read(v, msr, out);
	if (!d || !msr_present(v, d))
		return false;
	if (d->field)
		*out = vmcs_read(d->field);
	else if (d->check == CHECK_READONLY)
		*out = d->value;
	else
		*out = switched_slot(v, msr)->value;
	return true;
}

static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct msr_desc *d = msr_find(msr);
	const struct msr_emulated *e = emulated_find(msr);

	if (intr_owns_msr(msr))
		return intr_wrmsr(v, msr, val);
	if (e)
		return e->write && e->write(v, msr, val);
	if (!d || !msr_present(v, d) || !value_ok(d->check, val))
		return false;
	if (d->msr == MSR_EFER)
		return guest_write_efer(v, val);
	if (d->field)
		vmcs_write(d->field, val);
	else
		switched_slot(v, msr)->value = val;
	return true;
}

enum exit_action handle_rdmsr(struct vcpu *v)
{
	struct guest_regs *r = &v->regs;
	uint32_t msr = (uint32_t)r->rcx;
	uint64_t val = 0;

	if (vcpu_cpl() || !msr_read(v, msr, &val)) {
		pr_debug("tidal: vm: RDMSR of MSR %x refused: #GP\n", msr);
		vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	r->rax = (uint32_t)val;
	r->rdx = val >> 32;
	return EXIT_SKIP;
}

enum exit_action handle_wrmsr(struct vcpu *v)
{
	struct guest_regs *r = &v->regs;
	uint32_t msr = (uint32_t)r->rcx;
	uint64_t val = ((uint64_t)(uint32_t)r->rdx << 32) | (uint32_t)r->rax;

	if (vcpu_cpl() || !msr_write(v, msr, val)) {
		pr_debug("tidal: vm: WRMSR of MSR %x refused: #GP\n", msr);
		vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	return EXIT_SKIP;
}
