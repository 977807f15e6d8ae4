/* SPDX-License-Identifier: MIT */
/*
 * The external page-table guard.
 *
 * A protected VM has two sets of page tables.  The TDP MMU keeps a *mirror*
 * root that no CPU ever walks; the EPT that the CPU does walk for the VM is
 * owned by a guard, and the guard is the only code that writes it.  Every
 * change the MMU makes to a mirror SPTE is forwarded here as a request, and
 * the guard checks the request before it applies it.  The MMU is large and
 * concurrent; the guard is small, so the isolation of a protected guest
 * rests on code that can be read in one sitting.
 *
 * Vocabulary
 * ----------
 * Levels follow the TDP MMU: the entry that maps a 4 KiB page is a level-1
 * entry, a 2 MiB leaf is a level-2 entry, a 1 GiB leaf a level-3 entry, and
 * the root table holds level-4 entries (level-5 with 5-level EPT).  Every
 * call names the *entry* it changes by (gfn, level): an entry at level L
 * covers 512^(L-1) guest frames and the gfn must be the first of them.
 * "Linking a table at level L" makes the level-L entry point to a new,
 * empty table of level-(L-1) entries.  Frames are host-physical page frame
 * numbers (phys >> 12).
 *
 * Every call returns GUARD_OK (0) or one negative enum guard_error, and a
 * call that fails has changed nothing (no entry, no ownership bit, no page
 * allocated or freed).  Refusals are counted by reason (guard_get_stats).
 *
 * The checks, and why each one matters for isolation
 * ---------------------------------------------------
 *  - Ownership (GUARD_E_NOT_OWNED).  Every frame a leaf maps must lie in a
 *    memory range registered for *this* VM (guard_add_memory).  Ranges live
 *    in a registry shared by all guards: a range is refused
 *    (GUARD_E_OVERLAP) if any part of it is already owned by another VM or
 *    reserved for the hypervisor (guard_registry_reserve).  So a guest can
 *    never be given hypervisor memory (its code, its page tables, another
 *    VM's EPT) or another guest's memory, whatever the MMU asks for.
 *  - Guard page tables are not guest memory.  The guard allocates its own
 *    table pages and refuses (GUARD_E_OVERLAP) a page that the allocator
 *    returns inside any registered range; no API takes a table page from
 *    the caller.  A guest that could reach its own EPT through a leaf could
 *    map anything.
 *  - Map at most once (GUARD_E_DOUBLE_MAP).  A frame is mapped by at most
 *    one leaf at a time.  Aliases are how a frame outlives its unmapping:
 *    if a frame were reachable from two GFNs, removing one leaf and then
 *    releasing the memory would leave a live mapping to a scrubbed,
 *    reallocated frame.
 *  - Levels (GUARD_E_LEVEL).  Leaves only at levels 1..max_leaf (1 GiB
 *    leaves are optional), tables only at levels 2..root.  A bad level
 *    would make the CPU interpret a leaf as a table pointer or the reverse:
 *    a guest frame would be walked as page-table memory.
 *  - Address width (GUARD_E_GFN).  A gfn beyond what the EPT's levels can
 *    translate would be silently truncated into another gfn's slot.
 *  - Alignment (GUARD_E_GFN_ALIGN, GUARD_E_PFN_ALIGN).  A huge leaf maps an
 *    aligned block; an unaligned frame would extend the mapping past the
 *    frames that were checked for ownership (the CPU ignores the low bits).
 *  - Parents (GUARD_E_NO_PARENT, GUARD_E_UNDER_LEAF).  The table that holds
 *    the entry must exist, and no huge leaf may sit above it; otherwise the
 *    guard would have to invent tables or split leaves behind the MMU's back
 *    and the two views would diverge.
 *  - No double link or set (GUARD_E_PRESENT), no double remove or free
 *    (GUARD_E_NOT_PRESENT), right kind (GUARD_E_KIND).  Overwriting a
 *    present entry would drop a mapping (and its ownership accounting) or a
 *    whole subtree without scrubbing or freeing it; removing a leaf where a
 *    table is, or freeing a table where a leaf is, would corrupt the
 *    accounting of frames that are still mapped.
 *  - Empty before free (GUARD_E_NOT_EMPTY).  A table is freed only when it
 *    maps nothing, so no mapping is ever lost without being accounted.
 *  - Permissions and memory type (GUARD_E_PROT, GUARD_E_MEMTYPE).  Only
 *    R/W/X are accepted, write needs read, and the memory type must be one
 *    the architecture defines: anything else is an EPT misconfiguration.
 *  - TLB flush before release (GUARD_E_FLUSH).  After a leaf is removed the
 *    CPU may still hold a translation to its frame until the EPT is flushed
 *    (INVEPT).  A range is released only after a flush that began after
 *    the last removal of one of its frames, and a freed table page is
 *    returned to the allocator only after a flush that began after it was
 *    unlinked (guard_flush_begin / guard_flush_done).  Otherwise a stale
 *    TLB entry would let the guest write into a frame given to someone
 *    else.
 *  - Scrubbing.  Frames that may hold VM data are zeroed before the guard
 *    lets them go (guard_release_memory, guard_destroy), and table pages
 *    are zeroed before they are freed, so no guest data and no host
 *    physical address leaks to the next user of a page.
 *  - Still in use (GUARD_E_IN_USE).  Memory with mapped frames is not
 *    released; a registry with guards or ranges is not destroyed.
 *
 * Concurrency
 * -----------
 * Each guard has its own spinlock, and every call on a guard (including
 * the read-only ones) runs under it, so calls from several CPUs for
 * different GFNs -- the MMU calls with its mmu_lock held for read -- are
 * serialized here and need no reasoning about interleavings.  The CPU's
 * page walker is the only lock-free reader: entries are written with single
 * 64-bit atomic stores, and a new table is zero when it is linked (the
 * linking store is a release).  The registry has its own lock; the lock
 * order is guard, then registry, and registry code never takes a guard
 * lock.  Counters are read under the guard lock, except rollbacks, which
 * the MMU adds atomically.
 *
 * Trust
 * -----
 * The guard trusts its caller about exactly three things: the ranges given
 * to guard_add_memory really were handed to the VM by the frame allocator
 * (the registry checks they collide with no other owner and no reserved
 * range, but cannot know who else holds an unregistered frame), a flush
 * reported by guard_flush_done really happened on every CPU, and no vCPU
 * runs on the EPT once guard_destroy is called.
 */
#ifndef TIDAL_MM_GUARD_H
#define TIDAL_MM_GUARD_H

#include "lib/platform.h"

struct guard;
struct guard_registry;

enum guard_error {
	GUARD_OK = 0,
	GUARD_E_BUSY = -1,	   /* transient: retry (only injected today) */
	GUARD_E_INVAL = -2,	   /* malformed call (NULL, zero size, ...) */
	GUARD_E_LEVEL = -3,	   /* level not valid for this operation */
	GUARD_E_GFN = -4,	   /* gfn beyond the EPT's address width */
	GUARD_E_GFN_ALIGN = -5,	   /* gfn not the first of the entry's span */
	GUARD_E_PFN_ALIGN = -6,	   /* huge leaf on an unaligned frame */
	GUARD_E_PROT = -7,	   /* bad permission bits */
	GUARD_E_MEMTYPE = -8,	   /* reserved memory type */
	GUARD_E_NOT_OWNED = -9,	   /* frame not in this VM's memory */
	GUARD_E_DOUBLE_MAP = -10,  /* frame already mapped by a leaf */
	GUARD_E_NO_PARENT = -11,   /* a table above the entry is missing */
	GUARD_E_UNDER_LEAF = -12,  /* a huge leaf covers the entry */
	GUARD_E_PRESENT = -13,	   /* entry already present */
	GUARD_E_NOT_PRESENT = -14, /* entry not present */
	GUARD_E_KIND = -15,	   /* leaf where a table is, or the reverse */
	GUARD_E_NOT_EMPTY = -16,   /* table still maps something */
	GUARD_E_NOMEM = -17,	   /* allocation failed */
	GUARD_E_OVERLAP = -18,	   /* range collides with a registered one */
	GUARD_E_IN_USE = -19,	   /* memory still mapped / registry in use */
	GUARD_E_FLUSH = -20,	   /* removals not yet flushed from TLBs */
	GUARD_E_NR = 21,	   /* number of codes, GUARD_OK included */
};

/* A short name for an error code ("GUARD_E_DOUBLE_MAP"); never NULL. */
const char *guard_strerror(int err);

/* Leaf permissions (the API's own bits; guard.c encodes them). */
#define GUARD_PROT_R   0x1u
#define GUARD_PROT_W   0x2u
#define GUARD_PROT_X   0x4u
#define GUARD_PROT_RWX (GUARD_PROT_R | GUARD_PROT_W | GUARD_PROT_X)

/* Memory types an EPT leaf may carry (the architectural encodings). */
enum guard_memtype {
	GUARD_MT_UC = 0,
	GUARD_MT_WC = 1,
	GUARD_MT_WT = 4,
	GUARD_MT_WP = 5,
	GUARD_MT_WB = 6,
};

#define GUARD_LEVEL_4K	     1
#define GUARD_LEVEL_2M	     2
#define GUARD_LEVEL_1G	     3
#define GUARD_PTES_PER_TABLE 512
/* Guest frames covered by one entry at @level. */
#define GUARD_LEVEL_PAGES(level) (1ull << (9 * ((level)-1)))
/* Largest physical address width the EPT format allows (bits 51:12). */
#define GUARD_MAX_PHYS_BITS 52

/* ---- The registry of frame ownership, shared by all guards. ---- */

int guard_registry_create(struct guard_registry **out) __must_check;
/* Refused with GUARD_E_IN_USE while guards or reservations remain. */
int guard_registry_destroy(struct guard_registry *reg);
/* Frames that belong to the hypervisor and that no VM may ever own. */
int guard_registry_reserve(struct guard_registry *reg, uint64_t pfn,
			   uint64_t npages) __must_check;
int guard_registry_unreserve(struct guard_registry *reg, uint64_t pfn,
			     uint64_t npages) __must_check;

/* ---- Lifetime and memory of one protected VM. ---- */

struct guard_config {
	unsigned int levels;   /* 4 (48-bit GPA) or 5 (57-bit GPA) */
	unsigned int max_leaf; /* 2 (no 1 GiB leaves) or 3 */
};

int guard_create(struct guard_registry *reg, const struct guard_config *cfg,
		 struct guard **out) __must_check;
/*
 * Tear everything down: every leaf is removed, every frame that may hold
 * VM data is scrubbed, every table page is zeroed and freed, the VM's
 * ranges leave the registry.  The caller guarantees that no vCPU runs on
 * this EPT any more (so no flush is needed).
 */
void guard_destroy(struct guard *g);

/* Frames are known to be zero already: release need not scrub the unmapped. */
#define GUARD_MEM_ZEROED 0x1u

/*
 * Give frames [pfn, pfn + npages) to this VM.  Refused if the range
 * collides with any registered or reserved range (GUARD_E_OVERLAP) or goes
 * beyond the physical address width (GUARD_E_INVAL).
 */
int guard_add_memory(struct guard *g, uint64_t pfn, uint64_t npages,
		     unsigned int flags) __must_check;
/*
 * Take back exactly a range given by guard_add_memory: refused while any of
 * its frames is mapped (GUARD_E_IN_USE) or while a removal has not been
 * flushed (GUARD_E_FLUSH); frames that may hold VM data are scrubbed.
 */
int guard_release_memory(struct guard *g, uint64_t pfn,
			 uint64_t npages) __must_check;

/* ---- The four requests that change the EPT. ---- */

/* Make the entry (gfn, level) point to a new empty table; level >= 2. */
int guard_link_table(struct guard *g, uint64_t gfn, int level) __must_check;
/* Map GUARD_LEVEL_PAGES(level) frames from pfn at gfn. */
int guard_set_leaf(struct guard *g, uint64_t gfn, int level, uint64_t pfn,
		   unsigned int prot, enum guard_memtype mt) __must_check;
/* Unmap the leaf at (gfn, level). */
int guard_remove_leaf(struct guard *g, uint64_t gfn, int level) __must_check;
/*
 * Unlink the empty table that the entry (gfn, level) points to.  The page
 * is freed after the next completed flush (or at destroy).
 */
int guard_free_table(struct guard *g, uint64_t gfn, int level) __must_check;

/*
 * TLB flush protocol.  A flusher calls guard_flush_begin() before it
 * invalidates the EPT's translations on every CPU, and passes the token to
 * guard_flush_done() afterwards: every removal made before the begin is
 * then known to be out of the TLBs, and table pages unlinked before it are
 * freed.  Returns true if there was anything to flush.
 */
bool guard_flush_needed(struct guard *g);
uint64_t guard_flush_begin(struct guard *g);
void guard_flush_done(struct guard *g, uint64_t token);

/* ---- Read-only access. ---- */

/* Physical address of the root table, and the EPTP value for VMX. */
phys_addr_t guard_root_pa(struct guard *g);
uint64_t guard_eptp(struct guard *g, bool ad_bits);

struct guard_leaf {
	uint64_t gfn;	   /* first gfn of the leaf */
	uint64_t pfn;	   /* first frame of the leaf */
	int level;	   /* 1, 2 or 3 */
	unsigned int prot; /* GUARD_PROT_* */
	enum guard_memtype mt;
};

/*
 * Translate @gfn: GUARD_OK and the leaf that maps it (the frame backing
 * gfn itself is leaf.pfn + (gfn - leaf.gfn)), or GUARD_E_NOT_PRESENT.
 */
int guard_lookup(struct guard *g, uint64_t gfn, struct guard_leaf *out);
/*
 * Call fn for each present leaf in gfn order, with the guard lock held (fn
 * must not call back into the guard).  A non-zero return stops the walk and
 * is returned.
 */
int guard_walk_leaves(struct guard *g,
		      int (*fn)(const struct guard_leaf *leaf, void *arg),
		      void *arg);

/* ---- Fault injection (tests) and counters. ---- */

/*
 * Each EPT request (link, set, remove, free) first asks the injector: it
 * fails the nth request after the settings were made (nth = 1: the next
 * one; 0: never), and/or each request with probability per_million / 1e6,
 * returning @error and changing nothing.
 */
struct guard_fault_inject {
	uint64_t nth;
	uint32_t per_million;
	int error;     /* GUARD_E_BUSY or GUARD_E_INVAL */
	uint64_t seed; /* of the random draws; 0 picks a fixed one */
};
/* Replace the injection settings; NULL turns injection off. */
int guard_inject_failures(struct guard *g,
			  const struct guard_fault_inject *fi) __must_check;

enum guard_call {
	GUARD_CALL_LINK_TABLE,
	GUARD_CALL_SET_LEAF,
	GUARD_CALL_REMOVE_LEAF,
	GUARD_CALL_FREE_TABLE,
	GUARD_CALL_NR,
};

struct guard_stats {
	uint64_t calls[GUARD_CALL_NR];	  /* requests received */
	uint64_t done[GUARD_CALL_NR];	  /* requests applied */
	uint64_t injected[GUARD_CALL_NR]; /* requests failed by injection */
	uint64_t refusals[GUARD_E_NR];	  /* by -error; [0] unused */
	uint64_t rollbacks;		  /* counted by the MMU side */
	uint64_t tables_live;	 /* table pages linked (root included) */
	uint64_t tables_pending; /* unlinked, waiting for a flush */
	uint64_t leaves_live;
	uint64_t frames_mapped;
	uint64_t pages_scrubbed; /* frames and table pages zeroed */
	uint64_t flushes;	 /* completed guard_flush_done calls */
};
void guard_get_stats(struct guard *g, struct guard_stats *out);
/* The MMU restored a frozen mirror SPTE after a failed request. */
void guard_count_rollback(struct guard *g);

#endif
