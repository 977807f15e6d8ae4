// SPDX-License-Identifier: MIT
/*
 * coherence: TLB coherence across vCPUs, checked from inside the guest
 * (needs "memctl" on the guest's command line).
 *
 * vCPU 0 changes a guest memslot over a piece of RAM step by step:
 * create, write-protect, unprotect, move, delete, create over other
 * frames, delete.  Around each call it bumps a sequence number (odd while
 * the call runs).  Every other vCPU keeps touching the slot and, as soon
 * as it sees a new even number, checks that what it reaches is what the
 * call left: the new contents after a move or remap, #GP(0) for a write
 * to a write-protected slot and for any access to a deleted one.  It then
 * acknowledges, and vCPU 0 goes on.  A vCPU that still used a translation
 * from before the call would read the old frames or write through a
 * read-only mapping, and the check names it.
 *
 * Then dirty-log rounds: the other vCPUs write every page of a logged
 * slot once per round; vCPU 0 fetches and clears the bitmap (which
 * write-protects the pages again) and checks that every page is marked.
 * A write that went through a stale writable translation would be lost.
 *
 * With one vCPU, vCPU 0 does the checks itself after each call.
 * Options: rounds=N (change cycles, default 3), drounds=N (default 3).
 */
#include "lib/guest.h"

#define SLOT_ID	   1
#define DSLOT_ID   2
#define NPAGES	   16
#define DPAGES	   64
#define X_GPA	   0x80000000ull /* where the slot is created */
#define Y_GPA	   0x80400000ull /* where it moves to */
#define Z_GPA	   0x90000000ull /* the dirty-logged slot */
#define A_PATTERN  0xa0a0000000000000ull
#define B_PATTERN  0xb0b0000000000000ull
#define WRITE_WORD 8 /* word index in a page for write checks */

/* Backing frames in our own RAM (page aligned, in .bss). */
static uint64_t frames_a[NPAGES][512] __attribute__((aligned(4096)));
static uint64_t frames_b[NPAGES][512] __attribute__((aligned(4096)));
static uint64_t frames_d[DPAGES][512] __attribute__((aligned(4096)));
static uint64_t dirty_map[(DPAGES + 63) / 64];

/* What the slot looks like after each step of a cycle. */
enum { MAP_NONE, MAP_A, MAP_B };
struct step {
	const char *what;
	int x;	 /* what X_GPA reaches */
	int y;	 /* what Y_GPA reaches */
	bool ro; /* the mapping is read-only */
};
static const struct step steps[] = {
	{"create", MAP_A, MAP_NONE, false},
	{"write-protect", MAP_A, MAP_NONE, true},
	{"unprotect", MAP_A, MAP_NONE, false},
	{"move", MAP_NONE, MAP_A, false},
	{"delete", MAP_NONE, MAP_NONE, false},
	{"create over other frames", MAP_B, MAP_NONE, false},
	{"delete", MAP_NONE, MAP_NONE, false},
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static volatile uint64_t seq; /* odd while a call runs */
static volatile uint64_t acks[GUEST_MAX_VCPUS];
static volatile uint64_t dround; /* dirty-log round to write */
static volatile uint64_t dacks[GUEST_MAX_VCPUS];
static volatile int failed;
static volatile int fail_ready; /* fail_msg is complete */
static char fail_msg[160];
static volatile uint64_t checks;

/*
 * Accesses that may take #GP(0): 0 when they completed, 1 when they
 * faulted.  The #GP handler recognises the two instructions and resumes
 * at probe_fault; any other #GP ends the run.
 */
long probe_read(volatile uint64_t *p, uint64_t *val);
long probe_write(volatile uint64_t *p, uint64_t val);
void gp_entry(void);
void gp_unexpected(uint64_t rip) __noreturn;

__asm__(".text\n"
	".globl probe_read\n"
	"probe_read:\n"
	"	xorl %eax, %eax\n"
	"probe_read_insn:\n"
	"	movq (%rdi), %rcx\n"
	"	movq %rcx, (%rsi)\n"
	"	ret\n"
	".globl probe_write\n"
	"probe_write:\n"
	"	xorl %eax, %eax\n"
	"probe_write_insn:\n"
	"	movq %rsi, (%rdi)\n"
	"	ret\n"
	"probe_fault:\n"
	"	movl $1, %eax\n"
	"	ret\n"
	".globl gp_entry\n"
	"gp_entry:\n" /* stack: error code, RIP, CS, RFLAGS, RSP, SS */
	"	pushq %rax\n"
	"	pushq %rcx\n"
	"	movq 24(%rsp), %rax\n"
	"	leaq probe_read_insn(%rip), %rcx\n"
	"	cmpq %rcx, %rax\n"
	"	je 1f\n"
	"	leaq probe_write_insn(%rip), %rcx\n"
	"	cmpq %rcx, %rax\n"
	"	je 1f\n"
	"	movq %rax, %rdi\n"
	"	andq $-16, %rsp\n"
	"	call gp_unexpected\n"
	"1:	leaq probe_fault(%rip), %rcx\n"
	"	movq %rcx, 24(%rsp)\n"
	"	popq %rcx\n"
	"	popq %rax\n"
	"	addq $8, %rsp\n"
	"	iretq\n");

void gp_unexpected(uint64_t rip)
{
	printf("coherence: unexpected #GP at %llx\n", (unsigned long long)rip);
	guest_exit(90);
}

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));

static void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uintptr_t)idt};

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static void idt_init(void)
{
	uint64_t h = (uintptr_t)gp_entry;

	idt[13] = (struct idt_gate){
		.off_lo = (uint16_t)h,
		.sel = TIDAL_SEL_CODE64,
		.attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (uint16_t)(h >> 16),
		.off_hi = (uint32_t)(h >> 32),
	};
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	__atomic_store_n(&fail_ready, 1, __ATOMIC_RELEASE);
}

static volatile uint64_t *at(uint64_t gpa, unsigned int page, unsigned int word)
{
	return (volatile uint64_t *)(uintptr_t)(gpa + page * 4096ull +
						word * 8ull);
}

static uint64_t backing_word(int map, unsigned int page, unsigned int word)
{
	return map == MAP_A ? frames_a[page][word] : frames_b[page][word];
}

static void fill(void)
{
	for (unsigned int p = 0; p < NPAGES; p++) {
		frames_a[p][0] = A_PATTERN | p;
		frames_b[p][0] = B_PATTERN | p;
	}
}

/* What vCPU @me sees at @gpa now must be @map; @s names the state. */
static void check_place(unsigned int me, uint64_t gpa, int map, bool ro,
			uint64_t s, const char *what)
{
	unsigned int page = me % NPAGES;
	uint64_t v = 0, mark = (s << 8) | me;
	long r = probe_read(at(gpa, page, 0), &v);

	__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
	if (map == MAP_NONE) {
		if (!r)
			fail("vcpu %u after %s (seq %llu): read %llx at %llx, "
			     "which should be unmapped",
			     me, what, (unsigned long long)s,
			     (unsigned long long)v, (unsigned long long)gpa);
		if (!probe_write(at(gpa, page, WRITE_WORD), mark))
			fail("vcpu %u after %s: a write to unmapped %llx "
			     "landed",
			     me, what, (unsigned long long)gpa);
		return;
	}
	if (r || v != backing_word(map, page, 0))
		fail("vcpu %u after %s (seq %llu): read %llx at %llx (%s), "
		     "want %llx",
		     me, what, (unsigned long long)s, (unsigned long long)v,
		     (unsigned long long)gpa, r ? "#GP" : "ok",
		     (unsigned long long)backing_word(map, page, 0));
	r = probe_write(at(gpa, page, WRITE_WORD), mark);
	if (ro && !r)
		fail("vcpu %u after %s (seq %llu): a write to the read-only "
		     "slot landed",
		     me, what, (unsigned long long)s);
	if (!ro && (r || backing_word(map, page, WRITE_WORD) != mark))
		fail("vcpu %u after %s (seq %llu): a write did not land in "
		     "the slot's frames",
		     me, what, (unsigned long long)s);
}

static const struct step *step_of(uint64_t s)
{
	return &steps[(s / 2 - 1) % NSTEPS];
}

static void check_state(unsigned int me, uint64_t s)
{
	const struct step *st = step_of(s);

	check_place(me, X_GPA, st->x, st->ro, s, st->what);
	check_place(me, Y_GPA, st->y, st->ro, s, st->what);
}

/* Keep translations of the current state in this vCPU's TLB. */
static void warm(unsigned int me, uint64_t s)
{
	const struct step *st = step_of(s);
	unsigned int page = me % NPAGES;
	uint64_t v;

	if (st->x != MAP_NONE) {
		probe_read(at(X_GPA, page, 0), &v);
		if (!st->ro)
			probe_write(at(X_GPA, page, WRITE_WORD + 1), v);
	}
	if (st->y != MAP_NONE)
		probe_read(at(Y_GPA, page, 0), &v);
}

static long do_step(unsigned int k)
{
	struct tidal_mem_create c = {0};

	switch (k) {
	case 0:
	case 5:
		c.ram_gpa = (uintptr_t)(k == 0 ? frames_a : frames_b);
		c.npages = NPAGES;
		return vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA,
			       (uintptr_t)&c);
	case 1:
		return vmcall3(TIDAL_HC_MEM_SET_FLAGS, SLOT_ID,
			       TIDAL_MEM_F_READONLY, 0);
	case 2:
		return vmcall3(TIDAL_HC_MEM_SET_FLAGS, SLOT_ID, 0, 0);
	case 3:
		return vmcall3(TIDAL_HC_MEM_MOVE, SLOT_ID, Y_GPA, 0);
	default:
		return vmcall3(TIDAL_HC_MEM_DELETE, SLOT_ID, 0, 0);
	}
}

static bool wait_acks(volatile uint64_t *a, uint64_t want, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		while (a[i] != want && !failed)
			cpu_pause();
	}
	return !failed;
}

static void dirty_write_round(unsigned int me, unsigned int n, uint64_t r)
{
	unsigned int writers = n > 1 ? n - 1 : 1, slot = n > 1 ? me - 1 : 0;

	for (unsigned int p = slot; p < DPAGES; p += writers) {
		if (probe_write(at(Z_GPA, p, 1), (r << 8) | me))
			fail("vcpu %u: dirty round %llu: write to page %u "
			     "took #GP",
			     me, (unsigned long long)r, p);
	}
}

void guest_vcpu_main(unsigned int me, const struct tidal_start_info *si)
{
	unsigned int n = guest_nr_vcpus();
	uint64_t last = 0, lastd = 0;

	(void)si;
	idt_load();
	if (guest_vcpu_index() != me)
		fail("vcpu %u: CPUID.1:EBX[31:24] says %u", me,
		     guest_vcpu_index());
	for (;;) {
		uint64_t s = seq, r = dround;

		if (r != lastd) {
			dirty_write_round(me, n, r);
			dacks[me] = lastd = r;
		}
		if (!(s & 1) && s != last && s) {
			check_state(me, s);
			acks[me] = last = s;
		}
		if (last)
			warm(me, last);
	}
}

static int coherence_cycles(unsigned int n, unsigned int rounds)
{
	for (unsigned int c = 0; c < rounds; c++) {
		for (unsigned int k = 0; k < NSTEPS; k++) {
			long ret;

			seq = seq + 1;
			ret = do_step(k);
			seq = seq + 1;
			if (ret) {
				printf("coherence: %s returned %ld\n",
				       steps[k].what, ret);
				return 2;
			}
			if (n == 1) {
				check_state(0, seq);
				warm(0, seq);
			} else if (!wait_acks(acks, seq, n)) {
				return 3;
			}
		}
	}
	return failed ? 3 : 0;
}

static int dirty_rounds(unsigned int n, unsigned int rounds)
{
	struct tidal_mem_create c = {(uintptr_t)frames_d, DPAGES,
				     TIDAL_MEM_F_DIRTY_LOG};
	long ret = vmcall3(TIDAL_HC_MEM_CREATE, DSLOT_ID, Z_GPA, (uintptr_t)&c);

	if (ret) {
		printf("coherence: dirty slot create returned %ld\n", ret);
		return 2;
	}
	for (uint64_t r = 1; r <= rounds; r++) {
		dround = r;
		if (n == 1) {
			dirty_write_round(0, 1, r);
		} else if (!wait_acks(dacks, r, n)) {
			return 3;
		}
		ret = vmcall3(TIDAL_HC_MEM_GET_DIRTY, DSLOT_ID,
			      (uintptr_t)dirty_map, sizeof(dirty_map));
		for (unsigned int p = 0; p < DPAGES; p++) {
			if (!(dirty_map[p / 64] & (1ull << (p % 64))))
				fail("dirty round %llu: page %u was written "
				     "but is not in the dirty log",
				     (unsigned long long)r, p);
		}
		if (ret != DPAGES && !failed)
			fail("dirty round %llu: %ld pages dirty, want %u",
			     (unsigned long long)r, ret, DPAGES);
		__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
		if (failed)
			return 3;
	}
	return vmcall3(TIDAL_HC_MEM_DELETE, DSLOT_ID, 0, 0) ? 2 : 0;
}

static int expect_ret(const char *what, long got, long want)
{
	if (got == want)
		return 0;
	printf("coherence: %s returned %ld, want %ld\n", what, got, want);
	return 1;
}

/* Bad arguments: an error each, and nothing changed. */
static int validation(void)
{
	struct tidal_mem_create c = {(uintptr_t)frames_a, NPAGES, 0};
	struct tidal_mem_create bad = c;
	uint64_t ram = start_info()->mem_bytes;
	uintptr_t pc = (uintptr_t)&c, pb = (uintptr_t)&bad;
	int e = 0;

	e |= expect_ret("create id 0",
			vmcall3(TIDAL_HC_MEM_CREATE, 0, X_GPA, pc),
			TIDAL_E_INVAL);
	e |= expect_ret("create id 17",
			vmcall3(TIDAL_HC_MEM_CREATE, 17, X_GPA, pc),
			TIDAL_E_INVAL);
	e |= expect_ret("create inside RAM",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, 0x200000, pc),
			TIDAL_E_INVAL);
	e |= expect_ret("create unaligned",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA + 8, pc),
			TIDAL_E_INVAL);
	e |= expect_ret("create, argument outside RAM",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA, ram),
			TIDAL_E_FAULT);
	bad.ram_gpa = ram - 4096;
	e |= expect_ret("create, backing beyond RAM",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA, pb),
			TIDAL_E_INVAL);
	bad = c;
	bad.flags = 1u << 7;
	e |= expect_ret("create, unknown flag",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA, pb),
			TIDAL_E_INVAL);
	bad = c;
	bad.npages = 0;
	e |= expect_ret("create, no pages",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA, pb),
			TIDAL_E_INVAL);
	e |= expect_ret("delete missing",
			vmcall3(TIDAL_HC_MEM_DELETE, SLOT_ID, 0, 0),
			TIDAL_E_NOENT);
	e |= expect_ret("move missing",
			vmcall3(TIDAL_HC_MEM_MOVE, SLOT_ID, Y_GPA, 0),
			TIDAL_E_NOENT);
	e |= expect_ret("create",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA, pc), 0);
	e |= expect_ret("create again",
			vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, Y_GPA, pc),
			TIDAL_E_EXIST);
	e |= expect_ret(
		"create overlapping",
		vmcall3(TIDAL_HC_MEM_CREATE, DSLOT_ID, X_GPA + 4096, pc),
		TIDAL_E_EXIST);
	e |= expect_ret("move into RAM",
			vmcall3(TIDAL_HC_MEM_MOVE, SLOT_ID, 0x200000, 0),
			TIDAL_E_INVAL);
	e |= expect_ret("set unknown flag",
			vmcall3(TIDAL_HC_MEM_SET_FLAGS, SLOT_ID, 1u << 7, 0),
			TIDAL_E_INVAL);
	e |= expect_ret("dirty log of an unlogged slot",
			vmcall3(TIDAL_HC_MEM_GET_DIRTY, SLOT_ID,
				(uintptr_t)dirty_map, sizeof(dirty_map)),
			TIDAL_E_INVAL);
	/* Still there, unchanged, after all the refusals. */
	e |= expect_ret("read through the slot",
			(long)(*at(X_GPA, 3, 0) == (A_PATTERN | 3)), 1);
	e |= expect_ret("delete", vmcall3(TIDAL_HC_MEM_DELETE, SLOT_ID, 0, 0),
			0);
	return e;
}

int guest_main(const struct tidal_start_info *si)
{
	unsigned int n = guest_nr_vcpus();
	unsigned int rounds = (unsigned int)cmdline_num("rounds", 3);
	unsigned int drounds = (unsigned int)cmdline_num("drounds", 3);
	int rc;

	(void)si;
	fill();
	idt_init();
	idt_load();
	if (guest_vcpu_index() != 0) {
		printf("coherence: vCPU 0 has APIC ID %u\n",
		       guest_vcpu_index());
		return 4;
	}
	/* Without memctl every call is refused, and that is all we check. */
	if (cmdline_num("permcheck", 0)) {
		struct tidal_mem_create c = {(uintptr_t)frames_a, NPAGES, 0};

		rc = expect_ret("create without memctl",
				vmcall3(TIDAL_HC_MEM_CREATE, SLOT_ID, X_GPA,
					(uintptr_t)&c),
				TIDAL_E_PERM);
		printf("coherence: permission check %s\n",
		       rc ? "failed" : "passed");
		return rc;
	}
	printf("coherence: %u vCPUs, %u change cycles, %u dirty rounds\n", n,
	       rounds, drounds);
	rc = validation() ? 5 : 0;
	if (!rc)
		printf("coherence: bad arguments refused, nothing changed\n");
	if (!rc)
		rc = coherence_cycles(n, rounds);
	if (!rc)
		rc = dirty_rounds(n, drounds);
	if (failed) {
		while (!__atomic_load_n(&fail_ready, __ATOMIC_ACQUIRE))
			cpu_pause();
		printf("coherence: FAIL: %s\n", fail_msg);
	}
	printf("coherence: %llu checks, %s\n", (unsigned long long)checks,
	       rc ? "failed" : "all passed");
	printf("coherence: remote_tlb_flush %ld requests %ld, IPIs sent %ld "
	       "avoided %ld\n",
	       hc_get_counter(TIDAL_CTR_REMOTE_FLUSH),
	       hc_get_counter(TIDAL_CTR_REMOTE_FLUSH_REQ),
	       hc_get_counter(TIDAL_CTR_IPIS_SENT),
	       hc_get_counter(TIDAL_CTR_IPIS_AVOIDED));
	return rc;
}
