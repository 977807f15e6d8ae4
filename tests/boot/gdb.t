#!/usr/bin/env bash
# gdb in batch mode against QEMU's stub: break on tidal_main across the
# 32->64-bit switch, check the backtrace, read globals, let boot finish.
. "$(dirname "$0")/lib.sh"

port=$((20000 + $$ % 20000))
log=$TMP/serial.log
tools/run-qemu --gdb "$port" --timeout 90 --log "$log" "$BT/plain.iso" &
qemu=$!
sleep 0.5
timeout 80 gdb -batch -nx -x tools/gdb/tidal.gdb \
	-ex "target remote 127.0.0.1:$port" \
	-ex "hbreak tidal_main" \
	-ex "continue" \
	-ex "bt" \
	-ex "print/x (unsigned int)boot_magic" \
	-ex "print tidal_boot_stage" \
	-ex "tbreak tsc_init" \
	-ex "continue" \
	-ex "print tidal_boot_stage" \
	-ex "print boot_info.loader_name" \
	-ex "continue" \
	"$ELF" > "$TMP/gdb.out" 2>&1
# gdb's own status is 1 here: the last "continue" ends with QEMU closing
# the connection when tidal powers off.  The output is what is checked.
wait $qemu
is $? 0 "the boot finished with success after gdb let it go"
out=$TMP/gdb.out
has "$out" '^Remote connection closed' "gdb saw the run end"
has "$out" '^Breakpoint 1, tidal_main \(magic=920085129, mbi_phys=[0-9]+\) at boot/main.c' \
	"stopped at tidal_main in long mode with its arguments"
has "$out" '^#0  tidal_main \(' "backtrace frame #0 is tidal_main"
has "$out" '^#1  0x[0-9a-f]+ in _start \(\) at boot/entry.S' \
	"backtrace frame #1 is the 64-bit part of _start"
has "$out" '^\$1 = 0x36d76289$' "global boot_magic read: the multiboot2 magic"
has "$out" '^\$2 = 0$' "tidal_boot_stage is 0 on entry"
has "$out" '^\$3 = 1$' "tidal_boot_stage is 1 at tsc_init"
has "$out" '^\$4 = 0x[0-9a-f]+ "GRUB 2' "parsed boot info readable from gdb"
has "$log" '^tidal: power off: status 0' "serial log ends with success"
[ "$failed" = 0 ] || show_log "$out"
done_testing
