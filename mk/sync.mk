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
