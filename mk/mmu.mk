# mm/tdp and mm/memslot: the TDP MMU (portable core) and its host tests.

CORE_SRCS += mm/tdp/iter.c mm/tdp/pt.c mm/tdp/spte_change.c mm/tdp/root.c \
	mm/tdp/fault.c mm/tdp/zap.c mm/tdp/mmu.c mm/tdp/dirty.c \
	mm/tdp/split.c mm/tdp/age.c mm/tdp/mirror.c mm/tdp/prefault.c mm/memslot.c

MMU_CORE_SRCS := mm/tdp/iter.c mm/tdp/pt.c mm/tdp/spte_change.c \
	mm/tdp/root.c mm/tdp/fault.c mm/tdp/zap.c mm/tdp/mmu.c mm/tdp/dirty.c \
	mm/tdp/split.c mm/tdp/age.c mm/tdp/mirror.c mm/tdp/prefault.c mm/memslot.c \
	mm/guard.c
# The lock and EBR implementations the MMU runs on.
MMU_LIB_SRCS := lib/lock_cpu.c lib/spinlock.c lib/rwlock.c lib/ebr.c

## Host tests of the TDP MMU (tests/host/mmu/):
##   test_mmu_spte     SPTE encoding and the walker
##   test_mmu_tdp      roots, faults, zap flows, fast zap, flush counts
##   test_mmu_memslot  memslot validation, changes, observers, huge pages
##   test_mmu_checker  software-TLB checker, randomized concurrent workloads
##   test_mmu_mirror   protected VMs: mirror roots forwarded to the guard,
##                     busy rollbacks, every bugged-VM case, no leaks
##   test_mmu_mirror_stress  faults, zaps and memslot changes on a protected
##                     VM with busy answers injected; mirror == guard EPT
##                     after every step; teardown returns every page
##   test_mmu_mirror_tlb  the software-TLB checker walking the guard's EPT
##                     of a protected VM, with busy answers injected
HOST_TESTS += test_mmu_spte test_mmu_tdp test_mmu_memslot test_mmu_checker \
	test_mmu_mirror test_mmu_mirror_stress test_mmu_mirror_tlb
HOST_SRCS_test_mmu_spte := tests/host/mmu/test_spte.c tests/host/mmu/util.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)
HOST_SRCS_test_mmu_tdp := tests/host/mmu/test_tdp.c tests/host/mmu/util.c \
	$(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_SRCS_test_mmu_memslot := tests/host/mmu/test_memslot.c \
	tests/host/mmu/util.c $(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_SRCS_test_mmu_checker := tests/host/mmu/test_checker.c \
	tests/host/mmu/swtlb.c tests/host/mmu/util.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_tdp := plain asan tsan
HOST_SRCS_test_mmu_mirror := tests/host/mmu/test_mirror.c \
	tests/host/mmu/mirror_util.c tests/host/mmu/util.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_mirror := plain asan
HOST_SRCS_test_mmu_mirror_stress := tests/host/mmu/test_mirror_stress.c \
	tests/host/mmu/mirror_util.c tests/host/mmu/util.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_mirror_stress := plain asan tsan
HOST_SRCS_test_mmu_mirror_tlb := tests/host/mmu/test_mirror_tlb.c \
	tests/host/mmu/swtlb.c tests/host/mmu/mirror_util.c \
	tests/host/mmu/util.c $(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_mirror_tlb := plain asan tsan
##   tests/host/mmu/freestanding.sh  MMU files build with no libc headers
BOOT_TESTS += tests/host/mmu/freestanding.sh
HOST_FLAVOURS_test_mmu_checker := plain asan tsan

##   test_mmu_dirty    dirty logging, eager split, huge-page recovery, aging
HOST_TESTS += test_mmu_dirty
HOST_SRCS_test_mmu_dirty := tests/host/mmu/test_dirty.c tests/host/mmu/util.c \
	$(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_dirty := plain asan

##   test_mmu_prefault tdp_mmu_prefault: sizes, counts, gaps, dirty log, races
HOST_TESTS += test_mmu_prefault
HOST_SRCS_test_mmu_prefault := tests/host/mmu/test_prefault.c \
	tests/host/mmu/util.c $(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_prefault := plain asan tsan

## soak-mmu          the interleaving explorer with SOAK_BOUND (3)
##                   preemptions, then the software-TLB checker for a long
##                   time (SOAK_SECS=120 by default, SEED=n to start from)
SOAK_SECS ?= 120
# The interleaving explorer's preemption bound there (make test uses 2).
SOAK_BOUND ?= 3
.PHONY: soak-mmu
soak-mmu: $(BUILD)/host/plain/test_mmu_checker $(BUILD)/host/tsan/test_mmu_checker \
		$(BUILD)/host/plain/test_mmu_explore
	$(BUILD)/host/plain/test_mmu_explore --bound $(SOAK_BOUND)
	$(BUILD)/host/plain/test_mmu_checker --seconds $(SOAK_SECS) $(if $(SEED),--seed $(SEED))
	$(BUILD)/host/tsan/test_mmu_checker --seconds $$(( $(SOAK_SECS) / 4 )) $(if $(SEED),--seed $(SEED))

# bench-mmu: a release build (no TIDAL_DEBUG_LOCKS), with the release
# object rule of mk/sync.mk.
BENCH_MMU_SRCS := tests/bench/bench_mmu.c tests/host/mmu/util.c \
	$(MMU_CORE_SRCS) $(MMU_LIB_SRCS) tests/host/platform_host.c \
	tests/host/tap.c
$(BUILD)/bench/bench_mmu: $(patsubst %.c,$(BUILD)/bench/%.o,$(BENCH_MMU_SRCS))
	$(quiet) LD.bench $@
	$(Q)$(HOSTCC) $(BENCH_CFLAGS) -o $@ $^

##   tests/host/mmu/bench_smoke.sh  bench-mmu --quick runs, JSON keys, flush counts
BOOT_TESTS += tests/host/mmu/bench_smoke.sh
TEST_DEPS += $(BUILD)/bench/bench_mmu

.PHONY: bench-mmu
## bench-mmu         TDP MMU vs floor: populate, dirty rounds, recovery, zaps
##                   (BENCH_ARGS="--vcpus N --gib M --rounds K --json|--quick")
bench-mmu: $(BUILD)/bench/bench_mmu
	$(Q)$(BUILD)/bench/bench_mmu $(BENCH_ARGS)

##   test_mmu_explore  every interleaving (up to 2 preemptions; 1 in the
##                     ASan build) of small scenarios: fault/zap/slot/
##                     dirty/age/split/mirror/prefault/guard; properties
##                     checked at every step (docs/testing.md)
HOST_TESTS += test_mmu_explore
HOST_SRCS_test_mmu_explore := tests/host/mmu/test_explore.c \
	tests/host/mmu/explore.c tests/host/mmu/mirror_util.c \
	tests/host/mmu/util.c $(MMU_CORE_SRCS) $(MMU_LIB_SRCS)
HOST_FLAVOURS_test_mmu_explore := plain asan
