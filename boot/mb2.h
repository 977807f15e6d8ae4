/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 numbers, usable from C and assembly.  The layout of the
 * information block is spelt out in boot/mb2.c, its only reader.
 */
#ifndef TIDAL_BOOT_MB2_H
#define TIDAL_BOOT_MB2_H

#define MB2_HEADER_MAGIC     0xe85250d6
#define MB2_BOOTLOADER_MAGIC 0x36d76289
/* What a multiboot (version 1) loader leaves in EAX. */
#define MB1_BOOTLOADER_MAGIC 0x2badb002

/* Information tag types. */
#define MB2_TAG_END	      0
#define MB2_TAG_CMDLINE	      1
#define MB2_TAG_LOADER_NAME   2
#define MB2_TAG_MODULE	      3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP	      6
#define MB2_TAG_ACPI_OLD      14
#define MB2_TAG_ACPI_NEW      15
#define MB2_TAG_EFI_MMAP      17

/* The least memory tidal accepts, checked in boot/entry.S and main.c. */
#define TIDAL_MIN_MEM_MIB 16

#endif
