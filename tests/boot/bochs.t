#!/usr/bin/env bash
# Boot under Bochs (tigerlake: emulated VMX with EPT).  Bochs's exit
# status is always 1 after the shutdown port; run-bochs judges the log.
. "$(dirname "$0")/lib.sh"

log=$TMP/serial.log
start=$(date +%s)
tools/run-bochs --timeout 180 --log "$log" "$BT/plain.iso"
is $? 0 "Bochs run ends with a successful power off"
echo "# boot took $(( $(date +%s) - start ))s"
common_boot_checks "$log"
has "$log" '^tidal: cpu: GenuineIntel vmx=yes ept=yes vpid=yes ug=yes$' \
	"Bochs tigerlake reports vmx=yes ept=yes"
has "$log" '^tidal: vmx: VMCS revision' "VMX summary printed"
has "$log" '^tidal: ept: 4-level=yes' "EPT summary printed"
has "$log" '^tidal: nothing to run$' "no module: nothing to run"
show_log "$log"
done_testing
