#!/usr/bin/env bash
# test=NAME hooks fault on purpose under QEMU: the report must name the
# exception, error code, RIP, CR2, registers and a backtrace, and
# tools/symbolize must turn the addresses into file:line.
. "$(dirname "$0")/lib.sh"

run() { # NAME -> $TMP/NAME.log (raw) and $TMP/NAME.sym (symbolized)
	tools/run-qemu --timeout 60 --log "$TMP/$1.log" "$BT/$1.iso"
	is $? 1 "test=$1: QEMU exits with the failure status (35)"
	tools/symbolize "$ELF" < "$TMP/$1.log" > "$TMP/$1.sym"
}

report_checks() { # NAME
	local l=$TMP/$1.log
	has "$l" '^  RIP 0x[0-9a-f]{16} CS  0x0008' "$1: RIP and CS"
	has "$l" '^  CR2 0x[0-9a-f]{16} CR3 ' "$1: CR2 and CR3"
	has "$l" '^  RAX .* RBX .* RCX ' "$1: general registers"
	has "$l" '^  R13 0x[0-9a-f]{16} R14 0x[0-9a-f]{16} R15 ' "$1: all of them"
	has "$l" '^  #1 0x[0-9a-f]{16}$' "$1: backtrace has frames"
	has "$l" '^tidal: power off: status 1 \(failure\)' "$1: fails the run"
}

run ud2
has "$TMP/ud2.log" '^tidal: EXCEPTION #UD invalid opcode \(vector 6\) error 0 ' \
	"ud2: vector and error code"
report_checks ud2
has "$TMP/ud2.sym" '^  #0 0x[0-9a-f]{16} tidal_test_hook at boot/main.c:[0-9]+' \
	"ud2: symbolized frame #0 is the hook"
# (addr2line may name a function inlined into tidal_main first: "a <- tidal_main")
has "$TMP/ud2.sym" '^  #1 0x[0-9a-f]{16} (.* <- )?tidal_main at boot/main.c:[0-9]+' \
	"ud2: symbolized frame #1 is in tidal_main"
has "$TMP/ud2.sym" 'RIP 0x.*\[tidal_test_hook at boot/main.c' \
	"ud2: RIP symbolized"

run pf
has "$TMP/pf.log" '^tidal: EXCEPTION #PF page fault \(vector 14\) error 0x2 ' \
	"pf: not-present write"
has "$TMP/pf.log" '^  CR2 0x0000000000000018 ' "pf: CR2 is the faulting address"
report_checks pf
has "$TMP/pf.sym" 'fault_at at boot/main.c:[0-9]+ <- tidal_test_hook at boot/main.c' \
	"pf: symbolizer shows the inlined chain"

run wp
has "$TMP/wp.log" '^tidal: EXCEPTION #PF .* error 0x3 ' \
	"wp: writing to text is a protection fault (text read-only)"

run nx
has "$TMP/nx.log" '^tidal: EXCEPTION #PF .* error 0x11 ' \
	"nx: executing data is an instruction-fetch fault (NX)"

run df
has "$TMP/df.log" '^tidal: EXCEPTION #DF double fault \(vector 8\) error 0 ' \
	"df: a fault on a broken stack ends as #DF, reported from its IST stack"
has "$TMP/df.log" '^  RSP 0x0000000000001000 ' "df: the broken stack pointer is shown"
has "$TMP/df.log" '^  CR2 0x0000000000000ff8 ' "df: CR2 is the failed push below it"

run stack
has "$TMP/stack.log" '^tidal: EXCEPTION #DF double fault \(vector 8\)' \
	"stack: overflowing the boot stack hits the guard page and ends as #DF"
guard=$(nm "$ELF" | sed -n 's/^\([0-9a-f]*\) . boot_stack_guard$/\1/p')
has "$TMP/stack.log" "^  CR2 0x${guard:0:13}" "stack: CR2 is inside the guard page"
has "$TMP/stack.sym" '^  #0 0x[0-9a-f]{16} recurse at boot/main.c' \
	"stack: the report points at the recursing function"

run panic
has "$TMP/panic.log" '^tidal: PANIC on cpu 0 at boot/main.c:[0-9]+: test hook asked for a panic' \
	"panic: message with file and line"
has "$TMP/panic.sym" 'tidal_main at boot/main.c' "panic: backtrace symbolized"

[ "$failed" = 0 ] || for f in "$TMP"/*.sym; do show_log "$f"; done
done_testing
