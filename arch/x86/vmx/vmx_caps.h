/* SPDX-License-Identifier: MIT */
/*
 * VMX capabilities and the VM-execution controls tidal derives from them.
 *
 * Nothing here touches the machine: vmx_caps_compute() takes the raw
 * capability MSR values (read by vmx.c, or made up by host tests) and
 * works out every control word from what tidal needs, what it would like,
 * and what the CPU allows, using the TRUE_* MSRs when IA32_VMX_BASIC says
 * they exist.  When something tidal needs is missing it says which
 * control set and which bits, by name.
 */
#ifndef TIDAL_ARCH_X86_VMX_CAPS_H
#define TIDAL_ARCH_X86_VMX_CAPS_H

#include "lib/compiler.h"

/* Capability MSRs. */
#define MSR_IA32_VMX_BASIC	     0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS	     0x483
#define MSR_IA32_VMX_ENTRY_CTLS	     0x484
#define MSR_IA32_VMX_MISC	     0x485
#define MSR_IA32_VMX_CR0_FIXED0	     0x486
#define MSR_IA32_VMX_CR0_FIXED1	     0x487
#define MSR_IA32_VMX_CR4_FIXED0	     0x488
#define MSR_IA32_VMX_CR4_FIXED1	     0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48c
#define MSR_IA32_VMX_TRUE_PINBASED   0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED  0x48e
#define MSR_IA32_VMX_TRUE_EXIT	     0x48f
#define MSR_IA32_VMX_TRUE_ENTRY	     0x490

/* IA32_VMX_BASIC. */
#define VMX_BASIC_REVISION(b)	 ((uint32_t)(b)&0x7fffffffu)
#define VMX_BASIC_REGION_SIZE(b) ((uint32_t)((b) >> 32) & 0x1fffu)
#define VMX_BASIC_32BIT_ADDR	 BIT(48)
#define VMX_BASIC_MEMTYPE(b)	 ((uint32_t)((b) >> 50) & 0xfu)
#define VMX_BASIC_INOUT		 BIT(54)
#define VMX_BASIC_TRUE_CTLS	 BIT(55)

/* Pin-based controls. */
#define PIN_EXT_INTR_EXITING BIT(0)
#define PIN_NMI_EXITING	     BIT(3)
#define PIN_VIRTUAL_NMIS     BIT(5)
#define PIN_PREEMPT_TIMER    BIT(6)
#define PIN_POSTED_INTR	     BIT(7)

/* Primary processor-based controls. */
#define PROC_INTR_WINDOW BIT(2)
#define PROC_TSC_OFFSET	 BIT(3)
#define PROC_HLT_EXITING BIT(7)
#define PROC_INVLPG	 BIT(9)
#define PROC_MWAIT	 BIT(10)
#define PROC_RDPMC	 BIT(11)
#define PROC_RDTSC	 BIT(12)
#define PROC_CR3_LOAD	 BIT(15)
#define PROC_CR3_STORE	 BIT(16)
#define PROC_CR8_LOAD	 BIT(19)
#define PROC_CR8_STORE	 BIT(20)
#define PROC_TPR_SHADOW	 BIT(21)
#define PROC_NMI_WINDOW	 BIT(22)
#define PROC_MOV_DR	 BIT(23)
#define PROC_UNCOND_IO	 BIT(24)
#define PROC_IO_BITMAPS	 BIT(25)
#define PROC_MTF	 BIT(27)
#define PROC_MSR_BITMAPS BIT(28)
#define PROC_MONITOR	 BIT(29)
#define PROC_PAUSE	 BIT(30)
#define PROC_SECONDARY	 BIT(31)

/* Secondary processor-based controls. */
#define PROC2_VIRT_APIC	   BIT(0)
#define PROC2_EPT	   BIT(1)
#define PROC2_DESC_TABLE   BIT(2)
#define PROC2_RDTSCP	   BIT(3)
#define PROC2_X2APIC	   BIT(4)
#define PROC2_VPID	   BIT(5)
#define PROC2_WBINVD	   BIT(6)
#define PROC2_UNRESTRICTED BIT(7)
#define PROC2_INVPCID	   BIT(12)
#define PROC2_APIC_REG	   BIT(8) /* APIC-register virtualization */
#define PROC2_VINTR	   BIT(9) /* virtual-interrupt delivery */
#define PROC2_XSAVES	   BIT(20)

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG	  BIT(2)
#define EXIT_HOST_64	  BIT(9)
#define EXIT_ACK_INTR	  BIT(15)
#define EXIT_SAVE_PAT	  BIT(18)
#define EXIT_LOAD_PAT	  BIT(19)
#define EXIT_SAVE_EFER	  BIT(20)
#define EXIT_LOAD_EFER	  BIT(21)
#define EXIT_SAVE_PREEMPT BIT(22)

/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG BIT(2)
#define ENTRY_IA32E	 BIT(9)
#define ENTRY_LOAD_PAT	 BIT(14)
#define ENTRY_LOAD_EFER	 BIT(15)

/* IA32_VMX_EPT_VPID_CAP. */
#define EPT_CAP_EXEC_ONLY     BIT(0)
#define EPT_CAP_WALK4	      BIT(6)
#define EPT_CAP_UC	      BIT(8)
#define EPT_CAP_WB	      BIT(14)
#define EPT_CAP_2M	      BIT(16)
#define EPT_CAP_1G	      BIT(17)
#define EPT_CAP_INVEPT	      BIT(20)
#define EPT_CAP_AD	      BIT(21)
#define EPT_CAP_INVEPT_CTX    BIT(25)
#define EPT_CAP_INVEPT_ALL    BIT(26)
#define VPID_CAP_INVVPID      BIT(32)
#define VPID_CAP_INVVPID_ADDR BIT(40)
#define VPID_CAP_INVVPID_CTX  BIT(41)
#define VPID_CAP_INVVPID_ALL  BIT(42)

/* Raw capability MSR values (0 for MSRs the CPU does not have). */
struct vmx_msrs {
	uint64_t basic, misc;
	uint64_t pin, proc, proc2, exit, entry;
	uint64_t true_pin, true_proc, true_exit, true_entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
};

enum vmx_ctl_set {
	VMX_CTL_PIN,
	VMX_CTL_PROC,
	VMX_CTL_PROC2,
	VMX_CTL_EXIT,
	VMX_CTL_ENTRY,
	VMX_CTL_NSETS
};

/* What tidal will run with. */
struct vmx_caps {
	uint32_t revision;    /* VMCS revision identifier */
	uint32_t region_size; /* bytes of a VMXON/VMCS region */
	bool true_ctls;	      /* TRUE_* MSRs were used */
	uint32_t ctl[VMX_CTL_NSETS];
	/* Entry controls the CPU allows on top of ctl[VMX_CTL_ENTRY]. */
	bool ia32e_guest;
	/* Features the computed controls turned on. */
	bool vpid, unrestricted, preempt_timer, save_preempt, ack_intr;
	/* May be turned on per entry (vmm/intr.c): window exiting. */
	bool intr_window, nmi_window;
	/*
	 * APIC virtualization the CPU offers (any of it), and each piece;
	 * vmm/apicv.c decides per VM and turns them on in its VMCSs.
	 */
	bool apicv_offered;
	bool tpr_shadow, virt_apic_access, apic_reg_virt, virt_intr,
		virt_x2apic, msr_bitmaps, posted_intr, cr8_exits_optional;
	unsigned int preempt_shift; /* timer ticks at TSC >> shift */
	/* EPT. */
	bool ept_wb, ept_2m, ept_1g, ept_ad, ept_exec_only;
	bool invept_ctx, invept_all, invvpid, invvpid_ctx, invvpid_all,
		invvpid_addr;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Why vmx_caps_compute() failed. */
struct vmx_caps_error {
	const char *what;     /* readable reason */
	enum vmx_ctl_set set; /* control set at fault, when one */
	uint32_t missing;     /* required bits the CPU does not allow */
};

/*
 * Adjust one control word: @want bits that are allowed, plus every bit the
 * CPU forces to 1.  @cap is a capability MSR: its low half says which bits
 * must be 1, its high half which may be 1.  Returns the bits of @need that
 * cannot be set (0 when all is well); *out gets the word either way.
 */
uint32_t vmx_adjust_ctl(uint64_t cap, uint32_t need, uint32_t want,
			uint32_t *out);

/* Returns 0, or -1 with @err filled in. */
int vmx_caps_compute(const struct vmx_msrs *m, struct vmx_caps *caps,
		     struct vmx_caps_error *err);

/* Apply the fixed-bit rules to a CR0/CR4 value. */
static inline uint64_t vmx_fix_cr(uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
	return (v | fixed0) & fixed1;
}

/* Guest CR0 fixed-0 bits: unrestricted guests may clear PE and PG. */
uint64_t vmx_guest_cr0_fixed0(const struct vmx_caps *caps);

const char *vmx_ctl_set_name(enum vmx_ctl_set set);
/* Name of one control bit, or NULL when tidal has no name for it. */
const char *vmx_ctl_bit_name(enum vmx_ctl_set set, unsigned int bit);

#endif
