/* SPDX-License-Identifier: MIT */
/*
 * Memslots: which guest-physical ranges are RAM and which host-physical
 * frames back them.
 *
 * A VM's slots live in one immutable struct memslot_set.  Readers (the
 * fault path) find it through an acquire load inside an EBR read-side
 * section and never lock; a change builds a new set with the next
 * generation, publishes it under mmu_lock held for write, removes the old
 * mappings from the MMU and frees the old set after a grace period.
 *
 * The only mutable part of a slot is its huge-page restriction counters,
 * changed under mmu_lock held for write (tdp_mmu_restrict_huge) and read
 * by faults under the read lock.
 */
#ifndef TIDAL_MM_MEMSLOT_H
#define TIDAL_MM_MEMSLOT_H

#include "lib/compiler.h"
#include "lib/ebr.h"
#include "lib/platform.h"
#include "mm/errno.h"

struct tdp_mmu;
struct memslot_observer;

#define MEMSLOT_MAX	  64	 /* slots per VM */
#define MEMSLOT_ID_MAX	  0xffff /* ids are 0..MEMSLOT_ID_MAX */
#define MEMSLOT_READONLY  BIT(0)
#define MEMSLOT_DIRTY_LOG BIT(1) /* log writes (mm/tdp/dirty.c) */
#define MEMSLOT_NO_HUGE	  BIT(2) /* map with 4 KiB pages only */
#define MEMSLOT_VALID_FLAGS \
	(MEMSLOT_READONLY | MEMSLOT_DIRTY_LOG | MEMSLOT_NO_HUGE)

/*
 * The dirty bitmap of a logged slot: bit i is page base_gfn + i.  Every
 * copy of the slot in successive sets shares it (refs counts the copies
 * plus any caller holding it), so a bit set by a fault through an older
 * set is never lost.  Bits are set by faults (mmu_lock for read) and
 * cleared by tdp_mmu_clear_dirty_log (mmu_lock for write), atomically.
 */
struct memslot_dirty {
	uint32_t refs;
	uint64_t nwords;
	uint64_t words[];
};

struct memslot {
	uint32_t id;
	uint32_t flags;
	uint64_t base_gfn;
	uint64_t npages;
	phys_addr_t host_base; /* host-physical address of the first frame */
	/*
	 * Restriction counters for 2 MiB (index 0) and 1 GiB (index 1)
	 * blocks touching the slot, counted from the block that holds
	 * base_gfn.  Owned by this copy of the slot.
	 */
	uint32_t *huge_block_restricted[2];
	uint64_t huge_blocks[2];
	struct memslot_dirty *dirty; /* set iff flags has MEMSLOT_DIRTY_LOG */
};

struct memslot_set {
	uint64_t generation;
	unsigned int count;
	struct ebr_head ebr;
	struct memslot slots[]; /* sorted by base_gfn, no overlap */
};

/* Changes.  Each returns 0 or a negative error (see mm/README.md). */
int memslot_create(struct tdp_mmu *mmu, uint32_t id, uint64_t gpa,
		   uint64_t size, phys_addr_t host_base, uint32_t flags);
int memslot_delete(struct tdp_mmu *mmu, uint32_t id);
int memslot_move(struct tdp_mmu *mmu, uint32_t id, uint64_t new_gpa);
int memslot_set_flags(struct tdp_mmu *mmu, uint32_t id, uint32_t flags);

/* Observers are called once per DELETE/MOVE, after the commit. */
void memslot_observer_register(struct tdp_mmu *mmu, struct memslot_observer *o);
void memslot_observer_unregister(struct tdp_mmu *mmu,
				 struct memslot_observer *o);

/*
 * Lock-free lookups.  The caller must be inside an EBR read-side section
 * for as long as it uses the returned set or slot.
 */
struct memslot_set *memslot_set_current(struct tdp_mmu *mmu);
const struct memslot *memslot_find(const struct memslot_set *set, uint64_t gfn);
const struct memslot *memslot_find_id(const struct memslot_set *set,
				      uint32_t id);

/* Host frame backing @gfn, which must lie in @slot. */
static inline uint64_t memslot_gfn_to_pfn(const struct memslot *slot,
					  uint64_t gfn)
{
	return (slot->host_base >> PAGE_SHIFT) + (gfn - slot->base_gfn);
}

/* Bytes accounted for a dirty bitmap of @npages. */
static inline uint64_t memslot_dirty_bytes(uint64_t npages)
{
	return sizeof(struct memslot_dirty) + ((npages + 63) / 64) * 8;
}

/* Record a write to @gfn (in @slot) in its dirty bitmap, if it has one. */
static inline bool memslot_mark_dirty(const struct memslot *slot, uint64_t gfn)
{
	uint64_t i = gfn - slot->base_gfn;

	if (!slot->dirty)
		return false;
	__atomic_fetch_or(&slot->dirty->words[i / 64], 1ull << (i % 64),
			  __ATOMIC_RELAXED);
	return true;
}

/*
 * Keep a slot's bitmap alive across a yield (the slot itself may go);
 * memslot_dirty_put() drops the reference.
 */
static inline void memslot_dirty_hold(struct memslot_dirty *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
}
void memslot_dirty_put(struct memslot_dirty *d);

/* Largest leaf level (1..max_level) usable for @gfn in @slot right now. */
int memslot_max_level(const struct memslot *slot, uint64_t gfn, int max_level);

/* Internal to mm/: the empty set of a new VM, and the last set's end. */
int memslot_init(struct tdp_mmu *mmu);
void memslot_fini(struct tdp_mmu *mmu);

#endif
