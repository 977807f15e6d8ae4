// SPDX-License-Identifier: MIT
/*
 * Events for the guest: exceptions tidal raises on its behalf, events
 * re-injected when an exit interrupted their delivery, and the guest's
 * mode as the handlers need it (CPL, 64-bit code).
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "arch/x86/cpu.h"

unsigned int vcpu_cpl(void)
{
	/* SS.DPL is the CPL (SDM: "the DPL of SS is always the CPL"). */
	return (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3;
}

bool vcpu_in_64bit_mode(void)
{
	return (vmcs_read(VMCS_GUEST_EFER) & EFER_LMA) &&
	       (vmcs_read(VMCS_GUEST_CS_AR) & BIT(13));
}

void vcpu_skip_insn(struct vcpu *v)
{
	uint64_t rip =
		vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_EXIT_INSN_LEN);
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	const uint64_t shadow = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS;

	(void)v;
	/*
	 * Outside 64-bit code RIP wraps at 4 GiB.  A RIP below 4 GiB (all
	 * such code has) plus a length of at most 15 crosses it only if the
	 * sum has a bit above 31, so the mode is read only then.
	 */
	if ((rip >> 32) && !vcpu_in_64bit_mode())
		rip &= 0xffffffffull;
	vmcs_write(VMCS_GUEST_RIP, rip);
	/* An emulated instruction ends STI/MOV-SS blocking. */
	if (intr & shadow)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~shadow);
}

static bool exc_has_error_code(unsigned int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 ||
	       vec == 29 || vec == 30;
}

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT, EXC_DOUBLE };

static enum exc_class exc_class(unsigned int vec)
{
	switch (vec) {
	case 0:
	case 10:
	case 11:
	case 12:
	case 13:
		return EXC_CONTRIBUTORY;
	case VEC_PF:
		return EXC_PAGE_FAULT;
	case VEC_DF:
		return EXC_DOUBLE;
	default:
		return EXC_BENIGN;
	}
}

void vcpu_inject_exception(struct vcpu *v, unsigned int vec, uint32_t err)
{
	uint32_t old = (uint32_t)vmcs_read(VMCS_ENTRY_INTR_INFO);
	uint32_t info;

	vec &= 31;
	if ((old & INTR_INFO_VALID) && INTR_INFO_TYPE(old) == INTR_HW_EXC) {
		enum exc_class first = exc_class(INTR_INFO_VEC(old));
		enum exc_class second = exc_class(vec);

		if (first == EXC_DOUBLE) {
			/* A fault while delivering #DF: shutdown. */
			vm_stop(v->vm,
				"guest triple fault (exception %u while "
				"delivering a double fault)",
				vec);
			return;
		}
		if ((first == EXC_CONTRIBUTORY && second == EXC_CONTRIBUTORY) ||
		    (first == EXC_PAGE_FAULT && second != EXC_BENIGN)) {
			vec = VEC_DF;
			err = 0;
		}
		/* Otherwise the second is delivered and the first is lost. */
	}
	info = INTR_INFO_VALID | (INTR_HW_EXC << 8) | vec;
	if (exc_has_error_code(vec)) {
		/* Real mode delivers no error codes. */
		if (vmcs_read(VMCS_CR0_SHADOW) & X86_CR0_PE)
			info |= INTR_INFO_ERROR;
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, err);
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	v->stats.injected[vec]++;
}

void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, VEC_GP, 0);
}

void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, VEC_UD, 0);
}

/* Did the exit interrupt an IRET that unblocked NMIs? */
static bool iret_unblocked_nmi(uint32_t reason)
{
	if (reason == EXIT_REASON_EPT_VIOLATION)
		return vmcs_read(VMCS_EXIT_QUALIFICATION) &
		       INTR_INFO_NMI_UNBLOCK;
	if (reason == EXIT_REASON_EXCEPTION_NMI) {
		uint32_t info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);

		return (info & INTR_INFO_VALID) &&
		       (info & INTR_INFO_NMI_UNBLOCK) &&
		       INTR_INFO_VEC(info) != VEC_DF;
	}
	return false;
}

void event_after_exit(struct vcpu *v, uint32_t reason)
{
	uint32_t vect = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	unsigned int type = INTR_INFO_TYPE(vect);
	uint32_t info;

	if (!(vect & INTR_INFO_VALID)) {
		/*
		 * The IRET ending an NMI handler unblocked NMIs, then
		 * faulted: the guest re-executes it, so NMIs must be
		 * blocked again until it completes.
		 */
		if (iret_unblocked_nmi(reason))
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
				   intr | INTERRUPTIBILITY_NMI);
		return;
	}
	/* A task switch through the IDT is the exit itself. */
	if (reason == EXIT_REASON_TASK_SWITCH)
		return;
	info = vect & (INTR_INFO_VALID | INTR_INFO_ERROR | (7u << 8) | 0xff);
	/* Entry refuses an error code in real mode or off a hw exception. */
	if (type != INTR_HW_EXC || !(vmcs_read(VMCS_GUEST_CR0) & X86_CR0_PE))
		info &= ~(uint32_t)INTR_INFO_ERROR;
	if (type == INTR_NMI) {
		/* Delivery starts again: NMIs are not blocked yet. */
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   intr & ~(uint64_t)INTERRUPTIBILITY_NMI);
	}
	if (type == INTR_SOFT_INT || type == INTR_PRIV_SW_EXC ||
	    type == INTR_SOFT_EXC)
		vmcs_write(VMCS_ENTRY_INSN_LEN, vmcs_read(VMCS_EXIT_INSN_LEN));
	if (info & INTR_INFO_ERROR)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR,
			   vmcs_read(VMCS_IDT_VECTORING_ERROR));
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	v->stats.reinjected++;
}
