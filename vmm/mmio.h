/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical MMIO regions.  A device registers its range here with
 * read and write callbacks; an EPT violation on a GPA with no memslot
 * that falls in a region is emulated (vmm/emulate.c) and the access
 * reaches the callback.  Exit handlers never test device addresses.
 *
 * Also the tidal test device (TIDAL_TESTDEV_* in vmm/guest_abi.h): one
 * page with an ID, access counters and scratch bytes, used by the MMIO
 * boot test and harmless to any other guest.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_MMIO_H
#define TIDAL_VMM_MMIO_H

#include "lib/compiler.h"

/*
 * An access of @len bytes (1..8) at offset @off of the region; it never
 * crosses a page.  Return EMU_OP_OK, or EMU_OP_STOP if the device
 * stopped the VM.
 */
typedef int (*mmio_read_fn)(void *dev, uint64_t off, void *buf,
			    unsigned int len);
typedef int (*mmio_write_fn)(void *dev, uint64_t off, const void *buf,
			     unsigned int len);

struct mmio_region {
	uint64_t base, size;
	const char *name;
	mmio_read_fn read;
	mmio_write_fn write;
	void *dev;
};

#define MMIO_MAX_REGIONS 8

struct mmio_table {
	struct mmio_region r[MMIO_MAX_REGIONS];
	unsigned int n;
};

/* 0, or -1 if the table is full or @r is empty or overlaps a region. */
int mmio_register(struct mmio_table *t, const struct mmio_region *r);
/* The region holding all of [gpa, gpa + len), or NULL. */
const struct mmio_region *mmio_find(const struct mmio_table *t, uint64_t gpa,
				    unsigned int len);

struct testdev {
	uint8_t scratch[4096];
	uint64_t reads, writes;
};

int testdev_register(struct mmio_table *t, struct testdev *d);

#endif
