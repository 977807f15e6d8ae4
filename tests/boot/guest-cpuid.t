#!/bin/sh
# CPUID exits: passthrough with VMX hidden, and tidal's hypervisor leaves.
. "$(dirname "$0")/guestlib.sh"

boot_guest cpuid "$BUILD/guests/cpuid.elf" "" ""
expect 'guest: cpuid: hypervisor leaf: "tidal" max 40000001' "hypervisor leaf 0x40000000 says tidal"
expect "guest: cpuid: hypervisor-present bit set: ok" "leaf 1 has the hypervisor bit"
expect "guest: cpuid: VMX hidden from the guest: ok" "leaf 1 hides VMX"
expect "guest: cpuid: ABI version in leaf 0x40000001: ok" "leaf 0x40000001 gives the ABI version"
expect "guest: cpuid: CPUID exits counted: ok" "VMCALL counter sees the CPUID exits"
expect "guest: cpuid: 0 failures" "guest found no failures"
expect_not "FAIL" "no check failed"
expect_status 0
finish
