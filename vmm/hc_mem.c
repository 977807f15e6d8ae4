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
#include "vmm/hc_mem_args.h"

bool hc_mem_is_call(uint64_t nr)
{
	return nr >= TIDAL_HC_MEM_CREATE && nr <= TIDAL_HC_MEM_GET_DIRTY;
}

static struct hc_mem_limits limits(struct vm *vm)
{
	return (struct hc_mem_limits){vm->mem_bytes, vm->layout.area_gpa};
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
	struct hc_mem_limits l = limits(vm);
	struct tidal_mem_create c;
	int64_t err;

	if (!hc_mem_ram_range_ok(&l, arg_gpa, sizeof(c)))
		return TIDAL_E_FAULT;
	memcpy(&c, (const char *)vm->ram + arg_gpa, sizeof(c));
	err = hc_mem_check_create(&l, gpa, &c);
	if (err)
		return err;
	return hc_mem_from_errno(memslot_create(
		vm->mmu, id, gpa, c.npages << PAGE_SHIFT,
		vm->ram_pa + c.ram_gpa, hc_mem_slot_flags(c.flags)));
}

static int64_t mem_move(struct vm *vm, uint32_t id, uint64_t gpa)
{
	struct hc_mem_limits l = limits(vm);
	uint64_t n = slot_pages(vm, id);
	int64_t err;

	if (!n)
		return TIDAL_E_NOENT;
	err = hc_mem_check_move(&l, gpa, n);
	if (err)
		return err;
	return hc_mem_from_errno(memslot_move(vm->mmu, id, gpa));
}

static int64_t mem_set_flags(struct vm *vm, uint32_t id, uint64_t flags)
{
	int64_t err = hc_mem_check_flags(flags);

	if (err)
		return err;
	return hc_mem_from_errno(
		memslot_set_flags(vm->mmu, id, hc_mem_slot_flags(flags)));
}

/*
 * Get and clear: the bits set now go to the guest and are cleared (and
 * their pages write-protected again).  A write that lands between the
 * copy and the clear keeps its bit for the next call.
 */
static int64_t mem_get_dirty(struct vm *vm, uint32_t id, uint64_t buf,
			     uint64_t len)
{
	struct hc_mem_limits l = limits(vm);
	uint64_t n = slot_pages(vm, id), nwords, *map;
	int64_t ret;
	long r;

	if (!n)
		return TIDAL_E_NOENT;
	ret = hc_mem_check_dirty_buf(&l, n, buf, len);
	if (ret)
		return ret;
	nwords = (n + 63) / 64;
	map = platform_zalloc(nwords * 8);
	if (!map)
		return TIDAL_E_NOMEM;
	ret = hc_mem_from_errno(
		tdp_mmu_get_dirty_log(vm->mmu, id, map, nwords));
	if (!ret) {
		r = tdp_mmu_clear_dirty_log(vm->mmu, id, 0, n, map);
		ret = r < 0 ? hc_mem_from_errno((int)r) : r;
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
	int64_t err = hc_mem_check_call(vm->memctl, vm->protected, a);

	if (err)
		return err;
	switch (nr) {
	case TIDAL_HC_MEM_CREATE:
		return mem_create(vm, id, b, c);
	case TIDAL_HC_MEM_DELETE:
		return slot_pages(vm, id)
			       ? hc_mem_from_errno(memslot_delete(vm->mmu, id))
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
