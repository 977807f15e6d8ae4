# Guest-side benchmarks under Bochs (docs/vmx.md "Exit costs", docs/linux.md
# "Performance").  Their figures are printed, never judged.

.PHONY: bench-exits bench-linux
## bench-exits      exit-path cost in Bochs instructions per round trip
##                  (CPUID, VMCALL, I/O, MSR, APIC MMIO, timer latency) with
##                  the PC platform; budget CPUID <= 240 (BENCH_ARGS=--json)
bench-exits: deps $(KERNEL_ELF) guests
	$(Q)tools/bench-exits $(BENCH_ARGS)

## bench-linux      Debian's kernel + a busybox initramfs natively in Bochs
##                  and under tidal in Bochs: wall/CPU seconds, guest TSC at
##                  markers, ratio, tidal's summary (BENCH_ARGS="--cpus 4")
bench-linux: deps $(KERNEL_ELF)
	$(Q)tools/bench-linux $(BENCH_ARGS)
