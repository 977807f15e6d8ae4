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
