// SPDX-License-Identifier: MIT
/* Counters: the exit summary and the values guests read by VMCALL. */
#include "vmm/vm.h"
#include "arch/x86/vmx/vmx_names.h"
#include "lib/printf.h"
#include "arch/x86/cpu.h"

void vm_sum_stats(struct vm *vm, struct vcpu_stats *out)
{
	uint64_t *dst = (uint64_t *)out;

	/* Every field is a uint64_t: add them up as an array. */
	*out = (struct vcpu_stats){0};
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const uint64_t *src = (const uint64_t *)&vm->vcpus[i].stats;

		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
}

static uint64_t req_counter(struct vm *vm, unsigned int id)
{
	const struct vm_req_stats *r = &vm->req;

	switch (id) {
	case TIDAL_CTR_REMOTE_FLUSH:
		return __atomic_load_n(&r->flush_ipi_calls, __ATOMIC_RELAXED);
	case TIDAL_CTR_REMOTE_FLUSH_REQ:
		return __atomic_load_n(&r->flush_calls, __ATOMIC_RELAXED);
	case TIDAL_CTR_REQUESTS_SET:
		return __atomic_load_n(&r->requests_set, __ATOMIC_RELAXED);
	case TIDAL_CTR_IPIS_SENT:
		return __atomic_load_n(&r->ipis_sent, __ATOMIC_RELAXED);
	case TIDAL_CTR_IPIS_AVOIDED:
		return __atomic_load_n(&r->ipis_avoided, __ATOMIC_RELAXED);
	}
	return 0;
}

uint64_t vm_counter(struct vm *vm, unsigned int id)
{
	struct vcpu_stats s;
	struct vm_mem_counts m;

	vm_sum_stats(vm, &s);
	vm_mem_counts(vm, &m);
	switch (id) {
	case TIDAL_CTR_EXITS:
		return s.exits;
	case TIDAL_CTR_EPT_FAULTS:
		return s.ept_faults;
	case TIDAL_CTR_EPT_RETRIES:
		return s.ept_retries;
	case TIDAL_CTR_MAPPED_4K:
		return m.mapped[0];
	case TIDAL_CTR_MAPPED_2M:
		return m.mapped[1];
	case TIDAL_CTR_MAPPED_1G:
		return m.mapped[2];
	case TIDAL_CTR_FLUSH_REQ:
		return m.flush_req;
	case TIDAL_CTR_FLUSH_DONE:
		return m.flush_done;
	case TIDAL_CTR_HLT:
		return s.hlt;
	case TIDAL_CTR_IO:
		return s.io;
	case TIDAL_CTR_CPUID:
		return s.cpuid;
	case TIDAL_CTR_VMCALL:
		return s.vmcall;
	case TIDAL_CTR_PREEMPT:
		return s.preempt;
	case TIDAL_CTR_MEM_GP:
		return s.mem_gp;
	case TIDAL_CTR_INJECTED: {
		uint64_t n = 0;

		for (unsigned int v = 0; v < ARRAY_SIZE(s.injected); v++)
			n += s.injected[v];
		return n;
	}
	case TIDAL_CTR_REINJECTED:
		return s.reinjected;
	case TIDAL_CTR_INTERRUPTS:
		return s.interrupts + s.nmis + s.virt_intr;
	case TIDAL_CTR_HALTS_BLOCKED:
		return s.halts_blocked;
	case TIDAL_CTR_WAKEUPS:
		return s.wakeups;
	}
	return req_counter(vm, id);
}

static void print_vcpus(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].stats;

		printk("tidal: summary: vcpu %u: %llu exits, EPT faults %llu "
		       "(retried %llu), kicks %llu, TLB flushes %llu, "
		       "#GP memctl %llu\n",
		       i, (unsigned long long)s->exits,
		       (unsigned long long)s->ept_faults,
		       (unsigned long long)s->ept_retries,
		       (unsigned long long)s->kicks,
		       (unsigned long long)s->tlb_flushes,
		       (unsigned long long)s->mem_gp);
		printk("tidal: summary: vcpu %u: interrupts injected %llu, "
		       "NMIs %llu, IPIs sent %llu, timer %llu, halts blocked "
		       "%llu, wake-ups %llu, SIPI starts %llu\n",
		       i, (unsigned long long)s->interrupts,
		       (unsigned long long)s->nmis,
		       (unsigned long long)s->ipis,
		       (unsigned long long)s->timer_fires,
		       (unsigned long long)s->halts_blocked,
		       (unsigned long long)s->wakeups,
		       (unsigned long long)s->sipi_starts);
		if (vm->apicv.on)
			printk("tidal: summary: vcpu %u: APICv: virtual "
			       "interrupts %llu, APIC-write exits %llu, EOI "
			       "exits %llu, APIC-access exits %llu\n",
			       i, (unsigned long long)s->virt_intr,
			       (unsigned long long)s->apic_write,
			       (unsigned long long)s->virt_eoi,
			       (unsigned long long)s->apic_access);
	}
}

static void print_requests(struct vm *vm)
{
	const struct vm_req_stats *r = &vm->req;

	/* The two figures of reference patch 004 (KVM's stat names). */
	printk("tidal: summary: remote_tlb_flush %llu "
	       "remote_tlb_flush_requests %llu\n",
	       (unsigned long long)r->flush_ipi_calls,
	       (unsigned long long)r->flush_calls);
	printk("tidal: summary: vcpu requests set %llu, IPIs sent %llu "
	       "(NMIs %llu) avoided %llu, root reloads %llu\n",
	       (unsigned long long)r->requests_set,
	       (unsigned long long)r->ipis_sent,
	       (unsigned long long)r->nmis_sent,
	       (unsigned long long)r->ipis_avoided,
	       (unsigned long long)r->reload_calls);
}

/* The interrupt sources of the PC platform, and console input. */
static void print_devices(struct vm *vm)
{
	const struct pc_legacy *l = &vm->legacy;

	if (vm->format == GUEST_FMT_TIDAL && !vm->com1_rx_bytes)
		return;
	printk("tidal: summary: devices: PIT IRQ 0 edges %llu, COM1 IRQ 4 "
	       "raised %llu, RTC IRQ 8 raised %llu, console input %llu bytes "
	       "(dropped %llu)\n",
	       (unsigned long long)l->pit_irqs,
	       (unsigned long long)l->com1_irqs,
	       (unsigned long long)l->rtc_irqs,
	       (unsigned long long)vm->com1_rx_bytes,
	       (unsigned long long)vm->com1_rx_dropped);
	printk("tidal: summary: devices: I/O APIC messages %llu, level EOIs "
	       "%llu, 8259 INTA cycles %llu\n",
	       (unsigned long long)l->ioapic.sent,
	       (unsigned long long)l->ioapic.level_eois,
	       (unsigned long long)l->pic_intas);
}

void vm_print_summary(struct vm *vm)
{
	struct vcpu_stats s;
	struct vm_mem_counts m;

	vm_sum_stats(vm, &s);
	vm_mem_counts(vm, &m);
	printk("tidal: summary: %llu exits in %llu ms\n",
	       (unsigned long long)s.exits,
	       (unsigned long long)((platform_time_ns() - vm->start_ns) /
				    1000000));
	/* Guest TSC = host TSC: a benchmark's marks in the guest line up. */
	printk("tidal: summary: TSC at the first entry %llu, now %llu\n",
	       (unsigned long long)vm->start_tsc, (unsigned long long)rdtsc());
	for (unsigned int r = 0; r < EXIT_REASON_MAX; r++) {
		if (s.by_reason[r])
			printk("tidal: summary:   %-26s %llu\n",
			       vmx_exit_reason_name(r),
			       (unsigned long long)s.by_reason[r]);
	}
	printk("tidal: summary: exits on the fast path %llu\n",
	       (unsigned long long)s.fast_exits);
	printk("tidal: summary: EPT faults %llu (retried %llu)\n",
	       (unsigned long long)s.ept_faults,
	       (unsigned long long)s.ept_retries);
	printk("tidal: summary: pages mapped 4K %llu 2M %llu 1G %llu, "
	       "page tables %llu\n",
	       (unsigned long long)m.mapped[0], (unsigned long long)m.mapped[1],
	       (unsigned long long)m.mapped[2], (unsigned long long)m.pt_pages);
	printk("tidal: summary: TLB flushes requested %llu done %llu "
	       "avoided %llu\n",
	       (unsigned long long)m.flush_req,
	       (unsigned long long)m.flush_done,
	       (unsigned long long)m.flush_avoided);
	for (unsigned int vec = 0; vec < ARRAY_SIZE(s.injected); vec++) {
		if (s.injected[vec])
			printk("tidal: summary: exception %u injected %llu\n",
			       vec, (unsigned long long)s.injected[vec]);
	}
	if (s.reinjected)
		printk("tidal: summary: events re-injected %llu\n",
		       (unsigned long long)s.reinjected);
	if (s.mmio || s.string_io)
		printk("tidal: summary: emulated MMIO %llu (%llu device "
		       "accesses), string I/O %llu (%llu iterations), faults "
		       "injected %llu\n",
		       (unsigned long long)s.mmio,
		       (unsigned long long)s.mmio_accesses,
		       (unsigned long long)s.string_io,
		       (unsigned long long)s.emu_iterations,
		       (unsigned long long)s.emu_faults);
	if (s.xapic_mmio)
		printk("tidal: summary: local APIC: xAPIC page accesses "
		       "emulated %llu\n",
		       (unsigned long long)s.xapic_mmio);
	print_requests(vm);
	print_vcpus(vm);
	print_devices(vm);
}
