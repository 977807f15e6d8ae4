#!/usr/bin/env bash
# Machines tidal must refuse with a clear message and a halt: a CPU without
# long mode, a multiboot (version 1) loader, too little memory.
. "$(dirname "$0")/lib.sh"

halts() { # DESC REGEX LOG run-qemu-args...
	local desc=$1 re=$2 log=$3
	shift 3
	tools/run-qemu --timeout 40 --log "$log" --until "$re" "$@"
	is $? 3 "$desc: message printed, then tidal halts (no power off)"
	has "$log" "$re" "$desc: clear message"
	! grep -q 'power off' "$log"
	ok $? "$desc: nothing after the message"
}

halts "qemu32 CPU" 'tidal: this CPU has no 64-bit long mode; tidal needs an x86-64 CPU\. Halting\.' \
	"$TMP/lm.log" --cpu qemu32 "$BT/plain.iso"
halts "multiboot1 loader" "tidal: not started by a multiboot2 boot loader \(boot magic 0x2badb002, want 0x36d76289\).*Halting\." \
	"$TMP/mb1.log" "$BT/mb1.iso"
halts "12 MiB of RAM" 'tidal: not enough memory: .*tidal needs at least 16 MiB\. Halting\.' \
	"$TMP/mem.log" --mem 12 "$BT/plain.iso"
[ "$failed" = 0 ] || for f in "$TMP"/*.log; do show_log "$f"; done
done_testing
