// SPDX-License-Identifier: MIT
/*
 * platform_zalloc()/platform_free(): a small kernel heap.
 *
 * Objects up to 2 KiB (including a 16-byte header) come from power-of-two
 * size classes (32 B .. 2 KiB) carved out of whole frames; bigger ones get
 * their own run of contiguous frames.  Every object starts with a header
 * recording its class (or frame count) and a magic value, so a free of a
 * pointer that is not a live heap object (double free, wild pointer)
 * panics instead of corrupting the heap.
 *
 * Limits: frames carved into a size class are never given back to the
 * frame allocator (freed objects are reused for the same class only);
 * objects are 16-byte aligned, no more; one lock for all classes.
 */
#include "lib/platform.h"
#include "lib/atomic.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

#define HDR_SIZE      16
#define MIN_SHIFT     5	 /* 32 B */
#define MAX_SHIFT     11 /* 2 KiB */
#define NR_CLASSES    (MAX_SHIFT - MIN_SHIFT + 1)
#define MAGIC_LIVE    0x7e1dca11u
#define MAGIC_FREE    0xf7eeb10cu
#define CLASS_LARGE   0xffffu

struct obj_hdr {
	uint32_t magic;
	uint32_t class; /* size class, or CLASS_LARGE */
	uint64_t frames; /* large objects: frames in the run */
};
STATIC_ASSERT(sizeof(struct obj_hdr) == HDR_SIZE, "header size");

struct free_obj {
	struct obj_hdr hdr;
	struct free_obj *next;
};

static struct free_obj *free_lists[NR_CLASSES];
static unsigned int heap_lock_word;

static unsigned long heap_lock(void)
{
	unsigned long flags = platform_irq_save();

	while (__atomic_exchange_n(&heap_lock_word, 1, __ATOMIC_ACQUIRE))
		platform_relax();
	return flags;
}

static void heap_unlock(unsigned long flags)
{
	__atomic_store_n(&heap_lock_word, 0, __ATOMIC_RELEASE);
	platform_irq_restore(flags);
}

static unsigned int class_of(size_t total)
{
	unsigned int c = 0;

	while ((1ul << (c + MIN_SHIFT)) < total)
		c++;
	return c;
}

/* Carve a fresh frame into free objects of class @c; lock held. */
static bool refill(unsigned int c)
{
	size_t size = 1ul << (c + MIN_SHIFT);
	phys_addr_t pa = frame_alloc();
	char *page;

	if (!pa)
		return false;
	page = phys_to_virt(pa);
	for (size_t off = 0; off + size <= PAGE_SIZE; off += size) {
		struct free_obj *o = (struct free_obj *)(page + off);

		o->hdr.magic = MAGIC_FREE;
		o->hdr.class = c;
		o->next = free_lists[c];
		free_lists[c] = o;
	}
	return true;
}

static void *alloc_small(size_t total)
{
	unsigned int c = class_of(total);
	unsigned long flags = heap_lock();
	struct free_obj *o = free_lists[c];

	if (!o && refill(c))
		o = free_lists[c];
	if (o)
		free_lists[c] = o->next;
	heap_unlock(flags);
	if (!o)
		return NULL;
	memset(o, 0, 1ul << (c + MIN_SHIFT));
	o->hdr.magic = MAGIC_LIVE;
	o->hdr.class = c;
	return (char *)o + HDR_SIZE;
}

static void *alloc_large(size_t total)
{
	size_t frames = (total + PAGE_SIZE - 1) / PAGE_SIZE;
	phys_addr_t pa = frame_alloc_run(frames, PAGE_SIZE, 0);
	struct obj_hdr *h;

	if (!pa)
		return NULL;
	h = phys_to_virt(pa);
	memset(h, 0, frames * PAGE_SIZE);
	h->magic = MAGIC_LIVE;
	h->class = CLASS_LARGE;
	h->frames = frames;
	return (char *)h + HDR_SIZE;
}

void *platform_zalloc(size_t size)
{
	if (size > SIZE_MAX - PAGE_SIZE - HDR_SIZE)
		return NULL;
	if (size + HDR_SIZE <= (1ul << MAX_SHIFT))
		return alloc_small(size + HDR_SIZE);
	return alloc_large(size + HDR_SIZE);
}

void platform_free(void *p)
{
	struct obj_hdr *h;
	struct free_obj *o;
	unsigned long flags;

	if (!p)
		return;
	h = (struct obj_hdr *)((char *)p - HDR_SIZE);
	if (!IS_ALIGNED((uintptr_t)p, HDR_SIZE) || h->magic != MAGIC_LIVE ||
	    (h->class >= NR_CLASSES && h->class != CLASS_LARGE))
		panic("platform_free(%p): not a live heap object", p);
	if (h->class == CLASS_LARGE) {
		h->magic = MAGIC_FREE;
		if (frame_free_run(virt_to_phys(h), h->frames))
			panic("platform_free(%p): bad frame run", p);
		return;
	}
	o = (struct free_obj *)h;
	o->hdr.magic = MAGIC_FREE;
	flags = heap_lock();
	o->next = free_lists[h->class];
	free_lists[h->class] = o;
	heap_unlock(flags);
}
