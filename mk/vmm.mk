# vmm/ and arch/x86/vmx: VMs, vCPUs, guest loading, exits, VMX plumbing.

## Host tests of vmm/ and arch/x86/vmx:
##   test_elf_loader  guest ELF validation and loading (malformed images)
HOST_TESTS += test_elf_loader
HOST_SRCS_test_elf_loader := tests/host/test_elf_loader.c vmm/elf_loader.c

# The loader test also reads the built guests.
TEST_DEPS += guests

##   test_boot_format  guest format detection: multiboot, PVH, refusals,
##                     hostile headers and notes
HOST_TESTS += test_boot_format
HOST_SRCS_test_boot_format := tests/host/test_boot_format.c \
	vmm/boot_format.c vmm/elf_loader.c

##   test_pc_boot     ACPI tables (acpidump-style checks, iasl -d when
##                    installed), PC memory map, multiboot/PVH info
HOST_TESTS += test_pc_boot
HOST_SRCS_test_pc_boot := tests/host/test_pc_boot.c vmm/pc_boot.c \
	vmm/acpi.c vmm/boot_format.c vmm/elf_loader.c vmm/guest_layout.c

##   test_hc_mem_args  memctl hypercall argument checks at their limits
HOST_TESTS += test_hc_mem_args
HOST_SRCS_test_hc_mem_args := tests/host/test_hc_mem_args.c \
	vmm/hc_mem_args.c

##   test_vmx_caps    VMX controls from capability MSRs, exit/error names
HOST_TESTS += test_vmx_caps
HOST_SRCS_test_vmx_caps := tests/host/test_vmx_caps.c \
	arch/x86/vmx/vmx_caps.c arch/x86/vmx/vmx_names.c

##   test_vlapic      local APIC register model: priority, IRR/ISR/EOI,
##                    destinations, timer arithmetic, x2APIC MSR rules
HOST_TESTS += test_vlapic
HOST_SRCS_test_vlapic := tests/host/test_vlapic.c vmm/vlapic.c

##   test_guest_layout  start info, GDT and identity map in guest RAM
HOST_TESTS += test_guest_layout
HOST_SRCS_test_guest_layout := tests/host/test_guest_layout.c \
	vmm/guest_layout.c

# The hypervisor side (needs the TDP MMU from mm/).
KERNEL_SRCS += arch/x86/vmx/entry.S arch/x86/vmx/vmx.c arch/x86/ept.c \
	vmm/vmm.c vmm/vm.c vmm/vmcs.c vmm/exit.c vmm/hypercall.c \
	vmm/devices.c vmm/vm_mem.c vmm/stats.c vmm/vmcs_io.c \
	vmm/event.c vmm/cr.c vmm/msr.c vmm/vmx_insn.c \
	vmm/vcpu.c vmm/request.c vmm/hc_mem.c vmm/hc_mem_args.c \
	vmm/emulate.c vmm/emulate_vmx.c vmm/mmio.c \
	vmm/gdb_guest.c vmm/vlapic.c vmm/intr.c \
	vmm/vpic.c vmm/vioapic.c vmm/vpit.c vmm/vrtc.c vmm/vuart.c \
	vmm/legacy.c vmm/legacy_irq.c \
	arch/x86/vmx/vmx_caps.c arch/x86/vmx/vmx_names.c \
	vmm/elf_loader.c vmm/guest_layout.c vmm/boot_format.c vmm/acpi.c \
	vmm/pc_boot.c vmm/cpuid.c

# `make run`/`make iso` boot the demo guest unless GUEST= says otherwise
# (GUEST= with nothing boots tidal alone).
GUEST ?= $(BUILD)/guests/demo.elf

## Guest boot tests (tests/boot/guest-*.t, Bochs tigerlake; logs in
## build/boot-tests/): hello32/64, cpuid, hltio, memtest, oob, triplefault,
## bad ELF, spin with timeout=, demo, bad options, protected (memtest on
## the guard's EPT, guest-protected.t), hostile64/hostile32 (attacks from
## inside, guest-hostile.t), forge (forged tidal lines, guest-forge.t),
## mmio32/64 (the instruction emulator: MMIO forms and string I/O,
## guest-mmio.t), PC guests (multiboot and PVH kernels with modules, ACPI
## tables and S5 power-off; a.out-kludge and unknown images refused:
## guest-pc.t), the local APIC (apictest at 1 and 4 vCPUs: timer modes,
## IPIs, INIT/SIPI, NMI, x2APIC: guest-apic.t), device interrupts (PIT,
## COM1 and console input through the I/O APIC and the 8259: irqtest at
## 1 and 2 vCPUs, guest-irq.t); guest-gdb.t checks
## tools/gdb; guest-kvm.t repeats the guest runs under KVM
## when nested VMX is there, else prints a SKIP.
BOOT_TESTS += $(sort $(wildcard tests/boot/guest-*.t))
TEST_DEPS += $(BUILD)/tidal.elf

##   test_vmm_gdb     a VM around the real TDP MMU, stopped for gdb;
##                    tests/boot/guest-gdb.t runs tools/gdb/tidal_vmm.py on it
HOST_TESTS += test_vmm_gdb
HOST_SRCS_test_vmm_gdb := tests/host/test_vmm_gdb.c $(MMU_CORE_SRCS) \
	$(MMU_LIB_SRCS)

##   test_exit_random  CR0/CR4/EFER rules and random exits through the
##                     event, CR, MSR and VMX-instruction handlers; every
##                     guest state left behind passes the VM-entry checks
HOST_TESTS += test_exit_random
HOST_SRCS_test_exit_random := tests/host/test_exit_random.c vmm/event.c \
	vmm/cr.c vmm/msr.c vmm/vmx_insn.c vmm/cpuid.c \
	arch/x86/vmx/vmx_caps.c

##   test_cpuid       the guest's CPUID (vmm/cpuid.c) from fake host
##                    CPUs: hidden features, topology, XSAVE, TSC leaves
HOST_TESTS += test_cpuid
HOST_SRCS_test_cpuid := tests/host/test_cpuid.c vmm/cpuid.c

##   test_vcpu_requests  vCPU requests, modes and kicks (vmm/request.c)
##                    with threads for CPUs: no stale TLB after a flush
HOST_TESTS += test_vcpu_requests
HOST_SRCS_test_vcpu_requests := tests/host/test_vcpu_requests.c \
	vmm/request.c
HOST_FLAVOURS_test_vcpu_requests := plain asan tsan

##   test_emulate     the MMIO/string-I/O instruction emulator: every form
##                    (tests/host/emulate_forms.h), page walks, faults,
##                    refusals and random bytes
HOST_TESTS += test_emulate
HOST_SRCS_test_emulate := tests/host/test_emulate.c vmm/emulate.c vmm/mmio.c

## Legacy PC device models (portable; docs/guest-abi.md "Platform"):
##   test_vpic    8259 pair: masks, priority, EOI, cascade, ELCR, poll
##   test_vioapic I/O APIC: redirection, edge/level, remote IRR, EOI
##   test_vpit    8254: modes 0/2/3, latch, read-back, port 0x61, IRQ 0
##   test_vrtc    RTC/CMOS: BCD/binary, 12h, UIP, memory sizes
##   test_vuart   16550A: FIFO, IIR priority, THRE, loopback, OUT2
##   test_legacy_irq  GSI routing and the vmm/irq.h calls (legacy_irq.c)
##                with recording local APIC stubs
HOST_TESTS += test_vpic test_vioapic test_vpit test_vrtc test_vuart \
	test_legacy_irq
HOST_SRCS_test_legacy_irq := tests/host/test_legacy_irq.c \
	vmm/legacy_irq.c vmm/vpic.c vmm/vioapic.c lib/lock_cpu.c lib/spinlock.c
HOST_SRCS_test_vpic := tests/host/test_vpic.c vmm/vpic.c
HOST_SRCS_test_vioapic := tests/host/test_vioapic.c vmm/vioapic.c
HOST_SRCS_test_vpit := tests/host/test_vpit.c vmm/vpit.c
HOST_SRCS_test_vrtc := tests/host/test_vrtc.c vmm/vrtc.c
HOST_SRCS_test_vuart := tests/host/test_vuart.c vmm/vuart.c
