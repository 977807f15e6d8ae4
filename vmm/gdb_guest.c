// SPDX-License-Identifier: MIT
/*
 * The guest as gdb sees it after "monitor guest" (arch/x86/gdbstub.c):
 * every vCPU of the VM is a thread (thread id = vCPU index + 1), with
 * registers from its saved state and its VMCS, memory by guest-physical
 * address through the VM's memslots (the TDP MMU's view of guest RAM) or
 * by guest-virtual address through that vCPU's own page tables, single
 * steps with the monitor trap flag, and breakpoints as int3 in guest
 * memory with #BP exiting on every vCPU.
 *
 * A VMCS can only be read or written on the CPU where it is current, and
 * vCPU i's is current on the CPU that runs it.  While gdb has control the
 * other CPUs wait in the stub (NMI, or the VM-exit path when the NMI
 * found them in guest mode); the stub posts VMREAD/VMWRITE requests in a
 * per-CPU mailbox and the waiting CPU answers them (gdb_guest_serve()).
 * The stub waits a bounded time: a CPU that does not answer makes the
 * access fail, with one console line per stop.
 *
 * Not supported: x87/SSE registers of the guest (shown unavailable), its
 * CR8 (CR2 is shown read-only), 32-bit PAE paging, hardware breakpoints
 * and watchpoints in the guest (the debug registers are tidal's).
 */
#include "arch/x86/gdbstub.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/ebr.h"
#include "lib/gdb_proto.h"
#include "lib/platform.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/memslot.h"
#include "mm/paging.h"
#include "vmm/intr.h"
#include "vmm/vm.h"

#define MSR_VMX_PROCBASED_CTLS 0x482
#define VEC_BP		       3
#define INTR_TYPE_MASK	       (7u << 8)
#define INTR_TYPE_SW_EXC       (6u << 8)
#define INTR_TYPE_NMI	       (2u << 8)
#define CR0_PG		       BIT(31)
#define CR4_PAE		       BIT(5)
#define CR4_PSE		       BIT(4)

#define VEC_DB	  1
#define RFLAGS_TF BIT(8)

/* How long the stub waits for a parked CPU to answer a VMCS request. */
#define ANSWER_TIMEOUT_NS 500000000ull
#define REQ_FIELDS	  4

/*
 * One VMCS request from the stub to the CPU that owns @v.  The stub
 * fills it only while posted == answered (the owner is not looking) and
 * then bumps posted; the owner does the work and copies posted into
 * answered.  No lock: each side writes its own counter.
 */
struct vmcs_req {
	uint32_t posted, answered;
	struct vcpu *v;
	unsigned int n;
	bool write;
	int rc;
	uint32_t field[REQ_FIELDS];
	uint64_t val[REQ_FIELDS];
};

static struct vmcs_req mbox[TIDAL_MAX_CPUS];
static struct vcpu *on_cpu[TIDAL_MAX_CPUS]; /* VMCS current there */
static struct vm *the_vm;		    /* the VM last attached */
static uint64_t warned;			    /* CPUs reported silent */
static bool bp_wanted;			    /* #BP exiting on every vCPU */
static struct vcpu *step_v;		    /* the vCPU being stepped */
static bool step_added_tf;

void gdbstub_vcpu_attach(struct vcpu *v)
{
	unsigned int me = platform_cpu_id();

	if (v)
		__atomic_store_n(&the_vm, v->vm, __ATOMIC_RELEASE);
	__atomic_store_n(&on_cpu[me], v, __ATOMIC_RELEASE);
}

unsigned int gdb_guest_count(void)
{
	struct vm *vm = __atomic_load_n(&the_vm, __ATOMIC_ACQUIRE);

	if (!vm)
		return 0;
	for (unsigned int c = 0; c < TIDAL_MAX_CPUS; c++)
		if (__atomic_load_n(&on_cpu[c], __ATOMIC_ACQUIRE))
			return vm->nr_vcpus;
	return 0;
}

int gdb_guest_index_on(unsigned int cpu)
{
	struct vcpu *v = cpu < TIDAL_MAX_CPUS ? on_cpu[cpu] : NULL;

	return v ? (int)v->index : -1;
}

/* vCPU @idx, if the guest view has it. */
static struct vcpu *vcpu_at(unsigned int idx)
{
	if (idx >= gdb_guest_count())
		return NULL;
	return &the_vm->vcpus[idx];
}

unsigned int gdb_guest_thread_name(unsigned int idx, char *out, size_t cap)
{
	struct vcpu *v = vcpu_at(idx);
	unsigned int cpu = v ? v->cpu : idx;

	ksnprintf(out, cap, "vCPU %u (CPU %u)", idx, cpu);
	return cpu;
}

/* Is @v in its run loop on a CPU that gdb holds (so its state is still)? */
static bool vcpu_held(struct vcpu *v)
{
	unsigned int cpu = v->cpu;

	if (cpu >= TIDAL_MAX_CPUS ||
	    __atomic_load_n(&on_cpu[cpu], __ATOMIC_ACQUIRE) != v)
		return false;
	return cpu == platform_cpu_id() || gdbstub_cpu_held(cpu);
}

static void vmcs_local(const uint32_t *f, uint64_t *val, unsigned int n,
		       bool write)
{
	for (unsigned int i = 0; i < n; i++) {
		if (write)
			vmwrite(f[i], val[i]);
		else
			val[i] = vmread(f[i]);
	}
}

/* A CPU held by gdb: answer the stub's VMCS request, if one is open. */
void gdb_guest_serve(void)
{
	unsigned int me = platform_cpu_id();
	struct vmcs_req *r = &mbox[me];
	uint32_t seq = __atomic_load_n(&r->posted, __ATOMIC_ACQUIRE);

	if (seq == r->answered)
		return;
	r->rc = on_cpu[me] == r->v && r->n <= REQ_FIELDS ? 0 : -1;
	if (!r->rc)
		vmcs_local(r->field, r->val, r->n, r->write);
	__atomic_store_n(&r->answered, seq, __ATOMIC_RELEASE);
}

static bool wait_answer(struct vmcs_req *r, uint32_t seq)
{
	uint64_t start = platform_time_ns();

	while (__atomic_load_n(&r->answered, __ATOMIC_ACQUIRE) != seq) {
		if (platform_time_ns() - start > ANSWER_TIMEOUT_NS)
			return false;
		smp_nmi_poll();
		cpu_relax();
	}
	return true;
}

static int vmcs_remote(struct vcpu *v, const uint32_t *f, uint64_t *val,
		       unsigned int n, bool write)
{
	struct vmcs_req *r = &mbox[v->cpu];
	uint32_t seq = r->posted;

	/* An earlier request that timed out must be over before reuse. */
	if (__atomic_load_n(&r->answered, __ATOMIC_ACQUIRE) != seq &&
	    !wait_answer(r, seq))
		goto silent;
	r->v = v;
	r->n = n;
	r->write = write;
	memcpy(r->field, f, n * sizeof(*f));
	memcpy(r->val, val, n * sizeof(*val));
	__atomic_store_n(&r->posted, ++seq, __ATOMIC_RELEASE);
	if (!wait_answer(r, seq))
		goto silent;
	if (r->rc)
		return -1;
	memcpy(val, r->val, n * sizeof(*val));
	return 0;
silent:
	if (!(warned & BIT(v->cpu % 64)))
		printk("tidal: gdb: CPU %u does not answer for vCPU %u\n",
		       v->cpu, v->index);
	warned |= BIT(v->cpu % 64);
	return -1;
}

/* Read (or write) @n fields of @v's VMCS, wherever it is current. */
static int vmcs_access(struct vcpu *v, const uint32_t *f, uint64_t *val,
		       unsigned int n, bool write)
{
	if (!v || !vcpu_held(v))
		return -1;
	if (v->cpu != platform_cpu_id())
		return vmcs_remote(v, f, val, n, write);
	vmcs_local(f, val, n, write);
	return 0;
}

static int vread(struct vcpu *v, uint32_t f, uint64_t *val)
{
	return vmcs_access(v, &f, val, 1, false);
}

static int vwrite(struct vcpu *v, uint32_t f, uint64_t val)
{
	return vmcs_access(v, &f, &val, 1, true);
}

/* A new stop: report silent CPUs again. */
void gdb_guest_stopped(void)
{
	warned = 0;
}

/* gdb's rax..r15 in the vCPU's saved registers; rsp lives in the VMCS. */
static uint64_t *guest_gpr(struct vcpu *v, unsigned int reg)
{
	struct guest_regs *r = &v->regs;
	uint64_t *const map[16] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
		&r->rbp, NULL,	  &r->r8,  &r->r9,  &r->r10, &r->r11,
		&r->r12, &r->r13, &r->r14, &r->r15,
	};
	return map[reg];
}

/* The VMCS field behind register @reg, 0 if none. */
static uint32_t guest_field(unsigned int reg)
{
	static const uint32_t segs[6] = {
		VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
		VMCS_GUEST_ES_SEL, VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL,
	};

	if (reg == GDB_REG_RSP)
		return VMCS_GUEST_RSP;
	if (reg == GDB_REG_RIP)
		return VMCS_GUEST_RIP;
	if (reg == GDB_REG_EFLAGS)
		return VMCS_GUEST_RFLAGS;
	if (reg >= GDB_REG_CS && reg < GDB_REG_CS + 6)
		return segs[reg - GDB_REG_CS];
	switch (reg) {
	case GDB_REG_FS_BASE:
		return VMCS_GUEST_FS_BASE;
	case GDB_REG_GS_BASE:
		return VMCS_GUEST_GS_BASE;
	case GDB_REG_CR0:
		return VMCS_GUEST_CR0;
	case GDB_REG_CR3:
		return VMCS_GUEST_CR3;
	case GDB_REG_CR4:
		return VMCS_GUEST_CR4;
	case GDB_REG_EFER:
		return VMCS_GUEST_EFER;
	}
	return 0;
}

int gdb_guest_read_reg(unsigned int idx, unsigned int reg, void *val)
{
	struct vcpu *v = vcpu_at(idx);
	unsigned int size = gdb_reg_size(reg);
	uint64_t x;
	uint32_t f;

	if (!v || !vcpu_held(v))
		return -1;
	memset(val, 0, size);
	if (reg < 16 && reg != GDB_REG_RSP)
		x = *guest_gpr(v, reg);
	else if (reg == GDB_REG_CR2)
		x = v->cr2; /* kept per vCPU, loaded before each entry */
	else if (!(f = guest_field(reg)) || vread(v, f, &x))
		return -1;
	memcpy(val, &x, size < 8 ? size : 8);
	return 0;
}

/* Only what cannot break VM entry: GPRs, RSP, RIP and the plain flags. */
int gdb_guest_write_reg(unsigned int idx, unsigned int reg, const void *val)
{
	struct vcpu *v = vcpu_at(idx);
	unsigned int size = gdb_reg_size(reg);
	uint64_t x = 0, fl;

	if (!v || !vcpu_held(v))
		return -1;
	memcpy(&x, val, size < 8 ? size : 8);
	if (reg < 16 && reg != GDB_REG_RSP) {
		*guest_gpr(v, reg) = x;
		return 0;
	}
	if (reg == GDB_REG_RSP || reg == GDB_REG_RIP)
		return vwrite(v, guest_field(reg), x);
	if (reg != GDB_REG_EFLAGS || vread(v, VMCS_GUEST_RFLAGS, &fl))
		return -1;
	return vwrite(v, VMCS_GUEST_RFLAGS, (fl & ~0x8d5ull) | (x & 0x8d5));
}

/* Guest-physical access to at most one page, through the memslots. */
static int gpa_access(struct vm *vm, uint64_t gpa, void *buf, size_t n,
		      bool write)
{
	const struct memslot *slot;
	uint64_t hpa;
	int rc = -1;

	ebr_read_lock();
	slot = memslot_find(memslot_set_current(vm->mmu), gpa >> 12);
	if (slot && !(write && (slot->flags & MEMSLOT_READONLY))) {
		hpa = memslot_gfn_to_pfn(slot, gpa >> 12) << 12 | (gpa & 0xfff);
		if (hpa + n <= paging_direct_map_end()) {
			if (write)
				memcpy(phys_to_virt(hpa), buf, n);
			else
				memcpy(buf, phys_to_virt(hpa), n);
			rc = 0;
		}
	}
	ebr_read_unlock();
	return rc;
}

static bool read_gpa_u64(struct vm *vm, uint64_t gpa, uint64_t *e,
			 unsigned int bytes)
{
	*e = 0;
	return !gpa_access(vm, gpa, e, bytes, false);
}

/* What a guest-virtual translation needs from the vCPU's VMCS. */
struct guest_mode {
	uint64_t cr0, cr4, cr3, efer;
};

static int guest_mode_of(struct vcpu *v, struct guest_mode *m)
{
	static const uint32_t f[4] = {VMCS_GUEST_CR0, VMCS_GUEST_CR4,
				      VMCS_GUEST_CR3, VMCS_GUEST_EFER};
	uint64_t val[4] = {0};

	if (vmcs_access(v, f, val, 4, false))
		return -1;
	*m = (struct guest_mode){val[0], val[1], val[2], val[3]};
	return 0;
}

/* The guest's 4-level translation of @gva, or -1. */
static uint64_t walk_long(struct vm *vm, uint64_t table, uint64_t gva)
{
	uint64_t e;

	table &= 0x000ffffffffff000ull;
	for (int level = 4; level >= 1; level--) {
		unsigned int sh = 12 + 9 * (level - 1);

		if (!read_gpa_u64(vm, table + ((gva >> sh) & 511) * 8, &e, 8) ||
		    !(e & 1))
			return ~0ull;
		if (level > 1 && level < 4 && (e & BIT(7)))
			return ((e & 0x000ffffffffff000ull) &
				~((1ull << sh) - 1)) |
			       (gva & ((1ull << sh) - 1));
		table = e & 0x000ffffffffff000ull;
	}
	return table | (gva & 0xfff);
}

/* The guest's own translation of @gva, or -1 (not mapped, or unsupported). */
static uint64_t gva_to_gpa(struct vm *vm, const struct guest_mode *m,
			   uint64_t gva)
{
	uint64_t table = m->cr3 & 0xfffff000ull, e;

	if (!(m->cr0 & CR0_PG))
		return gva & 0xffffffffull;
	if (m->efer & EFER_LMA)
		return walk_long(vm, m->cr3, gva);
	if (m->cr4 & CR4_PAE)
		return ~0ull; /* 32-bit PAE paging: not supported */
	if (!read_gpa_u64(vm, table + ((gva >> 22) & 1023) * 4, &e, 4) ||
	    !(e & 1))
		return ~0ull;
	if ((e & BIT(7)) && (m->cr4 & CR4_PSE))
		return (e & 0xffc00000ull) | (gva & 0x3fffff);
	table = e & 0xfffff000ull;
	if (!read_gpa_u64(vm, table + ((gva >> 12) & 1023) * 4, &e, 4) ||
	    !(e & 1))
		return ~0ull;
	return (e & 0xfffff000ull) | (gva & 0xfff);
}

/* Memory as vCPU @idx sees it (its CR3 and mode), or by GPA. */
static int guest_access(unsigned int idx, uint64_t addr, void *buf, size_t n,
			bool phys, bool write)
{
	struct vcpu *v = vcpu_at(idx);
	struct guest_mode m = {0};

	if (!v || (!phys && guest_mode_of(v, &m)))
		return -1;
	while (n) {
		size_t chunk = 4096 - (addr & 0xfff);
		uint64_t gpa = phys ? addr : gva_to_gpa(v->vm, &m, addr);

		if (chunk > n)
			chunk = n;
		if (gpa == ~0ull || gpa_access(v->vm, gpa, buf, chunk, write))
			return -1;
		addr += chunk;
		buf = (uint8_t *)buf + chunk;
		n -= chunk;
	}
	return 0;
}

int gdb_guest_read_mem(unsigned int idx, uint64_t addr, void *buf, size_t n,
		       bool phys)
{
	return guest_access(idx, addr, buf, n, phys, false);
}

int gdb_guest_write_mem(unsigned int idx, uint64_t addr, const void *buf,
			size_t n, bool phys)
{
	return guest_access(idx, addr, (void *)buf, n, phys, true);
}

/*
 * One instruction of vCPU @idx: the monitor trap flag where the CPU has
 * it, and the guest's trap flag with #DB exiting as well, because Bochs
 * 2.7 lets guests run on past an MTF request.  Whichever exit comes
 * first stops.  Returns the CPU that must run, -1 when the vCPU cannot
 * be reached, -2 when it is halted or waits for SIPI (a step would not
 * end until something wakes it, and gdb holds everyone else).
 */
int gdb_guest_arm_step(unsigned int idx)
{
	static const uint32_t f[3] = {VMCS_PROC_CONTROLS, VMCS_GUEST_RFLAGS,
				      VMCS_EXCEPTION_BITMAP};
	struct vcpu *v = vcpu_at(idx);
	uint64_t val[3];

	if (!v || vmcs_access(v, f, val, 3, false))
		return -1;
	if (__atomic_load_n(&v->mp_state, __ATOMIC_ACQUIRE) != MP_RUNNABLE)
		return -2;
	if (rdmsr(MSR_VMX_PROCBASED_CTLS) >> 32 & PROC_MTF)
		val[0] |= PROC_MTF;
	step_added_tf = !(val[1] & RFLAGS_TF);
	val[1] |= RFLAGS_TF;
	val[2] |= BIT(VEC_DB);
	if (vmcs_access(v, f, val, 3, true))
		return -1;
	step_v = v;
	return (int)v->cpu;
}

/* The step is over (on the vCPU's CPU): undo gdb_guest_arm_step(). */
static void step_done(void)
{
	vmwrite(VMCS_PROC_CONTROLS,
		vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_MTF);
	if (step_added_tf)
		vmwrite(VMCS_GUEST_RFLAGS,
			vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_TF);
	vmwrite(VMCS_EXCEPTION_BITMAP,
		vmread(VMCS_EXCEPTION_BITMAP) & ~BIT(VEC_DB));
	step_v = NULL;
}

void gdb_guest_bp_exiting(bool on)
{
	__atomic_store_n(&bp_wanted, on, __ATOMIC_RELEASE);
}

/*
 * This CPU's vCPU (its VMCS is current here): #BP exiting as the stub
 * wants it.  Run at every VM exit and when gdb lets the CPU go, so each
 * vCPU catches up before its next entry.
 */
void gdb_guest_resync(void)
{
	struct vcpu *v = on_cpu[platform_cpu_id()];
	uint64_t bm;
	bool on = __atomic_load_n(&bp_wanted, __ATOMIC_ACQUIRE);

	if (!v)
		return;
	bm = vmread(VMCS_EXCEPTION_BITMAP);
	if (!!(bm & BIT(VEC_BP)) != on)
		vmwrite(VMCS_EXCEPTION_BITMAP,
			on ? bm | BIT(VEC_BP) : bm & ~BIT(VEC_BP));
}

bool gdbstub_vm_exit(struct vcpu *v, uint32_t reason)
{
	uint32_t info = reason == EXIT_REASON_EXCEPTION_NMI
				? (uint32_t)vmread(VMCS_EXIT_INTR_INFO)
				: 0;

	/*
	 * An NMI from a CPU that gdb stopped: wait with the others, then let
	 * the exit handler service the NMI (membarrier) and unblock NMIs.
	 */
	if (reason == EXIT_REASON_EXCEPTION_NMI &&
	    (info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		gdbstub_park_if_stopping();
		gdb_guest_resync();
		return false;
	}
	gdbstub_reload_debug_regs();
	gdb_guest_resync();
	if (v == step_v && (reason == EXIT_REASON_MTF ||
			    (reason == EXIT_REASON_EXCEPTION_NMI &&
			     (info & 0xff) == VEC_DB))) {
		step_done();
		gdbstub_stop_here(GDB_STOP_TRAP);
		return true;
	}
	/* Only the stub asks for #BP exits (gdb_guest_resync()). */
	if (reason == EXIT_REASON_EXCEPTION_NMI && (info & 0xff) == VEC_BP &&
	    (info & INTR_TYPE_MASK) == INTR_TYPE_SW_EXC) {
		/* RIP is the int3 itself: the exit came before delivery. */
		if (gdbstub_guest_bp_at(vmread(VMCS_GUEST_RIP))) {
			gdbstub_stop_here(GDB_STOP_SWBREAK);
			return true;
		}
		/* The guest's own int3: deliver it as the CPU would have. */
		vmwrite(VMCS_ENTRY_INTR_INFO, (info & 0x7ff) | BIT(31));
		vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
		return true;
	}
	gdbstub_poll();
	return false;
}

/*
 * After the exit was handled: a step that ended in HLT (or anything else
 * that leaves the vCPU waiting) stops here, or it would not end while
 * gdb holds the other CPUs.
 */
void gdbstub_vm_exit_done(struct vcpu *v)
{
	if (v != step_v ||
	    __atomic_load_n(&v->mp_state, __ATOMIC_ACQUIRE) == MP_RUNNABLE)
		return;
	step_done();
	gdbstub_stop_here(GDB_STOP_TRAP);
}
