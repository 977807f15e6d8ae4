// SPDX-License-Identifier: MIT
/*
 * A host program that builds a VM the way tidal does (struct vm around a
 * TDP MMU with memslots and a vCPU root), maps a few pages through the
 * real fault path, then stops at gdb_checkpoint() so that
 * tests/boot/guest-gdb.t can point the tools/gdb commands at it.  Run on
 * its own it checks its own set-up and prints TAP.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/memslot.h"
#include "mm/tdp/tdp_mmu.h"
#include "vmm/vm.h"
#include "tests/host/platform_host.h"
#include "tests/host/tap.h"

struct vm the_vm;
/* What the walks must find, for the gdb test to compare. */
uint64_t expected_hpa_2m, expected_hpa_4k;

#define GPA_2M 0x212345ull
#define GPA_4K (16 * MiB + 0x3123)

void gdb_checkpoint(void) __attribute__((noinline));
void gdb_checkpoint(void)
{
	__asm__ __volatile__("" ::: "memory");
}

int main(void)
{
	struct vm *vm = &the_vm;
	void *ram = aligned_alloc(2 * MiB, 8 * MiB);
	void *rom = aligned_alloc(2 * MiB, 2 * MiB);
	struct tdp_root *root;

	host_thread_register();
	vm->mem_bytes = 8 * MiB;
	vm->ram = ram;
	vm->ram_pa = platform_virt_to_phys(ram);
	vm->img.bits = 64;
	vm->img.entry = 0x100000;
	vm->nr_vcpus = 1;
	vm->vcpus[0].vm = vm;
	vm->vcpus[0].vpid = 1;
	vm->mmu = tdp_mmu_create(vm);
	ok(ram && rom && vm->mmu, "VM memory and MMU created");
	is_int(memslot_create(vm->mmu, 0, 0, 8 * MiB, vm->ram_pa, 0), 0,
	       "RAM slot");
	is_int(memslot_create(vm->mmu, 1, 16 * MiB, 2 * MiB,
			      platform_virt_to_phys(rom),
			      MEMSLOT_READONLY | MEMSLOT_NO_HUGE),
	       0, "read-only 4K-only slot");
	root = tdp_mmu_get_root(vm->mmu, TDP_ROLE_DEFAULT);
	ok(root != NULL, "vCPU root");
	vm->vcpus[0].root = root;
	vm->vcpus[0].eptp = tdp_root_eptp(root);
	is_int(tdp_map(vm->mmu, root, GPA_2M, TDP_ACC_READ | TDP_ACC_WRITE),
	       TDP_MAP_OK, "fault in RAM maps");
	is_int(tdp_map(vm->mmu, root, GPA_4K, TDP_ACC_READ), TDP_MAP_OK,
	       "fault in the read-only slot maps");
	is_int(tdp_map(vm->mmu, root, 32 * MiB, TDP_ACC_READ), TDP_MAP_NO_SLOT,
	       "fault outside every slot finds no slot");
	expected_hpa_2m = vm->ram_pa + GPA_2M;
	expected_hpa_4k = platform_virt_to_phys(rom) + (GPA_4K - 16 * MiB);

	gdb_checkpoint();

	tdp_mmu_put_root(vm->mmu, root);
	vm->vcpus[0].root = NULL;
	tdp_mmu_destroy(vm->mmu);
	free(ram);
	free(rom);
	host_thread_unregister();
	return tap_done();
}
