/* SPDX-License-Identifier: MIT */
/*
 * The seam between the exit handlers in vmm/{event,cr,msr,vmx_insn}.c and
 * the machine: VMCS fields of the current vCPU and guest-physical reads.
 * The hypervisor implements it with VMREAD/VMWRITE and guest RAM
 * (vmm/vmcs_io.c); tests/host/test_exit_random.c with an in-memory VMCS.
 */
#ifndef TIDAL_VMM_VMCS_IO_H
#define TIDAL_VMM_VMCS_IO_H

#include "lib/compiler.h"

struct vcpu;

uint64_t vmcs_read(uint32_t field);
void vmcs_write(uint32_t field, uint64_t val);
/* Copy @n bytes of guest RAM at @gpa; false when not all of it is RAM. */
bool guest_read_phys(struct vcpu *v, uint64_t gpa, void *buf, size_t n);
bool guest_write_phys(struct vcpu *v, uint64_t gpa, const void *buf, size_t n);

#endif
