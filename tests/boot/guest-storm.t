#!/bin/sh
# The touch storm (tests/guests/storm.c): every vCPU touches all usable
# RAM at once, so EPT violations for the same blocks race on different
# CPUs; the summary shows faults and retries per vCPU.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests/storm.elf

storm_ok() { # NAME N
	expect "guest: storm: $2 vCPUs touching all usable RAM" "$1: $2 vCPUs ran"
	expect_re "guest: storm: EPT faults [1-9][0-9]* retried [0-9]+, all stamps kept" "$1: every stamp kept"
	expect_re "^tidal: summary: vcpu $(($2 - 1)): [0-9]+ exits, EPT faults [0-9]+ \\(retried [0-9]+\\)" "$1: per-vCPU faults and retries in the summary"
	expect_status 0
}

boot_guest storm "$G" "mem=16M" ""
storm_ok storm 1

if grep -q -- '--cpus' tools/run-bochs && [ "${VEHICLE:-bochs}" = bochs ]; then
	BOCHS_ARGS="--cpus 4" boot_guest storm-4 "$G" "mem=16M vcpus=4" ""
	storm_ok storm-4 4
else
	tap 0 "# SKIP 4 vCPUs: tools/run-bochs has no --cpus yet"
fi
finish
