/* SPDX-License-Identifier: MIT */
/*
 * A VM and its vCPU, and the pieces of tidal that work on them: VMCS setup
 * (vmcs.c), the run loop and exit dispatch (exit.c), hypercalls
 * (hypercall.c), devices (devices.c), guest memory through the TDP MMU
 * (vm_mem.c) and the exit summary (stats.c).  Hypervisor only.
 */
#ifndef TIDAL_VMM_VM_H
#define TIDAL_VMM_VM_H

#include "lib/compiler.h"
#include "lib/platform.h"
#include "arch/x86/vmx/vmcs_fields.h"
#include "vmm/boot_format.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_abi.h"
#include "vmm/guest_layout.h"
#include "vmm/pc_boot.h"

struct guard;
struct tdp_mmu;
struct tdp_root;

/* Guest general registers not kept in the VMCS (order: entry.S). */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vcpu {
	struct vm *vm;
	struct guest_regs regs;
	phys_addr_t vmcs_pa;
	bool launched;
	uint16_t vpid;
	struct tdp_root *root; /* the TDP MMU root the EPTP points at */
	uint64_t eptp;
	uint64_t preempt_ticks; /* preemption timer reload value */
};

/* Output collected one line at a time before it reaches tidal's console. */
struct line_buf {
	char buf[128];
	unsigned int len;
};

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
};

struct vm_stats {
	uint64_t exits;
	uint64_t by_reason[EXIT_REASON_MAX];
	uint64_t ept_faults, ept_retries;
	uint64_t io, hlt, cpuid, vmcall, preempt, msr_gp;
};

enum vm_state {
	VM_RUNNING,
	VM_EXITED,  /* the guest asked to stop, with a status */
	VM_STOPPED, /* tidal stopped it: always a failure */
};

/* ACPI fixed hardware of PC guests (ports in vmm/pc.h). */
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
	struct vcpu vcpu;

	struct uart16550 uart;
	struct acpi_pm pm;
	struct line_buf com1_out, e9_out;

	struct vm_stats stats;
	enum vm_state state;
	int status;
	uint64_t start_ns, timeout_ns; /* timeout 0: none */
};

/* vm.c: create the VM for a loaded image (and the modules handed to a
 * multiboot or PVH guest); destroy it. */
int vm_create(struct vm *vm, uint64_t mem_bytes, const void *elf,
	      size_t elf_size, const char *cmdline,
	      const struct pc_module *mods, unsigned int nmods,
	      uint64_t timeout_ns);
void vm_destroy(struct vm *vm);

/* vmcs.c */
int vcpu_vmcs_init(struct vcpu *v);
void vcpu_vmcs_free(struct vcpu *v);

/* exit.c: run until the VM exits or is stopped. */
void vm_run(struct vm *vm);
void vm_stop(struct vm *vm, const char *fmt, ...) __printf(2, 3);
void vcpu_dump(struct vcpu *v);
void vcpu_skip_insn(struct vcpu *v);
void vcpu_inject_gp(struct vcpu *v);

/* hypercall.c */
void handle_vmcall(struct vcpu *v);

/* devices.c: I/O port exits.  Returns false when the VM was stopped. */
bool handle_io(struct vcpu *v, uint64_t qual);
void devices_flush(struct vm *vm);
void console_write(struct vm *vm, struct line_buf *lb, const char *s, size_t n);

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

#endif
