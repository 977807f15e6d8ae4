// SPDX-License-Identifier: MIT
/*
 * tidal_main(): the first C code.  boot/entry.S calls it in long mode on
 * the boot stack, with the boot page tables (low 4 GiB mapped at 0 and at
 * DIRECT_MAP_BASE) and interrupts masked.
 */
#include "boot/bootinfo.h"
#include "boot/selftest.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_caps.h"
#include "arch/x86/desc.h"
#include "arch/x86/gdbstub.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/serial.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "lib/cmdline.h"
#include "lib/ebr.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/frame_boot.h"
#include "mm/paging.h"
#include "vmm/vmm.h"

void tidal_main(uint32_t magic, uint32_t mbi_phys);

/* The parsed boot information lives for the whole run. */
static struct boot_info boot_info;

/* Where boot has got to; gdb and the gdb test read it. */
volatile int tidal_boot_stage;

/* Write to @addr, hidden from the compiler so it cannot reason about it. */
static void fault_at(uintptr_t addr)
{
	__asm__ __volatile__("" : "+r"(addr));
	*(volatile uint64_t *)addr = 1;
}

/*
 * Unbounded recursion for test=stack (the stop value is never reached; it
 * is volatile so the compiler cannot prove that).  Using the result
 * defeats tail calls.
 */
static volatile int recurse_stop = -1;

static __attribute__((noinline)) int recurse(int depth)
{
	volatile char pad[256];

	if (depth == recurse_stop)
		return 0;
	pad[0] = (char)depth;
	return recurse(depth + 1) + pad[0];
}

/*
 * "test=NAME" on the command line triggers a fault on purpose so that
 * boot tests can check the exception path and the symbolizer.  noinline:
 * the backtrace must show this function by name.
 */
void tidal_main(uint32_t magic, uint32_t mbi_phys);

static __attribute__((noinline)) void tidal_test_hook(const char *cmdline)
{
	char what[16];

	if (!cmdline_get(cmdline, "test", what, sizeof(what)))
		return;
	pr_info("tidal: test hook: %s\n", what);
	if (!strcmp(what, "ud2"))
		__asm__ __volatile__("ud2");
	else if (!strcmp(what, "pf"))
		fault_at(0x18); /* the low half is unmapped */
	else if (!strcmp(what, "wp"))
		fault_at((uintptr_t)tidal_main); /* text is read-only */
	else if (!strcmp(what, "nx"))
		((void (*)(void))(uintptr_t)&boot_info)(); /* data is NX */
	else if (!strcmp(what, "df"))
		/*
		 * A fault with an unusable stack: delivering #UD faults on
		 * the stack, which becomes #DF, handled on its own IST stack.
		 */
		__asm__ __volatile__("movq $0x1000, %%rsp; ud2" ::: "memory");
	else if (!strcmp(what, "stack"))
		recurse(0); /* runs into the boot stack's guard page */
	else if (!strcmp(what, "panic"))
		panic("test hook asked for a panic");
	else if (!strcmp(what, "smp-refuse") || !strcmp(what, "smp-mb-guest"))
		; /* done by smp_init() / around vmm_start() */
	else
		pr_warn("tidal: test hook: unknown test '%s'\n", what);
}

static void set_log_level(const char *cmdline)
{
	char val[16];
	enum log_level lvl;

	if (!cmdline_get(cmdline, "loglevel", val, sizeof(val)))
		return;
	if (log_level_parse(val, &lvl))
		console_loglevel = lvl;
	else
		pr_warn("tidal: ignoring loglevel=%s (want 0-3 or "
			"err/warn/info/debug)\n",
			val);
}

static void parse_boot_info(uint32_t magic, uint32_t mbi_phys)
{
	char err[160];
	const void *mbi = phys_to_virt(mbi_phys);

	/* entry.S already refused other loaders; this guards the C entry. */
	if (magic != MB2_BOOTLOADER_MAGIC || !mbi_phys) {
		pr_err("tidal: bad boot magic %#x / block %#x\n", magic,
		       mbi_phys);
		power_off(1);
	}
	/* The boot page tables map the low 4 GiB: never read past that. */
	if (mb2_parse(mbi, (size_t)(4 * GiB - mbi_phys), mbi_phys, &boot_info,
		      err, sizeof(err))) {
		pr_err("tidal: bad multiboot2 information: %s\n", err);
		power_off(1);
	}
}

static void report_memory(const struct boot_info *bi)
{
	uint64_t usable = boot_usable_bytes(bi);

	for (unsigned int i = 0; i < bi->mmap_count; i++)
		pr_debug("tidal: mmap: %#018llx-%#018llx type %u\n",
			 (unsigned long long)bi->mmap[i].base,
			 (unsigned long long)(bi->mmap[i].base +
					      bi->mmap[i].len - 1),
			 bi->mmap[i].type);
	if (bi->mmap_dropped)
		pr_warn("tidal: memory map: %u entries ignored (table full)\n",
			bi->mmap_dropped);
	if (bi->mmap_source == BOOT_MMAP_NONE) {
		pr_err("tidal: the boot loader gave no memory map\n");
		power_off(1);
	}
	pr_info("tidal: memory: %llu MiB usable\n",
		(unsigned long long)(usable / MiB));
	if (usable < TIDAL_MIN_MEM_MIB * MiB) {
		pr_err("tidal: not enough memory: tidal needs at least %d MiB\n",
		       TIDAL_MIN_MEM_MIB);
		power_off(1);
	}
}

static void report_modules(const struct boot_info *bi)
{
	for (unsigned int i = 0; i < bi->module_count; i++)
		pr_info("tidal: module: %s %llu bytes\n",
			bi->modules[i].cmdline,
			(unsigned long long)(bi->modules[i].end -
					     bi->modules[i].start));
}

/* test=smp-mb-guest: CPU 1 runs membarrier rounds while the guest runs. */
static int mb_stop;
static unsigned long mb_rounds;

static void membarrier_loop(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&mb_stop, __ATOMIC_ACQUIRE)) {
		platform_membarrier();
		mb_rounds++;
		tsc_delay_us(20);
	}
}

static int run_vmm(const struct boot_info *bi)
{
	char what[16];
	bool mb = cmdline_get(bi->cmdline, "test", what, sizeof(what)) &&
		  !strcmp(what, "smp-mb-guest") &&
		  !smp_start_on(1, membarrier_loop, NULL);
	int status = vmm_start(bi);

	if (mb) {
		__atomic_store_n(&mb_stop, 1, __ATOMIC_RELEASE);
		while (smp_cpu_busy(1))
			cpu_relax();
		pr_info("tidal: smp: %lu membarrier rounds from CPU 1 while "
			"the guest ran\n",
			mb_rounds);
	}
	return status;
}

void tidal_main(uint32_t magic, uint32_t mbi_phys)
{
	struct cpu_caps caps;
	const struct boot_info *bi = &boot_info;
	int status;

	percpu_init_boot_cpu();
	serial_init();
	desc_init_boot_cpu();
	tidal_boot_stage = 1;

	parse_boot_info(magic, mbi_phys);
	set_log_level(bi->cmdline);
	pr_info("tidal: loader: %s\n",
		bi->loader_name[0] ? bi->loader_name : "(unnamed)");
	pr_info("tidal: cmdline: %s\n", bi->cmdline);
	gdbstub_init(bi->cmdline); /* "break": gdb takes over here */
	report_memory(bi);

	frame_boot_init(bi);
	paging_init(bi);
	power_init(bi);
	tsc_init();
	smp_init(bi);
	ebr_init();
	pr_info("tidal: ebr: %s\n",
		ebr_asymmetric() ? "fence-free read side (membarrier by NMI)"
				 : "fenced read side");
	tidal_boot_stage = 2;

	if (cmdline_has(bi->cmdline, "selftest") && selftest_run())
		power_off(1);
	report_modules(bi);
	tidal_test_hook(bi->cmdline);

	cpu_caps_probe(&caps);
	cpu_caps_print(&caps);
	if (!caps.vmx) {
		pr_info("tidal: VMX is not available on this CPU, so tidal "
			"cannot run guests here; powering off (not an "
			"error)\n");
		power_off(0);
	}
	if (!bi->module_count) {
		pr_info("tidal: nothing to run\n");
		power_off(0);
	}
	tidal_boot_stage = 3;
	status = run_vmm(bi);
	power_off(status);
}
