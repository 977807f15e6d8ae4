#!/bin/sh
# Hostile guests (tests/guests/hostile/).  hostile64 attacks tidal
# from the inside: MSR isolation, guest values that would fail VM entry,
# VMX and other exiting instructions at CPL 0 and 3, events delivered onto
# unmapped stacks, CR0/CR4/DR7, VMCALL in compatibility mode, and the
# guest's own XCR0 (XSETBV accepted and refused by the SDM's rules), and
# the xAPIC page (odd registers and widths; never memory, in x2APIC mode
# either, so the APIC-access page of APICv is never reached as RAM).
. "$(dirname "$0")/guestlib.sh"

boot_guest hostile "$BUILD/guests/hostile64.elf" "" ""
expect "guest: hostile: set up" "guest started its attacks"
expect_re "^guest: hostile: [0-9]+ probes, 0 failures" "guest saw the architectural answer to every probe"
expect_not "FAIL" "no probe failed"
expect_tidal "guest: hostile: rep outsb to port e9" "REP OUTSB reached tidal's console through port 0xE9"
expect_tidal "guest: hostile: backward outsb" "REP OUTSB with DF=1 reached it in order"
expect_tidal "guest: hostile: console write through VMCALL" "VMCALL console write reached tidal's console"
expect_not "tidal: vm: stopped" "tidal never stopped the VM"
# tidal's side: the faults the guest saw were tidal's answers.
expect_re '^tidal: summary: exception 6 injected (1[3-9]|[2-9][0-9])' "tidal injected #UD for VMX instructions at CPL 0 and 3"
expect_re '^tidal: summary: exception 13 injected [1-9]' "tidal injected #GP for refused MSR and CR writes"
expect_re '^tidal: summary: events re-injected [5-9]' "tidal re-injected the events whose delivery hit EPT violations"
expect_re '^tidal: summary:   VMREAD +2' "both VMREADs (CPL 0 and 3) exited to tidal"
# XCR0 (attack_xcr0): the CPL 0 XSETBVs with CR4.OSXSAVE exit (the #UD
# and CPL 3 #GP cases fault before the exit, as the SDM orders them).
expect_re '^tidal: summary:   XSETBV +([6-9]|[1-9][0-9])$' "XSETBV at CPL 0 with CR4.OSXSAVE exited to tidal"
expect_re '^tidal: vm: guest exited with status 0 \(VMCALL\)' "the guest exited by itself"
# attack_apic under APIC virtualization: the odd accesses came to tidal
# as APIC-access exits and were emulated.
expect_re '^tidal: summary: vcpu 0: APICv: .*APIC-access exits [1-9][0-9]*$' "odd xAPIC accesses reached tidal as APIC-access exits"
expect_status 0

# attack_apic alone (group 11) with the local APIC emulated.
boot_guest hostile-apic-emulate "$BUILD/guests/hostile64.elf" "apic=emulate" "only=11"
expect_re "^guest: hostile: [0-9]+ probes, 0 failures" "apic=emulate: the xAPIC page probes had the architectural answers"
expect_tidal "tidal: vm: local APIC: emulated per vCPU" "apic=emulate: emulated"
expect_not "tidal: vm: stopped" "apic=emulate: tidal never stopped the VM"
expect_status 0

# hostile32: CR0/CR4/EFER transitions from 32-bit code, into and out of
# IA-32e mode, PAE paging with good and bad PDPTEs, and VMCALL from
# compatibility mode.
boot_guest hostile32 "$BUILD/guests/hostile32.elf" "" ""
expect_re "^guest: hostile32: [0-9]+ probes, 0 failures" "hostile32: every transition had the architectural result"
expect "guest: hostile32: CR0.PG with LME and PAE from 32-bit code enters IA-32e mode: ok" "hostile32: IA-32e mode entered through CR0.PG"
expect_not "FAIL" "hostile32: no probe failed"
expect_not "tidal: vm: stopped" "hostile32: tidal never stopped the VM"
expect_re '^tidal: summary: exception 13 injected 3$' "hostile32: tidal injected the three #GPs"
expect_re '^tidal: summary:   control-register access +([89]|1[0-9])$' "hostile32: the CR writes exited to tidal"
expect_status 0
finish
