# Host tests and boot tests of the boot path (boot/, arch/x86/, mm/frame*).

## Host tests of the boot path: test_mb2 (multiboot2 parser), test_printf
##   (formatter + command line), test_frame (frame allocator), test_madt
##   (ACPI MADT parser: valid, truncated and hostile tables)
HOST_TESTS += test_mb2 test_printf test_frame test_madt
HOST_SRCS_test_madt := tests/host/test_madt.c arch/x86/madt.c lib/printf.c
HOST_SRCS_test_mb2 := tests/host/test_mb2.c boot/mb2.c lib/printf.c
HOST_SRCS_test_printf := tests/host/test_printf.c lib/printf.c lib/cmdline.c
HOST_SRCS_test_frame := tests/host/test_frame.c mm/frame.c
HOST_FLAVOURS_test_frame := plain asan tsan

# Boot tests: TAP scripts that boot ISOs built here under QEMU (SeaBIOS and
# OVMF), Bochs and gdb.  Their ISOs carry no guest, so they test the boot
# path whatever the default guest is.
BT := $(BUILD)/boottest
BOOT_TEST_ISOS := $(BT)/plain.iso $(BT)/module.iso $(BT)/mb1.iso \
	$(BT)/ud2.iso $(BT)/pf.iso $(BT)/wp.iso $(BT)/nx.iso $(BT)/panic.iso \
	$(BT)/df.iso $(BT)/stack.iso

## Boot tests (make test-boot): tests/boot/qemu-bios.t, qemu-ovmf.t,
##   bochs.t, exceptions.t (test= hooks + symbolizer), refusals.t (no long
##   mode, multiboot1 loader, too little memory), gdb.t, vehicle.t (make run
##   picks Bochs here: no VMX on this CPU), smp.t (Bochs with 1, 2 and 4
##   CPUs, cpus=, QEMU -smp 4)
BOOT_TESTS += tests/boot/qemu-bios.t tests/boot/qemu-ovmf.t \
	tests/boot/bochs.t tests/boot/exceptions.t tests/boot/refusals.t \
	tests/boot/gdb.t tests/boot/vehicle.t tests/boot/smp.t

## gdbstub.t: tidal's own gdb stub on COM2 under Bochs (break, breakpoints,
##   steps, watchpoint on a VM counter, threads, the guest through
##   "monitor guest", a 2-vCPU guest with a thread per vCPU, clean
##   power-off)
BOOT_TESTS += tests/boot/gdbstub.t tests/boot/gdbstub-raw.t
TEST_DEPS += guests
# (mk/kernel.rules, which names the image, is read after this fragment.)
BT_ELF := $(BUILD)/tidal.elf
TEST_DEPS += $(BT_ELF) $(BOOT_TEST_ISOS) $(BT)/dummy.elf

BT_ISO_DEPS := $(BT_ELF) tools/mkiso

$(BT)/dummy.elf: $(BT_ELF)
	@mkdir -p $(@D)
	$(Q)cp $< $@

$(BT)/plain.iso: $(BT_ISO_DEPS)
	$(quiet) ISO $@
	$(Q)tools/mkiso -o $@ -k $(BT_ELF)

$(BT)/module.iso: $(BT_ISO_DEPS) $(BT)/dummy.elf
	$(quiet) ISO $@
	$(Q)tools/mkiso -o $@ -k $(BT_ELF) -a "loglevel=debug selftest" \
		-g $(BT)/dummy.elf -A "one two"

$(BT)/mb1.iso: $(BT_ISO_DEPS)
	$(quiet) ISO $@
	$(Q)tools/mkiso -o $@ -k $(BT_ELF) -L multiboot

$(BT)/ud2.iso $(BT)/pf.iso $(BT)/wp.iso $(BT)/nx.iso $(BT)/panic.iso \
		$(BT)/df.iso $(BT)/stack.iso: \
		$(BT)/%.iso: $(BT_ISO_DEPS)
	$(quiet) ISO $@
	$(Q)tools/mkiso -o $@ -k $(BT_ELF) -a "test=$*"
