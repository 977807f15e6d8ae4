/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables tidal gives PC guests (multiboot, PVH): RSDP, XSDT and
 * RSDT, FADT (PM timer, PM1a event and control blocks, SCI on IRQ 9),
 * FACS, a DSDT whose only object is \_S5 (hand-assembled AML) and a MADT
 * with one local APIC per vCPU, the I/O APIC and the IRQ0 -> GSI2 and
 * SCI overrides.  Addresses and ports come from vmm/pc.h.
 *
 * Pure code: host tests build the tables in a buffer and check them.
 */
#ifndef TIDAL_VMM_ACPI_H
#define TIDAL_VMM_ACPI_H

#include "lib/compiler.h"

#define ACPI_MAX_CPUS 255

/*
 * Write the tables into @dst (@room bytes, which the guest sees at
 * @base_gpa); the RSDP comes first, at @base_gpa.  Returns the bytes
 * used, or 0 if @ncpus is 0 or too large, or the tables do not fit.
 */
size_t acpi_build(void *dst, size_t room, uint64_t base_gpa,
		  unsigned int ncpus);

/* The sum of @n bytes, mod 256 (0 for a table with a good checksum). */
uint8_t acpi_sum(const void *p, size_t n);

#endif
