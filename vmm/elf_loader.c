// SPDX-License-Identifier: MIT
/* Guest ELF validation and loading; see elf_loader.h for the contract. */
#include "vmm/elf_loader.h"

/* The ELF structures we read, spelled out so that no libc header is needed. */
struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

STATIC_ASSERT(sizeof(struct elf32_ehdr) == 52, "elf32 header size");
STATIC_ASSERT(sizeof(struct elf64_ehdr) == 64, "elf64 header size");
STATIC_ASSERT(sizeof(struct elf32_phdr) == 32, "elf32 phdr size");
STATIC_ASSERT(sizeof(struct elf64_phdr) == 56, "elf64 phdr size");

#define EI_CLASS    4
#define EI_DATA	    5
#define EI_VERSION  6
#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC	    2
#define EM_386	    3
#define EM_X86_64   62
#define PT_LOAD	    1
#define PT_DYNAMIC  2
#define PT_INTERP   3
#define PT_NOTE	    4

/* The header fields we use, whatever the class. */
struct ehdr_info {
	uint16_t type, machine, ehsize, phentsize, phnum;
	uint32_t version;
	uint64_t entry, phoff;
};

static const char *const messages[ELF_E_COUNT] = {
	[ELF_OK] = "ok",
	[ELF_E_TOO_SMALL] = "file is smaller than an ELF header",
	[ELF_E_MAGIC] = "not an ELF file (bad magic)",
	[ELF_E_CLASS] = "unknown ELF class (neither 32- nor 64-bit)",
	[ELF_E_DATA] = "not a little-endian ELF file",
	[ELF_E_VERSION] = "unsupported ELF version",
	[ELF_E_TYPE] = "not an executable (ET_EXEC) ELF file",
	[ELF_E_MACHINE] =
		"wrong machine (want EM_386 for ELF32, EM_X86_64 for ELF64)",
	[ELF_E_EHSIZE] = "ELF header size does not match its class",
	[ELF_E_PHENTSIZE] =
		"program header entry size does not match its class",
	[ELF_E_NO_PHDRS] = "no program headers",
	[ELF_E_TOO_MANY_PHDRS] = "too many program headers",
	[ELF_E_PHDRS_OUTSIDE] = "program headers lie outside the file",
	[ELF_E_INTERP] = "dynamically linked image (PT_INTERP/PT_DYNAMIC)",
	[ELF_E_FILESZ] = "segment file size is larger than its memory size",
	[ELF_E_SEG_OUTSIDE_FILE] = "segment data lies outside the file",
	[ELF_E_SEG_OVERFLOW] = "segment address plus size overflows",
	[ELF_E_VADDR] = "segment virtual address differs from its physical "
			"address (guests run identity-mapped)",
	[ELF_E_SEG_OUTSIDE_RAM] = "segment lies outside guest memory",
	[ELF_E_SEG_RESERVED] =
		"segment overlaps tidal's pages at the top of guest memory",
	[ELF_E_TOO_MANY_SEGS] = "too many loadable segments",
	[ELF_E_OVERLAP] = "loadable segments overlap",
	[ELF_E_NO_LOAD] = "no loadable segment",
	[ELF_E_ENTRY] = "entry point is not inside an executable segment",
	[ELF_E_SEG_HOLE] = "segment overlaps the PC's reserved area "
			   "0xA0000-0xFFFFF",
};

const char *elf_strerror(enum elf_error err)
{
	if ((unsigned int)err >= ELF_E_COUNT)
		return "unknown ELF loader error";
	return messages[err];
}

/* The file may sit at any alignment: copy fields out instead of casting. */
static void read_bytes(void *dst, const void *file, uint64_t off, size_t n)
{
	__builtin_memcpy(dst, (const uint8_t *)file + off, n);
}

static enum elf_error read_ehdr(const uint8_t *f, size_t size,
				struct ehdr_info *h, unsigned int *bits)
{
	if (size < sizeof(struct elf32_ehdr))
		return ELF_E_TOO_SMALL;
	if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
		return ELF_E_MAGIC;
	if (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64)
		return ELF_E_CLASS;
	if (f[EI_DATA] != ELFDATA2LSB)
		return ELF_E_DATA;
	if (f[EI_VERSION] != EV_CURRENT)
		return ELF_E_VERSION;

	if (f[EI_CLASS] == ELFCLASS32) {
		struct elf32_ehdr e;

		read_bytes(&e, f, 0, sizeof(e));
		*h = (struct ehdr_info){e.type,	     e.machine, e.ehsize,
					e.phentsize, e.phnum,	e.version,
					e.entry,     e.phoff};
		*bits = 32;
	} else {
		struct elf64_ehdr e;

		if (size < sizeof(e))
			return ELF_E_TOO_SMALL;
		read_bytes(&e, f, 0, sizeof(e));
		*h = (struct ehdr_info){e.type,	     e.machine, e.ehsize,
					e.phentsize, e.phnum,	e.version,
					e.entry,     e.phoff};
		*bits = 64;
	}
	return ELF_OK;
}

static enum elf_error check_ehdr(const struct ehdr_info *h, unsigned int bits,
				 size_t size)
{
	bool is64 = bits == 64;

	if (h->version != EV_CURRENT)
		return ELF_E_VERSION;
	if (h->type != ET_EXEC)
		return ELF_E_TYPE;
	if (h->machine != (is64 ? EM_X86_64 : EM_386))
		return ELF_E_MACHINE;
	if (h->ehsize !=
	    (is64 ? sizeof(struct elf64_ehdr) : sizeof(struct elf32_ehdr)))
		return ELF_E_EHSIZE;
	if (h->phentsize !=
	    (is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr)))
		return ELF_E_PHENTSIZE;
	if (h->phnum == 0)
		return ELF_E_NO_PHDRS;
	if (h->phnum > ELF_MAX_PHDRS)
		return ELF_E_TOO_MANY_PHDRS;
	/* phnum * phentsize is small (checked above): only phoff can wrap. */
	uint64_t table = (uint64_t)h->phnum * h->phentsize;

	if (h->phoff > size || table > size - h->phoff)
		return ELF_E_PHDRS_OUTSIDE;
	return ELF_OK;
}

struct phdr_info {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void read_phdr(const void *f, const struct ehdr_info *h,
		      unsigned int bits, unsigned int i, struct phdr_info *p)
{
	uint64_t off = h->phoff + (uint64_t)i * h->phentsize;

	if (bits == 32) {
		struct elf32_phdr ph;

		read_bytes(&ph, f, off, sizeof(ph));
		*p = (struct phdr_info){ph.type,  ph.flags, ph.offset,
					ph.vaddr, ph.paddr, ph.filesz,
					ph.memsz};
	} else {
		struct elf64_phdr ph;

		read_bytes(&ph, f, off, sizeof(ph));
		*p = (struct phdr_info){ph.type,  ph.flags, ph.offset,
					ph.vaddr, ph.paddr, ph.filesz,
					ph.memsz};
	}
}

static enum elf_error check_load(const struct phdr_info *p, size_t size,
				 const struct elf_limits *lim)
{
	if (p->filesz > p->memsz)
		return ELF_E_FILESZ;
	if (p->offset > size || p->filesz > size - p->offset)
		return ELF_E_SEG_OUTSIDE_FILE;
	if (p->paddr + p->memsz < p->paddr)
		return ELF_E_SEG_OVERFLOW;
	if (p->vaddr != p->paddr && !lim->by_paddr)
		return ELF_E_VADDR;
	uint64_t end = p->paddr + p->memsz;

	if (end > lim->ram_bytes)
		return ELF_E_SEG_OUTSIDE_RAM;
	if (end > lim->usable_end)
		return ELF_E_SEG_RESERVED;
	if (p->memsz && p->paddr < lim->hole_hi && lim->hole_lo < end)
		return ELF_E_SEG_HOLE;
	return ELF_OK;
}

static int find_overlap(const struct elf_image *img)
{
	for (unsigned int i = 0; i < img->nsegs; i++) {
		for (unsigned int j = 0; j < i; j++) {
			const struct elf_segment *a = &img->seg[i];
			const struct elf_segment *b = &img->seg[j];

			if (a->gpa < b->gpa + b->memsz &&
			    b->gpa < a->gpa + a->memsz)
				return (int)i;
		}
	}
	return -1;
}

bool elf_addr_executable(const struct elf_image *img, uint64_t addr)
{
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->seg[i];

		if ((s->flags & PF_X) && addr >= s->gpa &&
		    addr < s->gpa + s->memsz)
			return true;
	}
	return false;
}

static enum elf_error add_segments(const void *file, size_t size,
				   const struct ehdr_info *h,
				   const struct elf_limits *lim,
				   struct elf_image *img)
{
	for (unsigned int i = 0; i < h->phnum; i++) {
		struct phdr_info p;
		enum elf_error err;

		read_phdr(file, h, img->bits, i, &p);
		img->bad_phdr = (int)i;
		if (p.type == PT_INTERP || p.type == PT_DYNAMIC)
			return ELF_E_INTERP;
		if (p.type != PT_LOAD)
			continue;
		err = check_load(&p, size, lim);
		if (err)
			return err;
		if (p.memsz == 0)
			continue;
		if (img->nsegs == ELF_MAX_SEGMENTS)
			return ELF_E_TOO_MANY_SEGS;
		img->seg[img->nsegs++] = (struct elf_segment){
			p.paddr, p.memsz, p.offset, p.filesz, p.flags, i,
			p.vaddr};
		img->lo = MIN(img->lo, p.paddr);
		img->hi = MAX(img->hi, p.paddr + p.memsz);
	}
	img->bad_phdr = -1;
	return ELF_OK;
}

enum elf_error elf_parse(const void *file, size_t size,
			 const struct elf_limits *lim, struct elf_image *img)
{
	struct ehdr_info h;
	enum elf_error err;
	int bad;

	*img = (struct elf_image){.lo = UINT64_MAX, .bad_phdr = -1};
	if (!file)
		return ELF_E_TOO_SMALL;
	err = read_ehdr(file, size, &h, &img->bits);
	if (!err)
		err = check_ehdr(&h, img->bits, size);
	if (err)
		return err;
	img->entry = h.entry;
	err = add_segments(file, size, &h, lim, img);
	if (err)
		return err;
	if (img->nsegs == 0)
		return ELF_E_NO_LOAD;
	bad = find_overlap(img);
	if (bad >= 0) {
		img->bad_phdr = (int)img->seg[bad].phdr;
		return ELF_E_OVERLAP;
	}
	if (!lim->no_entry_check && !elf_addr_executable(img, img->entry))
		return ELF_E_ENTRY;
	return ELF_OK;
}

static bool same_name(const uint8_t *p, const char *name, uint32_t namesz)
{
	uint32_t n = 0;

	while (name[n])
		n++;
	/* The stored name includes its NUL. */
	if (namesz != n + 1 || p[n] != 0)
		return false;
	return __builtin_memcmp(p, name, n) == 0;
}

/* Walk one PT_NOTE segment [off, off + len) of the file. */
static int scan_notes(const uint8_t *f, uint64_t off, uint64_t len,
		      const char *name, uint32_t type, uint64_t *desc_off,
		      uint32_t *desc_size)
{
	uint64_t end = off + len;

	while (end - off >= 12) {
		uint32_t hdr[3];
		uint64_t name_len, desc_len;

		read_bytes(hdr, f, off, sizeof(hdr));
		name_len = ALIGN_UP((uint64_t)hdr[0], 4);
		desc_len = ALIGN_UP((uint64_t)hdr[1], 4);
		off += 12;
		/* Both sizes are below 2^33: no overflow in 64 bits. */
		if (name_len > end - off || desc_len > end - off - name_len)
			return -1;
		if (hdr[2] == type && same_name(f + off, name, hdr[0])) {
			*desc_off = off + name_len;
			*desc_size = hdr[1];
			return 1;
		}
		off += name_len + desc_len;
	}
	return 0;
}

int elf_find_note(const void *file, size_t size, const char *name,
		  uint32_t type, uint64_t *desc_off, uint32_t *desc_size)
{
	struct ehdr_info h;
	unsigned int bits;

	if (!file || read_ehdr(file, size, &h, &bits) ||
	    check_ehdr(&h, bits, size))
		return -1;
	for (unsigned int i = 0; i < h.phnum; i++) {
		struct phdr_info p;
		int r;

		read_phdr(file, &h, bits, i, &p);
		if (p.type != PT_NOTE)
			continue;
		if (p.offset > size || p.filesz > size - p.offset)
			return -1;
		r = scan_notes(file, p.offset, p.filesz, name, type, desc_off,
			       desc_size);
		if (r)
			return r;
	}
	return 0;
}

void elf_load(const struct elf_image *img, const void *file, void *ram)
{
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint8_t *dst = (uint8_t *)ram + s->gpa;

		__builtin_memcpy(dst, (const uint8_t *)file + s->offset,
				 s->filesz);
		__builtin_memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}
