# Shared by the guest boot tests (tests/boot/guest-*.t): boot tidal with
# one guest module under Bochs (or QEMU+KVM) and check its serial log.
#
#   . tests/boot/guestlib.sh
#   boot_guest NAME GUEST_ELF "TIDAL ARGS" "GUEST ARGS" [MKISO ARGS...]
#     (extra tools/mkiso arguments, e.g. -m FILE:ARGS for modules)
#   expect "text that must be in the log" "description"
#     (anywhere in a line: for guest text; a verdict on tidal's side
#     uses expect_re '^tidal: ...', which a guest cannot forge)
#   expect_tidal "tidal: ..."              "description" (line start)
#   expect_not "text that must not be"   "description"
#   expect_re  'extended regex'          "description"
#   expect_status N
#   finish
#
# VEHICLE=kvm boots with tools/run-kvm instead of tools/run-bochs.
# BOCHS_ARGS adds options for tools/run-bochs (e.g. "--cpus 4");
# BOOT_TIMEOUT is its time limit in seconds (default 300).
# Logs and ISOs are kept in build/boot-tests/ for a look after a failure.

set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
VEHICLE=${VEHICLE:-bochs}
TESTS_DIR=$BUILD/boot-tests
mkdir -p "$TESTS_DIR"
tap_n=0
tap_failed=0
log=
run_rc=

tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

boot_guest() {
	name=$1 elf=$2 targs=$3 gargs=$4
	shift 4
	iso=$TESTS_DIR/$name.iso
	log=$TESTS_DIR/$name.$VEHICLE.log
	if ! tools/mkiso -o "$iso" -k "$BUILD/tidal.elf" -a "$targs" \
		-g "$elf" -A "$gargs" "$@" >"$TESTS_DIR/$name.mkiso.log" 2>&1; then
		tap 1 "$name: ISO built"
		sed 's/^/# /' "$TESTS_DIR/$name.mkiso.log"
		: > "$log"
		return
	fi
	start=$(date +%s)
	if [ "$VEHICLE" = kvm ]; then
		tools/run-kvm --timeout 120 --log "$log" "$iso" >/dev/null 2>&1
	else
		# shellcheck disable=SC2086
		tools/run-bochs ${BOCHS_ARGS:-} --timeout "${BOOT_TIMEOUT:-300}" --log "$log" "$iso" \
			>/dev/null 2>"$TESTS_DIR/$name.stderr"
	fi
	run_rc=$?
	# Judge lines, not bytes: drop the CRs of the CR LF line ends.
	if [ -f "$log" ]; then
		tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
	fi
	echo "# $name: booted under $VEHICLE in $(( $(date +%s) - start ))s (rc $run_rc), log $log"
	tap "$([ -s "$log" ] && echo 0 || echo 1)" "$name: serial log captured"
}

expect() {
	grep -qF -- "$1" "$log"
	r=$?
	tap $r "$2"
	[ $r = 0 ] || echo "#   missing: $1"
}

# A line of tidal's own that starts with this fixed text.
expect_tidal() {
	awk -v s="$1" 'index($0, s) == 1 { found = 1 } END { exit !found }' "$log"
	r=$?
	tap $r "$2"
	[ $r = 0 ] || echo "#   no line starts with: $1"
}

expect_not() {
	! grep -qF -- "$1" "$log"
	r=$?
	tap $r "$2"
	[ $r = 0 ] || echo "#   unexpected: $(grep -F -- "$1" "$log" | head -1)"
}

expect_re() {
	grep -qE -- "$1" "$log"
	r=$?
	tap $r "$2"
	[ $r = 0 ] || echo "#   no line matches: $1"
}

# tidal's power-off line carries the status the run ended with; only a
# line that starts with it counts (guest text is always behind "guest: ").
expect_status() {
	expect_re "^tidal: power off: status $1 " "$name: tidal powers off with status $1"
}

finish() {
	if [ "$tap_failed" != 0 ] && [ -n "$log" ] && [ -f "$log" ]; then
		echo "# last lines of $log:"
		tail -n 25 "$log" | sed 's/^/#   /'
	fi
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
}
