#!/bin/sh
# The local APIC (tests/guests/apictest.c, a PVH kernel): xAPIC
# registers, the timer in one-shot, periodic and TSC-deadline modes waking
# HLT, self IPIs, then with 4 vCPUs the APs started by INIT-SIPI-SIPI at a
# real-mode trampoline, IPIs (physical, logical, all-but-self) that wake
# HLT on both sides, IPIs to a vCPU running with IF=0 that must wait for
# its STI, an NMI IPI, and x2APIC.  The guest prints the
# interrupt-delivery latency figure (deadline TSC to the handler's RDTSC).
#
# Each run is done twice: apic=virtualize (VMX APIC virtualization, which
# Bochs offers) and apic=emulate; the tidal-side counters show which one
# did the work.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests/apictest.elf

apic_ok() { # NAME MODE
	if [ "$2" = virtualize ]; then
		expect_re "^tidal: vm: local APIC: virtualized per vCPU \(xAPIC page at fee00000.*APIC virtualization: TPR shadow, APIC-access page, APIC-register virtualization, virtual-interrupt delivery, x2APIC mode virtualized" "$1: the APIC mode line says virtualized, and which features"
		# Local APIC vectors reach the guest through RVI, not injection.
		expect_re "^tidal: summary: vcpu 0: interrupts injected 0, NMIs 1, IPIs sent [1-9][0-9]*, timer [1-9][0-9]*, halts blocked [1-9][0-9]*, wake-ups [1-9]" "$1: vCPU 0 injected nothing, took an NMI, blocked in HLT and was woken"
		expect_re "^tidal: summary: vcpu 0: APICv: virtual interrupts [1-9][0-9]*, APIC-write exits [1-9][0-9]*, EOI exits 2, APIC-access exits [0-9]+$" "$1: virtual interrupts delivered, APIC writes completed, 2 level EOIs exited"
	else
		expect_re "^tidal: vm: local APIC: emulated per vCPU \(xAPIC page at fee00000.*APIC virtualization not used: apic=emulate" "$1: the APIC mode line says emulated, and why"
		expect_re "^tidal: summary: vcpu 0: interrupts injected [1-9][0-9]*, NMIs 1, IPIs sent [1-9][0-9]*, timer [1-9][0-9]*, halts blocked [1-9][0-9]*, wake-ups [1-9]" "$1: vCPU 0 took interrupts, an NMI, blocked in HLT and was woken"
		expect_not "APICv:" "$1: no APICv counters"
	fi
	expect_re "guest: apic: all [0-9]+ checks passed, powering off" "$1: every guest check passed"
	expect_not "guest: FAIL" "$1: no failed check"
	expect "tidal: vm: guest powered off (ACPI S5)" "$1: ACPI S5 stops the VM"
	expect_status 0
}

# The xAPIC page accesses tidal emulated, and the total exits, of a log.
mmio_of() { sed -n 's/^tidal: summary: local APIC: xAPIC page accesses emulated \([0-9]*\)$/\1/p' "$1"; }
exits_of() { sed -n 's/^tidal: summary: \([0-9]*\) exits in .*/\1/p' "$1"; }

for mode in virtualize emulate; do
	boot_guest apic-$mode "$G" "apic=$mode" "cpus=1"
	apic_ok apic-$mode $mode
	grep 'guest: apic: .*latency\|guest: apic: .*period\|guest: apic: one-shot' "$log" | sed 's/^/# /'
	eval "log_$mode=\$log"
done
# shellcheck disable=SC2154
mv=$(mmio_of "$log_virtualize") me=$(mmio_of "$log_emulate")
echo "# emulated xAPIC MMIO: virtualized ${mv:-?}, emulated ${me:-?}; exits: $(exits_of "$log_virtualize") vs $(exits_of "$log_emulate")"
tap "$([ -n "$mv" ] && [ -n "$me" ] && [ $((mv * 4)) -lt "$me" ] && echo 0 || echo 1)" \
	"APICv leaves under a quarter of the xAPIC accesses to the emulator"

if grep -q -- '--cpus' tools/run-bochs && [ "${VEHICLE:-bochs}" = bochs ]; then
	for mode in virtualize emulate; do
		BOCHS_ARGS="--cpus 4" boot_guest apic4-$mode "$G" "vcpus=4 apic=$mode" "cpus=4"
		apic_ok apic4-$mode $mode
		expect "tidal: vm: 4 vCPUs on CPUs 0-3" "apic4-$mode: 4 vCPUs"
		if [ $mode = virtualize ]; then inj="0"; else inj="[3-9][0-9]*"; fi
		for i in 1 2 3; do
			expect_re "^tidal: summary: vcpu $i: interrupts injected $inj, NMIs [0-9]+, IPIs sent [0-9]+, timer 0, halts blocked [1-9][0-9]*, wake-ups [1-9][0-9]*, SIPI starts 1$" "apic4-$mode: vCPU $i started by SIPI, woken from HLT by IPIs"
			[ $mode = virtualize ] && expect_re "^tidal: summary: vcpu $i: APICv: virtual interrupts [3-9][0-9]*," "apic4-$mode: vCPU $i took its IPIs as virtual interrupts"
		done
		expect_re "^tidal: summary: vcpu 3: .*NMIs 1," "apic4-$mode: the NMI IPI reached vCPU 3"
		expect_re "^tidal: summary: vcpu 1: .*NMIs 1," "apic4-$mode: vCPU 1 parked in cli; hlt without stopping the VM, an NMI woke it"
		# AP 1's IPIs to the BSP spinning with IF=0 (cli_ipis) kick it
		# by NMI, so nothing reaches its guest early (the guest checks).
		expect_re "^tidal: summary: vcpu requests set [0-9]+, IPIs sent [0-9]+ \(NMIs [1-9][0-9]+\)" "apic4-$mode: vCPUs in guest mode were kicked by NMI"
		expect_re "^tidal: summary: vcpu 0: [0-9]+ exits, .* kicks [1-9][0-9]+," "apic4-$mode: vCPU 0 left guest mode for its kicks"
		grep 'guest: apic: .*latency' "$log" | sed 's/^/# /'
	done

	# Every vCPU in cli; hlt: nothing can wake the VM, tidal stops it.
	BOCHS_ARGS="--cpus 2" boot_guest apic-park "$G" "vcpus=2" "cpus=2 park=1"
	expect "guest: apic: every CPU parks now" "apic-park: the guest parked every CPU"
	expect_not "guest: FAIL" "apic-park: no failed check"
	expect_re "^tidal: vm: stopped: every vCPU halted with interrupts disabled or waits for SIPI \(nothing can wake them\)" "apic-park: tidal stopped the dead VM"
	expect_status 1
fi

finish
