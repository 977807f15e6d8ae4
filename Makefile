# tidal: top-level Makefile.
#
# Each area of the tree has a fragment in mk/*.mk that adds to the lists
# below; the generic rules that turn those lists into programs live in
# mk/*.rules, read after every fragment.  `make help` lists the targets.

BUILD	?= build
V	?= 0
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

HOSTCC	?= gcc
KCC	?= gcc
PROVE	?= prove

# Portable core: compiled unchanged into the hypervisor and host programs.
CORE_SRCS :=
# Hypervisor-only sources (.c and .S).
KERNEL_SRCS :=
# Host test programs (names).  For each NAME: HOST_SRCS_NAME (sources,
# core files included) and optionally HOST_FLAVOURS_NAME (default
# "plain asan"; add tsan for threaded tests) and HOST_LIBS_NAME.
HOST_TESTS :=
# Executable scripts that speak TAP, run by `make test` after host tests.
BOOT_TESTS :=
# Everything `make test` needs built before it runs.
TEST_DEPS :=

.DEFAULT_GOAL := all
.PHONY: all test test-host test-boot clean help deps

include $(sort $(wildcard mk/*.mk))
include $(sort $(wildcard mk/*.rules))

# Install missing Debian packages (quietly when all are present).
deps:
	$(Q)tools/install-deps -q

test-host: deps $(HOST_TEST_BINS)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) $(HOST_TEST_BINS)

test-boot: deps $(TEST_DEPS)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) $(BOOT_TESTS)

# Every test in one prove run, so there is one summary line.
test: deps $(HOST_TEST_BINS) $(TEST_DEPS)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) $(HOST_TEST_BINS) $(BOOT_TESTS)

clean:
	rm -rf $(BUILD)

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
