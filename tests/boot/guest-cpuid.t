#!/bin/sh
# CPUID exits: the guest's CPU (vmm/cpuid.c): VMX, MONITOR, the PMU
# hidden, tidal's hypervisor leaves and the TSC leaves agreeing.
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
finish
