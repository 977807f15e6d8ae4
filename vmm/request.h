/* SPDX-License-Identifier: MIT */
/*
 * vCPU requests: work one CPU asks of a vCPU (flush its TLB, reload its
 * root, stop), serviced by the vCPU itself before it enters the guest.  A
 * vCPU that is in guest mode is kicked out of it with an NMI or an IPI, a
 * blocked one (halted) woken with an IPI; one that is outside is left
 * alone, because it checks its requests before entering.
 * docs/vmx.md explains the ordering that makes a request never missed.
 */
#ifndef TIDAL_VMM_REQUEST_H
#define TIDAL_VMM_REQUEST_H

#include "vmm/vm.h"

enum vcpu_request {
	VCPU_REQ_TLB_FLUSH = 0,	  /* INVEPT single-context for the EPTP */
	VCPU_REQ_RELOAD_ROOT = 1, /* the root may be invalid: check it */
	VCPU_REQ_STOP = 2,	  /* leave the run loop */
	VCPU_REQ_EVENT = 3,	  /* an interrupt or IPI: evaluate it */
};

/* Set @req on @v and kick it if it is in guest mode (or blocked). */
void vcpu_request(struct vcpu *v, enum vcpu_request req);

/*
 * Set @req on every vCPU of @vm and kick those in guest mode.  With
 * @wait, return only when each vCPU that was in guest mode has left it
 * since (so none still runs on what the request replaces).  Returns
 * true if an IPI was sent.
 */
bool vm_request_all(struct vm *vm, enum vcpu_request req, bool wait);

/*
 * What lib/platform.h asks of platform_flush_guest_tlbs() and
 * platform_reload_guest_roots(): a TLB_FLUSH (RELOAD_ROOT) request on
 * every vCPU, waited for; counted in vm->req.
 */
void vm_flush_tlbs(struct vm *vm);
void vm_reload_roots(struct vm *vm);

/*
 * The vCPU's side, on its own CPU with interrupts masked.
 * vcpu_enter_guest_mode() announces the entry and returns false (back
 * outside guest mode) when a request arrived meanwhile: service it and
 * try again.  vcpu_enter_blocked_mode() does the same before the CPU
 * sleeps in HLT for a halted vCPU.  vcpu_exit_guest_mode() follows every
 * VM exit and every such sleep; it returns true if the vCPU was kicked.
 */
bool vcpu_enter_guest_mode(struct vcpu *v);
bool vcpu_enter_blocked_mode(struct vcpu *v);
bool vcpu_exit_guest_mode(struct vcpu *v);

/* Service @v's pending requests; false when it must leave its loop. */
bool vcpu_service_requests(struct vcpu *v);

#endif
