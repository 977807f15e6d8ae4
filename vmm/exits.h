/* SPDX-License-Identifier: MIT */
/*
 * Exit handlers that see only the vCPU and the VMCS seam (vmm/vmcs_io.h),
 * so they build for the host too (tests/host/test_exit_random.c):
 * events (event.c), control registers (cr.c), MSRs (msr.c) and the
 * instructions a guest may not use (vmx_insn.c).  Each handler returns what
 * the run loop does next.
 */
#ifndef TIDAL_VMM_EXITS_H
#define TIDAL_VMM_EXITS_H

#include "vmm/vm.h"
#include "arch/x86/vmx/vmx_caps.h"

/* The capabilities tidal computed (arch/x86/vmx/vmx.c). */
extern struct vmx_caps vmx_caps;

enum exit_action {
	EXIT_RESUME, /* re-enter at the same RIP (fault injected, or retry) */
	EXIT_SKIP,   /* the instruction was emulated: advance RIP, re-enter */
	EXIT_STOP,   /* the VM was stopped (vm_stop() printed the report) */
};

/* Interruption-information fields (entry, exit, IDT-vectoring). */
#define INTR_INFO_VALID	      BIT(31)
#define INTR_INFO_ERROR	      BIT(11)
#define INTR_INFO_NMI_UNBLOCK BIT(12)
#define INTR_INFO_TYPE(i)     (((i) >> 8) & 7)
#define INTR_INFO_VEC(i)      ((i)&0xff)
enum intr_type {
	INTR_EXTERNAL = 0,
	INTR_NMI = 2,
	INTR_HW_EXC = 3,
	INTR_SOFT_INT = 4,
	INTR_PRIV_SW_EXC = 5,
	INTR_SOFT_EXC = 6,
};
#define VEC_DB	1
#define VEC_NMI 2
#define VEC_UD	6
#define VEC_DF	8
#define VEC_GP	13
#define VEC_PF	14

/* Interruptibility state bits. */
#define INTERRUPTIBILITY_STI	BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_NMI	BIT(3)

/* event.c */
unsigned int vcpu_cpl(void);
bool vcpu_in_64bit_mode(void);
/*
 * Queue a hardware exception for the next entry.  One already queued is
 * merged as the SDM's double-fault table says (#DF, or a triple fault,
 * which stops the VM).
 */
void vcpu_inject_exception(struct vcpu *v, unsigned int vec, uint32_t err);
void vcpu_inject_gp(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);
void vcpu_skip_insn(struct vcpu *v);
/*
 * Before handling any exit: re-inject the event whose delivery the exit
 * interrupted (IDT-vectoring information), or restore NMI blocking when
 * the exit interrupted the IRET that ended an NMI handler.
 */
void event_after_exit(struct vcpu *v, uint32_t reason);

/* cr.c: the guest's view of CR0/CR4/EFER and the checks on changing it. */
struct cr_state {
	uint64_t cr0, cr3, cr4, efer;
	bool cs_l; /* CS.L: 64-bit code segment */
};
enum cr_verdict { CR_OK, CR_GP };
/* Pure: would the architecture accept this write?  (host-tested) */
enum cr_verdict cr0_check(const struct cr_state *s, uint64_t val);
enum cr_verdict cr4_check(const struct cr_state *s, uint64_t val,
			  uint64_t cr4_allowed);
enum cr_verdict efer_check(const struct cr_state *s, uint64_t val);
/* CR4 bits a guest may set (supported and not kept by tidal). */
uint64_t cr4_guest_allowed(void);
enum exit_action handle_cr(struct vcpu *v);
/* EFER write (WRMSR): checked, then LMA and the IA-32e control follow. */
bool guest_write_efer(struct vcpu *v, uint64_t val);

/* msr.c */
bool is_canonical(uint64_t va);
enum exit_action handle_rdmsr(struct vcpu *v);
enum exit_action handle_wrmsr(struct vcpu *v);
/* Reset values of the MSRs kept in struct vcpu (TSC offset, MTRRs). */
void msr_vcpu_reset(struct vcpu *v);
/* Pure: may @val be written to this MTRR (@pmask: MAXPHYADDR bits)? */
bool mtrr_value_ok(uint32_t msr, uint64_t val, uint64_t pmask);
/* MSRs switched through the VM-entry/exit MSR areas, in area order. */
extern const uint32_t vcpu_switched_msrs[VCPU_SWITCHED_MSRS];


/* devices.c (hypervisor only): I/O port exits, string forms included. */
enum exit_action handle_io(struct vcpu *v, uint64_t qual);

/* hypercall.c (hypervisor only) */
enum exit_action handle_vmcall(struct vcpu *v);

/* vmx_insn.c: instructions the guest gets an exception for, or a no-op. */
enum exit_action handle_vmx_insn(struct vcpu *v);
enum exit_action handle_invd(struct vcpu *v);
enum exit_action handle_xsetbv(struct vcpu *v);
enum exit_action handle_nop_insn(struct vcpu *v);

#endif
