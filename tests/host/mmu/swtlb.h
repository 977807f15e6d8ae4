/* SPDX-License-Identifier: MIT */
/*
 * A software model of the hardware that uses the TDP tables: simulated
 * vCPUs that walk the tables the way the CPU does and keep what they used
 * in a private TLB (leaf translations) and paging-structure cache (every
 * table page they walked through) until the MMU's flush clears them.
 *
 * A vCPU "in guest mode" holds its mutex; the flush and reload hooks take
 * every vCPU's mutex in turn, so, like an IPI that waits for an
 * acknowledgement, they return only when no vCPU is still in the middle of
 * a walk that began before them.
 */
#ifndef TIDAL_TESTS_HOST_MMU_SWTLB_H
#define TIDAL_TESTS_HOST_MMU_SWTLB_H

#include <pthread.h>

#include "tests/host/mmu/util.h"

#define SWTLB_ENTRIES 32
#define SWTLB_PWC     64
#define SWTLB_VCPUS   4
#define SWTLB_PENDING 4

struct swtlb_entry {
	uint64_t gfn; /* first gfn covered (aligned to level) */
	uint64_t pfn; /* its frame */
	uint64_t perms;
	int level; /* 0: empty */
};

struct swtlb_vcpu {
	pthread_mutex_t lock; /* held while "in guest mode" */
	struct swtlb_vm *vm;
	struct tdp_root *root;
	bool reload; /* set by the reload kick */
	struct swtlb_entry tlb[SWTLB_ENTRIES];
	void *pwc[SWTLB_PWC]; /* read lock-free by the page-free hook */
	unsigned int pwc_next;
	uint64_t accesses, hits, faults, noslot;
};

/* A slot (old version) whose removal is in progress: still guest memory. */
struct swtlb_pending {
	bool used;
	struct memslot slot;
};

struct swtlb_vm {
	struct tdp_mmu *mmu;
	/*
	 * A protected VM's vCPUs walk the guard's EPT (what the CPU would
	 * load as EPTP), with the hardware's notion of present (any of
	 * R/W/X) and no A/D bits (the guard's EPTP leaves them off).
	 */
	struct guard *guard;
	int nvcpus;
	struct swtlb_vcpu vcpus[SWTLB_VCPUS];
	pthread_mutex_t pending_lock;
	struct swtlb_pending pending[SWTLB_PENDING];
	uint64_t checks, entries_checked;
	int kicks; /* flush/reload/check hooks in progress */
	/*
	 * Called in guest mode (vCPU lock held) for every write that
	 * completes, TLB hit or walk: the write "lands" while the vCPU can
	 * still be stopped by a flush, as a store does on a real CPU.
	 */
	void (*on_write)(struct swtlb_vcpu *v, uint64_t gfn);
};

void swtlb_vm_init(struct swtlb_vm *vm, struct tdp_mmu *mmu, int nvcpus);
/* Put every vCPU's root (before the VM is destroyed). */
void swtlb_vm_fini(struct swtlb_vm *vm);
/* After the VM (and its hooks) are gone. */
void swtlb_vm_release(struct swtlb_vm *vm);

/* Install the hooks (flush, reload, page free) for @vm; NULL removes. */
void swtlb_attach(struct swtlb_vm *vm);

enum swtlb_result {
	SWTLB_OK,
	SWTLB_NO_SLOT,
	SWTLB_READONLY,
	SWTLB_NOMEM,
	SWTLB_BUGGED, /* the VM is bugged: it must not run */
};

/* One guest access by @v to @gfn needing @access (TDP_ACC_*). */
enum swtlb_result swtlb_access(struct swtlb_vcpu *v, uint64_t gfn,
			       uint64_t access);

/*
 * Property 1: with mmu_lock held for write (no MMU change in flight), every
 * cached translation must be backed by the tables of the vCPU's root with
 * at least its access, and by a memslot (current, or one whose removal is
 * still in progress).  Returns false and reports on violation.
 */
bool swtlb_check(struct swtlb_vm *vm);

/*
 * Dirty logging: with no clear of slot @id in flight, a vCPU may hold a
 * writable translation of a page of a logged slot only if the page's
 * dirty bit is set (the clear's flush took every other one away).
 * Returns false and reports on violation.
 */
bool swtlb_check_dirty(struct swtlb_vm *vm, uint32_t id);

/* Mark @old as being removed (until swtlb_pending_done). */
int swtlb_pending_add(struct swtlb_vm *vm, const struct memslot *old);
void swtlb_pending_done(struct swtlb_vm *vm, int idx);

/* Failure reporting: first failure wins; the seed is printed with it. */
extern uint64_t swtlb_seed;
extern int swtlb_failed;
extern bool swtlb_quiet; /* do not print failures (self-test) */
extern char swtlb_failure[512];
/* Copy slot @id of the current memslot set into @out; false if absent. */
bool swtlb_slot_copy(struct tdp_mmu *mmu, uint32_t id, struct memslot *out);

void swtlb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
