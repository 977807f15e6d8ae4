// SPDX-License-Identifier: MIT
/*
 * The guest as gdb sees it after "monitor guest" (arch/x86/gdbstub.c):
 * registers from the vCPU's saved state and its VMCS, memory by
 * guest-physical address through the VM's memslots (the TDP MMU's view of
 * guest RAM) or by guest-virtual address through the guest's own page
 * tables, single steps with the monitor trap flag, and breakpoints as
 * int3 in guest memory with #BP exiting.
 *
 * Not supported: x87/SSE registers of the guest (shown unavailable), its
 * CR2/CR8, 32-bit PAE paging, hardware breakpoints and watchpoints in the
 * guest (the debug registers are tidal's).
 */
#include "arch/x86/gdbstub.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx.h"
#include "lib/ebr.h"
#include "lib/gdb_proto.h"
#include "lib/string.h"
#include "mm/memslot.h"
#include "mm/paging.h"
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

static struct vcpu *cur; /* the vCPU whose VMCS is current here */
static bool stepping, step_added_tf;

void gdbstub_vcpu_attach(struct vcpu *v)
{
	cur = v;
}

struct vcpu *gdb_guest_vcpu(void)
{
	return cur;
}

/* gdb's rax..r15 in the vCPU's saved registers; rsp lives in the VMCS. */
static uint64_t *guest_gpr(unsigned int reg)
{
	struct guest_regs *r = &cur->regs;
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

int gdb_guest_read_reg(unsigned int reg, void *val)
{
	unsigned int size = gdb_reg_size(reg);
	uint64_t v;
	uint32_t f;

	if (!cur)
		return -1;
	memset(val, 0, size);
	if (reg < 16 && reg != GDB_REG_RSP)
		v = *guest_gpr(reg);
	else if ((f = guest_field(reg)))
		v = vmread(f);
	else
		return -1;
	memcpy(val, &v, size < 8 ? size : 8);
	return 0;
}

/* Only what cannot break VM entry: GPRs, RSP, RIP and the plain flags. */
int gdb_guest_write_reg(unsigned int reg, const void *val)
{
	unsigned int size = gdb_reg_size(reg);
	uint64_t v = 0;

	if (!cur)
		return -1;
	memcpy(&v, val, size < 8 ? size : 8);
	if (reg < 16 && reg != GDB_REG_RSP)
		*guest_gpr(reg) = v;
	else if (reg == GDB_REG_RSP || reg == GDB_REG_RIP)
		vmwrite(guest_field(reg), v);
	else if (reg == GDB_REG_EFLAGS)
		vmwrite(VMCS_GUEST_RFLAGS,
			(vmread(VMCS_GUEST_RFLAGS) & ~0x8d5ull) | (v & 0x8d5));
	else
		return -1;
	return 0;
}

/* Guest-physical access to at most one page, through the memslots. */
static int gpa_access(uint64_t gpa, void *buf, size_t n, bool write)
{
	const struct memslot *slot;
	uint64_t hpa;
	int rc = -1;

	ebr_read_lock();
	slot = memslot_find(memslot_set_current(cur->vm->mmu), gpa >> 12);
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

static bool read_gpa_u64(uint64_t gpa, uint64_t *e, unsigned int bytes)
{
	*e = 0;
	return !gpa_access(gpa, e, bytes, false);
}

/* The guest's own translation of @gva, or -1 (not mapped, or unsupported). */
static uint64_t gva_to_gpa(uint64_t gva)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t table = vmread(VMCS_GUEST_CR3), e;

	if (!(cr0 & CR0_PG))
		return gva & 0xffffffffull;
	if (vmread(VMCS_GUEST_EFER) & EFER_LMA) {
		table &= 0x000ffffffffff000ull;
		for (int level = 4; level >= 1; level--) {
			unsigned int sh = 12 + 9 * (level - 1);

			if (!read_gpa_u64(table + ((gva >> sh) & 511) * 8, &e,
					  8) ||
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
	if (cr4 & CR4_PAE)
		return ~0ull; /* 32-bit PAE paging: not supported */
	table &= 0xfffff000ull;
	if (!read_gpa_u64(table + ((gva >> 22) & 1023) * 4, &e, 4) || !(e & 1))
		return ~0ull;
	if ((e & BIT(7)) && (cr4 & CR4_PSE))
		return (e & 0xffc00000ull) | (gva & 0x3fffff);
	table = e & 0xfffff000ull;
	if (!read_gpa_u64(table + ((gva >> 12) & 1023) * 4, &e, 4) || !(e & 1))
		return ~0ull;
	return (e & 0xfffff000ull) | (gva & 0xfff);
}

static int guest_access(uint64_t addr, void *buf, size_t n, bool phys,
			bool write)
{
	if (!cur)
		return -1;
	while (n) {
		size_t chunk = 4096 - (addr & 0xfff);
		uint64_t gpa = phys ? addr : gva_to_gpa(addr);

		if (chunk > n)
			chunk = n;
		if (gpa == ~0ull || gpa_access(gpa, buf, chunk, write))
			return -1;
		addr += chunk;
		buf = (uint8_t *)buf + chunk;
		n -= chunk;
	}
	return 0;
}

int gdb_guest_read_mem(uint64_t addr, void *buf, size_t n, bool phys)
{
	return guest_access(addr, buf, n, phys, false);
}

int gdb_guest_write_mem(uint64_t addr, const void *buf, size_t n, bool phys)
{
	return guest_access(addr, (void *)buf, n, phys, true);
}

/*
 * One guest instruction: the monitor trap flag where the CPU has it, and
 * the guest's trap flag with #DB exiting as well, because Bochs 2.7 lets
 * guests run on past an MTF request.  Whichever exit comes first stops.
 */
int gdb_guest_arm_step(void)
{
	uint64_t fl;

	if (!cur)
		return -1;
	if (rdmsr(MSR_VMX_PROCBASED_CTLS) >> 32 & PROC_MTF)
		vmwrite(VMCS_PROC_CONTROLS,
			vmread(VMCS_PROC_CONTROLS) | PROC_MTF);
	fl = vmread(VMCS_GUEST_RFLAGS);
	step_added_tf = !(fl & RFLAGS_TF);
	vmwrite(VMCS_GUEST_RFLAGS, fl | RFLAGS_TF);
	vmwrite(VMCS_EXCEPTION_BITMAP,
		vmread(VMCS_EXCEPTION_BITMAP) | BIT(VEC_DB));
	stepping = true;
	return 0;
}

/* The step is over: undo what gdb_guest_arm_step() changed. */
static void step_done(void)
{
	vmwrite(VMCS_PROC_CONTROLS,
		vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_MTF);
	if (step_added_tf)
		vmwrite(VMCS_GUEST_RFLAGS,
			vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_TF);
	vmwrite(VMCS_EXCEPTION_BITMAP,
		vmread(VMCS_EXCEPTION_BITMAP) & ~BIT(VEC_DB));
	stepping = false;
}

void gdb_guest_bp_exiting(bool on)
{
	uint64_t bm = vmread(VMCS_EXCEPTION_BITMAP);

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
		return false;
	}
	/* gdb sees vCPU 0 ("monitor guest"); the others just run. */
	if (v->index != 0)
		return false;
	cur = v;
	gdbstub_reload_debug_regs();
	if (stepping && (reason == EXIT_REASON_MTF ||
			 (reason == EXIT_REASON_EXCEPTION_NMI &&
			  (info & 0xff) == VEC_DB))) {
		step_done();
		gdbstub_stop_here(GDB_STOP_TRAP);
		return true;
	}
	/* Only the stub asks for #BP exits (gdb_guest_bp_exiting()). */
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
