#!/bin/sh
# CPUID exits: the guest's CPU (vmm/cpuid.c): VMX, MONITOR, the PMU
# hidden, tidal's hypervisor leaves and the TSC leaves agreeing.  Then
# cputable (a PVH kernel, tests/guests/cputable.c) reads CPUID and MSRs
# against the SDM's rules, at 1 and 2 vCPUs (the topology leaves).
. "$(dirname "$0")/guestlib.sh"

boot_guest cpuid "$BUILD/guests/cpuid.elf" "" ""
expect 'guest: cpuid: hypervisor leaf: "tidal" max 40000010' "hypervisor leaf 0x40000000 says tidal, max 0x40000010"
expect "guest: cpuid: hypervisor-present bit set: ok" "leaf 1 has the hypervisor bit"
expect "guest: cpuid: VMX hidden from the guest: ok" "leaf 1 hides VMX"
expect "guest: cpuid: ABI version in leaf 0x40000001: ok" "leaf 0x40000001 gives the ABI version"
expect "guest: cpuid: CPUID exits counted: ok" "VMCALL counter sees the CPUID exits"
expect "guest: cpuid: TSC kHz in leaf 0x40000010 matches leaf 0x15: ok" "timing leaf and leaf 0x15 agree"
expect "guest: cpuid: MONITOR and PDCM hidden: ok" "MONITOR and PDCM hidden"
expect "guest: cpuid: perfmon leaf 0xA zeroed: ok" "perfmon leaf zeroed"
# tidal keeps CPUID answers per vCPU (vmm/exit.c): they must follow CR4 and XCR0.
expect "guest: cpuid: OSXSAVE set after CR4.OSXSAVE is set: ok" "leaf 1 follows CR4.OSXSAVE once asked before"
expect "guest: cpuid: leaf 0xD EBX grows with XCR0 (AVX state added): ok" "leaf 0xD follows XCR0"
expect "guest: cpuid: OSXSAVE clear after CR4.OSXSAVE is cleared: ok" "leaf 1 follows CR4.OSXSAVE going off"
expect_re '^tidal: summary:   CPUID +(9|[1-9][0-9]+)$' "tidal counted every CPUID exit"
expect "guest: cpuid: 0 failures" "guest found no failures"
expect_not "FAIL" "no check failed"
expect_status 0

# NAME CPUS: cputable's verdict, and tidal's count of the #GPs it injected
# (the guest's "N #GP taken" against tidal's "exception 13 injected N").
cputable_ok() {
	expect_re "guest: cputable: all [0-9]+ checks passed, powering off" "$1: every CPUID/MSR row as the SDM says"
	expect_not "guest: FAIL" "$1: no failed row"
	gps=$(sed -n 's/^guest: cputable: \([0-9]*\) #GP taken$/\1/p' "$log")
	[ -n "$gps" ] && [ "$gps" -ge 10 ]
	tap $? "$1: the guest took $gps #GPs for the rows that must fault"
	expect_re "^tidal: summary: exception 13 injected $gps$" "$1: tidal injected exactly those #GPs"
	[ "$(grep -c '^tidal: vm: vCPU 0 moved its xAPIC page to fed00000: not emulated, the registers stay at fee00000$' "$log")" = 1 ]
	tap $? "$1: a moved xAPIC page is reported once for two moves"
	expect_status 0
}
boot_guest cputable "$BUILD/guests/cputable.elf" "" "cpus=1"
cputable_ok cputable
if [ "${VEHICLE:-bochs}" = bochs ]; then
	BOCHS_ARGS="--cpus 2" boot_guest cputable-2 "$BUILD/guests/cputable.elf" "vcpus=2" "cpus=2"
	cputable_ok cputable-2
fi
finish
