// SPDX-License-Identifier: MIT
/*
 * Multiboot2 information parser (portable core; host-tested with
 * malformed blocks in tests/host/test_mb2.c).
 *
 * The block is untrusted input: every read is checked against the
 * block's size first, all arithmetic on loader-provided sizes is done in
 * 64 bits so it cannot wrap, and strings must end inside their tag.
 * Reads go through memcpy so the block need not be aligned.
 */
#include "boot/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"

/* Fixed parts of the tags tidal reads (sizes from the tag start). */
#define TAG_HDR	       8  /* type, size */
#define MODULE_HDR     16 /* + mod_start, mod_end */
#define MEMINFO_SIZE   16 /* + mem_lower, mem_upper */
#define MMAP_HDR       16 /* + entry_size, entry_version */
#define MMAP_ENTRY_MIN 24 /* base, length, type (+ reserved) */
#define EFI_MMAP_HDR   16 /* + descr_size, descr_version */
#define EFI_DESC_MIN   40 /* type, pad, phys, virt, pages, attributes */
#define RSDP_V1_LEN    20
#define RSDP_V2_LEN    36

/* Sanity limit on a block's size: GRUB's are a few KiB. */
#define MB2_MAX_SIZE (16u << 20)

struct parser {
	const uint8_t *base;
	uint64_t size; /* bytes of the block that may be read */
	struct boot_info *bi;
	char *err;
	size_t errlen;
	uint64_t mmap_off, mmap_size; /* tag 6, size 0 if absent */
	uint64_t efi_off, efi_size;   /* tag 17, size 0 if absent */
};

static uint32_t rd32(const struct parser *p, uint64_t off)
{
	uint32_t v;

	memcpy(&v, p->base + off, sizeof(v));
	return v;
}

static uint64_t rd64(const struct parser *p, uint64_t off)
{
	uint64_t v;

	memcpy(&v, p->base + off, sizeof(v));
	return v;
}

__printf(2, 3) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The NUL-terminated string in [off, end), or NULL if it has no NUL. */
static const char *get_string(const struct parser *p, uint64_t off,
			      uint64_t end)
{
	const char *s = (const char *)p->base + off;

	if (off >= end || strnlen(s, end - off) == end - off)
		return NULL;
	return s;
}

static int add_range(struct parser *p, uint64_t base, uint64_t len,
		     uint32_t type, unsigned int idx)
{
	struct boot_info *bi = p->bi;

	if (len == 0)
		return 0;
	if (base + len < base)
		return fail(p, "memory map entry %u wraps around (base %#llx, "
			       "length %#llx)",
			    idx, (unsigned long long)base,
			    (unsigned long long)len);
	if (bi->mmap_count == BOOT_MAX_MMAP) {
		bi->mmap_dropped++;
		return 0;
	}
	bi->mmap[bi->mmap_count++] =
		(struct boot_mem_range){ base, len, type };
	return 0;
}

static uint32_t e820_type(uint32_t t)
{
	switch (t) {
	case 1:
		return BOOT_MEM_USABLE;
	case 3:
		return BOOT_MEM_ACPI_RECLAIM;
	case 4:
		return BOOT_MEM_ACPI_NVS;
	case 5:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

/* After ExitBootServices, loader and boot-services memory is free RAM. */
static uint32_t efi_type(uint32_t t)
{
	switch (t) {
	case 1: /* loader code */
	case 2: /* loader data */
	case 3: /* boot services code */
	case 4: /* boot services data */
	case 7: /* conventional */
		return BOOT_MEM_USABLE;
	case 8:
		return BOOT_MEM_BAD;
	case 9:
		return BOOT_MEM_ACPI_RECLAIM;
	case 10:
		return BOOT_MEM_ACPI_NVS;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static int parse_bios_mmap(struct parser *p)
{
	uint64_t off = p->mmap_off, end = off + p->mmap_size;
	uint32_t esize;
	unsigned int idx = 0;

	if (p->mmap_size < MMAP_HDR)
		return fail(p, "memory map tag too short (%llu bytes)",
			    (unsigned long long)p->mmap_size);
	esize = rd32(p, off + 8);
	if (esize < MMAP_ENTRY_MIN || esize % 8)
		return fail(p, "memory map entry size %u is invalid", esize);
	p->bi->mmap_source = BOOT_MMAP_BIOS;
	for (off += MMAP_HDR; off + esize <= end; off += esize, idx++) {
		if (add_range(p, rd64(p, off), rd64(p, off + 8),
			      e820_type(rd32(p, off + 16)), idx))
			return -1;
	}
	return 0;
}

static int parse_efi_mmap(struct parser *p)
{
	uint64_t off = p->efi_off, end = off + p->efi_size, pages;
	uint32_t dsize;
	unsigned int idx = 0;

	if (p->efi_size < EFI_MMAP_HDR)
		return fail(p, "EFI memory map tag too short (%llu bytes)",
			    (unsigned long long)p->efi_size);
	dsize = rd32(p, off + 8);
	if (dsize < EFI_DESC_MIN || dsize % 8)
		return fail(p, "EFI memory descriptor size %u is invalid",
			    dsize);
	p->bi->mmap_source = BOOT_MMAP_EFI;
	for (off += EFI_MMAP_HDR; off + dsize <= end; off += dsize, idx++) {
		pages = rd64(p, off + 24);
		if (pages > (UINT64_MAX >> PAGE_SHIFT))
			return fail(p, "EFI memory descriptor %u is too large",
				    idx);
		if (add_range(p, rd64(p, off + 8), pages << PAGE_SHIFT,
			      efi_type(rd32(p, off)), idx))
			return -1;
	}
	return 0;
}

static int parse_module(struct parser *p, uint64_t off, uint64_t size)
{
	struct boot_info *bi = p->bi;
	struct boot_module *m;
	uint32_t start, end;
	const char *cmd;

	if (size < MODULE_HDR + 1)
		return fail(p, "module tag at offset %llu too short",
			    (unsigned long long)off);
	start = rd32(p, off + 8);
	end = rd32(p, off + 12);
	cmd = get_string(p, off + MODULE_HDR, off + size);
	if (!cmd)
		return fail(p, "module command line at offset %llu is not "
			       "terminated inside its tag",
			    (unsigned long long)off);
	if (end < start)
		return fail(p, "module '%s' ends (%#x) before it starts (%#x)",
			    cmd, end, start);
	if (bi->module_count == BOOT_MAX_MODULES)
		return fail(p, "too many modules (at most %d)",
			    BOOT_MAX_MODULES);
	m = &bi->modules[bi->module_count++];
	m->start = start;
	m->end = end;
	m->cmdline = cmd;
	return 0;
}

static int parse_rsdp(struct parser *p, uint64_t off, uint64_t size,
		      bool v2)
{
	uint64_t need = TAG_HDR + (v2 ? RSDP_V2_LEN : RSDP_V1_LEN);

	if (size < need)
		return fail(p, "ACPI RSDP tag too short (%llu bytes)",
			    (unsigned long long)size);
	if (memcmp(p->base + off + TAG_HDR, "RSD PTR ", 8))
		return fail(p, "ACPI RSDP tag has no 'RSD PTR ' signature");
	/* Prefer the ACPI 2.0+ copy whichever order the tags come in. */
	if (p->bi->rsdp_v2 && !v2)
		return 0;
	p->bi->rsdp = p->base + off + TAG_HDR;
	p->bi->rsdp_len = (uint32_t)(size - TAG_HDR);
	p->bi->rsdp_v2 = v2;
	return 0;
}

static const char *string_tag(struct parser *p, uint64_t off, uint64_t size,
			      const char *what)
{
	const char *s = get_string(p, off + TAG_HDR, off + size);

	if (!s)
		fail(p, "%s tag at offset %llu is not NUL-terminated", what,
		     (unsigned long long)off);
	return s;
}

static int parse_tag(struct parser *p, uint32_t type, uint64_t off,
		     uint64_t size)
{
	struct boot_info *bi = p->bi;

	switch (type) {
	case MB2_TAG_CMDLINE:
		bi->cmdline = string_tag(p, off, size, "command line");
		return bi->cmdline ? 0 : -1;
	case MB2_TAG_LOADER_NAME:
		bi->loader_name = string_tag(p, off, size, "boot loader name");
		return bi->loader_name ? 0 : -1;
	case MB2_TAG_MODULE:
		return parse_module(p, off, size);
	case MB2_TAG_BASIC_MEMINFO:
		if (size < MEMINFO_SIZE)
			return fail(p, "basic memory tag too short");
		bi->has_basic_mem = true;
		bi->mem_lower_kib = rd32(p, off + 8);
		bi->mem_upper_kib = rd32(p, off + 12);
		return 0;
	case MB2_TAG_MMAP:
		p->mmap_off = off;
		p->mmap_size = size;
		return 0;
	case MB2_TAG_EFI_MMAP:
		p->efi_off = off;
		p->efi_size = size;
		return 0;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		return parse_rsdp(p, off, size, type == MB2_TAG_ACPI_NEW);
	default:
		return 0; /* tags tidal does not use */
	}
}

static int walk_tags(struct parser *p)
{
	uint64_t off = 8, size;
	uint32_t type;

	for (;;) {
		if (off + TAG_HDR > p->size)
			return fail(p, "no end tag before the end of the block "
				       "(%llu bytes)",
				    (unsigned long long)p->size);
		type = rd32(p, off);
		size = rd32(p, off + 4);
		if (size < TAG_HDR)
			return fail(p, "tag type %u at offset %llu has size "
				       "%llu (< 8)",
				    type, (unsigned long long)off,
				    (unsigned long long)size);
		if (size > p->size - off)
			return fail(p, "tag type %u at offset %llu (size %llu) "
				       "runs past the end of the block (%llu)",
				    type, (unsigned long long)off,
				    (unsigned long long)size,
				    (unsigned long long)p->size);
		if (type == MB2_TAG_END)
			return 0;
		if (parse_tag(p, type, off, size))
			return -1;
		off += ALIGN_UP(size, 8);
	}
}

int mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys,
	      struct boot_info *bi, char *err, size_t errlen)
{
	struct parser p = {
		.base = mbi, .bi = bi, .err = err, .errlen = errlen,
	};
	uint32_t total, reserved;

	if (errlen)
		err[0] = '\0';
	memset(bi, 0, sizeof(*bi));
	bi->cmdline = "";
	bi->loader_name = "";
	if (!mbi)
		return fail(&p, "no multiboot2 information block");
	if (avail < 8)
		return fail(&p, "information block shorter than its header "
				"(%zu bytes)",
			    avail);
	p.size = 8;
	total = rd32(&p, 0);
	reserved = rd32(&p, 4);
	if (total < 16)
		return fail(&p, "information block size %u is too small",
			    total);
	if (total > avail || total > MB2_MAX_SIZE)
		return fail(&p, "information block claims %u bytes, only %zu "
				"are readable",
			    total, avail < MB2_MAX_SIZE ? avail
							 : (size_t)MB2_MAX_SIZE);
	if (total % 8)
		return fail(&p, "information block size %u is not a multiple "
				"of 8",
			    total);
	(void)reserved;
	p.size = total;
	bi->mbi_phys = mbi_phys;
	bi->mbi_size = total;
	if (walk_tags(&p))
		return -1;
	/* The e820-style map is the simpler one: prefer it when both exist. */
	if (p.mmap_size)
		return parse_bios_mmap(&p);
	if (p.efi_size)
		return parse_efi_mmap(&p);
	return 0;
}

uint64_t boot_usable_bytes(const struct boot_info *bi)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < bi->mmap_count; i++) {
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			sum += bi->mmap[i].len;
	}
	return sum;
}
