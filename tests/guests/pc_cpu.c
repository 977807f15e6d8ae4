// SPDX-License-Identifier: MIT
/* CPU plumbing for the PC test kernels (see pc_cpu.h). */
#include "pc_cpu.h"
#include "vmm/pc.h"

/*
 * The AP trampoline, run at PC_CPU_TRAMP in real mode: load a flat GDT,
 * enter protected mode, take an AP number and a stack, call ap_main(n).
 * ap_main is weak: kernels that start no AP need not define it.
 */
__asm__(".text\n"
	".code16\n"
	".weak ap_main\n"
	".globl tramp_start, tramp_end\n"
	"tramp_start:\n"
	"cli\n"
	"xorw %ax, %ax\n"
	"movw %ax, %ds\n"
	"lgdtl 0x8000 + (tramp_gdtr - tramp_start)\n"
	"movl %cr0, %eax\n"
	"orl $1, %eax\n"
	"movl %eax, %cr0\n"
	"ljmpl $0x08, $(0x8000 + tramp_pm - tramp_start)\n"
	".code32\n"
	"tramp_pm:\n"
	"movw $0x10, %ax\n"
	"movw %ax, %ds\n"
	"movw %ax, %es\n"
	"movw %ax, %ss\n"
	"movw %ax, %fs\n"
	"movw %ax, %gs\n"
	"movl $1, %eax\n"
	"lock xaddl %eax, ap_next\n"
	"movl %eax, %ebx\n"
	"shll $12, %eax\n"
	"leal ap_stacks + 4096(%eax), %esp\n"
	"pushl %ebx\n"
	"movl $ap_main, %eax\n"
	"call *%eax\n"
	"2: hlt\n"
	"jmp 2b\n"
	".balign 8\n"
	"tramp_gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff\n"
	"tramp_gdtr: .word 23\n"
	".long 0x8000 + (tramp_gdt - tramp_start)\n"
	"tramp_end:\n");

_Static_assert(PC_CPU_TRAMP == 0x8000, "the trampoline's addresses");

extern char tramp_start[], tramp_end[];
volatile uint32_t ap_next = 1;
uint8_t ap_stacks[PC_CPU_MAX * 4096] __attribute__((aligned(16)));

struct gate {
	uint16_t off_lo, sel, attr, off_hi;
};
static struct gate idt[256] __attribute__((aligned(8)));
static struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) idtr = {sizeof(idt) - 1, 0};
static const uint64_t gdt[3] __attribute__((aligned(8))) = {
	0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};

uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static volatile uint32_t *const ioapic = (volatile uint32_t *)PC_IOAPIC_BASE;

uint32_t ioapic_rd(uint32_t reg)
{
	ioapic[0] = reg;
	return ioapic[4];
}

void ioapic_wr(uint32_t reg, uint32_t v)
{
	ioapic[0] = reg;
	ioapic[4] = v;
}

bool x2(void)
{
	return rdmsr(PC_CPU_MSR_APIC_BASE) & (1u << 10);
}

uint32_t lapic_rd(uint32_t off)
{
	if (x2())
		return (uint32_t)rdmsr(0x800 + off / 16);
	return *(volatile uint32_t *)(uintptr_t)(PC_CPU_APIC + off);
}

void lapic_wr(uint32_t off, uint32_t v)
{
	if (x2())
		wrmsr(0x800 + off / 16, v);
	else
		*(volatile uint32_t *)(uintptr_t)(PC_CPU_APIC + off) = v;
}

uint32_t my_id(void)
{
	return x2() ? lapic_rd(0x20) : lapic_rd(0x20) >> 24;
}

void send_ipi(uint32_t dest, uint32_t lo)
{
	if (x2()) {
		wrmsr(0x830, (uint64_t)dest << 32 | lo);
		return;
	}
	lapic_wr(0x310, dest << 24);
	lapic_wr(0x300, lo);
}

void set_gate(unsigned int vec, void (*fn)(void))
{
	uint32_t a = (uint32_t)fn;

	idt[vec] =
		(struct gate){(uint16_t)a, 0x08, 0x8e00, (uint16_t)(a >> 16)};
}

void load_tables(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) gdtr = {sizeof(gdt) - 1, (uint32_t)gdt};

	idtr.base = (uint32_t)idt;
	__asm__ volatile("lgdt %0\n"
			 "ljmp $0x08, $1f\n"
			 "1: movw $0x10, %%ax\n"
			 "movw %%ax, %%ds\n"
			 "movw %%ax, %%es\n"
			 "movw %%ax, %%ss\n"
			 "movw %%ax, %%fs\n"
			 "movw %%ax, %%gs\n"
			 "lidt %1\n" ::"m"(gdtr),
			 "m"(idtr)
			 : "eax", "memory");
}

bool wait_for(volatile uint32_t *p, uint32_t n, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	__asm__ volatile("cli");
	while (*p < n && rdtsc() < end) {
		__asm__ volatile("sti; hlt; cli");
	}
	return *p >= n;
}

bool spin_for(volatile uint32_t *p, uint32_t n, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	while (*p < n && rdtsc() < end)
		__asm__ volatile("pause");
	return *p >= n;
}

bool start_aps(unsigned int ncpus, volatile uint32_t *alive)
{
	uint8_t *dst = (uint8_t *)(uintptr_t)PC_CPU_TRAMP;

	for (char *s = tramp_start; s < tramp_end; s++)
		*dst++ = (uint8_t)*s;
	for (unsigned int id = 1; id < ncpus; id++) {
		send_ipi(id, 0x4500); /* INIT, assert */
		send_ipi(id, 0x8500); /* INIT, de-assert */
		send_ipi(id, 0x4600 | (PC_CPU_TRAMP >> 12)); /* SIPI */
		send_ipi(id, 0x4600 | (PC_CPU_TRAMP >> 12)); /* SIPI again */
	}
	return spin_for(alive, ncpus - 1, 400000000ull);
}
