#!/bin/sh
# Longer Linux runs (make test-linux-full, not in make test): 4 vCPUs with
# all guest RAM mapped before the start (prefault), and a protected VM
# (its EPT the guard's, the TDP MMU on a mirror root).
. "$(dirname "$0")/guestlib.sh"
. "$(dirname "$0")/linuxlib.sh"
linux_boot linux-prefault 4 prefault ""
expect_tidal "tidal: vm: prefault: 256 MiB of guest RAM mapped" "linux-prefault: all 256 MiB mapped before the start"
expect_tidal "tidal: summary: EPT faults 0 (retried 0)" "linux-prefault: no EPT fault for RAM"
linux_boot linux-protected 4 "" protected
expect_tidal "tidal: vm: protected: EPT owned by the guard, MMU on a mirror root" "linux-protected: the VM is protected"
expect_re "^tidal: guard: .* 0 refused" "linux-protected: the guard refused none of the MMU's requests"
expect_not "bugged" "linux-protected: the VM was never bugged"
finish
