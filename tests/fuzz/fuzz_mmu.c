// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: sequences of MMU operations against the software-TLB
 * checker (tests/host/mmu/swtlb.c).  Each input byte pair is one
 * operation on a small plain VM (two slots, huge pages allowed): guest
 * accesses through one model vCPU (which faults), unmaps, slot create/
 * delete/move/flags, dirty-log clears, aging, splits, recovery, prefault,
 * huge-page restriction.  After every operation the checker's properties
 * must hold; at the end every leaf must come from a current memslot, and
 * teardown must give every page back.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tests/host/mmu/swtlb.h"

#define SLOT_BYTES (4 * MiB)
#define NGFN	   (SLOT_BYTES >> PAGE_SHIFT)
/* Two places a slot can be, 1 GiB apart so that moves never overlap. */
static const uint64_t where[2][2] = {{0, 1 * GiB}, {2 * GiB, 3 * GiB}};

static uint64_t gfn_of(unsigned int id, unsigned int place, uint8_t b)
{
	/* Spread 256 values over the slot: both 2 MiB blocks, edges. */
	return (where[id][place] >> PAGE_SHIFT) + ((uint64_t)b * 4099) % NGFN;
}

static bool slot_at(struct tdp_mmu *mmu, unsigned int id, struct memslot *s)
{
	return swtlb_slot_copy(mmu, id, s);
}

static void one_op(struct swtlb_vm *vm, uint8_t op, uint8_t arg)
{
	struct tdp_mmu *mmu = vm->mmu;
	unsigned int id = arg & 1, place;
	struct memslot s;
	uint64_t g, mask = ~0ull;

	place = slot_at(mmu, id, &s) &&
		s.base_gfn != (where[id][0] >> PAGE_SHIFT);
	g = gfn_of(id, place, arg);
	switch (op % 12) {
	case 0:
	case 1:
		swtlb_access(&vm->vcpus[0], g,
			     (op & 16) ? TDP_ACC_WRITE : TDP_ACC_READ);
		break;
	case 2:
		tdp_mmu_unmap_range(mmu, g, g + 1 + (arg & 0x7f) * 8);
		break;
	case 3:
		if (memslot_delete(mmu, id) == -ENOENT)
			FUZZ_CHECK(!memslot_create(
				mmu, id, where[id][arg >> 7], SLOT_BYTES,
				FAKE_HOST_BASE + id * SLOT_BYTES, 0));
		break;
	case 4:
		memslot_move(mmu, id, where[id][!place]);
		break;
	case 5:
		memslot_set_flags(mmu, id,
				  (arg >> 1) &
					  (MEMSLOT_DIRTY_LOG | MEMSLOT_NO_HUGE |
					   MEMSLOT_READONLY));
		break;
	case 6:
		if (slot_at(mmu, id, &s) && (s.flags & MEMSLOT_DIRTY_LOG)) {
			tdp_mmu_clear_dirty_log(mmu, id, (arg & 7) * 64, 64,
						&mask);
			FUZZ_CHECK(swtlb_check_dirty(vm, id));
		}
		break;
	case 7:
		tdp_mmu_age_gfn(mmu, g, g + 512);
		break;
	case 8:
		tdp_mmu_split_huge_pages(mmu, g & ~511ull, (g & ~511ull) + 512,
					 1 + (arg >> 7));
		break;
	case 9:
		tdp_mmu_recover_huge_pages(mmu, g & ~511ull,
					   (g & ~511ull) + 512);
		break;
	case 10:
		if (vm->vcpus[0].root)
			tdp_mmu_prefault(mmu, vm->vcpus[0].root, g,
					 1 + (arg & 63));
		break;
	default:
		if (!tdp_mmu_restrict_huge(mmu, g) && (arg & 0x80))
			FUZZ_CHECK(!tdp_mmu_unrestrict_huge(mmu, g));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	static struct swtlb_vm vm;
	struct tdp_mmu *mmu;
	int64_t pages0, objs0;
	size_t i;

	if (!init) {
		mmu_test_init();
		host_log_level = LOG_ERR;
		init = true;
	}
	pages0 = host_pages_live();
	objs0 = host_objs_live();
	mmu = tdp_mmu_create(&vm);
	FUZZ_CHECK(mmu);
	FUZZ_CHECK(!memslot_create(mmu, 0, where[0][0], SLOT_BYTES,
				   FAKE_HOST_BASE, 0));
	FUZZ_CHECK(!memslot_create(mmu, 1, where[1][0], SLOT_BYTES,
				   FAKE_HOST_BASE + SLOT_BYTES, 0));
	swtlb_vm_init(&vm, mmu, 1);
	swtlb_attach(&vm);
	for (i = 0; i + 1 < size && i < 512; i += 2) {
		one_op(&vm, data[i], data[i + 1]);
		FUZZ_CHECK(!tdp_mmu_is_bugged(mmu));
		FUZZ_CHECK(swtlb_check(&vm));
	}
	FUZZ_CHECK(!swtlb_failed);
	swtlb_vm_fini(&vm);
	swtlb_attach(NULL);
	tdp_mmu_destroy(mmu);
	swtlb_vm_release(&vm);
	ebr_barrier();
	FUZZ_CHECK(host_pages_live() == pages0);
	FUZZ_CHECK(host_objs_live() == objs0);
	return 0;
}
