/* SPDX-License-Identifier: MIT */
/* Setting the frame allocator up from the boot information (hypervisor). */
#ifndef TIDAL_MM_FRAME_BOOT_H
#define TIDAL_MM_FRAME_BOOT_H

struct boot_info;

/*
 * Hand every usable range to the frame allocator except the image, the
 * multiboot2 block, the modules and the allocator's own bitmap (placed
 * in usable memory below 4 GiB).  Powers off with an error if that fails.
 */
void frame_boot_init(const struct boot_info *bi);

#endif
