// SPDX-License-Identifier: MIT
/*
 * Multiboot2 parser: well-formed blocks (BIOS and EFI memory maps,
 * modules, RSDP) and malformed ones (truncated, bad sizes, tags past the
 * end, overflowing lengths, missing end tag).  Malformed blocks are built
 * in a buffer sized exactly to what the parser may read, so ASan catches
 * any read outside it.
 */
#include "boot/bootinfo.h"
#include "tests/host/tap.h"
#include "tests/host/xorshift.h"

#include <stdlib.h>
#include <string.h>

/* A block under construction. */
struct blk {
	uint8_t b[4096];
	uint32_t len;
};

static void put32(struct blk *k, uint32_t off, uint32_t v)
{
	memcpy(k->b + off, &v, 4);
}

static void put64(struct blk *k, uint32_t off, uint64_t v)
{
	memcpy(k->b + off, &v, 8);
}

static void blk_start(struct blk *k)
{
	memset(k, 0, sizeof(*k));
	k->len = 8;
}

/* Append a tag with @plen payload bytes; returns its offset. */
static uint32_t tag(struct blk *k, uint32_t type, const void *payload,
		    uint32_t plen)
{
	uint32_t off = k->len;

	put32(k, off, type);
	put32(k, off + 4, 8 + plen);
	if (payload)
		memcpy(k->b + off + 8, payload, plen);
	k->len = off + ((8 + plen + 7) & ~7u);
	return off;
}

static void blk_end(struct blk *k)
{
	tag(k, MB2_TAG_END, NULL, 0);
	put32(k, 0, k->len);
}

static uint32_t str_tag(struct blk *k, uint32_t type, const char *s)
{
	return tag(k, type, s, strlen(s) + 1);
}

static uint32_t module_tag(struct blk *k, uint32_t start, uint32_t end,
			   const char *cmd)
{
	uint8_t p[256];

	memcpy(p, &start, 4);
	memcpy(p + 4, &end, 4);
	strcpy((char *)p + 8, cmd);
	return tag(k, MB2_TAG_MODULE, p, 8 + strlen(cmd) + 1);
}

struct e820 {
	uint64_t base, len;
	uint32_t type, zero;
};

static uint32_t mmap_tag(struct blk *k, const struct e820 *e, int n,
			 uint32_t esize)
{
	uint8_t p[1024] = { 0 };
	uint32_t ver = 0;

	memcpy(p, &esize, 4);
	memcpy(p + 4, &ver, 4);
	for (int i = 0; i < n; i++)
		memcpy(p + 8 + i * esize, &e[i], sizeof(e[i]));
	return tag(k, MB2_TAG_MMAP, p, 8 + n * esize);
}

/* Copy the block into a heap buffer of exactly @avail bytes and parse. */
static int parse_n(const struct blk *k, size_t avail, struct boot_info *bi,
		   char *err)
{
	uint8_t *copy = malloc(avail ? avail : 1);
	int r;

	memcpy(copy, k->b, avail);
	r = mb2_parse(copy, avail, 0x10000, bi, err, 200);
	/* Pointers in @bi point into the copy: tests read them first. */
	static uint8_t *last;
	free(last);
	last = copy;
	return r;
}

static int parse(const struct blk *k, struct boot_info *bi, char *err)
{
	return parse_n(k, k->len, bi, err);
}

static struct boot_info bi;
static char err[200];

static void good_block(struct blk *k)
{
	struct e820 e[] = {
		{ 0, 0x9fc00, 1, 0 },
		{ 0x9fc00, 0x400, 2, 0 },
		{ 0x100000, 0x7f00000, 1, 0 },
		{ 0xfffc0000, 0x40000, 2, 0 },
		{ 0x8000000, 0x10000, 3, 0 },
	};
	uint8_t rsdp[20] = "RSD PTR ";
	uint32_t mem[2] = { 639, 130048 };

	blk_start(k);
	str_tag(k, MB2_TAG_CMDLINE, "loglevel=debug test=ud2");
	str_tag(k, MB2_TAG_LOADER_NAME, "GRUB 2.06");
	module_tag(k, 0x200000, 0x201000, "guest one two");
	module_tag(k, 0x300000, 0x300000, "");
	tag(k, MB2_TAG_BASIC_MEMINFO, mem, 8);
	mmap_tag(k, e, 5, 24);
	tag(k, MB2_TAG_ACPI_OLD, rsdp, 20);
	tag(k, 21, "xxxx", 4); /* unknown tag: skipped */
	blk_end(k);
}

static void test_good(void)
{
	struct blk k;

	good_block(&k);
	is_int(parse(&k, &bi, err), 0, "well-formed block parses (%s)", err);
	ok(!strcmp(bi.cmdline, "loglevel=debug test=ud2"), "command line");
	ok(!strcmp(bi.loader_name, "GRUB 2.06"), "loader name");
	is_int(bi.module_count, 2, "two modules");
	is_int(bi.modules[0].start, 0x200000, "module start");
	is_int(bi.modules[0].end, 0x201000, "module end");
	ok(!strcmp(bi.modules[0].cmdline, "guest one two"), "module cmdline");
	ok(!strcmp(bi.modules[1].cmdline, ""), "empty module cmdline");
	ok(bi.has_basic_mem && bi.mem_upper_kib == 130048, "basic meminfo");
	is_int(bi.mmap_source, BOOT_MMAP_BIOS, "BIOS memory map");
	is_int(bi.mmap_count, 5, "five map entries");
	is_int(bi.mmap[2].base, 0x100000, "entry base");
	is_int(bi.mmap[2].type, BOOT_MEM_USABLE, "entry type usable");
	is_int(bi.mmap[4].type, BOOT_MEM_ACPI_RECLAIM, "entry type ACPI");
	is_int(boot_usable_bytes(&bi), 0x9fc00 + 0x7f00000, "usable bytes");
	ok(bi.rsdp && !memcmp(bi.rsdp, "RSD PTR ", 8) && !bi.rsdp_v2,
	   "RSDP v1 copy found");
	is_int(bi.mbi_size, k.len, "block size recorded");
	is_int(bi.mbi_phys, 0x10000, "block address recorded");
}

static void test_minimal(void)
{
	struct blk k;

	blk_start(&k);
	blk_end(&k);
	is_int(parse(&k, &bi, err), 0, "block with only the end tag parses");
	ok(!strcmp(bi.cmdline, "") && !strcmp(bi.loader_name, ""),
	   "missing strings read as empty");
	is_int(bi.mmap_source, BOOT_MMAP_NONE, "no memory map reported");
}

static void test_efi_mmap(void)
{
	struct blk k;
	uint8_t p[8 + 3 * 48] = { 0 };
	uint32_t dsize = 48;
	struct {
		uint32_t type, pad;
		uint64_t phys, virt, pages, attr;
	} d[3] = {
		{ 7, 0, 0x100000, 0, 0x100, 0 },  /* conventional */
		{ 4, 0, 0x200000, 0, 0x10, 0 },   /* boot services data */
		{ 11, 0, 0xfee00000, 0, 1, 0 },   /* MMIO */
	};

	memcpy(p, &dsize, 4);
	for (int i = 0; i < 3; i++)
		memcpy(p + 8 + i * 48, &d[i], sizeof(d[i]));
	blk_start(&k);
	tag(&k, MB2_TAG_EFI_MMAP, p, sizeof(p));
	blk_end(&k);
	is_int(parse(&k, &bi, err), 0, "EFI memory map parses (%s)", err);
	is_int(bi.mmap_source, BOOT_MMAP_EFI, "EFI source");
	is_int(bi.mmap_count, 3, "three descriptors");
	is_int(bi.mmap[0].len, 0x100000, "pages converted to bytes");
	is_int(bi.mmap[1].type, BOOT_MEM_USABLE, "boot services data usable");
	is_int(bi.mmap[2].type, BOOT_MEM_RESERVED, "MMIO reserved");

	/* Both maps: the e820-style one wins. */
	{
		struct e820 e = { 0x100000, 0x1000000, 1, 0 };

		k.len -= 8; /* drop end tag */
		mmap_tag(&k, &e, 1, 24);
		blk_end(&k);
		is_int(parse(&k, &bi, err), 0, "both maps parse");
		is_int(bi.mmap_source, BOOT_MMAP_BIOS, "BIOS map preferred");
	}

	/* Bad descriptor size, and a page count that overflows. */
	dsize = 16;
	memcpy(p, &dsize, 4);
	blk_start(&k);
	tag(&k, MB2_TAG_EFI_MMAP, p, sizeof(p));
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "descriptor size"),
	   "EFI descriptor size too small rejected: %s", err);
	dsize = 48;
	memcpy(p, &dsize, 4);
	d[0].pages = UINT64_MAX / 2;
	memcpy(p + 8, &d[0], sizeof(d[0]));
	blk_start(&k);
	tag(&k, MB2_TAG_EFI_MMAP, p, sizeof(p));
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too large"),
	   "EFI page count overflow rejected: %s", err);
}

static void test_truncated(void)
{
	struct blk k;
	int bad = 0;

	good_block(&k);
	is_int(parse_n(&k, 0, &bi, err), -1, "0 readable bytes rejected");
	ok(strstr(err, "shorter than its header") != NULL, "... says why: %s",
	   err);
	is_int(parse_n(&k, 7, &bi, err), -1, "7 readable bytes rejected");
	/* Every strict prefix of a good block is refused. */
	for (uint32_t n = 8; n < k.len; n++) {
		if (parse_n(&k, n, &bi, err) != -1)
			bad++;
	}
	is_int(bad, 0, "every truncation of a good block is rejected");
	parse_n(&k, k.len - 1, &bi, err);
	ok(strstr(err, "claims") != NULL, "truncation message: %s", err);
	ok(mb2_parse(NULL, 100, 0, &bi, err, sizeof(err)) < 0,
	   "NULL block rejected");
}

static void test_bad_sizes(void)
{
	struct blk k;
	uint32_t off;

	/* total_size smaller than header + end tag. */
	blk_start(&k);
	blk_end(&k);
	put32(&k, 0, 8);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too small"),
	   "total_size 8 rejected: %s", err);

	/* total_size not a multiple of 8. */
	blk_start(&k);
	blk_end(&k);
	put32(&k, 0, 17);
	ok(parse_n(&k, 24, &bi, err) < 0 && strstr(err, "multiple of 8"),
	   "odd total_size rejected: %s", err);

	/* Huge total_size (overflowing lengths). */
	blk_start(&k);
	blk_end(&k);
	put32(&k, 0, 0xfffffff8u);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "claims"),
	   "total_size beyond the buffer rejected: %s", err);

	/* A tag smaller than its header. */
	blk_start(&k);
	off = str_tag(&k, MB2_TAG_CMDLINE, "abc");
	blk_end(&k);
	put32(&k, off + 4, 4);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "< 8"),
	   "tag size 4 rejected: %s", err);

	/* A tag running past the end of the block. */
	blk_start(&k);
	off = str_tag(&k, MB2_TAG_CMDLINE, "abc");
	blk_end(&k);
	put32(&k, off + 4, 4096);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "runs past"),
	   "tag past the end rejected: %s", err);

	/* A tag size near 2^32 must not wrap the offset. */
	blk_start(&k);
	off = str_tag(&k, MB2_TAG_CMDLINE, "abc");
	blk_end(&k);
	put32(&k, off + 4, 0xfffffffcu);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "runs past"),
	   "tag size 0xfffffffc rejected: %s", err);

	/* No end tag: the block ends after an ordinary tag. */
	blk_start(&k);
	str_tag(&k, MB2_TAG_CMDLINE, "abc");
	str_tag(&k, MB2_TAG_LOADER_NAME, "x");
	put32(&k, 0, k.len);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "no end tag"),
	   "missing end tag rejected: %s", err);
}

static void test_bad_tags(void)
{
	struct blk k;
	uint32_t off;
	struct e820 e[2] = { { 0x100000, 0x100000, 1, 0 },
			     { 0xffffffffffff0000ull, 0x20000, 1, 0 } };
	uint8_t rsdp[20] = "RSD PTX ";

	/* Unterminated command line (string fills its whole tag). */
	blk_start(&k);
	off = tag(&k, MB2_TAG_CMDLINE, "abcdefgh", 8);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "NUL-terminated"),
	   "unterminated command line rejected: %s", err);

	/* Unterminated loader name. */
	blk_start(&k);
	tag(&k, MB2_TAG_LOADER_NAME, "GRUB", 4);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0, "unterminated loader name rejected");

	/* Module: too short, end before start, unterminated string. */
	blk_start(&k);
	tag(&k, MB2_TAG_MODULE, "\0\0\0\0", 4);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too short"),
	   "short module tag rejected: %s", err);
	blk_start(&k);
	module_tag(&k, 0x300000, 0x200000, "back");
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "before it starts"),
	   "module ending before its start rejected: %s", err);
	blk_start(&k);
	off = module_tag(&k, 0x300000, 0x400000, "abc");
	put32(&k, off + 4, 8 + 8 + 3); /* drop the NUL from the tag */
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "not terminated"),
	   "unterminated module cmdline rejected: %s", err);

	/* Too many modules. */
	blk_start(&k);
	for (int i = 0; i <= BOOT_MAX_MODULES; i++)
		module_tag(&k, 0x100000 * (i + 1), 0x100000 * (i + 1) + 1, "m");
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too many modules"),
	   "too many modules rejected: %s", err);

	/* Memory map: bad entry size, wrapping entry. */
	blk_start(&k);
	mmap_tag(&k, e, 1, 12);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "entry size"),
	   "mmap entry size 12 rejected: %s", err);
	blk_start(&k);
	mmap_tag(&k, e, 2, 24);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "wraps"),
	   "wrapping mmap entry rejected: %s", err);
	blk_start(&k);
	off = tag(&k, MB2_TAG_MMAP, "\x18\0\0\0", 4);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too short"),
	   "mmap tag without its header rejected: %s", err);

	/* A partial trailing entry is ignored, not read. */
	blk_start(&k);
	off = mmap_tag(&k, e, 1, 24);
	put32(&k, off + 4, 16 + 24 + 16);
	k.len = off + 16 + 24 + 16;
	blk_end(&k);
	is_int(parse(&k, &bi, err), 0, "partial mmap entry ignored (%s)", err);
	is_int(bi.mmap_count, 1, "... one whole entry kept");

	/* RSDP: bad signature, short. */
	blk_start(&k);
	tag(&k, MB2_TAG_ACPI_OLD, rsdp, 20);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "signature"),
	   "RSDP without signature rejected: %s", err);
	blk_start(&k);
	tag(&k, MB2_TAG_ACPI_NEW, "RSD PTR ", 8);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0 && strstr(err, "too short"),
	   "short ACPI 2.0 RSDP rejected: %s", err);

	/* Basic meminfo too short. */
	blk_start(&k);
	tag(&k, MB2_TAG_BASIC_MEMINFO, "\0\0\0", 4);
	blk_end(&k);
	ok(parse(&k, &bi, err) < 0, "short basic meminfo rejected");
}

static void test_many_mmap_entries(void)
{
	static struct blk k;
	static struct e820 e[BOOT_MAX_MMAP + 10];

	for (int i = 0; i < BOOT_MAX_MMAP + 10; i++)
		e[i] = (struct e820){ 0x100000ull * (i + 1), 0x1000, 1, 0 };
	blk_start(&k);
	/* Build the tag by hand: it is bigger than mmap_tag's buffer. */
	put32(&k, 8, MB2_TAG_MMAP);
	put32(&k, 12, 16 + 24 * (BOOT_MAX_MMAP + 10));
	put32(&k, 16, 24);
	for (int i = 0; i < BOOT_MAX_MMAP + 10; i++)
		memcpy(k.b + 24 + 24 * i, &e[i], 24);
	k.len = 8 + 16 + 24 * (BOOT_MAX_MMAP + 10);
	blk_end(&k);
	is_int(parse(&k, &bi, err), 0, "oversized memory map parses");
	is_int(bi.mmap_count, BOOT_MAX_MMAP, "table filled");
	is_int(bi.mmap_dropped, 10, "overflow counted");
	(void)put64;
}

static void test_error_buffer(void)
{
	struct blk k;
	char small[8];

	blk_start(&k);
	blk_end(&k);
	put32(&k, 0, 8);
	ok(mb2_parse(k.b, k.len, 0, &bi, small, sizeof(small)) < 0 &&
		   strlen(small) == sizeof(small) - 1,
	   "error message truncated to the buffer");
}

/*
 * Random damage to a good block: flipped bytes, changed sizes, cut ends.
 * Each result must be a clean success or a clean error with a message;
 * ASan (asan flavour) catches any read outside the exact-size buffer.
 */
static void test_mutations(void)
{
	struct blk good, k;
	uint64_t rng = 0x1234567887654321ull;
	int ok_count = 0, err_count = 0, bad_msg = 0;

	good_block(&good);
	for (int iter = 0; iter < 50000; iter++) {
		uint32_t avail;
		int flips;

		k = good;
		xorshift64(&rng);
		flips = 1 + (int)(rng % 4);
		for (int f = 0; f < flips; f++) {
			uint32_t pos = (uint32_t)((rng >> (8 * f)) % k.len);

			/* Bias towards size fields, the interesting part. */
			if (f & 1)
				pos = (pos & ~7u) + 4;
			if (pos < k.len)
				k.b[pos] ^= (uint8_t)(rng >> (16 + 8 * f));
		}
		avail = k.len - (uint32_t)((rng >> 40) % 3 == 0 ?
						   (rng >> 44) % k.len : 0);
		if (parse_n(&k, avail, &bi, err) == 0) {
			ok_count++;
			/* What was accepted must be self-consistent. */
			for (unsigned int i = 0; i < bi.module_count; i++) {
				if (bi.modules[i].end < bi.modules[i].start)
					bad_msg++;
			}
			if (bi.mmap_count > BOOT_MAX_MMAP)
				bad_msg++;
		} else {
			err_count++;
			if (!err[0])
				bad_msg++;
		}
	}
	diag("mutations: %d accepted, %d rejected", ok_count, err_count);
	ok(ok_count + err_count == 50000, "50000 damaged blocks parsed");
	is_int(bad_msg, 0, "every rejection has a message, every acceptance "
			   "is consistent");
	ok(ok_count > 0 && err_count > 0, "both outcomes were exercised");
}

int main(void)
{
	test_good();
	test_minimal();
	test_efi_mmap();
	test_truncated();
	test_bad_sizes();
	test_bad_tags();
	test_many_mmap_entries();
	test_error_buffer();
	test_mutations();
	return tap_done();
}
