/* SPDX-License-Identifier: MIT */
/*
 * Physical frame allocator (mm/frame.c): a bitmap over the usable ranges
 * of the memory map.  It never hands out the first MiB, the hypervisor
 * image, the boot modules, the multiboot2 information or its own bitmap;
 * those are given to frame_init() as reserved ranges.
 *
 * Frames are 4 KiB.  Physical address 0 is never allocatable, so it is the
 * failure value.  Frames are NOT zeroed: the caller maps them
 * (phys_to_virt) and clears what it needs.  Safe to call from any CPU.
 */
#ifndef TIDAL_MM_FRAME_H
#define TIDAL_MM_FRAME_H

#include "lib/platform.h"

#define FRAME_SIZE PAGE_SIZE

struct frame_range {
	uint64_t base;
	uint64_t len;
};

struct frame_stats {
	uint64_t total;	    /* frames managed (usable minus reserved) */
	uint64_t free;	    /* frames free now */
	uint64_t allocs;    /* successful allocations, ever (runs count once) */
	uint64_t frees;	    /* successful frees, ever */
	uint64_t failures;  /* allocations that found nothing */
};

/*
 * Bytes of bitmap storage frame_init() needs to manage physical
 * addresses below @limit.
 */
size_t frame_bitmap_bytes(uint64_t limit);

/*
 * Set the allocator up over @usable minus @reserved (and minus the first
 * MiB), keeping its bitmaps in @bitmap (@bitmap_bytes long, as
 * frame_bitmap_bytes() computed for the highest usable address).  Usable
 * ranges shrink inwards to whole frames, reserved ones grow outwards.
 * Returns 0 or a negative error (-EINVAL style: bad arguments, bitmap too
 * small).  May be called again to start over (host tests do).
 */
int frame_init(const struct frame_range *usable, size_t n_usable,
	       const struct frame_range *reserved, size_t n_reserved,
	       void *bitmap, size_t bitmap_bytes);

/* One frame, or 0 when memory is exhausted. */
phys_addr_t frame_alloc(void);

/*
 * @count contiguous frames whose first address is a multiple of @align
 * bytes (a power of two, at least FRAME_SIZE), all below @limit (0: no
 * limit).  Returns the first address, or 0.
 */
phys_addr_t frame_alloc_run(size_t count, uint64_t align, uint64_t limit);

/*
 * Give back frames.  Returns 0, or a negative error when the range was not
 * allocated (double free, reserved or unmanaged frame, misaligned); in
 * that case nothing changes.
 */
int frame_free(phys_addr_t pa);
int frame_free_run(phys_addr_t pa, size_t count);

/* True if the frame at @pa is managed and currently free. */
bool frame_is_free(phys_addr_t pa);

void frame_get_stats(struct frame_stats *st);

#endif
