/* SPDX-License-Identifier: MIT */
/*
 * The small PC that multiboot (v1) and PVH guests see: where RAM, the
 * reserved legacy area, the ACPI tables, the boot information and the
 * interrupt controllers sit, and the ACPI PM I/O ports.  docs/guest-abi.md
 * describes the same layout for guest writers; keep the two in step.
 *
 * Freestanding (constants only): host tests and guests include it.
 */
#ifndef TIDAL_VMM_PC_H
#define TIDAL_VMM_PC_H

#include <stdint.h>

/* Guest-physical layout. */
#define PC_LOW_RAM_END	 0xa0000ull    /* conventional memory: [0, 640 KiB) */
#define PC_HOLE_END	 0x100000ull   /* [0xA0000, 1 MiB) is reserved */
#define PC_ACPI_BASE	 0xe0000ull    /* RSDP first, then the tables */
#define PC_ACPI_SIZE	 0x10000ull    /* room for the tables */
#define PC_MMIO_START	 0xc0000000ull /* 32-bit MMIO window: [3 GiB, 4 GiB) */
#define PC_IOAPIC_BASE	 0xfec00000ull
#define PC_LAPIC_BASE	 0xfee00000ull
#define PC_HIGH_RAM_BASE 0x100000000ull /* RAM beyond 3 GiB continues here */
/* Boot information (multiboot info or hvm_start_info, memory map, command
 * lines, module list): this much just below tidal's own pages. */
#define PC_INFO_SIZE 0x10000ull

/* ACPI fixed-hardware I/O ports (the FADT points at them). */
#define PC_PM_BASE	  0x600
#define PC_PM1A_EVT	  (PC_PM_BASE + 0) /* status (2 bytes), enable (2) */
#define PC_PM1A_CNT	  (PC_PM_BASE + 4) /* 2 bytes */
#define PC_PM_TMR	  (PC_PM_BASE + 8) /* 4 bytes, 32-bit counter */
#define PC_PM_TMR_HZ	  3579545u
#define PC_SCI_IRQ	  9
#define PC_PM1_SCI_EN	  (1u << 0)
#define PC_PM1_SLP_TYP(v) (((v) >> 10) & 7)
#define PC_PM1_SLP_EN	  (1u << 13)
#define PC_SLP_TYP_S5	  5 /* the value the DSDT's _S5 package gives */

/* Multiboot (v1). */
#define MB1_HEADER_MAGIC  0x1badb002u
#define MB1_BOOT_MAGIC	  0x2badb002u
#define MB1_SEARCH_BYTES  8192
#define MB1_HF_PAGE_ALIGN (1u << 0)
#define MB1_HF_MEMINFO	  (1u << 1)
#define MB1_HF_VIDEO	  (1u << 2)
#define MB1_HF_AOUT	  (1u << 16)
/* Info flags tidal sets. */
#define MB1_INFO_MEM	 (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS	 (1u << 3)
#define MB1_INFO_MMAP	 (1u << 6)
#define MB1_INFO_LOADER	 (1u << 9)

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr;
	uint32_t config_table, boot_loader_name, apm_table;
	uint32_t vbe[6], fb[7]; /* not provided: zero */
};

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb1_mmap_entry {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* PVH (Xen's HVM start info, version 1). */
#define PVH_NOTE_NAME	  "Xen"
#define PVH_NOTE_PHYS32	  18 /* XEN_ELFNOTE_PHYS32_ENTRY */
#define PVH_START_MAGIC	  0x336ec578u
#define PVH_START_VERSION 1

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Memory map types (E820 numbering, used by both formats). */
#define PC_MEM_RAM	1
#define PC_MEM_RESERVED 2

#endif
