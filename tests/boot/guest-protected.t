#!/bin/sh
# A protected guest: "protected" on its module command line makes the VM's
# EPT the external page-table guard's (mm/guard.h); the TDP MMU works on a
# mirror root and forwards every change.  memtest writes and verifies all
# of guest RAM through the guard's EPT.
. "$(dirname "$0")/guestlib.sh"

boot_guest protected "$BUILD/guests/memtest.elf" "mem=32M" "passes=1 protected"
expect_tidal "tidal: vm: protected: EPT owned by the guard, MMU on a mirror root" "VM is protected"
expect_re "guest: memtest: [0-9]+ KiB tested, 0 errors" "all usable RAM written and verified through the guard's EPT"
expect_re "^tidal: summary: EPT faults [1-9]" "EPT faults served through the mirror"
expect_re "^tidal: guard: [1-9][0-9]* link, [1-9][0-9]* set, [0-9]+ remove, [0-9]+ free requests; 0 refused" "guard applied the MMU's requests, refused none"
expect_re "^tidal: guard: .* 0 leaves, 0 frames mapped, 1 tables after teardown" "teardown emptied the guard's EPT"
expect_not "bugged" "the VM was never bugged"
expect_status 0
finish
