/* SPDX-License-Identifier: MIT */
/*
 * What the boot loader told tidal, parsed and checked (boot/mb2.c).
 *
 * Pointers (command lines, the RSDP copy) point into the multiboot2
 * information block itself, which the frame allocator keeps reserved for
 * the whole run, so they stay valid.  Every string has been checked to be
 * NUL-terminated inside its tag.  Physical addresses are plain numbers;
 * turn them into pointers with phys_to_virt() (mm/paging.h).
 */
#ifndef TIDAL_BOOT_BOOTINFO_H
#define TIDAL_BOOT_BOOTINFO_H

#include "lib/compiler.h"
#include "boot/mb2.h"

#define BOOT_MAX_MMAP	 128
#define BOOT_MAX_MODULES 16

/* Memory map entry types, after translation from e820 or EFI types. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI_RECLAIM = 3,
	BOOT_MEM_ACPI_NVS = 4,
	BOOT_MEM_BAD = 5,
};

struct boot_mem_range {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum boot_mem_type */
};

struct boot_module {
	uint64_t start; /* physical, first byte */
	uint64_t end;	/* physical, one past the last byte */
	const char *cmdline; /* "" when the loader gave none */
};

enum boot_mmap_source {
	BOOT_MMAP_NONE = 0,
	BOOT_MMAP_BIOS = 1, /* multiboot2 tag 6 (e820 style) */
	BOOT_MMAP_EFI = 2,  /* multiboot2 tag 17 (EFI memory descriptors) */
};

struct boot_info {
	/* The information block itself: keep it reserved. */
	uint64_t mbi_phys;
	uint32_t mbi_size;

	const char *cmdline;	 /* hypervisor command line, "" if none */
	const char *loader_name; /* "" if none */

	bool has_basic_mem;
	uint32_t mem_lower_kib, mem_upper_kib;

	enum boot_mmap_source mmap_source;
	unsigned int mmap_count;
	struct boot_mem_range mmap[BOOT_MAX_MMAP];
	/* Entries the table had no room for (reported, not fatal). */
	unsigned int mmap_dropped;

	unsigned int module_count;
	struct boot_module modules[BOOT_MAX_MODULES];

	/* A copy of the ACPI RSDP (v1: 20 bytes, v2+: its length). */
	const void *rsdp;
	uint32_t rsdp_len;
	bool rsdp_v2;
};

/*
 * Parse the information block at @mbi, of which @avail bytes may be read
 * (the parser never reads beyond min(@avail, the block's own total_size)).
 * @mbi_phys is recorded in @bi.  Returns 0, or -1 with a human-readable
 * reason written to @err (@errlen bytes, always NUL-terminated).
 */
int mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys,
	      struct boot_info *bi, char *err, size_t errlen);

/* Sum of the usable memory map ranges, in bytes. */
uint64_t boot_usable_bytes(const struct boot_info *bi);

#endif
