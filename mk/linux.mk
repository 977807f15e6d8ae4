# A stock Debian Linux as a tidal guest (tools/linux-guest, docs/linux.md).

## make run-linux     boot Debian's kernel (PVH vmlinux) + a busybox
##                    initramfs under tidal in Bochs; LINUX_CMDLINE,
##                    LINUX_CPUS (vCPUs = Bochs CPUs, default 4),
##                    LINUX_TIDAL_ARGS, LINUX_INIT=shell
LINUX_DIR := $(BUILD)/linux
# ACPI on (MADT, FADT, _S5); no PCI bus and no HPET on tidal's PC.
LINUX_CMDLINE ?= console=ttyS0 mitigations=off cryptomgr.notests pci=off \
	nohpet
LINUX_CPUS ?= 4
LINUX_TIDAL_ARGS ?= mem=256M vcpus=$(LINUX_CPUS)
LINUX_TIMEOUT ?= 900
LINUX_ISO := $(LINUX_DIR)/linux.iso

.PHONY: linux-guest run-linux FORCE
# tools/linux-guest caches its downloads and rewrites an output only when
# it changes, so what depends on these is rebuilt only then.
$(LINUX_DIR)/vmlinux $(LINUX_DIR)/initrd.cpio.gz &: FORCE
	$(Q)tools/linux-guest -o $(LINUX_DIR)
linux-guest: $(LINUX_DIR)/vmlinux

# The ISO's options, rewritten only when they change.
LINUX_ISO_ARGS := $(LINUX_TIDAL_ARGS) | $(LINUX_CMDLINE)
$(LINUX_DIR)/iso-args: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(call shq,$(LINUX_ISO_ARGS))' | cmp -s - $@ || \
		echo '$(call shq,$(LINUX_ISO_ARGS))' >$@

$(LINUX_ISO): $(LINUX_DIR)/vmlinux $(LINUX_DIR)/initrd.cpio.gz \
		$(LINUX_DIR)/iso-args $(KERNEL_ELF) tools/mkiso
	$(quiet) ISO $@
	$(Q)tools/mkiso -o $@ -k $(KERNEL_ELF) \
		-a '$(call shq,$(LINUX_TIDAL_ARGS))' \
		-g $(LINUX_DIR)/vmlinux -A '$(call shq,$(LINUX_CMDLINE))' \
		-m $(LINUX_DIR)/initrd.cpio.gz

# LINUX_INIT=shell: this terminal is the guest's console (raw mode,
# Ctrl-] quits; tools/serial-relay).
run-linux: deps $(LINUX_ISO)
	$(Q)tools/run-bochs --cpus $(LINUX_CPUS) --mem 512 \
		--timeout $(LINUX_TIMEOUT) \
		$(if $(filter shell,$(LINUX_INIT)),--interactive) $(LINUX_ISO)

## make test-linux    tests/boot/linux.t (also in make test): the scripted
##                    /init with 1 and 4 vCPUs, ACPI S5 power-off; SKIP
##                    only if the kernel cannot be fetched
## make test-linux-full  tests/boot/linux-full.t: the prefault and
##                    protected variants (longer, not in make test)
BOOT_TESTS += tests/boot/linux.t
.PHONY: test-linux test-linux-full
test-linux: deps $(KERNEL_ELF)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) tests/boot/linux.t
test-linux-full: deps $(KERNEL_ELF)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) tests/boot/linux-full.t

## make test-linux-shell  tests/boot/linux-shell.t: the shell /init driven
##                    through a pseudo-terminal (type a command, Ctrl-C,
##                    power off; 5-15 min); SKIP if the download fails
.PHONY: test-linux-shell
test-linux-shell: deps $(KERNEL_ELF)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) tests/boot/linux-shell.t
