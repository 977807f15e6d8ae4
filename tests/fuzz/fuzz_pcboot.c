// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: detection and loading of multiboot (v1) and PVH
 * guests (vmm/boot_format.c, vmm/pc_boot.c, vmm/acpi.c).  The input is
 *
 *   mem (1 byte), vCPUs (1), modules (1), module size shift (1),
 *   command line length (2), edge switches (1), then per module its size
 *   (2 bytes, shifted left by the shift) and the length of its command
 *   line (1), then the command line, the modules' command lines (at most
 *   255 bytes each from the input, the rest filled in), and the image:
 *   the rest.  Edge switches put sizes next to the limits, where
 *   off-by-one bugs live: bit 0, a module size with bit 15 set means
 *   "the room left, +-16 KiB"; bit 1, the command line is 64 KiB minus
 *   its 12 low bits long; bit 2, no command line at all (NULL).
 *
 * The image is parsed as vm.c does; a multiboot or PVH kernel is loaded
 * into guest RAM (an exact-size buffer, filled with a pattern first) and
 * the boot information built.  Checked: a refusal has a reason; an image
 * lies inside its limits; every byte written lies in the kernel, the ACPI
 * area, the modules or the boot information area; the memory map, the
 * modules and the strings the guest is given are consistent with what
 * went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/boot_format.h"
#include "vmm/guest_layout.h"
#include "vmm/pc.h"
#include "vmm/pc_boot.h"
#include "tests/fuzz/fuzz.h"

#define MEM_MAX	 (8u << 20)
#define PATTERN	 0xa5
#define MOD_DATA (MEM_MAX + 4096)

/* Guest RAM of each size, exact: a write past the end is an ASan report. */
static uint8_t *rams[MEM_MAX >> 21], *ram, *mod_data;
static struct pc_module mods[PC_MODULES_MAX + 2];
static uint16_t mod_raw[PC_MODULES_MAX + 2];
static bool verbose; /* FUZZ_VERBOSE=1: say what became of each input */

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned int get8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* A string of @n bytes: up to 255 from the input, then filler. */
static char *get_str(struct input *in, size_t n)
{
	size_t take = MIN(MIN(n, 255), in->left);
	char *s = malloc(n + 1);

	FUZZ_CHECK(s);
	memcpy(s, in->p, take);
	for (size_t i = take; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = 0;
	in->p += take;
	in->left -= take;
	return s;
}

/* Edge switch 0: sizes relative to the room pc_boot.c will have left. */
static void edge_sizes(struct pc_boot_config *cfg, const struct guest_image *gi,
		       uint64_t limit)
{
	uint64_t at = ALIGN_UP(MAX(gi->elf.hi, PC_HOLE_END), 4096);

	for (unsigned int i = 0; i < cfg->nmods; i++) {
		if (mod_raw[i] & 0x8000) {
			uint64_t room = at < limit ? limit - at : 0;
			uint64_t d = mod_raw[i] & 0x3fff;

			mods[i].size = (mod_raw[i] & 0x4000)
					       ? room + d
					       : room - MIN(d, room);
			mods[i].size = MIN(mods[i].size, MOD_DATA - 4096);
		}
		at = ALIGN_UP(at + mods[i].size, 4096);
	}
}

struct range {
	uint64_t lo, hi;
};

static bool in_ranges(uint64_t a, const struct range *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (a >= r[i].lo && a < r[i].hi)
			return true;
	return false;
}

static bool page_in(uint64_t pg, const struct range *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (pg >= r[i].lo && pg + 4096 <= r[i].hi)
			return true;
	return false;
}

/*
 * Every byte that is no longer the pattern lies in one of @r.  Changed
 * pages get the pattern back: guest RAM is all pattern between runs.
 */
static void check_writes(uint64_t mem, const struct range *r, unsigned int n)
{
	static uint8_t page[4096];

	if (page[0] != PATTERN)
		memset(page, PATTERN, sizeof(page));
	for (uint64_t pg = 0; pg < mem; pg += 4096) {
		if (!memcmp(ram + pg, page, 4096))
			continue;
		/* Byte by byte only where a page straddles a range's end. */
		for (uint64_t a = pg; !page_in(pg, r, n) && a < pg + 4096; a++)
			if (ram[a] != PATTERN && !in_ranges(a, r, n)) {
				fprintf(stderr, "stray write at %llx\n",
					(unsigned long long)a);
				FUZZ_CHECK(!"write outside the boot areas");
			}
		memset(ram + pg, PATTERN, 4096);
	}
}

/* [gpa, gpa + len) lies in the boot information area. */
static void check_area(const struct pc_boot *pb, uint64_t gpa, uint64_t len)
{
	uint64_t end = pb->info_gpa + PC_INFO_SIZE;

	FUZZ_CHECK(gpa >= pb->info_gpa && gpa <= end && len <= end - gpa);
}

/* A string the guest is given: inside the area, NUL-terminated, == @s. */
static void check_str(const struct pc_boot *pb, uint64_t gpa, const char *s)
{
	size_t n = strlen(s ? s : "");

	check_area(pb, gpa, n + 1);
	FUZZ_CHECK(!memcmp(ram + gpa, s ? s : "", n + 1));
}

static void check_map(const struct pc_boot *pb, uint64_t mem)
{
	uint64_t ram_bytes = 0, reserved_ram = 0;

	FUZZ_CHECK(pb->nmap >= 4 && pb->nmap <= PC_MMAP_MAX);
	for (unsigned int i = 0; i < pb->nmap; i++) {
		const struct pc_mem_region *r = &pb->map[i];

		FUZZ_CHECK(r->size && (r->type == PC_MEM_RAM ||
				       r->type == PC_MEM_RESERVED));
		if (i)
			FUZZ_CHECK(r->addr >=
				   pb->map[i - 1].addr + pb->map[i - 1].size);
		if (r->type == PC_MEM_RAM)
			ram_bytes += r->size;
		else if (r->addr + r->size <= pb->low_top)
			reserved_ram += r->size;
	}
	FUZZ_CHECK(ram_bytes + reserved_ram == mem);
	FUZZ_CHECK(pb->map[0].addr == 0 && pb->map[0].type == PC_MEM_RAM);
}

struct mod_view {
	uint64_t start, size, str;
};

/* Entry @i of a table the guest is given: inside the area, copied out. */
static void get_entry(const struct pc_boot *pb, uint64_t table, unsigned int i,
		      void *out, size_t size)
{
	check_area(pb, table + i * size, size);
	memcpy(out, ram + table + i * size, size);
}

/* The memory map and module list of multiboot information. */
static unsigned int read_mb1(const struct pc_boot *pb, struct mod_view *v)
{
	struct mb1_info mbi;
	struct mb1_mmap_entry e;
	struct mb1_module m;

	FUZZ_CHECK(pb->boot_magic == MB1_BOOT_MAGIC);
	get_entry(pb, pb->start_gpa, 0, &mbi, sizeof(mbi));
	FUZZ_CHECK(mbi.mmap_length == pb->nmap * sizeof(e));
	for (unsigned int i = 0; i < pb->nmap; i++) {
		get_entry(pb, mbi.mmap_addr, i, &e, sizeof(e));
		FUZZ_CHECK(e.size == 20 && e.addr == pb->map[i].addr &&
			   e.len == pb->map[i].size &&
			   e.type == pb->map[i].type);
	}
	FUZZ_CHECK(mbi.mods_count <= PC_MODULES_MAX);
	for (unsigned int i = 0; i < mbi.mods_count; i++) {
		get_entry(pb, mbi.mods_addr, i, &m, sizeof(m));
		FUZZ_CHECK(m.mod_end >= m.mod_start);
		v[i] = (struct mod_view){m.mod_start, m.mod_end - m.mod_start,
					 m.string};
	}
	return mbi.mods_count;
}

/* The same from a PVH start info. */
static unsigned int read_pvh(const struct pc_boot *pb, struct mod_view *v)
{
	struct hvm_start_info si;
	struct hvm_memmap_entry e;
	struct hvm_modlist_entry m;

	FUZZ_CHECK(pb->boot_magic == 0);
	get_entry(pb, pb->start_gpa, 0, &si, sizeof(si));
	FUZZ_CHECK(si.magic == PVH_START_MAGIC &&
		   si.rsdp_paddr == pb->rsdp_gpa &&
		   si.memmap_entries == pb->nmap);
	for (unsigned int i = 0; i < pb->nmap; i++) {
		get_entry(pb, si.memmap_paddr, i, &e, sizeof(e));
		FUZZ_CHECK(e.addr == pb->map[i].addr &&
			   e.size == pb->map[i].size &&
			   e.type == pb->map[i].type);
	}
	FUZZ_CHECK(si.nr_modules <= PC_MODULES_MAX);
	for (unsigned int i = 0; i < si.nr_modules; i++) {
		get_entry(pb, si.modlist_paddr, i, &m, sizeof(m));
		v[i] = (struct mod_view){m.paddr, m.size, m.cmdline_paddr};
	}
	return si.nr_modules;
}

static const char *main_cmdline(const struct pc_boot *pb, enum guest_format fmt)
{
	uint64_t at;

	if (fmt == GUEST_FMT_MB1) {
		struct mb1_info mbi;

		memcpy(&mbi, ram + pb->start_gpa, sizeof(mbi));
		at = mbi.cmdline;
	} else {
		struct hvm_start_info si;

		memcpy(&si, ram + pb->start_gpa, sizeof(si));
		at = si.cmdline_paddr;
	}
	return (const char *)ram + at;
}

static void check_built(const struct pc_boot *pb,
			const struct pc_boot_config *cfg,
			const struct guest_image *gi)
{
	struct mod_view v[PC_MODULES_MAX];
	uint64_t prev_end = ALIGN_UP(MAX(gi->elf.hi, PC_HOLE_END), 4096);
	unsigned int n;

	check_map(pb, cfg->mem_bytes);
	FUZZ_CHECK(pb->start_gpa >= pb->info_gpa &&
		   pb->start_gpa < pb->info_gpa + PC_INFO_SIZE);
	FUZZ_CHECK(pb->mods_end <= pb->info_gpa);
	FUZZ_CHECK(!memcmp(ram + pb->rsdp_gpa, "RSD PTR ", 8));
	n = gi->fmt == GUEST_FMT_MB1 ? read_mb1(pb, v) : read_pvh(pb, v);
	FUZZ_CHECK(n == cfg->nmods);
	for (unsigned int i = 0; i < n; i++) {
		/* In order, page-aligned, after the kernel, before the info. */
		FUZZ_CHECK(v[i].start >= prev_end && !(v[i].start & 4095));
		FUZZ_CHECK(v[i].size == cfg->mods[i].size);
		FUZZ_CHECK(v[i].start + v[i].size <= pb->mods_end);
		FUZZ_CHECK(!memcmp(ram + v[i].start, cfg->mods[i].data,
				   v[i].size));
		check_str(pb, v[i].str, cfg->mods[i].cmdline);
		prev_end = v[i].start + v[i].size;
	}
	check_str(pb,
		  (uint64_t)((const uint8_t *)main_cmdline(pb, gi->fmt) - ram),
		  cfg->cmdline);
}

static void check_image(const struct guest_image *gi,
			const struct elf_limits *lim, size_t size)
{
	FUZZ_CHECK(gi->elf.nsegs <= ELF_MAX_SEGMENTS);
	FUZZ_CHECK(gi->elf.lo <= gi->elf.hi && gi->elf.hi <= lim->usable_end);
	for (unsigned int i = 0; i < gi->elf.nsegs; i++) {
		const struct elf_segment *s = &gi->elf.seg[i];

		FUZZ_CHECK(s->filesz <= s->memsz &&
			   s->offset + s->filesz <= size);
		FUZZ_CHECK(s->gpa >= gi->elf.lo &&
			   s->gpa + s->memsz <= gi->elf.hi);
		if (lim->by_paddr)
			FUZZ_CHECK(s->gpa + s->memsz <= lim->hole_lo ||
				   s->gpa >= lim->hole_hi);
	}
}

/* Parse, load and build; the checks above on every outcome. */
static void run(uint64_t mem, struct pc_boot_config *cfg, unsigned int edge,
		const uint8_t *file, size_t size)
{
	struct elf_limits tl = guest_elf_limits(mem), pl = pc_elf_limits(mem);
	struct guest_image gi;
	struct pc_boot pb;
	const char *err = NULL;
	enum fmt_error fe;

	fe = guest_image_parse(file, size, &tl, &pl, &gi);
	FUZZ_CHECK(fe < FMT_E_COUNT && fmt_strerror(fe) != NULL);
	if (verbose)
		fprintf(stderr, "image: %s\n",
			fe ? fmt_strerror(fe) : guest_format_name(gi.fmt));
	if (fe != FMT_OK)
		return;
	FUZZ_CHECK(guest_format_name(gi.fmt) != NULL);
	FUZZ_CHECK(elf_addr_executable(&gi.elf, gi.entry));
	FUZZ_CHECK(gi.fmt == GUEST_FMT_TIDAL || gi.entry <= 0xffffffffull);
	check_image(&gi, gi.fmt == GUEST_FMT_TIDAL ? &tl : &pl, size);
	if (gi.fmt == GUEST_FMT_TIDAL)
		return;
	if (edge & 1)
		edge_sizes(cfg, &gi, pl.usable_end);
	elf_load(&gi.elf, file, ram);
	err = NULL;
	if (pc_boot_build(ram, cfg, &gi, &pb, &err)) {
		if (verbose)
			fprintf(stderr, "refused: %s\n", err);
		FUZZ_CHECK(err && *err);
		FUZZ_CHECK(cfg->nmods > PC_MODULES_MAX || !cfg->ncpus ||
			   cfg->ncpus > 255 || strstr(err, "fit") ||
			   strstr(err, "too long"));
	} else {
		FUZZ_CHECK(cfg->ncpus >= 1 && cfg->ncpus <= 255);
		check_built(&pb, cfg, &gi);
		if (verbose)
			fprintf(stderr, "built: %u modules, info at %llx\n",
				cfg->nmods, (unsigned long long)pb.start_gpa);
	}
	struct range ok[] = {
		{gi.elf.lo, gi.elf.hi},
		{PC_ACPI_BASE, PC_ACPI_BASE + PC_ACPI_SIZE},
		{ALIGN_UP(MAX(gi.elf.hi, PC_HOLE_END), 4096), pl.usable_end},
		{pl.usable_end, pl.usable_end + PC_INFO_SIZE},
	};
	check_writes(mem, ok, ARRAY_SIZE(ok));
}

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/*
 * Half of the mutations change only the first HDR bytes (the sizes and
 * switches), in place: libFuzzer alone picks positions all over an input
 * that is mostly a 14 KiB image, and rarely lands on them.
 */
#define HDR 16

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	size_t k = MIN(size, HDR), n;

	if (!(seed & 1) || !k)
		return LLVMFuzzerMutate(data, size, max_size);
	n = LLVMFuzzerMutate(data, k, k);
	if (n < k) /* keep the length: the image stays where it was */
		memset(data + n, 0, k - n);
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct pc_boot_config cfg = {0};
	unsigned int shift, cmd_len, edge, mod_str[PC_MODULES_MAX + 2];
	char *cmdline;
	uint8_t *file;

	if (!mod_data) {
		mod_data = malloc(MOD_DATA);
		FUZZ_CHECK(mod_data);
		for (unsigned int i = 0; i < ARRAY_SIZE(rams); i++) {
			rams[i] = malloc((size_t)(i + 1) << 21);
			FUZZ_CHECK(rams[i]);
			memset(rams[i], PATTERN, (size_t)(i + 1) << 21);
		}
		verbose = getenv("FUZZ_VERBOSE") != NULL;
		for (size_t i = 0; i < MOD_DATA; i++)
			mod_data[i] = (uint8_t)(i * 7 + (i >> 12));
	}
	cfg.mem_bytes = (uint64_t)(1 + get8(&in) % ARRAY_SIZE(rams)) << 21;
	ram = rams[(cfg.mem_bytes >> 21) - 1];
	cfg.ncpus = get8(&in);
	cfg.nmods = get8(&in) % (PC_MODULES_MAX + 2);
	shift = get8(&in) % 13;
	cmd_len = get8(&in);
	cmd_len |= get8(&in) << 8;
	edge = get8(&in);
	if (edge & 2)
		cmd_len = PC_INFO_SIZE - (cmd_len & 0xfff);
	for (unsigned int i = 0; i < cfg.nmods; i++) {
		mod_raw[i] = (uint16_t)get8(&in);
		mod_raw[i] |= (uint16_t)(get8(&in) << 8);
		/* Modules differ in content: each starts elsewhere. */
		mods[i].size =
			MIN((uint64_t)mod_raw[i] << shift, MOD_DATA - 4096);
		mods[i].data = mod_data + (i * 97) % 4096;
		mod_str[i] = get8(&in);
	}
	cmdline = get_str(&in, cmd_len);
	cfg.cmdline = (edge & 4) ? NULL : cmdline;
	for (unsigned int i = 0; i < cfg.nmods; i++)
		mods[i].cmdline =
			mod_str[i] ? get_str(&in, mod_str[i] - 1) : NULL;
	cfg.mods = mods;
	/* An exact-size copy: any read past the image is an ASan report. */
	file = malloc(in.left ? in.left : 1);
	FUZZ_CHECK(file);
	memcpy(file, in.p, in.left);
	run(cfg.mem_bytes, &cfg, edge, file, in.left);
	free(file);
	free(cmdline);
	for (unsigned int i = 0; i < cfg.nmods; i++)
		free((void *)mods[i].cmdline);
	return 0;
}
