#!/bin/sh
# A hostile 64-bit guest (tests/guests/hostile/hostile64.c) attacks tidal
# from the inside: MSR isolation, guest values that would fail VM entry,
# VMX and other exiting instructions at CPL 0 and 3, events delivered onto
# unmapped stacks, CR0/CR4/DR7, and VMCALL in compatibility mode.
. "$(dirname "$0")/guestlib.sh"

boot_guest hostile "$BUILD/guests/hostile64.elf" "" ""
expect "guest: hostile: set up" "guest started its attacks"
expect_re "^guest: hostile: [0-9]+ probes, 0 failures" "guest saw the architectural answer to every probe"
expect_not "FAIL" "no probe failed"
expect_not "tidal: vm: stopped" "tidal never stopped the VM"
# tidal's side: the faults the guest saw were tidal's answers.
expect_re '^tidal: summary: exception 6 injected (1[3-9]|[2-9][0-9])' "tidal injected #UD for VMX instructions at CPL 0 and 3"
expect_re '^tidal: summary: exception 13 injected [1-9]' "tidal injected #GP for refused MSR and CR writes"
expect_re '^tidal: summary: events re-injected [5-9]' "tidal re-injected the events whose delivery hit EPT violations"
expect_re '^tidal: summary:   VMREAD +2' "both VMREADs (CPL 0 and 3) exited to tidal"
expect_re '^tidal: vm: guest exited with status 0 \(VMCALL\)' "the guest exited by itself"
expect_status 0
finish
