#!/bin/sh
# HLT exits and the emulated I/O devices (16550, 0xe9, exit port).
. "$(dirname "$0")/guestlib.sh"

boot_guest hltio "$BUILD/guests/hltio.elf" "" ""
expect "guest: hltio: five HLT exits counted: ok" "HLT exits and resumes"
expect "guest: hltio: COM1 scratch register: ok" "16550 scratch register"
expect "guest: hltio: COM1 divisor latch: ok" "16550 divisor latch behind DLAB"
expect "guest: hltio: COM1 LSR idle: ok" "16550 LSR"
expect "guest: hltio: unused port reads 0xff: ok" "unused ports float high"
expect "guest: hltio: port e9 works" "port 0xe9"
expect_tidal "tidal: vm: guest exited with status 0 (exit port)" "exit port ends the VM"
expect_re "^tidal: summary:   HLT +5[[:space:]]*$" "summary counts 5 HLT exits"
expect "guest: hltio: each HLT woken by the APIC timer: ok" "each HLT woken by a local APIC timer interrupt"
expect_re "^tidal: summary: vcpu 0: interrupts injected 5, NMIs 0, IPIs sent 0, timer 5, halts blocked [0-5], wake-ups 5," "summary: 5 timer interrupts injected, 5 wake-ups"
expect_not "FAIL" "no check failed"
expect_status 0
finish
