// SPDX-License-Identifier: MIT
/* EPTP construction and INVEPT/INVVPID (see ept.h). */
#include "arch/x86/ept.h"
#include "arch/x86/vmx/vmx.h"
#include "mm/tdp/tdp_mmu.h"
#include "lib/printf.h"

uint64_t ept_root_eptp(struct tdp_root *root)
{
	uint64_t eptp = tdp_root_eptp(root);

	if (!vmx_caps.ept_ad)
		eptp &= ~EPTP_AD_ENABLE;
	return eptp;
}

void ept_flush(uint64_t eptp)
{
	enum vmx_status st;

	if (vmx_caps.invept_ctx)
		st = invept(INVEPT_SINGLE_CONTEXT, eptp);
	else
		st = invept(INVEPT_ALL_CONTEXT, 0);
	if (st != VMX_OK)
		panic("INVEPT failed (status %d) for EPTP %llx", st,
		      (unsigned long long)eptp);
}

void vpid_flush(uint16_t vpid)
{
	enum vmx_status st;

	if (!vpid || !vmx_caps.invvpid)
		return;
	if (vmx_caps.invvpid_ctx)
		st = invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
	else
		st = invvpid(INVVPID_ALL_CONTEXT, 0, 0);
	if (st != VMX_OK)
		panic("INVVPID failed (status %d) for VPID %u", st, vpid);
}
