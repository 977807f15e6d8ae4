#!/bin/sh
# tools/gdb/tidal_vmm.py against a host program running the TDP MMU
# (build/host/plain/test_vmm_gdb): list the VM, its memslots, and walk
# GPAs through its EPT, comparing with what the program computed.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
bin=$BUILD/host/plain/test_vmm_gdb
out=$BUILD/boot-tests/gdb-vmm.out
mkdir -p "$BUILD/boot-tests"
n=0 failed=0

tap() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
has() { grep -qF -- "$1" "$out"; tap $? "$2"; }
has_re() { grep -qE -- "$1" "$out"; tap $? "$2"; }

if ! command -v gdb >/dev/null || [ ! -x "$bin" ]; then
	echo "1..1"
	echo "not ok 1 - gdb and $bin are needed (run make)"
	exit 1
fi

timeout 60 gdb -q -batch -nx \
	-ex "source tools/gdb/tidal_vmm.py" \
	-ex "break gdb_checkpoint" -ex run \
	-ex 'printf "expected-2m %#lx\n", expected_hpa_2m' \
	-ex 'printf "expected-4k %#lx\n", expected_hpa_4k' \
	-ex "tidal-vms" \
	-ex "tidal-memslots" \
	-ex "tidal-ept-walk 0x212345" \
	-ex "tidal-ept-walk 0x1003123 the_vm.vcpus[0].root" \
	-ex "tidal-ept-walk 0x600000" \
	-ex "tidal-memslots 42" \
	-ex "tidal-ept-walk" \
	-ex continue \
	"$bin" >"$out" 2>&1
tap $? "gdb ran the program to the end"

exp2m=$(sed -n 's/^expected-2m //p' "$out")
exp4k=$(sed -n 's/^expected-4k //p' "$out")
tap "$([ -n "$exp2m" ] && [ -n "$exp4k" ] && echo 0 || echo 1)" "program published the expected host addresses"
has_re "^VM 0x[0-9a-f]+ <the_vm>: running \(status 0\), 8 MiB RAM at host 0x[0-9a-f]+, ELF64 entry 0x100000" "tidal-vms shows the VM"
has_re "vCPU 0: vpid 1, not launched, root 0x[0-9a-f]+ \(valid, refcount [0-9]+, eptp 0x[0-9a-f]+\)" "tidal-vms shows the vCPU and its root"
has_re "memslots of mmu 0x[0-9a-f]+: generation [0-9]+, 2 slot\(s\)" "tidal-memslots counts the slots"
has_re "slot 0: GPA 0x0-0x7fffff \(8192 KiB\) -> host 0x[0-9a-f]+-0x[0-9a-f]+ flags -" "RAM slot listed"
has_re "slot 1: GPA 0x1000000-0x11fffff \(2048 KiB\) .* flags readonly,no-huge" "read-only slot listed with its flags"
has_re "L2 PD   \[  1\] 0x[0-9a-f]+  rwx leaf 2M" "walk of 0x212345 ends in a 2M leaf at level 2"
has "-> host physical $exp2m (2M page)" "2M walk lands on the expected host address"
has_re "L1 PT   \[  3\] 0x[0-9a-f]+  r-x leaf 4K" "walk in the read-only slot ends in an r-x 4K leaf"
has "-> host physical $exp4k (4K page)" "4K walk lands on the expected host address"
has_re "L2 PD   \[  3\] 0x0+  not present" "walk of an unmapped GPA stops where the entry is missing"
has "-> not mapped" "unmapped GPA reported"
has "want a struct vm or struct tdp_mmu, got 'int'" "bad argument gets a clear error"
has "usage: tidal-ept-walk GPA" "missing argument gets the usage"
has_re "exited normally|exited with code 0+" "program finished its own checks"
if [ "$failed" != 0 ]; then sed 's/^/#   /' "$out"; fi
echo "1..$n"
[ "$failed" = 0 ]
