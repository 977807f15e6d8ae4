// SPDX-License-Identifier: MIT
/*
 * The software-TLB model of vCPUs.  See swtlb.h.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/host/mmu/swtlb.h"

uint64_t swtlb_seed;
int swtlb_failed;
bool swtlb_quiet;
char swtlb_failure[512];
static struct swtlb_vm *attached;

void swtlb_fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&swtlb_failed, 1, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(swtlb_failure, sizeof(swtlb_failure), fmt, ap);
	va_end(ap);
	if (!swtlb_quiet)
		fprintf(stderr, "swtlb: FAILURE (seed %llu): %s\n",
			(unsigned long long)swtlb_seed, swtlb_failure);
}

/* Drop everything cached; the vCPU's lock is held. */
static void vcpu_clear(struct swtlb_vcpu *v)
{
	int i;

	for (i = 0; i < SWTLB_ENTRIES; i++)
		v->tlb[i].level = 0;
	for (i = 0; i < SWTLB_PWC; i++)
		__atomic_store_n(&v->pwc[i], NULL, __ATOMIC_RELEASE);
	v->pwc_next = 0;
}

/*
 * pthread mutexes are not fair: a vCPU looping on its own lock could keep
 * a flush waiting for long.  Hooks announce themselves and vCPUs step
 * aside while one is pending, as a CPU takes the IPI at once.
 */
static void kick_begin(struct swtlb_vm *vm)
{
	__atomic_add_fetch(&vm->kicks, 1, __ATOMIC_SEQ_CST);
}

static void kick_end(struct swtlb_vm *vm)
{
	__atomic_sub_fetch(&vm->kicks, 1, __ATOMIC_SEQ_CST);
}

static void flush_hook(void *owner)
{
	struct swtlb_vm *vm = owner;
	int i;

	kick_begin(vm);
	for (i = 0; i < vm->nvcpus; i++) {
		pthread_mutex_lock(&vm->vcpus[i].lock);
		vcpu_clear(&vm->vcpus[i]);
		pthread_mutex_unlock(&vm->vcpus[i].lock);
	}
	kick_end(vm);
}

static void reload_hook(void *owner)
{
	struct swtlb_vm *vm = owner;
	int i;

	kick_begin(vm);
	for (i = 0; i < vm->nvcpus; i++) {
		pthread_mutex_lock(&vm->vcpus[i].lock);
		vm->vcpus[i].reload = true;
		vcpu_clear(&vm->vcpus[i]);
		pthread_mutex_unlock(&vm->vcpus[i].lock);
	}
	kick_end(vm);
}

/*
 * Property 2.  Runs wherever EBR frees pages (possibly inside another
 * thread's locks), so it takes no lock: it only reads the vCPUs' caches.
 */
static void page_free_hook(void *page)
{
	struct swtlb_vm *vm = __atomic_load_n(&attached, __ATOMIC_ACQUIRE);
	int i, j;

	if (!vm)
		return;
	for (i = 0; i < vm->nvcpus; i++)
		for (j = 0; j < SWTLB_PWC; j++)
			if (__atomic_load_n(&vm->vcpus[i].pwc[j],
					    __ATOMIC_ACQUIRE) == page)
				swtlb_fail("page-table page %p freed while "
					   "vCPU %d still caches it",
					   page, i);
}

void swtlb_attach(struct swtlb_vm *vm)
{
	__atomic_store_n(&attached, vm, __ATOMIC_RELEASE);
	host_flush_hook = vm ? flush_hook : NULL;
	host_reload_hook = vm ? reload_hook : NULL;
	host_page_free_hook = vm ? page_free_hook : NULL;
}

void swtlb_vm_init(struct swtlb_vm *vm, struct tdp_mmu *mmu, int nvcpus)
{
	int i;

	memset(vm, 0, sizeof(*vm));
	vm->mmu = mmu;
	vm->guard = mmu->guard;
	vm->nvcpus = nvcpus;
	pthread_mutex_init(&vm->pending_lock, NULL);
	for (i = 0; i < nvcpus; i++) {
		pthread_mutex_init(&vm->vcpus[i].lock, NULL);
		vm->vcpus[i].vm = vm;
	}
}

void swtlb_vm_fini(struct swtlb_vm *vm)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++) {
		pthread_mutex_lock(&vm->vcpus[i].lock);
		vcpu_clear(&vm->vcpus[i]);
		pthread_mutex_unlock(&vm->vcpus[i].lock);
		if (vm->vcpus[i].root)
			tdp_mmu_put_root(vm->mmu, vm->vcpus[i].root);
		vm->vcpus[i].root = NULL;
	}
}

void swtlb_vm_release(struct swtlb_vm *vm)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++)
		pthread_mutex_destroy(&vm->vcpus[i].lock);
	pthread_mutex_destroy(&vm->pending_lock);
}

/* Outside guest mode: make sure the vCPU runs on a valid root. */
static bool vcpu_load_root(struct swtlb_vcpu *v)
{
	struct tdp_root *old, *fresh;
	bool need;

	pthread_mutex_lock(&v->lock);
	need = v->reload || !v->root || !tdp_root_is_valid(v->root);
	pthread_mutex_unlock(&v->lock);
	if (!need)
		return true;
	fresh = tdp_mmu_get_root(v->vm->mmu, tdp_mmu_vcpu_role(v->vm->mmu));
	if (!fresh)
		return false;
	pthread_mutex_lock(&v->lock);
	old = v->root;
	v->root = fresh;
	v->reload = false;
	vcpu_clear(v); /* a new root is loaded with a local flush */
	pthread_mutex_unlock(&v->lock);
	if (old)
		tdp_mmu_put_root(v->vm->mmu, old);
	return true;
}

static void pwc_add(struct swtlb_vcpu *v, void *table)
{
	int i;

	for (i = 0; i < SWTLB_PWC; i++)
		if (__atomic_load_n(&v->pwc[i], __ATOMIC_RELAXED) == table)
			return;
	/* Full: evict the oldest, as hardware may at any time. */
	__atomic_store_n(&v->pwc[v->pwc_next], table, __ATOMIC_RELEASE);
	v->pwc_next = (v->pwc_next + 1) % SWTLB_PWC;
}

static struct swtlb_entry *tlb_find(struct swtlb_vcpu *v, uint64_t gfn)
{
	struct swtlb_entry *e;
	int i;

	for (i = 0; i < SWTLB_ENTRIES; i++) {
		e = &v->tlb[i];
		if (e->level && gfn >= e->gfn &&
		    gfn < e->gfn + tdp_pages_per_level(e->level))
			return e;
	}
	return NULL;
}

static void tlb_insert(struct swtlb_vcpu *v, uint64_t gfn, spte_t leaf,
		       int level)
{
	struct swtlb_entry *e = tlb_find(v, gfn);

	if (!e)
		e = &v->tlb[host_rand() % SWTLB_ENTRIES];
	e->gfn = tdp_level_base(gfn, level);
	e->pfn = spte_pfn(leaf);
	e->perms = spte_perms(leaf);
	e->level = level;
}

/*
 * What the walker calls present, leaf, table: the MMU's software bit for
 * its own roots, the hardware's R/W/X for the guard's EPT.
 */
static bool w_present(const struct swtlb_vm *vm, spte_t s)
{
	return vm->guard ? (s & SPTE_RWX) != 0 : spte_is_present(s);
}

static bool w_leaf(const struct swtlb_vm *vm, spte_t s, int level)
{
	return w_present(vm, s) && (level == 1 || (s & SPTE_LARGE));
}

static bool w_table(const struct swtlb_vm *vm, spte_t s, int level)
{
	return w_present(vm, s) && !w_leaf(vm, s, level);
}

static bool w_allows(const struct swtlb_vm *vm, spte_t s, uint64_t perms)
{
	return w_present(vm, s) && (spte_perms(s) & perms) == perms;
}

/* The table the CPU starts from: the EPTP's. */
static spte_t *w_root(const struct swtlb_vcpu *v)
{
	if (v->vm->guard)
		return platform_phys_to_virt(
			tdp_mmu_eptp(v->vm->mmu, v->root) & SPTE_PFN_MASK);
	return v->root->spt;
}

/* The CPU's A/D update: only on a present leaf, never on anything else. */
static void set_ad(spte_t *sptep, spte_t seen, uint64_t access)
{
	spte_t want = seen | SPTE_ACCESSED |
		      ((access & TDP_ACC_WRITE) ? SPTE_DIRTY : 0);

	if (want != seen)
		__atomic_compare_exchange_n(sptep, &seen, want, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/*
 * In guest mode (lock held): translate from the TLB or by a walk.  Returns
 * true if the access can complete, false for an EPT violation.
 */
static bool vcpu_translate(struct swtlb_vcpu *v, uint64_t gfn, uint64_t access)
{
	struct swtlb_entry *e = tlb_find(v, gfn);
	spte_t *table, s;
	int level;

	if (e && (e->perms & access) == access) {
		v->hits++;
		return true;
	}
	table = w_root(v);
	for (level = TDP_ROOT_LEVEL; level >= 1; level--) {
		pwc_add(v, table);
		s = __atomic_load_n(&table[tdp_spte_index(gfn, level)],
				    __ATOMIC_ACQUIRE);
		if (!w_present(v->vm, s))
			return false;
		if (w_leaf(v->vm, s, level)) {
			if (!w_allows(v->vm, s, access))
				return false;
			if (!v->vm->guard)
				set_ad(&table[tdp_spte_index(gfn, level)], s,
				       access);
			tlb_insert(v, gfn, s, level);
			return true;
		}
		/* With EPT A/D on, the CPU marks tables it walks, too. */
		if (!v->vm->guard)
			set_ad(&table[tdp_spte_index(gfn, level)], s,
			       TDP_ACC_READ);
		table = platform_phys_to_virt(spte_phys(s));
	}
	return false;
}

enum swtlb_result swtlb_access(struct swtlb_vcpu *v, uint64_t gfn,
			       uint64_t access)
{
	uint64_t f0, t0 = platform_time_ns();
	unsigned long tries;
	bool done;
	int ret;

	v->accesses++;
	for (tries = 1;; tries++) {
		while (__atomic_load_n(&v->vm->kicks, __ATOMIC_ACQUIRE))
			sched_yield();
		if (!vcpu_load_root(v))
			return tdp_mmu_is_bugged(v->vm->mmu) ? SWTLB_BUGGED
							     : SWTLB_NOMEM;
		pthread_mutex_lock(&v->lock);
		done = !v->reload && vcpu_translate(v, gfn, access);
		if (done && (access & TDP_ACC_WRITE) && v->vm->on_write)
			v->vm->on_write(v, gfn);
		pthread_mutex_unlock(&v->lock);
		if (done)
			return SWTLB_OK;
		/* EPT violation: the fault path. */
		v->faults++;
		f0 = host_thread_flushes;
		ret = tdp_map(v->vm->mmu, v->root, gfn << PAGE_SHIFT, access);
		/* Property 3: a fault flushes at most once. */
		if (host_thread_flushes - f0 > 1)
			swtlb_fail(
				"fault at gfn %#llx flushed %llu times",
				(unsigned long long)gfn,
				(unsigned long long)(host_thread_flushes - f0));
		if (ret == TDP_MAP_NO_SLOT) {
			v->noslot++;
			return SWTLB_NO_SLOT;
		}
		if (ret == TDP_MAP_READONLY)
			return SWTLB_READONLY;
		if (ret == -ENOMEM)
			return SWTLB_NOMEM;
		if (ret == -EIO)
			return SWTLB_BUGGED;
		if (!map_retry_continue(tries, t0))
			swtlb_fail("gfn %#llx: no progress after %lu faults",
				   (unsigned long long)gfn, tries);
	}
}

int swtlb_pending_add(struct swtlb_vm *vm, const struct memslot *old)
{
	int i;

	pthread_mutex_lock(&vm->pending_lock);
	for (i = 0; i < SWTLB_PENDING; i++) {
		if (!vm->pending[i].used) {
			vm->pending[i].used = true;
			vm->pending[i].slot = *old;
			break;
		}
	}
	pthread_mutex_unlock(&vm->pending_lock);
	BUG_ON(i == SWTLB_PENDING);
	return i;
}

void swtlb_pending_done(struct swtlb_vm *vm, int idx)
{
	pthread_mutex_lock(&vm->pending_lock);
	vm->pending[idx].used = false;
	pthread_mutex_unlock(&vm->pending_lock);
}

/* Does @s own [gfn, gfn+n) -> [pfn, ...) with @perms? */
static bool slot_backs(const struct memslot *s, const struct swtlb_entry *e)
{
	uint64_t n = tdp_pages_per_level(e->level);

	if (e->gfn < s->base_gfn || e->gfn + n > s->base_gfn + s->npages)
		return false;
	if (memslot_gfn_to_pfn(s, e->gfn) != e->pfn)
		return false;
	return !((e->perms & SPTE_W) && (s->flags & MEMSLOT_READONLY));
}

static bool owned(struct swtlb_vm *vm, const struct swtlb_entry *e)
{
	const struct memslot *s = memslot_find(vm->mmu->slots, e->gfn);
	bool ok = s && slot_backs(s, e);
	int i;

	pthread_mutex_lock(&vm->pending_lock);
	for (i = 0; i < SWTLB_PENDING && !ok; i++)
		ok = vm->pending[i].used && slot_backs(&vm->pending[i].slot, e);
	pthread_mutex_unlock(&vm->pending_lock);
	return ok;
}

/*
 * Every gfn of @e's range that lies under @table (level @level, first gfn
 * @base) must be mapped to the same frame with at least @e's access.
 */
static bool tables_back(const struct swtlb_vm *vm, spte_t *table, int level,
			uint64_t base, const struct swtlb_entry *e)
{
	uint64_t n = tdp_pages_per_level(level), lo, hi, g, first;
	unsigned int i;
	spte_t s;

	lo = MAX(e->gfn, base);
	hi = MIN(e->gfn + tdp_pages_per_level(e->level),
		 base + n * SPTE_PER_PAGE);
	for (g = tdp_level_base(lo, level); g < hi; g += n) {
		i = tdp_spte_index(g, level);
		s = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (w_table(vm, s, level)) {
			if (!tables_back(vm, platform_phys_to_virt(spte_phys(s)),
					 level - 1, g, e))
				return false;
			continue;
		}
		if (!w_leaf(vm, s, level) || !w_allows(vm, s, e->perms))
			return false;
		first = MAX(g, e->gfn);
		if (spte_pfn(s) + (first - g) != e->pfn + (first - e->gfn))
			return false;
	}
	return true;
}

bool swtlb_check(struct swtlb_vm *vm)
{
	struct swtlb_vcpu *v;
	struct swtlb_entry *e;
	bool good = true;
	int i, j;

	rwlock_write_lock(&vm->mmu->mmu_lock);
	kick_begin(vm);
	for (i = 0; i < vm->nvcpus; i++) {
		v = &vm->vcpus[i];
		pthread_mutex_lock(&v->lock);
		for (j = 0; j < SWTLB_ENTRIES && good; j++) {
			e = &v->tlb[j];
			if (!e->level)
				continue;
			vm->entries_checked++;
			if (v->reload || !tdp_root_is_valid(v->root)) {
				swtlb_fail("vCPU %d caches gfn %#llx from an "
					   "invalid root",
					   i, (unsigned long long)e->gfn);
				good = false;
			} else if (!tables_back(vm, w_root(v), TDP_ROOT_LEVEL,
						0, e)) {
				swtlb_fail("vCPU %d: cached gfn %#llx level %d "
					   "perms %#llx not backed by tables",
					   i, (unsigned long long)e->gfn,
					   e->level,
					   (unsigned long long)e->perms);
				good = false;
			} else if (!owned(vm, e)) {
				swtlb_fail("vCPU %d: cached gfn %#llx -> pfn "
					   "%#llx is not guest memory",
					   i, (unsigned long long)e->gfn,
					   (unsigned long long)e->pfn);
				good = false;
			}
		}
		pthread_mutex_unlock(&v->lock);
	}
	kick_end(vm);
	vm->checks++;
	rwlock_write_unlock(&vm->mmu->mmu_lock);
	return good;
}

static bool page_dirty(const struct memslot *s, uint64_t gfn)
{
	uint64_t i = gfn - s->base_gfn;

	return (__atomic_load_n(&s->dirty->words[i / 64], __ATOMIC_RELAXED) >>
		(i % 64)) &
	       1;
}

bool swtlb_check_dirty(struct swtlb_vm *vm, uint32_t id)
{
	const struct memslot *s;
	struct swtlb_vcpu *v;
	struct swtlb_entry *e;
	uint64_t g, n;
	bool good = true;
	int i, j;

	ebr_read_lock();
	s = memslot_find_id(memslot_set_current(vm->mmu), id);
	if (!s || !s->dirty)
		goto out;
	for (i = 0; i < vm->nvcpus && good; i++) {
		v = &vm->vcpus[i];
		pthread_mutex_lock(&v->lock);
		for (j = 0; j < SWTLB_ENTRIES && good; j++) {
			e = &v->tlb[j];
			if (!e->level || !(e->perms & SPTE_W))
				continue;
			n = tdp_pages_per_level(e->level);
			for (g = MAX(e->gfn, s->base_gfn);
			     g < MIN(e->gfn + n, s->base_gfn + s->npages);
			     g++) {
				if (page_dirty(s, g))
					continue;
				swtlb_fail("vCPU %d can write gfn %#llx of "
					   "logged slot %u, whose dirty bit "
					   "is clear",
					   i, (unsigned long long)g, id);
				good = false;
				break;
			}
		}
		pthread_mutex_unlock(&v->lock);
	}
out:
	ebr_read_unlock();
	return good;
}

bool swtlb_slot_copy(struct tdp_mmu *mmu, uint32_t id, struct memslot *out)
{
	const struct memslot *slot;

	ebr_read_lock();
	slot = memslot_find_id(memslot_set_current(mmu), id);
	if (slot)
		*out = *slot;
	ebr_read_unlock();
	return slot != NULL;
}
