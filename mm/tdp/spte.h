/* SPDX-License-Identifier: MIT */
/*
 * SPTEs: the 64-bit entries of the TDP page tables, in Intel EPT format.
 *
 * This is the only file that knows the EPT bit layout.  Everything else in
 * mm/tdp asks the helpers below ("is it present?", "make a leaf"), so that
 * a second paging format would only need a second version of this file.
 *
 * Levels: 1 maps 4 KiB, 2 maps 2 MiB (or points to a level-1 table),
 * 3 maps 1 GiB (or points to a level-2 table), 4 is the root (PML4).
 *
 * Layout of the bits we use:
 *   0..2   R, W, X permissions.  R=W=X=0 means "not present" to the CPU.
 *   3..5   memory type (leaves only; we always use write-back)
 *   6      ignore guest PAT (leaves only)
 *   7      large page: set in level-2/3 leaves
 *   8, 9   accessed, dirty (set by the CPU when EPT A/D is enabled)
 *   11     software: "present for the MMU".  Lets a leaf with no R/W/X
 *          (a future execute-only or fully write-protected entry) still be
 *          told apart from an empty slot.
 *   12..51 host-physical frame address
 *   52, 62 software: together they form the FROZEN marker (below)
 *   53..56 software: reserved for later issues (mirror, dirty logging)
 */
#ifndef TIDAL_MM_TDP_SPTE_H
#define TIDAL_MM_TDP_SPTE_H

#include "lib/compiler.h"
#include "lib/platform.h"

typedef uint64_t spte_t;

#define TDP_ROOT_LEVEL	   4
#define TDP_MAX_LEVEL	   4
#define TDP_MAX_HUGE_LEVEL 3
#define SPTE_PER_PAGE	   512
#define SPTE_INDEX_BITS	   9
#define TDP_GPA_BITS	   48
#define TDP_MAX_GFN	   (1ull << (TDP_GPA_BITS - PAGE_SHIFT))

#define SPTE_R		BIT(0)
#define SPTE_W		BIT(1)
#define SPTE_X		BIT(2)
#define SPTE_RWX	(SPTE_R | SPTE_W | SPTE_X)
#define SPTE_MT_SHIFT	3
#define SPTE_MT_MASK	(7ull << SPTE_MT_SHIFT)
#define SPTE_MT_WB	(6ull << SPTE_MT_SHIFT)
#define SPTE_IGNORE_PAT BIT(6)
#define SPTE_LARGE	BIT(7)
#define SPTE_ACCESSED	BIT(8)
#define SPTE_DIRTY	BIT(9)
#define SPTE_SW_PRESENT BIT(11)
#define SPTE_PFN_MASK	(((1ull << 52) - 1) & ~((1ull << PAGE_SHIFT) - 1))

/*
 * FROZEN: an entry that one thread is in the middle of changing.  It has no
 * R/W/X bit, so the CPU treats it as not present (an EPT violation, never a
 * misconfiguration), and no SW_PRESENT bit, so the MMU never takes it for a
 * mapping.  Whoever sees it backs off and retries; only the thread that
 * wrote it may write over it.
 */
#define SPTE_FROZEN (BIT(62) | BIT(52))

/* The value of an empty entry. */
#define SPTE_NONPRESENT 0ull

/* Access bits a fault can ask for, in SPTE positions. */
#define TDP_ACC_READ  SPTE_R
#define TDP_ACC_WRITE SPTE_W
#define TDP_ACC_EXEC  SPTE_X

/* EPTP: write-back walks, 4-level, accessed/dirty flags enabled. */
#define EPTP_MT_WB     6ull
#define EPTP_WALK_4    (3ull << 3)
#define EPTP_AD_ENABLE BIT(6)

static inline uint64_t tdp_pages_per_level(int level)
{
	return 1ull << ((level - 1) * SPTE_INDEX_BITS);
}

/* Index of @gfn's entry in a table at @level. */
static inline unsigned int tdp_spte_index(uint64_t gfn, int level)
{
	return (gfn >> ((level - 1) * SPTE_INDEX_BITS)) & (SPTE_PER_PAGE - 1);
}

static inline uint64_t tdp_level_base(uint64_t gfn, int level)
{
	return gfn & ~(tdp_pages_per_level(level) - 1);
}

static inline bool spte_is_frozen(spte_t s)
{
	return s == SPTE_FROZEN;
}

static inline bool spte_is_present(spte_t s)
{
	return (s & SPTE_SW_PRESENT) != 0;
}

/* A present entry that maps memory (not a pointer to a lower table). */
static inline bool spte_is_leaf(spte_t s, int level)
{
	return spte_is_present(s) && (level == 1 || (s & SPTE_LARGE));
}

static inline bool spte_is_table(spte_t s, int level)
{
	return spte_is_present(s) && !spte_is_leaf(s, level);
}

static inline phys_addr_t spte_phys(spte_t s)
{
	return s & SPTE_PFN_MASK;
}

static inline uint64_t spte_pfn(spte_t s)
{
	return spte_phys(s) >> PAGE_SHIFT;
}

static inline uint64_t spte_perms(spte_t s)
{
	return s & SPTE_RWX;
}

static inline bool spte_accessed(spte_t s)
{
	return (s & SPTE_ACCESSED) != 0;
}

static inline bool spte_dirty(spte_t s)
{
	return (s & SPTE_DIRTY) != 0;
}

/*
 * A leaf mapping host frame @pfn (aligned to @level) with @perms, a subset
 * of R/W/X.  W without R is an EPT misconfiguration, so W implies R here.
 */
static inline spte_t spte_make_leaf(uint64_t pfn, int level, uint64_t perms)
{
	spte_t s = ((pfn << PAGE_SHIFT) & SPTE_PFN_MASK) | SPTE_SW_PRESENT |
		   SPTE_MT_WB | SPTE_IGNORE_PAT;

	if (perms & SPTE_W)
		perms |= SPTE_R;
	s |= perms & SPTE_RWX;
	if (level > 1)
		s |= SPTE_LARGE;
	return s;
}

/*
 * A non-leaf entry pointing to the table at host-physical @table.  It
 * grants everything; the leaves below decide the real permissions.
 */
static inline spte_t spte_make_table(phys_addr_t table)
{
	return (table & SPTE_PFN_MASK) | SPTE_SW_PRESENT | SPTE_RWX;
}

/* Does @s give at least the access in @perms? */
static inline bool spte_allows(spte_t s, uint64_t perms)
{
	return spte_is_present(s) && (spte_perms(s) & perms) == perms;
}

static inline uint64_t tdp_make_eptp(phys_addr_t root_table)
{
	return (root_table & SPTE_PFN_MASK) | EPTP_MT_WB | EPTP_WALK_4 |
	       EPTP_AD_ENABLE;
}

#endif
