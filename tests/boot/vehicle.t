#!/usr/bin/env bash
# tools/vehicle picks KVM only when /dev/kvm works and the CPU exposes VMX.
. "$(dirname "$0")/lib.sh"

v=$(tools/vehicle 2>"$TMP/why")
why=$(cat "$TMP/why")
echo "# $why"
if grep -qw vmx /proc/cpuinfo && [ -w /dev/kvm ]; then
	is "$v" kvm "host with VMX and /dev/kvm: KVM"
else
	is "$v" bochs "host without VMX (or without /dev/kvm): Bochs"
	grep -qw vmx /proc/cpuinfo || {
		echo "$why" | grep -q 'does not expose VMX\|no working /dev/kvm'
		ok $? "the reason is given"
	}
fi
tools/run-kvm "$BT/plain.iso" >/dev/null 2>&1
r=$?
if grep -qw vmx /proc/cpuinfo; then
	ok 0 "run-kvm not checked on a VMX host"
else
	is "$r" 2 "run-kvm refuses on a host without VMX"
fi
done_testing
