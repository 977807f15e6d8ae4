// SPDX-License-Identifier: MIT
/* Creating and destroying the VM: RAM, loaded image, tidal's pages, vCPU. */
#include "vmm/vm.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

/* Guest RAM is one host run aligned for the largest EPT page we may use. */
static uint64_t ram_alignment(uint64_t mem)
{
	if (vmx_caps.ept_1g && mem >= GiB)
		return GiB;
	return 2 * MiB;
}

static int alloc_ram(struct vm *vm)
{
	uint64_t align = ram_alignment(vm->mem_bytes);
	size_t frames = vm->mem_bytes / PAGE_SIZE;

	vm->ram_pa = frame_alloc_run(frames, align, 0);
	if (!vm->ram_pa && align > 2 * MiB)
		vm->ram_pa = frame_alloc_run(frames, 2 * MiB, 0);
	if (!vm->ram_pa) {
		pr_err("tidal: vm: cannot allocate %llu MiB of guest RAM "
		       "(try a smaller mem=)\n",
		       (unsigned long long)(vm->mem_bytes >> 20));
		return -1;
	}
	if (vm->ram_pa + vm->mem_bytes > paging_direct_map_end()) {
		pr_err("tidal: vm: guest RAM lies beyond the direct map\n");
		frame_free_run(vm->ram_pa, frames);
		vm->ram_pa = 0;
		return -1;
	}
	vm->ram = phys_to_virt(vm->ram_pa);
	/* Whatever these frames held before is not the guest's to see. */
	memset(vm->ram, 0, vm->mem_bytes);
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, const void *elf,
	      size_t elf_size, const char *cmdline)
{
	uint64_t mem = cfg->mem_bytes, timeout_ns = cfg->timeout_ns;
	struct elf_limits lim = guest_elf_limits(mem);
	enum elf_error eerr;
	const char *why = NULL;

	memset(vm, 0, sizeof(*vm));
	vm->mem_bytes = mem;
	vm->timeout_ns = timeout_ns;
	vm->nr_vcpus = cfg->nr_vcpus;
	spin_lock_init(&vm->dev_lock);
	vm->debug = cfg->debug;
	for (unsigned int i = 0; i < VM_MAX_VCPUS; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].index = i;
		vm->vcpus[i].cpu = i;
	}
	vm->protected = cmdline_has(cmdline, "protected");
	vm->memctl = cmdline_has(cmdline, "memctl");
	eerr = elf_parse(elf, elf_size, &lim, &vm->img);
	if (eerr) {
		printk("tidal: guest: ELF rejected: %s", elf_strerror(eerr));
		if (vm->img.bad_phdr >= 0)
			printk(" (program header %d)", vm->img.bad_phdr);
		printk("\n");
		return -1;
	}
	if (vm->img.bits == 32 && !vmx_caps.unrestricted) {
		printk("tidal: guest: 32-bit guests start with paging off, "
		       "which needs VMX unrestricted guest: this CPU lacks "
		       "it\n");
		return -1;
	}
	if (alloc_ram(vm))
		return -1;
	testdev_register(&vm->mmio, &vm->testdev);
	if (guest_layout_build(vm->ram, mem, &vm->img, cmdline, tsc_hz() / 1000,
			       timeout_ns ? TIDAL_SI_TIME_LIMIT : 0,
			       &vm->layout, &why)) {
		printk("tidal: guest: %s\n", why);
		goto fail;
	}
	((struct tidal_start_info *)((char *)vm->ram +
				     vm->layout.start_info_gpa))
		->nr_vcpus = vm->nr_vcpus;
	elf_load(&vm->img, elf, vm->ram);
	printk("tidal: guest: ELF%u entry %llx, %u segments %llx-%llx, "
	       "%llu MiB RAM at host %llx\n",
	       vm->img.bits, (unsigned long long)vm->img.entry, vm->img.nsegs,
	       (unsigned long long)vm->img.lo, (unsigned long long)vm->img.hi,
	       (unsigned long long)(mem >> 20), (unsigned long long)vm->ram_pa);
	if (vm_mem_init(vm))
		goto fail;
	if (vcpu_vmcs_init(&vm->vcpus[0]))
		goto fail;
	return 0;
fail:
	vm_destroy(vm);
	return -1;
}

void vm_destroy(struct vm *vm)
{
	/* The other vCPUs freed their VMCS on their own CPUs (vcpu.c). */
	vcpu_vmcs_free(&vm->vcpus[0]);
	vm_mem_destroy(vm);
	if (vm->ram_pa) {
		frame_free_run(vm->ram_pa, vm->mem_bytes / PAGE_SIZE);
		vm->ram_pa = 0;
		vm->ram = NULL;
	}
}
