/* SPDX-License-Identifier: MIT */
/*
 * The TDP MMU: guest-physical to host-physical mappings of one VM, kept in
 * EPT page tables that vCPUs walk in hardware.  The lock and flush rules
 * are in mm/README.md; in short:
 *
 *  - mmu_lock (rwlock): faults and zapping of invalid roots hold it for
 *    read and change SPTEs with compare-and-exchange; invalidating roots,
 *    zapping leaves in a range and memslot commits hold it for write.
 *  - Every walk of the tables by software runs inside an EBR read-side
 *    section; page-table pages removed from a tree are freed via ebr_call.
 *  - TLB flushes are asked for once per batch through
 *    platform_flush_guest_tlbs(), always before the EBR section that
 *    removed the translations ends (vCPUs in guest mode are not EBR
 *    readers: the flush is what makes them stop using a removed table).
 */
#ifndef TIDAL_MM_TDP_TDP_MMU_H
#define TIDAL_MM_TDP_TDP_MMU_H

#include "lib/compiler.h"
#include "lib/ebr.h"
#include "lib/list.h"
#include "lib/platform.h"
#include "lib/rwlock.h"
#include "lib/spinlock.h"
#include "mm/errno.h"
#include "mm/tdp/spte.h"

struct memslot_set;
struct tdp_pt;
struct guard;

/*
 * A root's role: which kind of tree it is.  An ordinary VM has plain
 * 4-level EPT roots; a protected VM has only mirror roots
 * (TDP_ROLE_MIRROR), which no CPU walks: every change to them is
 * forwarded to the VM's external page-table guard (mm/guard.h), whose EPT
 * is the one the CPU uses.  See mm/tdp/mirror.c.
 */
#define TDP_ROLE_LEVEL_MASK 0x7u
#define TDP_ROLE_MIRROR	    BIT(3)
#define TDP_ROLE_DEFAULT    ((uint32_t)TDP_ROOT_LEVEL)

struct tdp_root {
	spte_t *spt; /* the root table */
	uint32_t role;
	uint32_t refcount;     /* the VM's root list holds one while valid */
	bool invalid;	       /* never handed out again once set */
	struct list_head link; /* on tdp_mmu.roots or .invalid_roots */
	struct ebr_head ebr;
};

/* How memslot DELETE/MOVE remove the old slot's mappings. */
enum tdp_slot_flush_policy {
	TDP_SLOT_FLUSH_TARGETED = 0, /* zap the slot's range in every root */
	TDP_SLOT_FLUSH_ALL = 1,	     /* fast-zap every root */
};

/*
 * Counters.  Updated atomically; read them with tdp_mmu_get_stats().
 *
 * flush_requests counts translations that had to be taken back from the
 * vCPUs (each reachable leaf zapped or reduced, each reachable table
 * removed); flushes counts real calls to platform_flush_guest_tlbs();
 * flushes_avoided counts requests that needed no flush of their own: the
 * ones folded into a batch's single flush, plus the SPTEs removed from
 * invalid (unreachable) roots, which need none at all.
 */
struct tdp_mmu_stats {
	uint64_t pt_pages[TDP_MAX_LEVEL + 1]; /* live tables by level */
	uint64_t leaves[TDP_MAX_LEVEL + 1];   /* present leaves by level */
	uint64_t roots;			      /* live roots */
	uint64_t bytes;			      /* accounted memory */
	uint64_t flush_requests;
	uint64_t flushes;
	uint64_t flushes_avoided;
	uint64_t faults;
	uint64_t fault_retries;
	uint64_t dirty_propagated;    /* dirty leaves removed or cleaned */
	uint64_t accessed_propagated; /* accessed leaves removed or aged */
	uint64_t yields;
	/* dirty logging, splitting, recovery, aging (issue 5) */
	uint64_t dirty_marked;	    /* write faults that set a dirty bit */
	uint64_t wrprot;	    /* leaves that lost write access */
	uint64_t dirty_gets;	    /* tdp_mmu_get_dirty_log calls */
	uint64_t dirty_clears;	    /* tdp_mmu_clear_dirty_log calls */
	uint64_t splits;	    /* huge leaves split into a table */
	uint64_t split_zaps;	    /* huge leaves zapped: no memory to split */
	uint64_t split_cache_fills; /* times the split cache was topped up */
	uint64_t recovered;	    /* tables zapped by huge-page recovery */
	uint64_t aged;		    /* accessed bits cleared by aging */
	uint64_t prefaulted;	    /* leaves installed by tdp_mmu_prefault */
	uint64_t prefault_zaps;	    /* huge leaves it zapped (now too big) */
	/* Protected VMs (mirror.c): guard requests made by the MMU. */
	uint64_t mirror_requests;  /* link/set/remove/free forwarded */
	uint64_t mirror_rollbacks; /* frozen SPTEs restored after a failure */
	uint64_t mirror_busy_retries; /* busy answers retried (write lock) */
	uint64_t mirror_refusals;     /* non-busy errors: the VM got bugged */
	uint64_t bugged;	      /* 1 once the VM is bugged */
};

/* An observer of memslot removal (DELETE, or the old place of a MOVE). */
struct memslot;
struct memslot_observer {
	struct list_head link;
	void (*slot_removed)(struct memslot_observer *o,
			     const struct memslot *old);
};

#define TDP_PT_HASH_BUCKETS 1024

/*
 * The counters every fault touches, one cache line per CPU: each CPU
 * changes only its own line, with a plain load and store (no locked
 * instruction, no line bouncing between vCPUs), and tdp_mmu_get_stats()
 * adds the lines up.  A line may hold a "negative" leaf count (a leaf
 * installed on one CPU and zapped on another); only the sum means
 * anything.
 */
struct tdp_pcpu_stats {
	uint64_t leaves[TDP_MAX_LEVEL + 1];
	uint64_t faults;
	uint64_t fault_retries;
} __aligned(64);

struct tdp_mmu {
	rwlock_t mmu_lock;
	/* Root lists; a leaf lock, taken briefly under mmu_lock. */
	spinlock_t roots_lock;
	struct list_head roots;		/* valid roots */
	struct list_head invalid_roots; /* invalid, waiting for the back half */
	/* Page-table metadata, found by table address (see pt.c). */
	spinlock_t pt_lock;
	struct tdp_pt **pt_hash;
	/* Memslots: read through EBR, replaced whole under slots_update. */
	struct memslot_set *slots;
	spinlock_t slots_update;    /* serialises memslot changes */
	struct list_head observers; /* under slots_update */
	enum tdp_slot_flush_policy slot_flush_policy;
	int max_huge_level;   /* 1, 2 or 3 (default 3: 1 GiB) */
	bool eager_split;     /* split huge leaves when logging starts */
	bool fault_exclusive; /* faults take mmu_lock for write (baseline) */
	void *owner;
	/* Protected VMs: the guard that owns the EPT the CPU walks. */
	struct guard *guard;
	/* Set once, never cleared: every later MMU operation fails. */
	bool bugged;
	struct tdp_mmu_stats stats; /* shared counters (see pcpu for hot ones) */
	struct tdp_pcpu_stats *pcpu; /* platform_cpu_max() lines */
	void *pcpu_mem;		     /* the allocation pcpu is aligned in */
};

/*
 * VM lifetime.  tdp_mmu_create() returns NULL if memory runs out.
 * tdp_mmu_destroy() needs every root reference put back; it zaps all
 * roots, waits for EBR to free every table and frees everything else.
 * Neither may be called inside an EBR read-side section.
 */
struct tdp_mmu *tdp_mmu_create(void *owner);
void tdp_mmu_destroy(struct tdp_mmu *mmu);

/*
 * A protected VM: its only root is a mirror root and every change to it is
 * forwarded to @guard, which the caller created (with the VM's memory
 * given to it through guard_add_memory) and destroys after
 * tdp_mmu_destroy().  NULL if memory runs out or @guard is NULL.
 */
struct tdp_mmu *tdp_mmu_create_protected(void *owner, struct guard *guard);

static inline bool tdp_mmu_is_protected(const struct tdp_mmu *mmu)
{
	return mmu->guard != NULL;
}

/*
 * A bugged VM met a request its MMU cannot carry out safely (on a mirror
 * root: a change the read-lock path cannot make, or a refusal from the
 * guard).  It must not run again: every later MMU operation fails with
 * -EIO (operations returning a count or a bool do nothing and return
 * 0/false; tdp_mmu_get_root returns NULL).  Nothing is leaked: teardown
 * still frees everything.
 */
static inline bool tdp_mmu_is_bugged(const struct tdp_mmu *mmu)
{
	return __atomic_load_n(&mmu->bugged, __ATOMIC_ACQUIRE);
}
void tdp_mmu_bug(struct tdp_mmu *mmu, const char *why);

/* The role of the roots vCPUs of this VM use. */
static inline uint32_t tdp_mmu_vcpu_role(const struct tdp_mmu *mmu)
{
	return TDP_ROLE_DEFAULT | (tdp_mmu_is_protected(mmu) ? TDP_ROLE_MIRROR : 0);
}
void tdp_mmu_get_stats(struct tdp_mmu *mmu, struct tdp_mmu_stats *out);

/*
 * VM-level settings.  The slot-flush policy is read once per memslot
 * DELETE/MOVE.  The largest leaf level (1: 4 KiB only, 2: up to 2 MiB,
 * 3: up to 1 GiB) applies to later faults; -EINVAL if out of range.
 */
void tdp_mmu_set_slot_flush_policy(struct tdp_mmu *mmu,
				   enum tdp_slot_flush_policy policy);
int tdp_mmu_set_max_huge_level(struct tdp_mmu *mmu, int level);
/* Split huge leaves eagerly when dirty logging starts (default on). */
void tdp_mmu_set_eager_split(struct tdp_mmu *mmu, bool on);
/*
 * Make faults take mmu_lock for write instead of read: a baseline that
 * shows what read-lock faulting buys (bench-mmu's "global lock").  Not
 * for production use.
 */
void tdp_mmu_set_fault_exclusive(struct tdp_mmu *mmu, bool on);

/* ---- roots (root.c) ---- */

/*
 * Get the valid root with @role, creating it if there is none, with a
 * reference for the caller.  NULL if memory runs out.  Takes mmu_lock for
 * read; must not be called with it held.
 */
struct tdp_root *tdp_mmu_get_root(struct tdp_mmu *mmu, uint32_t role);
void tdp_mmu_put_root(struct tdp_mmu *mmu, struct tdp_root *root);
/* Take another reference on a root the caller already holds one on. */
void tdp_root_get(struct tdp_root *root);

static inline bool tdp_root_is_valid(struct tdp_root *root)
{
	return !__atomic_load_n(&root->invalid, __ATOMIC_ACQUIRE);
}

static inline bool tdp_root_is_mirror(const struct tdp_root *root)
{
	return (root->role & TDP_ROLE_MIRROR) != 0;
}

/* The EPTP of a plain root (a mirror root has none: see tdp_mmu_eptp). */
static inline uint64_t tdp_root_eptp(struct tdp_root *root)
{
	return tdp_make_eptp(platform_virt_to_phys(root->spt));
}

/* What a vCPU running on @root loads as EPTP: the guard's for a mirror. */
uint64_t tdp_mmu_eptp(struct tdp_mmu *mmu, struct tdp_root *root);

/* ---- faults (fault.c) ---- */

enum tdp_map_result {
	TDP_MAP_OK = 0,	      /* mapped (or already mapped): resume guest */
	TDP_MAP_RETRY = 1,    /* lost a race or stale: reload root, refault */
	TDP_MAP_NO_SLOT = 2,  /* no memslot: MMIO/emulation for the caller */
	TDP_MAP_READONLY = 3, /* write to a read-only slot */
};

/*
 * A fault in two steps, so a caller (and a test) can do work between the
 * lock-free memslot lookup and the locked install, exactly where KVM
 * resolves the host page:
 *   tdp_fault_begin(): EBR section on, memslot looked up, generation noted;
 *   tdp_fault_finish(): read lock, stale check, install, everything off.
 * tdp_map() does both.  Results are enum tdp_map_result or -ENOMEM /
 * -EINVAL (gpa beyond the guest-physical width) / -EIO (the VM is bugged).
 */
struct tdp_fault {
	struct tdp_root *root;
	uint64_t gfn;
	uint64_t access;   /* TDP_ACC_* wanted by the access */
	uint64_t slot_gen; /* memslot generation seen by begin */
	const struct memslot *slot;
	int level;  /* level of the leaf that was installed */
	int result; /* from begin, if it already decided */
};

void tdp_fault_begin(struct tdp_mmu *mmu, struct tdp_fault *f,
		     struct tdp_root *root, uint64_t gpa, uint64_t access);
int tdp_fault_finish(struct tdp_mmu *mmu, struct tdp_fault *f);
int tdp_map(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gpa,
	    uint64_t access);

/*
 * Prefault (prefault.c): map [gfn, gfn + npages) of @root ahead of the
 * guest, as faults at every page would, but in one walk under mmu_lock
 * held for read (do not hold it) and one EBR section, yielding when asked.
 * Each entry gets the largest leaf allowed; a missing table is built
 * complete while private and linked with one compare-and-exchange.
 * Existing mappings are kept (or widened).  In a dirty-logged slot a page
 * is mapped writable only if its dirty bit is already set; no bit is set.
 * Needs no TLB flush (unless it zaps a huge leaf restricted since).
 *
 * Returns the number of pages mapped from @gfn (> 0, possibly fewer than
 * @npages: it stops at a gap between memslots, at the end of the last
 * slot, or when the root was invalidated or the memslots changed during a
 * yield: call again from there), or, when nothing was mapped: -ENOENT (no
 * memslot at @gfn), -EAGAIN (the root is invalid or the memslots changed:
 * get a fresh root and call again), -ENOMEM, -EINVAL (@npages 0, or the
 * range is beyond the guest-physical width), -EOPNOTSUPP (a mirror root:
 * use the fault path), -EIO (the VM is bugged).
 */
long tdp_mmu_prefault(struct tdp_mmu *mmu, struct tdp_root *root, uint64_t gfn,
		      uint64_t npages);

/* ---- zapping (zap.c) ---- */

/*
 * Remove the leaves mapping [start, end) from every valid root, taking
 * mmu_lock for write, and flush once if anything reachable went away.
 * Returns whether anything was zapped.
 */
bool tdp_mmu_unmap_range(struct tdp_mmu *mmu, uint64_t start, uint64_t end);

/*
 * Fast zap of everything.  The front half (mmu_lock held for write)
 * invalidates every root, takes them off the root list and makes the vCPUs
 * drop them; the back half (mmu_lock NOT held) zaps the invalid roots under
 * the read lock, with no TLB flush.  tdp_mmu_zap_all_fast() does both.
 */
void tdp_mmu_zap_all_fast_front(struct tdp_mmu *mmu);
void tdp_mmu_zap_all_fast_back(struct tdp_mmu *mmu);
void tdp_mmu_zap_all_fast(struct tdp_mmu *mmu);

/*
 * Huge-page recovery: in [start, end), replace each page table that could
 * now be a huge leaf (memslot alignment, flags and restrictions allow it)
 * by an empty entry, so the next fault maps a huge page.  Zaps one
 * page-table page at a time, flushes once per batch.  Returns the number
 * of tables zapped.
 */
unsigned long tdp_mmu_recover_huge_pages(struct tdp_mmu *mmu, uint64_t start,
					 uint64_t end);

/*
 * Per-range huge-page restriction (the 2 MiB and 1 GiB blocks that hold
 * @gfn may not be mapped huge while restricted; nestable).  Restricting
 * zaps huge leaves over the gfn and flushes.  -ENOENT if no slot holds
 * @gfn, -EINVAL when unrestricting something not restricted.
 */
int tdp_mmu_restrict_huge(struct tdp_mmu *mmu, uint64_t gfn);
int tdp_mmu_unrestrict_huge(struct tdp_mmu *mmu, uint64_t gfn);

/* ---- dirty logging (dirty.c) ---- */

/*
 * A slot with MEMSLOT_DIRTY_LOG (set at creation or with
 * memslot_set_flags) is mapped with 4 KiB leaves, and a leaf is writable
 * only while its page's bit is set: the first write after a clear faults,
 * sets the bit and makes the leaf writable again.
 *
 * tdp_mmu_get_dirty_log() copies slot @id's bitmap into @bitmap (@nwords
 * 64-bit words, at least (npages + 63) / 64).  It changes nothing.
 *
 * tdp_mmu_clear_dirty_log() clears, for the pages [first, first + npages)
 * of slot @id (offsets in pages from the slot's start; @first a multiple
 * of 64), the bits that are set in @mask (bit i is page first + i), and
 * write-protects those pages again, with one TLB flush for the call and
 * none if no writable leaf was found.  Returns the number of bits that
 * were cleared, or -ENOENT (no slot), -EINVAL (not logging, or a bad
 * range).
 */
int tdp_mmu_get_dirty_log(struct tdp_mmu *mmu, uint32_t id, uint64_t *bitmap,
			  uint64_t nwords);
long tdp_mmu_clear_dirty_log(struct tdp_mmu *mmu, uint32_t id, uint64_t first,
			     uint64_t npages, const uint64_t *mask);

/* ---- eager splitting (split.c) ---- */

/*
 * Split every huge leaf in [start, end) down to @target_level leaves
 * (1: 4 KiB, 2: 2 MiB) that map the same frames with the same bits.  Runs
 * under mmu_lock held for read (do not hold it), linking each fully built
 * table with one compare-and-exchange; tables come from a small cache
 * refilled outside the lock.  When memory runs out the huge leaf is
 * zapped instead: the next fault maps it at 4 KiB.  A split changes no
 * translation, so it needs no TLB flush.  Returns the number of leaves
 * split.
 */
unsigned long tdp_mmu_split_huge_pages(struct tdp_mmu *mmu, uint64_t start,
				       uint64_t end, int target_level);

/* ---- aging (age.c) ---- */

/*
 * tdp_mmu_age_gfn(): test and clear the accessed bits of the leaves
 * mapping [start, end) in every valid root (mmu_lock for read); returns
 * whether any was set.  EPT A/D bits are always on here, so clearing a
 * bit takes nothing away from the vCPUs and needs no TLB flush.
 * tdp_mmu_test_age_gfn(): the same test, clearing nothing.
 */
bool tdp_mmu_age_gfn(struct tdp_mmu *mmu, uint64_t start, uint64_t end);
bool tdp_mmu_test_age_gfn(struct tdp_mmu *mmu, uint64_t start, uint64_t end);

#endif
