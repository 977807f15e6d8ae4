// SPDX-License-Identifier: MIT
/* Powering off, in the order given in arch/x86/power.h. */
#include "arch/x86/power.h"
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdbstub.h"
#include "arch/x86/serial.h"
#include "lib/printf.h"

#define ISA_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

static bool acpi_ready;

void power_init(const struct boot_info *bi)
{
	acpi_ready = acpi_init(bi);
}

void power_off(int status)
{
	const char *s = "Shutdown";

	__asm__ __volatile__("cli");
	printk("tidal: power off: status %d (%s)\n", status,
	       status ? "failure" : "success");
	serial_flush();
	gdbstub_exit(status);
	/* QEMU exits with (value << 1) | 1: 33 or 35. */
	outb(ISA_DEBUG_EXIT_PORT, (uint8_t)((status ? POWER_QEMU_EXIT_FAIL :
						     POWER_QEMU_EXIT_OK) >> 1));
	while (*s)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s++);
	if (acpi_ready)
		acpi_power_off();
	printk("tidal: could not power off; halting\n");
	serial_flush();
	cpu_halt_forever();
}
