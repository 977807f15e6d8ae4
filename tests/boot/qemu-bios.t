#!/usr/bin/env bash
# Boot under QEMU TCG + SeaBIOS, with a module and loglevel=debug.
. "$(dirname "$0")/lib.sh"

log=$TMP/serial.log
start=$(date +%s)
tools/run-qemu --timeout 60 --log "$log" "$BT/module.iso"
is $? 0 "QEMU exits through isa-debug-exit with success (33)"
echo "# boot took $(( $(date +%s) - start ))s"
common_boot_checks "$log"
size=$(stat -c %s "$BT/dummy.elf")
has "$log" "^tidal: module: dummy one two $size bytes\$" \
	"module line with command line and size"
has "$log" '^tidal: cmdline: loglevel=debug selftest$' "command line reported"
has "$log" '^tidal: selftest: [0-9]+ passed, 0 failed' "in-hypervisor self-tests pass"
has "$log" '^tidal: selftest: ok - heap: objects do not overlap' \
	"self-tests did run (debug lines)"
has "$log" '^tidal: mmap: ' "loglevel=debug shows debug lines"
has "$log" '^tidal: paging: direct map .* NX on' "paging set up with NX"
has "$log" 'vmx=no' "QEMU TCG has no VMX"
has "$log" '^tidal: VMX is not available on this CPU.*not an error' \
	"one clear line about VMX missing"

# Without isa-debug-exit tidal must power off through ACPI (QEMU then
# quits by itself); a halt instead would hit the timeout.
alog=$TMP/acpi.log
tools/run-qemu --no-exit-device --timeout 60 --log "$alog" "$BT/plain.iso"
is $? 0 "without isa-debug-exit, ACPI S5 powers the VM off"
has "$alog" '^tidal: power off: status 0' "... after the power-off line"
! grep -q 'could not power off' "$alog"
ok $? "... and not by halting"
show_log "$log"
done_testing
