// SPDX-License-Identifier: MIT
/* The VMCALL ABI (docs/guest-abi.md, vmm/guest_abi.h). */
#include "vmm/exits.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/cpu.h"
#include "lib/printf.h"

static int64_t hc_console_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (len > TIDAL_CONSOLE_MAX)
		len = TIDAL_CONSOLE_MAX;
	/* The buffer must lie in RAM: check without overflowing. */
	if (gpa > vm->mem_bytes || len > vm->mem_bytes - gpa)
		return TIDAL_E_FAULT;
	spin_lock(&vm->dev_lock);
	console_write(vm, &vm->com1_out, (const char *)vm->ram + gpa, len);
	spin_unlock(&vm->dev_lock);
	return (int64_t)len;
}

enum exit_action handle_vmcall(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct guest_regs *r = &v->regs;
	/*
	 * Only 64-bit code has 64-bit registers: in compatibility mode (and
	 * 32-bit guests) the upper halves are not the guest's to set.
	 */
	uint64_t mask = vcpu_in_64bit_mode() ? ~0ull : 0xffffffffull;
	uint64_t nr = r->rax & mask, a = r->rbx & mask, b = r->rcx & mask;
	unsigned int cpl = vcpu_cpl();
	int64_t ret;

	v->stats.vmcall++;
	if (cpl != 0) {
		ret = TIDAL_E_PERM;
		goto out;
	}
	switch (nr) {
	case TIDAL_HC_VERSION:
		ret = TIDAL_ABI_VERSION;
		break;
	case TIDAL_HC_CONSOLE_WRITE:
		ret = hc_console_write(vm, a, b);
		break;
	case TIDAL_HC_EXIT:
		spin_lock(&vm->dev_lock);
		devices_flush(vm);
		spin_unlock(&vm->dev_lock);
		if (vm_exit_with(vm, (int)(uint32_t)a))
			printk("tidal: vm: guest exited with status %u "
			       "(VMCALL)\n",
			       (uint32_t)a);
		return EXIT_RESUME;
	case TIDAL_HC_GET_COUNTER:
		ret = a < TIDAL_CTR_COUNT
			      ? (int64_t)vm_counter(vm, (unsigned int)a)
			      : TIDAL_E_INVAL;
		break;
	default:
		ret = hc_mem_is_call(nr) ? hc_mem(v, nr, a, b, r->rdx & mask)
					 : TIDAL_E_NOSYS;
	}
out:
	r->rax = (uint64_t)ret & mask;
	return EXIT_SKIP;
}
