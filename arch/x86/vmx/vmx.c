// SPDX-License-Identifier: MIT
/* VMX operation on physical CPUs (see vmx.h). */
#include "vmm/cpuid.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs_fields.h"
#include "arch/x86/vmx/vmx_names.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

#define FEATURE_CONTROL_LOCKED	BIT(0)
#define FEATURE_CONTROL_VMX_SMX BIT(1)
#define FEATURE_CONTROL_VMX	BIT(2)

struct vmx_caps vmx_caps;

/* Per physical CPU: its VMXON region.  tidal runs guests on CPU 0 today. */
#define VMX_MAX_CPUS 64
static phys_addr_t vmxon_region[VMX_MAX_CPUS];

static void read_msrs(struct vmx_msrs *m)
{
	*m = (struct vmx_msrs){0};
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->pin = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	m->proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (m->basic & VMX_BASIC_TRUE_CTLS) {
		m->true_pin = rdmsr(MSR_IA32_VMX_TRUE_PINBASED);
		m->true_proc = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED);
		m->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT);
		m->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY);
	}
	/* The secondary and EPT MSRs exist only when their controls do. */
	if ((m->proc >> 32) & PROC_SECONDARY) {
		m->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((m->proc2 >> 32) & (PROC2_EPT | PROC2_VPID))
			m->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

static void report_caps_error(const struct vmx_caps_error *e)
{
	pr_err("tidal: vmx: cannot use VMX: %s (%s controls)\n", e->what,
	       vmx_ctl_set_name(e->set));
	for (unsigned int bit = 0; bit < 32; bit++) {
		const char *name;

		if (!(e->missing & BIT(bit)))
			continue;
		name = vmx_ctl_bit_name(e->set, bit);
		pr_err("tidal: vmx:   missing bit %u: %s\n", bit,
		       name ? name : "(unnamed)");
	}
}

/* Result of the first vmx_init() (which prints); later calls repeat it. */
static int vmx_init_result = 1;

int vmx_init(void)
{
	struct vmx_msrs m;
	struct vmx_caps_error err;
	struct vmx_caps *c = &vmx_caps;

	if (vmx_init_result != 1)
		return vmx_init_result;
	vmx_init_result = -1;
	if (!cpu_has_vmx()) {
		pr_err("tidal: vmx: this CPU has no VMX\n");
		return -1;
	}
	read_msrs(&m);
	if (vmx_caps_compute(&m, c, &err)) {
		report_caps_error(&err);
		return -1;
	}
	pr_info("tidal: vmx: controls pin %08x proc %08x proc2 %08x "
		"exit %08x entry %08x (%s MSRs)\n",
		c->ctl[VMX_CTL_PIN], c->ctl[VMX_CTL_PROC],
		c->ctl[VMX_CTL_PROC2], c->ctl[VMX_CTL_EXIT],
		c->ctl[VMX_CTL_ENTRY], c->true_ctls ? "TRUE" : "legacy");
	pr_info("tidal: vmx: vpid=%s ug=%s preempt-timer=%s ept-2M=%s "
		"ept-1G=%s ept-A/D=%s invept=%s\n",
		c->vpid ? "yes" : "no", c->unrestricted ? "yes" : "no",
		c->preempt_timer ? "yes" : "no", c->ept_2m ? "yes" : "no",
		c->ept_1g ? "yes" : "no", c->ept_ad ? "yes" : "no",
		c->invept_ctx ? "single-context" : "all-context");
	vmx_init_result = 0;
	return 0;
}

/* Compare one field of two vmx_caps; name it if it differs. */
#define CAP_DIFF(a, b, f)             \
	do {                          \
		if ((a)->f != (b)->f) \
			return #f;    \
	} while (0)

/* test=smp-refuse: the next checks see no 1 GiB EPT pages. */
static bool test_hide_ept_1g;

void vmx_test_hide_ept_1g(bool on)
{
	test_hide_ept_1g = on;
}

const char *vmx_cpu_check(void)
{
	static const char *const ctl_names[VMX_CTL_NSETS] = {
		[VMX_CTL_PIN] = "pin-based controls",
		[VMX_CTL_PROC] = "primary processor-based controls",
		[VMX_CTL_PROC2] = "secondary processor-based controls",
		[VMX_CTL_EXIT] = "VM-exit controls",
		[VMX_CTL_ENTRY] = "VM-entry controls",
	};
	const struct vmx_caps *b = &vmx_caps;
	struct vmx_caps mine;
	struct vmx_caps_error err;
	struct vmx_msrs m;

	if (!cpu_has_vmx())
		return "no VMX at all";
	read_msrs(&m);
	if (test_hide_ept_1g)
		m.ept_vpid &= ~BIT(17);
	if (vmx_caps_compute(&m, &mine, &err))
		return err.what;
	for (unsigned int i = 0; i < VMX_CTL_NSETS; i++) {
		if (mine.ctl[i] != b->ctl[i])
			return ctl_names[i] ? ctl_names[i] : "controls";
	}
	CAP_DIFF(&mine, b, revision);
	CAP_DIFF(&mine, b, region_size);
	CAP_DIFF(&mine, b, true_ctls);
	CAP_DIFF(&mine, b, ia32e_guest);
	CAP_DIFF(&mine, b, vpid);
	CAP_DIFF(&mine, b, unrestricted);
	CAP_DIFF(&mine, b, preempt_timer);
	CAP_DIFF(&mine, b, save_preempt);
	CAP_DIFF(&mine, b, ack_intr);
	CAP_DIFF(&mine, b, preempt_shift);
	CAP_DIFF(&mine, b, ept_wb);
	CAP_DIFF(&mine, b, ept_2m);
	CAP_DIFF(&mine, b, ept_1g);
	CAP_DIFF(&mine, b, ept_ad);
	CAP_DIFF(&mine, b, ept_exec_only);
	CAP_DIFF(&mine, b, invept_ctx);
	CAP_DIFF(&mine, b, invept_all);
	CAP_DIFF(&mine, b, invvpid);
	CAP_DIFF(&mine, b, invvpid_ctx);
	CAP_DIFF(&mine, b, invvpid_all);
	CAP_DIFF(&mine, b, invvpid_addr);
	CAP_DIFF(&mine, b, cr0_fixed0);
	CAP_DIFF(&mine, b, cr0_fixed1);
	CAP_DIFF(&mine, b, cr4_fixed0);
	CAP_DIFF(&mine, b, cr4_fixed1);
	return NULL;
}

static int feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCKED) {
		if (!(fc & FEATURE_CONTROL_VMX)) {
			pr_err("tidal: vmx: VMX is disabled and locked by the "
			       "firmware (IA32_FEATURE_CONTROL=%llx)\n",
			       (unsigned long long)fc);
			return -1;
		}
		return 0;
	}
	/* Firmware left it open: enable VMX outside SMX and lock it. */
	fc |= FEATURE_CONTROL_VMX | FEATURE_CONTROL_LOCKED;
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	pr_info("tidal: vmx: IA32_FEATURE_CONTROL was unlocked: set to %llx\n",
		(unsigned long long)fc);
	return 0;
}

int vmx_cpu_on(void)
{
	unsigned int cpu = platform_cpu_id();
	const struct vmx_caps *c = &vmx_caps;
	phys_addr_t pa;
	enum vmx_status st;

	if (cpu >= VMX_MAX_CPUS || vmxon_region[cpu])
		return vmxon_region[cpu] ? 0 : -1;
	if (feature_control())
		return -1;
	pa = frame_alloc();
	if (!pa) {
		pr_err("tidal: vmx: no memory for the VMXON region\n");
		return -1;
	}
	memset(phys_to_virt(pa), 0, PAGE_SIZE);
	*(uint32_t *)phys_to_virt(pa) = c->revision;

	/* Before VMXON and the VMCS's host CR4: guests may use XSAVE. */
	cpu_enable_xsave(cpuid_xcr0_supported(cpuid_host));
	write_cr0(vmx_fix_cr(read_cr0(), c->cr0_fixed0, c->cr0_fixed1));
	write_cr4(vmx_fix_cr(read_cr4() | X86_CR4_VMXE, c->cr4_fixed0,
			     c->cr4_fixed1));
	st = vmxon(pa);
	if (st != VMX_OK) {
		pr_err("tidal: vmx: VMXON failed on CPU %u (%s)\n", cpu,
		       st == VMX_FAIL_INVALID ? "VMfailInvalid: bad region or "
						"CPU state"
					      : "VMfailValid");
		write_cr4(read_cr4() & ~X86_CR4_VMXE);
		frame_free(pa);
		return -1;
	}
	vmxon_region[cpu] = pa;
	pr_info("tidal: vmx: VMX on for CPU %u\n", cpu);
	return 0;
}

bool vmx_cpu_is_on(void)
{
	unsigned int cpu = platform_cpu_id();

	return cpu < VMX_MAX_CPUS && vmxon_region[cpu];
}

void vmx_cpu_off(void)
{
	unsigned int cpu = platform_cpu_id();

	if (cpu >= VMX_MAX_CPUS || !vmxon_region[cpu])
		return;
	vmxoff();
	write_cr4(read_cr4() & ~X86_CR4_VMXE);
	frame_free(vmxon_region[cpu]);
	vmxon_region[cpu] = 0;
}

void vmx_report_failure(const char *what, enum vmx_status st)
{
	if (st == VMX_FAIL_INVALID) {
		pr_err("tidal: vmx: %s failed: VMfailInvalid (no current "
		       "VMCS)\n",
		       what);
		return;
	}
	uint32_t err = (uint32_t)vmread(VMCS_INSN_ERROR);

	pr_err("tidal: vmx: %s failed: VM-instruction error %u: %s\n", what,
	       err, vmx_insn_error_str(err));
}

int vmwrite(uint64_t field, uint64_t val)
{
	enum vmx_status st = vmwrite_checked(field, val);

	if (st == VMX_OK)
		return 0;
	pr_err("tidal: vmx: VMWRITE of field %04llx = %llx failed\n",
	       (unsigned long long)field, (unsigned long long)val);
	vmx_report_failure("VMWRITE", st);
	return -1;
}
