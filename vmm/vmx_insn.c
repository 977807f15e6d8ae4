// SPDX-License-Identifier: MIT
/*
 * Instructions that exit although the guest may not (or need not) have
 * them done by tidal.  The guest gets what a CPU without VMX would give
 * it, at any CPL: an unprivileged process must never be able to stop the
 * VM by executing one.
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "arch/x86/cpu.h"
#include "vmm/cpuid.h"

#define CR4_OSXSAVE BIT(18)

/*
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH,
 * VMRESUME, INVEPT, INVVPID, VMFUNC, GETSEC, ENCLS: the guest's CR4 has
 * neither VMXE nor SMXE (tidal refuses both) and it is never in VMX
 * operation, so each is #UD, which outranks the CPL check.
 */
enum exit_action handle_vmx_insn(struct vcpu *v)
{
	vcpu_inject_ud(v);
	return EXIT_RESUME;
}

/* INVD: privileged; with write-back caches and EPT, a no-op is safe. */
enum exit_action handle_invd(struct vcpu *v)
{
	if (vcpu_cpl()) {
		vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	return EXIT_SKIP;
}

/*
 * XSETBV: #UD without CR4.OSXSAVE; #GP at CPL > 0, for an XCR other than
 * XCR0, and for a value the SDM forbids or the host cannot hold (see
 * xcr0_valid()).  The value becomes the guest's XCR0, which the run loop
 * loads before each entry (vmm/vcpu.c).
 */
enum exit_action handle_xsetbv(struct vcpu *v)
{
	uint64_t val =
		((uint64_t)(uint32_t)v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if (!(vmcs_read(VMCS_CR4_SHADOW) & CR4_OSXSAVE)) {
		vcpu_inject_ud(v);
		return EXIT_RESUME;
	}
	if (vcpu_cpl() || (uint32_t)v->regs.rcx != 0 ||
	    !xcr0_valid(host_xcr0, val)) {
		vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	v->xcr0 = val;
	return EXIT_SKIP;
}

/* INVLPG, PAUSE, MWAIT, MONITOR, WBINVD when forced to exit: nothing to do. */
enum exit_action handle_nop_insn(struct vcpu *v)
{
	(void)v;
	return EXIT_SKIP;
}
