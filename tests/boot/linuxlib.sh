# Shared by tests/boot/linux*.t: boot Debian's kernel (tools/linux-guest)
# under tidal in Bochs with its scripted /init, and check the run.
#
#   . tests/boot/linuxlib.sh     (after guestlib.sh; SKIPs the whole file
#                                 when the kernel cannot be fetched)
#   linux_boot NAME VCPUS "TIDAL ARGS" "KERNEL ARGS"
#
# The verdict is tidal's: its ACPI S5 power-off line and status 0, and a
# per-vCPU summary line for every vCPU (APs started by SIPI).  The guest's
# own LINUX-GUEST lines (nproc, the tmpfs md5, one worker per CPU) are
# further checks; guest text always carries tidal's "guest: " prefix.
# loglevel=5 keeps kernel warnings and errors on the console but not the
# hundreds of info lines, each a few polled-UART exits.

LINUX_DIR=$BUILD/linux
if ! tools/linux-guest -o "$LINUX_DIR" >"$TESTS_DIR/linux-guest.log" 2>&1; then
	echo "1..0 # SKIP tools/linux-guest failed (no Debian archive?): $(tail -n 1 "$TESTS_DIR/linux-guest.log")"
	exit 0
fi
LINUX_ARGS="console=ttyS0 loglevel=5 mitigations=off cryptomgr.notests pci=off nohpet"

linux_boot() {
	lname=$1 n=$2
	BOCHS_ARGS="--cpus $n --mem 512" BOOT_TIMEOUT=${LINUX_BOCHS_SECONDS:-1200} \
		boot_guest "$lname" "$LINUX_DIR/vmlinux" \
		"mem=256M vcpus=$n timeout=${LINUX_GUEST_SECONDS:-20} $3" \
		"$LINUX_ARGS $4" -m "$LINUX_DIR/initrd.cpio.gz"
	expect_re '^tidal: guest: PVH kernel \(ELF64\), entry [0-9a-f]+, .* 1 modules, ACPI RSDP' "$lname: vmlinux detected as a PVH kernel with its initramfs"
	expect_tidal "tidal: vm: guest powered off (ACPI S5)" "$lname: poweroff -f reached tidal as ACPI S5"
	expect_status 0
	i=0
	while [ $i -lt "$n" ]; do
		expect_re "^tidal: summary: vcpu $i: [1-9][0-9]* exits" "$lname: vCPU $i ran"
		[ $i = 0 ] || expect_re "^tidal: summary: vcpu $i: .* SIPI starts 1\$" "$lname: vCPU $i started once by INIT-SIPI"
		expect_re "^guest: LINUX-GUEST: worker $i on CPU [0-9]+ b5cfa9d6\$" "$lname: /init's worker $i ran"
		i=$((i + 1))
	done
	expect_re "^guest: LINUX-GUEST: nproc $n\$" "$lname: Linux brought up $n CPUs"
	expect_re '^guest: LINUX-GUEST: tmpfs 64 MiB md5 [0-9a-f]+ ok$' "$lname: 64 MiB through tmpfs with the right md5"
	for bad in "WARNING:" "BUG:" "Call Trace" "ACPI Error" "ACPI BIOS Error" \
		"Firmware Bug" "unchecked MSR access" "detected stall" "unstable" \
		"IO-APIC + timer doesn't work"; do
		expect_not "$bad" "$lname: no '$bad' from the kernel"
	done
}
