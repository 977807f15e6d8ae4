#!/bin/sh
# Patterns across all of guest RAM; EPT maps it with 2 MiB pages.
. "$(dirname "$0")/guestlib.sh"

boot_guest memtest "$BUILD/guests/memtest.elf" "mem=64M" "passes=2"
expect "guest: memtest: 65368 KiB tested, 0 errors" "all usable RAM written and verified"
expect "guest: memtest: pass 1 done" "two passes"
expect_re "^tidal: summary: pages mapped 4K [0-9]+ 2M (2[4-9]|3[0-9]) 1G 0" "summary: RAM mapped with 2M pages"
expect_re "^tidal: summary: EPT faults [1-9]" "summary: EPT faults counted"
expect_re "^tidal: summary: TLB flushes requested [0-9]+ done [0-9]+" "summary: TLB flush counts"
expect_status 0
finish
