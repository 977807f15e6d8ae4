/* SPDX-License-Identifier: MIT */
/*
 * Argument checks of the memctl hypercalls (vmm/hc_mem.c), kept apart
 * from the VM: pure functions of the guest's values and two sizes of the
 * VM, so that host tests and fuzzers (tests/fuzz/fuzz_hcmem.c) can feed
 * them anything.  Each returns 0 when the arguments are acceptable, else
 * the TIDAL_E_* error the guest gets.
 */
#ifndef TIDAL_VMM_HC_MEM_ARGS_H
#define TIDAL_VMM_HC_MEM_ARGS_H

#include "lib/compiler.h"
#include "vmm/guest_abi.h"

struct hc_mem_limits {
	uint64_t mem_bytes; /* guest RAM; guest slots go above it */
	uint64_t ram_end;   /* tidal's pages start here: buffers end below */
};

/* memctl allowed, not a protected VM, slot id 1..TIDAL_MEM_SLOT_MAX. */
int64_t hc_mem_check_call(bool memctl, bool protected_vm, uint64_t id);
/* [gpa, gpa + bytes) lies in guest RAM below tidal's pages. */
bool hc_mem_ram_range_ok(const struct hc_mem_limits *l, uint64_t gpa,
			 uint64_t bytes);
/* [gpa, gpa + bytes): page-aligned, in the window for guest slots. */
bool hc_mem_slot_range_ok(const struct hc_mem_limits *l, uint64_t gpa,
			  uint64_t bytes);
/* CREATE: the block @c (already copied in) for a slot at @gpa. */
int64_t hc_mem_check_create(const struct hc_mem_limits *l, uint64_t gpa,
			    const struct tidal_mem_create *c);
/* MOVE of a slot of @npages pages to @gpa. */
int64_t hc_mem_check_move(const struct hc_mem_limits *l, uint64_t gpa,
			  uint64_t npages);
/* SET_FLAGS: only TIDAL_MEM_F_* bits. */
int64_t hc_mem_check_flags(uint64_t flags);
/* GET_DIRTY: a buffer of @len bytes at @buf for a slot of @npages. */
int64_t hc_mem_check_dirty_buf(const struct hc_mem_limits *l, uint64_t npages,
			       uint64_t buf, uint64_t len);
/* TIDAL_MEM_F_* -> MEMSLOT_* flags. */
uint32_t hc_mem_slot_flags(uint64_t flags);
/* A negative errno of the MMU -> TIDAL_E_* (0 stays 0). */
int64_t hc_mem_from_errno(int err);

#endif
