// SPDX-License-Identifier: MIT
/*
 * GDT and TSS.  Long mode ignores segment bases and limits except for FS,
 * GS and the TSS; the TSS matters here only for its interrupt stacks.
 */
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "lib/platform.h"
#include "lib/string.h"

#define IST_STACK_SIZE 8192

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

/* One CPU's tables: static for the boot CPU, from the heap for the APs. */
struct cpu_tables {
	uint64_t gdt[5]; /* null, code, data, TSS (two slots) */
	struct tss tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
};

static struct cpu_tables boot_cpu_tables __aligned(PAGE_SIZE);

void idt_load(void);

static void gdt_load(struct cpu_tables *t)
{
	struct desc_ptr p = { sizeof(t->gdt) - 1, (uintptr_t)t->gdt };

	__asm__ __volatile__(
		"lgdt %0\n\t"
		/* Reload CS with a far return, then the data segments. */
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"ltr %w3"
		:
		: "m"(p), "i"(GDT_CODE), "i"(GDT_DATA), "r"(GDT_TSS)
		: "rax", "memory");
}

static void tss_descriptor(uint64_t *slot, struct tss *tss)
{
	uint64_t base = (uintptr_t)tss, limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		  (0x89ull << 40) /* present, 64-bit available TSS */ |
		  (((limit >> 16) & 0xf) << 48) |
		  (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

static void desc_init(struct cpu_tables *t)
{
	memset(t, 0, sizeof(*t));
	t->gdt[GDT_CODE / 8] = 0x00af9a000000ffffull;
	t->gdt[GDT_DATA / 8] = 0x00cf92000000ffffull;
	tss_descriptor(&t->gdt[GDT_TSS / 8], &t->tss);
	for (int i = 0; i < 3; i++)
		t->tss.ist[i] = (uintptr_t)&t->ist_stacks[i][IST_STACK_SIZE];
	t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */
	gdt_load(t);
	idt_load();
}

void desc_init_boot_cpu(void)
{
	desc_init(&boot_cpu_tables);
}

struct cpu_tables *desc_alloc_cpu(void)
{
	return platform_zalloc(sizeof(struct cpu_tables));
}

void desc_init_cpu(struct cpu_tables *t)
{
	desc_init(t);
}
