/* SPDX-License-Identifier: MIT */
/*
 * Checks shared by the multiboot and PVH test kernels: each kernel turns
 * its protocol's boot information into these neutral tables, and the
 * checks compare them with what tidal promises (docs/guest-abi.md):
 * memory map with the PC holes, command line, modules and their bytes,
 * the ACPI tables found by scanning 0xE0000-0xFFFFF.  The kernel then
 * powers off through ACPI S5, or leaves through the exit port with
 * status 1 when a check failed.
 */
#ifndef TIDAL_GUEST_PC_CHECKS_H
#define TIDAL_GUEST_PC_CHECKS_H

#include "lib/guest.h"

struct pc_region {
	uint64_t addr, size;
	uint32_t type;
};

struct pc_mod {
	uint64_t start, end;
	const char *cmdline;
};

void pc_check(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The number after "key=" in @cmdline, or @dflt. */
uint64_t pc_arg(const char *cmdline, const char *key, uint64_t dflt);

void pc_check_map(const struct pc_region *map, unsigned int n,
		  const char *cmdline);
void pc_check_modules(const struct pc_mod *mods, unsigned int n,
		      const char *cmdline);
/* Scan for the RSDP, check every table; returns the RSDP's address. */
uint32_t pc_check_acpi(const char *cmdline);
/* The GSI of ISA IRQ 0 by the MADT's override (pc_check_acpi sets it). */
extern unsigned int pc_irq0_gsi;
/* pc_devices.c: probe the legacy PC devices by their registers. */
void pc_check_devices(void);
/* Power off through the FADT's PM1a control block and _S5, or exit 1. */
void pc_finish(const char *who) __noreturn;

/*
 * The PVH entry note (name "Xen", type 18, a 32-bit entry address) and the
 * entry itself: a 16 KiB stack, then main(EAX, EBX), EBX being the
 * hvm_start_info address.  One use per kernel.
 */
#define PVH_ENTRY(main)                                  \
	__asm__(".pushsection .note.Xen, \"a\", @note\n" \
		".balign 4\n"                            \
		".long 4, 4, 18\n"                       \
		".asciz \"Xen\"\n"                       \
		".long pvh_start\n"                      \
		".popsection\n"                          \
		".section .text.entry, \"ax\"\n"         \
		".code32\n"                              \
		".globl _start, pvh_start\n"             \
		"_start:\n"                              \
		"pvh_start:\n"                           \
		"cli\n"                                  \
		"movl $pvh_stack_top, %esp\n"            \
		"pushl %ebx\n"                           \
		"pushl %eax\n"                           \
		"call " #main "\n"                       \
		"1: hlt\n"                               \
		"jmp 1b\n"                               \
		".section .bss\n"                        \
		".balign 16\n"                           \
		"pvh_stack: .skip 16384\n"               \
		"pvh_stack_top:\n")

#endif
