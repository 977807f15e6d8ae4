// SPDX-License-Identifier: MIT
/*
 * Physical frame allocator: two bitmaps with one bit per 4 KiB frame from
 * address 0 up to the end of the highest usable range.
 *
 *   managed: the frame is usable RAM that tidal may hand out at all;
 *   free:    the frame is managed and not allocated now.
 *
 * Keeping "managed" separate lets frame_free() reject frees of reserved,
 * unmanaged or already-free frames instead of corrupting the pool.
 *
 * Allocation is first-fit from a moving hint for single frames and a
 * first-fit aligned scan for runs.  One small lock (a test-and-set lock
 * with local interrupts masked) protects everything: the allocator sits
 * below every other lock in the hypervisor and its critical sections are
 * short except for large run searches, which are rare (boot time, VM
 * creation).
 *
 * Portable core: it never touches the frames it manages, only numbers, so
 * host tests can run it over made-up memory maps.
 */
#include "mm/frame.h"
#include "lib/atomic.h"
#include "lib/string.h"

#define FIRST_MANAGED_PFN ((1ull * MiB) >> PAGE_SHIFT)
#define BITS_PER_WORD	  64

static struct {
	uint64_t *free_map;
	uint64_t *managed_map;
	uint64_t nframes; /* frames covered by the maps */
	uint64_t hint;	  /* where single-frame searches start */
	struct frame_stats st;
	unsigned int lock;
} pool;

static unsigned long pool_lock(void)
{
	unsigned long flags = platform_irq_save();

	while (__atomic_exchange_n(&pool.lock, 1, __ATOMIC_ACQUIRE)) {
		while (READ_ONCE(pool.lock))
			platform_relax();
	}
	return flags;
}

static void pool_unlock(unsigned long flags)
{
	__atomic_store_n(&pool.lock, 0, __ATOMIC_RELEASE);
	platform_irq_restore(flags);
}

static bool test_bit(const uint64_t *map, uint64_t n)
{
	return map[n / BITS_PER_WORD] & BIT(n % BITS_PER_WORD);
}

static void set_bit(uint64_t *map, uint64_t n)
{
	map[n / BITS_PER_WORD] |= BIT(n % BITS_PER_WORD);
}

static void clear_bit(uint64_t *map, uint64_t n)
{
	map[n / BITS_PER_WORD] &= ~BIT(n % BITS_PER_WORD);
}

static uint64_t words_for(uint64_t nframes)
{
	return (nframes + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

size_t frame_bitmap_bytes(uint64_t limit)
{
	/* Two maps (free + managed) of whole 64-bit words. */
	return (size_t)(2 * words_for(limit >> PAGE_SHIFT) * sizeof(uint64_t));
}

/* Frames fully inside [base, base + len), clipped to the maps. */
static void inner_frames(uint64_t base, uint64_t len, uint64_t *first,
			 uint64_t *end)
{
	uint64_t top = base + len < base ? UINT64_MAX : base + len;

	*first = ALIGN_UP(base, (uint64_t)PAGE_SIZE) >> PAGE_SHIFT;
	if (base > UINT64_MAX - PAGE_SIZE)
		*first = UINT64_MAX >> PAGE_SHIFT;
	*end = ALIGN_DOWN(top, (uint64_t)PAGE_SIZE) >> PAGE_SHIFT;
	*end = MIN(*end, pool.nframes);
}

/* Frames touched by [base, base + len), clipped to the maps. */
static void outer_frames(uint64_t base, uint64_t len, uint64_t *first,
			 uint64_t *end)
{
	uint64_t top = base + len < base ? UINT64_MAX : base + len;

	*first = base >> PAGE_SHIFT;
	*end = top > UINT64_MAX - PAGE_SIZE ?
		       (UINT64_MAX >> PAGE_SHIFT) + 1 :
		       ALIGN_UP(top, (uint64_t)PAGE_SIZE) >> PAGE_SHIFT;
	*end = MIN(*end, pool.nframes);
}

int frame_init(const struct frame_range *usable, size_t n_usable,
	       const struct frame_range *reserved, size_t n_reserved,
	       void *bitmap, size_t bitmap_bytes)
{
	uint64_t top = 0, first, end, words;

	if ((!usable && n_usable) || (!reserved && n_reserved) || !bitmap ||
	    !IS_ALIGNED((uintptr_t)bitmap, sizeof(uint64_t)))
		return -1;
	for (size_t i = 0; i < n_usable; i++) {
		uint64_t b = usable[i].base, l = usable[i].len;
		uint64_t e = b + l < b ? UINT64_MAX : b + l;

		top = MAX(top, ALIGN_DOWN(e, (uint64_t)PAGE_SIZE));
	}
	if (frame_bitmap_bytes(top) > bitmap_bytes)
		return -1;

	memset(&pool, 0, sizeof(pool));
	pool.nframes = top >> PAGE_SHIFT;
	words = words_for(pool.nframes);
	pool.free_map = bitmap;
	pool.managed_map = pool.free_map + words;
	memset(bitmap, 0, 2 * words * sizeof(uint64_t));

	for (size_t i = 0; i < n_usable; i++) {
		inner_frames(usable[i].base, usable[i].len, &first, &end);
		for (uint64_t f = MAX(first, FIRST_MANAGED_PFN); f < end; f++)
			set_bit(pool.managed_map, f);
	}
	for (size_t i = 0; i < n_reserved; i++) {
		outer_frames(reserved[i].base, reserved[i].len, &first, &end);
		for (uint64_t f = first; f < end; f++)
			clear_bit(pool.managed_map, f);
	}
	for (uint64_t w = 0; w < words; w++) {
		pool.free_map[w] = pool.managed_map[w];
		pool.st.total += (uint64_t)__builtin_popcountll(
			pool.managed_map[w]);
	}
	pool.st.free = pool.st.total;
	pool.hint = FIRST_MANAGED_PFN;
	return 0;
}

/* First free frame at or after @from, or pool.nframes. */
static uint64_t find_free_from(uint64_t from)
{
	uint64_t w = from / BITS_PER_WORD, words = words_for(pool.nframes);
	uint64_t bits;

	if (from >= pool.nframes)
		return pool.nframes;
	bits = pool.free_map[w] & (~0ull << (from % BITS_PER_WORD));
	for (;;) {
		if (bits)
			return MIN(w * BITS_PER_WORD +
					   (uint64_t)__builtin_ctzll(bits),
				   pool.nframes);
		if (++w >= words)
			return pool.nframes;
		bits = pool.free_map[w];
	}
}

phys_addr_t frame_alloc(void)
{
	unsigned long flags = pool_lock();
	uint64_t f = find_free_from(pool.hint);

	if (f >= pool.nframes)
		f = find_free_from(0);
	if (f >= pool.nframes) {
		pool.st.failures++;
		pool_unlock(flags);
		return 0;
	}
	clear_bit(pool.free_map, f);
	pool.hint = f + 1;
	pool.st.free--;
	pool.st.allocs++;
	pool_unlock(flags);
	return f << PAGE_SHIFT;
}

/* First frame in [start, start + count) that is not free, or start + count. */
static uint64_t first_busy(uint64_t start, uint64_t count)
{
	for (uint64_t f = start; f < start + count; f++) {
		if (!test_bit(pool.free_map, f))
			return f;
	}
	return start + count;
}

phys_addr_t frame_alloc_run(size_t count, uint64_t align, uint64_t limit)
{
	uint64_t step, end, start, busy;
	unsigned long flags;

	if (count == 0 || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	step = align >> PAGE_SHIFT;
	flags = pool_lock();
	end = pool.nframes;
	if (limit)
		end = MIN(end, limit >> PAGE_SHIFT);
	start = ALIGN_UP(find_free_from(FIRST_MANAGED_PFN), step);
	while (count <= end && start <= end - count) {
		busy = first_busy(start, count);
		if (busy == start + count) {
			for (uint64_t f = start; f < start + count; f++)
				clear_bit(pool.free_map, f);
			pool.st.free -= count;
			pool.st.allocs++;
			pool_unlock(flags);
			return start << PAGE_SHIFT;
		}
		/* Skip to the next free frame past the busy one, aligned. */
		start = ALIGN_UP(find_free_from(busy + 1), step);
	}
	pool.st.failures++;
	pool_unlock(flags);
	return 0;
}

int frame_free_run(phys_addr_t pa, size_t count)
{
	uint64_t first = pa >> PAGE_SHIFT;
	unsigned long flags;

	if (!IS_ALIGNED(pa, (uint64_t)PAGE_SIZE) || count == 0)
		return -1;
	flags = pool_lock();
	if (first >= pool.nframes || count > pool.nframes - first)
		goto bad;
	for (uint64_t f = first; f < first + count; f++) {
		if (!test_bit(pool.managed_map, f) ||
		    test_bit(pool.free_map, f))
			goto bad;
	}
	for (uint64_t f = first; f < first + count; f++)
		set_bit(pool.free_map, f);
	pool.st.free += count;
	pool.st.frees++;
	if (first < pool.hint)
		pool.hint = first;
	pool_unlock(flags);
	return 0;
bad:
	pool_unlock(flags);
	return -1;
}

int frame_free(phys_addr_t pa)
{
	return frame_free_run(pa, 1);
}

bool frame_is_free(phys_addr_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;
	unsigned long flags = pool_lock();
	bool r = f < pool.nframes && test_bit(pool.free_map, f);

	pool_unlock(flags);
	return r;
}

void frame_get_stats(struct frame_stats *st)
{
	unsigned long flags = pool_lock();

	*st = pool.st;
	pool_unlock(flags);
}
