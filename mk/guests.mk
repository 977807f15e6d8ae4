# Test guests and the demo guest: freestanding ELF32/ELF64 programs that
# tidal loads as multiboot2 modules.  They have their own build, separate
# from the hypervisor's flags.

GUEST_DIR := $(BUILD)/guests
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -I. \
	-Itests/guests
GUEST_CFLAGS_32 := -m32 -march=i686
GUEST_CFLAGS_64 := -m64 -mno-red-zone -mgeneral-regs-only -mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

# name:bits:source
GUEST_PROGS := hostile64:64:hostile/hostile64 hostile32:32:hostile/hostile32 \
	forge:64:hostile/forge hello32:32:hello hello64:64:hello cpuid:64:cpuid \
	hltio:32:hltio memtest:64:memtest oob:32:oob \
	triplefault:64:triplefault spin:64:spin demo:64:demo \
	coherence:64:coherence storm:64:storm gdbsmp:64:gdbsmp \
	mmio32:32:mmio mmio64:64:mmio

GUEST_LIB_SRCS := tests/guests/lib/guest.c
GUEST_ELFS := $(foreach g,$(GUEST_PROGS),$(GUEST_DIR)/$(word 1,$(subst :, ,$(g))).elf)
GUEST_BAD_ELF := $(GUEST_DIR)/bad-phdrs.elf

$(GUEST_DIR)/obj32/%.o: tests/guests/%.c
	@mkdir -p $(@D)
	$(quiet) GCC32 $<
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_32) -MMD -MP -c $< -o $@
$(GUEST_DIR)/obj64/%.o: tests/guests/%.c
	@mkdir -p $(@D)
	$(quiet) GCC64 $<
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_64) -MMD -MP -c $< -o $@
$(GUEST_DIR)/obj32/%.o: tests/guests/%.S
	@mkdir -p $(@D)
	$(quiet) AS32 $<
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_32) -c $< -o $@
$(GUEST_DIR)/obj64/%.o: tests/guests/%.S
	@mkdir -p $(@D)
	$(quiet) AS64 $<
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_64) -c $< -o $@

define guest_rules
$(GUEST_DIR)/$(1).elf: $(GUEST_DIR)/obj$(2)/lib/start$(2).o \
		$(GUEST_DIR)/obj$(2)/lib/guest.o $(GUEST_DIR)/obj$(2)/$(3).o \
		tests/guests/lib/guest$(2).ld
	$$(quiet) LD$(2) $$@
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_$(2)) $(GUEST_LDFLAGS) \
		-T tests/guests/lib/guest$(2).ld -o $$@ \
		$$(filter %.o,$$^)
endef
$(foreach g,$(GUEST_PROGS),$(eval $(call guest_rules,$(word 1,$(subst :, ,$(g))),$(word 2,$(subst :, ,$(g))),$(word 3,$(subst :, ,$(g))))))

# Kernels for the PC boot protocols (multiboot v1, PVH): their own entry
# and header or note, the shared checks in pc_checks.c, no tidal start code.
PC_GUESTS := mb1kernel pvhkernel apictest irqtest cputable exitbench
PC_GUEST_ELFS := $(PC_GUESTS:%=$(GUEST_DIR)/%.elf)
# Refusal tests: an a.out-kludge multiboot kernel, a file of no known format.
GUEST_MB1_AOUT := $(GUEST_DIR)/mb1-aout.elf
GUEST_UNKNOWN := $(GUEST_DIR)/unknown.bin

$(PC_GUEST_ELFS): $(GUEST_DIR)/%.elf: $(GUEST_DIR)/obj32/%.o \
		$(GUEST_DIR)/obj32/pc_checks.o $(GUEST_DIR)/obj32/pc_devices.o \
		$(GUEST_DIR)/obj32/pc_cpu.o $(GUEST_DIR)/obj32/lib/guest.o \
		tests/guests/lib/pc32.ld
	$(quiet) LD32 $@
	$(Q)$(KCC) $(GUEST_CFLAGS) $(GUEST_CFLAGS_32) $(GUEST_LDFLAGS) \
		-T tests/guests/lib/pc32.ld -o $@ $(filter %.o,$^)

$(GUEST_MB1_AOUT): $(GUEST_DIR)/mb1kernel.elf tests/guests/mkmb1aout.py
	$(quiet) MB1AOUT $@
	$(Q)tests/guests/mkmb1aout.py $< $@

$(GUEST_UNKNOWN):
	@mkdir -p $(@D)
	$(quiet) GEN $@
	$(Q)printf 'this is not a kernel image\n' > $@

$(GUEST_BAD_ELF): $(GUEST_DIR)/hello64.elf tests/guests/mkbadelf.py
	$(quiet) BADELF $@
	$(Q)tests/guests/mkbadelf.py $< phdrs-outside-file $@

.PHONY: guests
## guests           build the test guests and the demo guest (build/guests/)
guests: $(GUEST_ELFS) $(GUEST_BAD_ELF) $(PC_GUEST_ELFS) $(GUEST_MB1_AOUT) \
	$(GUEST_UNKNOWN)
all: guests

-include $(shell find $(GUEST_DIR) -name '*.d' 2>/dev/null)
