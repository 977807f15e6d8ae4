/* SPDX-License-Identifier: MIT */
/*
 * The local APIC of each vCPU on VMX (vmm/intr.c): its xAPIC page and
 * x2APIC MSRs, IPIs, interrupt and NMI injection with window exiting,
 * the APIC timer on the VMX preemption timer, HLT that blocks the
 * physical CPU, and INIT/SIPI.  Hypervisor only; the register model is
 * vmm/vlapic.c.
 */
#ifndef TIDAL_VMM_INTR_H
#define TIDAL_VMM_INTR_H

#include "vmm/vm.h"

/* vcpu.mp_state */
enum vcpu_mp_state {
	MP_RUNNABLE = 0,
	MP_HALTED,    /* HLT with interrupts enabled: waits for an event */
	MP_WAIT_SIPI, /* after INIT (APs of PC guests start here) */
	MP_PARKED,    /* HLT with interrupts disabled: only NMI or INIT wake */
};

/* vm_create(): reset every local APIC, register the xAPIC page. */
void intr_vm_init(struct vm *vm);
/* One boot line: how the local APIC is done and why. */
void intr_print_mode(struct vm *vm);

/*
 * The run loop, before each entry (interrupts masked, VMCS current):
 * false when the vCPU is halted or waits for SIPI (call intr_block).
 */
bool intr_runnable(struct vcpu *v);
/* Wait on this physical CPU until something may wake @v. */
void intr_block(struct vcpu *v);
/* Right before entry: inject what may be injected, arm the windows and
 * the preemption timer. */
void intr_prepare_entry(struct vcpu *v);

/* After a register write (@e from vlapic.c): EOI to the I/O APIC, IPIs. */
void intr_apply_effect(struct vcpu *v, const struct vlapic_effect *e);

/* Exit handlers. */
enum exit_action intr_handle_hlt(struct vcpu *v);
/* MSRs the local APIC owns: APIC_BASE, TSC_DEADLINE, 0x800-0x8ff. */
bool intr_owns_msr(uint32_t msr);
bool intr_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
bool intr_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
