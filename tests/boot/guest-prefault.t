#!/bin/sh
# The "prefault" option: guest RAM is mapped before the guest starts, so
# memtest runs over all of it without an EPT violation for its RAM.
. "$(dirname "$0")/guestlib.sh"

boot_guest prefault "$BUILD/guests/memtest.elf" "mem=64M prefault" "passes=1"
expect_tidal "tidal: vm: prefault: 64 MiB of guest RAM mapped" "prefault reported all 64 MiB mapped"
expect "guest: memtest: 65368 KiB tested, 0 errors" "all usable RAM written and verified"
expect_tidal "tidal: summary: pages mapped 4K 0 2M 32 1G 0" "summary: all RAM mapped with 2M pages"
expect_tidal "tidal: summary: EPT faults 0 (retried 0)" "summary: no EPT fault at all (memtest without prefault takes 32)"
expect_status 0
finish
