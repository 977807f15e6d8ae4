// SPDX-License-Identifier: MIT
/*
 * APIC virtualization (vmm/apicv.h).  Facts from the Intel SDM, volume
 * 3, chapter "APIC Virtualization and Virtual Interrupts".
 *
 * Where the state lives: every local APIC register is in the vCPU's
 * virtual-APIC page (vlapic.regs points there), in both directions: the
 * CPU updates VTPR, VIRR/VISR (virtual-interrupt delivery, EOI
 * virtualization) and VPPR in it while the guest runs, and vlapic.c reads
 * and writes the same words (the timer, the ICR, INIT/SIPI, the gdb stub
 * and the summaries).  Other CPUs set IRR bits in an inbox beside it,
 * moved to the page before each entry (vlapic_sync_irr): the CPU's own
 * updates of VIRR while the guest runs are not atomic with theirs.  RVI and SVI
 * in the VMCS are derived: rewritten from the page's IRR/ISR before every
 * entry, so a vector set by another CPU (which kicks this one) or an EOI that
 * tidal emulated is seen.
 *
 * The APIC-access page is one host page per VM, zero, never written:
 * EPT maps it at 0xFEE00000 through a private memslot so that guest
 * accesses there are intercepted by the CPU (virtualized, or an
 * APIC-access exit).  It is not guest RAM: the emulator and hypercalls
 * reach guest memory through vm->ram only, and the slot's id is outside
 * the range the memctl hypercalls may name.  A vCPU in x2APIC mode runs
 * with "virtualize x2APIC mode" instead, where the CPU would let the
 * guest reach the page as memory: while any vCPU is in x2APIC mode the
 * memslot is deleted (EPT entries zapped, TLBs flushed), so an access
 * there is an EPT violation and goes to the MMIO emulation.
 */
#include "vmm/apicv.h"
#include "vmm/emulate.h"
#include "vmm/intr.h"
#include "vmm/irq.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/memslot.h"
#include "mm/paging.h"

/* Private memslot id: memctl guests name slots 1..TIDAL_MEM_SLOT_MAX. */
#define APIC_ACCESS_SLOT_ID 0xfe00

/* APIC-access exit qualification: page offset, access type. */
#define ACCESS_OFFSET(q) ((uint32_t)(q)&0xfff)
#define ACCESS_TYPE(q)	 ((unsigned int)((q) >> 12) & 0xf)
enum { ACCESS_READ = 0, ACCESS_WRITE = 1 };

/* The x2APIC MSR bitmap, shared by every vCPU in x2APIC mode. */
static phys_addr_t x2apic_bitmap_pa;

/* What the CPU lacks for tidal's APICv, or NULL. */
static const char *missing_feature(void)
{
	const struct vmx_caps *c = &vmx_caps;

	if (!c->tpr_shadow)
		return "the CPU lacks the TPR shadow";
	if (!c->virt_apic_access)
		return "the CPU lacks APIC-access virtualization";
	if (!c->apic_reg_virt)
		return "the CPU lacks APIC-register virtualization";
	if (!c->virt_intr)
		return "the CPU lacks virtual-interrupt delivery";
	if (!c->cr8_exits_optional)
		return "the CPU forces CR8 exiting";
	return NULL;
}

static bool x2apic_virtualizable(void)
{
	return vmx_caps.virt_x2apic && vmx_caps.msr_bitmaps;
}

/* Every MSR exits, but the x2APIC ones the CPU serves (vlapic.h). */
static int build_x2apic_bitmap(void)
{
	uint8_t *bm;

	if (x2apic_bitmap_pa)
		return 0;
	x2apic_bitmap_pa = frame_alloc();
	if (!x2apic_bitmap_pa)
		return -1;
	bm = phys_to_virt(x2apic_bitmap_pa);
	memset(bm, 0xff, PAGE_SIZE);
	/* Reads of MSRs 0-1FFF at byte 0, writes at byte 2048. */
	for (uint32_t msr = 0x800; msr <= 0x8ff; msr++) {
		if (vlapic_x2apic_read_direct(msr))
			bm[msr / 8] &= (uint8_t) ~(1u << (msr % 8));
		if (vlapic_x2apic_write_direct(msr))
			bm[2048 + msr / 8] &= (uint8_t) ~(1u << (msr % 8));
	}
	return 0;
}

static int map_access_page(struct vm *vm)
{
	int err =
		memslot_create(vm->mmu, APIC_ACCESS_SLOT_ID, VLAPIC_BASE_GPA,
			       PAGE_SIZE, vm->apicv.access_pa, MEMSLOT_NO_HUGE);

	vm->apicv.access_mapped = !err;
	return err;
}

static void unmap_access_page(struct vm *vm)
{
	if (vm->apicv.access_mapped &&
	    !memslot_delete(vm->mmu, APIC_ACCESS_SLOT_ID))
		vm->apicv.access_mapped = false;
}

/* Why this VM cannot use APICv even though the CPU can, or NULL. */
static const char *vm_obstacle(struct vm *vm)
{
	if (vm->protected)
		return "a protected VM (the guard owns its EPT)";
	if (vm->mem_bytes > VLAPIC_BASE_GPA && vm->format == GUEST_FMT_TIDAL)
		return "guest RAM covers the xAPIC page";
	return NULL;
}

static int alloc_pages(struct vm *vm)
{
	struct vm_apicv *a = &vm->apicv;

	if (build_x2apic_bitmap())
		return -1;
	a->access_pa = frame_alloc();
	if (!a->access_pa)
		return -1;
	memset(phys_to_virt(a->access_pa), 0, PAGE_SIZE);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vapic_pa = frame_alloc();
		if (!v->vapic_pa)
			return -1;
		memset(phys_to_virt(v->vapic_pa), 0, PAGE_SIZE);
		vlapic_attach_regs(&v->lapic, phys_to_virt(v->vapic_pa));
	}
	return 0;
}

int apicv_vm_init(struct vm *vm, enum apic_mode mode)
{
	struct vm_apicv *a = &vm->apicv;
	const char *why;

	spin_lock_init(&a->lock);
	if (mode == APIC_MODE_EMULATE) {
		a->why_not = "apic=emulate";
		return 0;
	}
	why = missing_feature();
	if (!why)
		why = vm_obstacle(vm);
	if (why) {
		if (mode == APIC_MODE_VIRTUALIZE) {
			printk("tidal: apic=virtualize is not possible: %s\n",
			       why);
			return -1;
		}
		a->why_not = why;
		return 0;
	}
	if (alloc_pages(vm) || map_access_page(vm)) {
		printk("tidal: vm: no memory (or no room at %x) for APIC "
		       "virtualization\n",
		       VLAPIC_BASE_GPA);
		apicv_vm_destroy(vm);
		return -1;
	}
	a->on = true;
	return 0;
}

void apicv_vm_destroy(struct vm *vm)
{
	/* The memslot went with the MMU (vm_mem_destroy), or never was. */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->vapic_pa) {
			v->lapic.regs = v->lapic.own;
			frame_free(v->vapic_pa);
			v->vapic_pa = 0;
		}
	}
	if (vm->apicv.access_pa) {
		frame_free(vm->apicv.access_pa);
		vm->apicv.access_pa = 0;
	}
	vm->apicv.on = false;
}

int apicv_vmcs_init(struct vcpu *v)
{
	uint64_t proc, proc2;
	int err = 0;

	if (!v->vm->apicv.on)
		return 0;
	/* CR8 goes to the TPR shadow, no longer to an exit or the CPU. */
	proc = (vmread(VMCS_PROC_CONTROLS) | PROC_TPR_SHADOW) &
	       ~(uint64_t)(PROC_CR8_LOAD | PROC_CR8_STORE);
	proc2 = vmread(VMCS_PROC2_CONTROLS) | PROC2_VIRT_APIC | PROC2_APIC_REG |
		PROC2_VINTR;
	err |= vmwrite(VMCS_PROC_CONTROLS, proc);
	err |= vmwrite(VMCS_PROC2_CONTROLS, proc2);
	err |= vmwrite(VMCS_VIRTUAL_APIC_ADDR, v->vapic_pa);
	err |= vmwrite(VMCS_APIC_ACCESS_ADDR, v->vm->apicv.access_pa);
	/* With virtual-interrupt delivery the threshold is not used. */
	err |= vmwrite(VMCS_TPR_THRESHOLD, 0);
	err |= vmwrite(VMCS_GUEST_INTR_STATUS, 0);
	for (int i = 0; i < 4; i++) {
		err |= vmwrite(VMCS_EOI_EXIT0 + 2 * (uint32_t)i, 0);
		v->eoi_exit[i] = 0;
	}
	if (x2apic_virtualizable())
		err |= vmwrite(VMCS_MSR_BITMAP, x2apic_bitmap_pa);
	v->x2apic_virt = false;
	return err ? -1 : 0;
}

/* One more or one less vCPU in x2APIC mode: the page's mapping follows. */
static void count_x2apic(struct vm *vm, bool more)
{
	struct vm_apicv *a = &vm->apicv;

	spin_lock(&a->lock);
	if (more)
		a->x2apic_vcpus++;
	else if (a->x2apic_vcpus)
		a->x2apic_vcpus--;
	if (a->x2apic_vcpus)
		unmap_access_page(vm);
	else if (!a->access_mapped && map_access_page(vm))
		printk("tidal: vm: the APIC-access page could not be mapped "
		       "again: xAPIC accesses are emulated from now on\n");
	spin_unlock(&a->lock);
}

void apicv_base_changed(struct vcpu *v)
{
	bool x2 = vlapic_x2apic(&v->lapic) && x2apic_virtualizable();
	uint64_t proc, proc2;

	if (!v->vm->apicv.on || x2 == v->x2apic_virt)
		return;
	/* The two modes exclude each other (SDM: VM-entry checks). */
	proc = vmread(VMCS_PROC_CONTROLS);
	proc2 = vmread(VMCS_PROC2_CONTROLS);
	if (x2) {
		proc |= PROC_MSR_BITMAPS;
		proc2 = (proc2 | PROC2_X2APIC) & ~(uint64_t)PROC2_VIRT_APIC;
	} else {
		proc &= ~(uint64_t)PROC_MSR_BITMAPS;
		proc2 = (proc2 | PROC2_VIRT_APIC) & ~(uint64_t)PROC2_X2APIC;
	}
	if (x2)
		count_x2apic(v->vm, true); /* unmapped before the entry */
	vmwrite(VMCS_PROC_CONTROLS, proc);
	vmwrite(VMCS_PROC2_CONTROLS, proc2);
	v->x2apic_virt = x2;
	if (!x2)
		count_x2apic(v->vm, false);
}

void apicv_prepare_entry(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	int irr, isr;
	uint64_t eoi[4];

	/* The CPU owns the page once we enter. */
	v->stats.virt_intr += vlapic_sync_irr(l);
	/* RVI/SVI as the CPU left them still hold unless tidal changed IRR,
	 * ISR, TMR or SVR (the per-entry cost is then a few loads). */
	if (!l->dirty)
		return;
	l->dirty = false;
	irr = vlapic_sw_enabled(l) ? vlapic_highest_irr(l) : -1;
	isr = vlapic_highest_isr(l);

	vmwrite(VMCS_GUEST_INTR_STATUS, (uint64_t)(isr < 0 ? 0 : isr) << 8 |
						(uint64_t)(irr < 0 ? 0 : irr));
	vlapic_eoi_exit_bitmap(l, eoi);
	for (int i = 0; i < 4; i++) {
		if (eoi[i] == v->eoi_exit[i])
			continue;
		vmwrite(VMCS_EOI_EXIT0 + 2 * (uint32_t)i, eoi[i]);
		v->eoi_exit[i] = eoi[i];
	}
}

void apicv_describe(struct vm *vm, char *buf, size_t len)
{
	if (!vm->apicv.on) {
		ksnprintf(buf, len, "APIC virtualization not used: %s",
			  vm->apicv.why_not ? vm->apicv.why_not
					    : "the CPU offers none");
		return;
	}
	ksnprintf(buf, len,
		  "APIC virtualization: TPR shadow, APIC-access page, "
		  "APIC-register virtualization, virtual-interrupt delivery, "
		  "%s; posted interrupts %s",
		  x2apic_virtualizable() ? "x2APIC mode virtualized"
					 : "x2APIC MSRs emulated",
		  vmx_caps.posted_intr ? "offered, not used" : "not offered");
}

/*
 * An access the CPU does not virtualize (a register it does not keep,
 * another width, a read-only register's write): the instruction
 * emulator does it against the vLAPIC, as without APICv.
 */
enum exit_action apicv_handle_access(struct vcpu *v)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned int type = ACCESS_TYPE(qual);
	uint64_t gpa = VLAPIC_BASE_GPA + ACCESS_OFFSET(qual);

	v->stats.apic_access++;
	if (type != ACCESS_READ && type != ACCESS_WRITE) {
		vm_stop(v->vm,
			"guest used its xAPIC page at offset %x other than "
			"by a data access (APIC-access type %u) at RIP %llx",
			ACCESS_OFFSET(qual), type,
			(unsigned long long)vmread(VMCS_GUEST_RIP));
		return EXIT_STOP;
	}
	/* As an EPT violation would say it: bit 0 read, bit 1 write. */
	emulate_mmio(v, gpa, type == ACCESS_WRITE ? BIT(1) : BIT(0));
	return v->vm->state == VM_STOPPED ? EXIT_STOP : EXIT_RESUME;
}

/* Trap-like: the CPU stored the value and moved on; tidal applies it. */
enum exit_action apicv_handle_write(struct vcpu *v)
{
	uint32_t off = ACCESS_OFFSET(vmread(VMCS_EXIT_QUALIFICATION));
	struct vlapic_effect e;

	v->stats.apic_write++;
	if (off & 0xf)
		return EXIT_RESUME; /* not a register's start: nothing */
	vlapic_apic_write(&v->lapic, off, rdtsc(), &e);
	intr_apply_effect(v, &e);
	return EXIT_RESUME;
}

/* The CPU did the EOI; a level-triggered vector goes to the I/O APIC. */
enum exit_action apicv_handle_eoi(struct vcpu *v)
{
	int vec = (int)(vmread(VMCS_EXIT_QUALIFICATION) & 0xff);
	struct vlapic_effect e = {
		.eoi_level_vec = vlapic_virtual_eoi(&v->lapic, vec),
	};

	v->stats.virt_eoi++;
	intr_apply_effect(v, &e);
	return EXIT_RESUME;
}
