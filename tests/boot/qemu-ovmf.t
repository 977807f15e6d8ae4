#!/usr/bin/env bash
# Boot the same ISO under QEMU TCG + OVMF (UEFI; GRUB's EFI memory map).
. "$(dirname "$0")/lib.sh"

log=$TMP/serial.log
start=$(date +%s)
tools/run-qemu --ovmf --timeout 120 --log "$log" "$BT/module.iso"
is $? 0 "QEMU+OVMF exits through isa-debug-exit with success"
echo "# boot took $(( $(date +%s) - start ))s"
common_boot_checks "$log"
size=$(stat -c %s "$BT/dummy.elf")
has "$log" "^tidal: module: dummy one two $size bytes\$" "module line"
has "$log" '^tidal: VMX is not available' "VMX absence reported"
has "$log" '^tidal: selftest: [0-9]+ passed, 0 failed' "self-tests pass under UEFI too"
show_log "$log"
done_testing
