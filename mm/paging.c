// SPDX-License-Identifier: MIT
/*
 * The hypervisor's page tables; the layout is described in mm/paging.h.
 * Built once on the boot CPU, then loaded into CR3 (other CPUs will load
 * the same root).  Page-table frames come from the frame allocator below
 * 4 GiB, where the boot tables can still reach them while we build.
 */
#include "mm/paging.h"
#include "arch/x86/cpu.h"
#include "arch/x86/power.h"
#include "boot/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"

#define PTE_P	 BIT(0)
#define PTE_W	 BIT(1)
#define PTE_PWT	 BIT(3)
#define PTE_PCD	 BIT(4)
#define PTE_PS	 BIT(7)
#define PTE_NX	 BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

extern char boot_stack_guard[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[],
	__data_start[], __data_end[];

static uint64_t *pml4;
static uint64_t nx_bit;
static uint64_t direct_end = 4 * GiB; /* what the boot tables map */

/* Two windows in the top 512 GiB: uncached MMIO, then AP stacks. */
#define MMIO_WINDOW	 0xffffff8000000000ull
#define MMIO_WINDOW_SIZE (64 * PAGE_SIZE)
#define STACK_WINDOW	 0xffffff8040000000ull
#define STACK_WINDOW_END 0xffffff8080000000ull

static uint64_t mmio_next = MMIO_WINDOW, stack_next = STACK_WINDOW;

phys_addr_t paging_root(void)
{
	return virt_to_phys(pml4);
}

uint64_t paging_direct_map_end(void)
{
	return direct_end;
}

static uint64_t *new_table(void)
{
	phys_addr_t pa = frame_alloc_run(1, PAGE_SIZE, 4 * GiB);
	uint64_t *t;

	if (!pa) {
		pr_err("tidal: out of memory building page tables\n");
		power_off(1);
	}
	t = phys_to_virt(pa);
	memset(t, 0, PAGE_SIZE);
	return t;
}

/* The table that entry @idx of @table points to, created if missing. */
static uint64_t *next_level(uint64_t *table, unsigned int idx)
{
	uint64_t *t;

	if (table[idx] & PTE_P)
		return phys_to_virt(table[idx] & PTE_ADDR);
	t = new_table();
	/* Upper levels allow everything; leaves decide. */
	table[idx] = virt_to_phys(t) | PTE_P | PTE_W;
	return t;
}

static unsigned int idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

/* Map the 4 KiB page at @va to the PTE value @pte. */
static void map_page(uint64_t va, uint64_t pte)
{
	uint64_t *t = pml4;

	for (int level = 3; level > 0; level--)
		t = next_level(t, idx(va, level));
	t[idx(va, 0)] = pte;
}

/* Map one 4 KiB page of the image at its physical address. */
static void map_4k(uint64_t va, uint64_t flags)
{
	map_page(va, (va & PTE_ADDR) | flags);
}

void *paging_map_uc(phys_addr_t pa)
{
	uint64_t va = mmio_next;
	uint64_t flags = PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx_bit;

	if (va >= MMIO_WINDOW + MMIO_WINDOW_SIZE || !pml4)
		return NULL;
	mmio_next += PAGE_SIZE;
	map_page(va, (pa & PTE_ADDR) | flags);
	return (void *)(uintptr_t)(va + (pa & (PAGE_SIZE - 1)));
}

void *paging_alloc_stack(size_t size)
{
	uint64_t base = stack_next + PAGE_SIZE; /* guard page below */
	phys_addr_t pa;

	size = ALIGN_UP(size, PAGE_SIZE);
	if (!pml4 || base + size > STACK_WINDOW_END)
		return NULL;
	pa = frame_alloc_run(size / PAGE_SIZE, PAGE_SIZE, 0);
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, size);
	for (uint64_t off = 0; off < size; off += PAGE_SIZE)
		map_page(base + off, (pa + off) | PTE_P | PTE_W | nx_bit);
	stack_next = base + size;
	return (void *)(uintptr_t)(base + size);
}

static void map_image_range(const char *start, const char *end,
			    uint64_t flags)
{
	for (uint64_t va = (uintptr_t)start; va < (uintptr_t)end;
	     va += PAGE_SIZE)
		map_4k(va, flags);
}

/* DIRECT_MAP_BASE + [0, end) with 1 GiB pages, or 2 MiB ones. */
static void map_direct(uint64_t end, bool gib_pages)
{
	uint64_t flags = PTE_P | PTE_W | PTE_PS | nx_bit;
	uint64_t step = gib_pages ? GiB : 2 * MiB;

	for (uint64_t pa = 0; pa < end; pa += step) {
		uint64_t va = DIRECT_MAP_BASE + pa;
		uint64_t *pdpt = next_level(pml4, idx(va, 3));

		if (gib_pages) {
			pdpt[idx(va, 2)] = pa | flags;
		} else {
			uint64_t *pd = next_level(pdpt, idx(va, 2));

			pd[idx(va, 1)] = pa | flags;
		}
	}
}

void paging_init(const struct boot_info *bi)
{
	uint64_t end = 4 * GiB;
	bool gib = cpu_has_1g_pages();

	if (cpu_has_nx() && (rdmsr(MSR_EFER) & EFER_NXE))
		nx_bit = PTE_NX;
	/*
	 * All RAM (including ACPI tables) and the low 4 GiB, where the MMIO
	 * of interest lives.  Reserved ranges high up (e.g. QEMU's 1 TiB
	 * HyperTransport hole) would only inflate the tables.
	 */
	for (unsigned int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mem_range *m = &bi->mmap[i];

		if (m->type == BOOT_MEM_USABLE ||
		    m->type == BOOT_MEM_ACPI_RECLAIM ||
		    m->type == BOOT_MEM_ACPI_NVS)
			end = MAX(end, m->base + m->len);
	}
	end = ALIGN_UP(end, GiB);
	/* One PML4 slot per 512 GiB; the direct map owns the lower half of the upper half. */
	if (end > 64ull * 1024 * GiB) {
		pr_warn("tidal: direct map limited to 64 TiB\n");
		end = 64ull * 1024 * GiB;
	}

	pml4 = new_table();
	map_image_range(__text_start, __text_end, PTE_P);
	map_image_range(__rodata_start, __rodata_end, PTE_P | nx_bit);
	/* Data and bss, with a hole under the boot stack as its guard page. */
	map_image_range(__data_start, boot_stack_guard,
			PTE_P | PTE_W | nx_bit);
	map_image_range(boot_stack_guard + PAGE_SIZE, __data_end,
			PTE_P | PTE_W | nx_bit);
	map_direct(end, gib);

	write_cr3(virt_to_phys(pml4));
	direct_end = end;
	pr_debug("tidal: paging: direct map %llu GiB with %s pages, NX %s\n",
		 (unsigned long long)(end / GiB), gib ? "1 GiB" : "2 MiB",
		 nx_bit ? "on" : "off (not supported)");
}
