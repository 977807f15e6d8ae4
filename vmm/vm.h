/* SPDX-License-Identifier: MIT */
/*
 * A VM and its vCPUs, and the pieces of tidal that work on them: VMCS
 * setup (vmcs.c), the per-vCPU run loop (vcpu.c), exit dispatch (exit.c),
 * requests and kicks between CPUs (request.c), hypercalls (hypercall.c,
 * hc_mem.c), devices (devices.c), guest memory through the TDP MMU
 * (vm_mem.c) and the exit summary (stats.c).  Hypervisor only.
 */
#ifndef TIDAL_VMM_VM_H
#define TIDAL_VMM_VM_H

#include "lib/compiler.h"
#include "lib/platform.h"
#include "lib/spinlock.h"
#include "arch/x86/vmx/vmcs_fields.h"
#include "vmm/boot_format.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_abi.h"
#include "vmm/guest_layout.h"
#include "vmm/legacy.h"
#include "vmm/mmio.h"
#include "vmm/pc_boot.h"
#include "vmm/vlapic.h"
#include "vmm/vuart.h"

struct guard;
struct tdp_mmu;
struct tdp_root;

/* Guest general registers not kept in the VMCS (order: entry.S). */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* An entry of a VM-entry/exit MSR area (SDM: 16 bytes). */
struct msr_entry {
	uint32_t index, reserved;
	uint64_t value;
};

/* STAR, LSTAR, CSTAR, FMASK, KERNEL_GS_BASE, TSC_AUX (vmm/msr.c). */
#define VCPU_SWITCHED_MSRS 6

/* Most vCPUs a VM may have (each needs a physical CPU of its own). */
#define VM_MAX_VCPUS 16

/* Where a vCPU is, for requesters deciding whether to kick it. */
enum vcpu_mode {
	VCPU_OUTSIDE_GUEST = 0, /* in tidal: requests are seen before entry */
	VCPU_IN_GUEST = 1,	/* entering or running the guest */
	VCPU_EXITING_GUEST = 2, /* kicked: an NMI or IPI is on its way */
	VCPU_BLOCKED = 3,	/* halted in intr_block(): an IPI wakes it */
};

/* Per-vCPU counters; each is written only by the vCPU's own CPU. */
struct vcpu_stats {
	uint64_t exits;
	uint64_t by_reason[EXIT_REASON_MAX];
	uint64_t ept_faults, ept_retries;
	uint64_t io, hlt, cpuid, vmcall, preempt;
	uint64_t injected[32]; /* exceptions tidal injected, by vector */
	uint64_t reinjected;   /* events re-injected after an exit */
	/* emulate_vmx.c: exits emulated, device accesses, REP iterations */
	uint64_t mmio, mmio_accesses, string_io, emu_iterations, emu_faults;
	uint64_t kicks;	      /* exits while kicked (by NMI or IPI) */
	uint64_t tlb_flushes; /* TLB_FLUSH requests serviced (INVEPT) */
	uint64_t mem_gp;      /* memctl guests: #GP for unbacked/read-only */
	/* intr.c: local APIC */
	uint64_t interrupts;	/* external interrupts injected */
	uint64_t nmis;		/* NMIs injected */
	uint64_t ipis;		/* IPIs sent through the ICR */
	uint64_t halts_blocked; /* HLTs that blocked the physical CPU */
	uint64_t wakeups;	/* halted vCPUs woken by an event */
	uint64_t timer_fires;	/* APIC timer expiries */
	uint64_t sipi_starts;	/* starts at a SIPI vector */
	/* apicv.c: APIC virtualization */
	uint64_t virt_intr;   /* vectors handed to the CPU (IRR, via RVI) */
	uint64_t apic_access; /* APIC-access exits (emulated accesses) */
	uint64_t apic_write;  /* APIC-write exits */
	uint64_t virt_eoi;    /* EOI-induced exits (level vectors) */
	uint64_t xapic_mmio;  /* xAPIC page accesses emulated (both modes) */
	uint64_t fast_exits;  /* exits handled on the fast path (exit.c) */
};

/*
 * One CPUID answer and all it was made from besides what is fixed for
 * the vCPU (host, vCPU count and index, TSC rate): cpuid_guest() is a
 * function of these, so an equal key gives an equal answer.
 */
struct cpuid_memo {
	uint32_t leaf, sub;
	uint64_t cr4, xcr0;
	uint32_t eax, ebx, ecx, edx;
	bool valid;
};
#define CPUID_MEMO_SLOTS 16

struct vcpu {
	struct vm *vm;
	unsigned int index; /* 0..nr_vcpus-1; also its APIC ID and CPU */
	unsigned int cpu;   /* the physical CPU it runs on */
	struct guest_regs regs;
	phys_addr_t vmcs_pa;
	bool launched;
	uint16_t vpid;
	struct tdp_root *root; /* the TDP MMU root the EPTP points at */
	uint64_t eptp;
	uint64_t preempt_ticks; /* preemption timer reload value */
	/*
	 * MSRs the VMCS has no field for: the guest's values, loaded on
	 * entry and stored on exit (one area serves both), and the host's,
	 * loaded on exit.  msr_count of them are in use.
	 */
	struct msr_entry *msr_guest, *msr_host;
	unsigned int msr_count;
	phys_addr_t msr_page;
	uint64_t xcr0;	     /* the guest's XCR0, loaded around each entry */
	uint64_t cr2;	     /* the guest's CR2 (no VMCS field holds it) */
	uint64_t tsc_offset; /* guest TSC = host TSC + tsc_offset */
	uint64_t tsc_adjust; /* IA32_TSC_ADJUST */
	uint64_t mtrr_def, mtrr_fixed[11], mtrr_var[16]; /* kept, not used */
	/* Requests (request.c): VCPU_REQ_* bits, mode and exit count. */
	unsigned long requests;
	int mode;	   /* enum vcpu_mode */
	uint64_t exit_seq; /* VM exits so far, for requesters that wait */
	int thread_state;  /* vcpu.c: how far an AP's thread got */
	/* intr.c: the local APIC, and whether the vCPU runs or waits. */
	struct vlapic lapic;
	int mp_state; /* enum vcpu_mp_state */
	bool blocked; /* this halt already counted as blocked */
	/* apicv.c: the virtual-APIC page and what the VMCS was last given. */
	phys_addr_t vapic_pa;
	uint64_t eoi_exit[4];
	bool x2apic_virt; /* the VMCS virtualizes x2APIC mode, not the page */
	struct vcpu_stats stats;
	/* exit.c: CPUID answers already made for this vCPU. */
	struct cpuid_memo cpuid_memo[CPUID_MEMO_SLOTS];
};

/* Output collected one line at a time before it reaches tidal's console. */
struct line_buf {
	char buf[128];
	unsigned int len;
	unsigned int idle_len; /* len when idle_since was taken */
	uint8_t esc;	       /* 1: after ESC, 2: inside ESC [ ... */
	uint64_t idle_since;   /* ns: the line last grew */
};

/*
 * VM-wide request counters (request.c), changed atomically by any CPU.
 * flush_calls and flush_ipi_calls are the two figures KVM reports as
 * remote_tlb_flush_requests and remote_tlb_flush.
 */
struct vm_req_stats {
	uint64_t flush_calls;	  /* platform_flush_guest_tlbs() calls */
	uint64_t flush_ipi_calls; /* ... of which kicked at least one vCPU */
	uint64_t reload_calls;	  /* platform_reload_guest_roots() calls */
	uint64_t requests_set;	  /* request bits set, on any vCPU */
	uint64_t ipis_sent;	  /* kicks sent (IPIs and NMIs) */
	uint64_t nmis_sent;	  /* ... of which NMIs */
	uint64_t ipis_avoided;	  /* requests that needed no IPI */
};

/* Test-only options that break the flush protocol on purpose. */
#define VM_DEBUG_NOFLUSH BIT(0) /* service TLB_FLUSH without INVEPT */
#define VM_DEBUG_NOIPI	 BIT(1) /* set requests but neither kick nor wait */

enum vm_state {
	VM_RUNNING,
	VM_EXITED,  /* the guest asked to stop, with a status */
	VM_STOPPED, /* tidal stopped it: always a failure */
};

/* ACPI fixed hardware of PC guests (ports in vmm/pc.h). */
/* "apic=": how the local APICs are done. */
enum apic_mode {
	APIC_MODE_DEFAULT,    /* virtualize where the CPU can */
	APIC_MODE_EMULATE,    /* apic=emulate */
	APIC_MODE_VIRTUALIZE, /* apic=virtualize: refuse to run without */
};

/* APIC virtualization for the VM (apicv.c). */
struct vm_apicv {
	bool on;
	const char *why_not;	   /* when off: the reason, for the boot line */
	phys_addr_t access_pa;	   /* the APIC-access page (never guest RAM) */
	bool access_mapped;	   /* its memslot is there */
	unsigned int x2apic_vcpus; /* vCPUs in x2APIC mode (under lock) */
	spinlock_t lock;
};

struct acpi_pm {
	uint16_t en, cnt;
};

struct vm {
	uint64_t mem_bytes;
	phys_addr_t ram_pa; /* guest RAM: one host-contiguous run */
	void *ram;	    /* its direct-map view */
	struct elf_image img;
	enum guest_format format;
	struct guest_layout layout;
	struct pc_boot pc; /* multiboot and PVH guests */
	struct tdp_mmu *mmu;
	/*
	 * A protected VM ("protected" on the guest's command line): the EPT
	 * the CPU walks is the guard's, the MMU keeps a mirror of it.
	 */
	bool protected;
	struct guard *guard;
	/* "memctl": the guest may change its memslots (hc_mem.c). */
	bool memctl;
	unsigned int debug; /* VM_DEBUG_* */
	/* Kick a vCPU in guest mode with an NMI, not an IPI (request.c). */
	bool kick_nmi;
	unsigned int nr_vcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
	struct vm_req_stats req;

	spinlock_t dev_lock; /* devices and console lines below */
	struct u16550 uart;
	bool uart_irq;		 /* its IRQ 4 output as last driven */
	struct pc_legacy legacy; /* PIC, I/O APIC, PIT, RTC (legacy.h) */
	struct acpi_pm pm;
	struct line_buf com1_out, e9_out;
	/* Bytes typed on tidal's console for COM1, and those it dropped. */
	uint64_t com1_rx_bytes, com1_rx_dropped;
	struct mmio_table mmio;
	struct testdev testdev;
	bool pic_int; /* the 8259's INT output (vlapic_pic_changed) */
	/* vCPUs parked (cli; hlt) or waiting for SIPI: all of them = dead. */
	unsigned int parked;
	bool apic_move_noted; /* intr.c: a moved xAPIC page was reported */
	struct vm_apicv apicv;

	int state; /* enum vm_state; left VM_RUNNING once, by cmpxchg */
	int status;
	uint64_t start_ns, timeout_ns; /* timeout 0: none */
	uint64_t start_tsc; /* the TSC (the guest's too) at the first entry */
};

/* What vm_create() needs besides the image. */
struct vm_config {
	uint64_t mem_bytes;
	uint64_t timeout_ns; /* 0: none */
	unsigned int nr_vcpus;
	unsigned int debug; /* VM_DEBUG_* */
	enum apic_mode apic;
	/* Modules for a multiboot or PVH guest (a tidal ELF takes none). */
	const struct pc_module *mods;
	unsigned int nmods;
};

/*
 * vm.c: create the VM for a loaded image (vCPU 0's VMCS on this CPU; the
 * others are set up on their own CPUs by vm_run); destroy it.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, const void *elf,
	      size_t elf_size, const char *cmdline);
void vm_destroy(struct vm *vm);

/* vmcs.c: on the CPU that will run @v. */
int vcpu_vmcs_init(struct vcpu *v);
void vcpu_vmcs_free(struct vcpu *v);

/*
 * vcpu.c: run every vCPU, vCPU i on CPU i (this CPU is CPU 0), until the
 * VM exits or is stopped and every vCPU has left its run loop.
 */
void vm_run(struct vm *vm);

/*
 * vcpu.c: can vCPUs in guest mode be kicked by NMI (vm->kick_nmi)?  Needs
 * the VMX preemption timer; the first call registers the NMI callback.
 */
bool vcpu_kick_nmi_ready(void);

/* exit.c */
/* Handle one VM exit of @v (its VMCS is current). */
void vcpu_handle_exit(struct vcpu *v, uint32_t raw_reason);
/* Handle an exit that needs no run-loop work; false: not done, go the
 * slow way (vcpu_handle_exit). */
bool vcpu_exit_fastpath(struct vcpu *v, uint32_t raw_reason);
/*
 * Stop the VM as a failure and make every vCPU leave its run loop.  Only
 * the first stop or exit counts; later ones print nothing.
 */
void vm_stop(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/* The guest asked to exit with @status; false if the VM already stopped. */
bool vm_exit_with(struct vm *vm, int status);
void vcpu_dump(struct vcpu *v);

/* hc_mem.c: the memctl hypercalls (TIDAL_HC_MEM_*); a TIDAL_E_* or 0. */
int64_t hc_mem(struct vcpu *v, uint64_t nr, uint64_t a, uint64_t b, uint64_t c);
bool hc_mem_is_call(uint64_t nr);

/* devices.c (handle_io() is in vmm/exits.h) */
/* One port access by the devices, under the VM's device lock. */
uint32_t devices_port_io(struct vm *vm, uint16_t port, unsigned int size,
			 bool in, uint32_t val);
void devices_flush(struct vm *vm);
/*
 * Time-driven device work, called after each VM exit and by whoever
 * wakes a halted vCPU: PIT channel 0 interrupts that fell due, input typed
 * on tidal's console for the guest's COM1.  devices_next_deadline() says
 * when the next timer interrupt is due (platform_time_ns() clock,
 * UINT64_MAX for none) so that a halted vCPU can sleep until then and
 * call devices_tick().  Neither may be called with dev_lock held.
 */
void devices_tick(struct vm *vm);
uint64_t devices_next_deadline(struct vm *vm);
void console_write(struct vm *vm, struct line_buf *lb, const char *s, size_t n);

/*
 * emulate_vmx.c: the instruction emulator on a vCPU.  emulate_mmio()
 * returns false when @gpa is in no MMIO region (the caller reports it);
 * both leave RIP, registers and any injected fault set for the entry.
 */
bool emulate_mmio(struct vcpu *v, uint64_t gpa, uint64_t qual);
void emulate_string_io(struct vcpu *v);

/* vm_mem.c: guest memory through the TDP MMU. */
enum mem_fault {
	MEM_FAULT_FIXED,    /* mapped: re-enter */
	MEM_FAULT_RETRY,    /* raced with a change: re-enter and fault again */
	MEM_FAULT_NOSLOT,   /* no memslot behind the GPA */
	MEM_FAULT_READONLY, /* write to a read-only slot */
	MEM_FAULT_NOMEM,    /* out of page-table memory */
	MEM_FAULT_BUGGED,   /* the MMU bugged the VM: it must not run */
};
int vm_mem_init(struct vm *vm);
void vm_mem_destroy(struct vm *vm);
/* Make sure the vCPU has a valid root; set its EPTP.  0 or -1. */
int vm_mem_load_root(struct vcpu *v);
enum mem_fault vm_mem_fault(struct vcpu *v, uint64_t gpa, uint64_t qual);
/*
 * Map all of guest RAM before the first entry (the "prefault" option),
 * so the guest starts without EPT violations for its RAM.  0, or -1 if
 * it could not (the guest still runs: faults map the rest).
 */
int vm_mem_prefault(struct vm *vm);
struct vm_mem_counts {
	uint64_t mapped[3]; /* 4K, 2M, 1G leaves now present */
	uint64_t pt_pages;  /* page-table pages now in use */
	uint64_t flush_req, flush_done, flush_avoided;
};
void vm_mem_counts(struct vm *vm, struct vm_mem_counts *c);
/* Print the EPT entries that translate @gpa, level by level. */
void vm_mem_dump_walk(struct vm *vm, uint64_t gpa);

/* stats.c */
void vm_print_summary(struct vm *vm);
uint64_t vm_counter(struct vm *vm, unsigned int id);
/* The VM's exit counters: the sum over its vCPUs. */
void vm_sum_stats(struct vm *vm, struct vcpu_stats *out);

#endif
