/* SPDX-License-Identifier: MIT */
/*
 * What tidal writes into guest RAM before the first entry: the start-info
 * block, the GDT and TSS the guest starts with, and for 64-bit guests the
 * identity page tables.  All of it lives in the top TIDAL_AREA_SIZE bytes
 * of guest RAM; the memory map in the start info says so.
 *
 * Pure code (no allocation, no machine access) so host tests run it on a
 * buffer standing in for guest RAM.
 */
#ifndef TIDAL_VMM_GUEST_LAYOUT_H
#define TIDAL_VMM_GUEST_LAYOUT_H

#include "lib/compiler.h"
#include "vmm/elf_loader.h"

#define TIDAL_AREA_SIZE (32 * KiB)
#define GUEST_MEM_MIN	(2 * MiB)
#define GUEST_MEM_MAX	(4 * GiB)
#define GUEST_MEM_ALIGN (2 * MiB)
/* Identity map of 64-bit guests: at least this much, 2 MiB pages. */
#define GUEST_IDMAP_MIN (4 * GiB)

/* Offsets inside the first page of the area. */
#define LAYOUT_MMAP_OFF	   0x40
#define LAYOUT_MMAP_MAX	   8
#define LAYOUT_CMDLINE_OFF 0x100
#define LAYOUT_GDT_OFF	   0xf00
#define LAYOUT_TSS_OFF	   0xf80
#define LAYOUT_TSS_SIZE	   0x68
#define LAYOUT_CMDLINE_MAX (LAYOUT_GDT_OFF - LAYOUT_CMDLINE_OFF - 1)

/* GDT slots: null, code64, data, code32, TSS (16 bytes). */
#define LAYOUT_SEL_TSS	 0x20
#define LAYOUT_GDT_LIMIT 0x2f

struct guest_layout {
	uint64_t mem_bytes;
	uint64_t area_gpa; /* start of tidal's pages */
	uint64_t start_info_gpa;
	uint64_t gdt_gpa;
	uint16_t gdt_limit;
	uint64_t tss_gpa;
	uint64_t cr3;	   /* PML4 of the identity map; 0 for 32-bit */
	uint32_t si_flags; /* TIDAL_SI_* written in the start info */
	/* How the vCPU starts: RIP, EAX, EBX (start_info_gpa), mode. */
	uint64_t entry;
	uint32_t boot_magic;
	bool long_mode;
};

/* Check a guest RAM size: NULL if fine, else the reason. */
const char *guest_mem_check(uint64_t mem_bytes);

/* Where the loader may place segments: [0, mem - TIDAL_AREA_SIZE). */
struct elf_limits guest_elf_limits(uint64_t mem_bytes);

/*
 * Fill tidal's area of @ram (host view of guest RAM, @mem_bytes long) for
 * the image @img, whose command line is @cmdline.  @flags are extra
 * TIDAL_SI_* flags (the long-mode flag follows the image's class).
 * Returns 0, or -1 with a reason in *err.
 */
int guest_layout_build(void *ram, uint64_t mem_bytes,
		       const struct elf_image *img, const char *cmdline,
		       uint64_t tsc_khz, uint32_t flags,
		       struct guest_layout *out, const char **err);

#endif
