/* SPDX-License-Identifier: MIT */
/*
 * Guest ELF validation and loading.
 *
 * elf_parse() checks a guest image completely before anything is copied:
 * header fields, program headers inside the file, segments inside the
 * guest RAM tidal lets the guest use, no overlap between segments, entry
 * point inside an executable segment.  Every rejection has its own error
 * code with a readable message, plus the index of the program header at
 * fault where there is one.  elf_load() then copies the segments and
 * zeroes their tails; it trusts only what elf_parse() produced.
 *
 * Pure code: no allocation, no platform calls, so host tests link it.
 */
#ifndef TIDAL_VMM_ELF_LOADER_H
#define TIDAL_VMM_ELF_LOADER_H

#include "lib/compiler.h"

#define ELF_MAX_SEGMENTS 16
#define ELF_MAX_PHDRS	 64

enum elf_error {
	ELF_OK = 0,
	ELF_E_TOO_SMALL,	/* file shorter than an ELF header */
	ELF_E_MAGIC,		/* no \x7fELF */
	ELF_E_CLASS,		/* neither ELFCLASS32 nor ELFCLASS64 */
	ELF_E_DATA,		/* not little-endian */
	ELF_E_VERSION,		/* e_ident/e_version not EV_CURRENT */
	ELF_E_TYPE,		/* not ET_EXEC */
	ELF_E_MACHINE,		/* machine does not match the class */
	ELF_E_EHSIZE,		/* e_ehsize wrong for the class */
	ELF_E_PHENTSIZE,	/* e_phentsize wrong for the class */
	ELF_E_NO_PHDRS,		/* e_phnum == 0 */
	ELF_E_TOO_MANY_PHDRS,	/* e_phnum > ELF_MAX_PHDRS */
	ELF_E_PHDRS_OUTSIDE,	/* program header table past end of file */
	ELF_E_INTERP,		/* PT_INTERP/PT_DYNAMIC: not a static image */
	ELF_E_FILESZ,		/* p_filesz > p_memsz */
	ELF_E_SEG_OUTSIDE_FILE, /* segment's bytes past end of file */
	ELF_E_SEG_OVERFLOW,	/* p_paddr + p_memsz wraps around */
	ELF_E_VADDR,		/* p_vaddr != p_paddr */
	ELF_E_SEG_OUTSIDE_RAM,	/* segment beyond guest RAM */
	ELF_E_SEG_RESERVED,	/* segment over tidal's pages in guest RAM */
	ELF_E_TOO_MANY_SEGS,	/* more than ELF_MAX_SEGMENTS PT_LOADs */
	ELF_E_OVERLAP,		/* two PT_LOAD segments overlap */
	ELF_E_NO_LOAD,		/* no PT_LOAD with bytes in it */
	ELF_E_ENTRY,		/* entry point outside executable segments */
	ELF_E_SEG_HOLE,		/* segment over the limits' reserved hole */
	ELF_E_COUNT
};

struct elf_segment {
	uint64_t gpa;	   /* guest-physical load address (== p_vaddr) */
	uint64_t memsz;	   /* bytes in guest memory */
	uint64_t offset;   /* file offset of the first byte */
	uint64_t filesz;   /* bytes copied from the file; the rest is zeroed */
	uint32_t flags;	   /* PF_X/PF_W/PF_R */
	unsigned int phdr; /* index of its program header */
	uint64_t vaddr;	   /* p_vaddr (differs only for PC kernels) */
};

/* Where a guest image may go: [0, usable_end) of RAM that ends at
 * ram_bytes; [usable_end, ram_bytes) holds tidal's pages.  PC guests
 * (multiboot, PVH) load by physical address whatever p_vaddr says, and
 * keep out of [hole_lo, hole_hi) (the PC's 0xA0000-0xFFFFF). */
struct elf_limits {
	uint64_t ram_bytes;
	uint64_t usable_end;
	bool by_paddr;	     /* p_vaddr may differ from p_paddr */
	bool no_entry_check; /* the caller checks its own entry point */
	uint64_t hole_lo, hole_hi;
};

struct elf_image {
	unsigned int bits; /* 32 or 64 */
	uint64_t entry;
	unsigned int nsegs;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	uint64_t lo, hi; /* lowest GPA used, one past the highest */
	int bad_phdr;	 /* program header an error is about, or -1 */
};

#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

enum elf_error elf_parse(const void *file, size_t size,
			 const struct elf_limits *lim, struct elf_image *img);
const char *elf_strerror(enum elf_error err);
/*
 * Find the first ELF note called @name with type @type in the image's
 * PT_NOTE segments.  Returns 1 with its descriptor's file offset and size,
 * 0 when there is none, or -1 when a note segment is malformed.  The ELF
 * header must have passed elf_parse()'s header checks (it checks again).
 */
int elf_find_note(const void *file, size_t size, const char *name,
		  uint32_t type, uint64_t *desc_off, uint32_t *desc_size);
/* True if @addr lies inside an executable segment of @img. */
bool elf_addr_executable(const struct elf_image *img, uint64_t addr);

/* Copy the segments into guest RAM (ram = host view of GPA 0). */
void elf_load(const struct elf_image *img, const void *file, void *ram);

#endif
