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
 *  - or a constant (read-only MSRs).
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

#define MSR_IA32_TSC	     0x10
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
	{MSR_IA32_TSC, 0, CHECK_READONLY, 0}, /* read: the TSC */
	{MSR_IA32_MTRRCAP, 0, CHECK_READONLY, 0},
	{MSR_IA32_MISC_ENABLE, 0, CHECK_READONLY, 0},
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

static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *out)
{
	const struct msr_desc *d = msr_find(msr);

	/* The local APIC's own (vmm/intr.c). */
	if (intr_owns_msr(msr))
		return intr_rdmsr(v, msr, out);
	if (!d || !msr_present(v, d))
		return false;
	if (d->field)
		*out = vmcs_read(d->field);
	else if (d->msr == MSR_IA32_TSC)
		*out = rdtsc();
	else if (d->check == CHECK_READONLY)
		*out = d->value;
	else
		*out = switched_slot(v, msr)->value;
	return true;
}

static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct msr_desc *d = msr_find(msr);

	if (intr_owns_msr(msr))
		return intr_wrmsr(v, msr, val);
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
