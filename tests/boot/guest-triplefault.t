#!/bin/sh
# A triple fault stops the VM with the guest's registers; run fails.
. "$(dirname "$0")/guestlib.sh"

boot_guest triplefault "$BUILD/guests/triplefault.elf" "" ""
expect_tidal "tidal: vm: stopped: guest triple fault" "triple fault reported"
expect "rax 0000000000007ead rbx 000000000000fa17" "registers at the fault are shown"
expect "idtr 0/0" "empty IDT visible in the dump"
expect_not "still alive" "guest did not continue"
expect_status 1
finish
