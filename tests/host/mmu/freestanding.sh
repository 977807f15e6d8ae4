#!/bin/sh
# The MMU is portable core: each of its files must compile with no libc
# headers at all (only the compiler's freestanding ones) and no warnings.
# Prints TAP.
cd "$(dirname "$0")/../../.." || exit 1
CC=${HOSTCC:-gcc}
inc=$($CC -print-file-name=include)
files="mm/tdp/iter.c mm/tdp/pt.c mm/tdp/spte_change.c mm/tdp/root.c
mm/tdp/fault.c mm/tdp/zap.c mm/tdp/mmu.c mm/tdp/dirty.c mm/tdp/split.c
mm/tdp/age.c mm/tdp/mirror.c mm/memslot.c"
n=0
fail=0
for f in $files; do
	n=$((n + 1))
	if out=$($CC -std=gnu11 -ffreestanding -nostdinc -isystem "$inc" -I. -Iarch/x86/include \
		-Wall -Wextra -Werror -Wno-unused-parameter -fsyntax-only \
		"$f" 2>&1); then
		echo "ok $n - $f compiles freestanding, no libc headers"
	else
		echo "not ok $n - $f compiles freestanding, no libc headers"
		echo "$out" | sed 's/^/# /'
		fail=1
	fi
done
echo "1..$n"
exit $fail
