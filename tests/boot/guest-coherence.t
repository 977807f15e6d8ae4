#!/bin/sh
# The multi-vCPU TLB coherence guest (tests/guests/coherence.c): guest
# memslot changes by hypercall (memctl) while the other vCPUs check, from
# inside, that none of them still reaches memory through an old
# translation; dirty-log rounds in which no write may be lost.  Then the
# same with the kick IPI left out on purpose (debug=noipi), which the
# guest must catch.  docs/vmx.md says why debug=noflush cannot be caught
# under Bochs.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests/coherence.elf
ARGS="memctl rounds=2 drounds=2"
# Fewer rounds with more vCPUs: Bochs runs every CPU in turn.
ARGS_SMP="memctl rounds=1 drounds=1"

coherence_ok() { # NAME N [CYCLES]
	expect "guest: coherence: $2 vCPUs, ${3:-2} change cycles, ${3:-2} dirty rounds" "$1: guest runs with $2 vCPUs"
	expect "guest: coherence: bad arguments refused, nothing changed" "$1: bad memctl arguments refused"
	expect_re "guest: coherence: [0-9]+ checks, all passed" "$1: every coherence check passed"
	expect_re "^tidal: summary: remote_tlb_flush [0-9]+ remote_tlb_flush_requests [1-9][0-9]*" "$1: summary: remote flush figures"
	expect_re "^tidal: summary: vcpu requests set [1-9]" "$1: summary: requests set"
	expect_re "^tidal: summary: vcpu [0-9]+: .* #GP memctl [1-9]" "$1: deleted/read-only slot accesses answered with #GP"
	expect_status 0
}

boot_guest coherence "$G" "mem=32M" "$ARGS"
coherence_ok coherence 1

boot_guest coherence-perm "$G" "mem=32M" "permcheck=1"
expect "guest: coherence: permission check passed" "without memctl the calls are refused (TIDAL_E_PERM)"
expect_status 0

# More vCPUs need more CPUs: tools/run-bochs --cpus and AP bring-up.
if grep -q -- '--cpus' tools/run-bochs && [ "${VEHICLE:-bochs}" = bochs ]; then
	for n in 2 4; do
		BOCHS_ARGS="--cpus $n" boot_guest "coherence-$n" "$G" "mem=32M vcpus=$n" "$ARGS_SMP"
		coherence_ok "coherence-$n" "$n" 1
		expect_re "^tidal: summary: vcpu $((n - 1)): " "coherence-$n: a summary line per vCPU"
		expect_re "^tidal: summary: vcpu requests set [0-9]+, IPIs sent [1-9]" "coherence-$n: kick IPIs were sent"
	done
	BOCHS_ARGS="--cpus 2" boot_guest coherence-noipi "$G" "mem=32M vcpus=2 debug=noipi" "$ARGS_SMP"
	expect "tidal: debug=noipi: remote TLB flushes are broken on purpose" "noipi: the broken mode is announced"
	expect "guest: coherence: FAIL: vcpu 1 after" "noipi: the guest caught a vCPU using an old translation"
	expect_status 3
else
	tap 0 "# SKIP 2 and 4 vCPUs: tools/run-bochs has no --cpus yet"
fi
finish
