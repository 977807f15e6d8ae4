// SPDX-License-Identifier: MIT
/*
 * vCPU requests, modes and kicks (request.h), and the VM-wide TLB flush
 * and root reload the TDP MMU's platform calls turn into (vm_mem.c).
 *
 * The ordering that makes a request never missed: the requester sets the
 * bit, then reads the vCPU's mode; the vCPU stores VCPU_IN_GUEST (or
 * VCPU_BLOCKED), then reads its requests.  All four are sequentially
 * consistent (the stores are locked instructions on x86, full barriers),
 * so of the two sequences at least one sees the other's store: either the
 * vCPU sees the bit and does not enter, or the requester sees the mode and
 * kicks.
 *
 * A vCPU in guest mode is kicked with an NMI when vm->kick_nmi says so
 * (vcpu.c), else with an IPI; a blocked one, whose CPU sleeps in HLT with
 * interrupts enabled, always with an IPI.  Either way the vCPU cannot miss
 * it: the NMI exits the guest, or finds the vCPU on its way in and zeroes
 * its preemption timer (so the entry exits at once); the IPI is held while
 * the host runs with interrupts masked and fires as an exit right after
 * the entry, or wakes the HLT.
 */
#include "vmm/request.h"
#include "arch/x86/ept.h"
#include "arch/x86/smp.h"
#include "lib/atomic.h"

static void set_request(struct vcpu *v, enum vcpu_request req)
{
	__atomic_fetch_or(&v->requests, 1ul << req, __ATOMIC_SEQ_CST);
	stat_inc(&v->vm->req.requests_set);
}

/*
 * Kick @v out of guest mode or out of its HLT: only the requester that
 * moves it from IN_GUEST (BLOCKED) to EXITING sends the NMI or IPI, so
 * concurrent requesters send one.
 */
static bool kick(struct vcpu *v)
{
	int mode = __atomic_load_n(&v->mode, __ATOMIC_SEQ_CST);

	if (mode != VCPU_IN_GUEST && mode != VCPU_BLOCKED)
		return false;
	if (!try_cmpxchg(&v->mode, &mode, VCPU_EXITING_GUEST))
		return false;
	if (mode == VCPU_IN_GUEST && v->vm->kick_nmi) {
		smp_send_nmi(v->cpu);
		stat_inc(&v->vm->req.nmis_sent);
	} else {
		smp_send_ipi(v->cpu, VEC_IPI_KICK);
	}
	return true;
}

void vcpu_request(struct vcpu *v, enum vcpu_request req)
{
	set_request(v, req);
	if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) == VCPU_OUTSIDE_GUEST)
		stat_inc(&v->vm->req.ipis_avoided);
	else if (kick(v))
		stat_inc(&v->vm->req.ipis_sent);
}

bool vm_request_all(struct vm *vm, enum vcpu_request req, bool wait)
{
	uint64_t seq[VM_MAX_VCPUS];
	bool must_wait[VM_MAX_VCPUS] = {0};
	bool noipi = vm->debug & VM_DEBUG_NOIPI, sent = false;
	unsigned int i, n = vm->nr_vcpus;

	for (i = 0; i < n; i++)
		set_request(&vm->vcpus[i], req);
	for (i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];

		/* Read before the mode: an exit after this still counts. */
		seq[i] = load_acquire(&v->exit_seq);
		if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) ==
			    VCPU_OUTSIDE_GUEST ||
		    noipi) {
			stat_inc(&vm->req.ipis_avoided);
			continue;
		}
		must_wait[i] = wait;
		if (kick(v)) {
			stat_inc(&vm->req.ipis_sent);
			sent = true;
		} else {
			/* Already kicked by someone else, or just left. */
			stat_inc(&vm->req.ipis_avoided);
		}
	}
	for (i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!must_wait[i])
			continue;
		while (load_acquire(&v->mode) != VCPU_OUTSIDE_GUEST &&
		       load_acquire(&v->exit_seq) == seq[i])
			platform_relax();
	}
	return sent;
}

static bool enter_mode(struct vcpu *v, int mode)
{
	__atomic_store_n(&v->mode, mode, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&v->requests, __ATOMIC_SEQ_CST))
		return true;
	__atomic_store_n(&v->mode, VCPU_OUTSIDE_GUEST, __ATOMIC_RELEASE);
	return false;
}

bool vcpu_enter_guest_mode(struct vcpu *v)
{
	return enter_mode(v, VCPU_IN_GUEST);
}

bool vcpu_enter_blocked_mode(struct vcpu *v)
{
	return enter_mode(v, VCPU_BLOCKED);
}

bool vcpu_exit_guest_mode(struct vcpu *v)
{
	/* The count first: a waiter that missed OUTSIDE sees it change. */
	__atomic_store_n(&v->exit_seq, v->exit_seq + 1, __ATOMIC_RELEASE);
	return __atomic_exchange_n(&v->mode, VCPU_OUTSIDE_GUEST,
				   __ATOMIC_ACQ_REL) == VCPU_EXITING_GUEST;
}

bool vcpu_service_requests(struct vcpu *v)
{
	unsigned long req =
		__atomic_exchange_n(&v->requests, 0, __ATOMIC_ACQ_REL);

	if (req & (1ul << VCPU_REQ_STOP))
		return false;
	/*
	 * RELOAD_ROOT needs nothing here: the run loop checks the root
	 * before every entry and a new root comes with a local INVEPT.
	 * INVEPT single-context drops every combined translation tagged
	 * with the EPTP, whatever the VPID, so no INVVPID is needed.
	 */
	if ((req & (1ul << VCPU_REQ_TLB_FLUSH)) && v->eptp) {
		if (!(v->vm->debug & VM_DEBUG_NOFLUSH))
			ept_flush(v->eptp);
		v->stats.tlb_flushes++;
	}
	return true;
}

/*
 * A vCPU outside guest mode uses no guest translation until it has
 * serviced the request, so only the ones in guest mode are kicked and
 * waited for.
 */
void vm_flush_tlbs(struct vm *vm)
{
	stat_inc(&vm->req.flush_calls);
	if (vm_request_all(vm, VCPU_REQ_TLB_FLUSH, true))
		stat_inc(&vm->req.flush_ipi_calls);
}

void vm_reload_roots(struct vm *vm)
{
	stat_inc(&vm->req.reload_calls);
	vm_request_all(vm, VCPU_REQ_RELOAD_ROOT, true);
}
