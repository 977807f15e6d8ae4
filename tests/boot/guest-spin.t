#!/bin/sh
# A guest that spins forever is stopped by timeout= (preemption timer).
. "$(dirname "$0")/guestlib.sh"

boot_guest spin "$BUILD/guests/spin.elf" "timeout=100ms" ""
expect "guest: spin: spinning forever (time limit flag set)" "guest sees the time-limit flag"
expect_tidal "tidal: vm: stopped: time limit of 100 ms reached" "VM stopped at the limit"
expect_re "^tidal: summary:   VMX preemption timer +[1-9]" "preemption-timer exits kept tidal in control"
expect_status 1
finish
