/* SPDX-License-Identifier: MIT */
/*
 * APIC virtualization (VMX "APICv"), where the CPU offers it: the
 * virtual-APIC page is the vCPU's register file (vlapic.regs), the CPU
 * reads and writes it for TPR, EOI, IRR/ISR and most register reads;
 * tidal completes what it cannot (APIC-write and EOI-induced exits,
 * APIC-access exits through the instruction emulator).  docs/vmx.md
 * ("APIC virtualization") has the design; vmm/intr.c the rest of the
 * local APIC, which is the same in both modes.  Hypervisor only.
 */
#ifndef TIDAL_VMM_APICV_H
#define TIDAL_VMM_APICV_H

#include "vmm/exits.h"
#include "vmm/vm.h"

/*
 * vm_create(), after the local APICs were reset and guest memory set up:
 * decide for the VM (@mode, the CPU, the VM's kind), and set up the
 * pages.  -1 only when apic=virtualize cannot be honoured (said why).
 */
int apicv_vm_init(struct vm *vm, enum apic_mode mode);
void apicv_vm_destroy(struct vm *vm);
/* vcpu_vmcs_init(): the APICv controls and addresses of @v's VMCS. */
int apicv_vmcs_init(struct vcpu *v);
/* IA32_APIC_BASE changed (VMCS current): follow xAPIC/x2APIC mode. */
void apicv_base_changed(struct vcpu *v);
/* Before each entry: RVI/SVI and the EOI-exit bitmap from the vLAPIC. */
void apicv_prepare_entry(struct vcpu *v);
/* The boot line's words for the mode (features used, or why not). */
void apicv_describe(struct vm *vm, char *buf, size_t len);

enum exit_action apicv_handle_access(struct vcpu *v);
enum exit_action apicv_handle_write(struct vcpu *v);
enum exit_action apicv_handle_eoi(struct vcpu *v);

#endif
