#!/bin/sh
# Debian's Linux under tidal, ACPI on: the scripted /init with 1 vCPU and
# with 4 (Bochs --cpus 4: the APs come up by INIT-SIPI-SIPI from the MADT),
# each powered off through ACPI S5 (tests/boot/linuxlib.sh).  A SKIP only
# when the kernel cannot be fetched.  make test-linux-full adds the
# prefault and protected variants (tests/boot/linux-full.t).
. "$(dirname "$0")/guestlib.sh"
. "$(dirname "$0")/linuxlib.sh"
linux_boot linux-1 1 "" ""
linux_boot linux-4 4 "" ""
finish
