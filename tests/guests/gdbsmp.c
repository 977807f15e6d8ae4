// SPDX-License-Identifier: MIT
/*
 * gdbsmp: something for gdb's guest view of several vCPUs to look at
 * (tests/boot/gdbstub.t).  Every vCPU but 0 writes its mark, sets CR2
 * to 0xc2000 + its index and spins in gdbsmp_spin_loop with its index in
 * r12.  Once they all spin, vCPU 0
 * makes a VERSION hypercall (where the test stops tidal), counts for a
 * while (so that gdb can stop vCPU 1 on a breakpoint meanwhile) and
 * exits with status 0.
 */
#include "lib/guest.h"

volatile uint64_t gdbsmp_mark[GUEST_MAX_VCPUS];

void gdbsmp_spin(uint64_t index) __noreturn;
__asm__(".text\n"
	".globl gdbsmp_spin\n"
	"gdbsmp_spin:\n"
	"	mov %rdi, %r12\n"
	"	mov %rdi, %rax\n"
	"	or $0xc2000, %rax\n"
	"	mov %rax, %cr2\n"
	".globl gdbsmp_spin_loop\n"
	"gdbsmp_spin_loop:\n"
	"	pause\n"
	"	jmp gdbsmp_spin_loop\n");

void guest_vcpu_main(unsigned int index, const struct tidal_start_info *si)
{
	gdbsmp_mark[index] = 0x5eed0000 + index;
	gdbsmp_spin(index);
}

int guest_main(const struct tidal_start_info *si)
{
	unsigned int n = guest_nr_vcpus();

	for (unsigned int i = 1; i < n && i < GUEST_MAX_VCPUS; i++)
		while (!gdbsmp_mark[i])
			cpu_pause();
	printf("gdbsmp: %u vCPU(s), the others spin\n", n);
	vmcall3(TIDAL_HC_VERSION, 0, 0, 0);
	for (volatile uint64_t i = 0; i < 5000000; i++)
		;
	printf("gdbsmp: done\n");
	return 0;
}
