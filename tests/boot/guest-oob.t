#!/bin/sh
# A read outside guest RAM stops the VM with a report; tidal powers off.
. "$(dirname "$0")/guestlib.sh"

boot_guest oob "$BUILD/guests/oob.elf" "mem=64M" ""
expect "guest: oob: reading 5000000" "guest starts the bad read"
expect_tidal "tidal: vm: stopped: guest touched unbacked memory at GPA 5000000 (read)" "VM stopped with the GPA and access"
expect_tidal "tidal: vm: guest registers:" "guest registers reported"
expect_not "and survived" "the read never completed"
expect_tidal "tidal: summary:" "summary still printed"
expect_status 1
finish
