/* SPDX-License-Identifier: MIT */
/*
 * VMX operation on the physical CPUs (vmx.c): capabilities, turning VMX
 * on and off per CPU, and readable reports of VMX failures.
 */
#ifndef TIDAL_ARCH_X86_VMX_VMX_H
#define TIDAL_ARCH_X86_VMX_VMX_H

#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/vmx_ops.h"

/* The capabilities every CPU runs with, valid after vmx_init(). */
extern struct vmx_caps vmx_caps;

/*
 * Read the capability MSRs and compute the controls.  Returns 0, or -1
 * after printing why VMX cannot be used (missing controls by name).
 */
int vmx_init(void);

/*
 * On any CPU after vmx_init(): NULL if this CPU's VMX capabilities give
 * exactly the boot CPU's controls and features, else the name of the
 * first capability that differs (e.g. "secondary processor-based
 * controls", "ept_1g").
 */
const char *vmx_cpu_check(void);
/* For test=smp-refuse only: make vmx_cpu_check() see no 1 GiB EPT pages. */
void vmx_test_hide_ept_1g(bool on);

/*
 * Enter VMX root operation on the calling CPU: IA32_FEATURE_CONTROL
 * (locked with VMX enabled if firmware left it open), CR0/CR4 fixed bits,
 * VMXON region.  Returns 0 or -1 after printing why.
 */
int vmx_cpu_on(void);
void vmx_cpu_off(void);
/* True if the calling CPU is in VMX root operation (vmx_cpu_on()). */
bool vmx_cpu_is_on(void);

/* Print a failed VMX instruction: what, status and VMCS_INSN_ERROR. */
void vmx_report_failure(const char *what, enum vmx_status st);

/* VMWRITE that reports the field and the error when it fails. */
int vmwrite(uint64_t field, uint64_t val);

#endif
