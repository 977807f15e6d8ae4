#!/bin/sh
# The guest boot tests again on real VMX: QEMU + KVM -cpu host, when the
# host offers nested VMX.  Otherwise one visible SKIP.
. "$(dirname "$0")/guestlib.sh"

if [ ! -x tools/vehicle ] || [ "$(tools/vehicle 2>/dev/null)" != kvm ]; then
	why=$(tools/vehicle 2>&1 >/dev/null || true)
	echo "1..0 # SKIP no nested VMX under KVM here (${why:-tools/vehicle missing})"
	exit 0
fi
failed=0
for t in tests/boot/guest-*.t; do
	case $t in */guest-kvm.t | */guest-gdb.t | */guest-options.t) continue ;; esac
	echo "# $t under KVM"
	out=$BUILD/boot-tests/kvm-$(basename "$t").tap
	VEHICLE=kvm sh "$t" > "$out" 2>&1 || failed=$((failed + 1))
	sed 's/^/#   /' "$out"
done
echo "1..1"
[ $failed = 0 ] && echo "ok 1 - guest boot tests under KVM" || echo "not ok 1 - guest boot tests under KVM ($failed failed)"
