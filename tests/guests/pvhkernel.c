// SPDX-License-Identifier: MIT
/*
 * A PVH test kernel: found through its XEN_ELFNOTE_PHYS32_ENTRY note,
 * it checks hvm_start_info (memory map, command line, modules, RSDP
 * address) with pc_checks.h, then powers off through ACPI.
 */
#include "pc_checks.h"
#include "vmm/pc.h"

PVH_ENTRY(pvh_main);

void pvh_main(uint32_t eax, uint32_t info_pa);

void pvh_main(uint32_t eax, uint32_t info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info_pa;
	struct pc_region map[16];
	struct pc_mod mods[16];
	const char *cmdline = "";
	unsigned int n;

	(void)eax;
	com1_init();
	printf("pvh: start info at %x, magic %x, version %u\n", info_pa,
	       si->magic, si->version);
	pc_check(si->magic == PVH_START_MAGIC, "hvm_start_info magic");
	pc_check(si->version >= 1, "hvm_start_info version");
	if (si->cmdline_paddr)
		cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	printf("pvh: cmdline \"%s\"\n", cmdline);
	for (n = 0; n < si->memmap_entries && n < 16; n++) {
		const struct hvm_memmap_entry *e =
			(const void *)(uintptr_t)(si->memmap_paddr +
						  n * sizeof(*e));

		map[n] = (struct pc_region){e->addr, e->size, e->type};
	}
	pc_check_map(map, n, cmdline);
	const struct hvm_modlist_entry *m =
		(const void *)(uintptr_t)si->modlist_paddr;

	for (n = 0; n < si->nr_modules && n < 16; n++)
		mods[n] = (struct pc_mod){
			m[n].paddr, m[n].paddr + m[n].size,
			(const char *)(uintptr_t)m[n].cmdline_paddr};
	pc_check_modules(mods, n, cmdline);
	uint32_t rsdp = pc_check_acpi(cmdline);

	pc_check(rsdp && si->rsdp_paddr == rsdp,
		 "rsdp_paddr (%llx) is the RSDP the scan found",
		 (unsigned long long)si->rsdp_paddr);
	pc_finish("pvh");
}
