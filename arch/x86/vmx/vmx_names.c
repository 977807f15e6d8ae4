// SPDX-License-Identifier: MIT
/* Names for VMX numbers (see vmx_names.h). */
#include "arch/x86/vmx/vmx_names.h"

static const char *const exit_names[] = {
	[0] = "exception or NMI",
	[1] = "external interrupt",
	[2] = "triple fault",
	[3] = "INIT signal",
	[4] = "start-up IPI",
	[5] = "I/O SMI",
	[6] = "other SMI",
	[7] = "interrupt window",
	[8] = "NMI window",
	[9] = "task switch",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMXOFF",
	[27] = "VMXON",
	[28] = "control-register access",
	[29] = "debug-register access",
	[30] = "I/O instruction",
	[31] = "RDMSR",
	[32] = "WRMSR",
	[33] = "VM entry: invalid guest state",
	[34] = "VM entry: MSR loading",
	[36] = "MWAIT",
	[37] = "monitor trap flag",
	[39] = "MONITOR",
	[40] = "PAUSE",
	[41] = "VM entry: machine-check event",
	[43] = "TPR below threshold",
	[44] = "APIC access",
	[45] = "virtualized EOI",
	[46] = "GDTR/IDTR access",
	[47] = "LDTR/TR access",
	[48] = "EPT violation",
	[49] = "EPT misconfiguration",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "VMX preemption timer",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC write",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "page-modification log full",
	[63] = "XSAVES",
	[64] = "XRSTORS",
	[66] = "SPP-related event",
	[67] = "UMWAIT",
	[68] = "TPAUSE",
	[69] = "LOADIWKEY",
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	if (basic_reason >= ARRAY_SIZE(exit_names) || !exit_names[basic_reason])
		return "unknown";
	return exit_names[basic_reason];
}

/* SDM vol. 3, "VM-Instruction Error Numbers", in our words. */
static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with an invalid physical address",
	[3] = "VMCLEAR with the VMXON pointer",
	[4] = "VMLAUNCH with a non-clear VMCS",
	[5] = "VMRESUME with a non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control fields",
	[8] = "VM entry with invalid host-state fields",
	[9] = "VMPTRLD with an invalid physical address",
	[10] = "VMPTRLD with the VMXON pointer",
	[11] = "VMPTRLD with a wrong VMCS revision identifier",
	[12] = "VMREAD/VMWRITE of an unsupported VMCS field",
	[13] = "VMWRITE to a read-only VMCS field",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with an invalid executive-VMCS pointer",
	[17] = "VM entry with a non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not the VMXON pointer",
	[19] = "VMCALL with a non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with a wrong MSEG revision identifier",
	[23] = "VMXOFF under the dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in the "
	       "executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_str(uint32_t error)
{
	if (error == 0)
		return "no error recorded (VMfailInvalid: no current VMCS?)";
	if (error >= ARRAY_SIZE(insn_errors) || !insn_errors[error])
		return "unknown VM-instruction error";
	return insn_errors[error];
}

static void copy_str(char *buf, size_t size, const char *a, const char *b)
{
	size_t n = 0;

	if (!size)
		return;
	for (; *a && n + 1 < size; a++)
		buf[n++] = *a;
	for (; b && *b && n + 1 < size; b++)
		buf[n++] = *b;
	buf[n] = '\0';
}

const char *vmx_entry_failure_str(uint32_t reason, uint64_t qual, char *buf,
				  size_t size)
{
	const char *detail = NULL;

	switch (reason) {
	case 33:
		switch (qual) {
		case 0:
			detail = "a guest-state field is wrong (segments, CRs, "
				 "RFLAGS, activity or interruptibility)";
			break;
		case 2:
			detail = "loading the guest PDPTEs failed";
			break;
		case 3:
			detail = "NMI injection: blocking by NMI is wrong";
			break;
		case 4:
			detail = "the VMCS link pointer is invalid";
			break;
		default:
			detail = "unknown qualification";
		}
		copy_str(buf, size, "invalid guest state: ", detail);
		break;
	case 34:
		/* The qualification is the 1-based index of the bad entry. */
		copy_str(buf, size,
			 "an entry of the VM-entry MSR-load area is bad "
			 "(index in the exit qualification)",
			 NULL);
		break;
	case 41:
		copy_str(buf, size, "a machine check happened during VM entry",
			 NULL);
		break;
	default:
		copy_str(buf, size, "VM entry failed with exit reason ",
			 vmx_exit_reason_name(reason));
	}
	return buf;
}
