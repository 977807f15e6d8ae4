#!/bin/sh
# The demo guest `make run` boots.
. "$(dirname "$0")/guestlib.sh"

boot_guest demo "$BUILD/guests/demo.elf" "" ""
expect "guest: demo: hello from a 64-bit guest running on tidal" "demo greets"
expect_re "guest: demo: touched [0-9]+ pages: .*; 0 bad words" "demo touches and checks its memory"
expect_re "guest: demo: VMCALL round trip [0-9]+ cycles" "demo prints what it measured"
expect "guest: demo: all good, goodbye" "demo finishes"
expect_status 0
finish
