// SPDX-License-Identifier: MIT
/* Creating and destroying the VM: RAM, loaded image, tidal's pages, vCPU. */
#include "vmm/vm.h"
#include "vmm/apicv.h"
#include "vmm/intr.h"
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

/* Detect the image's format and check it; one line when it is refused. */
static int parse_image(struct vm *vm, const void *file, size_t size,
		       struct guest_image *gi)
{
	struct elf_limits tl = guest_elf_limits(vm->mem_bytes);
	struct elf_limits pl = pc_elf_limits(vm->mem_bytes);
	enum fmt_error err = guest_image_parse(file, size, &tl, &pl, gi);

	vm->img = gi->elf;
	vm->img.entry = gi->entry;
	vm->format = gi->fmt;
	if (err == FMT_E_ELF) {
		printk("tidal: guest: ELF rejected: %s",
		       elf_strerror(gi->elf_err));
		if (gi->elf.bad_phdr >= 0)
			printk(" (program header %d)", gi->elf.bad_phdr);
		printk("\n");
		return -1;
	}
	if (err) {
		printk("tidal: guest: image refused: %s\n", fmt_strerror(err));
		return -1;
	}
	if ((gi->fmt != GUEST_FMT_TIDAL || vm->img.bits == 32) &&
	    !vmx_caps.unrestricted) {
		printk("tidal: guest: 32-bit guests start with paging off, "
		       "which needs VMX unrestricted guest: this CPU lacks "
		       "it\n");
		return -1;
	}
	return 0;
}

/* A multiboot or PVH guest: the PC layout, then tidal's GDT and TSS. */
static int pc_setup(struct vm *vm, const struct guest_image *gi,
		    const char *cmdline, const struct pc_module *mods,
		    unsigned int nmods, uint32_t si_flags, const char **why)
{
	struct pc_boot_config cfg = {vm->mem_bytes, vm->nr_vcpus, cmdline, mods,
				     nmods};
	struct elf_image img32 = vm->img;

	/* Both protocols start in 32-bit protected mode, paging off. */
	img32.bits = 32;
	if (guest_layout_build(vm->ram, pc_low_top(vm->mem_bytes), &img32, NULL,
			       tsc_hz() / 1000, si_flags, &vm->layout, why))
		return -1;
	if (pc_boot_build(vm->ram, &cfg, gi, &vm->pc, why))
		return -1;
	vm->layout.start_info_gpa = vm->pc.start_gpa;
	vm->layout.boot_magic = vm->pc.boot_magic;
	return 0;
}

static void print_loaded(struct vm *vm, unsigned int nmods)
{
	if (vm->format == GUEST_FMT_TIDAL)
		printk("tidal: guest: ELF%u entry %llx, %u segments "
		       "%llx-%llx, ",
		       vm->img.bits, (unsigned long long)vm->img.entry,
		       vm->img.nsegs, (unsigned long long)vm->img.lo,
		       (unsigned long long)vm->img.hi);
	else
		printk("tidal: guest: %s kernel (ELF%u), entry %llx, %u "
		       "segments %llx-%llx, %u modules, ACPI RSDP at %llx, ",
		       guest_format_name(vm->format), vm->img.bits,
		       (unsigned long long)vm->img.entry, vm->img.nsegs,
		       (unsigned long long)vm->img.lo,
		       (unsigned long long)vm->img.hi, nmods,
		       (unsigned long long)vm->pc.rsdp_gpa);
	printk("%llu MiB RAM at host %llx\n",
	       (unsigned long long)(vm->mem_bytes >> 20),
	       (unsigned long long)vm->ram_pa);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, const void *elf,
	      size_t elf_size, const char *cmdline)
{
	uint64_t mem = cfg->mem_bytes, timeout_ns = cfg->timeout_ns;
	uint32_t si_flags = timeout_ns ? TIDAL_SI_TIME_LIMIT : 0;
	struct guest_image gi;
	const char *why = NULL;
	int r;

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
	if (parse_image(vm, elf, elf_size, &gi))
		return -1;
	if (cfg->nmods && vm->format == GUEST_FMT_TIDAL)
		printk("tidal: guest: a tidal ELF guest takes no modules: "
		       "%u ignored\n",
		       cfg->nmods);
	if (alloc_ram(vm))
		return -1;
	testdev_register(&vm->mmio, &vm->testdev);
	u16550_init(&vm->uart);
	if (legacy_init(vm)) {
		printk("tidal: guest: no room for the I/O APIC window\n");
		goto fail;
	}
	intr_vm_init(vm); /* local APICs; PC guests' APs wait for SIPI */
	vm->kick_nmi = vcpu_kick_nmi_ready();
	if (vm->format == GUEST_FMT_TIDAL)
		r = guest_layout_build(vm->ram, mem, &vm->img, cmdline,
				       tsc_hz() / 1000, si_flags, &vm->layout,
				       &why);
	else
		r = pc_setup(vm, &gi, cmdline, cfg->mods, cfg->nmods, si_flags,
			     &why);
	if (r) {
		printk("tidal: guest: %s\n", why);
		goto fail;
	}
	if (vm->format == GUEST_FMT_TIDAL)
		((struct tidal_start_info *)((char *)vm->ram +
					     vm->layout.start_info_gpa))
			->nr_vcpus = vm->nr_vcpus;
	elf_load(&vm->img, elf, vm->ram);
	print_loaded(vm, cfg->nmods);
	if (vm_mem_init(vm) || apicv_vm_init(vm, cfg->apic))
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
	apicv_vm_destroy(vm);
	if (vm->ram_pa) {
		frame_free_run(vm->ram_pa, vm->mem_bytes / PAGE_SIZE);
		vm->ram_pa = 0;
		vm->ram = NULL;
	}
}
