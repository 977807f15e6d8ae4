. "$(dirname "$0")/../guestlib.sh"
BOCHS_ARGS="--cpus 4" boot_guest apic-4 "$BUILD/guests/apictest.elf" "vcpus=4" "cpus=4"
