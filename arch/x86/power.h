/* SPDX-License-Identifier: MIT */
/*
 * Ending a run.  power_off() tries, in order:
 *   1. QEMU's isa-debug-exit device (port 0xf4): QEMU exits at once with
 *      status POWER_QEMU_EXIT_OK (33) for success or
 *      POWER_QEMU_EXIT_FAIL (35) for failure, so scripts can tell them apart;
 *   2. Bochs's shutdown port 0x8900 (Bochs ends the simulation; its own
 *      exit status is always 1, so Bochs runs are judged by the serial log,
 *      whose last line is "tidal: power off: status N");
 *   3. ACPI S5 (soft off) through the FADT and the DSDT's \_S5 object;
 *   4. halting the CPU forever with interrupts masked.
 * The console is drained before any of these, so no output is lost.
 */
#ifndef TIDAL_ARCH_X86_POWER_H
#define TIDAL_ARCH_X86_POWER_H

#include "lib/compiler.h"

struct boot_info;

/* Exit statuses seen by the host when QEMU runs with isa-debug-exit. */
#define POWER_QEMU_EXIT_OK   33
#define POWER_QEMU_EXIT_FAIL 35

/* Remember where the ACPI tables are (optional; without it, no ACPI step). */
void power_init(const struct boot_info *bi);

/* @status 0 means success; anything else is a failure. */
void power_off(int status) __noreturn;

#endif
