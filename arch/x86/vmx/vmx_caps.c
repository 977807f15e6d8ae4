// SPDX-License-Identifier: MIT
/* From capability MSRs to VM-execution controls (see vmx_caps.h). */
#include "arch/x86/vmx/vmx_caps.h"

#define X86_CR0_PE_BIT BIT(0)
#define X86_CR0_PG_BIT BIT(31)

uint32_t vmx_adjust_ctl(uint64_t cap, uint32_t need, uint32_t want,
			uint32_t *out)
{
	uint32_t must_be_1 = (uint32_t)cap;
	uint32_t may_be_1 = (uint32_t)(cap >> 32);

	*out = ((need | want) & may_be_1) | must_be_1;
	return need & ~may_be_1;
}

/*
 * What tidal needs and what it would like, per control set.
 *
 * Needed: exits for external interrupts and NMIs (the host owns them),
 * HLT and every I/O access (devices are emulated, unconditional I/O
 * exiting keeps it simple), EPT, a 64-bit host, and EFER switching so a
 * guest's EFER never leaks into the host's.  MSR bitmaps are left off on
 * purpose: every RDMSR/WRMSR exits and meets the allow list.
 *
 * Wanted: the preemption timer (a spinning guest cannot stall tidal),
 * VPID (no TLB flush on every transition), unrestricted guest (32-bit
 * guests start with paging off), instructions a guest would otherwise
 * see fault (RDTSCP, INVPCID, XSAVES), TSC offsetting (WRMSR to the
 * TSC and TSC_ADJUST), the debug controls, so the
 * guest's DR7 and DEBUGCTL are loaded at entry and saved at exit, and
 * CR8 exiting, so a guest's MOV to CR8 reaches its emulated TPR and not
 * the physical one (vmm/apicv.c turns it off for the TPR shadow).
 */
static const uint32_t need[VMX_CTL_NSETS] = {
	[VMX_CTL_PIN] = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING,
	[VMX_CTL_PROC] = PROC_HLT_EXITING | PROC_UNCOND_IO | PROC_SECONDARY,
	[VMX_CTL_PROC2] = PROC2_EPT,
	[VMX_CTL_EXIT] = EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
	[VMX_CTL_ENTRY] = ENTRY_LOAD_EFER,
};

static const uint32_t want[VMX_CTL_NSETS] = {
	[VMX_CTL_PIN] = PIN_VIRTUAL_NMIS | PIN_PREEMPT_TIMER,
	[VMX_CTL_PROC] = PROC_TSC_OFFSET | PROC_CR8_LOAD | PROC_CR8_STORE,
	[VMX_CTL_PROC2] = PROC2_VPID | PROC2_UNRESTRICTED | PROC2_RDTSCP |
			  PROC2_INVPCID | PROC2_XSAVES,
	[VMX_CTL_EXIT] = EXIT_ACK_INTR | EXIT_SAVE_PREEMPT | EXIT_SAVE_PAT |
			 EXIT_LOAD_PAT | EXIT_SAVE_DEBUG,
	[VMX_CTL_ENTRY] = ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG,
};

/*
 * The TRUE_* MSRs report the "default1" controls (CR3 load/store exiting,
 * for instance) as optional where the CPU allows that; the legacy MSRs
 * force them.  Use the TRUE ones when they exist, so that such controls end
 * up cleared because tidal does not ask for them.
 */
static void pick_msrs(const struct vmx_msrs *m, uint64_t cap[VMX_CTL_NSETS],
		      bool use_true)
{
	cap[VMX_CTL_PIN] = use_true ? m->true_pin : m->pin;
	cap[VMX_CTL_PROC] = use_true ? m->true_proc : m->proc;
	cap[VMX_CTL_EXIT] = use_true ? m->true_exit : m->exit;
	cap[VMX_CTL_ENTRY] = use_true ? m->true_entry : m->entry;
	/* Secondary controls exist only if the primary ones allow them. */
	cap[VMX_CTL_PROC2] =
		(cap[VMX_CTL_PROC] >> 32) & PROC_SECONDARY ? m->proc2 : 0;
}

static void decode_ept_vpid(const struct vmx_msrs *m, struct vmx_caps *c)
{
	uint64_t e = m->ept_vpid;
	bool vpid_on = c->ctl[VMX_CTL_PROC2] & PROC2_VPID;

	c->ept_wb = e & EPT_CAP_WB;
	c->ept_2m = e & EPT_CAP_2M;
	c->ept_1g = e & EPT_CAP_1G;
	c->ept_ad = e & EPT_CAP_AD;
	c->ept_exec_only = e & EPT_CAP_EXEC_ONLY;
	c->invept_ctx = (e & EPT_CAP_INVEPT) && (e & EPT_CAP_INVEPT_CTX);
	c->invept_all = (e & EPT_CAP_INVEPT) && (e & EPT_CAP_INVEPT_ALL);
	c->invvpid = vpid_on && (e & VPID_CAP_INVVPID);
	c->invvpid_ctx = c->invvpid && (e & VPID_CAP_INVVPID_CTX);
	c->invvpid_all = c->invvpid && (e & VPID_CAP_INVVPID_ALL);
	c->invvpid_addr = c->invvpid && (e & VPID_CAP_INVVPID_ADDR);
}

/* The APIC virtualization controls the CPU allows (may be 1). */
static void decode_apicv(const uint64_t cap[VMX_CTL_NSETS], struct vmx_caps *c)
{
	uint32_t pin = (uint32_t)(cap[VMX_CTL_PIN] >> 32);
	uint32_t proc = (uint32_t)(cap[VMX_CTL_PROC] >> 32);
	uint32_t proc2 = c->ctl[VMX_CTL_PROC] & PROC_SECONDARY
				 ? (uint32_t)(cap[VMX_CTL_PROC2] >> 32)
				 : 0;
	uint32_t proc_must1 = (uint32_t)cap[VMX_CTL_PROC];

	c->tpr_shadow = proc & PROC_TPR_SHADOW;
	c->msr_bitmaps = proc & PROC_MSR_BITMAPS;
	c->cr8_exits_optional =
		!(proc_must1 & (PROC_CR8_LOAD | PROC_CR8_STORE));
	c->virt_apic_access = proc2 & PROC2_VIRT_APIC;
	c->virt_x2apic = proc2 & PROC2_X2APIC;
	c->apic_reg_virt = proc2 & PROC2_APIC_REG;
	c->virt_intr = proc2 & PROC2_VINTR;
	c->posted_intr = pin & PIN_POSTED_INTR;
	c->apicv_offered =
		c->tpr_shadow && (c->virt_apic_access || c->apic_reg_virt ||
				  c->virt_intr || c->virt_x2apic);
}

static int fail(struct vmx_caps_error *err, const char *what,
		enum vmx_ctl_set set, uint32_t missing)
{
	*err = (struct vmx_caps_error){what, set, missing};
	return -1;
}

/* EPT as tidal builds it: 4-level walk, write-back, INVEPT of some kind. */
static int check_ept(const struct vmx_msrs *m, struct vmx_caps *c,
		     struct vmx_caps_error *err)
{
	if (!(m->ept_vpid & EPT_CAP_WALK4))
		return fail(err, "EPT lacks 4-level page walks", VMX_CTL_PROC2,
			    0);
	if (!c->ept_wb)
		return fail(err, "EPT lacks the write-back memory type",
			    VMX_CTL_PROC2, 0);
	if (!c->invept_ctx && !c->invept_all)
		return fail(err, "INVEPT is not available", VMX_CTL_PROC2, 0);
	/*
	 * With VPID on, changing EPT mappings needs INVVPID or a full INVEPT
	 * to drop guest-linear translations; without INVVPID, run without
	 * VPID rather than risk stale entries.
	 */
	if (c->vpid && !c->invvpid_ctx && !c->invvpid_all) {
		c->ctl[VMX_CTL_PROC2] &= ~(uint32_t)PROC2_VPID;
		c->vpid = false;
		c->invvpid = false;
	}
	return 0;
}

int vmx_caps_compute(const struct vmx_msrs *m, struct vmx_caps *c,
		     struct vmx_caps_error *err)
{
	uint64_t cap[VMX_CTL_NSETS];

	*c = (struct vmx_caps){0};
	*err = (struct vmx_caps_error){NULL, VMX_CTL_NSETS, 0};
	c->revision = VMX_BASIC_REVISION(m->basic);
	c->region_size = VMX_BASIC_REGION_SIZE(m->basic);
	if (c->region_size == 0 || c->region_size > PAGE_SIZE)
		return fail(err, "VMCS region size is not within one page",
			    VMX_CTL_NSETS, 0);
	if (VMX_BASIC_MEMTYPE(m->basic) != 6)
		return fail(err, "VMCS memory type is not write-back",
			    VMX_CTL_NSETS, 0);
	c->true_ctls = m->basic & VMX_BASIC_TRUE_CTLS;
	pick_msrs(m, cap, c->true_ctls);

	for (int s = 0; s < VMX_CTL_NSETS; s++) {
		uint32_t missing =
			vmx_adjust_ctl(cap[s], need[s], want[s], &c->ctl[s]);

		if (missing)
			return fail(err, "required VMX controls are missing",
				    (enum vmx_ctl_set)s, missing);
	}
	c->ia32e_guest = (cap[VMX_CTL_ENTRY] >> 32) & ENTRY_IA32E;
	c->vpid = c->ctl[VMX_CTL_PROC2] & PROC2_VPID;
	c->unrestricted = c->ctl[VMX_CTL_PROC2] & PROC2_UNRESTRICTED;
	c->preempt_timer = c->ctl[VMX_CTL_PIN] & PIN_PREEMPT_TIMER;
	c->save_preempt = c->ctl[VMX_CTL_EXIT] & EXIT_SAVE_PREEMPT;
	c->ack_intr = c->ctl[VMX_CTL_EXIT] & EXIT_ACK_INTR;
	c->preempt_shift = (unsigned int)(m->misc & 0x1f);
	c->intr_window = (cap[VMX_CTL_PROC] >> 32) & PROC_INTR_WINDOW;
	c->nmi_window = ((cap[VMX_CTL_PROC] >> 32) & PROC_NMI_WINDOW) &&
			(c->ctl[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS);
	decode_apicv(cap, c);
	decode_ept_vpid(m, c);
	if (check_ept(m, c, err))
		return -1;

	c->cr0_fixed0 = m->cr0_fixed0;
	c->cr0_fixed1 = m->cr0_fixed1;
	c->cr4_fixed0 = m->cr4_fixed0;
	c->cr4_fixed1 = m->cr4_fixed1;
	return 0;
}

uint64_t vmx_guest_cr0_fixed0(const struct vmx_caps *caps)
{
	uint64_t f0 = caps->cr0_fixed0;

	if (caps->unrestricted)
		f0 &= ~(X86_CR0_PE_BIT | X86_CR0_PG_BIT);
	return f0;
}

static const char *const set_names[VMX_CTL_NSETS] = {
	[VMX_CTL_PIN] = "pin-based",
	[VMX_CTL_PROC] = "primary processor-based",
	[VMX_CTL_PROC2] = "secondary processor-based",
	[VMX_CTL_EXIT] = "VM-exit",
	[VMX_CTL_ENTRY] = "VM-entry",
};

const char *vmx_ctl_set_name(enum vmx_ctl_set set)
{
	if ((unsigned int)set >= VMX_CTL_NSETS)
		return "VMX capabilities";
	return set_names[set];
}

static const char *const bit_names[VMX_CTL_NSETS][32] = {
	[VMX_CTL_PIN] =
		{
			[0] = "external-interrupt exiting",
			[3] = "NMI exiting",
			[5] = "virtual NMIs",
			[6] = "VMX preemption timer",
			[7] = "posted interrupts",
		},
	[VMX_CTL_PROC] =
		{
			[2] = "interrupt-window exiting",
			[3] = "use TSC offsetting",
			[7] = "HLT exiting",
			[9] = "INVLPG exiting",
			[10] = "MWAIT exiting",
			[11] = "RDPMC exiting",
			[12] = "RDTSC exiting",
			[15] = "CR3-load exiting",
			[16] = "CR3-store exiting",
			[19] = "CR8-load exiting",
			[20] = "CR8-store exiting",
			[21] = "use TPR shadow",
			[22] = "NMI-window exiting",
			[23] = "MOV-DR exiting",
			[24] = "unconditional I/O exiting",
			[25] = "use I/O bitmaps",
			[27] = "monitor trap flag",
			[28] = "use MSR bitmaps",
			[29] = "MONITOR exiting",
			[30] = "PAUSE exiting",
			[31] = "activate secondary controls",
		},
	[VMX_CTL_PROC2] =
		{
			[0] = "virtualize APIC accesses",
			[1] = "enable EPT",
			[2] = "descriptor-table exiting",
			[3] = "enable RDTSCP",
			[4] = "virtualize x2APIC mode",
			[5] = "enable VPID",
			[6] = "WBINVD exiting",
			[7] = "unrestricted guest",
			[8] = "APIC-register virtualization",
			[9] = "virtual-interrupt delivery",
			[12] = "enable INVPCID",
			[20] = "enable XSAVES/XRSTORS",
		},
	[VMX_CTL_EXIT] =
		{
			[2] = "save debug controls",
			[9] = "host address-space size",
			[15] = "acknowledge interrupt on exit",
			[18] = "save IA32_PAT",
			[19] = "load IA32_PAT",
			[20] = "save IA32_EFER",
			[21] = "load IA32_EFER",
			[22] = "save VMX-preemption timer value",
		},
	[VMX_CTL_ENTRY] =
		{
			[2] = "load debug controls",
			[9] = "IA-32e mode guest",
			[14] = "load IA32_PAT",
			[15] = "load IA32_EFER",
		},
};

const char *vmx_ctl_bit_name(enum vmx_ctl_set set, unsigned int bit)
{
	if ((unsigned int)set >= VMX_CTL_NSETS || bit >= 32)
		return NULL;
	return bit_names[set][bit];
}
