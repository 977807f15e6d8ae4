/* SPDX-License-Identifier: MIT */
/*
 * Minimal ACPI table access (arch/x86/acpi.c): find a table by signature
 * through the RSDT/XSDT, with lengths and checksums checked.  Enough for
 * soft power-off now and for the MADT when SMP arrives.
 */
#ifndef TIDAL_ARCH_X86_ACPI_H
#define TIDAL_ARCH_X86_ACPI_H

#include "lib/compiler.h"

struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

struct boot_info;

/* Remember the RSDP from the boot information; false if unusable. */
bool acpi_init(const struct boot_info *bi);

/* The first valid table with signature @sig, or NULL. */
const struct acpi_header *acpi_find(const char sig[4]);

/* Enter S5 (soft off) if the FADT and DSDT allow it; returns on failure. */
void acpi_power_off(void);

#endif
