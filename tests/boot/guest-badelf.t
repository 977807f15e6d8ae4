#!/bin/sh
# A malformed ELF module is refused with a message naming the problem.
. "$(dirname "$0")/guestlib.sh"

boot_guest bad-phdrs "$BUILD/guests/bad-phdrs.elf" "" ""
expect_tidal "tidal: guest: ELF rejected: program headers lie outside the file" "loader names the problem"
expect_not "starting guest" "nothing was run"
expect_status 1
finish
