// SPDX-License-Identifier: MIT
/*
 * The memctl hypercalls (vmm/guest_abi.h, docs/guest-abi.md): a guest
 * given "memctl" makes memslots over its own RAM at other guest-physical
 * addresses, and deletes, moves, write-protects and dirty-logs them.
 * Each call runs on the calling vCPU's CPU, while the other vCPUs keep
 * running, through the MMU's own paths (mm/memslot.c, mm/tdp/); the
 * flushes those make reach the other vCPUs as requests and kicks.
 *
 * Every argument is checked before anything changes; a refused call
 * changes nothing.
 */
#include "vmm/vm.h"
#include "lib/ebr.h"
#include "lib/string.h"
#include "mm/memslot.h"
#include "mm/tdp/tdp_mmu.h"

#define GUEST_FLAGS (TIDAL_MEM_F_READONLY | TIDAL_MEM_F_DIRTY_LOG)

bool hc_mem_is_call(uint64_t nr)
{
	return nr >= TIDAL_HC_MEM_CREATE && nr <= TIDAL_HC_MEM_GET_DIRTY;
}

static int64_t from_errno(int err)
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

static uint32_t slot_flags(uint64_t f)
{
	return ((f & TIDAL_MEM_F_READONLY) ? MEMSLOT_READONLY : 0) |
	       ((f & TIDAL_MEM_F_DIRTY_LOG) ? MEMSLOT_DIRTY_LOG : 0);
}

static bool page_aligned(uint64_t x)
{
	return !(x & (PAGE_SIZE - 1));
}

/* [gpa, gpa + bytes) lies in the window for guest slots. */
static bool slot_range_ok(struct vm *vm, uint64_t gpa, uint64_t bytes)
{
	return page_aligned(gpa) && gpa >= vm->mem_bytes &&
	       gpa < TIDAL_MEM_GPA_LIMIT && bytes <= TIDAL_MEM_GPA_LIMIT - gpa;
}

/* [gpa, gpa + bytes) lies in guest RAM below tidal's pages. */
static bool ram_range_ok(struct vm *vm, uint64_t gpa, uint64_t bytes)
{
	uint64_t end = vm->layout.area_gpa;

	return gpa <= end && bytes <= end - gpa;
}

/* Pages of guest slot @id, or 0 when there is none. */
static uint64_t slot_pages(struct vm *vm, uint32_t id)
{
	const struct memslot *s;
	uint64_t n = 0;

	ebr_read_lock();
	s = memslot_find_id(memslot_set_current(vm->mmu), id);
	if (s)
		n = s->npages;
	ebr_read_unlock();
	return n;
}

static int64_t mem_create(struct vm *vm, uint32_t id, uint64_t gpa,
			  uint64_t arg_gpa)
{
	struct tidal_mem_create c;
	uint64_t bytes;

	if (!ram_range_ok(vm, arg_gpa, sizeof(c)))
		return TIDAL_E_FAULT;
	memcpy(&c, (const char *)vm->ram + arg_gpa, sizeof(c));
	if (!c.npages || c.npages > (vm->mem_bytes >> PAGE_SHIFT) ||
	    (c.flags & ~(uint64_t)GUEST_FLAGS) || !page_aligned(c.ram_gpa))
		return TIDAL_E_INVAL;
	bytes = c.npages << PAGE_SHIFT;
	if (!slot_range_ok(vm, gpa, bytes) ||
	    !ram_range_ok(vm, c.ram_gpa, bytes))
		return TIDAL_E_INVAL;
	return from_errno(memslot_create(vm->mmu, id, gpa, bytes,
					 vm->ram_pa + c.ram_gpa,
					 slot_flags(c.flags)));
}

static int64_t mem_move(struct vm *vm, uint32_t id, uint64_t gpa)
{
	uint64_t n = slot_pages(vm, id);

	if (!n)
		return TIDAL_E_NOENT;
	if (!slot_range_ok(vm, gpa, n << PAGE_SHIFT))
		return TIDAL_E_INVAL;
	return from_errno(memslot_move(vm->mmu, id, gpa));
}

static int64_t mem_set_flags(struct vm *vm, uint32_t id, uint64_t flags)
{
	if (flags & ~(uint64_t)GUEST_FLAGS)
		return TIDAL_E_INVAL;
	return from_errno(memslot_set_flags(vm->mmu, id, slot_flags(flags)));
}

/*
 * Get and clear: the bits set now go to the guest and are cleared (and
 * their pages write-protected again).  A write that lands between the
 * copy and the clear keeps its bit for the next call.
 */
static int64_t mem_get_dirty(struct vm *vm, uint32_t id, uint64_t buf,
			     uint64_t len)
{
	uint64_t n = slot_pages(vm, id), nwords, *map;
	int64_t ret;
	long r;

	if (!n)
		return TIDAL_E_NOENT;
	nwords = (n + 63) / 64;
	if (len < nwords * 8)
		return TIDAL_E_INVAL;
	if (!ram_range_ok(vm, buf, nwords * 8))
		return TIDAL_E_FAULT;
	map = platform_zalloc(nwords * 8);
	if (!map)
		return TIDAL_E_NOMEM;
	ret = from_errno(tdp_mmu_get_dirty_log(vm->mmu, id, map, nwords));
	if (!ret) {
		r = tdp_mmu_clear_dirty_log(vm->mmu, id, 0, n, map);
		ret = r < 0 ? from_errno((int)r) : r;
	}
	if (ret >= 0)
		memcpy((char *)vm->ram + buf, map, nwords * 8);
	platform_free(map);
	return ret;
}

int64_t hc_mem(struct vcpu *v, uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	struct vm *vm = v->vm;
	uint32_t id = (uint32_t)a;

	/* A protected VM's frames belong to the guard: no aliases there. */
	if (!vm->memctl || vm->protected)
		return TIDAL_E_PERM;
	if (a < 1 || a > TIDAL_MEM_SLOT_MAX)
		return TIDAL_E_INVAL;
	switch (nr) {
	case TIDAL_HC_MEM_CREATE:
		return mem_create(vm, id, b, c);
	case TIDAL_HC_MEM_DELETE:
		return slot_pages(vm, id)
			       ? from_errno(memslot_delete(vm->mmu, id))
			       : TIDAL_E_NOENT;
	case TIDAL_HC_MEM_MOVE:
		return mem_move(vm, id, b);
	case TIDAL_HC_MEM_SET_FLAGS:
		return mem_set_flags(vm, id, b);
	case TIDAL_HC_MEM_GET_DIRTY:
		return mem_get_dirty(vm, id, b, c);
	}
	return TIDAL_E_NOSYS;
}
