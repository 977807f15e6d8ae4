/* SPDX-License-Identifier: MIT */
/*
 * The x86 instruction emulator behind MMIO and string I/O (vmm/emulate.c;
 * the forms it accepts are listed at the top of that file).
 *
 * Portable: it touches no hardware.  The caller fills a struct emu_state
 * with the guest's registers, segments and control registers, and passes
 * a struct emu_ops through which the emulator reaches guest-physical
 * memory (RAM and MMIO devices alike) and I/O ports.  Guest-virtual
 * addresses are translated by the guest page-table walker in here
 * (emu_translate), so a bad guest address becomes the architectural
 * fault (#PF with error code and CR2, #GP or #SS) for the caller to
 * inject.  The hypervisor implements the ops with the VMCS and the VM's
 * memory (vmm/emulate_vmx.c); the host test with arrays.
 */
#ifndef TIDAL_VMM_EMULATE_H
#define TIDAL_VMM_EMULATE_H

#include "lib/compiler.h"

enum emu_seg { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS, EMU_NSEG };

/* General registers in encoding order (RAX=0 ... R15=15). */
enum { EMU_RAX, EMU_RCX, EMU_RDX, EMU_RBX, EMU_RSP, EMU_RBP, EMU_RSI, EMU_RDI };

struct emu_segment {
	uint64_t base;
	uint32_t limit; /* byte granular (as the VMCS keeps it) */
	uint32_t ar;	/* VMX access rights: type 3:0, S 4, DPL 6:5, P 7,
			   L 13, D/B 14, G 15, unusable 16 */
};

struct emu_state {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t pdpte[4]; /* PAE paging: the PDPTEs the CPU loaded */
	struct emu_segment seg[EMU_NSEG];
	unsigned int maxphyaddr; /* physical address width, e.g. 36..52 */
};

/* What an op returns. */
enum {
	EMU_OP_OK = 0,
	EMU_OP_NONE = 1, /* nothing at that guest-physical address */
	EMU_OP_STOP = 2, /* the device stopped the VM (e.g. the exit port) */
};

struct emu_ops {
	/*
	 * Guest-physical memory, @len 1..8 bytes inside one page: RAM, or a
	 * device when @device_ok (page-table walks and instruction fetches
	 * pass false: they never go to a device).
	 */
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, unsigned int len,
			 bool device_ok);
	int (*write_phys)(void *ctx, uint64_t gpa, const void *buf,
			  unsigned int len, bool device_ok);
	/* I/O ports, @size 1, 2 or 4. */
	int (*port_in)(void *ctx, uint16_t port, unsigned int size,
		       uint32_t *val);
	int (*port_out)(void *ctx, uint16_t port, unsigned int size,
			uint32_t val);
	void *ctx;
};

enum emu_op {
	EMU_OP_INVALID,
	EMU_MOV,   /* dst <- src */
	EMU_MOVZX, /* reg <- zero-extended memory */
	EMU_MOVSX, /* reg <- sign-extended memory (also MOVSXD) */
	EMU_ADD,
	EMU_OR,
	EMU_ADC,
	EMU_SBB,
	EMU_AND,
	EMU_SUB,
	EMU_XOR,
	EMU_CMP,
	EMU_TEST,
	EMU_XCHG,
	EMU_STOS,
	EMU_LODS,
	EMU_MOVS,
	EMU_INS,
	EMU_OUTS,
};

/* Where the data goes, for two-operand forms. */
enum emu_dir {
	EMU_TO_MEM,   /* memory is the destination (store, ALU to memory) */
	EMU_FROM_MEM, /* memory is the source (load, ALU into a register) */
};

struct emu_insn {
	uint8_t bytes[15];
	uint8_t len;
	enum emu_op op;
	enum emu_dir dir;
	uint8_t opsize;	  /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t memsize;  /* memory operand size (MOVZX/MOVSX source) */
	uint8_t addrsize; /* 2, 4, 8 */
	uint8_t seg;	  /* enum emu_seg of the memory operand */
	uint8_t rep;	  /* 0, 0xf3 (REP/REPE) or 0xf2 (REPNE) */
	bool lock;
	bool rex;
	int reg;       /* register operand (0..15), -1: none */
	bool reg_high; /* reg is AH/CH/DH/BH */
	bool has_imm;
	uint64_t imm; /* sign-extended to the operand size */
	/* Memory operand of ModRM and moffs forms: base + index*scale + disp */
	bool has_mem;
	int base, index; /* -1: none */
	uint8_t scale;
	bool rip_rel;
	int64_t disp;
};

/* Outcome of emu_decode() and emu_run(). */
enum emu_result {
	EMU_DONE,      /* emulated: the state has the new registers and RIP */
	EMU_FAULT,     /* inject fault (RIP unchanged; REP progress kept) */
	EMU_UNHANDLED, /* cannot emulate: stop the VM, reason in why */
	EMU_STOPPED,   /* a device stopped the VM */
};

struct emu_fault {
	uint8_t vector;
	bool has_error;
	uint32_t error;
	uint64_t cr2; /* #PF only */
};

#define EMU_VEC_UD 6
#define EMU_VEC_SS 12
#define EMU_VEC_GP 13
#define EMU_VEC_PF 14

/* #PF error code bits. */
#define EMU_PF_P    BIT(0)
#define EMU_PF_W    BIT(1)
#define EMU_PF_U    BIT(2)
#define EMU_PF_RSVD BIT(3)
#define EMU_PF_I    BIT(4)

struct emu_ctx {
	struct emu_state *st;
	const struct emu_ops *ops;
	struct emu_insn insn;
	struct emu_fault fault;
	const char *why;  /* EMU_UNHANDLED: a static reason */
	uint64_t bad_gpa; /* ... and the address, when one is involved */
	bool has_bad_gpa;
	uint64_t iterations; /* string iterations performed */
	/*
	 * Upper bound on REP iterations in one call (0: 4096).  When it is
	 * reached the registers say how far the instruction got and RIP
	 * still points at it, so the guest executes it again to go on.
	 */
	uint64_t max_iterations;
	/* Set for an I/O exit: anything but INS/OUTS at RIP is refused. */
	bool string_io_only;
};

/* Access kinds for emu_translate(). */
enum emu_access { EMU_READ, EMU_WRITE, EMU_FETCH };

/* Code size of the current mode: 2, 4 or 8 (from CR0.PE, EFER.LMA, CS). */
unsigned int emu_code_size(const struct emu_state *st);

/*
 * Guest-virtual (linear) to guest-physical through the guest's page tables
 * (none, 32-bit, PAE or 4-level), with the permission checks of an access
 * of @kind at the current CPL; sets accessed/dirty bits.  EMU_DONE with
 * *gpa, EMU_FAULT with ctx->fault (a #PF), EMU_UNHANDLED with ctx->why.
 */
enum emu_result emu_translate(struct emu_ctx *c, uint64_t la,
			      enum emu_access kind, uint64_t *gpa);

/* Decode the instruction at CS:RIP into c->insn (fetching via the walk). */
enum emu_result emu_decode(struct emu_ctx *c);

/* Offset of the ModRM/moffs memory operand (before the segment base). */
uint64_t emu_effective_address(const struct emu_state *st,
			       const struct emu_insn *in);

/* Decode and execute the instruction at CS:RIP. */
enum emu_result emu_run(struct emu_ctx *c);

/* The instruction bytes as "88 07 ..." for messages (at least 46 bytes). */
void emu_bytes_str(const struct emu_ctx *c, char *buf, size_t size);

#endif
