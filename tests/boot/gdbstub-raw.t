#!/usr/bin/env bash
# tidal's gdb stub against input gdb never sends (tests/boot/gdbstub_raw.py):
# bad checksums, an over-long packet, malformed and unmapped requests all
# get a NAK or an E reply and tidal keeps answering; then Ctrl-C stops a
# spinning guest and k powers tidal off.
. "$(dirname "$0")/lib.sh"

LOGDIR=$BUILD/boot-tests
mkdir -p "$LOGDIR"
ISO=$TMP/raw.iso
tools/mkiso -o "$ISO" -k "$ELF" -a "break timeout=60s" \
	-g "$BUILD/guests/spin.elf" -A "" >"$TMP/mkiso.log" 2>&1
ok $? "ISO with break and the spin guest built"
port=$((20000 + ($$ + RANDOM) % 20000))
log=$LOGDIR/gdbstub-raw.log
tools/run-bochs --com2 "$port" --timeout 240 --log "$log" "$ISO" \
	>/dev/null 2>"$LOGDIR/gdbstub-raw.stderr" &
bochs=$!
timeout 200 python3 tests/boot/gdbstub_raw.py "$port" >"$TMP/raw.tap"
rc=$?
wait $bochs
# Renumber the client's TAP lines after ours.
while read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok * - }" ;;
	"not ok "*) ok 1 "${line#not ok * - }" ;;
	esac
done <"$TMP/raw.tap"
ok $rc "the raw client finished"
has "$log" '^tidal: gdb: killed by gdb' "k: tidal says gdb ended it"
has "$log" '^tidal: power off: status 1' "k: tidal powered off"
! grep -q 'EXCEPTION' "$log"
ok $? "no exception in tidal"
[ "$failed" = 0 ] || show_log "$log"
done_testing
