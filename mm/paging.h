/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own address space (mm/paging.c).
 *
 *  - The image (linker.ld) is mapped at its physical load address with
 *    4 KiB pages: text read-only + executable, rodata read-only, data and
 *    bss writable; everything but text is no-execute when the CPU has NX.
 *  - All of RAM, and at least the low 4 GiB (MMIO), is mapped at
 *    DIRECT_MAP_BASE + physical address ("direct map"), read-write,
 *    no-execute, with the largest pages available.
 *  - Nothing else: the rest of the low half is unmapped, so NULL
 *    dereferences fault.
 */
#ifndef TIDAL_MM_PAGING_H
#define TIDAL_MM_PAGING_H

#include "lib/platform.h"

#define DIRECT_MAP_BASE 0xffff800000000000ull

/* Physical <-> direct-map virtual addresses (valid from the first C code). */
static inline void *phys_to_virt(phys_addr_t pa)
{
	return (void *)(uintptr_t)(pa + DIRECT_MAP_BASE);
}

/*
 * Only for direct-map addresses and addresses inside the image (which is
 * mapped at its physical address).
 */
static inline phys_addr_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;

	return v >= DIRECT_MAP_BASE ? v - DIRECT_MAP_BASE : v;
}

struct boot_info;

/*
 * Build the final page tables described above and switch to them.
 * Needs the frame allocator.  Panics on failure (no memory that early).
 */
void paging_init(const struct boot_info *bi);

/*
 * Map the 4 KiB of MMIO at @pa uncached (PCD | PWT: UC with the reset PAT)
 * in a window of its own, away from the write-back direct map.  Returns
 * the address, or NULL when the window is full.  Boot CPU, before the
 * other CPUs start (the same page tables serve every CPU).
 */
void *paging_map_uc(phys_addr_t pa);

/*
 * A stack of @size bytes (a multiple of PAGE_SIZE) in the stack window,
 * with an unmapped guard page below it.  Returns its top, or NULL when out
 * of memory.  Boot CPU only, like paging_map_uc().
 */
void *paging_alloc_stack(size_t size);

/* Physical address of the page-table root (below 4 GiB: APs load it in
 * 32-bit mode). */
phys_addr_t paging_root(void);

/* Highest physical address covered by the direct map (exclusive). */
uint64_t paging_direct_map_end(void);

#endif
