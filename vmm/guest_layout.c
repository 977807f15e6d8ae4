// SPDX-License-Identifier: MIT
/* tidal's pages in guest RAM (see guest_layout.h). */
#include "vmm/guest_layout.h"
#include "vmm/guest_abi.h"

#define PTE_P  BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

/* Page numbers inside the area. */
#define AREA_PG_INFO 0
#define AREA_PG_PML4 1
#define AREA_PG_PDPT 2
#define AREA_PG_PD0  3
#define IDMAP_PDS    4 /* 4 GiB worth of page directories */

STATIC_ASSERT((AREA_PG_PD0 + IDMAP_PDS) * PAGE_SIZE <= TIDAL_AREA_SIZE,
	      "identity map fits in the area");
STATIC_ASSERT(LAYOUT_MMAP_OFF + LAYOUT_MMAP_MAX *
					sizeof(struct tidal_mem_region) <=
		      LAYOUT_CMDLINE_OFF,
	      "memory map fits before the command line");
STATIC_ASSERT(sizeof(struct tidal_start_info) <= LAYOUT_MMAP_OFF,
	      "start info header fits before the map");
STATIC_ASSERT(LAYOUT_TSS_OFF + LAYOUT_TSS_SIZE <= PAGE_SIZE,
	      "TSS fits in the first page");

const char *guest_mem_check(uint64_t mem)
{
	if (mem < GUEST_MEM_MIN)
		return "guest memory below the 2 MiB minimum";
	if (mem > GUEST_MEM_MAX)
		return "guest memory above the 4 GiB maximum";
	if (!IS_ALIGNED(mem, GUEST_MEM_ALIGN))
		return "guest memory is not a multiple of 2 MiB";
	return NULL;
}

struct elf_limits guest_elf_limits(uint64_t mem)
{
	return (struct elf_limits){.ram_bytes = mem,
				   .usable_end = mem - TIDAL_AREA_SIZE};
}

/* A flat code/data descriptor: base 0, limit 4 GiB, present, DPL 0. */
static uint64_t flat_desc(uint8_t access, uint8_t flags)
{
	return 0xffffull | ((uint64_t)access << 40) |
	       ((uint64_t)(0xf | (flags << 4)) << 48);
}

static void build_gdt(uint8_t *page, uint64_t tss_gpa)
{
	uint64_t *gdt = (uint64_t *)(page + LAYOUT_GDT_OFF);
	uint64_t limit = LAYOUT_TSS_SIZE - 1;

	gdt[0] = 0;
	gdt[TIDAL_SEL_CODE64 / 8] = flat_desc(0x9b, 0xa); /* L=1, G=1 */
	gdt[TIDAL_SEL_DATA / 8] = flat_desc(0x93, 0xc);	  /* D/B=1, G=1 */
	gdt[TIDAL_SEL_CODE32 / 8] = flat_desc(0x9b, 0xc);
	/* 64-bit busy TSS (type 11): base split over both halves. */
	gdt[LAYOUT_SEL_TSS / 8] = limit | ((tss_gpa & 0xffffff) << 16) |
				  (0x8bull << 40) |
				  (((tss_gpa >> 24) & 0xff) << 56);
	gdt[LAYOUT_SEL_TSS / 8 + 1] = tss_gpa >> 32;
}

static void build_idmap(uint8_t *area, uint64_t area_gpa)
{
	uint64_t *pml4 = (uint64_t *)(area + AREA_PG_PML4 * PAGE_SIZE);
	uint64_t *pdpt = (uint64_t *)(area + AREA_PG_PDPT * PAGE_SIZE);

	__builtin_memset(pml4, 0, PAGE_SIZE * (2 + IDMAP_PDS));
	pml4[0] = (area_gpa + AREA_PG_PDPT * PAGE_SIZE) | PTE_P | PTE_RW;
	for (unsigned int i = 0; i < IDMAP_PDS; i++) {
		uint64_t pd_gpa = area_gpa + (AREA_PG_PD0 + i) * PAGE_SIZE;
		uint64_t *pd =
			(uint64_t *)(area + (AREA_PG_PD0 + i) * PAGE_SIZE);

		pdpt[i] = pd_gpa | PTE_P | PTE_RW;
		for (unsigned int j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i * GiB + (uint64_t)j * 2 * MiB) |
				PTE_P | PTE_RW | PTE_PS;
	}
}

static void add_region(struct tidal_mem_region *m, uint32_t *n, uint64_t base,
		       uint64_t end, uint32_t type)
{
	if (end > base)
		m[(*n)++] =
			(struct tidal_mem_region){base, end - base, type, 0};
}

static uint32_t build_mmap(struct tidal_mem_region *m, uint64_t mem,
			   uint64_t area_gpa, const struct elf_image *img)
{
	uint64_t lo = ALIGN_DOWN(img->lo, PAGE_SIZE);
	uint64_t hi = ALIGN_UP(img->hi, PAGE_SIZE);
	uint32_t n = 0;

	add_region(m, &n, 0, lo, TIDAL_MEM_USABLE);
	add_region(m, &n, lo, hi, TIDAL_MEM_IMAGE);
	add_region(m, &n, hi, area_gpa, TIDAL_MEM_USABLE);
	add_region(m, &n, area_gpa, mem, TIDAL_MEM_TIDAL);
	return n;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int guest_layout_build(void *ram, uint64_t mem, const struct elf_image *img,
		       const char *cmdline, uint64_t tsc_khz, uint32_t flags,
		       struct guest_layout *out, const char **err)
{
	const char *why = guest_mem_check(mem);
	size_t len = cmdline ? str_len(cmdline) : 0;

	if (why) {
		*err = why;
		return -1;
	}
	if (len > LAYOUT_CMDLINE_MAX) {
		*err = "guest command line too long (at most 3327 bytes)";
		return -1;
	}
	if (img->hi > mem - TIDAL_AREA_SIZE || img->nsegs == 0) {
		*err = "guest image does not fit below tidal's pages";
		return -1;
	}

	uint64_t area_gpa = mem - TIDAL_AREA_SIZE;
	uint8_t *area = (uint8_t *)ram + area_gpa;
	struct tidal_start_info *si = (struct tidal_start_info *)area;
	bool lm = img->bits == 64;

	__builtin_memset(area, 0, PAGE_SIZE);
	*out = (struct guest_layout){
		.mem_bytes = mem,
		.area_gpa = area_gpa,
		.start_info_gpa = area_gpa,
		.gdt_gpa = area_gpa + LAYOUT_GDT_OFF,
		.gdt_limit = LAYOUT_GDT_LIMIT,
		.tss_gpa = area_gpa + LAYOUT_TSS_OFF,
		.cr3 = lm ? area_gpa + AREA_PG_PML4 * PAGE_SIZE : 0,
		.si_flags = flags | (lm ? TIDAL_SI_LONG_MODE : 0),
		.entry = img->entry,
		.boot_magic = TIDAL_BOOT_MAGIC,
		.long_mode = lm,
	};
	si->magic = TIDAL_START_MAGIC;
	si->version = TIDAL_ABI_VERSION;
	si->flags = out->si_flags;
	si->mem_bytes = mem;
	si->mmap_offset = LAYOUT_MMAP_OFF;
	si->mmap_count =
		build_mmap((struct tidal_mem_region *)(area + LAYOUT_MMAP_OFF),
			   mem, area_gpa, img);
	si->cmdline_offset = LAYOUT_CMDLINE_OFF;
	si->cmdline_len = (uint32_t)len;
	if (len)
		__builtin_memcpy(area + LAYOUT_CMDLINE_OFF, cmdline, len);
	si->size = (uint32_t)(LAYOUT_CMDLINE_OFF + len + 1);
	si->tsc_khz = tsc_khz;
	build_gdt(area, out->tss_gpa);
	if (lm)
		build_idmap(area, area_gpa);
	return 0;
}
