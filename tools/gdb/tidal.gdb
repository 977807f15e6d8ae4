# gdb set-up for tidal under QEMU (used by tools/debug; usable by hand:
#   gdb -x tools/gdb/tidal.gdb build/tidal.elf  after  tools/run-qemu --gdb 1234 ISO).
#
# tidal starts in 32-bit protected mode (boot/entry.S) and switches to long
# mode before tidal_main.  gdb is told the target is x86-64 from the start,
# so that the register layout matches once the CPU is in long mode, and
# the first stop uses a hardware breakpoint, which does not depend on
# patching memory while paging and the CPU mode change underneath it.
set pagination off
set confirm off
set architecture i386:x86-64
set disassembly-flavor att
# tidal's own stub (make debug-bochs) answers at serial speed under an
# emulator: give it time before gdb resends a packet.
set remotetimeout 30
