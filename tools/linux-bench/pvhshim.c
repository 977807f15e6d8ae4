// SPDX-License-Identifier: MIT
/*
 * pvhshim: boots Linux's uncompressed vmlinux through its PVH entry on a
 * bare PC, for the native half of tools/bench-linux (the same kernel and
 * initramfs that tidal boots as a PVH guest).  GRUB loads it as a
 * multiboot (v1) kernel with module 0 = vmlinux (ELF64 with the
 * XEN_ELFNOTE_PHYS32_ENTRY note) and module 1 = the initramfs.  It moves
 * both out of the way, copies each PT_LOAD to its physical address and
 * zero-fills the rest of it, builds an hvm_start_info (command line,
 * memory map from the multiboot map, the initramfs as module 0, the
 * BIOS's RSDP) and jumps to the entry in 32-bit flat mode, paging off,
 * EBX = the start info.  Method from the project's notes
 * (linux-in-bochs.md); no decompression, no KASLR.
 */
#include <stdint.h>

#include "vmm/pc.h" /* hvm_start_info and friends, as tidal builds them */

#define STAGE_VMLINUX 0x0a000000u /* above the kernel's 16-74 MiB image */
#define STAGE_INITRD  0x1c000000u
#define SI_ADDR	      0x6000u
#define MODLIST_ADDR  0x6100u
#define CMDLINE_ADDR  0x6200u
#define MEMMAP_ADDR   0x7000u
#define MAX_MAP	      64
#define MB1_MAGIC     0x2badb002u

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_mod {
	uint32_t start, end, string, reserved;
};

void shim_main(uint32_t magic, const struct mb_info *mbi);

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void putc(char c)
{
	while (!(inb(0x3fd) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc('\r');
		putc(*s);
	}
}

static void puthex(uint64_t v)
{
	puts("0x");
	for (int i = 60; i >= 0; i -= 4)
		putc("0123456789abcdef"[(v >> i) & 15]);
}

/* Overlap-safe copy: forwards, or backwards when @d lies inside @s. */
static void move(void *d, const void *s, uint32_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	if (dp <= sp || dp >= sp + n) {
		__asm__ volatile("cld; rep movsb"
				 : "+D"(dp), "+S"(sp), "+c"(n)::"memory");
		return;
	}
	dp += n - 1;
	sp += n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(dp), "+S"(sp), "+c"(n)::"memory");
}

static void zero(void *d, uint32_t n)
{
	__asm__ volatile("cld; rep stosb"
			 : "+D"(d), "+c"(n)
			 : "a"(0)
			 : "memory");
}

/* The PVH entry from the ELF notes ("Xen", type 18), or 0. */
static uint32_t pvh_entry(const uint8_t *p, const uint8_t *end)
{
	while (p + 12 <= end) {
		const uint32_t *h = (const uint32_t *)p;
		const uint8_t *name = p + 12;
		const uint8_t *desc = name + ((h[0] + 3) & ~3u);

		if (h[2] == PVH_NOTE_PHYS32 && h[0] == 4 && name[0] == 'X' &&
		    name[1] == 'e' && name[2] == 'n')
			return *(const uint32_t *)desc;
		p = desc + ((h[1] + 3) & ~3u);
	}
	return 0;
}

/* ELF64 fields by their offsets (the shim needs only these). */
#define E_PHOFF	    0x20
#define E_PHENTSIZE 0x36
#define E_PHNUM	    0x38
#define P_TYPE	    0x00
#define P_OFFSET    0x08
#define P_PADDR	    0x18
#define P_FILESZ    0x20
#define P_MEMSZ	    0x28
#define PT_LOAD	    1
#define PT_NOTE	    4

static uint32_t u32_at(const uint8_t *p, uint32_t off)
{
	return *(const uint32_t *)(p + off);
}

/* The low half of a 64-bit field: everything here lies below 4 GiB. */
static uint32_t u64lo_at(const uint8_t *p, uint32_t off)
{
	return (uint32_t) * (const uint64_t *)(p + off);
}

/* Copy the PT_LOADs into place; returns the PVH entry, or 0. */
static uint32_t load_vmlinux(const uint8_t *img)
{
	uint32_t entry = 0, phnum = *(const uint16_t *)(img + E_PHNUM);
	uint32_t phentsize = *(const uint16_t *)(img + E_PHENTSIZE);

	if (u32_at(img, 0) != 0x464c457fu || img[4] != 2)
		return 0;
	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *ph =
			img + u64lo_at(img, E_PHOFF) + i * phentsize;
		uint8_t *dst = (uint8_t *)u64lo_at(ph, P_PADDR);
		uint32_t filesz = u64lo_at(ph, P_FILESZ);

		if (u32_at(ph, P_TYPE) == PT_LOAD) {
			move(dst, img + u64lo_at(ph, P_OFFSET), filesz);
			zero(dst + filesz, u64lo_at(ph, P_MEMSZ) - filesz);
		} else if (u32_at(ph, P_TYPE) == PT_NOTE && !entry) {
			const uint8_t *n = img + u64lo_at(ph, P_OFFSET);

			entry = pvh_entry(n, n + filesz);
		}
	}
	return entry;
}

/* GRUB passes no image path; QEMU's loader does ("x.elf args"). */
static const char *skip_image_path(const char *c)
{
	const char *w = c;

	while (*w && *w != ' ')
		w++;
	if (w - c > 4 && !__builtin_memcmp(w - 4, ".elf", 4))
		c = w;
	while (*c == ' ')
		c++;
	return c;
}

static uint64_t find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (*(const uint32_t *)a == 0x20445352u &&
		    *(const uint32_t *)(a + 4) == 0x20525450u)
			return a;
	return 0;
}

void shim_main(uint32_t magic, const struct mb_info *mbi)
{
	static char cmd[2048];
	static struct hvm_memmap_entry map[MAX_MAP];
	struct hvm_start_info *si = (void *)SI_ADDR;
	struct hvm_modlist_entry *ml = (void *)MODLIST_ADDR;
	const struct mb_mod *mod;
	uint32_t nmap = 0, n = 0, ks, kl, is, il, entry;
	const char *c;

	puts("pvhshim: start\n");
	if (magic != MB1_MAGIC || mbi->mods_count < 2) {
		puts("pvhshim: want multiboot with 2 modules\n");
		return;
	}
	/* Save what lives in low memory before the start info covers it. */
	c = skip_image_path((const char *)mbi->cmdline);
	while (c[n] && n < sizeof(cmd) - 1) {
		cmd[n] = c[n];
		n++;
	}
	for (uint32_t off = 0; off < mbi->mmap_length && nmap < MAX_MAP;) {
		const uint32_t *e = (const uint32_t *)(mbi->mmap_addr + off);

		map[nmap].addr = *(const uint64_t *)(e + 1);
		map[nmap].size = *(const uint64_t *)(e + 3);
		map[nmap].type = e[5];
		nmap++;
		off += e[0] + 4;
	}
	mod = (const struct mb_mod *)mbi->mods_addr;
	ks = mod[0].start;
	kl = mod[0].end - ks;
	is = mod[1].start;
	il = mod[1].end - is;
	if (ks < STAGE_INITRD + il && ks + kl > STAGE_INITRD) {
		puts("pvhshim: vmlinux overlaps the initramfs stage\n");
		return;
	}
	move((void *)STAGE_INITRD, (const void *)is, il);
	move((void *)STAGE_VMLINUX, (const void *)ks, kl);
	entry = load_vmlinux((const uint8_t *)STAGE_VMLINUX);
	if (!entry) {
		puts("pvhshim: no ELF with a PVH entry note\n");
		return;
	}
	zero((void *)SI_ADDR, 0x2000);
	move((void *)CMDLINE_ADDR, cmd, n + 1);
	move((void *)MEMMAP_ADDR, map, nmap * sizeof(map[0]));
	ml->paddr = STAGE_INITRD;
	ml->size = il;
	*si = (struct hvm_start_info){
		.magic = PVH_START_MAGIC,
		.version = PVH_START_VERSION,
		.nr_modules = 1,
		.modlist_paddr = MODLIST_ADDR,
		.cmdline_paddr = CMDLINE_ADDR,
		.rsdp_paddr = find_rsdp(),
		.memmap_paddr = MEMMAP_ADDR,
		.memmap_entries = nmap,
	};
	puts("pvhshim: entry ");
	puthex(entry);
	puts(" tsc ");
	puthex(rdtsc()); /* the kernel's entry, for tools/bench-linux */
	puts("\n");
	__asm__ volatile("cli; jmp *%0" ::"r"(entry), "b"(SI_ADDR) : "memory");
}
