// SPDX-License-Identifier: MIT
/*
 * Running the vCPUs.  vCPU i runs on CPU i: vCPU 0 on the CPU that called
 * vm_run() (its VMCS was set up by vm_create()), the others on APs handed
 * vcpu_thread() through smp_start_on(), which turn VMX on and set up
 * their VMCS on their own CPU (host state is per CPU) before they enter.
 *
 * The VM stops when any vCPU stops it (vm_stop, vm_exit_with); that sends
 * every vCPU a STOP request and kicks it, and vm_run() returns only when
 * every AP has left its loop and freed its VMCS.
 *
 * A vCPU in guest mode is kicked with an NMI where the CPU has the VMX
 * preemption timer (vm->kick_nmi, request.c), so that no interrupt of
 * tidal's is ever pending while a guest runs (intr.c says why).  An NMI
 * that finds the vCPU on its way in, after it announced guest mode, zeroes
 * the preemption timer: the entry exits before the guest's first
 * instruction, and the request is serviced.
 */
#include "vmm/request.h"
#include "vmm/intr.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/gdbstub.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/atomic.h"
#include "lib/printf.h"
#include "mm/tdp/tdp_mmu.h"

int vmx_enter(struct guest_regs *regs, int launched);

/* vcpu->thread_state of an AP's vCPU. */
enum {
	THREAD_NONE = 0,
	THREAD_READY,  /* VMCS set up: waiting for the others */
	THREAD_FAILED, /* could not set up: the VM is stopped */
	THREAD_DONE,   /* left the loop, VMCS freed */
};

/* The vCPU each CPU runs, for the kick NMI (NULL outside vcpu_loop()). */
static struct vcpu *running[TIDAL_MAX_CPUS];

static bool kick_nmi(struct trap_frame *tf)
{
	struct vcpu *v =
		__atomic_load_n(&running[platform_cpu_id()], __ATOMIC_ACQUIRE);

	(void)tf;
	/* Its VMCS is current here; after an exit this is rewritten anyway. */
	if (!v ||
	    __atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) != VCPU_EXITING_GUEST)
		return false;
	vmwrite(VMCS_PREEMPT_TIMER, 0);
	return true;
}

/* At the time limit, stop the VM and show where this vCPU was. */
static void check_time(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t now;

	if (!vm->timeout_ns)
		return;
	now = platform_time_ns();
	if (now - vm->start_ns < vm->timeout_ns)
		return;
	vm_stop(vm, "time limit of %llu ms reached",
		(unsigned long long)(vm->timeout_ns / 1000000));
	vcpu_dump(v);
}

/* One VM entry and exit, with the guest's XCR0 and CR2 in place. */
static int enter_guest(struct vcpu *v)
{
	int rc;

	if (host_xcr0 && v->xcr0 != host_xcr0)
		xsetbv(0, v->xcr0);
	/*
	 * VM entry and exit leave CR2 alone, so the guest's value lives in
	 * the register while it runs.  Keep a copy across the exit so that
	 * a fault taken by tidal itself cannot hand the guest a stale CR2.
	 */
	if (read_cr2() != v->cr2)
		write_cr2(v->cr2);
	rc = vmx_enter(&v->regs, v->launched);
	v->cr2 = read_cr2();
	if (host_xcr0 && v->xcr0 != host_xcr0)
		xsetbv(0, host_xcr0);
	return rc;
}

/* Fast-path exits (exit.c) in a row before the loop's own work runs. */
#define VCPU_FASTPATH_MAX 16

static bool enter_once(struct vcpu *v)
{
	struct vm *vm = v->vm;
	unsigned int fast = 0;
	uint32_t raw = 0;
	int rc;

	if (vm_mem_load_root(v)) {
		vm_stop(vm, "no EPT root for vCPU %u", v->index);
		return false;
	}
	intr_prepare_entry(v); /* events, windows, preemption timer */
	if (!vcpu_enter_guest_mode(v))
		return true; /* a request came in: service it first */
	do {
		rc = enter_guest(v);
		if (rc)
			break;
		v->launched = true;
		raw = (uint32_t)vmread(VMCS_EXIT_REASON);
	} while (++fast <= VCPU_FASTPATH_MAX && vcpu_exit_fastpath(v, raw));
	if (vcpu_exit_guest_mode(v))
		v->stats.kicks++;
	if (rc) {
		vmx_report_failure(v->launched ? "VMRESUME" : "VMLAUNCH",
				   rc == 1 ? VMX_FAIL_VALID : VMX_FAIL_INVALID);
		vm_stop(vm, "could not enter the guest (vCPU %u)", v->index);
		vcpu_dump(v);
		return false;
	}
	vcpu_handle_exit(v, raw);
	if (load_acquire(&vm->state) == VM_RUNNING) {
		devices_tick(vm);
		check_time(v);
	}
	return true;
}

static void vcpu_loop(struct vcpu *v)
{
	struct vm *vm = v->vm;

	store_release(&running[v->cpu], v);
	gdbstub_vcpu_attach(v); /* gdb: "monitor guest" */
	while (load_acquire(&vm->state) == VM_RUNNING) {
		if (!vcpu_service_requests(v))
			break;
		if (!intr_runnable(v)) {
			/* Halted or waiting for SIPI: sleep until woken. */
			intr_block(v);
			devices_tick(vm); /* timer interrupts that fell due */
			check_time(v);
			continue;
		}
		if (!enter_once(v))
			break;
	}
	gdbstub_vcpu_attach(NULL);
	store_release(&running[v->cpu], NULL);
}

/* Wait until every AP reached @state or failed; false if one failed. */
static bool wait_aps(struct vm *vm, int state)
{
	bool ok = true;

	for (unsigned int i = 1; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int s;

		while ((s = load_acquire(&v->thread_state)) != state &&
		       s != THREAD_FAILED && s != THREAD_DONE)
			platform_relax();
		if (s == THREAD_FAILED)
			ok = false;
	}
	return ok;
}

static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	/* Kicks must wait for the VM exit that acknowledges them. */
	unsigned long flags = platform_irq_save();

	if (vmx_cpu_on() || vcpu_vmcs_init(v)) {
		vm_stop(vm, "vCPU %u could not be set up on CPU %u", v->index,
			v->cpu);
		store_release(&v->thread_state, THREAD_FAILED);
		platform_irq_restore(flags);
		return;
	}
	store_release(&v->thread_state, THREAD_READY);
	/* Enter only once every vCPU is ready and vCPU 0 says go. */
	while (load_acquire(&vm->start_ns) == 0 &&
	       load_acquire(&vm->state) == VM_RUNNING)
		platform_relax();
	vcpu_loop(v);
	vcpu_vmcs_free(v);
	vmx_cpu_off();
	store_release(&v->thread_state, THREAD_DONE);
	platform_irq_restore(flags);
}

static void start_aps(struct vm *vm)
{
	for (unsigned int i = 1; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (smp_start_on(v->cpu, vcpu_thread, v)) {
			vm_stop(vm, "CPU %u cannot run vCPU %u", v->cpu, i);
			store_release(&v->thread_state, THREAD_FAILED);
		}
	}
}

bool vcpu_kick_nmi_ready(void)
{
	static bool registered;

	if (!vmx_caps.preempt_timer)
		return false;
	if (!registered && !smp_add_nmi_handler(kick_nmi))
		registered = true;
	return registered; /* a full table: kicks stay IPIs */
}

void vm_run(struct vm *vm)
{
	struct vcpu *v0 = &vm->vcpus[0];

	start_aps(vm);
	if (wait_aps(vm, THREAD_READY)) {
		if (vm->nr_vcpus > 1)
			printk("tidal: vm: %u vCPUs on CPUs 0-%u\n",
			       vm->nr_vcpus, vm->nr_vcpus - 1);
		intr_print_mode(vm);
		vm->start_tsc = rdtsc();
		store_release(&vm->start_ns, platform_time_ns() | 1);
		vcpu_loop(v0);
	} else {
		vm->start_ns = platform_time_ns() | 1;
	}
	/* vCPU 0 left: whatever ended the run, every other vCPU leaves too. */
	if (load_acquire(&vm->state) == VM_RUNNING)
		vm_stop(vm, "vCPU 0 left its run loop");
	wait_aps(vm, THREAD_DONE);
	devices_flush(vm);
}
