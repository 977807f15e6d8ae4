# Host tests and boot tests of the boot path (boot/, arch/x86/, mm/frame*).

## Host tests of the boot path: test_mb2 (multiboot2 parser), test_printf
##   (formatter + command line), test_frame (frame allocator)
HOST_TESTS += test_mb2 test_printf test_frame
HOST_SRCS_test_mb2 := tests/host/test_mb2.c boot/mb2.c lib/printf.c
HOST_SRCS_test_printf := tests/host/test_printf.c lib/printf.c lib/cmdline.c
HOST_SRCS_test_frame := tests/host/test_frame.c mm/frame.c
HOST_FLAVOURS_test_frame := plain asan tsan
