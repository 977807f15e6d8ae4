#!/usr/bin/env bash
# SMP bring-up (docs/boot.md): Bochs with 1, 2 and 4 CPUs runs the demo
# guest with "selftest" (every AP takes work, reports its APIC ID and
# VMXON, answers a membarrier round by NMI; with 2 CPUs also membarriers
# while the guest runs); cpus=2 on a 4-CPU Bochs
# starts one AP only; a bad cpus= value is refused; QEMU TCG with 4 CPUs
# brings every CPU up, then refuses to run guests (no VMX); without ACPI
# tidal says so and runs on the boot CPU alone.  A CPU whose
# VMX capabilities differ from the boot CPU's is refused by name.
. "$(dirname "$0")/lib.sh"

DEMO=$BUILD/guests/demo.elf
OUT=$BUILD/boot-tests
mkdir -p "$OUT"

iso() { # iso NAME "TIDAL ARGS" [GUEST]
	if [ -n "${3:-}" ]; then
		tools/mkiso -o "$OUT/smp-$1.iso" -k "$ELF" -a "$2" -g "$3" -A "" \
			>/dev/null 2>&1
	else
		tools/mkiso -o "$OUT/smp-$1.iso" -k "$ELF" -a "$2" >/dev/null 2>&1
	fi
	ok $? "ISO smp-$1 built"
}

bochs() { # bochs NAME CPUS: boot smp-NAME.iso, log in $OUT/smp-NAME.log
	local start=$(date +%s) rc
	tools/run-bochs --cpus "$2" --mem 128 --timeout 240 \
		--log "$OUT/smp-$1.log" "$OUT/smp-$1.iso" >/dev/null 2>&1
	rc=$?
	echo "# smp-$1: Bochs with $2 CPUs took $(( $(date +%s) - start ))s"
	return $rc
}

# Bochs with N CPUs: all online, the APs pass the self-test, the guest runs.
bochs_guest() { # N [EXTRA TIDAL ARGS]
	local c=$1 log=$OUT/smp-bochs$1.log ids
	ids=$(seq -s ' ' 0 $(($1 - 1)))
	iso "bochs$c" "selftest ${2:-}" "$DEMO"
	bochs "bochs$c" "$c"
	is $? 0 "Bochs $c CPUs: clean power off"
	has "$log" "^tidal: cpus: $c online \\(APIC IDs $ids\\)\$" \
		"Bochs $c CPUs: all $c online, APIC IDs listed"
	has "$log" '^tidal: ebr: fence-free read side \(membarrier by NMI\)$' \
		"Bochs $c CPUs: EBR mode line"
	has "$log" '^tidal: selftest: [0-9]+ passed, 0 failed$' \
		"Bochs $c CPUs: self-tests pass"
	for cpu in $(seq 1 $((c - 1))); do
		has "$log" "^tidal: selftest: cpu $cpu: APIC ID $cpu, VMXON done\$" \
			"Bochs $c CPUs: AP $cpu ran work and is in VMX operation"
	done
	is "$(tr -d '\r' < "$log" | grep -c '^tidal: vmx: VMX on for CPU')" "$c" \
		"Bochs $c CPUs: VMXON on every CPU"
	has "$log" '^tidal: vm: guest exited with status 0' \
		"Bochs $c CPUs: the demo guest runs to the end"
	has "$log" '^tidal: power off: status 0 \(success\)' \
		"Bochs $c CPUs: power off line"
	! tr -d '\r' < "$log" | grep -q '^tidal: .*\(EXCEPTION\|PANIC\|FAILED\)'
	ok $? "Bochs $c CPUs: no exception, panic or failed self-test"
	show_log "$log"
}

bochs_guest 1
# With 2 CPUs, CPU 1 also runs membarrier rounds while the guest runs on
# CPU 0, so some NMIs reach it in guest mode (NMI exits, serviced with
# smp_nmi_vmexit()); Bochs is deterministic, so the counts are stable.
bochs_guest 2 "test=smp-mb-guest"
log=$OUT/smp-bochs2.log
has "$log" '^tidal: smp: [1-9][0-9]* membarrier rounds from CPU 1 while the guest ran$' \
	"membarrier rounds from CPU 1 completed while the guest ran"
has "$log" '^tidal: summary:   exception or NMI +[1-9]' \
	"some of them reached CPU 0 in guest mode as NMI exits"
bochs_guest 4

# cpus=2 on a 4-CPU machine: one AP started, no guest needed.
iso limit "cpus=2"
bochs limit 4
is $? 0 "cpus=2 on 4 CPUs: clean power off"
has "$OUT/smp-limit.log" '^tidal: cpus: 2 online \(APIC IDs 0 1\)$' \
	"cpus=2 on 4 CPUs: two online"
is "$(tr -d '\r' < "$OUT/smp-limit.log" | grep -c '^tidal: vmx: VMX on for CPU')" 2 \
	"cpus=2 on 4 CPUs: VMXON on two CPUs only"

# A CPU whose VMX capabilities differ is refused by name and left offline;
# CPU numbers stay dense (test=smp-refuse hides 1 GiB EPT pages from the
# second AP's check).
log=$OUT/smp-refuse.log
iso refuse "test=smp-refuse"
bochs refuse 4
is $? 0 "refused AP: clean power off"
has "$log" '^tidal: cpus: CPU with APIC ID 2 refused: its VMX capabilities differ from the boot CPU.s \(ept_1g\); left offline$' \
	"refused AP: one line naming the capability"
has "$log" '^tidal: cpus: 3 online \(APIC IDs 0 1 3\)$' \
	"refused AP: the others online, numbered densely"
has "$log" '^tidal: vmx: VMX on for CPU 2$' "refused AP: the next AP is CPU 2"
is "$(tr -d '\r' < "$log" | grep -c '^tidal: vmx: VMX on for CPU')" 3 \
	"refused AP: VMXON on three CPUs"

# QEMU TCG: no VMX, but every CPU comes up first; then bad cpus= values.
log=$OUT/smp-qemu4.log
iso qemu4 "selftest"
tools/run-qemu --smp 4 --timeout 60 --log "$log" "$OUT/smp-qemu4.iso" >/dev/null 2>&1
is $? 0 "QEMU -smp 4: clean power off"
has "$log" '^tidal: cpus: 4 online \(APIC IDs 0 1 2 3\)$' "QEMU -smp 4: 4 online"
has "$log" '^tidal: selftest: cpu 3: APIC ID 3, VMXON not done$' \
	"QEMU -smp 4: AP 3 ran work (no VMX here)"
has "$log" '^tidal: selftest: [0-9]+ passed, 0 failed$' "QEMU -smp 4: self-tests pass"
has "$log" '^tidal: VMX is not available on this CPU' "QEMU -smp 4: the usual refusal"

# No ACPI at all (so no MADT): one line, the boot CPU alone.
log=$OUT/smp-noacpi.log
tools/run-qemu --smp 2 --timeout 60 --log "$log" "$OUT/smp-qemu4.iso" -- -no-acpi >/dev/null 2>&1
is $? 0 "no MADT: clean power off"
has "$log" '^tidal: cpus: no ACPI MADT: using the boot CPU only$' "no MADT: one clear line"
has "$log" '^tidal: cpus: 1 online \(APIC IDs 0\)$' "no MADT: the boot CPU alone"
has "$log" '^tidal: selftest: [0-9]+ passed, 0 failed$' "no MADT: self-tests pass"

for bad in 0 abc 65 -1 2x; do
	log=$OUT/smp-bad.log
	iso bad "cpus=$bad"
	tools/run-qemu --smp 2 --timeout 60 --log "$log" "$OUT/smp-bad.iso" >/dev/null 2>&1
	is $? 1 "cpus=$bad: refused with status 1"
	has "$log" "^tidal: cpus=$bad: want a number of CPUs from 1 to 64\$" \
		"cpus=$bad: one clear line"
	! tr -d '\r' < "$log" | grep -q '^tidal: cpus: [0-9]* online'
	ok $? "cpus=$bad: no CPU started"
done

done_testing
