/* SPDX-License-Identifier: MIT */
/*
 * Booting a multiboot (v1) or PVH guest on tidal's small PC: the memory
 * map (RAM from 0 with the 0xA0000-0xFFFFF hole, the MMIO window below
 * 4 GiB, RAM beyond 3 GiB moved above 4 GiB), the ACPI tables, the
 * modules copied after the kernel, and the boot information each protocol
 * defines.  Layout constants: vmm/pc.h.
 *
 * Pure code: host tests run it on a buffer standing in for guest RAM.
 */
#ifndef TIDAL_VMM_PC_BOOT_H
#define TIDAL_VMM_PC_BOOT_H

#include "lib/compiler.h"
#include "vmm/boot_format.h"

#define PC_MMAP_MAX    8
#define PC_MODULES_MAX 32
#define PC_LOADER_NAME "tidal"

struct pc_module {
	const void *data;
	size_t size;
	const char *cmdline; /* may be NULL */
};

struct pc_boot_config {
	uint64_t mem_bytes; /* all guest RAM, low and high */
	unsigned int ncpus;
	const char *cmdline; /* may be NULL */
	const struct pc_module *mods;
	unsigned int nmods;
};

struct pc_mem_region {
	uint64_t addr, size;
	uint32_t type; /* PC_MEM_* */
};

struct pc_boot {
	uint64_t low_top;    /* end of RAM below the MMIO window */
	uint64_t info_gpa;   /* start of the boot information area */
	uint64_t start_gpa;  /* multiboot info / hvm_start_info: EBX */
	uint32_t boot_magic; /* EAX at entry (0 for PVH) */
	uint64_t rsdp_gpa;
	uint64_t mods_end; /* one past the last module byte */
	unsigned int nmap;
	struct pc_mem_region map[PC_MMAP_MAX];
};

/* RAM below the MMIO window: [0, pc_low_top(mem)). */
uint64_t pc_low_top(uint64_t mem_bytes);
/* Guest-physical address -> offset in the host run of guest RAM, or
 * UINT64_MAX when no RAM is there. */
uint64_t pc_ram_offset(uint64_t mem_bytes, uint64_t gpa);
/* Where a PC kernel's segments may go. */
struct elf_limits pc_elf_limits(uint64_t mem_bytes);

/*
 * Write the ACPI tables, modules and boot information for @img (already
 * loaded, or about to be: the segments' bytes are not touched) into
 * @ram.  Returns 0, or -1 with a one-line reason in *err.
 */
int pc_boot_build(void *ram, const struct pc_boot_config *cfg,
		  const struct guest_image *img, struct pc_boot *out,
		  const char **err);

#endif
