# libFuzzer targets (tests/fuzz/): every parser of untrusted input, and
# MMU operation sequences against the software-TLB checker.  Built with
# clang, libFuzzer + ASan + UBSan, into $(BUILD)/fuzz/.
#
# A new target: tests/fuzz/fuzz_template.c says how.  Rules: mk/fuzz.rules.

FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -I. \
	-Itests/host/include -DTIDAL_DEBUG_LOCKS=1 -pthread \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wno-unused-parameter

FUZZERS := fuzz_mb2 fuzz_elf fuzz_cmdline fuzz_mmu fuzz_pcboot fuzz_emulate \
	fuzz_hcmem
FUZZ_SRCS_fuzz_mb2 := tests/fuzz/fuzz_mb2.c boot/mb2.c lib/printf.c
FUZZ_SRCS_fuzz_elf := tests/fuzz/fuzz_elf.c vmm/elf_loader.c
FUZZ_SRCS_fuzz_cmdline := tests/fuzz/fuzz_cmdline.c lib/cmdline.c
FUZZ_SRCS_fuzz_pcboot := tests/fuzz/fuzz_pcboot.c vmm/boot_format.c \
	vmm/guest_layout.c \
	vmm/pc_boot.c vmm/acpi.c vmm/elf_loader.c
FUZZ_SRCS_fuzz_emulate := tests/fuzz/fuzz_emulate.c vmm/emulate.c
FUZZ_SRCS_fuzz_hcmem := tests/fuzz/fuzz_hcmem.c vmm/hc_mem_args.c
FUZZ_SRCS_fuzz_mmu = tests/fuzz/fuzz_mmu.c tests/host/mmu/swtlb.c \
	tests/host/mmu/util.c tests/host/platform_host.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)

FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZERS))

## Fuzzing (tests/fuzz/, clang libFuzzer; seed corpora in tests/fuzz/corpus/):
##   tests/fuzz/short.t  each fuzzer for FUZZ_SECS (4) s from its seeds
## make fuzz          each fuzzer for FUZZ_LONG_SECS (300) s; new inputs
##                    collect in $(BUILD)/fuzz/corpus/NAME/
BOOT_TESTS += tests/fuzz/short.t
TEST_DEPS += $(FUZZ_BINS)
FUZZ_LONG_SECS ?= 300

.PHONY: fuzz
fuzz: deps $(FUZZ_BINS)
	$(Q)FUZZ_SECS=$(FUZZ_LONG_SECS) FUZZ_KEEP=1 BUILD=$(BUILD) \
		tests/fuzz/short.t

