#!/bin/sh
# The emulated local APIC (tests/guests/apictest.c, a PVH kernel): xAPIC
# registers, the timer in one-shot, periodic and TSC-deadline modes waking
# HLT, self IPIs, then with 4 vCPUs the APs started by INIT-SIPI-SIPI at a
# real-mode trampoline, IPIs (physical, logical, all-but-self) that wake
# HLT on both sides, an NMI IPI, and x2APIC.  The guest prints the
# interrupt-delivery latency figure (deadline TSC to the handler's RDTSC).
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests/apictest.elf

apic_ok() { # NAME
	expect_re "^tidal: vm: local APIC: emulated per vCPU \(xAPIC page at fee00000" "$1: the APIC mode line"
	expect_re "guest: apic: all [0-9]+ checks passed, powering off" "$1: every guest check passed"
	expect_not "guest: FAIL" "$1: no failed check"
	expect "tidal: vm: guest powered off (ACPI S5)" "$1: ACPI S5 stops the VM"
	expect_re "^tidal: summary: vcpu 0: interrupts injected [1-9][0-9]*, NMIs 1, IPIs sent [1-9][0-9]*, timer [1-9][0-9]*, halts blocked [1-9][0-9]*, wake-ups [1-9]" "$1: vCPU 0 took interrupts, an NMI, blocked in HLT and was woken"
	expect_status 0
}

boot_guest apic "$G" "" "cpus=1"
apic_ok apic
grep 'guest: apic: .*latency\|guest: apic: .*period\|guest: apic: one-shot' "$log" | sed 's/^/# /'

if grep -q -- '--cpus' tools/run-bochs && [ "${VEHICLE:-bochs}" = bochs ]; then
	BOCHS_ARGS="--cpus 4" boot_guest apic-4 "$G" "vcpus=4" "cpus=4"
	apic_ok apic-4
	expect "tidal: vm: 4 vCPUs on CPUs 0-3" "apic-4: 4 vCPUs"
	for i in 1 2 3; do
		expect_re "^tidal: summary: vcpu $i: interrupts injected [3-9][0-9]*, NMIs [0-9]+, IPIs sent [0-9]+, timer 0, halts blocked [1-9][0-9]*, wake-ups [1-9][0-9]*, SIPI starts 1$" "apic-4: vCPU $i started by SIPI, woken from HLT by IPIs"
	done
	expect_re "^tidal: summary: vcpu 3: .*NMIs 1," "apic-4: the NMI IPI reached vCPU 3"
	expect_re "^tidal: summary: vcpu 1: .*NMIs 1," "apic-4: vCPU 1 parked in cli; hlt without stopping the VM, an NMI woke it"
	grep 'guest: apic: .*latency' "$log" | sed 's/^/# /'

	# Every vCPU in cli; hlt: nothing can wake the VM, tidal stops it.
	BOCHS_ARGS="--cpus 2" boot_guest apic-park "$G" "vcpus=2" "cpus=2 park=1"
	expect "guest: apic: every CPU parks now" "apic-park: the guest parked every CPU"
	expect_not "guest: FAIL" "apic-park: no failed check"
	expect_re "^tidal: vm: stopped: every vCPU halted with interrupts disabled or waits for SIPI \(nothing can wake them\)" "apic-park: tidal stopped the dead VM"
	expect_status 1
fi


finish
