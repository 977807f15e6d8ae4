#!/bin/sh
# Debian's Linux kernel as a tidal guest (make test-linux; not in make
# test: a boot takes 5-15 minutes of Bochs).  tools/linux-guest fetches
# and prepares it; a download failure is a SKIP with the reason.  The
# kernel runs with tidal's timeout= (guest TSC time), which stops the VM
# and dumps the vCPU: until timer and serial interrupts are emulated it
# gets to /init and no further (docs/linux.md).  Verdicts on tidal's side
# are tidal's lines; the guest's progress is read from its own lines.
. "$(dirname "$0")/guestlib.sh"
L=$BUILD/linux
if ! tools/linux-guest -o "$L" >"$TESTS_DIR/linux-guest.log" 2>&1; then
	echo "1..0 # SKIP tools/linux-guest failed: $(tail -n 1 "$TESTS_DIR/linux-guest.log")"
	exit 0
fi
CMDLINE=${LINUX_CMDLINE:-"console=ttyS0 earlyprintk=serial mitigations=off cryptomgr.notests acpi=off nolapic noapic pci=off nohpet"}
name=linux
iso=$TESTS_DIR/linux.iso
log=$TESTS_DIR/linux.bochs.log
tools/mkiso -o "$iso" -a "mem=256M vcpus=1 timeout=${LINUX_GUEST_SECONDS:-3}" \
	-g "$L/vmlinux" -A "$CMDLINE" -m "$L/initrd.cpio.gz" \
	>"$TESTS_DIR/linux.mkiso.log" 2>&1
tap $? "linux: ISO built"
start=$(date +%s)
tools/run-bochs --mem 512 --timeout "${LINUX_BOCHS_SECONDS:-1500}" --log "$log" \
	"$iso" >/dev/null 2>"$TESTS_DIR/linux.stderr"
tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
echo "# linux: booted under Bochs in $(($(date +%s) - start))s, log $log"
expect_re '^tidal: guest: PVH kernel \(ELF64\), entry 1000850, .* 1 modules' "linux: vmlinux detected as a PVH kernel with its initramfs"
expect_re '^guest: \[ *[0-9.]+\] x86/fpu: Enabled xstate features 0x[0-9a-f]+, context size is [0-9]+ bytes' "linux: XSAVE enabled (leaf 0xD consistent, XSETBV switched)"
expect_not "XSAVE consistency problem" "linux: no XSAVE consistency warning"
expect_re '^guest: \[ *[0-9.]+\] tsc: Detected 2419.200 MHz TSC' "linux: TSC rate from CPUID 0x15"
expect_not "unchecked MSR access" "linux: no unchecked MSR access"
expect_re '^guest: \[ *[0-9.]+\] Run /init as init process' "linux: the kernel started /init"
expect_re '^tidal: vm: stopped: time limit of [0-9]+ ms reached' "linux: tidal stopped it at the time limit, not for a fault"
expect_not "tidal: vm: stopped: triple fault" "linux: no triple fault"
expect_re '^tidal: summary:   XSETBV +[1-9]' "linux: the guest's XSETBV exited to tidal"
expect_re '^tidal: power off: status 1 ' "linux: tidal powered off (status 1: the limit)"
finish
