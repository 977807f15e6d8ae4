# lib/: the parts of the portable core that are not locks or EBR.

## Host tests of lib/:
HOST_TESTS += test_list
HOST_SRCS_test_list := tests/host/test_list.c

##   test_gdb_proto   the gdb stub's packet layer (lib/gdb_proto.c): framing,
##                    every packet against a fake target, and a fuzzer
HOST_TESTS += test_gdb_proto
HOST_SRCS_test_gdb_proto := tests/host/test_gdb_proto.c lib/gdb_proto.c \
	lib/printf.c
CORE_SRCS += lib/gdb_proto.c
