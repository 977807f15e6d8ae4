# vmm/ and arch/x86/vmx: VMs, vCPUs, guest loading, exits, VMX plumbing.

## Host tests of vmm/ and arch/x86/vmx:
##   test_elf_loader  guest ELF validation and loading (malformed images)
HOST_TESTS += test_elf_loader
HOST_SRCS_test_elf_loader := tests/host/test_elf_loader.c vmm/elf_loader.c

# The loader test also reads the built guests.
TEST_DEPS += guests

##   test_vmx_caps    VMX controls from capability MSRs, exit/error names
HOST_TESTS += test_vmx_caps
HOST_SRCS_test_vmx_caps := tests/host/test_vmx_caps.c \
	arch/x86/vmx/vmx_caps.c arch/x86/vmx/vmx_names.c

##   test_guest_layout  start info, GDT and identity map in guest RAM
HOST_TESTS += test_guest_layout
HOST_SRCS_test_guest_layout := tests/host/test_guest_layout.c \
	vmm/guest_layout.c

# The hypervisor side (needs the TDP MMU from mm/).
KERNEL_SRCS += arch/x86/vmx/entry.S arch/x86/vmx/vmx.c arch/x86/ept.c \
	vmm/vmm.c vmm/vm.c vmm/vmcs.c vmm/exit.c vmm/hypercall.c \
	vmm/devices.c vmm/vm_mem.c vmm/stats.c vmm/gdb_guest.c \
	arch/x86/vmx/vmx_caps.c arch/x86/vmx/vmx_names.c \
	vmm/elf_loader.c vmm/guest_layout.c

# `make run`/`make iso` boot the demo guest unless GUEST= says otherwise
# (GUEST= with nothing boots tidal alone).
GUEST ?= $(BUILD)/guests/demo.elf

## Guest boot tests (tests/boot/guest-*.t, Bochs tigerlake; logs in
## build/boot-tests/): hello32/64, cpuid, hltio, memtest, oob, triplefault,
## bad ELF, spin with timeout=, demo, bad options, protected (memtest on
## the guard's EPT, guest-protected.t); guest-gdb.t checks
## tools/gdb; guest-kvm.t repeats the guest runs under KVM
## when nested VMX is there, else prints a SKIP.
BOOT_TESTS += $(sort $(wildcard tests/boot/guest-*.t))
TEST_DEPS += $(BUILD)/tidal.elf

##   test_vmm_gdb     a VM around the real TDP MMU, stopped for gdb;
##                    tests/boot/guest-gdb.t runs tools/gdb/tidal_vmm.py on it
HOST_TESTS += test_vmm_gdb
HOST_SRCS_test_vmm_gdb := tests/host/test_vmm_gdb.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)
