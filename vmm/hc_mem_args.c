// SPDX-License-Identifier: MIT
/* Argument checks of the memctl hypercalls; see hc_mem_args.h. */
#include "vmm/hc_mem_args.h"
#include "mm/errno.h"
#include "mm/memslot.h"

#define GUEST_FLAGS (TIDAL_MEM_F_READONLY | TIDAL_MEM_F_DIRTY_LOG)

static bool page_aligned(uint64_t x)
{
	return !(x & (PAGE_SIZE - 1));
}

int64_t hc_mem_check_call(bool memctl, bool protected_vm, uint64_t id)
{
	/* A protected VM's frames belong to the guard: no aliases there. */
	if (!memctl || protected_vm)
		return TIDAL_E_PERM;
	if (id < 1 || id > TIDAL_MEM_SLOT_MAX)
		return TIDAL_E_INVAL;
	return 0;
}

bool hc_mem_ram_range_ok(const struct hc_mem_limits *l, uint64_t gpa,
			 uint64_t bytes)
{
	return gpa <= l->ram_end && bytes <= l->ram_end - gpa;
}

bool hc_mem_slot_range_ok(const struct hc_mem_limits *l, uint64_t gpa,
			  uint64_t bytes)
{
	return page_aligned(gpa) && gpa >= l->mem_bytes &&
	       gpa < TIDAL_MEM_GPA_LIMIT && bytes <= TIDAL_MEM_GPA_LIMIT - gpa;
}

int64_t hc_mem_check_create(const struct hc_mem_limits *l, uint64_t gpa,
			    const struct tidal_mem_create *c)
{
	uint64_t bytes;

	/* npages is bounded first, so the shift below cannot overflow. */
	if (!c->npages || c->npages > (l->mem_bytes >> PAGE_SHIFT) ||
	    (c->flags & ~(uint64_t)GUEST_FLAGS) || !page_aligned(c->ram_gpa))
		return TIDAL_E_INVAL;
	bytes = c->npages << PAGE_SHIFT;
	if (!hc_mem_slot_range_ok(l, gpa, bytes) ||
	    !hc_mem_ram_range_ok(l, c->ram_gpa, bytes))
		return TIDAL_E_INVAL;
	return 0;
}

int64_t hc_mem_check_move(const struct hc_mem_limits *l, uint64_t gpa,
			  uint64_t npages)
{
	return hc_mem_slot_range_ok(l, gpa, npages << PAGE_SHIFT)
		       ? 0
		       : TIDAL_E_INVAL;
}

int64_t hc_mem_check_flags(uint64_t flags)
{
	return (flags & ~(uint64_t)GUEST_FLAGS) ? TIDAL_E_INVAL : 0;
}

int64_t hc_mem_check_dirty_buf(const struct hc_mem_limits *l, uint64_t npages,
			       uint64_t buf, uint64_t len)
{
	uint64_t nwords = (npages + 63) / 64;

	if (len < nwords * 8)
		return TIDAL_E_INVAL;
	if (!hc_mem_ram_range_ok(l, buf, nwords * 8))
		return TIDAL_E_FAULT;
	return 0;
}

uint32_t hc_mem_slot_flags(uint64_t f)
{
	return ((f & TIDAL_MEM_F_READONLY) ? MEMSLOT_READONLY : 0) |
	       ((f & TIDAL_MEM_F_DIRTY_LOG) ? MEMSLOT_DIRTY_LOG : 0);
}

int64_t hc_mem_from_errno(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -EEXIST:
		return TIDAL_E_EXIST;
	case -ENOENT:
		return TIDAL_E_NOENT;
	case -ENOMEM:
	case -ENOSPC:
		return TIDAL_E_NOMEM;
	default:
		return TIDAL_E_INVAL;
	}
}
