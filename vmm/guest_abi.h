/* SPDX-License-Identifier: MIT */
/*
 * The tidal guest ABI: everything a guest can rely on, shared by the
 * hypervisor and the guests it runs.  docs/guest-abi.md explains it for
 * guest writers; keep the two in step.
 *
 * This header is freestanding (stdint only) so that 32-bit and 64-bit
 * guests can include it as they are.
 */
#ifndef TIDAL_VMM_GUEST_ABI_H
#define TIDAL_VMM_GUEST_ABI_H

#include <stdint.h>

#define TIDAL_ABI_VERSION 1

/*
 * Entry state.  At the entry point EAX holds TIDAL_BOOT_MAGIC and EBX (RBX
 * for 64-bit guests) the guest-physical address of the start-info block.
 * Every vCPU starts at the entry point at once, with EDX holding its index
 * (0..nr_vcpus-1), which is also its APIC ID (CPUID.1:EBX[31:24]).
 */
#define TIDAL_BOOT_MAGIC 0x71da1b07u

/*
 * GDT that tidal places in guest memory and loads into GDTR; the segment
 * registers are loaded with these selectors at entry, so a guest may
 * reload them (e.g. after an IRET) without building its own GDT.
 */
#define TIDAL_SEL_CODE64 0x08
#define TIDAL_SEL_DATA	 0x10
#define TIDAL_SEL_CODE32 0x18

/* The start-info block: this header, then mmap_count entries, then the
 * NUL-terminated command line, all inside one guest page. */
#define TIDAL_START_MAGIC 0x53444c54u /* "TLDS" in memory */

struct tidal_start_info {
	uint32_t magic;		 /* TIDAL_START_MAGIC */
	uint32_t version;	 /* TIDAL_ABI_VERSION */
	uint32_t size;		 /* bytes from the start of this header to
				  * the end of the command line's NUL */
	uint32_t flags;		 /* TIDAL_SI_* */
	uint64_t mem_bytes;	 /* guest RAM: [0, mem_bytes) */
	uint32_t mmap_offset;	 /* from the start of this header */
	uint32_t mmap_count;	 /* entries of struct tidal_mem_region */
	uint32_t cmdline_offset; /* from the start of this header */
	uint32_t cmdline_len;	 /* bytes, NUL not counted */
	uint64_t tsc_khz;	 /* TSC frequency, 0 when tidal does not know */
	uint32_t nr_vcpus;	 /* vCPUs of the VM (vcpus=), at least 1 */
	uint32_t reserved;
};

/* Flags of struct tidal_start_info. */
#define TIDAL_SI_LONG_MODE  (1u << 0) /* started in 64-bit mode */
#define TIDAL_SI_TIME_LIMIT (1u << 1) /* a time limit (timeout=) is set */

struct tidal_mem_region {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* TIDAL_MEM_* */
	uint32_t reserved;
};

/* Region types, sorted by base in the map; together they cover all RAM. */
#define TIDAL_MEM_USABLE 1 /* free RAM */
#define TIDAL_MEM_IMAGE	 2 /* the guest's own loaded segments */
#define TIDAL_MEM_TIDAL	 3 /* start info, GDT, page tables: do not touch */

/*
 * VMCALL.  Call number in EAX/RAX, arguments in EBX/RBX, ECX/RCX, EDX/RDX,
 * result in EAX/RAX (negative values are TIDAL_E_* errors).  Other
 * registers are preserved.  Only CPL 0 may make calls.
 */
#define TIDAL_HC_VERSION       0 /* -> TIDAL_ABI_VERSION */
#define TIDAL_HC_CONSOLE_WRITE 1 /* (gpa, len) -> bytes written */
#define TIDAL_HC_EXIT	       2 /* (status): does not return */
#define TIDAL_HC_GET_COUNTER   3 /* (TIDAL_CTR_*) -> value */

/*
 * Memory control, for guests given "memctl" (others get TIDAL_E_PERM).
 * A guest slot maps pages of the guest's own RAM at another guest-physical
 * address; ids are 1..TIDAL_MEM_SLOT_MAX (slot 0 is RAM itself, which a
 * guest cannot change).  Addresses and sizes are multiples of 4 KiB; a
 * slot lies wholly at or above the end of RAM and below
 * TIDAL_MEM_GPA_LIMIT, its backing wholly inside usable RAM.  Each call
 * returns 0 (GET_DIRTY: the number of set bits) or a TIDAL_E_* error,
 * and changes nothing when it fails.  When a call returns, no vCPU can
 * still reach memory through the old mapping.
 */
#define TIDAL_HC_MEM_CREATE    4 /* (id, gpa, struct tidal_mem_create gpa) */
#define TIDAL_HC_MEM_DELETE    5 /* (id) */
#define TIDAL_HC_MEM_MOVE      6 /* (id, new_gpa) */
#define TIDAL_HC_MEM_SET_FLAGS 7 /* (id, TIDAL_MEM_F_*) */
#define TIDAL_HC_MEM_GET_DIRTY 8 /* (id, buffer gpa, buffer bytes) */

/*
 * TIDAL_HC_MEM_CREATE takes (id, gpa, struct tidal_mem_create gpa): the
 * block names the backing and the flags.
 */
struct tidal_mem_create {
	uint64_t ram_gpa; /* first backing page, inside usable RAM */
	uint64_t npages;  /* 4 KiB pages */
	uint64_t flags;	  /* TIDAL_MEM_F_* */
};

#define TIDAL_MEM_F_READONLY  (1u << 0) /* writes get #GP(0) */
#define TIDAL_MEM_F_DIRTY_LOG (1u << 1) /* log writes for GET_DIRTY */
#define TIDAL_MEM_SLOT_MAX    16
#define TIDAL_MEM_GPA_LIMIT   (1ull << 39) /* 512 GiB */

#define TIDAL_E_NOSYS (-1) /* unknown call number */
#define TIDAL_E_INVAL (-2) /* bad argument */
#define TIDAL_E_FAULT (-3) /* buffer outside guest RAM */
#define TIDAL_E_PERM  (-4) /* call made from CPL > 0, or not allowed */
#define TIDAL_E_EXIST (-5) /* slot id in use, or range overlaps a slot */
#define TIDAL_E_NOENT (-6) /* no such slot */
#define TIDAL_E_NOMEM (-7) /* tidal is out of memory for it */

/* Most bytes one console write takes; longer writes are cut there. */
#define TIDAL_CONSOLE_MAX 4096

/* Counters readable with TIDAL_HC_GET_COUNTER. */
#define TIDAL_CTR_EXITS		   0 /* all VM exits so far */
#define TIDAL_CTR_EPT_FAULTS	   1 /* EPT violations handled */
#define TIDAL_CTR_MAPPED_4K	   2 /* leaf mappings present, by size */
#define TIDAL_CTR_MAPPED_2M	   3
#define TIDAL_CTR_MAPPED_1G	   4
#define TIDAL_CTR_FLUSH_REQ	   5  /* TLB flushes the MMU requested */
#define TIDAL_CTR_FLUSH_DONE	   6  /* TLB flushes performed */
#define TIDAL_CTR_HLT		   7  /* HLT exits */
#define TIDAL_CTR_IO		   8  /* I/O exits */
#define TIDAL_CTR_CPUID		   9  /* CPUID exits */
#define TIDAL_CTR_VMCALL	   10 /* VMCALL exits */
#define TIDAL_CTR_PREEMPT	   11 /* preemption-timer exits */
#define TIDAL_CTR_REMOTE_FLUSH	   12 /* flush calls that kicked a vCPU */
#define TIDAL_CTR_REMOTE_FLUSH_REQ 13 /* flush calls (KVM's "requests") */
#define TIDAL_CTR_REQUESTS_SET	   14 /* vCPU request bits set */
#define TIDAL_CTR_IPIS_SENT	   15 /* kick IPIs sent */
#define TIDAL_CTR_IPIS_AVOIDED	   16 /* requests that needed no IPI */
#define TIDAL_CTR_MEM_GP	   17 /* #GP for unbacked/read-only (memctl) */
#define TIDAL_CTR_EPT_RETRIES	   18 /* EPT violations that raced: retried */
#define TIDAL_CTR_INJECTED	   19 /* exceptions tidal injected (#UD, #GP, ...) */
#define TIDAL_CTR_REINJECTED	   20 /* events re-injected after an exit */
#define TIDAL_CTR_INTERRUPTS	   21 /* interrupts and NMIs delivered */
#define TIDAL_CTR_HALTS_BLOCKED	   22 /* HLTs that blocked a physical CPU */
#define TIDAL_CTR_WAKEUPS	   23 /* halted vCPUs woken by an event */
#define TIDAL_CTR_COUNT		   24

/* CPUID leaves tidal answers itself. */
#define TIDAL_CPUID_SIGNATURE 0x40000000u /* EAX max leaf, EBX..EDX "tidal" */
#define TIDAL_CPUID_FEATURES  0x40000001u /* EAX ABI version */
#define TIDAL_CPUID_SIG_EBX   0x61646974u /* "tida" */
#define TIDAL_CPUID_SIG_ECX   0x0000006cu /* "l\0\0\0" */
#define TIDAL_CPUID_SIG_EDX   0x00000000u

/* Devices (I/O ports). */
#define TIDAL_PORT_COM1	 0x3f8 /* 16550 UART, 8 ports */
#define TIDAL_PORT_DEBUG 0xe9  /* byte writes go to the console */
#define TIDAL_PORT_EXIT	 0xf4  /* 32-bit write: exit with that status */

/*
 * The tidal test device: one MMIO page for tests of the instruction
 * emulator (harmless to other guests; hidden by RAM when mem= reaches
 * it).  Any width 1..8 at any offset; reads below the scratch area see
 * the ID and counters, writes there are dropped.
 */
#define TIDAL_TESTDEV_BASE    0xfebff000u
#define TIDAL_TESTDEV_SIZE    0x1000u
#define TIDAL_TESTDEV_MAGIC   0x7464766du /* "mvdt" in memory */
#define TIDAL_TESTDEV_ID      0x00	  /* u32: TIDAL_TESTDEV_MAGIC */
#define TIDAL_TESTDEV_READS   0x08	  /* u64: reads before this one */
#define TIDAL_TESTDEV_WRITES  0x10	  /* u64: writes so far */
#define TIDAL_TESTDEV_SCRATCH 0x100	  /* 0x100-0xfff: read/write bytes */

#endif
