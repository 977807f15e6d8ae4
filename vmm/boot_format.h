/* SPDX-License-Identifier: MIT */
/*
 * Which boot protocol a guest image speaks, detected from its bytes:
 *
 *   PVH        an ELF image with a Xen PHYS32_ENTRY note (Linux's vmlinux)
 *   multiboot  a multiboot (v1) header in the first 8 KiB of an ELF image
 *   tidal      any other valid ELF image (the tidal guest ABI)
 *
 * Everything else is refused with one clear reason: a Linux bzImage, an
 * a.out-kludge or video-mode multiboot kernel, a file that is none of
 * these.  Every field is checked before it is used.  Pure code (no
 * allocation, no machine access): host tests feed it hostile images.
 */
#ifndef TIDAL_VMM_BOOT_FORMAT_H
#define TIDAL_VMM_BOOT_FORMAT_H

#include "lib/compiler.h"
#include "vmm/elf_loader.h"

enum guest_format {
	GUEST_FMT_TIDAL,
	GUEST_FMT_MB1,
	GUEST_FMT_PVH,
};

enum fmt_error {
	FMT_OK = 0,
	FMT_E_ELF,	    /* the ELF image itself: see elf_err */
	FMT_E_UNKNOWN,	    /* not ELF, no multiboot header */
	FMT_E_BZIMAGE,	    /* a Linux bzImage */
	FMT_E_MB1_CHECKSUM, /* multiboot magic with a bad checksum */
	FMT_E_MB1_AOUT,	    /* multiboot a.out kludge (flag 16) */
	FMT_E_MB1_VIDEO,    /* multiboot video mode request (flag 2) */
	FMT_E_MB1_FLAGS,    /* an unknown required multiboot flag */
	FMT_E_MB1_NOT_ELF,  /* multiboot header in a non-ELF file */
	FMT_E_PVH_NOTE,	    /* malformed note segment / entry note */
	FMT_E_PVH_ENTRY,    /* PVH entry not in an executable segment */
	FMT_E_COUNT
};

struct guest_image {
	enum guest_format fmt;
	struct elf_image elf;
	enum elf_error elf_err; /* with FMT_E_ELF */
	uint64_t entry;		/* where the vCPU starts */
	uint32_t mb1_flags;	/* multiboot header flags */
	uint32_t mb1_offset;	/* file offset of the multiboot header */
};

/*
 * Detect and validate @file.  @tidal_lim bounds tidal-ELF guests,
 * @pc_lim multiboot and PVH guests (guest_layout.h / pc_boot.h make
 * them).
 */
enum fmt_error guest_image_parse(const void *file, size_t size,
				 const struct elf_limits *tidal_lim,
				 const struct elf_limits *pc_lim,
				 struct guest_image *img);
const char *fmt_strerror(enum fmt_error err);
const char *guest_format_name(enum guest_format fmt);

#endif
