// SPDX-License-Identifier: MIT
/*
 * The hypervisor side of the instruction emulator: the guest state comes
 * from the VMCS, guest-physical accesses go to guest RAM or to a
 * registered MMIO region, ports to the devices of devices.c, and the
 * outcome goes back into the VMCS (registers and RIP, or an injected
 * fault, or a VM stop naming the instruction bytes).
 *
 * Two entries: an EPT violation on a GPA without a memslot but inside an
 * MMIO region (exit.c), and INS/OUTS (devices.c).
 */
#include "vmm/exits.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/emulate.h"

#define NO_GPA (~0ull)

static int ram_span(const struct vm *vm, uint64_t gpa, unsigned int len)
{
	return gpa < vm->mem_bytes && len <= vm->mem_bytes - gpa;
}

/* RAM first, then the MMIO region that holds the whole access. */
static int phys_access(struct vcpu *v, uint64_t gpa, void *buf,
		       unsigned int len, bool device_ok, bool write)
{
	struct vm *vm = v->vm;
	const struct mmio_region *r;
	int ret;

	if (ram_span(vm, gpa, len)) {
		if (write)
			memcpy((uint8_t *)vm->ram + gpa, buf, len);
		else
			memcpy(buf, (uint8_t *)vm->ram + gpa, len);
		return EMU_OP_OK;
	}
	r = device_ok ? mmio_find(&vm->mmio, gpa, len) : NULL;
	if (!r)
		return EMU_OP_NONE;
	v->stats.mmio_accesses++;
	/* Devices are shared by the VM's vCPUs. */
	spin_lock(&vm->dev_lock);
	ret = write ? r->write(r->dev, gpa - r->base, buf, len)
		    : r->read(r->dev, gpa - r->base, buf, len);
	spin_unlock(&vm->dev_lock);
	return ret;
}

static int op_read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int len,
			bool device_ok)
{
	return phys_access(ctx, gpa, buf, len, device_ok, false);
}

static int op_write_phys(void *ctx, uint64_t gpa, const void *buf,
			 unsigned int len, bool device_ok)
{
	return phys_access(ctx, gpa, (void *)buf, len, device_ok, true);
}

static int op_port_in(void *ctx, uint16_t port, unsigned int size,
		      uint32_t *val)
{
	struct vm *vm = ((struct vcpu *)ctx)->vm;

	*val = devices_port_io(vm, port, size, true, 0);
	return vm->state == VM_RUNNING ? EMU_OP_OK : EMU_OP_STOP;
}

static int op_port_out(void *ctx, uint16_t port, unsigned int size,
		       uint32_t val)
{
	struct vm *vm = ((struct vcpu *)ctx)->vm;

	devices_port_io(vm, port, size, false, val);
	return vm->state == VM_RUNNING ? EMU_OP_OK : EMU_OP_STOP;
}

static unsigned int maxphyaddr(void)
{
	static unsigned int bits;

	if (!bits)
		bits = cpuid_max_leaf(0x80000000u) >= 0x80000008u
			       ? cpuid(0x80000008u).eax & 0xff
			       : 36;
	return bits;
}

static void load_state(struct vcpu *v, struct emu_state *st)
{
	const struct guest_regs *r = &v->regs;

	memset(st, 0, sizeof(*st));
	st->gpr[EMU_RAX] = r->rax;
	st->gpr[EMU_RCX] = r->rcx;
	st->gpr[EMU_RDX] = r->rdx;
	st->gpr[EMU_RBX] = r->rbx;
	st->gpr[EMU_RSP] = vmread(VMCS_GUEST_RSP);
	st->gpr[EMU_RBP] = r->rbp;
	st->gpr[EMU_RSI] = r->rsi;
	st->gpr[EMU_RDI] = r->rdi;
	memcpy(&st->gpr[8], &r->r8, 8 * sizeof(uint64_t));
	st->rip = vmread(VMCS_GUEST_RIP);
	st->rflags = vmread(VMCS_GUEST_RFLAGS);
	/* What the CPU walks with (the shadows only differ in fixed bits). */
	st->cr0 = vmread(VMCS_GUEST_CR0);
	st->cr3 = vmread(VMCS_GUEST_CR3);
	st->cr4 = vmread(VMCS_GUEST_CR4);
	st->efer = vmread(VMCS_GUEST_EFER);
	if ((st->cr4 & X86_CR4_PAE) && !(st->efer & EFER_LMA)) {
		for (int i = 0; i < 4; i++)
			st->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + 2 * i);
	}
	/* ES, CS, SS, DS, FS, GS: consecutive VMCS encodings. */
	for (int i = 0; i < EMU_NSEG; i++) {
		st->seg[i].base = vmread(VMCS_GUEST_ES_BASE + 2 * i);
		st->seg[i].limit =
			(uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * i);
		st->seg[i].ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * i);
	}
	st->maxphyaddr = maxphyaddr();
}

static void store_state(struct vcpu *v, const struct emu_state *st,
			uint64_t old_rip)
{
	struct guest_regs *r = &v->regs;

	r->rax = st->gpr[EMU_RAX];
	r->rcx = st->gpr[EMU_RCX];
	r->rdx = st->gpr[EMU_RDX];
	r->rbx = st->gpr[EMU_RBX];
	vmwrite(VMCS_GUEST_RSP, st->gpr[EMU_RSP]);
	r->rbp = st->gpr[EMU_RBP];
	r->rsi = st->gpr[EMU_RSI];
	r->rdi = st->gpr[EMU_RDI];
	memcpy(&r->r8, &st->gpr[8], 8 * sizeof(uint64_t));
	vmwrite(VMCS_GUEST_RFLAGS, st->rflags);
	if (st->rip != old_rip) {
		vmwrite(VMCS_GUEST_RIP, st->rip);
		/* A completed instruction ends STI/MOV-SS blocking. */
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
	}
}

static void inject_fault(struct vcpu *v, const struct emu_fault *f)
{
	/* enter_once() loads it into the CPU just before the entry. */
	if (f->vector == EMU_VEC_PF)
		v->cr2 = f->cr2;
	vcpu_inject_exception(v, f->vector, f->has_error ? f->error : 0);
	v->stats.emu_faults++;
	pr_debug("tidal: vm: emulator injects vector %u error %x cr2 %llx\n",
		 f->vector, f->error, (unsigned long long)f->cr2);
}

/* Run the emulator on the instruction at RIP; @what names the exit. */
static void emulate(struct vcpu *v, const char *what, uint64_t gpa,
		    bool string_io)
{
	struct vm *vm = v->vm;
	struct emu_state st;
	struct emu_ops ops = {op_read_phys, op_write_phys, op_port_in,
			      op_port_out, v};
	struct emu_ctx c = {
		.st = &st, .ops = &ops, .string_io_only = string_io};
	enum emu_result r;
	char bytes[48];

	load_state(v, &st);
	uint64_t rip = st.rip;

	r = emu_run(&c);
	v->stats.emu_iterations += c.iterations;
	switch (r) {
	case EMU_DONE:
	case EMU_STOPPED:
		store_state(v, &st, rip);
		return;
	case EMU_FAULT:
		store_state(v, &st, rip);
		inject_fault(v, &c.fault);
		return;
	case EMU_UNHANDLED:
		break;
	}
	emu_bytes_str(&c, bytes, sizeof(bytes));
	if (c.has_bad_gpa)
		gpa = c.bad_gpa;
	vm_stop(vm, "cannot emulate %s at RIP %llx (bytes %s): %s%s%llx", what,
		(unsigned long long)rip, bytes, c.why,
		gpa != NO_GPA ? ", GPA " : "",
		gpa != NO_GPA ? (unsigned long long)gpa : 0ull);
	vcpu_dump(v);
}

bool emulate_mmio(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	struct vm *vm = v->vm;

	if (!mmio_find(&vm->mmio, gpa, 1))
		return false;
	if (qual & BIT(2)) {
		vm_stop(vm, "guest executed from MMIO at GPA %llx",
			(unsigned long long)gpa);
		return true;
	}
	if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) {
		vm_stop(vm,
			"MMIO access at GPA %llx while delivering an "
			"event (IDT, GDT or stack in MMIO): not supported",
			(unsigned long long)gpa);
		return true;
	}
	v->stats.mmio++;
	emulate(v, "the MMIO access", gpa, false);
	return true;
}

void emulate_string_io(struct vcpu *v)
{
	v->stats.string_io++;
	emulate(v, "string I/O", NO_GPA, true);
}
