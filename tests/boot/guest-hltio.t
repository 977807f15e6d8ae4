#!/bin/sh
# HLT exits and the emulated I/O devices (16550, 0xe9, exit port).
. "$(dirname "$0")/guestlib.sh"

# Twice: with APIC virtualization (the timer's vector goes through RVI,
# nothing injected) and with the local APIC emulated (injected).
for mode in virtualize emulate; do
boot_guest hltio-$mode "$BUILD/guests/hltio.elf" "apic=$mode" ""
expect "guest: hltio: five HLT exits counted: ok" "$mode: HLT exits and resumes"
expect "guest: hltio: COM1 scratch register: ok" "$mode: 16550 scratch register"
expect "guest: hltio: COM1 divisor latch: ok" "$mode: 16550 divisor latch behind DLAB"
expect "guest: hltio: COM1 LSR idle: ok" "$mode: 16550 LSR"
expect "guest: hltio: unused port reads 0xff: ok" "$mode: unused ports float high"
expect "guest: hltio: port e9 works" "$mode: port 0xe9"
expect_tidal "tidal: vm: guest exited with status 0 (exit port)" "$mode: exit port ends the VM"
expect_re "^tidal: summary:   HLT +5[[:space:]]*$" "$mode: summary counts 5 HLT exits"
expect "guest: hltio: each HLT woken by the APIC timer: ok" "$mode: each HLT woken by a local APIC timer interrupt"
if [ $mode = virtualize ]; then
	expect_re "^tidal: summary: vcpu 0: interrupts injected 0, NMIs 0, IPIs sent 0, timer 5, halts blocked [0-5], wake-ups 5," "$mode: summary: 5 timer interrupts, none injected, 5 wake-ups"
	expect_re "^tidal: summary: vcpu 0: APICv: virtual interrupts 5," "$mode: the 5 timer vectors went to the CPU as virtual interrupts"
else
	expect_re "^tidal: summary: vcpu 0: interrupts injected 5, NMIs 0, IPIs sent 0, timer 5, halts blocked [0-5], wake-ups 5," "$mode: summary: 5 timer interrupts injected, 5 wake-ups"
fi
expect_not "FAIL" "$mode: no check failed"
expect_status 0
done
finish
