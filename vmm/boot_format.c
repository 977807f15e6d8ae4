// SPDX-License-Identifier: MIT
/* Guest image format detection; see boot_format.h for the contract. */
#include "vmm/boot_format.h"
#include "vmm/pc.h"

static const char *const messages[FMT_E_COUNT] = {
	[FMT_OK] = "ok",
	[FMT_E_ELF] = "bad ELF image",
	[FMT_E_UNKNOWN] = "unsupported guest image format (want a tidal ELF, "
			  "a multiboot (v1) ELF kernel or a PVH ELF kernel)",
	[FMT_E_BZIMAGE] = "Linux bzImage is not supported: boot its "
			  "uncompressed vmlinux (PVH), see README",
	[FMT_E_MB1_CHECKSUM] = "multiboot header checksum is wrong",
	[FMT_E_MB1_AOUT] = "multiboot a.out kludge (header flag 16) is not "
			   "supported: link the kernel as ELF",
	[FMT_E_MB1_VIDEO] = "multiboot video mode (header flag 2) is not "
			    "supported: tidal has no framebuffer",
	[FMT_E_MB1_FLAGS] = "multiboot header asks for an unknown required "
			    "feature (flags 3-15)",
	[FMT_E_MB1_NOT_ELF] = "multiboot kernel is not an ELF file",
	[FMT_E_PVH_NOTE] = "malformed ELF note (PVH entry)",
	[FMT_E_PVH_ENTRY] = "PVH entry point is not a 32-bit address inside "
			    "an executable segment",
};

const char *fmt_strerror(enum fmt_error err)
{
	if ((unsigned int)err >= FMT_E_COUNT)
		return "unknown guest format error";
	return messages[err];
}

const char *guest_format_name(enum guest_format fmt)
{
	switch (fmt) {
	case GUEST_FMT_MB1:
		return "multiboot";
	case GUEST_FMT_PVH:
		return "PVH";
	default:
		return "tidal ELF";
	}
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static bool is_elf(const uint8_t *f, size_t size)
{
	return size >= 4 && f[0] == 0x7f && f[1] == 'E' && f[2] == 'L' &&
	       f[3] == 'F';
}

/* The Linux boot protocol's "HdrS" signature at 0x202. */
static bool is_bzimage(const uint8_t *f, size_t size)
{
	return size >= 0x206 && f[0x202] == 'H' && f[0x203] == 'd' &&
	       f[0x204] == 'r' && f[0x205] == 'S';
}

/*
 * The first 4-byte aligned multiboot header in the first 8 KiB with a
 * good checksum: 1 and its offset; 0 if none; -1 if only bad ones.
 */
static int find_mb1(const uint8_t *f, size_t size, uint32_t *at)
{
	size_t lim = MIN(size, (size_t)MB1_SEARCH_BYTES);
	bool bad = false;

	for (size_t off = 0; off + 12 <= lim; off += 4) {
		if (get32(f + off) != MB1_HEADER_MAGIC)
			continue;
		if (get32(f + off) + get32(f + off + 4) + get32(f + off + 8)) {
			bad = true;
			continue;
		}
		*at = (uint32_t)off;
		return 1;
	}
	return bad ? -1 : 0;
}

static enum fmt_error mb1_flags_ok(uint32_t flags, bool elf)
{
	if (flags & MB1_HF_AOUT)
		return FMT_E_MB1_AOUT;
	if (flags & MB1_HF_VIDEO)
		return FMT_E_MB1_VIDEO;
	/* Bits 0-15 are requirements: refuse the ones tidal does not know. */
	if (flags & 0xfff8u)
		return FMT_E_MB1_FLAGS;
	if (!elf)
		return FMT_E_MB1_NOT_ELF;
	return FMT_OK;
}

static enum fmt_error parse_elf(const void *file, size_t size,
				const struct elf_limits *lim,
				struct guest_image *img)
{
	img->elf_err = elf_parse(file, size, lim, &img->elf);
	if (img->elf_err)
		return FMT_E_ELF;
	img->entry = img->elf.entry;
	return FMT_OK;
}

/*
 * A multiboot ELF kernel starts at e_entry.  A higher-half kernel links
 * e_entry at its virtual address: like GRUB, translate it through the
 * executable segment that holds it.
 */
static enum fmt_error parse_mb1_elf(const uint8_t *f, size_t size,
				    const struct elf_limits *pc_lim,
				    struct guest_image *img)
{
	struct elf_limits lim = *pc_lim;
	enum fmt_error err;

	lim.no_entry_check = true;
	err = parse_elf(f, size, &lim, img);
	if (err || elf_addr_executable(&img->elf, img->entry))
		return err;
	for (unsigned int i = 0; i < img->elf.nsegs; i++) {
		const struct elf_segment *s = &img->elf.seg[i];

		if ((s->flags & PF_X) && img->entry >= s->vaddr &&
		    img->entry - s->vaddr < s->memsz) {
			img->entry = img->entry - s->vaddr + s->gpa;
			return FMT_OK;
		}
	}
	img->elf_err = ELF_E_ENTRY;
	return FMT_E_ELF;
}

static enum fmt_error parse_pvh(const uint8_t *f, size_t size,
				const struct elf_limits *pc_lim,
				uint64_t desc_off, uint32_t desc_size,
				struct guest_image *img)
{
	struct elf_limits lim = *pc_lim;
	enum fmt_error err;
	uint64_t entry;

	/* Linux writes the entry as a pointer: 4 or 8 bytes. */
	if (desc_size == 4)
		entry = get32(f + desc_off);
	else if (desc_size == 8)
		__builtin_memcpy(&entry, f + desc_off, 8);
	else
		return FMT_E_PVH_NOTE;
	img->fmt = GUEST_FMT_PVH;
	lim.no_entry_check = true;
	err = parse_elf(f, size, &lim, img);
	if (err)
		return err;
	if (entry > 0xffffffffull || !elf_addr_executable(&img->elf, entry))
		return FMT_E_PVH_ENTRY;
	img->entry = entry;
	return FMT_OK;
}

enum fmt_error guest_image_parse(const void *file, size_t size,
				 const struct elf_limits *tidal_lim,
				 const struct elf_limits *pc_lim,
				 struct guest_image *img)
{
	const uint8_t *f = file;
	bool elf = f && is_elf(f, size);
	uint64_t desc_off;
	uint32_t desc_size;
	int r;

	*img = (struct guest_image){.fmt = GUEST_FMT_TIDAL};
	if (!f)
		return FMT_E_UNKNOWN;
	if (!elf && is_bzimage(f, size))
		return FMT_E_BZIMAGE;
	if (elf) {
		r = elf_find_note(f, size, PVH_NOTE_NAME, PVH_NOTE_PHYS32,
				  &desc_off, &desc_size);
		if (r > 0)
			return parse_pvh(f, size, pc_lim, desc_off, desc_size,
					 img);
		if (r < 0) {
			/* A bad header gets the ELF loader's own words. */
			if (parse_elf(f, size, tidal_lim, img))
				return FMT_E_ELF;
			return FMT_E_PVH_NOTE;
		}
	}
	r = find_mb1(f, size, &img->mb1_offset);
	if (r < 0)
		return FMT_E_MB1_CHECKSUM;
	if (r > 0) {
		enum fmt_error err;

		img->fmt = GUEST_FMT_MB1;
		img->mb1_flags = get32(f + img->mb1_offset + 4);
		err = mb1_flags_ok(img->mb1_flags, elf);
		return err ? err : parse_mb1_elf(f, size, pc_lim, img);
	}
	if (!elf)
		return FMT_E_UNKNOWN;
	return parse_elf(f, size, tidal_lim, img);
}
