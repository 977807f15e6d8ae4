// SPDX-License-Identifier: MIT
/*
 * Guest linear -> guest physical, walking the guest's own page tables in
 * whichever mode the guest is in (no paging, 32-bit, PAE, 4-level), for
 * instructions tidal emulates with a memory operand (string I/O).  Only
 * presence and reserved-free entries are checked; a miss is reported to
 * the caller, which decides what the guest gets.
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "arch/x86/cpu.h"

#define PTE_P	  BIT(0)
#define PTE_PS	  BIT(7)
#define CR4_PSE	  BIT(4)
#define ADDR_MASK 0x000ffffffffff000ull

static bool read_entry(struct vcpu *v, uint64_t gpa, size_t size, uint64_t *e)
{
	uint32_t e32;

	if (size == 4) {
		if (!guest_read_phys(v, gpa, &e32, 4))
			return false;
		*e = e32;
		return true;
	}
	return guest_read_phys(v, gpa, e, 8);
}

/* Walk @levels levels of 8-byte entries from @table (9 bits each). */
static bool walk64(struct vcpu *v, uint64_t table, uint64_t la,
		   unsigned int levels, uint64_t *gpa)
{
	for (unsigned int lvl = levels; lvl >= 1; lvl--) {
		unsigned int shift = 12 + 9 * (lvl - 1);
		uint64_t e;

		if (!read_entry(v, table + ((la >> shift) & 511) * 8, 8, &e) ||
		    !(e & PTE_P))
			return false;
		if (lvl == 1 || ((e & PTE_PS) && lvl <= 3)) {
			uint64_t page =
				(e & ADDR_MASK) & ~((1ull << shift) - 1);

			*gpa = page | (la & ((1ull << shift) - 1));
			return true;
		}
		table = e & ADDR_MASK;
	}
	return false;
}

bool guest_linear_to_phys(struct vcpu *v, uint64_t la, uint64_t *gpa)
{
	uint64_t cr0 = vmcs_read(VMCS_CR0_SHADOW);
	uint64_t cr4 = vmcs_read(VMCS_CR4_SHADOW);
	uint64_t cr3 = vmcs_read(VMCS_GUEST_CR3);
	uint64_t efer = vmcs_read(VMCS_GUEST_EFER);
	uint64_t e;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = la & 0xffffffffull;
		return true;
	}
	if (efer & EFER_LMA)
		return walk64(v, cr3 & ADDR_MASK, la, 4, gpa);
	la &= 0xffffffffull;
	if (cr4 & X86_CR4_PAE) {
		e = vmcs_read(VMCS_GUEST_PDPTE0 + 2 * (la >> 30));
		if (!(e & PTE_P))
			return false;
		return walk64(v, e & ADDR_MASK, la, 2, gpa);
	}
	/* 32-bit paging: 4-byte entries, 4M pages with PSE. */
	if (!read_entry(v, (cr3 & 0xfffff000u) + (la >> 22) * 4, 4, &e) ||
	    !(e & PTE_P))
		return false;
	if ((e & PTE_PS) && (cr4 & CR4_PSE)) {
		*gpa = (e & 0xffc00000u) | (la & 0x3fffff);
		return true;
	}
	if (!read_entry(v, (e & 0xfffff000u) + ((la >> 12) & 1023) * 4, 4,
			&e) ||
	    !(e & PTE_P))
		return false;
	*gpa = (e & 0xfffff000u) | (la & 0xfff);
	return true;
}
