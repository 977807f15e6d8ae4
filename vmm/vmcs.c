// SPDX-License-Identifier: MIT
/*
 * VMCS set-up for a vCPU: controls from the computed capabilities, host
 * state read from the running CPU, and the guest's entry state as
 * docs/guest-abi.md promises it.
 */
#include "vmm/apicv.h"
#include "vmm/exits.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176

/* Segment access rights as the VMCS encodes them. */
#define AR_CODE64   0xa09b /* present, DPL 0, exec/read, accessed, L, G */
#define AR_CODE32   0xc09b /* same with D/B instead of L */
#define AR_DATA	    0xc093 /* present, read/write, accessed, D/B, G */
#define AR_TSS_BUSY 0x008b
#define AR_UNUSABLE 0x10000

/* Guest PAT at reset. */
#define PAT_DEFAULT 0x0007040600070406ull

/* Preemption-timer period when the TSC rate is unknown (TSC ticks). */
#define PREEMPT_DEFAULT_TSC (1ull << 24)

extern void vmx_exit_entry(void);

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

static uint16_t read_sel(int which)
{
	uint16_t s = 0;

	switch (which) {
	case 0:
		__asm__ __volatile__("mov %%cs, %0" : "=r"(s));
		break;
	case 1:
		__asm__ __volatile__("mov %%ss, %0" : "=r"(s));
		break;
	case 2:
		__asm__ __volatile__("mov %%ds, %0" : "=r"(s));
		break;
	case 3:
		__asm__ __volatile__("mov %%es, %0" : "=r"(s));
		break;
	case 4:
		__asm__ __volatile__("mov %%fs, %0" : "=r"(s));
		break;
	case 5:
		__asm__ __volatile__("mov %%gs, %0" : "=r"(s));
		break;
	case 6:
		__asm__ __volatile__("str %0" : "=r"(s));
		break;
	}
	return s;
}

/* Base of a system descriptor (16 bytes in long mode) in the GDT. */
static uint64_t gdt_sys_base(uint64_t gdt, uint16_t sel)
{
	const uint64_t *d = (const uint64_t *)(uintptr_t)(gdt + (sel & ~7u));

	return ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24) |
	       (d[1] << 32);
}

static int setup_host(void)
{
	struct desc_ptr gdtr, idtr;
	uint16_t tr = read_sel(6);
	int err = 0;

	__asm__ __volatile__("sgdt %0" : "=m"(gdtr));
	__asm__ __volatile__("sidt %0" : "=m"(idtr));
	if (!tr) {
		pr_err("tidal: vmx: the host has no TSS loaded (TR is 0)\n");
		return -1;
	}
	err |= vmwrite(VMCS_HOST_CR0, read_cr0());
	err |= vmwrite(VMCS_HOST_CR3, read_cr3());
	err |= vmwrite(VMCS_HOST_CR4, read_cr4());
	/* Host selectors must have RPL 0 and TI 0. */
	err |= vmwrite(VMCS_HOST_CS_SEL, read_sel(0) & ~7u);
	err |= vmwrite(VMCS_HOST_SS_SEL, read_sel(1) & ~7u);
	err |= vmwrite(VMCS_HOST_DS_SEL, read_sel(2) & ~7u);
	err |= vmwrite(VMCS_HOST_ES_SEL, read_sel(3) & ~7u);
	err |= vmwrite(VMCS_HOST_FS_SEL, read_sel(4) & ~7u);
	err |= vmwrite(VMCS_HOST_GS_SEL, read_sel(5) & ~7u);
	err |= vmwrite(VMCS_HOST_TR_SEL, tr & ~7u);
	err |= vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	err |= vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	err |= vmwrite(VMCS_HOST_TR_BASE, gdt_sys_base(gdtr.base, tr));
	err |= vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	err |= vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	err |= vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	err |= vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	err |= vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	err |= vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	if (vmx_caps.ctl[VMX_CTL_EXIT] & EXIT_LOAD_PAT)
		err |= vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	err |= vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
	/* HOST_RSP is written by vmx_enter on every entry. */
	return err ? -1 : 0;
}

static uint64_t preempt_ticks(void)
{
	uint64_t tsc_khz = tsc_hz() / 1000;
	/* About every 10 ms of guest time, so time limits are checked. */
	uint64_t tsc = tsc_khz ? tsc_khz * 10 : PREEMPT_DEFAULT_TSC;
	uint64_t ticks = tsc >> vmx_caps.preempt_shift;

	return MAX(MIN(ticks, 0xffffffffull), 1ull);
}

static int setup_controls(struct vcpu *v, bool long_mode)
{
	const struct vmx_caps *c = &vmx_caps;
	uint32_t entry = c->ctl[VMX_CTL_ENTRY];
	uint32_t proc2 = c->ctl[VMX_CTL_PROC2];
	uint64_t cr0_mask, cr4_mask;
	int err = 0;

	if (long_mode)
		entry |= ENTRY_IA32E;
	if (!v->vpid)
		proc2 &= ~(uint32_t)PROC2_VPID;
	err |= vmwrite(VMCS_PIN_CONTROLS, c->ctl[VMX_CTL_PIN]);
	err |= vmwrite(VMCS_PROC_CONTROLS, c->ctl[VMX_CTL_PROC]);
	err |= vmwrite(VMCS_PROC2_CONTROLS, proc2);
	err |= vmwrite(VMCS_EXIT_CONTROLS, c->ctl[VMX_CTL_EXIT]);
	err |= vmwrite(VMCS_ENTRY_CONTROLS, entry);
	err |= vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	err |= vmwrite(VMCS_PF_ERROR_MASK, 0);
	err |= vmwrite(VMCS_PF_ERROR_MATCH, 0);
	err |= vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	err |= vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	err |= vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	err |= vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	err |= vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	err |= vmwrite(VMCS_LINK_POINTER, ~0ull);
	if (v->vpid)
		err |= vmwrite(VMCS_VPID, v->vpid);
	if (c->preempt_timer) {
		v->preempt_ticks = preempt_ticks();
		err |= vmwrite(VMCS_PREEMPT_TIMER, v->preempt_ticks);
	}

	/*
	 * tidal owns every bit of CR0 and CR4: each write exits and is
	 * checked as the SDM says (vmm/cr.c), reads come from the shadows.
	 */
	cr0_mask = ~0ull;
	cr4_mask = ~0ull;
	err |= vmwrite(VMCS_CR0_MASK, cr0_mask);
	err |= vmwrite(VMCS_CR4_MASK, cr4_mask);
	return err ? -1 : 0;
}

static int set_seg(uint32_t sel_f, uint16_t sel, uint32_t ar)
{
	/* The selector, base, limit and AR fields are laid out in step. */
	uint32_t idx = (sel_f - VMCS_GUEST_ES_SEL) / 2;
	int err = 0;

	err |= vmwrite(sel_f, sel);
	err |= vmwrite(VMCS_GUEST_ES_BASE + 2 * idx, 0);
	err |= vmwrite(VMCS_GUEST_ES_LIMIT + 2 * idx,
		       ar & AR_UNUSABLE ? 0 : 0xffffffff);
	err |= vmwrite(VMCS_GUEST_ES_AR + 2 * idx, ar);
	return err;
}

static int setup_guest(struct vcpu *v)
{
	const struct vmx_caps *c = &vmx_caps;
	struct vm *vm = v->vm;
	const struct guest_layout *l = &vm->layout;
	bool lm = l->long_mode;
	uint64_t cr0 = X86_CR0_PE | X86_CR0_NE | BIT(4) /* ET */;
	uint64_t cr4 = 0, efer = 0;
	int err = 0;

	if (lm) {
		cr0 |= X86_CR0_PG;
		cr4 |= X86_CR4_PAE;
		efer = EFER_LME | EFER_LMA;
	}
	/* What the guest sees, then what the CPU runs with. */
	err |= vmwrite(VMCS_CR0_SHADOW, cr0);
	err |= vmwrite(VMCS_CR4_SHADOW, cr4);
	err |= vmwrite(VMCS_GUEST_CR0,
		       vmx_fix_cr(cr0, vmx_guest_cr0_fixed0(c), c->cr0_fixed1));
	err |= vmwrite(VMCS_GUEST_CR4,
		       vmx_fix_cr(cr4, c->cr4_fixed0, c->cr4_fixed1));
	err |= vmwrite(VMCS_GUEST_CR3, l->cr3);
	err |= vmwrite(VMCS_GUEST_EFER, efer);
	if (c->ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)
		err |= vmwrite(VMCS_GUEST_PAT, PAT_DEFAULT);

	err |= set_seg(VMCS_GUEST_CS_SEL,
		       lm ? TIDAL_SEL_CODE64 : TIDAL_SEL_CODE32,
		       lm ? AR_CODE64 : AR_CODE32);
	err |= set_seg(VMCS_GUEST_SS_SEL, TIDAL_SEL_DATA, AR_DATA);
	err |= set_seg(VMCS_GUEST_DS_SEL, TIDAL_SEL_DATA, AR_DATA);
	err |= set_seg(VMCS_GUEST_ES_SEL, TIDAL_SEL_DATA, AR_DATA);
	err |= set_seg(VMCS_GUEST_FS_SEL, TIDAL_SEL_DATA, AR_DATA);
	err |= set_seg(VMCS_GUEST_GS_SEL, TIDAL_SEL_DATA, AR_DATA);
	err |= set_seg(VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE);
	err |= vmwrite(VMCS_GUEST_TR_SEL, LAYOUT_SEL_TSS);
	err |= vmwrite(VMCS_GUEST_TR_BASE, l->tss_gpa);
	err |= vmwrite(VMCS_GUEST_TR_LIMIT, LAYOUT_TSS_SIZE - 1);
	err |= vmwrite(VMCS_GUEST_TR_AR, AR_TSS_BUSY);
	err |= vmwrite(VMCS_GUEST_GDTR_BASE, l->gdt_gpa);
	err |= vmwrite(VMCS_GUEST_GDTR_LIMIT, l->gdt_limit);
	err |= vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	err |= vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);

	err |= vmwrite(VMCS_GUEST_RIP, l->entry);
	err |= vmwrite(VMCS_GUEST_RSP, 0);
	err |= vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	err |= vmwrite(VMCS_GUEST_DR7, 0x400);
	err |= vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	err |= vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	err |= vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	err |= vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	err |= vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	err |= vmwrite(VMCS_GUEST_ACTIVITY, 0);
	err |= vmwrite(VMCS_GUEST_PENDING_DBG, 0);

	v->regs = (struct guest_regs){0};
	v->regs.rax = l->boot_magic;
	v->regs.rbx = l->start_info_gpa;
	/* Every vCPU starts here; EDX tells it which one it is. */
	v->regs.rdx = v->index;
	return err ? -1 : 0;
}

/*
 * The MSRs the VMCS has no field for (vmm/msr.c): one page, the guest's
 * area (loaded at entry, stored at exit) then the host's (loaded at exit).
 */
static int setup_msr_areas(struct vcpu *v)
{
	phys_addr_t pa = frame_alloc();
	unsigned int n = 0;
	int err = 0;

	if (!pa)
		return -1;
	memset(phys_to_virt(pa), 0, PAGE_SIZE);
	v->msr_page = pa;
	v->msr_guest = phys_to_virt(pa);
	v->msr_host = (struct msr_entry *)((char *)phys_to_virt(pa) +
					   PAGE_SIZE / 2);
	for (unsigned int i = 0; i < VCPU_SWITCHED_MSRS; i++) {
		uint32_t msr = vcpu_switched_msrs[i];

		/* TSC_AUX exists where RDTSCP does. */
		if (msr == 0xc0000103 &&
		    !(vmx_caps.ctl[VMX_CTL_PROC2] & PROC2_RDTSCP))
			continue;
		v->msr_guest[n] = (struct msr_entry){.index = msr, .value = 0};
		v->msr_host[n] =
			(struct msr_entry){.index = msr, .value = rdmsr(msr)};
		n++;
	}
	v->msr_count = n;
	v->xcr0 = 1; /* x87 only, as at reset */
	msr_vcpu_reset(v);
	err |= vmwrite(VMCS_ENTRY_MSR_LOAD, pa);
	err |= vmwrite(VMCS_EXIT_MSR_STORE, pa);
	err |= vmwrite(VMCS_EXIT_MSR_LOAD, pa + PAGE_SIZE / 2);
	err |= vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, n);
	err |= vmwrite(VMCS_EXIT_MSR_STORE_COUNT, n);
	err |= vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, n);
	return err ? -1 : 0;
}

int vcpu_vmcs_init(struct vcpu *v)
{
	phys_addr_t pa = frame_alloc();
	enum vmx_status st;

	if (!pa) {
		pr_err("tidal: vmx: no memory for a VMCS\n");
		return -1;
	}
	memset(phys_to_virt(pa), 0, PAGE_SIZE);
	*(uint32_t *)phys_to_virt(pa) = vmx_caps.revision;
	v->vmcs_pa = pa;
	v->launched = false;
	st = vmclear(pa);
	if (st == VMX_OK)
		st = vmptrld(pa);
	if (st != VMX_OK) {
		vmx_report_failure("VMCLEAR/VMPTRLD of the vCPU's VMCS", st);
		vcpu_vmcs_free(v);
		return -1;
	}
	/* VPID 0 is the host's: vCPU i tags its translations with i + 1. */
	v->vpid = vmx_caps.vpid ? (uint16_t)(v->index + 1) : 0;
	if (setup_controls(v, v->vm->layout.long_mode) || apicv_vmcs_init(v) ||
	    setup_host() || setup_guest(v) || setup_msr_areas(v)) {
		pr_err("tidal: vmx: VMCS set-up failed\n");
		vcpu_vmcs_free(v);
		return -1;
	}
	return 0;
}

void vcpu_vmcs_free(struct vcpu *v)
{
	if (v->msr_page) {
		frame_free(v->msr_page);
		v->msr_page = 0;
		v->msr_guest = v->msr_host = NULL;
		v->msr_count = 0;
	}
	if (!v->vmcs_pa)
		return;
	vmclear(v->vmcs_pa);
	frame_free(v->vmcs_pa);
	v->vmcs_pa = 0;
}
