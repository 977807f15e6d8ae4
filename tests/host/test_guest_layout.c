// SPDX-License-Identifier: MIT
/* Unit tests for vmm/guest_layout.c on a buffer standing in for guest RAM. */
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_layout.h"
#include "vmm/guest_abi.h"
#include "tests/host/tap.h"

#define MEM (8 * MiB)

static struct elf_image image(int bits, uint64_t lo, uint64_t hi)
{
	struct elf_image img = {.bits = (unsigned int)bits,
				.entry = lo,
				.nsegs = 1,
				.lo = lo,
				.hi = hi};

	img.seg[0] = (struct elf_segment){lo, hi - lo, 0, 0, PF_X, 0};
	return img;
}

/* Walk the identity map the way the CPU would (2 MiB leaves). */
static uint64_t walk(const uint8_t *ram, uint64_t cr3, uint64_t va, bool *ok_)
{
	const uint64_t *pml4 = (const uint64_t *)(ram + cr3);
	uint64_t e = pml4[(va >> 39) & 511];

	*ok_ = false;
	if (!(e & 1))
		return 0;
	const uint64_t *pdpt = (const uint64_t *)(ram + (e & ~0xfffull));

	e = pdpt[(va >> 30) & 511];
	if (!(e & 1) || (e & 0x80))
		return 0;
	const uint64_t *pd = (const uint64_t *)(ram + (e & ~0xfffull));

	e = pd[(va >> 21) & 511];
	if (!(e & 1) || !(e & 0x80) || !(e & 2))
		return 0;
	*ok_ = true;
	return (e & ~0x1fffffull) | (va & 0x1fffff);
}

static void check_mmap(const struct tidal_start_info *si, uint64_t img_lo,
		       uint64_t img_hi)
{
	const struct tidal_mem_region *m =
		(const void *)((const char *)si + si->mmap_offset);
	uint64_t next = 0, image = 0, tidal = 0;
	bool sorted = true;

	for (uint32_t i = 0; i < si->mmap_count; i++) {
		sorted &= m[i].base == next && m[i].size > 0;
		next = m[i].base + m[i].size;
		if (m[i].type == TIDAL_MEM_IMAGE) {
			image++;
			ok(m[i].base == ALIGN_DOWN(img_lo, 4096) &&
				   next == ALIGN_UP(img_hi, 4096),
			   "image region is the page-rounded image");
		}
		if (m[i].type == TIDAL_MEM_TIDAL) {
			tidal++;
			ok(m[i].base == si->mem_bytes - TIDAL_AREA_SIZE,
			   "tidal region at the top");
		}
	}
	ok(sorted && next == si->mem_bytes,
	   "map is sorted, gap-free and covers all RAM");
	ok(image == 1 && tidal == 1, "one image and one tidal region");
}

static void test_build(int bits, uint64_t lo, uint64_t hi)
{
	uint8_t *ram = calloc(1, MEM);
	struct elf_image img = image(bits, lo, hi);
	struct guest_layout l;
	const char *err = NULL;
	const char *cmd = "passes=3 hello";

	is_int(guest_layout_build(ram, MEM, &img, cmd, 1234,
				  TIDAL_SI_TIME_LIMIT, &l, &err),
	       0, "ELF%d image at %llx built", bits, (unsigned long long)lo);
	const struct tidal_start_info *si =
		(const void *)(ram + l.start_info_gpa);

	is_int(si->magic, TIDAL_START_MAGIC, "start-info magic");
	is_int(si->version, TIDAL_ABI_VERSION, "version");
	is_int(si->mem_bytes, MEM, "mem_bytes");
	is_int(si->tsc_khz, 1234, "tsc_khz");
	is_int(si->flags,
	       TIDAL_SI_TIME_LIMIT | (bits == 64 ? TIDAL_SI_LONG_MODE : 0),
	       "flags");
	ok(!strcmp((const char *)si + si->cmdline_offset, cmd), "command line");
	is_int(si->cmdline_len, strlen(cmd), "command line length");
	is_int(si->size, si->cmdline_offset + strlen(cmd) + 1,
	       "size covers cmdline");
	ok(l.start_info_gpa + si->size <= MEM, "block inside RAM");
	check_mmap(si, lo, hi);

	const uint64_t *gdt = (const uint64_t *)(ram + l.gdt_gpa);

	is_int(gdt[1] >> 40 & 0xff, 0x9b, "code64 access byte");
	ok((gdt[1] >> 53 & 1) && !(gdt[1] >> 54 & 1), "code64 has L=1, D=0");
	ok((gdt[3] >> 54 & 1) && !(gdt[3] >> 53 & 1), "code32 has D=1, L=0");
	is_int(gdt[2] >> 40 & 0xff, 0x93, "data access byte");
	uint64_t tss_base = ((gdt[4] >> 16) & 0xffffff) |
			    ((gdt[4] >> 56) << 24) | (gdt[5] << 32);

	is_int(tss_base, l.tss_gpa, "TSS descriptor base");
	is_int(gdt[4] >> 40 & 0xff, 0x8b, "busy TSS type");
	ok(l.gdt_gpa + l.gdt_limit < MEM, "GDT inside RAM");

	if (bits == 64) {
		bool good;
		uint64_t pa;

		ok(l.cr3 >= l.area_gpa && l.cr3 < MEM, "CR3 in tidal's pages");
		pa = walk(ram, l.cr3, 0x100000, &good);
		ok(good && pa == 0x100000, "1 MiB maps to itself");
		pa = walk(ram, l.cr3, MEM - 8, &good);
		ok(good && pa == MEM - 8, "top of RAM maps to itself");
		pa = walk(ram, l.cr3, 4 * GiB - 8, &good);
		ok(good && pa == 4 * GiB - 8, "4 GiB - 8 maps to itself");
		walk(ram, l.cr3, 4 * GiB, &good);
		ok(!good, "4 GiB is not mapped");
	} else {
		is_int(l.cr3, 0, "no page tables for 32-bit guests");
	}
	free(ram);
}

static void test_errors(void)
{
	uint8_t *ram = calloc(1, MEM);
	struct elf_image img = image(64, 0x100000, 0x110000);
	struct guest_layout l;
	const char *err = NULL;
	char *longcmd = malloc(5000);

	memset(longcmd, 'x', 4999);
	longcmd[4999] = 0;
	is_int(guest_layout_build(ram, MEM, &img, longcmd, 0, 0, &l, &err), -1,
	       "overlong command line refused");
	ok(err && strstr(err, "command line"), "reason: %s", err);
	longcmd[LAYOUT_CMDLINE_MAX] = 0;
	is_int(guest_layout_build(ram, MEM, &img, longcmd, 0, 0, &l, &err), 0,
	       "longest command line accepted");
	is_int(guest_layout_build(ram, MEM, &img, NULL, 0, 0, &l, &err), 0,
	       "no command line accepted");
	img.hi = MEM - TIDAL_AREA_SIZE + 1;
	is_int(guest_layout_build(ram, MEM, &img, "", 0, 0, &l, &err), -1,
	       "image over tidal's pages refused");
	ok(guest_mem_check(MiB) != NULL, "1 MiB refused");
	ok(guest_mem_check(3 * MiB) != NULL,
	   "3 MiB refused (not 2 MiB multiple)");
	ok(guest_mem_check(8 * GiB) != NULL, "8 GiB refused");
	ok(guest_mem_check(64 * MiB) == NULL, "64 MiB accepted");
	ok(guest_mem_check(4 * GiB) == NULL, "4 GiB accepted");
	struct elf_limits lim = guest_elf_limits(64 * MiB);

	is_int(lim.usable_end, 64 * MiB - TIDAL_AREA_SIZE, "loader limit");
	free(longcmd);
	free(ram);
}

int main(void)
{
	test_build(64, 0x100000, 0x105123);
	test_build(32, 0x100000, 0x103000);
	test_build(64, 0, 0x2000);
	test_errors();
	return tap_done();
}
