// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/vmx/vmx_caps.c and vmx_names.c: control words
 * computed from made-up capability MSRs, and the decoding tables.
 */
#include <string.h>

#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/vmx_names.h"
#include "arch/x86/vmx/vmcs_fields.h"
#include "tests/host/tap.h"

static uint64_t cap(uint32_t must1, uint32_t may1)
{
	return ((uint64_t)may1 << 32) | must1;
}

/* Capabilities shaped like a recent Intel CPU's. */
static struct vmx_msrs good(void)
{
	struct vmx_msrs m = {0};

	m.basic = 0x12 | (0x1000ull << 32) | (6ull << 50) | VMX_BASIC_TRUE_CTLS;
	m.misc = 5;
	m.pin = cap(0x16, 0x7f);
	m.true_pin = cap(0x16, 0x7f);
	m.proc = cap(0x0401e172, 0xfff9fffe);
	m.true_proc = cap(0x04006172, 0xfff9fffe);
	m.proc2 = cap(0, 0x001010ff);
	m.exit = cap(0x00036dff, 0x007fffff);
	m.true_exit = cap(0x00036dfb, 0x007fffff);
	m.entry = cap(0x000011ff, 0x0000ffff);
	m.true_entry = cap(0x000011fb, 0x0000ffff);
	m.cr0_fixed0 = 0x80000021;
	m.cr0_fixed1 = 0xffffffff;
	m.cr4_fixed0 = 0x2000;
	m.cr4_fixed1 = 0x3727ff;
	m.ept_vpid = EPT_CAP_EXEC_ONLY | EPT_CAP_WALK4 | EPT_CAP_WB |
		     EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_INVEPT | EPT_CAP_AD |
		     EPT_CAP_INVEPT_CTX | EPT_CAP_INVEPT_ALL |
		     VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR |
		     VPID_CAP_INVVPID_CTX | VPID_CAP_INVVPID_ALL;
	return m;
}

static void test_adjust(void)
{
	uint32_t out, miss;

	miss = vmx_adjust_ctl(cap(0x16, 0xff), 0x1, 0x80, &out);
	is_int(miss, 0, "adjust: everything allowed");
	is_int(out, 0x97, "adjust: wanted bits plus must-be-1 bits");
	miss = vmx_adjust_ctl(cap(0x16, 0x1f), 0x1, 0x80, &out);
	is_int(out, 0x17, "adjust: disallowed wanted bit dropped");
	miss = vmx_adjust_ctl(cap(0x0, 0x0f), 0x30, 0, &out);
	is_int(miss, 0x30, "adjust: missing needed bits reported");
}

static void test_good(void)
{
	struct vmx_msrs m = good();
	struct vmx_caps c;
	struct vmx_caps_error e;

	is_int(vmx_caps_compute(&m, &c, &e), 0, "good caps accepted");
	is_int(c.revision, 0x12, "revision id");
	is_int(c.region_size, 4096, "region size");
	ok(c.true_ctls, "TRUE MSRs used");
	ok((c.ctl[VMX_CTL_PIN] & 0x16) == 0x16, "pin must-be-1 bits kept");
	ok(c.ctl[VMX_CTL_PIN] & PIN_EXT_INTR_EXITING, "ext-intr exiting");
	ok(c.ctl[VMX_CTL_PIN] & PIN_PREEMPT_TIMER, "preemption timer on");
	ok(c.ctl[VMX_CTL_PROC] & PROC_HLT_EXITING, "HLT exiting");
	ok(c.ctl[VMX_CTL_PROC] & PROC_UNCOND_IO, "unconditional I/O exiting");
	ok(!(c.ctl[VMX_CTL_PROC] & PROC_MSR_BITMAPS), "no MSR bitmaps");
	ok(!(c.ctl[VMX_CTL_PROC] & (PROC_CR3_LOAD | PROC_CR3_STORE)),
	   "TRUE MSRs let CR3 exiting go");
	ok(!(c.ctl[VMX_CTL_PROC] & PROC_RDTSC), "RDTSC does not exit");
	ok(c.ctl[VMX_CTL_PROC2] & PROC2_EPT, "EPT on");
	ok(c.vpid && (c.ctl[VMX_CTL_PROC2] & PROC2_VPID), "VPID on");
	ok(c.unrestricted, "unrestricted guest on");
	ok(c.ctl[VMX_CTL_PROC2] & PROC2_INVPCID, "INVPCID passed through");
	ok(c.ctl[VMX_CTL_EXIT] & EXIT_HOST_64, "64-bit host");
	ok(c.ctl[VMX_CTL_EXIT] & EXIT_LOAD_EFER, "exit loads EFER");
	ok(c.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_EFER, "entry loads EFER");
	ok(!(c.ctl[VMX_CTL_ENTRY] & ENTRY_IA32E), "IA-32e left to the vCPU");
	ok(c.ia32e_guest, "IA-32e guests allowed");
	ok((c.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_DEBUG) &&
		   (c.ctl[VMX_CTL_EXIT] & EXIT_SAVE_DEBUG),
	   "debug controls loaded at entry and saved at exit (guest DR7)");
	is_int(c.preempt_shift, 5, "preemption timer rate");
	ok(c.ept_2m && c.ept_1g && c.ept_ad && c.ept_wb, "EPT features");
	ok(c.invept_ctx && c.invept_all, "INVEPT types");
	ok(c.invvpid_ctx && c.invvpid_all, "INVVPID types");

	m.basic &= ~VMX_BASIC_TRUE_CTLS;
	is_int(vmx_caps_compute(&m, &c, &e), 0, "legacy MSRs accepted");
	ok(!c.true_ctls, "legacy MSRs used without the TRUE bit");
	ok((c.ctl[VMX_CTL_PROC] & (PROC_CR3_LOAD | PROC_CR3_STORE)) ==
		   (PROC_CR3_LOAD | PROC_CR3_STORE),
	   "legacy MSRs force CR3 exiting");
	ok(c.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_DEBUG,
	   "legacy entry MSR forces load-debug");
}

static void test_optional(void)
{
	struct vmx_msrs m = good();
	struct vmx_caps c;
	struct vmx_caps_error e;

	m.true_pin = cap(0x16, 0x3f);
	m.proc2 = cap(0, 0x2);
	m.ept_vpid &= ~(EPT_CAP_1G | EPT_CAP_INVEPT_CTX);
	is_int(vmx_caps_compute(&m, &c, &e), 0, "bare EPT accepted");
	ok(!c.preempt_timer, "no preemption timer when not allowed");
	ok(!c.vpid && !c.unrestricted, "no VPID, no unrestricted guest");
	ok(!c.ept_1g && c.ept_2m, "no 1G pages, 2M pages");
	ok(!c.invept_ctx && c.invept_all, "only all-context INVEPT");
	is_int(vmx_guest_cr0_fixed0(&c), 0x80000021,
	       "without UG, PE and PG stay fixed");

	/* VPID with no INVVPID at all: tidal runs without VPID. */
	m = good();
	m.ept_vpid &= ~(VPID_CAP_INVVPID | VPID_CAP_INVVPID_CTX |
			VPID_CAP_INVVPID_ALL);
	is_int(vmx_caps_compute(&m, &c, &e), 0, "no INVVPID accepted");
	ok(!c.vpid && !(c.ctl[VMX_CTL_PROC2] & PROC2_VPID),
	   "VPID turned off without INVVPID");
}

static void expect_fail(struct vmx_msrs *m, const char *what, int set,
			uint32_t missing)
{
	struct vmx_caps c;
	struct vmx_caps_error e;

	is_int(vmx_caps_compute(m, &c, &e), -1, "%s refused", what);
	ok(e.what && e.what[0], "%s: reason \"%s\"", what,
	   e.what ? e.what : "");
	is_int(e.set, set, "%s: control set %s", what, vmx_ctl_set_name(set));
	is_int(e.missing, missing, "%s: missing bits", what);
}

static void test_missing(void)
{
	struct vmx_msrs m;

	m = good();
	m.true_proc = cap(0x04006172, 0xfff9fffe & ~(uint32_t)PROC_HLT_EXITING);
	expect_fail(&m, "no HLT exiting", VMX_CTL_PROC, PROC_HLT_EXITING);
	m = good();
	m.true_proc = cap(0x04006172, 0x7ff9fffe);
	expect_fail(&m, "no secondary controls", VMX_CTL_PROC, PROC_SECONDARY);
	m = good();
	m.proc2 = cap(0, 0xfd);
	expect_fail(&m, "no EPT", VMX_CTL_PROC2, PROC2_EPT);
	m = good();
	m.true_exit = cap(0x36dfb, 0x7fffff & ~(uint32_t)EXIT_LOAD_EFER);
	expect_fail(&m, "no EFER load on exit", VMX_CTL_EXIT, EXIT_LOAD_EFER);
	m = good();
	m.ept_vpid &= ~EPT_CAP_WB;
	expect_fail(&m, "no write-back EPT", VMX_CTL_PROC2, 0);
	m = good();
	m.ept_vpid &= ~EPT_CAP_WALK4;
	expect_fail(&m, "no 4-level EPT", VMX_CTL_PROC2, 0);
	m = good();
	m.ept_vpid &= ~EPT_CAP_INVEPT;
	expect_fail(&m, "no INVEPT", VMX_CTL_PROC2, 0);
	m = good();
	m.basic = (m.basic & ~(0x1fffull << 32)) | (0x2000ull << 32);
	expect_fail(&m, "8 KiB VMCS", VMX_CTL_NSETS, 0);
	m = good();
	m.basic &= ~(0xfull << 50);
	expect_fail(&m, "uncached VMCS", VMX_CTL_NSETS, 0);
}

static void test_cr(void)
{
	struct vmx_msrs m = good();
	struct vmx_caps c;
	struct vmx_caps_error e;

	vmx_caps_compute(&m, &c, &e);
	is_int(vmx_fix_cr(0x11, c.cr0_fixed0, c.cr0_fixed1), 0x80000031,
	       "CR0 fixed bits forced on");
	is_int(vmx_fix_cr(0x400000, c.cr4_fixed0, c.cr4_fixed1), 0x2000,
	       "CR4 unsupported bit cleared, VMXE forced");
	is_int(vmx_guest_cr0_fixed0(&c), 0x20,
	       "unrestricted guest frees PE and PG");
}

static void test_names(void)
{
	char buf[160];

	ok(!strcmp(vmx_exit_reason_name(48), "EPT violation"), "exit 48");
	ok(!strcmp(vmx_exit_reason_name(10), "CPUID"), "exit 10");
	ok(!strcmp(vmx_exit_reason_name(52), "VMX preemption timer"),
	   "exit 52");
	ok(!strcmp(vmx_exit_reason_name(35), "unknown"), "exit 35 has no name");
	ok(!strcmp(vmx_exit_reason_name(9999), "unknown"), "exit 9999");
	ok(strstr(vmx_insn_error_str(7), "control fields") != NULL,
	   "insn error 7: %s", vmx_insn_error_str(7));
	ok(strstr(vmx_insn_error_str(8), "host-state") != NULL,
	   "insn error 8: %s", vmx_insn_error_str(8));
	ok(strstr(vmx_insn_error_str(0), "VMfailInvalid") != NULL,
	   "insn error 0");
	ok(!strcmp(vmx_insn_error_str(99), "unknown VM-instruction error"),
	   "insn error 99");
	vmx_entry_failure_str(33, 0, buf, sizeof(buf));
	ok(strstr(buf, "invalid guest state") != NULL, "entry failure 33: %s",
	   buf);
	vmx_entry_failure_str(33, 4, buf, sizeof(buf));
	ok(strstr(buf, "link pointer") != NULL, "entry failure 33/4: %s", buf);
	vmx_entry_failure_str(34, 2, buf, sizeof(buf));
	ok(strstr(buf, "MSR-load") != NULL, "entry failure 34: %s", buf);
	vmx_entry_failure_str(33, 0, buf, 8);
	is_int(strlen(buf), 7, "entry failure text truncated safely");
	ok(!strcmp(vmx_ctl_bit_name(VMX_CTL_PROC, 7), "HLT exiting"),
	   "control bit name");
	ok(vmx_ctl_bit_name(VMX_CTL_PIN, 31) == NULL, "unnamed bit");
	ok(vmx_ctl_bit_name(VMX_CTL_NSETS, 0) == NULL, "bad set");
	is_int(VMCS_GUEST_RIP, 0x681e, "VMCS encoding of guest RIP");
	is_int(VMCS_EPT_POINTER, 0x201a, "VMCS encoding of EPTP");
}

int main(void)
{
	test_adjust();
	test_good();
	test_optional();
	test_missing();
	test_cr();
	test_names();
	return tap_done();
}
