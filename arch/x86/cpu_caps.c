// SPDX-License-Identifier: MIT
/* The "tidal: cpu:" boot-log line and the VMX/EPT summary. */
#include "arch/x86/cpu_caps.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"
#include "lib/string.h"

#define MSR_VMX_BASIC		0x480
#define MSR_VMX_PINBASED	0x481
#define MSR_VMX_PROCBASED	0x482
#define MSR_VMX_EXIT		0x483
#define MSR_VMX_ENTRY		0x484
#define MSR_VMX_PROCBASED2	0x48b
#define MSR_VMX_EPT_VPID_CAP	0x48c

/* Allowed-1 settings live in the high half of a VMX control MSR. */
#define ALLOWED1(msr) ((uint32_t)((msr) >> 32))

#define PROC_SECONDARY	BIT(31)
#define PROC2_EPT	BIT(1)
#define PROC2_VPID	BIT(5)
#define PROC2_UG	BIT(7)

void cpu_caps_probe(struct cpu_caps *c)
{
	memset(c, 0, sizeof(*c));
	cpu_vendor(c->vendor);
	c->nx = cpu_has_nx();
	c->pdpe1gb = cpu_has_1g_pages();
	c->vmx = cpu_has_vmx();
	if (!c->vmx)
		return;
	/* With CPUID.1:ECX.VMX set, the VMX capability MSRs exist. */
	c->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	c->vmx_basic = rdmsr(MSR_VMX_BASIC);
	c->pinbased = rdmsr(MSR_VMX_PINBASED);
	c->procbased = rdmsr(MSR_VMX_PROCBASED);
	c->exit_ctls = rdmsr(MSR_VMX_EXIT);
	c->entry_ctls = rdmsr(MSR_VMX_ENTRY);
	if (ALLOWED1(c->procbased) & PROC_SECONDARY) {
		c->procbased2 = rdmsr(MSR_VMX_PROCBASED2);
		c->ept = ALLOWED1(c->procbased2) & PROC2_EPT;
		c->vpid = ALLOWED1(c->procbased2) & PROC2_VPID;
		c->ug = ALLOWED1(c->procbased2) & PROC2_UG;
	}
	if (c->ept || c->vpid)
		c->ept_vpid_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

void cpu_caps_print(const struct cpu_caps *c)
{
	uint64_t e = c->ept_vpid_cap;

	pr_info("tidal: cpu: %s vmx=%s ept=%s vpid=%s ug=%s\n", c->vendor,
		yn(c->vmx), yn(c->ept), yn(c->vpid), yn(c->ug));
	if (!c->vmx)
		return;
	pr_info("tidal: vmx: VMCS revision %#x, region %u bytes, "
		"IA32_FEATURE_CONTROL %#llx (%s)\n",
		(unsigned int)(c->vmx_basic & 0x7fffffff),
		(unsigned int)((c->vmx_basic >> 32) & 0x1fff),
		(unsigned long long)c->feature_control,
		(c->feature_control & 1) ?
			((c->feature_control & 4) ? "locked, VMX on" :
						    "locked, VMX OFF") :
			"unlocked");
	if (!c->ept)
		return;
	pr_info("tidal: ept: 4-level=%s wb=%s 2M=%s 1G=%s a/d=%s "
		"invept=%s (single=%s all=%s)\n",
		yn(e & BIT(6)), yn(e & BIT(14)), yn(e & BIT(16)),
		yn(e & BIT(17)), yn(e & BIT(21)), yn(e & BIT(20)),
		yn(e & BIT(25)), yn(e & BIT(26)));
	if (c->vpid)
		pr_info("tidal: vpid: invvpid=%s (address=%s single=%s "
			"all=%s)\n",
			yn(e & BIT(32)), yn(e & BIT(40)), yn(e & BIT(41)),
			yn(e & BIT(42)));
}
