// SPDX-License-Identifier: MIT
/* vmm/vmcs_io.h for the hypervisor: VMREAD/VMWRITE and guest RAM. */
#include "vmm/vmcs_io.h"
#include "vmm/vm.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/string.h"

uint64_t vmcs_read(uint32_t field)
{
	return vmread(field);
}

void vmcs_write(uint32_t field, uint64_t val)
{
	vmwrite(field, val);
}

bool guest_read_phys(struct vcpu *v, uint64_t gpa, void *buf, size_t n)
{
	struct vm *vm = v->vm;

	if (gpa > vm->mem_bytes || n > vm->mem_bytes - gpa)
		return false;
	memcpy(buf, (const char *)vm->ram + gpa, n);
	return true;
}

bool guest_write_phys(struct vcpu *v, uint64_t gpa, const void *buf, size_t n)
{
	struct vm *vm = v->vm;

	if (gpa > vm->mem_bytes || n > vm->mem_bytes - gpa)
		return false;
	memcpy((char *)vm->ram + gpa, buf, n);
	return true;
}
