#!/bin/sh
# Device interrupts end to end (tests/guests/irqtest.c, a PVH kernel): the
# PIT through the I/O APIC's GSI 2 (rate checked against the TSC,
# masking), the RTC's periodic and update-ended interrupts on IRQ 8, COM1
# RX and THRE interrupts on IRQ 4 with the 16550 loopback,
# a level-triggered pin with remote IRR and EOI, the 8259 through LINT0
# (ExtINT), then console input: bytes typed into tidal's serial port
# (tools/run-bochs --serial-in) reach the guest's COM1 and are echoed
# back.  With 2 vCPUs, IRQ 4 is routed to vCPU 1 (physical, logical).
# Every guest claim is matched by tidal's own summary figures.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests/irqtest.elf
word="ping-$$-tidal"
printf '%s\nquit\n' "$word" > "$TESTS_DIR/irq.in"

# NAME: the guest's figure "irq: PIT interrupts taken N" <= tidal's edges.
pit_agrees() {
	taken=$(sed -n 's/^guest: irq: PIT interrupts taken \([0-9]*\)$/\1/p' "$log")
	edges=$(sed -n 's/^tidal: summary: devices: PIT IRQ 0 edges \([0-9]*\),.*/\1/p' "$log")
	[ -n "$taken" ] && [ -n "$edges" ] && [ "$taken" -ge 12 ] &&
		[ "$edges" -ge "$taken" ]
	tap $? "$1: tidal raised IRQ 0 $edges times for the $taken ticks the guest took"
}

# Console input needs run-bochs's relay: under other vehicles no echo.
if [ "${VEHICLE:-bochs}" = bochs ]; then
	BOCHS_ARGS="--serial-in $TESTS_DIR/irq.in --serial-after echo-ready" \
		boot_guest irq "$G" "" "cpus=1 echo=1"
	input=$((${#word} + 6))
else
	boot_guest irq "$G" "" "cpus=1"
	input=0
fi
expect_re "guest: irq: all [0-9]+ checks passed, powering off" "irq: every guest check passed"
expect_not "guest: FAIL" "irq: no failed check"
grep '^guest: irq: PIT period' "$log" | sed 's/^/# /'
if [ "$input" != 0 ]; then
	expect_tidal "guest: $word" "irq: the input line came back, echoed by the guest"
fi
expect_re "^tidal: summary: devices: PIT IRQ 0 edges [0-9]+, COM1 IRQ 4 raised [1-9][0-9]*, RTC IRQ 8 raised ([5-9]|[1-9][0-9]+), console input $input bytes \(dropped 0\)$" "irq: tidal raised IRQ 4 and IRQ 8, fed the $input input bytes to COM1, none dropped"
expect_re "^tidal: summary: devices: I/O APIC messages [1-9][0-9]*, level EOIs [2-9][0-9]*, 8259 INTA cycles [5-9][0-9]*$" "irq: I/O APIC messages, level EOIs (remote IRR cleared) and 8259 INTA cycles counted"
pit_agrees irq
expect_tidal "guest: irq: esc red ?x ." "irq: terminal control sequences dropped, a lone ESC shown as ?"
expect_re "^tidal: summary: vcpu 0: interrupts injected [1-9][0-9]+, .* halts blocked [1-9][0-9]*, wake-ups [1-9][0-9]*" "irq: vCPU 0 took the interrupts, blocked in HLT and was woken"
# An INTR left asserted after the 8259's INTA kept HLT from blocking
# (tens of thousands of HLT exits): every HLT must wait for a real event.
hlts=$(sed -n 's/^tidal: summary:   HLT  *\([0-9]*\)$/\1/p' "$log")
[ -n "$hlts" ] && [ "$hlts" -lt 1000 ]
tap $? "irq: HLT blocks until an interrupt ($hlts HLT exits, fewer than 1000)"
expect "tidal: vm: guest powered off (ACPI S5)" "irq: ACPI S5 stops the VM"
expect_status 0

if [ "${VEHICLE:-bochs}" = bochs ]; then
	BOCHS_ARGS="--cpus 2" boot_guest irq-2 "$G" "vcpus=2" "cpus=2"
	expect_re "guest: irq: all [0-9]+ checks passed, powering off" "irq-2: every guest check passed"
	expect_not "guest: FAIL" "irq-2: no failed check"
	expect_re "^tidal: summary: vcpu 1: interrupts injected 2, NMIs 0, IPIs sent 0, timer 0, halts blocked [1-9][0-9]*, wake-ups [1-9][0-9]*, SIPI starts 1$" "irq-2: vCPU 1 took exactly the two routed IRQ 4 interrupts"
	expect_status 0
fi
finish
