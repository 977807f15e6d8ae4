// SPDX-License-Identifier: MIT
/*
 * mmio: the instruction emulator seen from a guest.  MOV of each width,
 * MOVZX/MOVSX, AND/OR/XOR/TEST/CMP/XCHG and string instructions on the
 * tidal test device (TIDAL_TESTDEV_BASE), then INS/OUTS with and without
 * REP on COM1 and port 0xE9.  The 64-bit build also takes a #PF in the
 * middle of a REP OUTSB: its handler maps the missing page and returns,
 * and the instruction finishes the string.  Built as mmio32 (paging off)
 * and mmio64 (long mode); the 32-bit build also runs REP OUTSB in a 16-bit
 * code segment.  With refuse=1 it ends with an instruction the
 * emulator refuses.
 */
#include "lib/guest.h"

#define DEV ((volatile uint8_t *)(uintptr_t)TIDAL_TESTDEV_BASE)
#define SCR (TIDAL_TESTDEV_SCRATCH)

static int failures;

static void check(bool cond, const char *what)
{
	printf("mmio: %s: %s\n", what, cond ? "ok" : "FAIL");
	if (!cond)
		failures++;
}

static volatile uint32_t *dev32(unsigned int off)
{
	return (volatile uint32_t *)(DEV + off);
}

static void test_mov(void)
{
	volatile uint8_t *p = DEV + SCR;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	__asm__ volatile("movl (%1), %0" : "=r"(v32) : "r"(DEV) : "memory");
	check(v32 == TIDAL_TESTDEV_MAGIC, "MOV load of the device ID");
	__asm__ volatile("movl $0x11223344, (%0)" : : "r"(p) : "memory");
	__asm__ volatile("movw $0x5566, 4(%0)" : : "r"(p) : "memory");
	__asm__ volatile("movb $0x77, 6(%0)" : : "r"(p) : "memory");
	v8 = 0x88;
	__asm__ volatile("movb %1, 7(%0)" : : "r"(p), "q"(v8) : "memory");
	__asm__ volatile("movw 2(%1), %0" : "=r"(v16) : "r"(p) : "memory");
	check(v16 == 0x1122, "MOV stores of 4, 2, 1 bytes, 2-byte load");
	__asm__ volatile("movb 7(%1), %0" : "=q"(v8) : "r"(p) : "memory");
	check(v8 == 0x88, "MOV byte load");
	__asm__ volatile("movzbl 7(%1), %0" : "=r"(v32) : "r"(p) : "memory");
	check(v32 == 0x88, "MOVZX byte");
	__asm__ volatile("movsbl 7(%1), %0" : "=r"(v32) : "r"(p) : "memory");
	check(v32 == 0xffffff88u, "MOVSX byte");
	__asm__ volatile("movswl 6(%1), %0" : "=r"(v32) : "r"(p) : "memory");
	check(v32 == 0xffff8877u, "MOVSX word");
	/* Absolute address (moffs with EAX, disp32 with another reg). */
	__asm__ volatile("movl %1, %0"
			 : "=a"(v32)
			 : "m"(*(volatile uint32_t *)(DEV + SCR))
			 : "memory");
	check(v32 == 0x11223344, "MOV with an absolute address");
#ifdef __x86_64__
	uint64_t v64;

	__asm__ volatile("movq $-2, 8(%0)" : : "r"(p) : "memory");
	__asm__ volatile("movq 8(%1), %0" : "=r"(v64) : "r"(p) : "memory");
	check(v64 == (uint64_t)-2, "64-bit MOV store and load");
	__asm__ volatile("movslq 4(%1), %0" : "=r"(v64) : "r"(p) : "memory");
	check(v64 == 0xffffffff88775566ull, "MOVSXD");
	__asm__ volatile("movabs 0xfebff100, %%rax" : "=a"(v64) : : "memory");
	check(v64 == 0x8877556611223344ull, "MOV RAX from moffs64");
#endif
}

static void test_alu(void)
{
	volatile uint32_t *r = dev32(SCR + 0x10);
	uint32_t v = 0xf0f0f0f0, eq;
	uint8_t zf;

	*r = 0x0000ffff;
	__asm__ volatile("orl $0x0f000000, (%0)" : : "r"(r) : "memory");
	__asm__ volatile("andl %1, (%0)" : : "r"(r), "r"(v) : "memory");
	__asm__ volatile("xorb $0xff, (%0)" : : "r"(r) : "memory");
	check(*r == 0x0000f00f, "OR, AND, XOR on device memory");
	__asm__ volatile("testl $0x1000, (%1); setz %0"
			 : "=q"(zf)
			 : "r"(r)
			 : "memory", "cc");
	check(zf == 0, "TEST sees a set bit");
	__asm__ volatile("cmpl $0xf00f, (%1); sete %0"
			 : "=q"(zf)
			 : "r"(r)
			 : "memory", "cc");
	check(zf == 1, "CMP with an immediate");
	eq = 0x12345678;
	__asm__ volatile("xchgl %0, (%1)" : "+r"(eq) : "r"(r) : "memory");
	check(eq == 0xf00f && *r == 0x12345678, "XCHG swaps");
	__asm__ volatile("lock orl $1, (%0)" : : "r"(r) : "memory");
	check(*r == 0x12345679, "LOCK OR");
}

static void test_strings(void)
{
	volatile uint8_t *p = DEV + SCR + 0x100;
	uint8_t buf[16];
	uintptr_t di = (uintptr_t)p, si, n = 4;
	uint32_t val = 0xa5a5a5a5;

	__asm__ volatile("cld; rep stosl"
			 : "+D"(di), "+c"(n)
			 : "a"(val)
			 : "memory");
	si = (uintptr_t)p;
	di = (uintptr_t)buf;
	n = 16;
	__asm__ volatile("rep movsb"
			 : "+S"(si), "+D"(di), "+c"(n)
			 :
			 : "memory");
	bool same = true;

	for (int i = 0; i < 16; i++)
		same = same && buf[i] == 0xa5;
	check(same && n == 0, "REP STOSL to the device, REP MOVSB back");
	si = (uintptr_t)p;
	__asm__ volatile("lodsw" : "+S"(si), "=a"(val) : : "memory");
	check((val & 0xffff) == 0xa5a5 && si == (uintptr_t)p + 2, "LODSW");
	uint32_t reads = *dev32(TIDAL_TESTDEV_READS);

	check(reads > 10, "the device counted the reads");
}

static void test_port_strings(void)
{
	static const char msg[] = "mmio: rep outsb to port e9 works\n";
	/* Sent last byte first: "mmio: outsb with DF=1 works". */
	static const char rev[] = "\nskrow 1=FD htiw bstuo :oimm";
	static const char com[] = "mmio: outsb to COM1 works\n";
	uintptr_t si = (uintptr_t)msg, n = sizeof(msg) - 1, di;
	uint8_t in[8];

	__asm__ volatile("cld; rep outsb"
			 : "+S"(si), "+c"(n)
			 : "d"(TIDAL_PORT_DEBUG)
			 : "memory");
	si = (uintptr_t)(rev + sizeof(rev) - 2);
	n = sizeof(rev) - 1;
	__asm__ volatile("std; rep outsb; cld"
			 : "+S"(si), "+c"(n)
			 : "d"(TIDAL_PORT_DEBUG)
			 : "memory");
	si = (uintptr_t)com;
	for (unsigned int i = 0; i < sizeof(com) - 1; i++)
		__asm__ volatile("outsb"
				 : "+S"(si)
				 : "d"(TIDAL_PORT_COM1)
				 : "memory");
	outb(TIDAL_PORT_COM1 + 7, 0x5a);
	memset(in, 0, sizeof(in));
	di = (uintptr_t)in;
	n = 4;
	__asm__ volatile("rep insb"
			 : "+D"(di), "+c"(n)
			 : "d"(TIDAL_PORT_COM1 + 7)
			 : "memory");
	check(in[0] == 0x5a && in[3] == 0x5a && in[4] == 0 && n == 0 &&
		      di == (uintptr_t)in + 4,
	      "REP INSB from the COM1 scratch register");
	/* An unused port floats high, also through INSW. */
	di = (uintptr_t)in;
	__asm__ volatile("insw" : "+D"(di) : "d"(0x80) : "memory");
	check(in[0] == 0xff && in[1] == 0xff, "INSW from an unused port");
	/* Into the device: REP INSB with an MMIO destination. */
	di = (uintptr_t)(DEV + SCR + 0x200);
	n = 3;
	__asm__ volatile("rep insb"
			 : "+D"(di), "+c"(n)
			 : "d"(TIDAL_PORT_COM1 + 7)
			 : "memory");
	check(DEV[SCR + 0x202] == 0x5a, "REP INSB into device memory");
}

#ifdef __x86_64__
/* A #PF part-way through REP OUTSB, fixed by the handler. */
#define HOLE_REGION 0x800000ul /* 2 MiB region remapped with 4K pages */
#define HOLE	    (HOLE_REGION + 0x1000)

static uint64_t pt[512] __attribute__((aligned(4096)));
static struct {
	uint16_t lo;
	uint16_t sel;
	uint8_t ist, type;
	uint16_t mid;
	uint32_t hi, zero;
} idt[32] __attribute__((aligned(16)));
volatile uint64_t pf_cr2, pf_err, pf_rcx, pf_rsi, pf_count;

void pf_fix(uint64_t *frame);
void pf_fix(uint64_t *frame)
{
	/* frame: saved rcx, rsi, then the error code and the iret frame */
	__asm__ volatile("mov %%cr2, %0" : "=r"(pf_cr2));
	pf_rcx = frame[0];
	pf_rsi = frame[1];
	pf_err = frame[2];
	pf_count++;
	pt[(HOLE >> 12) & 511] = HOLE | 3;
	__asm__ volatile("invlpg (%0)" : : "r"(HOLE) : "memory");
}

void pf_entry(void);
__asm__(".text\n"
	"pf_entry:\n"
	"	push %rsi\n"
	"	push %rcx\n"
	"	push %rax\n push %rdx\n push %rdi\n push %r8\n push %r9\n"
	"	push %r10\n push %r11\n"
	"	lea 56(%rsp), %rdi\n" /* -> saved rcx */
	"	sub $8, %rsp\n"	      /* 16-byte alignment for the call */
	"	call pf_fix\n"
	"	add $8, %rsp\n"
	"	pop %r11\n pop %r10\n pop %r9\n pop %r8\n pop %rdi\n"
	"	pop %rdx\n pop %rax\n"
	"	pop %rcx\n"
	"	pop %rsi\n"
	"	add $8, %rsp\n" /* error code */
	"	iretq\n");

static void test_fault_in_rep(void)
{
	static const char text[] = "mmio: a string split by a page fault\n";
	uint64_t cr3, *pml4, *pdpt, *pd;
	uintptr_t len = sizeof(text) - 1, si = HOLE - 10;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uintptr_t)idt};
	uintptr_t h = (uintptr_t)pf_entry;

	/* 4K pages for the region, the one at HOLE not present. */
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & ~0xfffull);
	pdpt = (uint64_t *)(pml4[0] & 0xffffffffff000ull);
	pd = (uint64_t *)(pdpt[0] & 0xffffffffff000ull);
	for (int i = 0; i < 512; i++)
		pt[i] = (HOLE_REGION + (uint64_t)i * 4096) | 3;
	pt[(HOLE >> 12) & 511] = 0;
	pd[HOLE_REGION >> 21] = (uintptr_t)pt | 3;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	memcpy((void *)(HOLE - 10), text, 10);
	idt[14].lo = (uint16_t)h;
	idt[14].sel = TIDAL_SEL_CODE64;
	idt[14].type = 0x8e;
	idt[14].mid = (uint16_t)(h >> 16);
	idt[14].hi = (uint32_t)(h >> 32);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	/* The rest of the string goes into the page while it is mapped. */
	pt[(HOLE >> 12) & 511] = HOLE | 3;
	__asm__ volatile("invlpg (%0)" : : "r"(HOLE) : "memory");
	memcpy((void *)HOLE, text + 10, len - 10);
	pt[(HOLE >> 12) & 511] = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(HOLE) : "memory");

	__asm__ volatile("cld; rep outsb"
			 : "+S"(si), "+c"(len)
			 : "d"(TIDAL_PORT_DEBUG)
			 : "memory");
	printf("mmio: #PF in REP OUTSB: count %lu cr2 %lx error %lx rcx %lu "
	       "rsi %lx\n",
	       (unsigned long)pf_count, (unsigned long)pf_cr2,
	       (unsigned long)pf_err, (unsigned long)pf_rcx,
	       (unsigned long)pf_rsi);
	check(pf_count == 1 && pf_cr2 == HOLE && pf_err == 0,
	      "#PF with CR2 at the hole and error code 0");
	check(pf_rcx == sizeof(text) - 1 - 10 && pf_rsi == HOLE,
	      "RCX and RSI at the fault count the bytes sent");
	check(len == 0 && si == HOLE - 10 + sizeof(text) - 1,
	      "the REP finished after the handler returned");
}
#endif

#ifndef __x86_64__
/*
 * 16-bit protected-mode code (a code segment with D=0): REP OUTSB with SI
 * through an FS override, then with ESI under an address-size prefix.
 */
#define SEL_CODE16 0x30
#define SEL_DATA16 0x38

extern char stub16[], msg16a[], msg16b[];
void run16(void);
__asm__(".text\n"
	"run16:\n"
	"	push %esi\n"
	"	ljmp $0x30, $0\n"
	"back32:\n"
	"	pop %esi\n"
	"	ret\n"
	".code16\n"
	"stub16:\n"
	"	mov $0x38, %ax\n"
	"	mov %ax, %fs\n"
	"	xor %si, %si\n"
	"	mov $(msg16a_end - msg16a), %cx\n"
	"	mov $0xe9, %dx\n"
	"	rep outsb %fs:(%si), (%dx)\n"
	"	movl $msg16b, %esi\n"
	"	movl $(msg16b_end - msg16b), %ecx\n"
	"	addr32 rep outsb\n"
	"	ljmpl $0x18, $back32\n"
	".code32\n"
	".data\n"
	"msg16a: .ascii \"mmio: rep outsb in 16-bit code works\\n\"\n"
	"msg16a_end:\n"
	"msg16b: .ascii \"mmio: addr32 rep outsb in 16-bit code works\\n\"\n"
	"msg16b_end:\n"
	".text\n");

static uint64_t gdt16[8] __attribute__((aligned(8)));

static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t type)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)type << 40) | ((uint64_t)(limit & 0xf0000) << 32) |
	       ((uint64_t)(base >> 24) << 56);
}

static void test_code16(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) gdtr;
	uintptr_t cx = 0;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt16, (void *)(uintptr_t)gdtr.base, 6 * 8);
	gdt16[SEL_CODE16 / 8] = descriptor((uintptr_t)stub16, 0xffff, 0x9a);
	gdt16[SEL_DATA16 / 8] = descriptor((uintptr_t)msg16a, 0xffff, 0x92);
	gdtr.limit = sizeof(gdt16) - 1;
	gdtr.base = (uintptr_t)gdt16;
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("call run16"
			 : "=c"(cx)
			 :
			 : "eax", "edx", "memory", "cc");
	check(cx == 0, "REP OUTSB in 16-bit code counted CX/ECX down");
}
#endif

int guest_main(const struct tidal_start_info *si)
{
	test_mov();
	test_alu();
	test_strings();
	test_port_strings();
#ifdef __x86_64__
	test_fault_in_rep();
#else
	test_code16();
#endif
	printf("mmio: %d failures\n", failures);
	/*
	 * refuse=1: end with a form the emulator does not know (BT on the
	 * device); tidal must stop the VM naming the bytes.
	 */
	if (!failures && cmdline_num("refuse", 0)) {
		printf("mmio: BT on device memory next\n");
		__asm__ volatile("btl $3, (%0)" : : "r"(DEV + SCR) : "memory");
		printf("mmio: BT was emulated: FAIL\n");
	}
	return failures ? 1 : 0;
}
