// SPDX-License-Identifier: MIT
/*
 * A multiboot (v1) test kernel: checks the entry state and the multiboot
 * information tidal gives it (pc_checks.h), then powers off through ACPI.
 */
#include "pc_checks.h"
#include "vmm/pc.h"

#define HDR_FLAGS (MB1_HF_PAGE_ALIGN | MB1_HF_MEMINFO)

/* The header, first in the image: inside the first 8 KiB of the file. */
__asm__(".section .text.entry, \"ax\"\n"
	".code32\n"
	".balign 4\n"
	"mb1_header:\n"
	".long 0x1badb002, 3, -(0x1badb002 + 3)\n"
	".globl _start\n"
	"_start:\n"
	"cli\n"
	"movl $mb1_stack_top, %esp\n"
	"pushl %ebx\n"
	"pushl %eax\n"
	"call mb1_main\n"
	"1: hlt\n"
	"jmp 1b\n"
	".section .bss\n"
	".balign 16\n"
	"mb1_stack: .skip 16384\n"
	"mb1_stack_top:\n");

_Static_assert(HDR_FLAGS == 3, "header flags in the asm above");

void mb1_main(uint32_t magic, uint32_t info_pa);

static uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

void mb1_main(uint32_t magic, uint32_t info_pa)
{
	const struct mb1_info *mbi = (const void *)(uintptr_t)info_pa;
	struct pc_region map[16];
	struct pc_mod mods[16];
	const char *cmdline = "";
	unsigned int n = 0;

	com1_init();
	printf("mb1: magic %x, info at %x, flags %x\n", magic, info_pa,
	       mbi->flags);
	pc_check(magic == MB1_BOOT_MAGIC, "EAX holds the multiboot magic");
	pc_check((read_cr0() & 0x80000001u) == 1, "protected mode, paging off");
	pc_check((mbi->flags & 0x24d) == 0x24d,
		 "info flags: mem, cmdline, mods, mmap, loader name");
	if (mbi->flags & MB1_INFO_CMDLINE)
		cmdline = (const char *)(uintptr_t)mbi->cmdline;
	printf("mb1: cmdline \"%s\", loader \"%s\"\n", cmdline,
	       (const char *)(uintptr_t)mbi->boot_loader_name);
	pc_check(!memcmp((const char *)(uintptr_t)mbi->boot_loader_name,
			 "tidal", 6),
		 "boot loader name");
	pc_check(mbi->mem_lower == 640, "mem_lower 640 KiB");
	pc_check(mbi->mem_upper >= 1024, "mem_upper %u KiB", mbi->mem_upper);
	for (uint32_t off = 0; off < mbi->mmap_length && n < 16; n++) {
		const struct mb1_mmap_entry *e =
			(const void *)(uintptr_t)(mbi->mmap_addr + off);

		map[n] = (struct pc_region){e->addr, e->len, e->type};
		off += e->size + 4;
	}
	pc_check_map(map, n, cmdline);
	/* mem_upper is the RAM that starts at 1 MiB. */
	pc_check(n > 2 && map[2].addr == 0x100000 &&
			 map[2].size >> 10 == mbi->mem_upper,
		 "mem_upper matches the map");
	const struct mb1_module *m = (const void *)(uintptr_t)mbi->mods_addr;

	for (n = 0; n < mbi->mods_count && n < 16; n++)
		mods[n] = (struct pc_mod){m[n].mod_start, m[n].mod_end,
					  (const char *)(uintptr_t)m[n].string};
	pc_check_modules(mods, n, cmdline);
	pc_check_acpi(cmdline);
	pc_check_devices();
	pc_finish("mb1");
}
