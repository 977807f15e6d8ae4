# sync: spinlock, rwlock and epoch-based reclamation (lib/), their tests
# and the bench-sync benchmark.

CORE_SRCS += lib/lock_cpu.c lib/spinlock.c lib/rwlock.c lib/ebr.c
SYNC_SRCS := lib/lock_cpu.c lib/spinlock.c lib/rwlock.c lib/ebr.c

HOST_TESTS += test_spinlock test_rwlock test_ebr
HOST_SRCS_test_spinlock := tests/host/test_spinlock.c $(SYNC_SRCS)
HOST_FLAVOURS_test_spinlock := plain asan tsan
HOST_SRCS_test_rwlock := tests/host/test_rwlock.c $(SYNC_SRCS)
HOST_FLAVOURS_test_rwlock := plain asan tsan
HOST_SRCS_test_ebr := tests/host/test_ebr.c $(SYNC_SRCS)
HOST_FLAVOURS_test_ebr := plain asan tsan

HOST_TESTS += test_ebr_stress
HOST_SRCS_test_ebr_stress := tests/host/test_ebr_stress.c $(SYNC_SRCS)
HOST_FLAVOURS_test_ebr_stress := plain asan tsan

HOST_TESTS += test_rwlock_stress
HOST_SRCS_test_rwlock_stress := tests/host/test_rwlock_stress.c $(SYNC_SRCS)
HOST_FLAVOURS_test_rwlock_stress := plain asan tsan

# Long runs of the stress tests, every flavour (SOAK_SECS each).
SOAK_SECS ?= 120
SYNC_STRESS_BINS := $(foreach t,test_ebr_stress test_rwlock_stress,\
	$(foreach f,plain asan tsan,$(BUILD)/host/$(f)/$(t)))
.PHONY: soak-sync
## soak-sync        run the lock/EBR stress tests for SOAK_SECS (120) s each, every flavour
soak-sync: $(SYNC_STRESS_BINS)
	$(Q)TIDAL_STRESS_SECS=$(SOAK_SECS) $(PROVE) --exec '' -v $(SYNC_STRESS_BINS)

# bench-sync: a release build of the primitives (no TIDAL_DEBUG_LOCKS)
# against liburcu and Concurrency Kit, which only the benchmark links.
# Benchmarks are built like the hypervisor: release (no TIDAL_DEBUG_LOCKS)
# and with its empty scheduling points (arch/x86/include/platform_sched.h),
# not the host tests' explorer hook.
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-fno-omit-frame-pointer -I. -Iarch/x86/include -pthread
BENCH_SYNC_SRCS := tests/bench/bench_sync.c tests/bench/bench_tidal.c \
	tests/bench/bench_urcu.c tests/bench/bench_urcu_inline.c \
	tests/bench/bench_ck.c tests/bench/bench_pthread.c \
	tests/host/platform_host.c $(SYNC_SRCS)
BENCH_SYNC_OBJS := $(patsubst %.c,$(BUILD)/bench/%.o,$(BENCH_SYNC_SRCS))
BENCH_ARGS ?=

$(BUILD)/bench/%.o: %.c
	@mkdir -p $(@D)
	$(quiet) CC.bench $<
	$(Q)$(HOSTCC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bench/bench_sync: $(BENCH_SYNC_OBJS)
	$(quiet) LD.bench $@
	$(Q)$(HOSTCC) $(BENCH_CFLAGS) -o $@ $^ -lurcu-memb -lck

.PHONY: bench-sync
## bench-sync       tidal EBR/rwlock vs liburcu, ck_epoch, pthread_rwlock (BENCH_ARGS=--json|--quick)
bench-sync: deps $(BUILD)/bench/bench_sync
	$(Q)$(BUILD)/bench/bench_sync $(BENCH_ARGS)

-include $(shell find $(BUILD)/bench -name '*.d' 2>/dev/null)
