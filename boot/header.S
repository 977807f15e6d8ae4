/* SPDX-License-Identifier: MIT */
/*
 * Boot loader headers, placed first in the image by linker.ld.
 *
 * The multiboot2 header is the real one.  The multiboot (version 1) header
 * exists only so that a multiboot1 loader (GRUB's "multiboot" command)
 * starts tidal at all, and tidal can then tell the user, in clear words,
 * that it needs multiboot2 (boot/entry.S checks the magic).
 */
#include "boot/mb2.h"

#define MB2_ARCH_I386		0
#define MB2_TAG_INFO_REQUEST	1
#define MB2_TAG_OPTIONAL	1

	.section .multiboot, "a"

	.balign 8
mb2_header:
	.long	MB2_HEADER_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	-(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/*
	 * Information we want.  Marked optional: the parser copes with any of
	 * them missing (e.g. no RSDP), and a loader that does not know one
	 * must still boot us.
	 */
	.balign 8
info_req:
	.short	MB2_TAG_INFO_REQUEST
	.short	MB2_TAG_OPTIONAL
	.long	info_req_end - info_req
	.long	1	/* command line */
	.long	2	/* boot loader name */
	.long	3	/* modules */
	.long	4	/* basic memory information */
	.long	6	/* memory map */
	.long	14	/* ACPI 1.0 RSDP */
	.long	15	/* ACPI 2.0+ RSDP */
	.long	17	/* EFI memory map */
info_req_end:

	.balign 8
	.short	MB2_TAG_END
	.short	0
	.long	8
mb2_header_end:

	/* Multiboot 1: magic, flags (none needed for an ELF image), checksum. */
	.balign 4
	.long	0x1badb002
	.long	0
	.long	-0x1badb002
