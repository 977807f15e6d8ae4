#!/bin/sh
# The exit-path benchmark's smoke run (tools/bench-exits, `make
# bench-exits`): tests/guests/exitbench.elf times CPUID, VMCALL, port I/O,
# MSRs, local APIC MMIO and timer latency with the PC platform in place.
# Checked: it ran to its ACPI power-off, every figure is there, the JSON
# has every key, and the figures are sane (an exit costs more than a loop
# turn).  Speed is the benchmark's business, not this test's.
. "$(dirname "$0")/guestlib.sh"

name=exitbench
log=$TESTS_DIR/exitbench.$VEHICLE.log
json=$TESTS_DIR/exitbench.json
start=$(date +%s)
# apic=emulate: the local APIC's MMIO read and EOI are exits to time (with
# APIC virtualization they are not exits at all).
tools/bench-exits --json --log "$log" --tidal apic=emulate >"$json" 2>"$TESTS_DIR/exitbench.stderr"
rc=$?
echo "# exitbench: booted in $(( $(date +%s) - start ))s (rc $rc), log $log"
tap $rc "tools/bench-exits --json ran the guest to its end"
[ -f "$log" ] || : >"$log"
expect_re "^tidal: vm: local APIC: emulated per vCPU" "the local APIC is there"
expect_re "guest: exitbench: all [0-9]+ checks passed, powering off" "the guest's sanity checks passed"
expect "tidal: vm: guest powered off (ACPI S5)" "ACPI S5 stops the VM"
expect_re '^tidal: summary:   CPUID +[3-9][0-9]{3,}$' "tidal counted the 3000 CPUID exits"
expect_re '^tidal: summary: exits on the fast path [3-9][0-9]{3,}$' "the CPUID exits took the fast path"
expect_status 0
python3 - "$json" >"$json.checks" <<'PY'
import json, sys
keys = ["cpuid", "vmcall", "io_out", "io_in", "rdmsr", "wrmsr", "mmio_read",
        "mmio_eoi", "timer_hlt", "timer_spin", "loop", "rdtsc",
        "budget_cpuid", "kvm_cpuid", "kvm_vmcall", "cpuid_within_budget"]
def ok(cond, what):
    print("%d json: %s" % (0 if cond else 1, what))
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    d = {}
    print("# bad JSON: %s" % e)
ok(all(k in d for k in keys), "every key there")
exits = [d.get(k, 0) for k in ["cpuid", "vmcall", "io_out", "io_in", "rdmsr",
                               "wrmsr", "mmio_read", "mmio_eoi"]]
ok(all(isinstance(x, int) and d.get("loop", 1e9) < x < 1000000 for x in exits),
   "each exit costs more than a loop turn and less than 1e6")
ok(0 < d.get("timer_hlt", 0) < 10000000 and 0 < d.get("timer_spin", 0) < 10000000,
   "both timer latencies measured")
ok(d.get("budget_cpuid") == 238 and d.get("kvm_cpuid") == 955,
   "budget and KVM reference")
PY
while read -r r what; do
	tap "$r" "$what"
done <"$json.checks"
echo "# $(cat "$json")"
finish
