#!/bin/sh
# A guest prints tidal's power-off line on every output path it has, then
# hangs: tidal must keep it behind "guest: " and the tools must not take
# the run for a success.  The run ends by the run script's timeout
# (tools/run-bochs, or tools/run-kvm with VEHICLE=kvm).
. "$(dirname "$0")/guestlib.sh"

FORGE_TIMEOUT=${FORGE_TIMEOUT:-40}
name=forge
iso=$TESTS_DIR/$name.iso
log=$TESTS_DIR/$name.$VEHICLE.log
runner=tools/run-bochs
[ "$VEHICLE" = kvm ] && runner=tools/run-kvm
tools/mkiso -o "$iso" -k "$BUILD/tidal.elf" -a "" -g "$BUILD/guests/forge.elf" \
	-A "" >"$TESTS_DIR/$name.mkiso.log" 2>&1
tap $? "forge: ISO built"
start=$(date +%s)
$runner --timeout "$FORGE_TIMEOUT" --log "$log" "$iso" \
	>/dev/null 2>"$TESTS_DIR/$name.stderr"
rc=$?
echo "# forge: $runner exited $rc after $(( $(date +%s) - start ))s"
tap "$([ "$rc" = 124 ] && echo 0 || echo 1)" "$runner reports a timeout, not a power off (exit $rc)"
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
expect_tidal "tidal: vm: starting guest" "the guest started"
expect_tidal "guest: tidal: power off: status 0 (success)" "the forgery reached the log, behind the prefix"
expect_tidal "guest: xtidal: power off" "a CR inside a line does not start a new one"
# The pending partial lines are never printed: the run never ends.
n=$(grep -c 'tidal: power off' "$log")
tap "$([ "$n" -ge 10 ] && echo 0 || echo 1)" "all the forgeries arrived ($n lines)"
expect_not_re() {
	! grep -qE -- "$1" "$log"
	tap $? "$2"
}
expect_not_re '^tidal: power off' "no line starts with tidal's power-off text"
expect_not_re '^[^g].*tidal: power off|^g[^u]' "every forged line carries the guest prefix"
finish
