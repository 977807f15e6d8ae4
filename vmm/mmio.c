// SPDX-License-Identifier: MIT
/* MMIO region table and the tidal test device (see vmm/mmio.h). */
#include "vmm/mmio.h"

#include "lib/string.h"

#include "vmm/emulate.h"
#include "vmm/guest_abi.h"

int mmio_register(struct mmio_table *t, const struct mmio_region *r)
{
	if (t->n == MMIO_MAX_REGIONS || !r->size || r->base + r->size < r->base)
		return -1;
	for (unsigned int i = 0; i < t->n; i++) {
		const struct mmio_region *o = &t->r[i];

		if (r->base < o->base + o->size && o->base < r->base + r->size)
			return -1;
	}
	t->r[t->n++] = *r;
	return 0;
}

const struct mmio_region *mmio_find(const struct mmio_table *t, uint64_t gpa,
				    unsigned int len)
{
	for (unsigned int i = 0; i < t->n; i++) {
		const struct mmio_region *r = &t->r[i];

		if (gpa >= r->base && gpa - r->base < r->size &&
		    len <= r->size - (gpa - r->base))
			return r;
	}
	return NULL;
}

/* The read-only head of the test device: ID and counters. */
static void testdev_refresh(struct testdev *d)
{
	uint32_t id = TIDAL_TESTDEV_MAGIC;

	memset(d->scratch, 0, TIDAL_TESTDEV_SCRATCH);
	memcpy(d->scratch + TIDAL_TESTDEV_ID, &id, sizeof(id));
	memcpy(d->scratch + TIDAL_TESTDEV_READS, &d->reads, sizeof(d->reads));
	memcpy(d->scratch + TIDAL_TESTDEV_WRITES, &d->writes,
	       sizeof(d->writes));
}

static int testdev_read(void *dev, uint64_t off, void *buf, unsigned int len)
{
	struct testdev *d = dev;

	testdev_refresh(d);
	memcpy(buf, d->scratch + off, len);
	d->reads++;
	return EMU_OP_OK;
}

static int testdev_write(void *dev, uint64_t off, const void *buf,
			 unsigned int len)
{
	struct testdev *d = dev;

	d->writes++;
	/* Bytes below the scratch area are read-only: writes are dropped. */
	for (unsigned int i = 0; i < len; i++) {
		if (off + i >= TIDAL_TESTDEV_SCRATCH)
			d->scratch[off + i] = ((const uint8_t *)buf)[i];
	}
	return EMU_OP_OK;
}

int testdev_register(struct mmio_table *t, struct testdev *d)
{
	struct mmio_region r = {
		.base = TIDAL_TESTDEV_BASE,
		.size = TIDAL_TESTDEV_SIZE,
		.name = "tidal test device",
		.read = testdev_read,
		.write = testdev_write,
		.dev = d,
	};

	STATIC_ASSERT(sizeof(d->scratch) == TIDAL_TESTDEV_SIZE,
		      "test device backing covers the page");
	return mmio_register(t, &r);
}
