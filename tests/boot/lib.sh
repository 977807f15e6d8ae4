# Shared helpers for the boot tests (sourced by tests/boot/*.t, bash).
# TAP output: ok/not ok lines, a plan at the end, exit 1 on any failure.

cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
BT=$BUILD/boottest
ELF=$BUILD/tidal.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

n=0
failed=0

ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# has FILE REGEX DESCRIPTION: the log matches an extended regex.
# Serial logs end lines with CR LF: compare without the CR.
has() {
	tr -d '\r' < "$1" | grep -Eq -- "$2"
	ok $? "$3"
}

is() { # is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	local r=$?
	ok $r "$3"
	[ $r = 0 ] || echo "#   got '$1', want '$2'"
}

show_log() { # on failure, show the log for the reader
	[ "$failed" = 0 ] || sed 's/^/# /' "$1"
}

done_testing() {
	echo "1..$n"
	[ "$failed" = 0 ]
	exit $?
}

# Checks every successful boot shares.
common_boot_checks() { # LOG
	has "$1" '^tidal: loader: GRUB 2' "loader line names GRUB"
	has "$1" '^tidal: memory: (2[0-9][0-9]|1[0-9][0-9]) MiB usable' \
		"memory line reports the VM's RAM"
	has "$1" '^tidal: cpu: [A-Za-z]+ vmx=(yes|no) ept=(yes|no) vpid=(yes|no) ug=(yes|no)$' \
		"cpu line has the stable format"
	has "$1" '^tidal: power off: status 0 \(success\)' "clean power off"
	! grep -q 'EXCEPTION\|PANIC' "$1"
	ok $? "no exception or panic"
}
