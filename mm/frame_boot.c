// SPDX-License-Identifier: MIT
/* Frame allocator set-up from the multiboot2 memory map; see frame_boot.h. */
#include "mm/frame_boot.h"
#include "boot/bootinfo.h"
#include "arch/x86/power.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "mm/paging.h"

extern char __image_start[], __image_end[];

#define MAX_RESERVED (BOOT_MAX_MMAP + BOOT_MAX_MODULES + 4)

static struct frame_range usable[BOOT_MAX_MMAP];
static struct frame_range reserved[MAX_RESERVED];
static size_t n_usable, n_reserved;

static void reserve(uint64_t base, uint64_t len)
{
	if (len && n_reserved < MAX_RESERVED)
		reserved[n_reserved++] = (struct frame_range){ base, len };
}

static bool overlaps(uint64_t a, uint64_t alen, const struct frame_range *r)
{
	return a < r->base + r->len && r->base < a + alen;
}

/*
 * A page-aligned hole of @size bytes in usable memory between 1 MiB and
 * @limit that avoids every reserved range, or 0.
 */
static uint64_t find_hole(uint64_t size, uint64_t limit)
{
	for (size_t i = 0; i < n_usable; i++) {
		uint64_t start = ALIGN_UP(MAX(usable[i].base, 1 * MiB),
					  (uint64_t)PAGE_SIZE);
		uint64_t end = MIN(usable[i].base + usable[i].len, limit);
		bool moved = true;

		while (moved && start + size <= end) {
			moved = false;
			for (size_t j = 0; j < n_reserved; j++) {
				if (overlaps(start, size, &reserved[j])) {
					start = ALIGN_UP(reserved[j].base +
								 reserved[j].len,
							 (uint64_t)PAGE_SIZE);
					moved = true;
				}
			}
		}
		if (!moved && start + size <= end)
			return start;
	}
	return 0;
}

void frame_boot_init(const struct boot_info *bi)
{
	uint64_t top = 0, bitmap_pa, bitmap_bytes;
	struct frame_stats st;

	for (unsigned int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mem_range *m = &bi->mmap[i];

		if (m->type == BOOT_MEM_USABLE) {
			usable[n_usable++] = (struct frame_range){ m->base,
								   m->len };
			top = MAX(top, m->base + m->len);
		} else {
			/* Wins over any usable entry that overlaps it. */
			reserve(m->base, m->len);
		}
	}
	reserve((uintptr_t)__image_start,
		(uintptr_t)__image_end - (uintptr_t)__image_start);
	reserve(bi->mbi_phys, bi->mbi_size);
	for (unsigned int i = 0; i < bi->module_count; i++)
		reserve(bi->modules[i].start,
			bi->modules[i].end - bi->modules[i].start);

	bitmap_bytes = ALIGN_UP((uint64_t)frame_bitmap_bytes(top),
				(uint64_t)PAGE_SIZE);
	/* Below 4 GiB: the boot page tables map only that much. */
	bitmap_pa = find_hole(bitmap_bytes, 4 * GiB);
	if (!bitmap_pa) {
		pr_err("tidal: no room for the frame bitmap (%llu KiB)\n",
		       (unsigned long long)(bitmap_bytes / KiB));
		power_off(1);
	}
	reserve(bitmap_pa, bitmap_bytes);
	if (frame_init(usable, n_usable, reserved, n_reserved,
		       phys_to_virt(bitmap_pa), bitmap_bytes)) {
		pr_err("tidal: frame allocator set-up failed\n");
		power_off(1);
	}
	frame_get_stats(&st);
	pr_debug("tidal: frames: %llu free of %llu, bitmap %llu KiB at %#llx\n",
		 (unsigned long long)st.free, (unsigned long long)st.total,
		 (unsigned long long)(bitmap_bytes / KiB),
		 (unsigned long long)bitmap_pa);
}
