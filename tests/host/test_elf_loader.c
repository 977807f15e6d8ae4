// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/elf_loader.c: hand-built ELF32/ELF64 images, each
 * broken in one way, plus the real test guests when they have been built.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/elf_loader.h"
#include "tests/host/tap.h"

#define RAM    (64ull << 20)
#define USABLE (RAM - (64u << 10))

static const struct elf_limits lim = {.ram_bytes = RAM, .usable_end = USABLE};

/* A builder: header + n program headers + some payload bytes. */
struct img {
	uint8_t buf[8192];
	size_t size;
	int bits;
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t *phdr(struct img *m, int i)
{
	return m->buf + (m->bits == 64 ? 64 + 56 * i : 52 + 32 * i);
}

static void set_load(struct img *m, int i, uint64_t off, uint64_t addr,
		     uint64_t filesz, uint64_t memsz, uint32_t flags)
{
	uint8_t *p = phdr(m, i);

	if (m->bits == 64) {
		put32(p, 1);
		put32(p + 4, flags);
		put64(p + 8, off);
		put64(p + 16, addr);
		put64(p + 24, addr);
		put64(p + 32, filesz);
		put64(p + 40, memsz);
		put64(p + 48, 0x1000);
	} else {
		put32(p, 1);
		put32(p + 4, (uint32_t)off);
		put32(p + 8, (uint32_t)addr);
		put32(p + 12, (uint32_t)addr);
		put32(p + 16, (uint32_t)filesz);
		put32(p + 20, (uint32_t)memsz);
		put32(p + 24, flags);
		put32(p + 28, 0x1000);
	}
}

static void set_type(struct img *m, int i, uint32_t type)
{
	put32(phdr(m, i), type);
}

/* A valid image: one RX segment at 1 MiB with 0x100 bytes from offset
 * 0x1000 and 0x1000 bytes of memory; entry at its start. */
static void build(struct img *m, int bits, int nph)
{
	uint8_t *b = m->buf;

	memset(m, 0, sizeof(*m));
	m->bits = bits;
	m->size = 0x1100;
	memcpy(b,
	       "\x7f"
	       "ELF",
	       4);
	b[4] = bits == 64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	put16(b + 16, 2);
	put16(b + 18, bits == 64 ? 62 : 3);
	put32(b + 20, 1);
	if (bits == 64) {
		put64(b + 24, 0x100000);
		put64(b + 32, 64);
		put16(b + 52, 64);
		put16(b + 54, 56);
		put16(b + 56, (uint16_t)nph);
	} else {
		put32(b + 24, 0x100000);
		put32(b + 28, 52);
		put16(b + 40, 52);
		put16(b + 42, 32);
		put16(b + 44, (uint16_t)nph);
	}
	for (int i = 0; i < 0x100; i++)
		b[0x1000 + i] = (uint8_t)(i ^ 0xa5);
	set_load(m, 0, 0x1000, 0x100000, 0x100, 0x1000, PF_R | PF_X);
	for (int i = 1; i < nph; i++)
		set_type(m, i, 0x6474e551); /* PT_GNU_STACK: ignored */
}

static enum elf_error parse(struct img *m, struct elf_image *out)
{
	return elf_parse(m->buf, m->size, &lim, out);
}

static void expect(struct img *m, enum elf_error want, const char *what)
{
	struct elf_image out;
	enum elf_error got = parse(m, &out);

	if (!ok(got == want, "ELF%d %s: %s", m->bits, what, elf_strerror(want)))
		diag("  got %d (%s)", got, elf_strerror(got));
}

static void test_valid(int bits)
{
	struct img m;
	struct elf_image out;
	uint8_t *ram = calloc(1, 0x200000);

	build(&m, bits, 2);
	is_int(parse(&m, &out), ELF_OK, "ELF%d valid image accepted", bits);
	is_int(out.bits, bits, "class reported");
	is_int(out.nsegs, 1, "one loadable segment (GNU_STACK ignored)");
	is_int(out.entry, 0x100000, "entry point");
	is_int(out.lo, 0x100000, "lowest address");
	is_int(out.hi, 0x101000, "highest address");

	memset(ram + 0x100000, 0xee, 0x2000);
	elf_load(&out, m.buf, ram);
	ok(!memcmp(ram + 0x100000, m.buf + 0x1000, 0x100), "file bytes copied");
	bool zero = true;

	for (int i = 0x100; i < 0x1000; i++)
		zero &= ram[0x100000 + i] == 0;
	ok(zero, "bss zeroed");
	is_int(ram[0x101000], 0xee, "nothing written past the segment");
	free(ram);
}

static void test_header(int bits)
{
	struct img m;
	size_t ehsz = bits == 64 ? 64 : 52;

	build(&m, bits, 1);
	m.size = 10;
	expect(&m, ELF_E_TOO_SMALL, "10-byte file");
	build(&m, bits, 1);
	m.size = ehsz - 1;
	expect(&m, ELF_E_TOO_SMALL, "truncated header");
	build(&m, bits, 1);
	m.buf[1] = 'X';
	expect(&m, ELF_E_MAGIC, "bad magic");
	build(&m, bits, 1);
	m.buf[4] = 3;
	expect(&m, ELF_E_CLASS, "class 3");
	build(&m, bits, 1);
	m.buf[5] = 2;
	expect(&m, ELF_E_DATA, "big-endian");
	build(&m, bits, 1);
	m.buf[6] = 0;
	expect(&m, ELF_E_VERSION, "ident version 0");
	build(&m, bits, 1);
	put32(m.buf + 20, 2);
	expect(&m, ELF_E_VERSION, "e_version 2");
	build(&m, bits, 1);
	put16(m.buf + 16, 3);
	expect(&m, ELF_E_TYPE, "ET_DYN");
	build(&m, bits, 1);
	put16(m.buf + 18, bits == 64 ? 3 : 62);
	expect(&m, ELF_E_MACHINE, "machine of the other class");
	build(&m, bits, 1);
	put16(m.buf + 18, 183);
	expect(&m, ELF_E_MACHINE, "AArch64");
	build(&m, bits, 1);
	put16(m.buf + (bits == 64 ? 52 : 40), (uint16_t)(ehsz + 4));
	expect(&m, ELF_E_EHSIZE, "e_ehsize");
	build(&m, bits, 1);
	put16(m.buf + (bits == 64 ? 54 : 42), 40);
	expect(&m, ELF_E_PHENTSIZE, "e_phentsize");
	build(&m, bits, 1);
	put16(m.buf + (bits == 64 ? 56 : 44), 0);
	expect(&m, ELF_E_NO_PHDRS, "e_phnum 0");
	build(&m, bits, 1);
	put16(m.buf + (bits == 64 ? 56 : 44), 0xffff);
	expect(&m, ELF_E_TOO_MANY_PHDRS, "e_phnum 0xffff");
	build(&m, bits, 1);
	if (bits == 64)
		put64(m.buf + 32, 0x10000);
	else
		put32(m.buf + 28, 0x10000);
	expect(&m, ELF_E_PHDRS_OUTSIDE, "e_phoff past end of file");
	build(&m, bits, 1);
	if (bits == 64)
		put64(m.buf + 32, UINT64_MAX - 8);
	else
		put32(m.buf + 28, UINT32_MAX - 8);
	expect(&m, ELF_E_PHDRS_OUTSIDE, "e_phoff near the top (wraps)");
	build(&m, bits, 3);
	m.size = (bits == 64 ? 64 + 56 * 3 : 52 + 32 * 3) - 1;
	expect(&m, ELF_E_PHDRS_OUTSIDE, "last header one byte short");
}

static void test_segments(int bits)
{
	struct img m;
	struct elf_image out;
	uint64_t big = bits == 64 ? UINT64_MAX - 0xfff : 0xfffff000;

	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, 0x100000, 0x2000, 0x1000, PF_X);
	expect(&m, ELF_E_FILESZ, "filesz > memsz");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, 0x100000, 0x1000, 0x1000, PF_X);
	expect(&m, ELF_E_SEG_OUTSIDE_FILE, "segment data past end of file");
	build(&m, bits, 1);
	set_load(&m, 0, bits == 64 ? UINT64_MAX : UINT32_MAX, 0x100000, 2,
		 0x1000, PF_X);
	expect(&m, ELF_E_SEG_OUTSIDE_FILE, "segment offset wraps");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, big, 0x100, 0x2000, PF_X);
	if (bits == 64)
		expect(&m, ELF_E_SEG_OVERFLOW, "address + size wraps");
	else
		expect(&m, ELF_E_SEG_OUTSIDE_RAM, "segment at 4 GiB - 4 KiB");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, RAM - 0x800, 0x100, 0x1000, PF_X);
	expect(&m, ELF_E_SEG_OUTSIDE_RAM, "segment straddles the end of RAM");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, USABLE - 0x800, 0x100, 0x1000, PF_X);
	expect(&m, ELF_E_SEG_RESERVED, "segment over tidal's pages");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, USABLE - 0x1000, 0x100, 0x1000, PF_X);
	if (bits == 64)
		put64(m.buf + 24, USABLE - 0x1000);
	else
		put32(m.buf + 24, (uint32_t)(USABLE - 0x1000));
	expect(&m, ELF_OK, "segment ending exactly at the usable end");

	build(&m, bits, 1);
	if (bits == 64)
		put64(phdr(&m, 0) + 16, 0xffffffff80100000ull);
	else
		put32(phdr(&m, 0) + 8, 0xc0100000u);
	expect(&m, ELF_E_VADDR, "p_vaddr != p_paddr");

	build(&m, bits, 2);
	set_load(&m, 1, 0x1000, 0x100800, 0x10, 0x1000, PF_R);
	expect(&m, ELF_E_OVERLAP, "two segments overlap");
	parse(&m, &out);
	is_int(out.bad_phdr, 1, "overlap names program header 1");
	build(&m, bits, 2);
	set_load(&m, 1, 0x1000, 0x101000, 0x10, 0x1000, PF_R | PF_W);
	expect(&m, ELF_OK, "two adjacent segments");

	build(&m, bits, 2);
	set_type(&m, 1, 3);
	expect(&m, ELF_E_INTERP, "PT_INTERP");
	parse(&m, &out);
	is_int(out.bad_phdr, 1, "interp names program header 1");

	build(&m, bits, 1);
	set_type(&m, 0, 4); /* PT_NOTE only */
	expect(&m, ELF_E_NO_LOAD, "no PT_LOAD");
	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, 0x100000, 0, 0, PF_X);
	expect(&m, ELF_E_NO_LOAD, "only an empty PT_LOAD");

	build(&m, bits, ELF_MAX_SEGMENTS + 1);
	for (int i = 0; i <= ELF_MAX_SEGMENTS; i++)
		set_load(&m, i, 0x1000, 0x100000 + 0x1000ull * i, 0x10, 0x1000,
			 PF_X);
	expect(&m, ELF_E_TOO_MANY_SEGS, "17 segments");

	build(&m, bits, 1);
	set_load(&m, 0, 0x1000, 0x100000, 0x100, 0x1000, PF_R | PF_W);
	expect(&m, ELF_E_ENTRY, "entry in a non-executable segment");
	build(&m, bits, 1);
	if (bits == 64)
		put64(m.buf + 24, 0x101000);
	else
		put32(m.buf + 24, 0x101000);
	expect(&m, ELF_E_ENTRY, "entry just past the segment");
}

/* The real guests, when `make guests` has built them. */
static void test_file(const char *path, int want_bits, bool want_ok)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	struct elf_image out;
	size_t n;

	if (!f) {
		tap_skip(path);
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	enum elf_error err = elf_parse(buf, n, &lim, &out);

	if (want_ok) {
		if (!ok(err == ELF_OK && (int)out.bits == want_bits,
			"%s accepted as ELF%d", path, want_bits))
			diag("  %s", elf_strerror(err));
	} else {
		ok(err == ELF_E_PHDRS_OUTSIDE, "%s refused: %s", path,
		   elf_strerror(err));
	}
}

int main(void)
{
	for (int bits = 32; bits <= 64; bits += 32) {
		test_valid(bits);
		test_header(bits);
		test_segments(bits);
	}
	ok(elf_parse(NULL, 0, &lim, &(struct elf_image){0}) == ELF_E_TOO_SMALL,
	   "NULL file refused");
	ok(strcmp(elf_strerror(ELF_E_COUNT + 5), "unknown ELF loader error") ==
		   0,
	   "out-of-range error code has a message");
	for (int e = 0; e < ELF_E_COUNT; e++)
		ok(elf_strerror(e) && elf_strerror(e)[0], "message for %d", e);
	test_file("build/guests/hello32.elf", 32, true);
	test_file("build/guests/hello64.elf", 64, true);
	test_file("build/guests/demo.elf", 64, true);
	test_file("build/guests/bad-phdrs.elf", 64, false);
	return tap_done();
}
