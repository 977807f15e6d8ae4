# mm/guard: the external page-table guard of protected VMs.

CORE_SRCS += mm/guard.c

## Host tests of the guard (mm/guard.c):
##   test_guard         unit tests: every refusal, scrubbing, flushes, injection
##   test_guard_stress  randomized multi-threaded map/unmap against a shadow model
HOST_TESTS += test_guard test_guard_stress
HOST_SRCS_test_guard := tests/host/guard/test_guard.c mm/guard.c
HOST_SRCS_test_guard_stress := tests/host/guard/test_guard_stress.c mm/guard.c
HOST_FLAVOURS_test_guard_stress := plain asan tsan
