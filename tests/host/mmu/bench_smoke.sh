#!/bin/sh
# bench-mmu must keep running: a --quick run (64 MiB, well under a second)
# prints one JSON object with every phase, and the flush counts that are
# targets, not timings, hold: at most one flush per dirty-log round, none
# for a round with nothing to clear, none for aging.  Prints TAP.
cd "$(dirname "$0")/../../.." || exit 1
bench=${BUILD:-build}/bench/bench_mmu
out=$("$bench" --quick --json 2>&1)
rc=$?
exec perl -MJSON::PP -e '
	my ($rc, $out) = @ARGV;
	my $n = 0;
	sub ok { my ($c, $m) = @_; $n++; print(($c ? "" : "not "), "ok $n - $m\n"); }
	ok($rc == 0, "bench_mmu --quick --json exits 0");
	my $j = eval { decode_json($out) };
	ok(ref $j eq "HASH", "prints one JSON object") or print "# $out\n";
	$j ||= {};
	for my $k (qw(floor_4k.ns_per_page populate_4k.ns_per_page
		populate_4k_nvcpu.ns_per_page globallock_4k.ns_per_page
		populate_2m.ns_per_page populate_1g.ns_per_page
		populate_4k.pt_bytes_per_gib dirty_round.ms dirty_round.flushes
		dirty_disable.tables_recovered memslot_delete_targeted.ms
		memslot_delete_zapall.ms zapall_front.us zapall_back.ms
		zapall_front_1page.us summary.populate_4k_vs_floor)) {
		ok(exists $j->{$k}, "key $k");
	}
	ok(($j->{"dirty_round.flushes"} // 9) <= 1, "at most one flush per dirty round");
	ok(($j->{"dirty_idle_round.flushes"} // 9) == 0, "no flush for a round with nothing dirty");
	ok(($j->{"age.flushes"} // 9) == 0, "aging does not flush");
	ok(($j->{"dirty_round.dirty_pages"} // 0) == ($j->{"populate_4k.faults"} // -1),
	   "every page written in a round is harvested");
	ok(($j->{"dirty_disable.huge_leaves_after_refault"} // 0) > 0,
	   "huge pages come back after logging stops");
	ok(($j->{"memslot_delete_zapall.flushes"} // 9) == 0, "zap-all delete does not flush");
	print "1..$n\n";
' "$rc" "$out"
