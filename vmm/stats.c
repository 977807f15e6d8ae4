// SPDX-License-Identifier: MIT
/* Counters: the exit summary and the values guests read by VMCALL. */
#include "vmm/vm.h"
#include "arch/x86/vmx/vmx_names.h"
#include "lib/printf.h"

uint64_t vm_counter(struct vm *vm, unsigned int id)
{
	const struct vm_stats *s = &vm->stats;
	struct vm_mem_counts m;

	vm_mem_counts(vm, &m);
	switch (id) {
	case TIDAL_CTR_EXITS:
		return s->exits;
	case TIDAL_CTR_EPT_FAULTS:
		return s->ept_faults;
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
		return s->hlt;
	case TIDAL_CTR_IO:
		return s->io;
	case TIDAL_CTR_CPUID:
		return s->cpuid;
	case TIDAL_CTR_VMCALL:
		return s->vmcall;
	case TIDAL_CTR_PREEMPT:
		return s->preempt;
	}
	return 0;
}

void vm_print_summary(struct vm *vm)
{
	const struct vm_stats *s = &vm->stats;
	struct vm_mem_counts m;

	vm_mem_counts(vm, &m);
	printk("tidal: summary: %llu exits in %llu ms\n",
	       (unsigned long long)s->exits,
	       (unsigned long long)((platform_time_ns() - vm->start_ns) /
				    1000000));
	for (unsigned int r = 0; r < EXIT_REASON_MAX; r++) {
		if (s->by_reason[r])
			printk("tidal: summary:   %-26s %llu\n",
			       vmx_exit_reason_name(r),
			       (unsigned long long)s->by_reason[r]);
	}
	printk("tidal: summary: EPT faults %llu (retried %llu)\n",
	       (unsigned long long)s->ept_faults,
	       (unsigned long long)s->ept_retries);
	printk("tidal: summary: pages mapped 4K %llu 2M %llu 1G %llu, "
	       "page tables %llu\n",
	       (unsigned long long)m.mapped[0], (unsigned long long)m.mapped[1],
	       (unsigned long long)m.mapped[2], (unsigned long long)m.pt_pages);
	printk("tidal: summary: TLB flushes requested %llu done %llu "
	       "avoided %llu\n",
	       (unsigned long long)m.flush_req,
	       (unsigned long long)m.flush_done,
	       (unsigned long long)m.flush_avoided);
	if (s->mmio || s->string_io)
		printk("tidal: summary: emulated MMIO %llu (%llu device "
		       "accesses), string I/O %llu (%llu iterations), faults "
		       "injected %llu\n",
		       (unsigned long long)s->mmio,
		       (unsigned long long)s->mmio_accesses,
		       (unsigned long long)s->string_io,
		       (unsigned long long)s->emu_iterations,
		       (unsigned long long)s->emu_faults);
	if (s->msr_gp)
		printk("tidal: summary: #GP injected %llu\n",
		       (unsigned long long)s->msr_gp);
}
