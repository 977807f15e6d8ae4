// SPDX-License-Identifier: MIT
/*
 * Guest memory through the TDP MMU: one memslot for guest RAM, each
 * vCPU's EPTP taken from its TDP MMU root, and EPT violations handed to
 * the fault path.  The MMU's flush and reload calls become vCPU requests
 * and kicks (request.c).
 */
#include "vmm/vm.h"
#include "vmm/request.h"
#include "arch/x86/ept.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/ebr.h"
#include "lib/printf.h"
#include "mm/guard.h"
#include "mm/memslot.h"
#include "mm/tdp/tdp_mmu.h"
#include "vmm/pc.h"

#define RAM_SLOT_ID	 0
#define RAM_HIGH_SLOT_ID 1

/* Frame ownership shared by every protected VM. */
static struct guard_registry *registry;

/*
 * A protected VM: a guard owns the EPT the CPU walks and is given the
 * guest's RAM; the MMU keeps a mirror and forwards every change to it.
 */
static int protected_init(struct vm *vm)
{
	struct guard_config cfg = {
		.levels = 4,
		.max_leaf = vmx_caps.ept_1g ? GUARD_LEVEL_1G : GUARD_LEVEL_2M,
	};
	int err;

	if (!registry && (err = guard_registry_create(&registry)))
		goto fail;
	if ((err = guard_create(registry, &cfg, &vm->guard)))
		goto fail;
	/* The RAM holds the loaded image: not zero, scrub it on release. */
	err = guard_add_memory(vm->guard, vm->ram_pa >> PAGE_SHIFT,
			       vm->mem_bytes >> PAGE_SHIFT, 0);
	if (err)
		goto fail;
	vm->mmu = tdp_mmu_create_protected(vm, vm->guard);
	if (!vm->mmu) {
		err = GUARD_E_NOMEM;
		goto fail;
	}
	printk("tidal: vm: protected: EPT owned by the guard, MMU on a "
	       "mirror root\n");
	return 0;
fail:
	pr_err("tidal: vm: protected VM refused: %s\n", guard_strerror(err));
	guard_destroy(vm->guard);
	vm->guard = NULL;
	return -1;
}

/* Guest RAM from GPA 0: all of it, or a PC guest's up to the MMIO window. */
static uint64_t ram_below_mmio(struct vm *vm)
{
	if (vm->format == GUEST_FMT_TIDAL)
		return vm->mem_bytes;
	return pc_low_top(vm->mem_bytes);
}

/*
 * Guest RAM: one slot from GPA 0.  A PC guest's RAM stops at the MMIO
 * window below 4 GiB; the rest of the same host run continues at 4 GiB.
 */
static int ram_slots_create(struct vm *vm)
{
	uint64_t low = ram_below_mmio(vm);
	int err = memslot_create(vm->mmu, RAM_SLOT_ID, 0, low, vm->ram_pa, 0);

	if (!err && low < vm->mem_bytes)
		err = memslot_create(vm->mmu, RAM_HIGH_SLOT_ID,
				     PC_HIGH_RAM_BASE, vm->mem_bytes - low,
				     vm->ram_pa + low, 0);
	return err;
}

int vm_mem_init(struct vm *vm)
{
	int err;

	if (vm->protected) {
		if (protected_init(vm))
			return -1;
	} else {
		vm->mmu = tdp_mmu_create(vm);
	}
	if (!vm->mmu) {
		pr_err("tidal: vm: no memory for the TDP MMU\n");
		return -1;
	}
	/* Huge leaves only as large as EPT allows on this CPU. */
	vm->mmu->max_huge_level = vmx_caps.ept_1g ? 3 : vmx_caps.ept_2m ? 2 : 1;
	err = ram_slots_create(vm);
	if (err) {
		pr_err("tidal: vm: memslot for guest RAM refused (error %d)\n",
		       err);
		tdp_mmu_destroy(vm->mmu);
		vm->mmu = NULL;
		guard_destroy(vm->guard);
		vm->guard = NULL;
		return -1;
	}
	return 0;
}

/* The guard's view at the end, for the summary and the boot test. */
static void protected_report(struct vm *vm)
{
	struct guard_stats gs;

	guard_get_stats(vm->guard, &gs);
	printk("tidal: guard: %llu link, %llu set, %llu remove, %llu free "
	       "requests; %llu refused; %llu leaves, %llu frames mapped, "
	       "%llu tables after teardown\n",
	       (unsigned long long)gs.done[GUARD_CALL_LINK_TABLE],
	       (unsigned long long)gs.done[GUARD_CALL_SET_LEAF],
	       (unsigned long long)gs.done[GUARD_CALL_REMOVE_LEAF],
	       (unsigned long long)gs.done[GUARD_CALL_FREE_TABLE],
	       (unsigned long long)(gs.calls[GUARD_CALL_LINK_TABLE] +
				    gs.calls[GUARD_CALL_SET_LEAF] +
				    gs.calls[GUARD_CALL_REMOVE_LEAF] +
				    gs.calls[GUARD_CALL_FREE_TABLE] -
				    gs.done[GUARD_CALL_LINK_TABLE] -
				    gs.done[GUARD_CALL_SET_LEAF] -
				    gs.done[GUARD_CALL_REMOVE_LEAF] -
				    gs.done[GUARD_CALL_FREE_TABLE]),
	       (unsigned long long)gs.leaves_live,
	       (unsigned long long)gs.frames_mapped,
	       (unsigned long long)gs.tables_live);
}

void vm_mem_destroy(struct vm *vm)
{
	if (!vm->mmu)
		return;
	for (unsigned int i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->root) {
			tdp_mmu_put_root(vm->mmu, v->root);
			v->root = NULL;
		}
	}
	tdp_mmu_destroy(vm->mmu);
	vm->mmu = NULL;
	if (vm->guard) {
		/* No vCPU runs any more: the guard scrubs the guest's RAM. */
		protected_report(vm);
		guard_destroy(vm->guard);
		vm->guard = NULL;
	}
}

int vm_mem_load_root(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct tdp_root *root;

	if (v->root && tdp_root_is_valid(v->root))
		return 0;
	/* An invalid root is never reused: drop it and take the current one. */
	if (v->root) {
		tdp_mmu_put_root(vm->mmu, v->root);
		v->root = NULL;
	}
	root = tdp_mmu_get_root(vm->mmu, tdp_mmu_vcpu_role(vm->mmu));
	if (!root)
		return -1;
	v->root = root;
	/* A mirror root is never walked: the CPU gets the guard's EPT. */
	v->eptp = vm->protected ? tdp_mmu_eptp(vm->mmu, root)
				: ept_root_eptp(root);
	if (vmwrite(VMCS_EPT_POINTER, v->eptp))
		return -1;
	/* Nothing cached for this EPTP may survive from an older tree. */
	ept_flush(v->eptp);
	return 0;
}

enum mem_fault vm_mem_fault(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	uint64_t access = 0;
	int r;

	if (qual & BIT(0))
		access |= TDP_ACC_READ;
	if (qual & BIT(1))
		access |= TDP_ACC_WRITE;
	if (qual & BIT(2))
		access |= TDP_ACC_EXEC;
	r = tdp_map(v->vm->mmu, v->root, gpa, access);
	switch (r) {
	case TDP_MAP_OK:
		return MEM_FAULT_FIXED;
	case TDP_MAP_RETRY:
		return MEM_FAULT_RETRY;
	case TDP_MAP_READONLY:
		return MEM_FAULT_READONLY;
	case -ENOMEM:
		return MEM_FAULT_NOMEM;
	case -EIO:
		return MEM_FAULT_BUGGED;
	default: /* no slot, or beyond the guest-physical width */
		return MEM_FAULT_NOSLOT;
	}
}

int vm_mem_prefault(struct vm *vm)
{
	/* A PC guest's RAM above 4 GiB is left to faults. */
	uint64_t low = ram_below_mmio(vm);
	uint64_t gfn = 0, npages = low >> PAGE_SHIFT;
	struct tdp_root *root = NULL;
	int tries = 0;
	long r;

	/* A mirror root maps through the guard fault by fault (mm/tdp/mirror.c). */
	if (vm->protected) {
		printk("tidal: vm: prefault: not available for protected VMs; "
		       "faults will map guest RAM\n");
		return -1;
	}
	while (gfn < npages) {
		if (!root)
			root = tdp_mmu_get_root(vm->mmu, TDP_ROLE_DEFAULT);
		if (!root) {
			r = -ENOMEM;
			break;
		}
		r = tdp_mmu_prefault(vm->mmu, root, gfn, npages - gfn);
		if (r > 0) {
			gfn += (uint64_t)r;
			continue;
		}
		/* Roots or slots changed under us: a fresh root, a few times. */
		if (r != -EAGAIN || ++tries > 3)
			break;
		tdp_mmu_put_root(vm->mmu, root);
		root = NULL;
	}
	/* The VM's root list keeps the root for the vCPU to pick up. */
	if (root)
		tdp_mmu_put_root(vm->mmu, root);
	if (gfn < npages) {
		pr_err("tidal: vm: prefault stopped at %llu MiB of %llu "
		       "(error %ld): faults will map the rest\n",
		       (unsigned long long)(gfn >> (20 - PAGE_SHIFT)),
		       (unsigned long long)(npages >> (20 - PAGE_SHIFT)), r);
		return -1;
	}
	printk("tidal: vm: prefault: %llu MiB of guest RAM mapped\n",
	       (unsigned long long)(npages >> (20 - PAGE_SHIFT)));
	return 0;
}

void vm_mem_counts(struct vm *vm, struct vm_mem_counts *c)
{
	struct tdp_mmu_stats s;

	*c = (struct vm_mem_counts){0};
	if (!vm->mmu)
		return;
	tdp_mmu_get_stats(vm->mmu, &s);
	for (int level = 1; level <= 3; level++)
		c->mapped[level - 1] = s.leaves[level];
	for (int level = 1; level <= TDP_MAX_LEVEL; level++)
		c->pt_pages += s.pt_pages[level];
	c->flush_req = s.flush_requests;
	c->flush_done = s.flushes;
	c->flush_avoided = s.flushes_avoided;
}

void vm_mem_dump_walk(struct vm *vm, uint64_t gpa)
{
	struct tdp_root *root = vm->vcpus[0].root;
	uint64_t gfn = gpa >> PAGE_SHIFT;
	spte_t *table;

	if (!root) {
		printk("tidal: ept: no root loaded\n");
		return;
	}
	ebr_read_lock();
	table = root->spt;
	for (int level = TDP_ROOT_LEVEL; level >= 1; level--) {
		unsigned int idx = tdp_spte_index(gfn, level);
		spte_t s = __atomic_load_n(&table[idx], __ATOMIC_ACQUIRE);

		printk("tidal: ept:   level %d index %3u entry %016llx%s\n",
		       level, idx, (unsigned long long)s,
		       spte_is_leaf(s, level) ? " (leaf)" : "");
		if (!spte_is_table(s, level))
			break;
		table = platform_phys_to_virt(spte_phys(s));
	}
	ebr_read_unlock();
}

/* The MMU's calls (lib/platform.h): requests and kicks (request.c). */
void platform_flush_guest_tlbs(void *owner)
{
	vm_flush_tlbs(owner);
}

void platform_reload_guest_roots(void *owner)
{
	vm_reload_roots(owner);
}
