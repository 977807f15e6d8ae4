// SPDX-License-Identifier: MIT
/*
 * The run loop and VM-exit dispatch.  Every exit is counted; the handlers
 * either resume the guest (advancing RIP where an instruction was
 * emulated) or stop the VM with a report.  Nothing the guest controls is
 * trusted: unknown exits, bad accesses and fatal events stop the VM, they
 * never stop tidal.
 */
#include <stdarg.h>

#include "vmm/exits.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmx_names.h"
#include "arch/x86/cpu.h"
#include "vmm/request.h"
#include "vmm/apicv.h"
#include "vmm/intr.h"
#include "arch/x86/smp.h"
#include "lib/atomic.h"
#include "arch/x86/gdbstub.h"
#include "lib/printf.h"
#include "mm/paging.h"
#include "vmm/cpuid.h"
#include "arch/x86/tsc.h"

/* Leave VM_RUNNING for @state, once; then every vCPU must stop. */
static bool vm_end(struct vm *vm, int state, int status)
{
	int running = VM_RUNNING;

	if (!try_cmpxchg(&vm->state, &running, state))
		return false;
	vm->status = status;
	vm_request_all(vm, VCPU_REQ_STOP, false);
	return true;
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (vm_end(vm, VM_STOPPED, 1))
		printk("tidal: vm: stopped: %s\n", buf);
}

bool vm_exit_with(struct vm *vm, int status)
{
	int running = VM_RUNNING;

	if (load_acquire(&vm->state) != running)
		return false;
	return vm_end(vm, VM_EXITED, status);
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
	printk("  cr0 %08llx cr3 %016llx cr4 %08llx efer %llx cr2 %llx\n"
	       "  cs %04llx base %llx ar %llx  idtr %llx/%llx gdtr %llx/%llx\n",
	       (unsigned long long)vmread(VMCS_CR0_SHADOW),
	       (unsigned long long)vmread(VMCS_GUEST_CR3),
	       (unsigned long long)vmread(VMCS_CR4_SHADOW),
	       (unsigned long long)vmread(VMCS_GUEST_EFER),
	       (unsigned long long)v->cr2,
	       (unsigned long long)vmread(VMCS_GUEST_CS_SEL),
	       (unsigned long long)vmread(VMCS_GUEST_CS_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_CS_AR),
	       (unsigned long long)vmread(VMCS_GUEST_IDTR_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_IDTR_LIMIT),
	       (unsigned long long)vmread(VMCS_GUEST_GDTR_BASE),
	       (unsigned long long)vmread(VMCS_GUEST_GDTR_LIMIT));
}

/*
 * The guest's CPU is made in vmm/cpuid.c, a few hundred instructions per
 * leaf; answers are kept per vCPU (struct cpuid_memo), keyed by all that
 * varies, so a repeated CPUID (Linux's sync_core, a guest's timing loop)
 * costs a lookup.
 */
static inline enum exit_action handle_cpuid(struct vcpu *v)
{
	struct guest_regs *r = &v->regs;
	uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
	uint64_t cr4 = vmread(VMCS_CR4_SHADOW);
	struct cpuid_memo *m =
		&v->cpuid_memo[((leaf * 0x9e3779b1u) ^ sub) % CPUID_MEMO_SLOTS];

	if (!m->valid || m->leaf != leaf || m->sub != sub || m->cr4 != cr4 ||
	    m->xcr0 != v->xcr0) {
		const struct cpuid_env env = {
			.host = cpuid_host,
			.nr_vcpus = v->vm->nr_vcpus,
			.vcpu_index = v->index,
			.tsc_hz = tsc_hz(),
			.guest_cr4 = cr4,
			.guest_xcr0 = v->xcr0,
		};
		struct cpuid_regs c = cpuid_guest(&env, leaf, sub);

		*m = (struct cpuid_memo){
			.leaf = leaf,
			.sub = sub,
			.cr4 = cr4,
			.xcr0 = v->xcr0,
			.eax = c.eax,
			.ebx = c.ebx,
			.ecx = c.ecx,
			.edx = c.edx,
			.valid = true,
		};
	}
	r->rax = m->eax;
	r->rbx = m->ebx;
	r->rcx = m->ecx;
	r->rdx = m->edx;
	v->stats.cpuid++;
	return EXIT_SKIP;
}

/* Interrupt and NMI windows: intr_prepare_entry() injects what waited. */
static enum exit_action handle_window(struct vcpu *v)
{
	(void)v;
	return EXIT_RESUME;
}

static const char *access_str(uint64_t qual)
{
	if (qual & BIT(2))
		return "instruction fetch";
	return qual & BIT(1) ? "write" : "read";
}

static enum exit_action handle_ept_violation(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

	enum mem_fault f = vm_mem_fault(v, gpa, qual);

	/* No memory there: a device's MMIO region, emulated, or nothing. */
	if (f == MEM_FAULT_NOSLOT && emulate_mmio(v, gpa, qual))
		return vm->state == VM_STOPPED ? EXIT_STOP : EXIT_RESUME;
	/* memctl guests get #GP(0) instead of a stop (docs/guest-abi.md). */
	if (vm->memctl && (f == MEM_FAULT_NOSLOT || f == MEM_FAULT_READONLY)) {
		vcpu_inject_gp(v);
		v->stats.mem_gp++;
		return EXIT_RESUME;
	}
	switch (f) {
	case MEM_FAULT_FIXED:
		v->stats.ept_faults++;
		return EXIT_RESUME;
	case MEM_FAULT_RETRY:
		v->stats.ept_retries++;
		return EXIT_RESUME;
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
	return EXIT_STOP;
}

static enum exit_action handle_ept_misconfig(struct vcpu *v)
{
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);

	vm_stop(v->vm,
		"EPT misconfiguration at GPA %llx (a bad EPT entry: "
		"tidal bug)",
		(unsigned long long)gpa);
	vm_mem_dump_walk(v->vm, gpa);
	vcpu_dump(v);
	return EXIT_STOP;
}

/* An interrupt for the host arrived while the guest ran. */
static enum exit_action handle_external_intr(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	/*
	 * tidal services no device interrupts; acknowledged ones are
	 * dropped after an EOI to both the legacy PIC and the local APIC
	 * (through arch/x86/smp.c, which owns the APIC)
	 * (harmless when nothing is in service).  Without acknowledge-on-
	 * exit the interrupt stays pending and the host takes it when it
	 * next enables interrupts.
	 */
	if (vmx_caps.ack_intr && (info & INTR_INFO_VALID)) {
		if ((info & 0xff) != VEC_IPI_KICK)
			pr_debug("tidal: vm: host interrupt vector %u during "
				 "guest\n",
				 info & 0xff);
		outb(0xa0, 0x20);
		outb(0x20, 0x20);
		/* Local APIC EOI; tidal's own IPI vectors need nothing more. */
		smp_service_vector((uint8_t)(info & 0xff));
	}
	return EXIT_RESUME;
}

static enum exit_action handle_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	if (INTR_INFO_TYPE(info) == INTR_NMI) {
		/*
		 * A host NMI (a kick, membarrier, gdb stop, ...), consumed by
		 * the exit: do what the IDT handler would, unblock NMIs,
		 * resume.
		 */
		smp_nmi_vmexit();
		return EXIT_RESUME;
	}
	vm_stop(v->vm, "unexpected exception exit (info %x)", info);
	vcpu_dump(v);
	return EXIT_STOP;
}

static enum exit_action handle_triple_fault(struct vcpu *v)
{
	vm_stop(v->vm, "guest triple fault");
	vcpu_dump(v);
	return EXIT_STOP;
}

static enum exit_action handle_io_exit(struct vcpu *v)
{
	v->stats.io++;
	return handle_io(v, vmread(VMCS_EXIT_QUALIFICATION));
}

static enum exit_action handle_preempt(struct vcpu *v)
{
	v->stats.preempt++;
	return EXIT_RESUME;
}

typedef enum exit_action (*exit_handler)(struct vcpu *v);

/* One handler per exit reason; a reason without one stops the VM. */
static const exit_handler exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTR] = handle_external_intr,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_vmx_insn,
	[EXIT_REASON_HLT] = intr_handle_hlt,
	[EXIT_REASON_INTR_WINDOW] = handle_window,
	[EXIT_REASON_NMI_WINDOW] = handle_window,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_INVLPG] = handle_nop_insn,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = handle_vmx_insn,
	[EXIT_REASON_VMLAUNCH] = handle_vmx_insn,
	[EXIT_REASON_VMPTRLD] = handle_vmx_insn,
	[EXIT_REASON_VMPTRST] = handle_vmx_insn,
	[EXIT_REASON_VMREAD] = handle_vmx_insn,
	[EXIT_REASON_VMRESUME] = handle_vmx_insn,
	[EXIT_REASON_VMWRITE] = handle_vmx_insn,
	[EXIT_REASON_VMXOFF] = handle_vmx_insn,
	[EXIT_REASON_VMXON] = handle_vmx_insn,
	[EXIT_REASON_CR_ACCESS] = handle_cr,
	[EXIT_REASON_IO] = handle_io_exit,
	[EXIT_REASON_RDMSR] = handle_rdmsr,
	[EXIT_REASON_WRMSR] = handle_wrmsr,
	[EXIT_REASON_MWAIT] = handle_nop_insn,
	[EXIT_REASON_MONITOR] = handle_nop_insn,
	[EXIT_REASON_PAUSE] = handle_nop_insn,
	[EXIT_REASON_APIC_ACCESS] = apicv_handle_access,
	[EXIT_REASON_VIRT_EOI] = apicv_handle_eoi,
	[EXIT_REASON_APIC_WRITE] = apicv_handle_write,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = handle_vmx_insn,
	[EXIT_REASON_PREEMPT_TIMER] = handle_preempt,
	[EXIT_REASON_INVVPID] = handle_vmx_insn,
	[EXIT_REASON_WBINVD] = handle_nop_insn,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_VMFUNC] = handle_vmx_insn,
	[EXIT_REASON_ENCLS] = handle_vmx_insn,
};

static void dispatch(struct vcpu *v, uint32_t reason)
{
	exit_handler h =
		reason < EXIT_REASON_MAX ? exit_handlers[reason] : NULL;

	event_after_exit(v, reason);
	if (!h) {
		vm_stop(v->vm,
			"unhandled exit reason %u (%s), qualification %llx",
			reason, vmx_exit_reason_name(reason),
			(unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
		vcpu_dump(v);
		return;
	}
	if (h(v) == EXIT_SKIP && v->vm->state == VM_RUNNING)
		vcpu_skip_insn(v);
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

/* handle_cpuid() inlined, and vcpu_skip_insn()'s RIP step for it. */
static void fast_cpuid(struct vcpu *v)
{
	const uint64_t shadow = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS;
	uint64_t rip, intr;

	handle_cpuid(v);
	rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN);
	intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if ((rip >> 32) && !vcpu_in_64bit_mode())
		rip &= 0xffffffffull; /* RIP wraps outside 64-bit code */
	vmwrite_checked(VMCS_GUEST_RIP, rip);
	if (intr & shadow)
		vmwrite_checked(VMCS_GUEST_INTERRUPTIBILITY, intr & ~shadow);
}

/*
 * The fast path: a CPUID exit is answered and the guest entered again
 * without a pass through the run loop, when nothing can be waiting for
 * this vCPU.
 *  - No request is pending.  The vCPU stays in guest mode meanwhile, so a
 *    request made after this check comes with a kick (request.c) that
 *    makes the next entry exit at once: an NMI zeroes the preemption
 *    timer, an IPI is held while interrupts are off.  Every event for a
 *    vCPU (interrupts, IPIs, INIT/SIPI, TLB flushes, a stop) comes as a
 *    request.
 *  - The preemption timer kept counting through the exit (or there is
 *    none), so the APIC timer and the time slice stay exact.
 *  - The gdb stub is off (it watches every exit).
 * The run loop's own periodic work (device timers, the time limit) runs
 * at least every VCPU_FASTPATH_MAX exits (vcpu.c).
 */
bool vcpu_exit_fastpath(struct vcpu *v, uint32_t raw)
{
	if (raw != EXIT_REASON_CPUID ||
	    __atomic_load_n(&v->requests, __ATOMIC_SEQ_CST) ||
	    (vmx_caps.preempt_timer && !vmx_caps.save_preempt) ||
	    gdbstub_enabled())
		return false;
	v->stats.exits++;
	v->stats.by_reason[EXIT_REASON_CPUID]++;
	v->stats.fast_exits++;
	fast_cpuid(v);
	return true;
}

void vcpu_handle_exit(struct vcpu *v, uint32_t raw)
{
	uint32_t reason = raw & 0xffff;

	v->stats.exits++;
	if (reason < EXIT_REASON_MAX)
		v->stats.by_reason[reason]++;
	if (raw & EXIT_REASON_ENTRY_FAILED) {
		entry_failed(v, raw);
		return;
	}
	/* gdb: steps, breakpoints (nothing to do without the stub). */
	if (!gdbstub_enabled()) {
		dispatch(v, reason);
		return;
	}
	if (!gdbstub_vm_exit(v, reason))
		dispatch(v, reason);
	gdbstub_vm_exit_done(v);
}
