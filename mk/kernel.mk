# The hypervisor image: boot path, x86 support, console, memory.
#
# The kernel links CORE_SRCS through build/kernel/libcore.a (so core
# objects nobody calls yet are compiled but not pulled in) plus
# KERNEL_SRCS.  Generic rules: mk/kernel.rules.

CORE_SRCS += lib/printf.c lib/cmdline.c boot/mb2.c mm/frame.c

KERNEL_SRCS += boot/header.S boot/entry.S boot/trampoline.S boot/main.c boot/vmm_default.c \
	boot/selftest.c \
	lib/string.c lib/console.c \
	arch/x86/serial.c arch/x86/cpu.c arch/x86/cpu_caps.c arch/x86/power.c \
	arch/x86/acpi.c arch/x86/madt.c arch/x86/apic.c \
	arch/x86/gdt.c arch/x86/idt.c arch/x86/isr.S arch/x86/traps.c \
	arch/x86/platform.c arch/x86/tsc.c arch/x86/heap.c arch/x86/smp.c \
	arch/x86/gdbstub.c arch/x86/string.c \
	mm/paging.c mm/frame_boot.c

## make               build build/tidal.elf (the hypervisor image)
## make iso           build build/tidal.iso (GRUB, BIOS + UEFI); variables:
##                      TIDAL_ARGS (hypervisor command line), GUEST (guest
##                      ELF, empty: none), GUEST_ARGS (its command line),
##                      GUEST_MODULES (FILE[:ARGS] words: modules for a
##                      multiboot or PVH guest, e.g. an initrd)
## make run           build the ISO and boot it on the best vehicle here
##                      (KVM with VMX if usable, else Bochs); log symbolized
## make run-qemu      boot the ISO under QEMU TCG + SeaBIOS (no VMX)
##                      (QEMU_FIRMWARE=ovmf for UEFI)
## make run-bochs     boot the ISO under Bochs (emulated VMX + EPT);
##                      CONSOLE=interactive: this terminal is the console
##                      (typing reaches the guest's COM1, Ctrl-] quits)
## make run-kvm       boot the ISO under QEMU + KVM -cpu host (needs VMX)
## make debug         QEMU halted with its gdb stub + gdb with symbols,
##                      breakpoint on tidal_main
## make debug-bochs   Bochs with tidal's own gdb stub on COM2 (a TCP socket)
##                      + gdb attached, stopped at boot ("break"); VMX works
## make test          build and run every test (host + boot) through prove
## make clean         remove build/
## make V=1 ...       show full commands
