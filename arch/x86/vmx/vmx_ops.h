/* SPDX-License-Identifier: MIT */
/*
 * Wrappers for the VMX instructions.  Each reports the VMX status through
 * the flags: CF=1 is VMfailInvalid (no current VMCS), ZF=1 VMfailValid
 * (the reason is in VMCS_INSN_ERROR).  Hypervisor only.
 */
#ifndef TIDAL_ARCH_X86_VMX_OPS_H
#define TIDAL_ARCH_X86_VMX_OPS_H

#include "lib/compiler.h"

/* 0: success, 1: VMfailValid, 2: VMfailInvalid. */
enum vmx_status {
	VMX_OK = 0,
	VMX_FAIL_VALID = 1,
	VMX_FAIL_INVALID = 2,
};

#define VMX_STATUS_ASM "seta %b[ok]; setc %b[cf]"

static inline enum vmx_status vmx_status(uint8_t ok, uint8_t cf)
{
	return ok ? VMX_OK : cf ? VMX_FAIL_INVALID : VMX_FAIL_VALID;
}

static inline enum vmx_status vmxon(uint64_t pa)
{
	uint8_t ok, cf;

	__asm__ __volatile__("vmxon %[pa]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [pa] "m"(pa)
			     : "cc", "memory");
	return vmx_status(ok, cf);
}

static inline void vmxoff(void)
{
	__asm__ __volatile__("vmxoff" : : : "cc", "memory");
}

static inline enum vmx_status vmclear(uint64_t pa)
{
	uint8_t ok, cf;

	__asm__ __volatile__("vmclear %[pa]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [pa] "m"(pa)
			     : "cc", "memory");
	return vmx_status(ok, cf);
}

static inline enum vmx_status vmptrld(uint64_t pa)
{
	uint8_t ok, cf;

	__asm__ __volatile__("vmptrld %[pa]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [pa] "m"(pa)
			     : "cc", "memory");
	return vmx_status(ok, cf);
}

static inline enum vmx_status vmwrite_checked(uint64_t field, uint64_t val)
{
	uint8_t ok, cf;

	__asm__ __volatile__("vmwrite %[val], %[field]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [field] "r"(field), [val] "rm"(val)
			     : "cc");
	return vmx_status(ok, cf);
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t val;

	__asm__ __volatile__("vmread %[field], %[val]"
			     : [val] "=rm"(val)
			     : [field] "r"(field)
			     : "cc");
	return val;
}

/* INVEPT/INVVPID descriptors and types. */
struct invept_desc {
	uint64_t eptp, reserved;
};

struct invvpid_desc {
	uint64_t vpid, gla;
};

#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2
#define INVVPID_ADDRESS	       0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT    2

static inline enum vmx_status invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = {eptp, 0};
	uint8_t ok, cf;

	__asm__ __volatile__("invept %[d], %[type]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [d] "m"(d), [type] "r"(type)
			     : "cc", "memory");
	return vmx_status(ok, cf);
}

static inline enum vmx_status invvpid(uint64_t type, uint16_t vpid,
				      uint64_t gla)
{
	struct invvpid_desc d = {vpid, gla};
	uint8_t ok, cf;

	__asm__ __volatile__("invvpid %[d], %[type]; " VMX_STATUS_ASM
			     : [ok] "=q"(ok), [cf] "=q"(cf)
			     : [d] "m"(d), [type] "r"(type)
			     : "cc", "memory");
	return vmx_status(ok, cf);
}

#endif
