# A stock Debian Linux as a tidal guest (tools/linux-guest, docs/linux.md).

## make run-linux     boot Debian's kernel (PVH vmlinux) + a busybox
##                    initramfs under tidal in Bochs; LINUX_CMDLINE,
##                    LINUX_TIDAL_ARGS, LINUX_CPUS, LINUX_INIT=shell
LINUX_DIR := $(BUILD)/linux
# Until the local APIC, I/O APIC and PIT are emulated: one vCPU, no APIC,
# no ACPI interrupts, no PCI (docs/linux.md says where it stops).
LINUX_CMDLINE ?= console=ttyS0 earlyprintk=serial mitigations=off \
	cryptomgr.notests acpi=off nolapic noapic pci=off nohpet
LINUX_TIDAL_ARGS ?= mem=256M vcpus=1
LINUX_CPUS ?= 1
LINUX_TIMEOUT ?= 600
LINUX_ISO := $(LINUX_DIR)/linux.iso

.PHONY: linux-guest run-linux
linux-guest:
	$(Q)tools/linux-guest -o $(LINUX_DIR)

$(LINUX_ISO): linux-guest $(KERNEL_ELF) tools/mkiso
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

## make test-linux    tests/boot/linux.t: boot the Debian kernel under
##                    tidal in Bochs (5-15 min); SKIP if the download fails
.PHONY: test-linux
test-linux: deps $(KERNEL_ELF)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) tests/boot/linux.t

## make test-linux-shell  tests/boot/linux-shell.t: the shell /init driven
##                    through a pseudo-terminal (type a command, Ctrl-C,
##                    power off; 5-15 min); SKIP if the download fails
.PHONY: test-linux-shell
test-linux-shell: deps $(KERNEL_ELF)
	$(Q)$(PROVE) --exec '' $(PROVE_FLAGS) tests/boot/linux-shell.t
