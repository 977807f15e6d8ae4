// SPDX-License-Identifier: MIT
/*
 * The run loop and VM-exit dispatch.  Every exit is counted; the handlers
 * either resume the guest (advancing RIP where an instruction was
 * emulated) or stop the VM with a report.  Nothing the guest controls is
 * trusted: unknown exits, bad accesses and fatal events stop the VM, they
 * never stop tidal.
 */
#include <stdarg.h>

#include "vmm/vm.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmx_names.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdbstub.h"
#include "lib/printf.h"
#include "mm/paging.h"

int vmx_enter(struct guest_regs *regs, int launched);

#define MSR_IA32_TSC	      0x10
#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_MTRRCAP      0xfe
#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_STAR	      0xc0000081
#define MSR_LSTAR	      0xc0000082
#define MSR_CSTAR	      0xc0000083
#define MSR_FMASK	      0xc0000084

#define INTR_INFO_VALID	 BIT(31)
#define INTR_TYPE_HW_EXC (3u << 8)
#define INTR_TYPE_NMI	 (2u << 8)
#define INTR_ERROR_VALID BIT(11)
#define VEC_GP		 13

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	printk("tidal: vm: stopped: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	vm->state = VM_STOPPED;
	vm->status = 1;
}

void vcpu_dump(struct vcpu *v)
{
	const struct guest_regs *r = &v->regs;

	printk("tidal: vm: guest registers:\n"
	       "  rip %016llx rsp %016llx rflags %08llx\n"
	       "  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
	       "  rsi %016llx rdi %016llx rbp %016llx\n"
	       "  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
	       "  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n",
	       (unsigned long long)vmread(VMCS_GUEST_RIP),
	       (unsigned long long)vmread(VMCS_GUEST_RSP),
	       (unsigned long long)vmread(VMCS_GUEST_RFLAGS),
	       (unsigned long long)r->rax, (unsigned long long)r->rbx,
	       (unsigned long long)r->rcx, (unsigned long long)r->rdx,
	       (unsigned long long)r->rsi, (unsigned long long)r->rdi,
	       (unsigned long long)r->rbp, (unsigned long long)r->r8,
	       (unsigned long long)r->r9, (unsigned long long)r->r10,
	       (unsigned long long)r->r11, (unsigned long long)r->r12,
	       (unsigned long long)r->r13, (unsigned long long)r->r14,
	       (unsigned long long)r->r15);
	printk("  cr0 %08llx cr3 %016llx cr4 %08llx efer %llx\n"
	       "  cs %04llx base %llx ar %llx  idtr %llx/%llx gdtr %llx/%llx\n",
	       (unsigned long long)vmread(VMCS_CR0_SHADOW),
	       (unsigned long long)vmread(VMCS_GUEST_CR3),
	       (unsigned long long)vmread(VMCS_CR4_SHADOW),
	       (unsigned long long)vmread(VMCS_GUEST_EFER),
	       (unsigned long long)vmread(VMCS_GUEST_CS_SEL),
	       (unsigned long long)vmread(VMCS_GUEST_CS_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_CS_AR),
	       (unsigned long long)vmread(VMCS_GUEST_IDTR_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_IDTR_LIMIT),
	       (unsigned long long)vmread(VMCS_GUEST_GDTR_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_GDTR_LIMIT));
}

void vcpu_skip_insn(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN);

	/* 32-bit guests wrap at 4 GiB. */
	if (!(vmread(VMCS_GUEST_EFER) & EFER_LMA))
		rip &= 0xffffffffull;
	vmwrite(VMCS_GUEST_RIP, rip);
	/* An emulated instruction ends STI/MOV-SS blocking. */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

void vcpu_inject_gp(struct vcpu *v)
{
	vmwrite(VMCS_ENTRY_INTR_INFO,
		INTR_INFO_VALID | INTR_TYPE_HW_EXC | INTR_ERROR_VALID | VEC_GP);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, 0);
	v->vm->stats.msr_gp++;
}

static void handle_cpuid(struct vcpu *v)
{
	struct guest_regs *r = &v->regs;
	uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
	struct cpuid_regs c = {0};

	if (leaf == TIDAL_CPUID_SIGNATURE) {
		c = (struct cpuid_regs){
			TIDAL_CPUID_FEATURES, TIDAL_CPUID_SIG_EBX,
			TIDAL_CPUID_SIG_ECX, TIDAL_CPUID_SIG_EDX};
	} else if (leaf == TIDAL_CPUID_FEATURES) {
		c.eax = TIDAL_ABI_VERSION;
	} else if (leaf > TIDAL_CPUID_FEATURES && leaf < 0x40010000u) {
		/* Other hypervisor leaves: nothing. */
	} else {
		c = cpuid_count(leaf, sub);
		if (leaf == 1) {
			c.ecx &= ~(uint32_t)BIT(5); /* VMX: not for guests */
			c.ecx |= (uint32_t)BIT(31); /* hypervisor present */
		}
	}
	r->rax = c.eax;
	r->rbx = c.ebx;
	r->rcx = c.ecx;
	r->rdx = c.edx;
	v->vm->stats.cpuid++;
	vcpu_skip_insn(v);
}

/* MSRs a guest may touch; all others raise #GP. */
static bool msr_access(uint32_t msr, bool write, uint64_t val, uint64_t *out)
{
	static const uint32_t passthrough[] = {
		MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP,
		MSR_STAR,
		MSR_LSTAR,
		MSR_CSTAR,
		MSR_FMASK,
		MSR_KERNEL_GS_BASE,
	};

	switch (msr) {
	case MSR_EFER:
		if (write) {
			/* Only SCE/LME/NXE may change; LMA follows CR0.PG. */
			uint64_t old = vmread(VMCS_GUEST_EFER);
			uint64_t ok_bits = EFER_SCE | EFER_LME | EFER_NXE;

			if (val & ~(ok_bits | EFER_LMA))
				return false;
			vmwrite(VMCS_GUEST_EFER,
				(val & ok_bits) | (old & EFER_LMA));
		} else {
			*out = vmread(VMCS_GUEST_EFER);
		}
		return true;
	case MSR_IA32_PAT:
		if (!(vmx_caps.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT))
			return false;
		if (write)
			vmwrite(VMCS_GUEST_PAT, val);
		else
			*out = vmread(VMCS_GUEST_PAT);
		return true;
	case MSR_FS_BASE:
		if (write)
			vmwrite(VMCS_GUEST_FS_BASE, val);
		else
			*out = vmread(VMCS_GUEST_FS_BASE);
		return true;
	case MSR_GS_BASE:
		if (write)
			vmwrite(VMCS_GUEST_GS_BASE, val);
		else
			*out = vmread(VMCS_GUEST_GS_BASE);
		return true;
	case MSR_IA32_TSC:
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MISC_ENABLE:
		if (write)
			return false;
		*out = msr == MSR_IA32_TSC ? rdtsc() : 0;
		return true;
	case MSR_IA32_APIC_BASE:
		if (write)
			return false;
		/* No local APIC is emulated: report it disabled. */
		*out = 0;
		return true;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(passthrough); i++) {
		if (passthrough[i] != msr)
			continue;
		/*
		 * Values kept by tidal, never written to the host MSRs
		 * (tidal runs one VM at a time, so one table is enough).
		 */
		static uint64_t shadow[ARRAY_SIZE(passthrough)];

		if (write)
			shadow[i] = val;
		else
			*out = shadow[i];
		return true;
	}
	return false;
}

static void handle_msr(struct vcpu *v, bool write)
{
	struct guest_regs *r = &v->regs;
	uint32_t msr = (uint32_t)r->rcx;
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax, out = 0;

	if (!msr_access(msr, write, val, &out)) {
		pr_debug("tidal: vm: %s of MSR %x refused: #GP\n",
			 write ? "WRMSR" : "RDMSR", msr);
		vcpu_inject_gp(v);
		return;
	}
	if (!write) {
		r->rax = (uint32_t)out;
		r->rdx = out >> 32;
	}
	vcpu_skip_insn(v);
}

static uint64_t *gpr(struct vcpu *v, unsigned int n)
{
	uint64_t *regs[16] = {
		&v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx,
		NULL,	      &v->regs.rbp, &v->regs.rsi, &v->regs.rdi,
		&v->regs.r8,  &v->regs.r9,  &v->regs.r10, &v->regs.r11,
		&v->regs.r12, &v->regs.r13, &v->regs.r14, &v->regs.r15,
	};

	return regs[n & 15];
}

static uint64_t read_gpr(struct vcpu *v, unsigned int n)
{
	return n == 4 ? vmread(VMCS_GUEST_RSP) : *gpr(v, n);
}

static void write_gpr(struct vcpu *v, unsigned int n, uint64_t val)
{
	if (n == 4)
		vmwrite(VMCS_GUEST_RSP, val);
	else
		*gpr(v, n) = val;
}

/* The guest wrote CR0: keep tidal's fixed bits, follow paging changes. */
static bool guest_write_cr0(struct vcpu *v, uint64_t val)
{
	const struct vmx_caps *c = &vmx_caps;
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	uint64_t entry = vmread(VMCS_ENTRY_CONTROLS);

	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return false;
	if (!c->unrestricted && (!(val & X86_CR0_PG) || !(val & X86_CR0_PE))) {
		vm_stop(v->vm, "guest turned off protection or paging, which "
			       "needs unrestricted guest support");
		return true;
	}
	if ((val & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(vmread(VMCS_CR4_SHADOW) & X86_CR4_PAE))
			return false;
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E;
	} else {
		efer &= ~EFER_LMA;
		entry &= ~(uint64_t)ENTRY_IA32E;
	}
	vmwrite(VMCS_GUEST_EFER, efer);
	vmwrite(VMCS_ENTRY_CONTROLS, entry);
	vmwrite(VMCS_CR0_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0,
		vmx_fix_cr(val, vmx_guest_cr0_fixed0(c), c->cr0_fixed1));
	return true;
}

static bool guest_write_cr4(struct vcpu *v, uint64_t val)
{
	const struct vmx_caps *c = &vmx_caps;

	/* The guest never gets VMX; other unsupported bits fault. */
	if (val & X86_CR4_VMXE)
		return false;
	if ((vmx_fix_cr(val, c->cr4_fixed0, c->cr4_fixed1) | X86_CR4_VMXE) !=
	    (val | c->cr4_fixed0))
		return false;
	vmwrite(VMCS_CR4_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, vmx_fix_cr(val, c->cr4_fixed0, c->cr4_fixed1));
	return true;
}

static void handle_cr(struct vcpu *v, uint64_t qual)
{
	unsigned int cr = qual & 15, type = (qual >> 4) & 3;
	unsigned int reg = (qual >> 8) & 15;
	bool ok_ = true;

	switch (type) {
	case 0: /* MOV to CR */
		if (cr == 0)
			ok_ = guest_write_cr0(v, read_gpr(v, reg));
		else if (cr == 4)
			ok_ = guest_write_cr4(v, read_gpr(v, reg));
		else if (cr == 3)
			vmwrite(VMCS_GUEST_CR3, read_gpr(v, reg));
		else
			ok_ = false;
		break;
	case 1: /* MOV from CR (CR3 when CR3-store exiting is forced) */
		if (cr == 3)
			write_gpr(v, reg, vmread(VMCS_GUEST_CR3));
		else
			ok_ = false;
		break;
	case 2: /* CLTS */
		ok_ = guest_write_cr0(v, vmread(VMCS_CR0_SHADOW) & ~X86_CR0_TS);
		break;
	case 3: { /* LMSW: low 4 bits, cannot clear PE */
		uint64_t cr0 = vmread(VMCS_CR0_SHADOW);
		uint64_t src = (qual >> 16) & 0xf;

		ok_ = guest_write_cr0(v, (cr0 & ~0xeull) | (src & 0xe) |
						 ((cr0 | src) & 1));
		break;
	}
	}
	if (v->vm->state != VM_RUNNING)
		return;
	if (!ok_) {
		vcpu_inject_gp(v);
		return;
	}
	vcpu_skip_insn(v);
}

static void handle_hlt(struct vcpu *v)
{
	v->vm->stats.hlt++;
	if (!(vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF)) {
		vm_stop(v->vm,
			"guest halted with interrupts disabled "
			"(nothing can wake it) at RIP %llx",
			(unsigned long long)vmread(VMCS_GUEST_RIP));
		return;
	}
	vcpu_skip_insn(v);
}

static const char *access_str(uint64_t qual)
{
	if (qual & BIT(2))
		return "instruction fetch";
	return qual & BIT(1) ? "write" : "read";
}

static void handle_ept_violation(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

	switch (vm_mem_fault(v, gpa, qual)) {
	case MEM_FAULT_FIXED:
		vm->stats.ept_faults++;
		return;
	case MEM_FAULT_RETRY:
		vm->stats.ept_retries++;
		return;
	case MEM_FAULT_NOSLOT:
		vm_stop(vm,
			"guest touched unbacked memory at GPA %llx (%s) at "
			"RIP %llx: no memory or device there",
			(unsigned long long)gpa, access_str(qual),
			(unsigned long long)vmread(VMCS_GUEST_RIP));
		break;
	case MEM_FAULT_READONLY:
		vm_stop(vm, "guest wrote read-only memory at GPA %llx",
			(unsigned long long)gpa);
		break;
	case MEM_FAULT_NOMEM:
		vm_stop(vm, "out of memory for EPT page tables at GPA %llx",
			(unsigned long long)gpa);
		break;
	case MEM_FAULT_BUGGED:
		vm_stop(vm, "the MMU bugged the VM at GPA %llx",
			(unsigned long long)gpa);
		break;
	}
	vcpu_dump(v);
}

static void handle_ept_misconfig(struct vcpu *v)
{
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);

	vm_stop(v->vm,
		"EPT misconfiguration at GPA %llx (a bad EPT entry: "
		"tidal bug)",
		(unsigned long long)gpa);
	vm_mem_dump_walk(v->vm, gpa);
	vcpu_dump(v);
}

/* An interrupt for the host arrived while the guest ran. */
static void handle_external_intr(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	/*
	 * tidal services no device interrupts; acknowledged ones are
	 * dropped after an EOI to both the legacy PIC and the local APIC
	 * (harmless when nothing is in service).  Without acknowledge-on-
	 * exit the interrupt stays pending and the host takes it when it
	 * next enables interrupts.
	 */
	if (vmx_caps.ack_intr && (info & INTR_INFO_VALID)) {
		pr_debug("tidal: vm: host interrupt vector %u during guest\n",
			 info & 0xff);
		outb(0xa0, 0x20);
		outb(0x20, 0x20);
		if (rdmsr(0x1b) & BIT(10))
			wrmsr(0x80b, 0); /* x2APIC EOI */
		else
			*(volatile uint32_t *)phys_to_virt(0xfee000b0) = 0;
	}
}

static void handle_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	if ((info & (7u << 8)) == INTR_TYPE_NMI) {
		/* A host NMI: nothing to forward it to; note it. */
		pr_warn("tidal: vm: NMI while the guest ran\n");
		return;
	}
	vm_stop(v->vm, "unexpected exception exit (info %x)", info);
	vcpu_dump(v);
}

static void check_time(struct vm *vm)
{
	uint64_t now;

	if (!vm->timeout_ns)
		return;
	now = platform_time_ns();
	if (now - vm->start_ns >= vm->timeout_ns)
		vm_stop(vm, "time limit of %llu ms reached",
			(unsigned long long)(vm->timeout_ns / 1000000));
}

static void dispatch(struct vcpu *v, uint32_t reason)
{
	struct vm *vm = v->vm;

	switch (reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		handle_exception_nmi(v);
		break;
	case EXIT_REASON_EXTERNAL_INTR:
		handle_external_intr(v);
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		vm_stop(vm, "guest triple fault");
		vcpu_dump(v);
		break;
	case EXIT_REASON_CPUID:
		handle_cpuid(v);
		break;
	case EXIT_REASON_HLT:
		handle_hlt(v);
		break;
	case EXIT_REASON_VMCALL:
		handle_vmcall(v);
		break;
	case EXIT_REASON_CR_ACCESS:
		handle_cr(v, vmread(VMCS_EXIT_QUALIFICATION));
		break;
	case EXIT_REASON_IO:
		vm->stats.io++;
		if (handle_io(v, vmread(VMCS_EXIT_QUALIFICATION)))
			vcpu_skip_insn(v);
		break;
	case EXIT_REASON_RDMSR:
		handle_msr(v, false);
		break;
	case EXIT_REASON_WRMSR:
		handle_msr(v, true);
		break;
	case EXIT_REASON_EPT_VIOLATION:
		handle_ept_violation(v);
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		handle_ept_misconfig(v);
		break;
	case EXIT_REASON_PREEMPT_TIMER:
		vm->stats.preempt++;
		break;
	default:
		vm_stop(vm, "unhandled exit reason %u (%s), qualification %llx",
			reason, vmx_exit_reason_name(reason),
			(unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
		vcpu_dump(v);
	}
}

static void entry_failed(struct vcpu *v, uint32_t raw)
{
	char why[160];
	uint32_t reason = raw & 0xffff;

	vmx_entry_failure_str(reason, vmread(VMCS_EXIT_QUALIFICATION), why,
			      sizeof(why));
	vm_stop(v->vm, "VM entry failed (exit reason %u: %s): %s", reason,
		vmx_exit_reason_name(reason), why);
	vcpu_dump(v);
}

void vm_run(struct vm *vm)
{
	struct vcpu *v = &vm->vcpu;

	vm->state = VM_RUNNING;
	vm->start_ns = platform_time_ns();
	gdbstub_vcpu_attach(v); /* gdb: "monitor guest" */
	while (vm->state == VM_RUNNING) {
		if (vm_mem_load_root(v)) {
			vm_stop(vm, "no EPT root for the vCPU");
			break;
		}
		if (v->preempt_ticks)
			vmwrite(VMCS_PREEMPT_TIMER, v->preempt_ticks);

		int rc = vmx_enter(&v->regs, v->launched);

		if (rc) {
			vmx_report_failure(
				v->launched ? "VMRESUME" : "VMLAUNCH",
				rc == 1 ? VMX_FAIL_VALID : VMX_FAIL_INVALID);
			vm_stop(vm, "could not enter the guest");
			vcpu_dump(v);
			break;
		}
		v->launched = true;

		uint32_t raw = (uint32_t)vmread(VMCS_EXIT_REASON);
		uint32_t reason = raw & 0xffff;

		vm->stats.exits++;
		if (reason < EXIT_REASON_MAX)
			vm->stats.by_reason[reason]++;
		if (raw & EXIT_REASON_ENTRY_FAILED) {
			entry_failed(v, raw);
			break;
		}
		if (!gdbstub_vm_exit(v, reason)) /* gdb: steps, breakpoints */
			dispatch(v, reason);
		if (vm->state == VM_RUNNING)
			check_time(vm);
	}
	gdbstub_vcpu_attach(NULL);
	devices_flush(vm);
}
