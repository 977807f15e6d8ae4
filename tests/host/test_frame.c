// SPDX-License-Identifier: MIT
/*
 * Frame allocator over made-up memory maps: it never hands out the first
 * MiB, reserved ranges or holes; runs are contiguous, aligned and under
 * the limit; counters add up; exhaustion and bad frees are reported; and
 * concurrent users never get the same frame.
 */
#include "mm/frame.h"
#include "tests/host/platform_host.h"
#include "tests/host/tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TOP (64 * MiB)

static uint64_t bitmap[8192]; /* enough for 64 MiB (2 bits per frame) */
static uint8_t owner[TOP >> PAGE_SHIFT];

/*
 * Usable: 0-640K, 1M-32M, 33M+4K+123 .. 64M-5 (unaligned ends).
 * Reserved: "image" 2M-3M, "module" 5M+100 .. 6M+100 (unaligned),
 * "mbi" 40M one page.
 */
static const struct frame_range usable[] = {
	{ 0, 640 * KiB },
	{ 1 * MiB, 31 * MiB },
	{ 33 * MiB + 4096 + 123, 31 * MiB - 4096 - 123 - 5 },
};
static const struct frame_range reserved[] = {
	{ 2 * MiB, 1 * MiB },
	{ 5 * MiB + 100, 1 * MiB },
	{ 40 * MiB, 4096 },
};

static bool in_range(uint64_t pa, const struct frame_range *r)
{
	return pa + PAGE_SIZE > r->base && pa < r->base + r->len;
}

static bool allowed(uint64_t pa)
{
	bool in_usable = false;

	if (pa < 1 * MiB)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(usable); i++) {
		if (pa >= usable[i].base &&
		    pa + PAGE_SIZE <= usable[i].base + usable[i].len)
			in_usable = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		if (in_range(pa, &reserved[i]))
			return false;
	}
	return in_usable;
}

static uint64_t expected_total(void)
{
	uint64_t n = 0;

	for (uint64_t pa = 0; pa < TOP; pa += PAGE_SIZE)
		n += allowed(pa);
	return n;
}

static void setup(void)
{
	int r = frame_init(usable, ARRAY_SIZE(usable), reserved,
			   ARRAY_SIZE(reserved), bitmap, sizeof(bitmap));

	if (r)
		diag("frame_init failed");
}

static void test_init(void)
{
	struct frame_stats st;

	is_int(frame_bitmap_bytes(TOP), 2 * (TOP >> PAGE_SHIFT) / 8,
	       "bitmap size: 2 bits per frame");
	is_int(frame_bitmap_bytes(4096 * 65), 32, "rounded up to whole words");
	ok(frame_init(usable, ARRAY_SIZE(usable), NULL, 0, bitmap, 100) < 0,
	   "too small a bitmap is refused");
	ok(frame_init(usable, ARRAY_SIZE(usable), NULL, 0,
		      (char *)bitmap + 1, sizeof(bitmap) - 8) < 0,
	   "misaligned bitmap is refused");
	ok(frame_init(NULL, 2, NULL, 0, bitmap, sizeof(bitmap)) < 0,
	   "NULL ranges refused");
	setup();
	frame_get_stats(&st);
	is_int(st.total, expected_total(), "managed frames = usable - reserved");
	is_int(st.free, st.total, "all free at start");
	is_int(st.allocs + st.frees + st.failures, 0, "counters start at 0");
}

static void test_singles(void)
{
	struct frame_stats st;
	uint64_t n = 0, bad = 0, dup = 0, pa;

	setup();
	memset(owner, 0, sizeof(owner));
	while ((pa = frame_alloc())) {
		if (!allowed(pa) || pa % PAGE_SIZE)
			bad++;
		if (owner[pa >> PAGE_SHIFT]++)
			dup++;
		n++;
	}
	frame_get_stats(&st);
	is_int(n, expected_total(), "every managed frame handed out once");
	is_int(bad, 0, "none in the first MiB, a reserved range or a hole");
	is_int(dup, 0, "no frame handed out twice");
	is_int(st.free, 0, "free count 0 when exhausted");
	is_int(st.failures, 1, "the failing call is counted");
	is_int(frame_alloc(), 0, "still exhausted");
	is_int(frame_alloc_run(1, PAGE_SIZE, 0), 0, "runs fail too");

	is_int(frame_free(3 * MiB), 0, "free one frame");
	ok(frame_is_free(3 * MiB), "it is free");
	is_int(frame_alloc(), 3 * MiB, "and comes back");
	frame_get_stats(&st);
	is_int(st.allocs, n + 1, "allocations counted");
	is_int(st.frees, 1, "frees counted");
}

static void test_bad_frees(void)
{
	struct frame_stats st, st2;
	phys_addr_t pa;

	setup();
	pa = frame_alloc();
	frame_get_stats(&st);
	is_int(frame_free(pa), 0, "free of an allocated frame");
	is_int(frame_free(pa), -1, "double free refused");
	is_int(frame_free(2 * MiB), -1, "free of a reserved frame refused");
	is_int(frame_free(0x1000), -1, "free in the first MiB refused");
	is_int(frame_free(32 * MiB + 8192), -1, "free in a hole refused");
	is_int(frame_free(TOP + 0x100000), -1, "free past the map refused");
	is_int(frame_free(pa + 1), -1, "misaligned free refused");
	is_int(frame_free_run(pa, 0), -1, "empty run refused");
	pa = frame_alloc_run(4, PAGE_SIZE, 0);
	is_int(frame_free_run(pa, 5), -1,
	       "run free reaching a free frame refused");
	ok(!frame_is_free(pa), "... and changed nothing");
	is_int(frame_free_run(pa, 4), 0, "right-sized run free works");
	is_int(frame_free_run(UINT64_MAX & ~0xfffull, 2), -1,
	       "run free that would wrap refused");
	frame_get_stats(&st2);
	is_int(st2.free, st.free + 1, "free count only moved by good frees");
}

static void test_runs(void)
{
	struct frame_stats st;
	phys_addr_t a, b, c;
	uint64_t bad = 0;

	setup();
	a = frame_alloc_run(512, 2 * MiB, 0);
	ok(a && a % (2 * MiB) == 0, "2 MiB aligned run of 512: %#llx",
	   (unsigned long long)a);
	for (uint64_t pa = a; pa < a + 2 * MiB; pa += PAGE_SIZE)
		bad += !allowed(pa) || frame_is_free(pa);
	is_int(bad, 0, "every frame of the run is usable and now taken");
	ok(a != 2 * MiB && !(a <= 5 * MiB + 100 && a + 2 * MiB > 5 * MiB),
	   "run avoids reserved ranges");
	b = frame_alloc_run(3, 64 * KiB, 0);
	ok(b && b % (64 * KiB) == 0 && (b + 3 * PAGE_SIZE <= a || b >= a + 2 * MiB),
	   "64 KiB aligned run of 3 does not overlap the first");
	c = frame_alloc_run(1, PAGE_SIZE, 2 * MiB);
	ok(c && c + PAGE_SIZE <= 2 * MiB, "limit respected: %#llx",
	   (unsigned long long)c);
	is_int(frame_alloc_run(16 * MiB / PAGE_SIZE * 2, PAGE_SIZE, 0), 0,
	       "run longer than any hole fails");
	is_int(frame_alloc_run(1, PAGE_SIZE, 1 * MiB), 0,
	       "limit inside the first MiB: nothing");
	is_int(frame_alloc_run(2, 3 * PAGE_SIZE, 0), 0,
	       "non-power-of-two alignment refused");
	is_int(frame_alloc_run(0, PAGE_SIZE, 0), 0, "empty run refused");
	frame_get_stats(&st);
	is_int(st.free, st.total - 512 - 3 - 1, "free count after runs");
	is_int(frame_free_run(a, 512), 0, "run freed");
	a = frame_alloc_run(8 * 256, 8 * MiB, 0);
	ok(a % (8 * MiB) == 0 && a >= 8 * MiB, "8 MiB run at %#llx",
	   (unsigned long long)a);
}

/* Threads allocate and free at once; a frame must never have two owners. */
static int conflicts;

struct held {
	phys_addr_t pa;
	size_t count;
};

static void claim(phys_addr_t pa, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (__atomic_exchange_n(&owner[(pa >> PAGE_SHIFT) + i], 1,
					__ATOMIC_RELAXED))
			__atomic_add_fetch(&conflicts, 1, __ATOMIC_RELAXED);
	}
}

static void release(struct held *h)
{
	for (size_t i = 0; i < h->count; i++)
		__atomic_store_n(&owner[(h->pa >> PAGE_SHIFT) + i], 0,
				 __ATOMIC_RELAXED);
	if (frame_free_run(h->pa, h->count))
		__atomic_add_fetch(&conflicts, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	struct held held[64];
	int n = 0;

	(void)arg;
	host_thread_register();
	for (int round = 0; round < 5000; round++) {
		if (n < 64 && (host_rand() & 1)) {
			size_t count = (host_rand() & 3) ? 1 : 4;
			phys_addr_t pa = count == 1 ?
				frame_alloc() :
				frame_alloc_run(count, 4 * PAGE_SIZE, 0);

			if (!pa)
				continue;
			claim(pa, count);
			held[n++] = (struct held){ pa, count };
		} else if (n) {
			int i = (int)(host_rand() % (uint64_t)n);

			release(&held[i]);
			held[i] = held[--n];
		}
	}
	while (n)
		release(&held[--n]);
	host_thread_unregister();
	return NULL;
}

static void test_concurrent(void)
{
	pthread_t t[4];
	struct frame_stats st;

	setup();
	memset(owner, 0, sizeof(owner));
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	frame_get_stats(&st);
	is_int(conflicts, 0, "no frame owned twice, no free refused");
	is_int(st.free, st.total, "everything returned at the end");
	is_int(st.allocs, st.frees, "as many frees as allocations");
}

int main(void)
{
	host_srand(1);
	test_init();
	test_singles();
	test_bad_frees();
	test_runs();
	test_concurrent();
	return tap_done();
}
