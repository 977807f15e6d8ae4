#!/bin/sh
# Bad hypervisor options and impossible requests are refused clearly.
. "$(dirname "$0")/guestlib.sh"
G=$BUILD/guests

boot_guest mem-odd "$G/hello64.elf" "mem=3M" ""
expect_tidal "tidal: bad mem=3M: guest memory is not a multiple of 2 MiB" "mem=3M refused with the reason"
expect_not "starting guest" "mem=3M: nothing was run"
expect_status 1

# Bochs has 256 MiB: 4 GiB of guest RAM cannot be found.
boot_guest mem-huge "$G/hello64.elf" "mem=4G" ""
expect_tidal "tidal: vm: cannot allocate 4096 MiB of guest RAM" "mem=4G: allocation failure reported"
expect_not "starting guest" "mem=4G: nothing was run"
expect_status 1
# One vCPU per CPU: more than the CPUs online, or none, is refused.
boot_guest vcpus-many "$G/hello64.elf" "mem=8M vcpus=64" ""
expect_re "^tidal: bad vcpus=64: only [0-9]+ CPUs online" "vcpus=64 refused: not enough CPUs"
expect_not "starting guest" "vcpus=64: nothing was run"
expect_status 1

boot_guest vcpus-zero "$G/hello64.elf" "mem=8M vcpus=0" ""
expect "tidal: bad vcpus=0: want a number from 1" "vcpus=0 refused"
expect_status 1

# apic= takes emulate or virtualize; virtualize is refused where it cannot be
# honoured (a protected VM: the guard owns its EPT).
boot_guest apic-bad "$G/hello64.elf" "mem=8M apic=fast" ""
expect_tidal "tidal: bad apic=fast: want emulate or virtualize" "apic=fast refused with the choices"
expect_not "starting guest" "apic=fast: nothing was run"
expect_status 1

boot_guest apic-protected "$G/hello64.elf" "mem=8M apic=virtualize" "protected"
expect_tidal "tidal: apic=virtualize is not possible: a protected VM (the guard owns its EPT)" "apic=virtualize refused for a protected VM, with the reason"
expect_not "starting guest" "apic=virtualize, protected: nothing was run"
expect_status 1
finish
