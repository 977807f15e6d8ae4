#!/bin/sh
# ELF32 and ELF64 hello guests: entry modes, start info, every console path.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests

boot_guest hello32 "$G/hello32.elf" "mem=16M" "some args"
expect "guest: hello from a 32-bit guest (protected mode)" "hello32: runs in 32-bit protected mode"
expect 'cmdline "hello32 some args"' "hello32: command line reaches the guest"
expect "guest: start info: 16384 KiB RAM, flags 0," "hello32: start info has mem= and no long-mode flag"
expect "guest:   mem 00ff8000-00ffffff tidal" "hello32: memory map shows tidal's pages"
expect "guest: hello through port 0xe9" "hello32: port 0xe9 output relayed"
expect "guest: hello through VMCALL console write" "hello32: VMCALL console write relayed"
expect_tidal "tidal: vm: guest exited with status 0 (VMCALL)" "hello32: exits through VMCALL"
expect_tidal "tidal: summary:" "hello32: summary printed"
expect_status 0

boot_guest hello64 "$G/hello64.elf" "" "x=1"
expect "guest: hello from a 64-bit guest (long mode)" "hello64: runs in long mode"
expect 'cmdline "hello64 x=1"' "hello64: command line reaches the guest"
expect "guest: start info: 65536 KiB RAM, flags 1," "hello64: default 64 MiB, long-mode flag"
expect "guest: hello: done" "hello64: all checks done"
expect_re "^tidal: summary:   VMCALL +3[[:space:]]*$" "hello64: summary counts the 3 VMCALLs"
expect_status 0
finish
