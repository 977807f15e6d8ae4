#!/bin/sh
# Run every libFuzzer target for FUZZ_SECS seconds (default 4) from its
# seed corpus (tests/fuzz/corpus/NAME/).  New inputs go to a scratch
# directory, or to $BUILD/fuzz/corpus/NAME/ with FUZZ_KEEP=1 (make fuzz),
# never into the repository.  Prints TAP; a crash leaves its input and
# the log under $BUILD/fuzz/.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
secs=${FUZZ_SECS:-4}
fuzzers="fuzz_mb2 fuzz_elf fuzz_cmdline fuzz_mmu fuzz_pcboot fuzz_emulate fuzz_hcmem"
n=0
fail=0
for f in $fuzzers; do
	n=$((n + 1))
	bin=$BUILD/fuzz/$f
	if [ -n "${FUZZ_KEEP:-}" ]; then
		out=$BUILD/fuzz/corpus/$f
	else
		out=$BUILD/fuzz/scratch/$f
		rm -rf "$out"
	fi
	mkdir -p "$out"
	log=$BUILD/fuzz/$f.log
	if "$bin" -max_total_time="$secs" -seed=15 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/$f-" "$out" "tests/fuzz/corpus/$f" \
		>"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		echo "ok $n - $f: ${runs:-?} inputs in ${secs} s, $cov, no crash"
	else
		echo "not ok $n - $f: see $log"
		grep -m3 -E 'ERROR|fuzz check|panic|SUMMARY' "$log" | sed 's/^/# /'
		fail=1
	fi
done
echo "1..$n"
exit $fail
