#!/bin/sh
# The multi-vCPU TLB coherence guest (tests/guests/coherence.c): guest
# memslot changes by hypercall while the other vCPUs check, from inside,
# that none of them still reaches memory through an old translation.
. "$(dirname "$0")/guestlib.sh"

boot_guest coherence "$BUILD/guests/coherence.elf" "mem=32M" "memctl rounds=2 drounds=2"
expect "guest: coherence: 1 vCPUs, 2 change cycles, 2 dirty rounds" "guest started with 1 vCPU"
expect_re "guest: coherence: [0-9]+ checks, all passed" "every check passed"
expect_re "^tidal: summary: remote_tlb_flush [0-9]+ remote_tlb_flush_requests [1-9][0-9]*" "summary: remote flush figures, some flushes asked for"
expect_re "^tidal: summary: vcpu requests set [1-9]" "summary: requests set"
expect_re "^tidal: summary: vcpu 0: .* #GP memctl [1-9]" "summary: accesses to deleted/read-only slots answered with #GP"
expect_status 0
finish
