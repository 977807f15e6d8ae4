// SPDX-License-Identifier: MIT
/*
 * Local APICs on VMX: the glue between the register model (vlapic.c) and
 * a vCPU.  docs/vmx.md ("Interrupts") describes the flow:
 *
 *  - the xAPIC page at 0xFEE00000 is an MMIO region (each access reaches
 *    the local APIC of the vCPU that made it); the x2APIC MSRs, APIC_BASE
 *    and TSC_DEADLINE come from msr.c;
 *  - an interrupt for a vCPU sets its IRR (or a pending NMI/INIT/SIPI)
 *    and sends it a VCPU_REQ_EVENT request, which kicks it out of guest
 *    mode (or out of its blocking HLT) so it evaluates again;
 *  - before every entry the vCPU injects the highest deliverable event:
 *    an event re-injected after an exit (event.c) or an exception comes
 *    first, then NMI, then ExtINT from the 8259 (vCPU 0), then the
 *    highest IRR vector above the PPR; what cannot be injected yet arms
 *    interrupt-window or NMI-window exiting;
 *  - the APIC timer's next expiry bounds the VMX preemption timer;
 *  - HLT with IF=1 leaves the vCPU halted: tidal stops entering it and
 *    HLTs the physical CPU until a kick IPI or the physical APIC timer
 *    (TSC-deadline mode) at the vCPU's timer expiry wakes it.
 */
#include "vmm/intr.h"
#include "vmm/apicv.h"
#include "vmm/emulate.h"
#include "vmm/exits.h"
#include "vmm/irq.h"
#include "vmm/request.h"
#include "vmm/vlapic.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/atomic.h"
#include "lib/printf.h"

#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0

/* A blocked vCPU looks at the time limit at least this often. */
#define BLOCK_SLICE_NS 10000000ull

/* Real-mode segment access rights for a vCPU started by SIPI. */
#define AR_RM_CODE  0x9b
#define AR_RM_DATA  0x93
#define AR_RM_TSS   0x8b
#define AR_UNUSABLE 0x10000

static struct vcpu *current_vcpu(struct vm *vm)
{
	unsigned int cpu = percpu_self()->cpu_id;

	/* vCPU i runs on CPU i (vcpu.c). */
	return cpu < vm->nr_vcpus ? &vm->vcpus[cpu] : NULL;
}

/* Make @t look at its local APIC again. */
static void wake(struct vcpu *t)
{
	vcpu_request(t, VCPU_REQ_EVENT);
}

static void deliver_one(struct vcpu *t, const struct irq_msg *m)
{
	struct vlapic *l = &t->lapic;

	if (!vlapic_hw_enabled(l))
		return;
	switch (m->mode) {
	case IRQ_DM_FIXED:
	case IRQ_DM_LOWEST:
		if (!vlapic_accept(l, m->vector, m->level))
			return;
		break;
	case IRQ_DM_NMI:
		vlapic_post(l, VLAPIC_EV_NMI, 0);
		break;
	case IRQ_DM_INIT:
		vlapic_post(l, VLAPIC_EV_INIT, 0);
		break;
	case IRQ_DM_SIPI:
		vlapic_post(l, VLAPIC_EV_SIPI, m->vector);
		break;
	default:
		return; /* SMI, ExtINT: not delivered by message */
	}
	wake(t);
}

/* Send @m to every local APIC it names, or all of @self's (shorthand). */
static void deliver(struct vm *vm, const struct irq_msg *m, int shorthand,
		    struct vcpu *self)
{
	struct vcpu *lowest = NULL;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = &vm->vcpus[i];

		if (shorthand == ICR_SELF && t != self)
			continue;
		if (shorthand == ICR_OTHERS && t == self)
			continue;
		if (shorthand == ICR_DEST &&
		    !vlapic_match_dest(&t->lapic, m->dest, m->logical))
			continue;
		if (m->mode != IRQ_DM_LOWEST || shorthand != ICR_DEST) {
			deliver_one(t, m);
			continue;
		}
		/* Lowest priority: the matching APIC with the lowest TPR. */
		if (!lowest || vlapic_reg(&t->lapic, LAPIC_TPR) <
				       vlapic_reg(&lowest->lapic, LAPIC_TPR))
			lowest = t;
	}
	if (lowest)
		deliver_one(lowest, m);
}

void vlapic_deliver(struct vm *vm, const struct irq_msg *m)
{
	deliver(vm, m, ICR_DEST, NULL);
}

void vlapic_pic_changed(struct vm *vm)
{
	bool on = vpic_pending(vm);

	__atomic_store_n(&vm->pic_int, on, __ATOMIC_SEQ_CST);
	if (on && vm->nr_vcpus)
		wake(&vm->vcpus[0]);
}

/* The ICR was written: send what it says. */
static void send_ipi(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	uint32_t lo = vlapic_reg(l, LAPIC_ICR), hi = vlapic_reg(l, LAPIC_ICR2);
	struct irq_msg m = {
		.dest = vlapic_x2apic(l) ? hi : hi >> 24,
		.logical = lo & ICR_LOGICAL,
		.vector = (uint8_t)ICR_VECTOR(lo),
		.mode = (uint8_t)ICR_DM(lo),
		.level = lo & ICR_LEVEL,
	};
	int sh = (int)ICR_SHORTHAND(lo);

	/* INIT level de-assert only resets arbitration IDs: nothing. */
	if (m.mode == IRQ_DM_INIT && (lo & ICR_LEVEL) && !(lo & ICR_ASSERT))
		return;
	if ((m.mode == IRQ_DM_FIXED || m.mode == IRQ_DM_LOWEST) &&
	    m.vector < 16) {
		vlapic_error(l, ESR_SEND_ILLEGAL_VEC);
		return;
	}
	/* Fixed IPIs are edge-triggered (level ICR writes are for INIT). */
	m.level = false;
	v->stats.ipis++;
	deliver(v->vm, &m, sh, v);
}

void intr_apply_effect(struct vcpu *v, const struct vlapic_effect *e)
{
	/* The I/O APIC has its own lock (vmm/irq.h): no dev_lock needed. */
	if (e->eoi_level_vec >= 0)
		vioapic_eoi(v->vm, (uint8_t)e->eoi_level_vec);
	if (e->send_ipi)
		send_ipi(v);
}

/* Is the xAPIC page live (enabled, not in x2APIC mode)? */
static bool xapic_mode(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && !vlapic_x2apic(l);
}

/* MMIO: 32-bit accesses to the 16-byte aligned registers (SDM); other
 * widths read the bytes of that word, and are dropped on write. */
static int lapic_mmio_read(void *dev, uint64_t off, void *buf, unsigned int len)
{
	struct vcpu *v = current_vcpu(dev);
	uint32_t val = 0;
	uint8_t *out = buf;

	if (v)
		v->stats.xapic_mmio++;
	if (v && xapic_mode(&v->lapic) && (off & 0xf) + len <= 4)
		val = vlapic_read(&v->lapic, (uint32_t)(off & ~0xfull),
				  rdtsc()) >>
		      (8 * (off & 3));
	for (unsigned int i = 0; i < len; i++)
		out[i] = i < 4 ? (uint8_t)(val >> (8 * i)) : 0;
	return EMU_OP_OK;
}

static int lapic_mmio_write(void *dev, uint64_t off, const void *buf,
			    unsigned int len)
{
	struct vcpu *v = current_vcpu(dev);
	struct vlapic_effect e;
	const uint8_t *in = buf;
	uint32_t val;

	if (v)
		v->stats.xapic_mmio++;
	if (!v || !xapic_mode(&v->lapic) || len != 4 || (off & 0xf))
		return EMU_OP_OK;
	val = in[0] | in[1] << 8 | in[2] << 16 | (uint32_t)in[3] << 24;
	vlapic_write(&v->lapic, (uint32_t)off, val, rdtsc(), &e);
	intr_apply_effect(v, &e);
	return EMU_OP_OK;
}

bool intr_owns_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= 0x800 && msr <= 0x8ff);
}

bool intr_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct vlapic *l = &v->lapic;

	if (msr == MSR_IA32_APIC_BASE) {
		*val = l->base;
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = vlapic_tsc_deadline_read(l);
		return true;
	}
	return vlapic_msr_read(l, msr, rdtsc(), val);
}

/*
 * A moved xAPIC page is kept in APIC_BASE but not emulated: the registers
 * stay at VLAPIC_BASE_GPA.  Said once per VM.
 */
static void note_apic_move(struct vcpu *v, uint64_t val)
{
	uint64_t page = val & ~0xfffull & ((1ull << 52) - 1);

	if (page == VLAPIC_BASE_GPA || !(val & APIC_BASE_EN) ||
	    __atomic_exchange_n(&v->vm->apic_move_noted, true,
				__ATOMIC_RELAXED))
		return;
	printk("tidal: vm: vCPU %u moved its xAPIC page to %llx: not "
	       "emulated, the registers stay at %llx\n",
	       v->index, (unsigned long long)page,
	       (unsigned long long)VLAPIC_BASE_GPA);
}

bool intr_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vlapic *l = &v->lapic;
	struct vlapic_effect e;

	if (msr == MSR_IA32_APIC_BASE) {
		if (!vlapic_set_base(l, val))
			return false;
		apicv_base_changed(v);
		note_apic_move(v, val);
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		vlapic_tsc_deadline_write(l, val);
		return true;
	}
	if (!vlapic_msr_write(l, msr, val, rdtsc(), &e))
		return false;
	intr_apply_effect(v, &e);
	return true;
}

void intr_vm_init(struct vm *vm)
{
	struct mmio_region r = {
		.base = VLAPIC_BASE_GPA,
		.size = 0x1000,
		.name = "local APIC",
		.read = lapic_mmio_read,
		.write = lapic_mmio_write,
		.dev = vm,
	};

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		vlapic_reset(&v->lapic, i, i == 0);
		/*
		 * What a PC BIOS leaves on the BSP: the local APIC enabled in
		 * virtual-wire mode, the 8259's INTR through LINT0 (ExtINT)
		 * and NMI on LINT1, so a kernel that never programs its
		 * local APIC ("nolapic") still gets the PIC's interrupts.
		 */
		if (i == 0 && vm->format != GUEST_FMT_TIDAL) {
			vlapic_set_reg(&v->lapic, LAPIC_SVR, 0x1ff);
			vlapic_set_reg(&v->lapic, LAPIC_LVT_LINT0,
				       IRQ_DM_EXTINT << 8);
			vlapic_set_reg(&v->lapic, LAPIC_LVT_LINT1,
				       IRQ_DM_NMI << 8);
		}
		/* PC guests' APs wait for INIT-SIPI, like real hardware. */
		v->mp_state = i && vm->format != GUEST_FMT_TIDAL ? MP_WAIT_SIPI
								 : MP_RUNNABLE;
	}
	vm->parked = vm->format != GUEST_FMT_TIDAL ? vm->nr_vcpus - 1 : 0;
	mmio_register(&vm->mmio, &r);
}

void intr_print_mode(struct vm *vm)
{
	char apicv[200];

	apicv_describe(vm, apicv, sizeof(apicv));
	printk("tidal: vm: local APIC: %s per vCPU (xAPIC page at %x, "
	       "x2APIC MSRs, timer on the VMX preemption timer%s); %s; "
	       "blocked HLT waits on %s\n",
	       vm->apicv.on ? "virtualized" : "emulated", VLAPIC_BASE_GPA,
	       vmx_caps.preempt_timer ? "" : " (missing: checked at exits)",
	       apicv,
	       cpuid(1).ecx & BIT(24)
		       ? "the physical APIC timer (TSC-deadline)"
		       : "a TSC-bounded pause loop (no TSC-deadline timer)");
}

/* Start @v at the SIPI vector page in real mode (SDM: CS = vector << 8,
 * base vector << 12, IP 0). */
static void start_at_sipi(struct vcpu *v, uint8_t vec)
{
	static const uint32_t data_segs[] = {
		VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL, VMCS_GUEST_ES_SEL,
		VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL,
	};
	uint64_t cr0 = BIT(4); /* ET */

	vmwrite(VMCS_ENTRY_CONTROLS,
		vmread(VMCS_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E);
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, vmx_fix_cr(cr0, vmx_guest_cr0_fixed0(&vmx_caps),
					   vmx_caps.cr0_fixed1));
	vmwrite(VMCS_CR4_SHADOW, 0);
	vmwrite(VMCS_GUEST_CR4,
		vmx_fix_cr(0, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_EFER, 0);
	vmwrite(VMCS_GUEST_CS_SEL, (uint64_t)vec << 8);
	vmwrite(VMCS_GUEST_CS_BASE, (uint64_t)vec << 12);
	vmwrite(VMCS_GUEST_CS_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_CS_AR, AR_RM_CODE);
	for (unsigned int i = 0; i < ARRAY_SIZE(data_segs); i++) {
		uint32_t idx = (data_segs[i] - VMCS_GUEST_ES_SEL) / 2;

		vmwrite(data_segs[i], 0);
		vmwrite(VMCS_GUEST_ES_BASE + 2 * idx, 0);
		vmwrite(VMCS_GUEST_ES_LIMIT + 2 * idx, 0xffff);
		vmwrite(VMCS_GUEST_ES_AR + 2 * idx, AR_RM_DATA);
	}
	vmwrite(VMCS_GUEST_LDTR_SEL, 0);
	vmwrite(VMCS_GUEST_LDTR_BASE, 0);
	vmwrite(VMCS_GUEST_LDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_LDTR_AR, AR_UNUSABLE);
	vmwrite(VMCS_GUEST_TR_SEL, 0);
	vmwrite(VMCS_GUEST_TR_BASE, 0);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_TR_AR, AR_RM_TSS);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_RIP, 0);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	v->regs = (struct guest_regs){0};
	v->regs.rdx = cpuid(1).eax; /* EDX after INIT: the CPU signature */
	v->stats.sipi_starts++;
}

static bool is_parked(int mp_state)
{
	return mp_state == MP_PARKED || mp_state == MP_WAIT_SIPI;
}

/*
 * Could something already sent make a parked vCPU of @vm run?  An NMI
 * wakes cli; hlt; a SIPI starts a vCPU that waits for it, or will once a
 * pending INIT is taken.  An INIT alone only moves it to wait-for-SIPI.
 */
static bool parked_wake_pending(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		struct vlapic *l = &t->lapic;
		int st = __atomic_load_n(&t->mp_state, __ATOMIC_SEQ_CST);

		if (st == MP_PARKED && vlapic_has_event(l, VLAPIC_EV_NMI))
			return true;
		if (vlapic_has_event(l, VLAPIC_EV_SIPI) &&
		    (st == MP_WAIT_SIPI || vlapic_has_event(l, VLAPIC_EV_INIT)))
			return true;
	}
	return false;
}

/*
 * Move @v (the calling vCPU) to @st, counting the VM's parked vCPUs.  A
 * vCPU parked by cli; hlt waits for an NMI or INIT from another one (as
 * Linux parks its APs before powering off on the BSP), so the VM is only
 * dead when the last vCPU parks with nothing on its way to any of them.
 * Every sender posts its event before it parks itself, so the last one
 * to park sees all events that were sent.
 */
static void set_mp_state(struct vcpu *v, int st)
{
	struct vm *vm = v->vm;
	bool was = is_parked(v->mp_state), now = is_parked(st);
	unsigned int n;

	__atomic_store_n(&v->mp_state, st, __ATOMIC_SEQ_CST);
	if (!now) {
		if (was)
			__atomic_sub_fetch(&vm->parked, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* Parked to parked (an INIT taken in cli; hlt): look again too. */
	n = was ? __atomic_load_n(&vm->parked, __ATOMIC_SEQ_CST)
		: __atomic_add_fetch(&vm->parked, 1, __ATOMIC_SEQ_CST);
	if (n != vm->nr_vcpus || parked_wake_pending(vm))
		return;
	if (vm->nr_vcpus == 1)
		vm_stop(vm,
			"guest halted with interrupts disabled "
			"(nothing can wake it) at RIP %llx",
			(unsigned long long)vmread(VMCS_GUEST_RIP));
	else
		vm_stop(vm,
			"every vCPU halted with interrupts disabled or waits "
			"for SIPI (nothing can wake them); the last, vCPU %u, "
			"at RIP %llx",
			v->index, (unsigned long long)vmread(VMCS_GUEST_RIP));
}

/* INIT and SIPI, which move a vCPU in and out of wait-for-SIPI. */
static void handle_init_sipi(struct vcpu *v)
{
	/* One load for the common case: neither is pending. */
	if (!(__atomic_load_n(&v->lapic.events, __ATOMIC_ACQUIRE) &
	      ((1ul << VLAPIC_EV_INIT) | (1ul << VLAPIC_EV_SIPI))))
		return;
	if (vlapic_take(&v->lapic, VLAPIC_EV_INIT)) {
		vlapic_init_signal(&v->lapic);
		/* An INIT drops the NMI and SIPI that came before it. */
		vlapic_take(&v->lapic, VLAPIC_EV_NMI);
		vlapic_take(&v->lapic, VLAPIC_EV_SIPI);
		set_mp_state(v, MP_WAIT_SIPI);
	}
	if (vlapic_take(&v->lapic, VLAPIC_EV_SIPI) &&
	    v->mp_state == MP_WAIT_SIPI) {
		start_at_sipi(v, __atomic_load_n(&v->lapic.sipi_vector,
						 __ATOMIC_RELAXED));
		set_mp_state(v, MP_RUNNABLE);
	}
}

static bool ext_int_route(struct vcpu *v)
{
	const struct vlapic *l = &v->lapic;
	uint32_t lint0 = vlapic_lvt(l, LVT_LINT0);

	if (v->index || !__atomic_load_n(&v->vm->pic_int, __ATOMIC_SEQ_CST))
		return false;
	/* A disabled local APIC passes INTR straight through. */
	if (!vlapic_hw_enabled(l))
		return true;
	return !(lint0 & LVT_MASKED) && LVT_DM(lint0) == IRQ_DM_EXTINT;
}

/* Can an interrupt wake @v from HLT? */
static bool intr_pending(struct vcpu *v)
{
	return vlapic_pending_vector(&v->lapic) >= 0 || ext_int_route(v);
}

/*
 * Is there an interrupt for tidal to inject?  With virtual-interrupt
 * delivery the CPU delivers the local APIC's vectors itself (RVI); only
 * the 8259's ExtINT is injected.
 */
static bool inject_pending(struct vcpu *v)
{
	if (v->vm->apicv.on)
		return ext_int_route(v);
	return intr_pending(v);
}

bool intr_runnable(struct vcpu *v)
{
	uint64_t now = rdtsc();

	if (vlapic_timer_expire(&v->lapic, now))
		v->stats.timer_fires++;
	handle_init_sipi(v);
	if (v->mp_state == MP_WAIT_SIPI)
		return false;
	if (v->mp_state == MP_PARKED) {
		if (!vlapic_has_event(&v->lapic, VLAPIC_EV_NMI))
			return false;
		set_mp_state(v, MP_RUNNABLE);
		v->stats.wakeups++;
	}
	if (v->mp_state == MP_HALTED) {
		if (!vlapic_has_event(&v->lapic, VLAPIC_EV_NMI) &&
		    !intr_pending(v))
			return false;
		set_mp_state(v, MP_RUNNABLE);
		v->stats.wakeups++;
	}
	return true;
}

/*
 * No interrupt of tidal's may stay pending into a guest entry: with APIC
 * virtualization, Bochs 2.7 takes one in guest mode by delivering the
 * guest's pending virtual interrupt even when the guest's IF is 0 (its
 * InterruptAcknowledge() checks for a virtual interrupt before it exits),
 * and a guest kernel interrupted with IF=0 crashes.  So a halted vCPU
 * sleeps on interrupts that are all taken here, before it enters again:
 * the timer's (disarmed, then an STI window for one already raised) and a
 * requester's kick IPI (awaited below); a vCPU in guest mode is kicked
 * with an NMI instead (vm->kick_nmi).
 */
static void halt_cpu(uint64_t until_tsc)
{
	/* STI's shadow covers HLT: an interrupt already pending wakes it. */
	if (apic_timer_deadline(VEC_WAKE_TIMER, until_tsc)) {
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		apic_timer_deadline(VEC_WAKE_TIMER, 0);
		__asm__ __volatile__("sti; nop; cli" ::: "memory");
		return;
	}
	/* No TSC-deadline timer: poll with interrupts on. */
	__asm__ __volatile__("sti" ::: "memory");
	while (rdtsc() < until_tsc)
		__asm__ __volatile__("pause" ::: "memory");
	__asm__ __volatile__("cli" ::: "memory");
}

/*
 * A requester moved this vCPU from BLOCKED to EXITING and sends a kick
 * IPI, which may not have arrived yet: take it here (kicks_before: the
 * count before the sleep).  Bounded by a millisecond, as an IPI the local
 * APIC did not accept never comes (smp.c says so on the console).
 */
static void take_kick(uint64_t kicks_before)
{
	uint64_t end = rdtsc() + tsc_hz() / 1000;

	while (smp_kicks_taken() == kicks_before && rdtsc() < end)
		__asm__ __volatile__("sti; pause; cli" ::: "memory");
}

void intr_block(struct vcpu *v)
{
	unsigned long flags = platform_irq_save();
	uint64_t now = rdtsc(), kicks = smp_kicks_taken();
	uint64_t slice = tsc_hz() / (1000000000ull / BLOCK_SLICE_NS);
	uint64_t until = now + (slice ? slice : 1000000);
	uint64_t next = vlapic_timer_next(&v->lapic);
	uint64_t dev_ns = devices_next_deadline(v->vm), now_ns;

	if (next && next < until)
		until = next;
	/* The PIT's next interrupt (devices_tick() runs after the wait). */
	if (dev_ns != UINT64_MAX) {
		now_ns = platform_time_ns();
		dev_ns = dev_ns > now_ns ? MIN(dev_ns - now_ns, BLOCK_SLICE_NS)
					 : 0;
		until = MIN(until, now + dev_ns * (tsc_hz() / 1000) / 1000000);
	}
	/* Blocked: requesters kick us with an IPI (request.c). */
	if (vcpu_enter_blocked_mode(v)) {
		if (!v->blocked) {
			v->blocked = true;
			v->stats.halts_blocked++;
		}
		halt_cpu(until);
		if (vcpu_exit_guest_mode(v))
			take_kick(kicks);
	}
	platform_irq_restore(flags);
}

static void set_proc_bit(uint32_t bit, bool on)
{
	uint64_t proc = vmread(VMCS_PROC_CONTROLS);
	uint64_t want = on ? proc | bit : proc & ~(uint64_t)bit;

	if (want != proc)
		vmwrite(VMCS_PROC_CONTROLS, want);
}

/* Inject an NMI if the guest can take one now; else ask for a window. */
static bool try_nmi(struct vcpu *v, uint64_t intr)
{
	if (!vlapic_has_event(&v->lapic, VLAPIC_EV_NMI))
		return false;
	if (intr & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI |
		    INTERRUPTIBILITY_MOV_SS)) {
		if (vmx_caps.nmi_window)
			set_proc_bit(PROC_NMI_WINDOW, true);
		return false;
	}
	vlapic_take(&v->lapic, VLAPIC_EV_NMI);
	vmwrite(VMCS_ENTRY_INTR_INFO,
		INTR_INFO_VALID | (INTR_NMI << 8) | VEC_NMI);
	v->stats.nmis++;
	return true;
}

/* The vector to inject (IRR -> ISR, or the 8259's INTA), or -1. */
static int take_interrupt(struct vcpu *v)
{
	int vec;

	if (ext_int_route(v)) {
		vec = vpic_ack(v->vm); /* its own lock (vmm/irq.h) */
		if (vec >= 0)
			return vec;
	}
	if (v->vm->apicv.on)
		return -1; /* the CPU delivers them (apicv.c) */
	vec = vlapic_pending_vector(&v->lapic);
	if (vec >= 0)
		vlapic_ack(&v->lapic, vec);
	return vec;
}

/*
 * The common exit: no event queued for entry, no window asked for, no
 * NMI and no interrupt waiting (nothing for the code below to do).
 */
static bool nothing_to_inject(struct vcpu *v)
{
	return !(vmread(VMCS_PROC_CONTROLS) &
		 (PROC_INTR_WINDOW | PROC_NMI_WINDOW)) &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
	       !vlapic_has_event(&v->lapic, VLAPIC_EV_NMI) && !intr_pending(v);
}

static void inject_events(struct vcpu *v)
{
	uint64_t intr;
	bool can_intr;
	int vec;

	if (nothing_to_inject(v))
		return;
	intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	can_intr = (vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF) &&
		   !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));

	set_proc_bit(PROC_NMI_WINDOW, false);
	set_proc_bit(PROC_INTR_WINDOW, false);
	/* A re-injected event or an exception goes first. */
	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		if (vlapic_has_event(&v->lapic, VLAPIC_EV_NMI) &&
		    vmx_caps.nmi_window)
			set_proc_bit(PROC_NMI_WINDOW, true);
		if (inject_pending(v) && vmx_caps.intr_window)
			set_proc_bit(PROC_INTR_WINDOW, true);
		return;
	}
	if (try_nmi(v, intr)) {
		if (inject_pending(v) && vmx_caps.intr_window)
			set_proc_bit(PROC_INTR_WINDOW, true);
		return;
	}
	if (!inject_pending(v))
		return;
	if (!can_intr) {
		if (vmx_caps.intr_window)
			set_proc_bit(PROC_INTR_WINDOW, true);
		return;
	}
	vec = take_interrupt(v);
	if (vec < 0)
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO,
		INTR_INFO_VALID | (INTR_EXTERNAL << 8) | (uint32_t)vec);
	v->stats.interrupts++;
	if (inject_pending(v) && vmx_caps.intr_window)
		set_proc_bit(PROC_INTR_WINDOW, true);
}

/* The preemption timer fires at the APIC timer's expiry at the latest. */
static void arm_preempt(struct vcpu *v)
{
	uint64_t ticks = v->preempt_ticks;
	uint64_t next = vlapic_timer_next(&v->lapic);

	if (!vmx_caps.preempt_timer)
		return;
	if (next) {
		uint64_t now = rdtsc();
		uint64_t t =
			next > now ? (next - now) >> vmx_caps.preempt_shift : 0;

		if (t < ticks)
			ticks = t;
	}
	vmwrite(VMCS_PREEMPT_TIMER, ticks);
}

void intr_prepare_entry(struct vcpu *v)
{
	v->blocked = false;
	inject_events(v);
	if (v->vm->apicv.on)
		apicv_prepare_entry(v);
	arm_preempt(v);
}

enum exit_action intr_handle_hlt(struct vcpu *v)
{
	bool if_set = vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF;
	struct vlapic *l = &v->lapic;

	v->stats.hlt++;
	if (if_set) {
		set_mp_state(v, MP_HALTED);
		return EXIT_SKIP;
	}
	/* IF=0 with an NMI or INIT pending: it wakes at once. */
	if (vlapic_has_event(l, VLAPIC_EV_NMI) ||
	    vlapic_has_event(l, VLAPIC_EV_INIT))
		return EXIT_SKIP;
	set_mp_state(v, MP_PARKED);
	return load_acquire(&v->vm->state) == VM_RUNNING ? EXIT_SKIP
							 : EXIT_STOP;
}
