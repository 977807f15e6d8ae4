// SPDX-License-Identifier: MIT
/*
 * vCPU requests, modes and kicks (request.h), and the VM-wide TLB flush
 * and root reload the TDP MMU's platform calls turn into (vm_mem.c).
 *
 * The ordering that makes a request never missed: the requester sets the
 * bit, then reads the vCPU's mode; the vCPU stores VCPU_IN_GUEST, then
 * reads its requests.  All four are sequentially consistent (the stores
 * are locked instructions on x86, full barriers), so of the two
 * sequences at least one sees the other's store: either the vCPU sees
 * the bit and does not enter, or the requester sees IN_GUEST and kicks.  The
 * kick IPI arrives while the host runs with interrupts masked and
 * external-interrupt exiting is on, so if the vCPU is still on its way in, the
 * pending IPI makes it exit right after the entry.
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
 * Kick @v out of guest mode: only the requester that moves it from
 * IN_GUEST to EXITING sends the IPI, so concurrent requesters send one.
 */
static bool kick(struct vcpu *v)
{
	int mode = VCPU_IN_GUEST;

	if (!try_cmpxchg(&v->mode, &mode, VCPU_EXITING_GUEST))
		return false;
	smp_send_ipi(v->cpu, VEC_IPI_KICK);
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

bool vcpu_enter_guest_mode(struct vcpu *v)
{
	__atomic_store_n(&v->mode, VCPU_IN_GUEST, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&v->requests, __ATOMIC_SEQ_CST))
		return true;
	__atomic_store_n(&v->mode, VCPU_OUTSIDE_GUEST, __ATOMIC_RELEASE);
	return false;
}

void vcpu_exit_guest_mode(struct vcpu *v)
{
	/* The count first: a waiter that missed OUTSIDE sees it change. */
	__atomic_store_n(&v->exit_seq, v->exit_seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&v->mode, VCPU_OUTSIDE_GUEST, __ATOMIC_RELEASE);
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
