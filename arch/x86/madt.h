/* SPDX-License-Identifier: MIT */
/*
 * The ACPI MADT ("APIC") as a list of CPUs (arch/x86/madt.c).
 *
 * madt_parse() is a pure function over a buffer: it reads nothing outside
 * [@buf, @buf + @len) and trusts no length in the table, so it also runs
 * as a host test (tests/host/test_madt.c) on hostile input.  It takes the
 * table as found (header included); the caller checks the checksum.
 *
 * Entries used: processor local APIC (type 0), processor local x2APIC
 * (type 9) and the local APIC address override (type 5).  A CPU is usable
 * when its "enabled" flag is set, or "online capable" is (hot-plug
 * capable CPUs that firmware left disabled: tidal does not start them,
 * they are counted apart).  Duplicate APIC IDs are dropped.
 */
#ifndef TIDAL_ARCH_X86_MADT_H
#define TIDAL_ARCH_X86_MADT_H

#include "lib/compiler.h"

#define MADT_MAX_CPUS 256

struct madt_info {
	uint64_t lapic_base; /* physical address of the local APICs */
	unsigned int ncpus;  /* enabled CPUs listed in apic_id[] */
	uint32_t apic_id[MADT_MAX_CPUS];
	unsigned int disabled;	     /* entries neither enabled nor usable */
	unsigned int online_capable; /* present but not enabled: not used */
	unsigned int dropped; /* enabled CPUs beyond MADT_MAX_CPUS or dups */
};

/*
 * Parse the MADT at @buf (@len bytes readable).  Returns 0, or -1 with a
 * one-line reason in @err (@errlen bytes, always NUL-terminated).
 */
int madt_parse(const void *buf, size_t len, struct madt_info *out, char *err,
	       size_t errlen);

#endif
