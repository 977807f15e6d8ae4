#!/bin/sh
# Multiboot (v1) and PVH test kernels on tidal's small PC: each checks its
# boot information, modules, memory map and ACPI tables (the multiboot one
# also probes the legacy devices by their registers), then powers off
# through ACPI S5.  An a.out-kludge multiboot kernel and a file of no known
# format are refused by name.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests
printf 'tidal test module 1\n' > "$TESTS_DIR/mod1.txt"
printf 'tidal test module 2\n' > "$TESTS_DIR/mod2.txt"

boot_guest mb1 "$G/mb1kernel.elf" "mem=32M" "mem=32 mods=2 cpus=1" \
	-m "$TESTS_DIR/mod1.txt:alpha=1 beta" -m "$TESTS_DIR/mod2.txt"
expect_re "^tidal: guest: multiboot kernel \(ELF32\), entry 10000c, .* 2 modules, ACPI RSDP at e0000, 32 MiB" "mb1: detected as multiboot, 2 modules"
expect 'guest: mb1: magic 2badb002' "mb1: EAX holds the multiboot magic"
expect 'guest: mb1: cmdline "mb1kernel mem=32 mods=2 cpus=1", loader "tidal"' "mb1: command line and loader name"
expect 'cmdline "mod1.txt alpha=1 beta"' "mb1: first module's command line"
expect 'cmdline "mod2.txt"' "mb1: second module's command line"
expect "guest: map 00000000000a0000-00000000000fffff type 2" "mb1: legacy hole reserved in the map"
expect "guest: ACPI: RSDP at e0000, 2 tables in the XSDT" "mb1: RSDP found by scanning"
expect "guest: devices: I/O APIC id 1, 24 pins" "mb1: I/O APIC version register"
expect_re "guest: devices: RTC 20[2-9][0-9]-[01][0-9]-[0-3][0-9] " "mb1: RTC date"
expect_tidal "tidal: vm: guest asked for a fast reset (port 0x92): not done" "mb1: port 0x92 fast reset refused by name"
[ "$(grep -c '^tidal: vm: guest asked for a fast reset' "$log")" = 1 ]
tap $? "mb1: the refusal is printed once for two requests"
expect "guest: devices: probed" "mb1: legacy devices probed (PIC, I/O APIC, PIT, port 0x61, RTC, PCI, COM1)"
expect_re "guest: mb1: all [0-9]+ checks passed, powering off" "mb1: every check passed"
expect_not "guest: FAIL" "mb1: no failed check"
expect "tidal: vm: guest powered off (ACPI S5)" "mb1: ACPI S5 stops the VM"
expect "tidal: vm: done, status 0" "mb1: status 0"
expect_status 0

boot_guest pvh "$G/pvhkernel.elf" "" "mem=64 mods=1" \
	-m "$TESTS_DIR/mod1.txt:initrd"
expect_re "^tidal: guest: PVH kernel \(ELF32\), entry 100000, .* 1 modules, ACPI RSDP at e0000, 64 MiB" "pvh: detected through its note"
expect "guest: pvh: start info at" "pvh: entered with hvm_start_info"
expect 'cmdline "mod1.txt initrd"' "pvh: module (initrd) and its command line"
expect_re "guest: pvh: all [0-9]+ checks passed, powering off" "pvh: every check passed"
expect_not "guest: FAIL" "pvh: no failed check"
expect "tidal: vm: guest powered off (ACPI S5)" "pvh: ACPI S5 stops the VM"
expect_status 0

BOCHS_ARGS="--cpus 2" boot_guest pvh-vcpus "$G/pvhkernel.elf" "vcpus=2" ""
expect_tidal "tidal: guest: a PVH kernel runs on one vCPU until the local APIC is emulated (vcpus=2 refused)" "pvh: vcpus=2 refused by name"
expect_not "starting guest" "pvh vcpus=2: nothing was run"
expect_status 1

boot_guest mb1-aout "$G/mb1-aout.elf" "" ""
expect "tidal: guest: image refused: multiboot a.out kludge (header flag 16) is not supported" "a.out kludge refused by name"
expect_not "starting guest" "a.out: nothing was run"
expect_status 1

boot_guest unknown "$G/unknown.bin" "" ""
expect "tidal: guest: image refused: unsupported guest image format" "unknown format refused"
expect_not "starting guest" "unknown: nothing was run"
expect_status 1
finish
