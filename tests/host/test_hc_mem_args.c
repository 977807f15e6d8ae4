// SPDX-License-Identifier: MIT
/*
 * Unit tests for the memctl hypercalls' argument checks
 * (vmm/hc_mem_args.c): each rule of docs/guest-abi.md at its boundary,
 * on both sides, and the values that would wrap 64-bit arithmetic.
 * tests/fuzz/fuzz_hcmem.c explores the rest.
 */
#include "mm/errno.h"
#include "mm/memslot.h"
#include "vmm/hc_mem_args.h"
#include "tests/host/tap.h"

#define MEM   (64ull << 20)
#define AREA  (MEM - 0x8000) /* tidal's pages start here */
#define LIM   TIDAL_MEM_GPA_LIMIT
#define PAGES (MEM >> 12)

static const struct hc_mem_limits l = {MEM, AREA};

static int64_t create(uint64_t gpa, uint64_t ram_gpa, uint64_t npages,
		      uint64_t flags)
{
	struct tidal_mem_create c = {ram_gpa, npages, flags};

	return hc_mem_check_create(&l, gpa, &c);
}

static void test_call(void)
{
	is_int(hc_mem_check_call(false, false, 1), TIDAL_E_PERM,
	       "no memctl: PERM");
	is_int(hc_mem_check_call(true, true, 1), TIDAL_E_PERM,
	       "protected VM: PERM");
	is_int(hc_mem_check_call(true, false, 0), TIDAL_E_INVAL,
	       "slot 0 (RAM itself): INVAL");
	is_int(hc_mem_check_call(true, false, 1), 0, "slot 1: ok");
	is_int(hc_mem_check_call(true, false, TIDAL_MEM_SLOT_MAX), 0,
	       "slot 16: ok");
	is_int(hc_mem_check_call(true, false, TIDAL_MEM_SLOT_MAX + 1),
	       TIDAL_E_INVAL, "slot 17: INVAL");
	is_int(hc_mem_check_call(true, false, (1ull << 32) + 1), TIDAL_E_INVAL,
	       "id 2^32 + 1 is not slot 1");
}

static void test_create(void)
{
	is_int(create(MEM, 0, 1, 0), 0, "one page right above RAM");
	is_int(create(MEM - 4096, 0, 1, 0), TIDAL_E_INVAL,
	       "a slot over RAM's last page");
	is_int(create(MEM + 1, 0, 1, 0), TIDAL_E_INVAL, "unaligned gpa");
	is_int(create(MEM, 1, 1, 0), TIDAL_E_INVAL, "unaligned backing");
	is_int(create(LIM - 4096, 0, 1, 3), 0, "last page below 512 GiB");
	is_int(create(LIM, 0, 1, 0), TIDAL_E_INVAL, "at 512 GiB");
	is_int(create(LIM - 4096, 0, 2, 0), TIDAL_E_INVAL,
	       "two pages from the last one");
	is_int(create(-4096ull, 0, 2, 0), TIDAL_E_INVAL,
	       "gpa + size wraps to 4 KiB");
	is_int(create(MEM, 0, 0, 0), TIDAL_E_INVAL, "0 pages");
	is_int(create(MEM, 0, PAGES + 1, 0), TIDAL_E_INVAL,
	       "more pages than RAM");
	is_int(create(MEM, 0, 1ull << 52, 0), TIDAL_E_INVAL,
	       "2^52 pages (size wraps to 0)");
	is_int(create(MEM, AREA - 4096, 1, 0), 0,
	       "backing: the last page below tidal's");
	is_int(create(MEM, AREA, 1, 0), TIDAL_E_INVAL,
	       "backing: tidal's first page");
	is_int(create(MEM, -4096ull, 2, 0), TIDAL_E_INVAL,
	       "backing: ram_gpa + size wraps");
	is_int(create(MEM, 0, 1, 4), TIDAL_E_INVAL, "unknown flag");
}

static void test_other(void)
{
	is_int(hc_mem_check_move(&l, LIM - 2 * 4096, 2), 0,
	       "move: two pages ending at 512 GiB");
	is_int(hc_mem_check_move(&l, LIM - 4096, 2), TIDAL_E_INVAL,
	       "move: one page too far");
	is_int(hc_mem_check_move(&l, 0, 1), TIDAL_E_INVAL, "move: into RAM");
	is_int(hc_mem_check_flags(3), 0, "flags: READONLY | DIRTY_LOG");
	is_int(hc_mem_check_flags(1ull << 63), TIDAL_E_INVAL, "flags: bit 63");
	is_int(hc_mem_check_dirty_buf(&l, 65, 0x1000, 16), 0,
	       "dirty: 65 pages need 16 bytes");
	is_int(hc_mem_check_dirty_buf(&l, 65, 0x1000, 15), TIDAL_E_INVAL,
	       "dirty: 15 bytes are too few");
	is_int(hc_mem_check_dirty_buf(&l, 64, AREA - 8, 8), 0,
	       "dirty: buffer ends at tidal's pages");
	is_int(hc_mem_check_dirty_buf(&l, 64, AREA - 4, 8), TIDAL_E_FAULT,
	       "dirty: buffer runs into tidal's pages");
	is_int(hc_mem_check_dirty_buf(&l, 64, -4ull, 8), TIDAL_E_FAULT,
	       "dirty: buffer address wraps");
	ok(hc_mem_slot_flags(3) == (MEMSLOT_READONLY | MEMSLOT_DIRTY_LOG) &&
		   hc_mem_slot_flags(0) == 0,
	   "TIDAL_MEM_F_* -> MEMSLOT_*");
	ok(hc_mem_from_errno(0) == 0 &&
		   hc_mem_from_errno(-EEXIST) == TIDAL_E_EXIST &&
		   hc_mem_from_errno(-ENOENT) == TIDAL_E_NOENT &&
		   hc_mem_from_errno(-ENOMEM) == TIDAL_E_NOMEM &&
		   hc_mem_from_errno(-ENOSPC) == TIDAL_E_NOMEM &&
		   hc_mem_from_errno(-EINVAL) == TIDAL_E_INVAL,
	   "MMU errors -> TIDAL_E_*");
}

int main(void)
{
	test_call();
	test_create();
	test_other();
	return tap_done();
}
