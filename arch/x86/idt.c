// SPDX-License-Identifier: MIT
/* The IDT: all 256 vectors go to the stubs in isr.S. */
#include "arch/x86/desc.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __packed;

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __aligned(16);

static unsigned int ist_for(unsigned int vector)
{
	switch (vector) {
	case 2:
		return IST_NMI;
	case 8:
		return IST_DF;
	case 18:
		return IST_MC;
	default:
		return 0;
	}
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uintptr_t)idt };

	for (unsigned int v = 0; v < 256; v++) {
		uint64_t a = isr_stub_table[v];

		idt[v] = (struct idt_gate){
			.off_lo = a & 0xffff,
			.sel = GDT_CODE,
			.ist = ist_for(v),
			.type = 0x8e,
			.off_mid = (a >> 16) & 0xffff,
			.off_hi = a >> 32,
		};
	}
	__asm__ __volatile__("lidt %0" : : "m"(p) : "memory");
}
