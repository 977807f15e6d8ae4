// SPDX-License-Identifier: MIT
/*
 * The vCPU request protocol (vmm/request.c) with threads for CPUs: each
 * "vCPU" thread runs the real entry/exit/service sequence around a fake
 * guest that spins until it is kicked; the "IPI" and the "INVEPT" are
 * stubs.  A flusher thread changes a generation (standing for the EPT)
 * and calls vm_flush_tlbs().  The property lib/platform.h asks for:
 * once the call has returned, a vCPU in guest mode has flushed at or
 * after the change.  With the kick left out (VM_DEBUG_NOIPI), or the
 * INVEPT (VM_DEBUG_NOFLUSH), the same check must fail, so the test can
 * tell; the second is what no Bochs boot can show (docs/vmx.md).  The
 * correct protocol runs twice: kicking with IPIs, and with NMIs as tidal
 * does where the CPU has a VMX preemption timer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "vmm/request.h"
#include "arch/x86/ept.h"
#include "arch/x86/smp.h"
#include "tests/host/platform_host.h"
#include "tests/host/tap.h"

#define NVCPUS	3
#define FLUSHES 400

static struct vm vm;
static uint64_t ept_gen;	 /* bumped before each flush call */
static uint64_t flushed_gen;	 /* published after each call returns */
static uint64_t tlb_gen[NVCPUS]; /* generation each vCPU flushed at */
static int kicked[NVCPUS];
static bool kick_nmi; /* vm.kick_nmi for the next run() */
static uint64_t ipis_stubbed, nmis_stubbed;
static uint64_t stale_seen, guest_runs;
static int held; /* vCPU 0 is in its first, kick-only guest run */
static bool stop;
static int guest_iters = 20; /* a guest run, unless kicked */
static __thread struct vcpu *self;

/* Stubs for what request.c reaches on the machine. */
void ept_flush(uint64_t eptp)
{
	(void)eptp;
	__atomic_store_n(&tlb_gen[self->index],
			 __atomic_load_n(&ept_gen, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
}

void smp_send_ipi(unsigned int cpu, uint8_t vector)
{
	(void)vector;
	__atomic_fetch_add(&ipis_stubbed, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&kicked[cpu], 1, __ATOMIC_RELEASE);
}

void smp_send_nmi(unsigned int cpu)
{
	__atomic_fetch_add(&nmis_stubbed, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&kicked[cpu], 1, __ATOMIC_RELEASE);
}

/* The guest: run a while, or until kicked; check the TLB meanwhile. */
static void run_guest(struct vcpu *v)
{
	/*
	 * vCPU 0's first run lasts until it is kicked, and the flusher waits
	 * for it to start: so at least one flush finds a vCPU in guest mode
	 * however the threads are scheduled.  (Not in the broken modes,
	 * where no kick may come.)
	 */
	bool hold = v->index == 0 && !vm.debug &&
		    !__atomic_load_n(&held, __ATOMIC_ACQUIRE);

	if (hold)
		__atomic_store_n(&held, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < guest_iters || hold; i++) {
		uint64_t done = __atomic_load_n(&flushed_gen, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&tlb_gen[v->index], __ATOMIC_ACQUIRE) <
		    done)
			__atomic_fetch_add(&stale_seen, 1, __ATOMIC_RELAXED);
		if (__atomic_exchange_n(&kicked[v->index], 0, __ATOMIC_ACQ_REL))
			break;
		/* More threads than cores: let the flusher run. */
		sched_yield();
	}
	__atomic_fetch_add(&guest_runs, 1, __ATOMIC_RELAXED);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	host_thread_register();
	self = v;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (!vcpu_service_requests(v))
			break;
		if (!vcpu_enter_guest_mode(v))
			continue;
		run_guest(v);
		vcpu_exit_guest_mode(v);
	}
	host_thread_unregister();
	return NULL;
}

static void *flusher(void *arg)
{
	(void)arg;
	host_thread_register();
	while (!vm.debug && !__atomic_load_n(&held, __ATOMIC_ACQUIRE))
		sched_yield();
	for (int i = 0; i < FLUSHES; i++) {
		uint64_t g = __atomic_add_fetch(&ept_gen, 1, __ATOMIC_ACQ_REL);

		vm_flush_tlbs(&vm);
		__atomic_store_n(&flushed_gen, g, __ATOMIC_RELEASE);
	}
	host_thread_unregister();
	return NULL;
}

static void run(unsigned int debug)
{
	pthread_t t[NVCPUS], f;

	memset(&vm, 0, sizeof(vm));
	memset(tlb_gen, 0, sizeof(tlb_gen));
	memset(kicked, 0, sizeof(kicked));
	ept_gen = flushed_gen = stale_seen = guest_runs = 0;
	ipis_stubbed = nmis_stubbed = 0;
	held = 0;
	stop = false;
	vm.nr_vcpus = NVCPUS;
	vm.debug = debug;
	vm.kick_nmi = kick_nmi;
	for (unsigned int i = 0; i < NVCPUS; i++) {
		vm.vcpus[i].vm = &vm;
		vm.vcpus[i].index = vm.vcpus[i].cpu = i;
		vm.vcpus[i].eptp = 0x1000; /* a root is loaded */
		pthread_create(&t[i], NULL, vcpu_thread, &vm.vcpus[i]);
	}
	pthread_create(&f, NULL, flusher, NULL);
	pthread_join(f, NULL);
	/* STOP the way vm_stop() does: a request and a kick for everyone. */
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	vm_request_all(&vm, VCPU_REQ_STOP, false);
	for (unsigned int i = 0; i < NVCPUS; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	kick_nmi = true;
	run(0);
	ok(stale_seen == 0,
	   "kicks by NMI: no vCPU in guest mode used a translation older "
	   "than a finished flush (%llu guest runs)",
	   (unsigned long long)guest_runs);
	ok(nmis_stubbed > 0 && ipis_stubbed == 0 &&
		   vm.req.nmis_sent == nmis_stubbed &&
		   vm.req.ipis_sent == nmis_stubbed,
	   "kicks by NMI: every kick was an NMI (%llu), counted as such",
	   (unsigned long long)nmis_stubbed);

	kick_nmi = false;
	run(0);
	ok(stale_seen == 0,
	   "no vCPU in guest mode used a translation older than a finished "
	   "flush (%llu guest runs)",
	   (unsigned long long)guest_runs);
	ok(nmis_stubbed == 0 && vm.req.nmis_sent == 0 &&
		   ipis_stubbed == vm.req.ipis_sent,
	   "kicks by IPI: no NMI sent");
	ok(vm.req.flush_calls == FLUSHES, "every call counted (%llu)",
	   (unsigned long long)vm.req.flush_calls);
	ok(vm.req.ipis_sent > 0 && vm.req.ipis_sent + vm.req.ipis_avoided ==
					   vm.req.requests_set,
	   "each request either sent an IPI (%llu) or needed none (%llu)",
	   (unsigned long long)vm.req.ipis_sent,
	   (unsigned long long)vm.req.ipis_avoided);
	ok(vm.req.flush_ipi_calls <= vm.req.flush_calls,
	   "remote_tlb_flush %llu <= remote_tlb_flush_requests %llu",
	   (unsigned long long)vm.req.flush_ipi_calls,
	   (unsigned long long)vm.req.flush_calls);
	ok(vm.req.requests_set == (uint64_t)FLUSHES * NVCPUS + NVCPUS,
	   "a request bit per vCPU per call, plus the STOPs");

	/*
	 * Broken modes: whether a vCPU happens to look while stale is up to
	 * the scheduler, so guests run longer and a few tries are allowed.
	 */
	guest_iters = 500;
	for (int i = 0; i < 5 && !(i && stale_seen); i++)
		run(VM_DEBUG_NOIPI);
	ok(stale_seen > 0,
	   "without the kick a vCPU in guest mode keeps stale translations "
	   "(%llu seen): the check can fail",
	   (unsigned long long)stale_seen);
	ok(vm.req.ipis_sent == 0, "noipi sends no IPI");

	for (int i = 0; i < 5 && !(i && stale_seen); i++)
		run(VM_DEBUG_NOFLUSH);
	ok(stale_seen > 0,
	   "with the kick but without the INVEPT a vCPU comes back with stale "
	   "translations (%llu seen); Bochs hides this (docs/vmx.md)",
	   (unsigned long long)stale_seen);
	return tap_done();
}
