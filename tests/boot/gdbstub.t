#!/usr/bin/env bash
# tidal's own gdb stub (arch/x86/gdbstub.c) under Bochs: COM2 is a TCP
# server, tidal boots with "break" and a 64-bit guest, and a gdb batch
# session breaks on vm_run, steps, reads registers and memory, watches a
# VM counter, lists the CPUs as threads, switches to the guest, steps it
# three instructions, breaks on its next VMCALL with an int3 in guest
# memory, reads its memory by virtual and physical address,
# and lets the run finish.  A second boot, two CPUs and a guest on two
# vCPUs (tests/guests/gdbsmp.c), checks the threads of both views: the
# CPUs in the host view, the vCPUs in the guest view with their own
# registers and memory, a guest breakpoint hit by vCPU 1 and a step of it.
. "$(dirname "$0")/lib.sh"

GUEST_ELF=$BUILD/guests/hello64.elf
ISO=$TMP/gdbstub.iso
LOGDIR=$BUILD/boot-tests
mkdir -p "$LOGDIR"
tools/mkiso -o "$ISO" -k "$ELF" -a "break" -g "$GUEST_ELF" -A "" \
	>"$TMP/mkiso.log" 2>&1
ok $? "ISO with break and hello64 built"

# session NAME [run-bochs options] -- gdb -ex arguments...
session() {
	local name=$1 port=$((20000 + ($$ + RANDOM) % 20000)) opts=()
	shift
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	tools/run-bochs "${opts[@]}" --com2 "$port" --timeout 240 \
		--log "$LOGDIR/gdbstub-$name.log" "${SESSION_ISO:-$ISO}" \
		>/dev/null 2>"$LOGDIR/gdbstub-$name.stderr" &
	local bochs=$!
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$port " && break
		sleep 0.1
	done
	timeout 220 gdb -batch -nx -x tools/gdb/tidal.gdb \
		-ex "source tools/gdb/tidal_vmm.py" -ex "set remotetimeout 60" \
		-ex "target remote 127.0.0.1:$port" "$@" "$ELF" \
		>"$LOGDIR/gdbstub-$name.gdb" 2>&1
	wait $bochs
	echo "# $name: Bochs exit $?, logs $LOGDIR/gdbstub-$name.*"
}

# moved OUT A B WHAT: the hex value after "A 0x" and after "B 0x" differ.
moved() {
	local a b
	a=$(tr -d '\r' <"$1" | sed -n "s/^$2 0x\([0-9a-f]*\).*/\1/p")
	b=$(tr -d '\r' <"$1" | sed -n "s/^$3 0x\([0-9a-f]*\).*/\1/p")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
	ok $? "$4 ($a -> $b)"
}

# Guest breakpoints go on every VMCALL in the guest: it makes three.
sites=$(objdump -d "$GUEST_ELF" | sed -n 's/^ *\([0-9a-f]*\):.*vmcall.*/\1/p')
site_bps=()
for a in $sites; do site_bps+=(-ex "break *0x$a"); done

session main -- \
	-ex "bt" \
	-ex "info registers rip cs cr0 cr3 efer fs_base" \
	-ex "break vm_run" -ex "continue" \
	-ex "next" \
	-ex 'printf "mem_bytes %#lx\n", vm->mem_bytes' \
	-ex "x/xg 0" \
	-ex "maint packet m0,8" \
	-ex "maint packet mffffffffffffffff,ffffffff" \
	-ex "info threads" \
	-ex "tidal-vms" \
	-ex "watch -l vm->vcpus[0].stats.vmcall" -ex "continue" \
	-ex "delete" \
	-ex "monitor guest" -ex "maint flush register-cache" \
	-ex 'printf "guest-rip %#lx cr3 %#lx\n", $pc, $cr3' \
	-ex "stepi" -ex "stepi" -ex "stepi" \
	-ex 'printf "guest-rip-after %#lx\n", $pc' \
	"${site_bps[@]}" -ex "continue" \
	-ex 'printf "guest-bp %#lx\n", $pc' -ex "delete" \
	-ex "x/2xg 0x100000" \
	-ex "monitor gpa" -ex "x/2xg 0x100000" \
	-ex "monitor gva" \
	-ex "monitor host" -ex "maint flush register-cache" \
	-ex "continue"
out=$LOGDIR/gdbstub-main.gdb
log=$LOGDIR/gdbstub-main.log
has "$out" '^#[0-9]+ .*gdbstub_init \(cmdline=.*"break"\)' \
	"break: tidal waited for gdb in gdbstub_init"
has "$out" '^#[0-9]+ .*tidal_main \(' "backtrace reaches tidal_main"
has "$out" '^cs +0x8 ' "segment register read"
has "$out" '^cr3 +0x[0-9a-f]+' "control register cr3 shown (target XML)"
has "$out" '^efer +0x[0-9a-f]*[5d][0-9a-f]{2} ' "EFER read with LME/LMA"
has "$out" '^Breakpoint 1, vm_run \(vm=' "software breakpoint on vm_run hit"
has "$out" '^[0-9]+[[:space:]]+start_aps\(vm\);' \
	"next stepped one line"
has "$out" '^mem_bytes 0x4000000$' "VM memory read: 64 MiB"
has "$out" 'Cannot access memory at address 0x0' "unmapped address refused"
has "$out" 'received: "E0e"' "unmapped read gets an E reply"
has "$out" 'received: "E[0-9a-f]{2}"' "huge length at the top of memory gets an E reply"
has "$out" '^\* 1 +Thread 1 "cpu0"' "threads: CPU 0 listed"
has "$out" '^VM 0x[0-9a-f]+ <the_vm>: running' "tidal-vms works over the stub"
has "$out" '^Hardware watchpoint 2: -location vm->vcpus\[0\].stats.vmcall' "watchpoint set"
has "$out" '^Old value = 0$' "watchpoint fired: old value"
has "$out" '^New value = 1$' "watchpoint fired: new value"
has "$out" '^guest view: registers from the VMCS' "monitor guest switched"
has "$out" '^guest-rip 0x100[0-9a-f]{3} cr3 0x[0-9a-f]+$' "guest RIP and CR3 from the VMCS"
steps=$(tr -d '\r' <"$out" | grep -cE '^0x0000000000100[0-9a-f]{3} in \?\? \(\)$')
is "$steps" 3 "guest single-stepped three instructions"
moved "$out" guest-rip guest-rip-after "guest RIP moved"
has "$out" '^Breakpoint [0-9]+, 0x0000000000100[0-9a-f]{3} in \?\? \(\)' \
	"guest breakpoint (int3 in guest memory) hit"
bp=$(sed -n 's/^guest-bp 0x//p' "$out")
[ -n "$bp" ] && echo "$sites" | grep -qx "$bp"
ok $? "guest stopped on a VMCALL it was asked to (at $bp)"
gva=$(grep -m1 -A0 '^0x100000:' "$out")
gpa=$(grep '^0x100000:' "$out" | sed -n 2p)
[ -n "$gva" ] && [ "$gva" = "$gpa" ] && ! echo "$gva" | grep -q 'Cannot'
ok $? "guest memory at 0x100000 by GVA and by GPA agree: ${gva#0x100000:}"
has "$out" '^host view' "monitor host switched back"
has "$out" '^\[Inferior 1 \(Remote target\) exited normally\]' \
	"gdb told of a clean exit (W00)"
has "$log" '^tidal: gdb: stub on com2' "tidal reports its stub"
has "$log" '^tidal: power off: status 0' "tidal powered off with success"
[ "$failed" = 0 ] || show_log "$out"

# Two CPUs, a guest on two vCPUs: vCPU 1 spins in gdbsmp_spin_loop with
# r12 = 1 and CR2 = 0xc2001; tidal stops when vCPU 0 makes its VERSION hypercall.
SMP_ELF=$BUILD/guests/gdbsmp.elf
SMP_ISO=$TMP/gdbstub-smp.iso
tools/mkiso -o "$SMP_ISO" -k "$ELF" -a "break vcpus=2" -g "$SMP_ELF" -A "" \
	>"$TMP/mkiso-smp.log" 2>&1
ok $? "ISO with break, vcpus=2 and gdbsmp built"
sym() { nm "$SMP_ELF" | sed -n "s/^0*\([0-9a-f]*\) [A-Za-z] $1\$/\1/p"; }
loop=$(sym gdbsmp_spin_loop)
mark=$(sym gdbsmp_mark)
mark1=$(printf '%x' $((0x$mark + 8)))
SESSION_ISO=$SMP_ISO session smp --cpus 2 -- \
	-ex "break handle_vmcall if v->regs.rax == 0" -ex "continue" \
	-ex "delete" -ex "info threads" \
	-ex "monitor guest" -ex "maint flush register-cache" \
	-ex "info threads" \
	-ex "thread 2" \
	-ex 'printf "v1 rip %#lx r12 %#lx\n", $pc, $r12' \
	-ex 'printf "v1 cr2 %#lx\n", $cr2' \
	-ex "x/xg 0x$mark1" \
	-ex "thread 1" -ex 'printf "v0 rip %#lx\n", $pc' \
	-ex "break *0x$loop" -ex "continue" \
	-ex 'printf "bp thread %d rip %#lx\n", $_thread, $pc' \
	-ex "delete" -ex "stepi" \
	-ex 'printf "step thread %d rip %#lx\n", $_thread, $pc' \
	-ex "thread 1" -ex 'printf "v0 before %#lx\n", $pc' -ex "stepi" \
	-ex 'printf "step0 thread %d rip %#lx\n", $_thread, $pc' \
	-ex "monitor host" -ex "maint flush register-cache" \
	-ex "info threads" -ex "continue"
out=$LOGDIR/gdbstub-smp.gdb
has "$out" '^\* 1 +Thread 1 "cpu0"' "2 CPUs: host view lists CPU 0"
has "$out" '^  2 +Thread 2 "cpu1"' "2 CPUs: the second CPU is a thread"
has "$out" '^guest view: .*2 vCPU\(s\) as threads 1-2' \
	"guest view: two vCPUs announced"
has "$out" '^\* 1 +Thread 1 "vCPU 0 \(CPU 0\)" +0x' \
	"guest view: vCPU 0 is thread 1, with its own PC"
has "$out" '^  2 +Thread 2 "vCPU 1 \(CPU 1\)" +0x0*'"$loop"'|^  2 +Thread 2 "vCPU 1 \(CPU 1\)" +0x0*'"$(printf %x $((0x$loop + 2)))" \
	"guest view: vCPU 1 is thread 2, in its spin loop"
v1=$(sed -n 's/^v1 rip 0x\([0-9a-f]*\) r12 .*/\1/p' "$out")
r12=$(sed -n 's/^v1 rip .* r12 \(0x[0-9a-f]*\)$/\1/p' "$out")
v0=$(sed -n 's/^v0 rip 0x\([0-9a-f]*\)$/\1/p' "$out")
[ -n "$v1" ] && [ $((0x$v1 - 0x$loop)) -ge 0 ] && [ $((0x$v1 - 0x$loop)) -le 2 ]
ok $? "thread 2: vCPU 1's RIP $v1 is in gdbsmp_spin_loop ($loop)"
is "$r12" 0x1 "thread 2: vCPU 1's r12 (its index, from its saved registers)"
[ -n "$v0" ] && [ "$v0" != "$v1" ]
ok $? "thread 1: vCPU 0's RIP differs ($v0)"
has "$out" '^v1 cr2 0xc2001$' "guest CR2 of vCPU 1 shown (the value it set)"
has "$out" "^0x0*$mark1( <[^>]*>)?:[[:space:]]+0x0*5eed0001\$" \
	"memory read through vCPU 1's paging: its mark"
has "$out" '^Thread 2 "vCPU 1 \(CPU 1\)" hit Breakpoint [0-9]+, 0x0*'"$loop"' in' \
	"guest breakpoint hit by vCPU 1: the stop names thread 2"
has "$out" "^bp thread 2 rip 0x0*$loop\$" "after the breakpoint: thread 2 at the int3"
has "$out" "^step thread 2 rip 0x0*$(printf %x $((0x$loop + 2)))\$" \
	"stepi stepped vCPU 1 over its pause"
moved "$out" "v0 before" "step0 thread 1 rip" \
	"stepi on thread 1 from CPU 1 stepped vCPU 0"
has "$out" '^\[Inferior 1 \(Remote target\) exited normally\]' \
	"2 vCPUs: gdb told of a clean exit"
has "$LOGDIR/gdbstub-smp.log" '^tidal: vm: 2 vCPUs on CPUs 0-1' \
	"2 vCPUs: the VM ran on two CPUs"
has "$LOGDIR/gdbstub-smp.log" '^tidal: power off: status 0' \
	"2 CPUs: clean power-off"
[ "$failed" = 0 ] || show_log "$out"
done_testing
