// SPDX-License-Identifier: MIT
/* Boot information for multiboot and PVH guests; see pc_boot.h. */
#include "vmm/pc_boot.h"
#include "vmm/acpi.h"
#include "vmm/guest_layout.h"
#include "vmm/pc.h"

uint64_t pc_low_top(uint64_t mem)
{
	return MIN(mem, PC_MMIO_START);
}

uint64_t pc_ram_offset(uint64_t mem, uint64_t gpa)
{
	uint64_t low = pc_low_top(mem);

	if (gpa < low)
		return gpa;
	if (gpa >= PC_HIGH_RAM_BASE && gpa - PC_HIGH_RAM_BASE < mem - low)
		return low + (gpa - PC_HIGH_RAM_BASE);
	return UINT64_MAX;
}

/* tidal's GDT and TSS page and the boot information close low RAM. */
static uint64_t info_base(uint64_t mem)
{
	return pc_low_top(mem) - TIDAL_AREA_SIZE - PC_INFO_SIZE;
}

struct elf_limits pc_elf_limits(uint64_t mem)
{
	return (struct elf_limits){
		.ram_bytes = pc_low_top(mem),
		.usable_end = info_base(mem),
		.by_paddr = true,
		.hole_lo = PC_LOW_RAM_END,
		.hole_hi = PC_HOLE_END,
	};
}

static void add_region(struct pc_boot *pb, uint64_t addr, uint64_t end,
		       uint32_t type)
{
	if (end > addr && pb->nmap < PC_MMAP_MAX)
		pb->map[pb->nmap++] =
			(struct pc_mem_region){addr, end - addr, type};
}

static void build_map(struct pc_boot *pb, uint64_t mem)
{
	pb->nmap = 0;
	add_region(pb, 0, PC_LOW_RAM_END, PC_MEM_RAM);
	add_region(pb, PC_LOW_RAM_END, PC_HOLE_END, PC_MEM_RESERVED);
	add_region(pb, PC_HOLE_END, pb->info_gpa, PC_MEM_RAM);
	add_region(pb, pb->info_gpa, pb->low_top, PC_MEM_RESERVED);
	add_region(pb, PC_IOAPIC_BASE, PC_IOAPIC_BASE + 0x1000,
		   PC_MEM_RESERVED);
	add_region(pb, PC_LAPIC_BASE, PC_LAPIC_BASE + 0x1000, PC_MEM_RESERVED);
	add_region(pb, PC_HIGH_RAM_BASE, PC_HIGH_RAM_BASE + mem - pb->low_top,
		   PC_MEM_RAM);
}

/* A bump allocator over the boot information area. */
struct info_area {
	uint8_t *ram;
	uint64_t next, end;
	bool full;
};

static uint64_t info_take(struct info_area *a, uint64_t n, uint64_t align)
{
	uint64_t at = ALIGN_UP(a->next, align);

	if (at > a->end || n > a->end - at) {
		a->full = true;
		return 0;
	}
	a->next = at + n;
	__builtin_memset(a->ram + at, 0, n);
	return at;
}

static uint64_t info_str(struct info_area *a, const char *s)
{
	size_t n = 0;
	uint64_t at;

	while (s && s[n])
		n++;
	at = info_take(a, n + 1, 1);
	if (at && n)
		__builtin_memcpy(a->ram + at, s, n);
	return at;
}

/* Copy the modules page by page after the kernel, in order. */
static int place_modules(uint8_t *ram, const struct pc_boot_config *cfg,
			 const struct guest_image *img, uint64_t limit,
			 uint64_t *gpa, uint64_t *end)
{
	uint64_t at = ALIGN_UP(MAX(img->elf.hi, PC_HOLE_END), PAGE_SIZE);

	for (unsigned int i = 0; i < cfg->nmods; i++) {
		const struct pc_module *m = &cfg->mods[i];

		if (at > limit || m->size > limit - at)
			return -1;
		gpa[i] = at;
		__builtin_memcpy(ram + at, m->data, m->size);
		at = ALIGN_UP(at + m->size, PAGE_SIZE);
	}
	*end = at;
	return 0;
}

static void build_mb1(struct info_area *a, const struct pc_boot_config *cfg,
		      const uint64_t *mod_gpa, struct pc_boot *pb)
{
	uint64_t mbi = info_take(a, sizeof(struct mb1_info), 8);
	uint64_t mods = info_take(a, sizeof(struct mb1_module) * cfg->nmods, 8);
	uint64_t mmap =
		info_take(a, sizeof(struct mb1_mmap_entry) * pb->nmap, 8);
	struct mb1_info info = {0};

	if (a->full)
		return;
	for (unsigned int i = 0; i < cfg->nmods; i++) {
		struct mb1_module m = {
			(uint32_t)mod_gpa[i],
			(uint32_t)(mod_gpa[i] + cfg->mods[i].size),
			(uint32_t)info_str(a, cfg->mods[i].cmdline), 0};

		__builtin_memcpy(a->ram + mods + i * sizeof(m), &m, sizeof(m));
	}
	for (unsigned int i = 0; i < pb->nmap; i++) {
		struct mb1_mmap_entry e = {20, pb->map[i].addr, pb->map[i].size,
					   pb->map[i].type};

		__builtin_memcpy(a->ram + mmap + i * sizeof(e), &e, sizeof(e));
	}
	info.flags = MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MODS |
		     MB1_INFO_MMAP | MB1_INFO_LOADER;
	info.mem_lower = (uint32_t)(PC_LOW_RAM_END >> 10);
	/* Contiguous RAM from 1 MiB on, in KiB. */
	info.mem_upper = (uint32_t)((pb->info_gpa - PC_HOLE_END) >> 10);
	info.cmdline = (uint32_t)info_str(a, cfg->cmdline);
	info.mods_count = cfg->nmods;
	info.mods_addr = (uint32_t)mods;
	info.mmap_length = (uint32_t)(sizeof(struct mb1_mmap_entry) * pb->nmap);
	info.mmap_addr = (uint32_t)mmap;
	info.boot_loader_name = (uint32_t)info_str(a, PC_LOADER_NAME);
	__builtin_memcpy(a->ram + mbi, &info, sizeof(info));
	pb->start_gpa = mbi;
	pb->boot_magic = MB1_BOOT_MAGIC;
}

static void build_pvh(struct info_area *a, const struct pc_boot_config *cfg,
		      const uint64_t *mod_gpa, struct pc_boot *pb)
{
	uint64_t si = info_take(a, sizeof(struct hvm_start_info), 8);
	uint64_t mods =
		info_take(a, sizeof(struct hvm_modlist_entry) * cfg->nmods, 8);
	uint64_t mmap =
		info_take(a, sizeof(struct hvm_memmap_entry) * pb->nmap, 8);
	struct hvm_start_info info = {0};

	if (a->full)
		return;
	for (unsigned int i = 0; i < cfg->nmods; i++) {
		struct hvm_modlist_entry m = {mod_gpa[i], cfg->mods[i].size,
					      info_str(a, cfg->mods[i].cmdline),
					      0};

		__builtin_memcpy(a->ram + mods + i * sizeof(m), &m, sizeof(m));
	}
	for (unsigned int i = 0; i < pb->nmap; i++) {
		struct hvm_memmap_entry e = {pb->map[i].addr, pb->map[i].size,
					     pb->map[i].type, 0};

		__builtin_memcpy(a->ram + mmap + i * sizeof(e), &e, sizeof(e));
	}
	info.magic = PVH_START_MAGIC;
	info.version = PVH_START_VERSION;
	info.nr_modules = cfg->nmods;
	info.modlist_paddr = cfg->nmods ? mods : 0;
	info.cmdline_paddr = info_str(a, cfg->cmdline);
	info.rsdp_paddr = pb->rsdp_gpa;
	info.memmap_paddr = mmap;
	info.memmap_entries = pb->nmap;
	__builtin_memcpy(a->ram + si, &info, sizeof(info));
	pb->start_gpa = si;
	pb->boot_magic = 0;
}

int pc_boot_build(void *ram, const struct pc_boot_config *cfg,
		  const struct guest_image *img, struct pc_boot *pb,
		  const char **err)
{
	uint64_t mod_gpa[PC_MODULES_MAX];
	uint8_t *r = ram;

	*pb = (struct pc_boot){0};
	if (cfg->nmods > PC_MODULES_MAX) {
		*err = "too many guest modules (at most 32)";
		return -1;
	}
	pb->low_top = pc_low_top(cfg->mem_bytes);
	pb->info_gpa = info_base(cfg->mem_bytes);
	if (!acpi_build(r + PC_ACPI_BASE, PC_ACPI_SIZE, PC_ACPI_BASE,
			cfg->ncpus)) {
		*err = "cannot build the ACPI tables (bad vCPU count?)";
		return -1;
	}
	pb->rsdp_gpa = PC_ACPI_BASE;
	if (place_modules(r, cfg, img, pb->info_gpa, mod_gpa, &pb->mods_end)) {
		*err = "guest modules do not fit in guest RAM below 3 GiB "
		       "(try a larger mem=)";
		return -1;
	}
	build_map(pb, cfg->mem_bytes);

	struct info_area a = {r, pb->info_gpa, pb->info_gpa + PC_INFO_SIZE,
			      false};

	if (img->fmt == GUEST_FMT_PVH)
		build_pvh(&a, cfg, mod_gpa, pb);
	else
		build_mb1(&a, cfg, mod_gpa, pb);
	if (a.full) {
		*err = "guest command lines too long for the boot information "
		       "area (64 KiB)";
		return -1;
	}
	return 0;
}
