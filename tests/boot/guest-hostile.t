#!/bin/sh
# A hostile 64-bit guest (tests/guests/hostile/hostile64.c) attacks tidal
# from the inside: MSR isolation, guest values that would fail VM entry,
# VMX and other exiting instructions at CPL 0 and 3, events delivered onto
# unmapped stacks, CR0/CR4/DR7, and VMCALL in compatibility mode.
. "$(dirname "$0")/guestlib.sh"

boot_guest hostile "$BUILD/guests/hostile64.elf" "" ""
expect "guest: hostile: set up" "guest started its attacks"
expect_re "^guest: hostile: [0-9]+ probes, 0 failures" "guest saw the architectural answer to every probe"
expect_not "FAIL" "no probe failed"
expect_not "tidal: vm: stopped" "tidal never stopped the VM"
expect_status 0
finish
