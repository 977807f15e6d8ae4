// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: argument decoding of the memctl hypercalls
 * (vmm/hc_mem_args.c).  The input is a row of little-endian 64-bit words:
 * the VM's RAM size and the start of tidal's pages, the call's registers
 * (id, gpa, buffer, length), a struct tidal_mem_create as the guest left
 * it in memory, the size of an existing slot, and switches.  Every verdict
 * is compared with the contract of docs/guest-abi.md restated in 128-bit
 * arithmetic (no wrap-around there), and an accepted call must name
 * ranges inside the slot window and inside usable RAM.
 */
#include <stdint.h>
#include <string.h>

#include "mm/errno.h"
#include "mm/memslot.h"
#include "vmm/hc_mem_args.h"
#include "tests/fuzz/fuzz.h"

typedef unsigned __int128 u128;

#define LIMIT ((u128)TIDAL_MEM_GPA_LIMIT)
#define PG    4096u

struct in {
	uint64_t mem, ram_end, id, gpa, buf, len, npages, sw;
	struct tidal_mem_create c;
};

static bool aligned(uint64_t x)
{
	return !(x % PG);
}

/* The window for guest slots: page-aligned, from RAM's end to 512 GiB. */
static bool want_slot(const struct hc_mem_limits *l, uint64_t gpa, u128 bytes)
{
	return aligned(gpa) && gpa >= l->mem_bytes &&
	       (u128)gpa + bytes <= LIMIT && gpa < LIMIT;
}

static bool want_ram(const struct hc_mem_limits *l, uint64_t gpa, u128 bytes)
{
	return (u128)gpa + bytes <= l->ram_end;
}

static void check_call(const struct in *in)
{
	bool memctl = in->sw & 1, prot = in->sw & 2;
	int64_t r = hc_mem_check_call(memctl, prot, in->id);

	if (!memctl || prot)
		FUZZ_CHECK(r == TIDAL_E_PERM);
	else if (in->id < 1 || in->id > TIDAL_MEM_SLOT_MAX)
		FUZZ_CHECK(r == TIDAL_E_INVAL);
	else
		FUZZ_CHECK(r == 0);
}

static void check_create(const struct hc_mem_limits *l, const struct in *in)
{
	const struct tidal_mem_create *c = &in->c;
	u128 bytes = (u128)c->npages * PG;
	bool want = c->npages >= 1 && c->npages <= l->mem_bytes / PG &&
		    !(c->flags & ~(uint64_t)3) && aligned(c->ram_gpa) &&
		    want_slot(l, in->gpa, bytes) &&
		    want_ram(l, c->ram_gpa, bytes);
	int64_t r = hc_mem_check_create(l, in->gpa, c);

	FUZZ_CHECK(r == 0 || r == TIDAL_E_INVAL);
	FUZZ_CHECK((r == 0) == want);
	if (r == 0) {
		/* What hc_mem.c then hands to memslot_create(). */
		uint64_t b = c->npages << PAGE_SHIFT;

		FUZZ_CHECK((u128)b == bytes && b <= l->mem_bytes);
		FUZZ_CHECK(in->gpa >= l->mem_bytes &&
			   (u128)in->gpa + b <= LIMIT);
		FUZZ_CHECK((u128)c->ram_gpa + b <= l->ram_end);
	}
}

static void check_move(const struct hc_mem_limits *l, uint64_t gpa,
		       uint64_t npages)
{
	int64_t r = hc_mem_check_move(l, gpa, npages);

	FUZZ_CHECK(r == 0 || r == TIDAL_E_INVAL);
	FUZZ_CHECK((r == 0) == want_slot(l, gpa, (u128)npages * PG));
}

static void check_dirty(const struct hc_mem_limits *l, uint64_t npages,
			uint64_t buf, uint64_t len)
{
	u128 need = ((u128)npages + 63) / 64 * 8;
	int64_t r = hc_mem_check_dirty_buf(l, npages, buf, len);

	if (len < need)
		FUZZ_CHECK(r == TIDAL_E_INVAL);
	else if (!want_ram(l, buf, need))
		FUZZ_CHECK(r == TIDAL_E_FAULT);
	else
		FUZZ_CHECK(r == 0);
}

static void check_flags(uint64_t f)
{
	uint32_t s = hc_mem_slot_flags(f);

	FUZZ_CHECK((hc_mem_check_flags(f) == 0) == !(f & ~(uint64_t)3));
	FUZZ_CHECK(!!(s & MEMSLOT_READONLY) == !!(f & TIDAL_MEM_F_READONLY));
	FUZZ_CHECK(!!(s & MEMSLOT_DIRTY_LOG) == !!(f & TIDAL_MEM_F_DIRTY_LOG));
	FUZZ_CHECK(!(s & ~(uint32_t)(MEMSLOT_READONLY | MEMSLOT_DIRTY_LOG)));
}

static void check_errno(int e)
{
	int64_t r = hc_mem_from_errno(e);

	FUZZ_CHECK(e != 0 || r == 0);
	FUZZ_CHECK(e == 0 || (r < 0 && r >= TIDAL_E_NOMEM));
	FUZZ_CHECK(e != -EEXIST || r == TIDAL_E_EXIST);
	FUZZ_CHECK(e != -ENOENT || r == TIDAL_E_NOENT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {0};
	struct hc_mem_limits l;
	uint64_t slot_pages;

	memcpy(&in, data, MIN(size, sizeof(in)));
	/*
	 * A VM as vm.c makes one (page-aligned RAM below the slot window,
	 * tidal's pages inside it), unless switch 4 asks for raw values.
	 */
	if (in.sw & 4) {
		l = (struct hc_mem_limits){in.mem, in.ram_end};
	} else {
		l.mem_bytes = (in.mem % (TIDAL_MEM_GPA_LIMIT / PG) + 1) * PG;
		l.ram_end = in.ram_end % (l.mem_bytes + 1);
	}
	/* An existing slot fits the window (memslot_create saw to it). */
	slot_pages = in.npages % (TIDAL_MEM_GPA_LIMIT / PG + 1);
	check_call(&in);
	check_create(&l, &in);
	check_move(&l, in.gpa, slot_pages);
	check_dirty(&l, slot_pages, in.buf, in.len);
	check_flags(in.c.flags);
	check_errno((int)(int64_t)in.len);
	/* Sizes used as addresses and the other way round. */
	FUZZ_CHECK(hc_mem_ram_range_ok(&l, in.buf, in.len) ==
		   want_ram(&l, in.buf, in.len));
	FUZZ_CHECK(hc_mem_slot_range_ok(&l, in.gpa, in.len) ==
		   want_slot(&l, in.gpa, in.len));
	return 0;
}
