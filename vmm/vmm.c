// SPDX-License-Identifier: MIT
/*
 * vmm_start(): from the booted machine to a finished guest.  Options come
 * from tidal's command line, the guest from the first multiboot2 module.
 * The return value is the power-off status: the guest's exit status, or
 * failure when anything went wrong or tidal had to stop the guest.
 */
#include "vmm/vmm.h"
#include "vmm/vm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/vmx/vmx.h"
#include "boot/bootinfo.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/paging.h"

#define DEFAULT_MEM (64 * MiB)

static struct vm the_vm;

/* "64M", "1G", "65536K", "4194304": bytes, or 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return 0;
	switch (*p) {
	case 'K':
	case 'k':
		v <<= 10;
		p++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		p++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		p++;
		break;
	}
	return *p ? 0 : v;
}

/* "500ms", "2s", "3" (seconds): nanoseconds, or 0 when malformed. */
static uint64_t parse_time(const char *s)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && v < 1000000000ull; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == s)
		return 0;
	if (p[0] == 'm' && p[1] == 's' && !p[2])
		return v * 1000000ull;
	if ((p[0] == 's' && !p[1]) || !p[0])
		return v * 1000000000ull;
	return 0;
}

/* "vcpus=N": 1..min(CPUs online, VM_MAX_VCPUS). */
static int parse_vcpus(const char *cmdline, unsigned int *n)
{
	unsigned int online = smp_cpus_online();
	char buf[16];
	uint64_t v = 0;
	const char *p;

	*n = 1;
	if (!cmdline_get(cmdline, "vcpus", buf, sizeof(buf)))
		return 0;
	for (p = buf; *p >= '0' && *p <= '9' && v < 1000; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == buf || *p || v < 1) {
		printk("tidal: bad vcpus=%s: want a number from 1\n", buf);
		return -1;
	}
	if (v > online || v > VM_MAX_VCPUS) {
		printk("tidal: bad vcpus=%s: only %u CPUs online (at most %u "
		       "vCPUs, one per CPU)\n",
		       buf, online, MIN(online, (unsigned int)VM_MAX_VCPUS));
		return -1;
	}
	*n = (unsigned int)v;
	return 0;
}

/*
 * "KEY=a" or "KEY=b": *choice is 0 or 1 for a or b, -1 when KEY is absent.
 * Returns -1, after saying why, for any other value.
 */
static int parse_either(const char *cmdline, const char *key, const char *a,
			const char *b, int *choice)
{
	char buf[16];

	*choice = -1;
	if (!cmdline_get(cmdline, key, buf, sizeof(buf)))
		return 0;
	if (!strcmp(buf, a))
		*choice = 0;
	else if (!strcmp(buf, b))
		*choice = 1;
	else {
		printk("tidal: bad %s=%s: want %s or %s\n", key, buf, a, b);
		return -1;
	}
	return 0;
}

/* "debug=noflush" / "debug=noipi": break the flush protocol (tests). */
static int parse_debug(const char *cmdline, unsigned int *debug)
{
	static const unsigned int flags[] = {VM_DEBUG_NOFLUSH, VM_DEBUG_NOIPI};
	int c;

	*debug = 0;
	if (parse_either(cmdline, "debug", "noflush", "noipi", &c))
		return -1;
	if (c < 0)
		return 0;
	*debug = flags[c];
	printk("tidal: debug=%s: remote TLB flushes are broken on purpose "
	       "(tests only)\n",
	       c ? "noipi" : "noflush");
	return 0;
}

/* "apic=emulate|virtualize" (default: virtualize where the CPU can). */
static int parse_apic(const char *cmdline, enum apic_mode *mode)
{
	int c;

	*mode = APIC_MODE_DEFAULT;
	if (parse_either(cmdline, "apic", "emulate", "virtualize", &c))
		return -1;
	if (c >= 0)
		*mode = c ? APIC_MODE_VIRTUALIZE : APIC_MODE_EMULATE;
	return 0;
}

static int parse_options(const char *cmdline, struct vm_config *cfg)
{
	char buf[32];
	const char *why;

	*cfg = (struct vm_config){.mem_bytes = DEFAULT_MEM};
	if (cmdline_get(cmdline, "mem", buf, sizeof(buf))) {
		cfg->mem_bytes = parse_size(buf);
		why = cfg->mem_bytes ? guest_mem_check(cfg->mem_bytes)
				     : "not a size";
		if (why) {
			printk("tidal: bad mem=%s: %s\n", buf, why);
			return -1;
		}
	}
	if (cmdline_get(cmdline, "timeout", buf, sizeof(buf))) {
		cfg->timeout_ns = parse_time(buf);
		if (!cfg->timeout_ns) {
			printk("tidal: bad timeout=%s: want e.g. 500ms or 2s\n",
			       buf);
			return -1;
		}
	}
	if (parse_vcpus(cmdline, &cfg->nr_vcpus) ||
	    parse_debug(cmdline, &cfg->debug) ||
	    parse_apic(cmdline, &cfg->apic))
		return -1;
	return 0;
}

/* GRUB gives "path args..." for a module: the guest gets the args. */
static const char *guest_args(const char *modline)
{
	const char *p = modline;

	if (*p != '/')
		return modline;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

/* Every module after the guest's own goes to the guest, in order. */
static unsigned int collect_modules(const struct boot_info *bi,
				    struct pc_module *mods)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];

		if (n == PC_MODULES_MAX) {
			printk("tidal: guest: more than %u guest modules: the "
			       "rest are ignored\n",
			       PC_MODULES_MAX);
			break;
		}
		mods[n++] = (struct pc_module){phys_to_virt(m->start),
					       (size_t)(m->end - m->start),
					       guest_args(m->cmdline)};
	}
	return n;
}

int vmm_start(const struct boot_info *bi)
{
	const struct boot_module *mod;
	struct vm *vm = &the_vm;
	struct pc_module mods[PC_MODULES_MAX];
	struct vm_config cfg;
	int status;

	if (parse_options(bi->cmdline, &cfg))
		return 1;
	if (bi->module_count == 0) {
		printk("tidal: guest: no guest module: nothing to run\n");
		return 0;
	}
	mod = &bi->modules[0];
	unsigned int nmods = collect_modules(bi, mods);

	/* The PIC is not tidal's: keep its interrupts from reaching us. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	if (vmx_init() || vmx_cpu_on())
		return 1;
	/* A kick must be acknowledged by the exit, or it would loop. */
	if (cfg.nr_vcpus > 1 && !vmx_caps.ack_intr) {
		printk("tidal: vcpus=%u needs VMX acknowledge-interrupt-on-"
		       "exit, which this CPU lacks\n",
		       cfg.nr_vcpus);
		vmx_cpu_off();
		return 1;
	}
	cfg.mods = mods;
	cfg.nmods = nmods;
	if (vm_create(vm, &cfg, phys_to_virt(mod->start),
		      (size_t)(mod->end - mod->start),
		      guest_args(mod->cmdline))) {
		vmx_cpu_off();
		return 1;
	}
	/* "prefault": map all guest RAM now instead of fault by fault. */
	if (cmdline_has(bi->cmdline, "prefault"))
		vm_mem_prefault(vm);
	printk("tidal: vm: starting guest \"%s\" (%llu MiB%s)\n",
	       guest_args(mod->cmdline),
	       (unsigned long long)(cfg.mem_bytes >> 20),
	       cfg.timeout_ns ? ", time limit set" : "");
	vm_run(vm);
	vm_print_summary(vm);
	status = vm->state == VM_EXITED ? vm->status : 1;
	vm_destroy(vm);
	vmx_cpu_off();
	printk("tidal: vm: done, status %d\n", status);
	return status;
}
