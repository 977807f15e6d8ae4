# lib/: the parts of the portable core that are not locks or EBR.

## Host tests of lib/:
HOST_TESTS += test_list
HOST_SRCS_test_list := tests/host/test_list.c
