#!/bin/sh
# The instruction emulator in a guest: MMIO forms on the tidal test device
# and string I/O (INS/OUTS, REP, DF=1) in 32-bit (paging off) and 64-bit
# code, REP OUTSB in a 16-bit code segment; the 64-bit guest also takes a
# #PF in the middle of a REP OUTSB.
. "$(dirname "$0")/guestlib.sh"

# The 32-bit guest ends with BT on the device, which is not emulated.
for bits in 32 64; do
	gargs=
	[ $bits = 32 ] && gargs=refuse=1
	boot_guest mmio$bits "$BUILD/guests/mmio$bits.elf" "" "$gargs"
	expect "guest: mmio: MOV load of the device ID: ok" "$bits: MOV from MMIO"
	expect "guest: mmio: MOVSX word: ok" "$bits: MOVZX/MOVSX on MMIO"
	expect "guest: mmio: OR, AND, XOR on device memory: ok" "$bits: ALU on MMIO"
	expect "guest: mmio: XCHG swaps: ok" "$bits: XCHG on MMIO"
	expect "guest: mmio: REP STOSL to the device, REP MOVSB back: ok" "$bits: REP string ops on MMIO"
	# Printed by tidal from the guest's REP OUTSB / OUTSB bytes.
	expect "guest: mmio: rep outsb to port e9 works" "$bits: REP OUTSB reaches the console"
	expect "guest: mmio: outsb with DF=1 works" "$bits: REP OUTSB with DF=1"
	expect "guest: mmio: outsb to COM1 works" "$bits: OUTSB to COM1"
	expect "guest: mmio: REP INSB from the COM1 scratch register: ok" "$bits: REP INSB"
	expect "guest: mmio: REP INSB into device memory: ok" "$bits: REP INSB to MMIO"
	expect "guest: mmio: 0 failures" "$bits: guest found no failures"
	expect_not "FAIL" "$bits: no check failed"
	expect_re "^tidal: summary: emulated MMIO [1-9][0-9]* \([1-9][0-9]* device accesses\), string I/O [1-9][0-9]* \([1-9][0-9]* iterations\)" \
		"$bits: tidal counted emulated MMIO and string I/O"
	if [ $bits = 32 ]; then
		expect "guest: mmio: rep outsb in 16-bit code works" "16: REP OUTSB with SI and FS in 16-bit code"
		expect "guest: mmio: addr32 rep outsb in 16-bit code works" "16: REP OUTSB with an address-size prefix"
		expect "guest: mmio: REP OUTSB in 16-bit code counted CX/ECX down: ok" "16: the count ends at zero"
		expect_re "^tidal: vm: stopped: cannot emulate the MMIO access at RIP [0-9a-f]+ \(bytes 0f ba 2[0-7] 03[0-9a-f ]*\): two-byte opcode not emulated" \
			"32: an unknown form stops the VM naming its bytes"
		expect_status 1
	else
		expect "tidal: vm: guest exited with status 0" "$bits: guest exited with status 0"
		expect_status 0
	fi
done
expect "guest: mmio: a string split by a page fault" "64: the REP OUTSB split by a #PF finished"
expect "guest: mmio: #PF with CR2 at the hole and error code 0: ok" "64: #PF CR2 and error code"
expect "guest: mmio: RCX and RSI at the fault count the bytes sent: ok" "64: RCX/RSI at the fault"
expect_re "^tidal: summary: .*faults injected 1[[:space:]]*$" "64: tidal injected one fault"
finish
