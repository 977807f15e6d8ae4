// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/boot_format.c: which protocol an image speaks and
 * every way to get it wrong.  Hand-built ELF32 images carry a multiboot
 * header or a PVH note, each broken in one way; the built test kernels
 * are checked as they are and after random corruption (no crash, a
 * verdict every time).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/host/tap.h"
#include "vmm/boot_format.h"
#include "vmm/pc.h"

#define RAM (64ull << 20)

static const struct elf_limits tidal_lim = {.ram_bytes = RAM,
					    .usable_end = RAM - 32768};
static const struct elf_limits pc_lim = {.ram_bytes = RAM,
					 .usable_end = RAM - 0x20000,
					 .by_paddr = true,
					 .hole_lo = PC_LOW_RAM_END,
					 .hole_hi = PC_HOLE_END};

/* ELF32, one PT_LOAD (RWX, 0x1000 bytes at 1 MiB from file offset
 * 0x1000), an optional PT_NOTE at 0x800. */
struct img {
	uint8_t buf[0x4000];
	size_t size;
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void phdr(struct img *m, int i, uint32_t type, uint32_t off,
		 uint32_t addr, uint32_t filesz, uint32_t memsz, uint32_t fl)
{
	uint8_t *p = m->buf + 52 + 32 * i;

	put32(p, type);
	put32(p + 4, off);
	put32(p + 8, addr);
	put32(p + 12, addr);
	put32(p + 16, filesz);
	put32(p + 20, memsz);
	put32(p + 24, fl);
	put32(p + 28, 4);
}

static void make_elf(struct img *m, int nphdr)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->buf,
	       "\x7f"
	       "ELF\x01\x01\x01",
	       7);
	put16(m->buf + 16, 2); /* ET_EXEC */
	put16(m->buf + 18, 3); /* EM_386 */
	put32(m->buf + 20, 1);
	put32(m->buf + 24, 0x100000);
	put32(m->buf + 28, 52);
	put16(m->buf + 40, 52);
	put16(m->buf + 42, 32);
	put16(m->buf + 44, (uint16_t)nphdr);
	phdr(m, 0, 1, 0x1000, 0x100000, 0x1000, 0x2000, 7);
	m->size = 0x2000;
}

static void put_mb1(struct img *m, size_t off, uint32_t flags)
{
	put32(m->buf + off, MB1_HEADER_MAGIC);
	put32(m->buf + off + 4, flags);
	put32(m->buf + off + 8, 0u - MB1_HEADER_MAGIC - flags);
}

/* A note: namesz, descsz, type, name, desc (4 bytes each here). */
static void put_note(struct img *m, size_t off, uint32_t namesz,
		     uint32_t descsz, uint32_t type, const char *name,
		     uint64_t desc)
{
	put32(m->buf + off, namesz);
	put32(m->buf + off + 4, descsz);
	put32(m->buf + off + 8, type);
	memcpy(m->buf + off + 12, name, strlen(name) + 1);
	memcpy(m->buf + off + 12 + ((namesz + 3) & ~3u), &desc,
	       descsz <= 8 ? descsz : 8);
}

static enum fmt_error parse(const struct img *m, struct guest_image *gi)
{
	return guest_image_parse(m->buf, m->size, &tidal_lim, &pc_lim, gi);
}

static void expect(const struct img *m, enum fmt_error want, const char *what)
{
	struct guest_image gi;
	enum fmt_error got = parse(m, &gi);

	if (!ok(got == want, "%s: %s", what, fmt_strerror(want)))
		diag("  got: %s", fmt_strerror(got));
}

static void test_mb1(void)
{
	struct guest_image gi;
	struct img m;

	make_elf(&m, 1);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "plain ELF is a tidal guest");
	put_mb1(&m, 0x1000, MB1_HF_PAGE_ALIGN | MB1_HF_MEMINFO);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_MB1 &&
		   gi.mb1_offset == 0x1000 && gi.entry == 0x100000,
	   "multiboot header at 4 KiB: multiboot kernel, ELF entry");
	put_mb1(&m, 0x1000, MB1_HF_AOUT | MB1_HF_MEMINFO);
	expect(&m, FMT_E_MB1_AOUT, "a.out kludge");
	put_mb1(&m, 0x1000, MB1_HF_VIDEO);
	expect(&m, FMT_E_MB1_VIDEO, "video mode");
	put_mb1(&m, 0x1000, 1u << 5);
	expect(&m, FMT_E_MB1_FLAGS, "unknown required flag 5");
	put_mb1(&m, 0x1000, 1u << 20);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_MB1,
	   "unknown optional flag 20 is ignored");
	put32(m.buf + 0x1008, 0);
	expect(&m, FMT_E_MB1_CHECKSUM, "bad checksum");
	/* A bad header first, a good one later: the good one counts. */
	put_mb1(&m, 0x1100, 0);
	ok(parse(&m, &gi) == FMT_OK && gi.mb1_offset == 0x1100,
	   "bad header skipped, later good one used");

	/* The search ends at 8 KiB: the header must lie wholly inside. */
	make_elf(&m, 1);
	m.size = 0x3000;
	put_mb1(&m, 8192 - 12, 0);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_MB1,
	   "header ending exactly at 8 KiB found");
	make_elf(&m, 1);
	m.size = 0x3000;
	put_mb1(&m, 8192 - 8, 0);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "header crossing 8 KiB not found");
	make_elf(&m, 1);
	put_mb1(&m, 0x1002, 0);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "unaligned header not found");
	/* The header at the very end of a short file. */
	make_elf(&m, 1);
	put_mb1(&m, 0x1000, 0);
	m.size = 0x1008;
	expect(&m, FMT_E_ELF, "truncated file: the segment is outside");

	/* Not ELF with a header: the a.out case, or nothing usable. */
	memset(&m, 0, sizeof(m));
	m.size = 64;
	put_mb1(&m, 16, MB1_HF_AOUT);
	expect(&m, FMT_E_MB1_AOUT, "a.out kernel, not ELF");
	put_mb1(&m, 16, 0);
	expect(&m, FMT_E_MB1_NOT_ELF, "header in a non-ELF file");

	/* A higher-half kernel: e_entry is virtual, translated like GRUB. */
	make_elf(&m, 1);
	put_mb1(&m, 0x1000, 0);
	put32(m.buf + 52 + 8, 0xc0100000u);
	put32(m.buf + 24, 0xc0100010u);
	ok(parse(&m, &gi) == FMT_OK && gi.entry == 0x100010 &&
		   gi.elf.seg[0].gpa == 0x100000,
	   "higher-half kernel: virtual e_entry translated to 0x100010");
	put32(m.buf + 24, 0xc0200010u);
	ok(parse(&m, &gi) == FMT_E_ELF && gi.elf_err == ELF_E_ENTRY,
	   "entry in no segment, virtual or physical, refused");

	/* Segments of a PC kernel keep out of 0xA0000-0xFFFFF. */
	make_elf(&m, 1);
	put_mb1(&m, 0x1000, 0);
	phdr(&m, 0, 1, 0x1000, 0xf0000, 0x1000, 0x1000, 7);
	put32(m.buf + 24, 0xf0000);
	ok(parse(&m, &gi) == FMT_E_ELF && gi.elf_err == ELF_E_SEG_HOLE,
	   "segment in the legacy hole refused");
}

static void make_pvh(struct img *m, uint32_t descsz, uint64_t entry)
{
	make_elf(m, 2);
	phdr(m, 1, 4, 0x800, 0, 12 + 4 + descsz, 0, 4);
	put_note(m, 0x800, 4, descsz, PVH_NOTE_PHYS32, "Xen", entry);
}

static void test_pvh(void)
{
	struct guest_image gi;
	struct img m;

	make_pvh(&m, 4, 0x100800);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_PVH &&
		   gi.entry == 0x100800,
	   "PVH note (4 bytes): PVH kernel, entry from the note");
	make_pvh(&m, 8, 0x100800);
	ok(parse(&m, &gi) == FMT_OK && gi.entry == 0x100800,
	   "PVH note (8 bytes)");
	make_pvh(&m, 8, 0x100100800ull);
	expect(&m, FMT_E_PVH_ENTRY, "entry above 4 GiB");
	make_pvh(&m, 4, 0x200000);
	expect(&m, FMT_E_PVH_ENTRY, "entry outside the segments");
	make_pvh(&m, 2, 0x100800);
	expect(&m, FMT_E_PVH_NOTE, "2-byte descriptor");
	/* Loaded by physical address whatever the virtual one is. */
	make_pvh(&m, 4, 0x100800);
	put32(m.buf + 52 + 8, 0x81000000u);
	ok(parse(&m, &gi) == FMT_OK && gi.elf.seg[0].gpa == 0x100000,
	   "PVH kernel loads by p_paddr");

	/* Other notes are skipped; wrong name or type is not PVH. */
	make_pvh(&m, 4, 0x100800);
	put_note(&m, 0x800, 4, 4, 1, "Xen", 0);
	put_note(&m, 0x814, 4, 4, PVH_NOTE_PHYS32, "Xen", 0x100800);
	phdr(&m, 1, 4, 0x800, 0, 40, 0, 4);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_PVH,
	   "second note found after another Xen note");
	make_pvh(&m, 4, 0x100800);
	put_note(&m, 0x800, 4, 4, PVH_NOTE_PHYS32, "Xem", 0x100800);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "note with another name is not PVH");
	make_pvh(&m, 4, 0x100800);
	put32(m.buf + 0x800, 3); /* namesz without the NUL */
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "name without its NUL is not PVH");

	/* Hostile sizes. */
	make_pvh(&m, 4, 0x100800);
	put32(m.buf + 0x800, 0xfffffff0u);
	expect(&m, FMT_E_PVH_NOTE, "huge namesz");
	make_pvh(&m, 4, 0x100800);
	put32(m.buf + 0x804, 0xffffffffu);
	expect(&m, FMT_E_PVH_NOTE, "huge descsz");
	make_pvh(&m, 4, 0x100800);
	phdr(&m, 1, 4, 0x800, 0, 19, 0, 4);
	expect(&m, FMT_E_PVH_NOTE, "note cut short by its segment");
	make_pvh(&m, 4, 0x100800);
	phdr(&m, 1, 4, 0x1ff0, 0, 0x20, 0, 4);
	expect(&m, FMT_E_PVH_NOTE, "note segment past the end of the file");
	make_pvh(&m, 4, 0x100800);
	phdr(&m, 1, 4, 0xfffffff0u, 0, 0x20, 0, 4);
	expect(&m, FMT_E_PVH_NOTE, "note segment offset wraps");
	make_pvh(&m, 4, 0x100800);
	phdr(&m, 1, 4, 0x800, 0, 11, 0, 4);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_TIDAL,
	   "note segment too short for a header: no note");
	/* PVH wins over a multiboot header in the same image. */
	make_pvh(&m, 4, 0x100800);
	put_mb1(&m, 0x1000, 0);
	ok(parse(&m, &gi) == FMT_OK && gi.fmt == GUEST_FMT_PVH,
	   "PVH note takes precedence over a multiboot header");
}

static void test_other(void)
{
	struct guest_image gi;
	struct img m;

	memset(&m, 0, sizeof(m));
	m.size = 0x400;
	memcpy(m.buf + 0x202, "HdrS", 4);
	expect(&m, FMT_E_BZIMAGE, "bzImage");
	memset(&m, 'x', sizeof(m));
	expect(&m, FMT_E_UNKNOWN, "text file");
	m.size = 0;
	expect(&m, FMT_E_UNKNOWN, "empty file");
	ok(guest_image_parse(NULL, 0, &tidal_lim, &pc_lim, &gi) ==
		   FMT_E_UNKNOWN,
	   "NULL image refused");
	make_elf(&m, 1);
	m.buf[5] = 2; /* big-endian */
	ok(parse(&m, &gi) == FMT_E_ELF && gi.elf_err == ELF_E_DATA,
	   "bad ELF header: the ELF loader's reason");
	ok(!strcmp(fmt_strerror(FMT_E_COUNT + 3), "unknown guest format error"),
	   "out-of-range error has a message");
	for (int e = 0; e < FMT_E_COUNT; e++)
		ok(fmt_strerror(e) && strlen(fmt_strerror(e)) > 1,
		   "message for error %d", e);
}

static size_t read_file(const char *path, uint8_t *buf, size_t room)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, room, f);
	fclose(f);
	return n;
}

/* The built kernels, then random corruption of them: never a crash. */
static void test_files(void)
{
	static const struct {
		const char *path;
		enum fmt_error err;
		enum guest_format fmt;
	} files[] = {
		{"build/guests/mb1kernel.elf", FMT_OK, GUEST_FMT_MB1},
		{"build/guests/pvhkernel.elf", FMT_OK, GUEST_FMT_PVH},
		{"build/guests/hello32.elf", FMT_OK, GUEST_FMT_TIDAL},
		{"build/guests/hello64.elf", FMT_OK, GUEST_FMT_TIDAL},
		{"build/guests/mb1-aout.elf", FMT_E_MB1_AOUT, GUEST_FMT_MB1},
		{"build/guests/unknown.bin", FMT_E_UNKNOWN, GUEST_FMT_TIDAL},
	};
	static uint8_t buf[1 << 20], copy[1 << 20];
	unsigned int seed = 12345, verdicts = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n = read_file(files[i].path, buf, sizeof(buf));
		struct guest_image gi;
		enum fmt_error err;

		if (!n) {
			tap_skip(files[i].path);
			continue;
		}
		err = guest_image_parse(buf, n, &tidal_lim, &pc_lim, &gi);
		ok(err == files[i].err && gi.fmt == files[i].fmt, "%s: %s (%s)",
		   files[i].path, fmt_strerror(err), guest_format_name(gi.fmt));
		for (int round = 0; round < 2000; round++) {
			memcpy(copy, buf, n);
			for (int k = 0; k < 4; k++) {
				/* Mostly the headers and notes, sometimes
				 * anywhere. */
				size_t at = (size_t)rand_r(&seed) %
					    (k ? MIN(n, (size_t)0x1100) : n);

				copy[at] = (uint8_t)rand_r(&seed);
			}
			err = guest_image_parse(
				copy,
				(size_t)rand_r(&seed) % 4
					? n
					: (size_t)rand_r(&seed) % n,
				&tidal_lim, &pc_lim, &gi);
			verdicts += err < FMT_E_COUNT;
		}
	}
	ok(verdicts > 0, "corrupted kernels: %u verdicts, no crash", verdicts);
}

/*
 * A real Linux vmlinux (TIDAL_VMLINUX=path, e.g. unpacked from Debian's
 * bzImage as the README says): a PVH kernel loaded by physical address.
 */
static void test_vmlinux(void)
{
	const char *path = getenv("TIDAL_VMLINUX");
	const struct elf_limits big = {.ram_bytes = 1ull << 30,
				       .usable_end = (1ull << 30) - 0x20000,
				       .by_paddr = true,
				       .hole_lo = PC_LOW_RAM_END,
				       .hole_hi = PC_HOLE_END};
	struct guest_image gi;
	FILE *f = path ? fopen(path, "rb") : NULL;
	uint8_t *buf;
	long n;

	if (!f) {
		tap_skip("no TIDAL_VMLINUX to check a real Linux kernel");
		return;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		enum fmt_error err = guest_image_parse(buf, (size_t)n,
						       &tidal_lim, &big, &gi);

		ok(err == FMT_OK && gi.fmt == GUEST_FMT_PVH &&
			   gi.entry < 1ull << 32,
		   "%s: %s, PVH entry %llx, %u segments %llx-%llx", path,
		   fmt_strerror(err), (unsigned long long)gi.entry,
		   gi.elf.nsegs, (unsigned long long)gi.elf.lo,
		   (unsigned long long)gi.elf.hi);
	} else {
		ok(false, "read %s", path);
	}
	free(buf);
	fclose(f);
}

int main(void)
{
	test_mb1();
	test_pvh();
	test_other();
	test_files();
	test_vmlinux();
	return tap_done();
}
