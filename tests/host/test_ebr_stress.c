// SPDX-License-Identifier: MIT
/*
 * EBR stress test.  Readers walk a shared linked list inside read-side
 * sections while writers replace nodes and free the old ones through EBR.
 * A freed node is poisoned at once and kept in a quarantine for a while
 * before it really goes back to libc, so a reader that touches it sees the
 * poison (the asan flavour catches the later accesses as well, the tsan
 * flavour any missing happens-before).
 *
 * Reader threads retire and are replaced as the test runs, so CPU ids are
 * given back and reused, with callbacks left behind by threads that exited.
 *
 * Duration: $TIDAL_STRESS_SECS seconds (default 2); `make soak-sync` runs
 * it for minutes.
 */
#define _GNU_SOURCE
#include "lib/atomic.h"
#include "lib/ebr.h"
#include "lib/spinlock.h"
#include "tests/host/platform_host.h"
#include "tests/host/sync_test_util.h"
#include "tests/host/tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LEN     64
#define NREADERS     3
#define NWRITERS     2
#define QUARANTINE   2048
#define LIVE	     0x1171e5u
#define POISON	     0x6b6b6b6bu
#define READER_WALKS 2000 /* walks before a reader thread retires */

struct node {
	struct ebr_head rcu;
	uint32_t magic;
	uint32_t value;
	struct node *next;
};

static struct node *head; /* list of LIST_LEN nodes */
static spinlock_t writer_lock = SPINLOCK_INIT;
static int stop;

static uint64_t nodes_alloced, nodes_freed, walks, replaces;
static int poison_seen, bad_len;

/* Quarantine of poisoned nodes, freed for real when evicted. */
static spinlock_t q_lock = SPINLOCK_INIT;
static struct node *quarantine[QUARANTINE];
static unsigned int q_next;

static void poison_and_free(struct ebr_head *h)
{
	struct node *n = container_of(h, struct node, rcu), *old;

	WRITE_ONCE(n->magic, POISON);
	WRITE_ONCE(n->value, POISON);
	WRITE_ONCE(n->next, (struct node *)0x6b6b6b6b6b6b6b6bull);
	spin_lock(&q_lock);
	old = quarantine[q_next];
	quarantine[q_next] = n;
	q_next = (q_next + 1) % QUARANTINE;
	spin_unlock(&q_lock);
	if (old) {
		free(old);
		stat_inc(&nodes_freed);
	}
}

static struct node *new_node(uint32_t value, struct node *next)
{
	struct node *n = malloc(sizeof(*n));

	BUG_ON(!n);
	n->magic = LIVE;
	n->value = value;
	n->next = next;
	stat_inc(&nodes_alloced);
	return n;
}

/* One walk; returns false on poison or a wrong length. */
static bool walk(void)
{
	unsigned int len = 0;
	struct node *n;
	bool nested = (host_rand() & 7) == 0;

	ebr_read_lock();
	if (nested)
		ebr_read_lock();
	for (n = load_acquire(&head); n; n = load_acquire(&n->next)) {
		if (READ_ONCE(n->magic) != LIVE) {
			atomic_inc(&poison_seen);
			break;
		}
		(void)READ_ONCE(n->value);
		/*
		 * Now and then hold on to a node for a while, as a slow
		 * reader would, and look at it again: it must still be live
		 * however many grace periods the writers try to complete.
		 */
		if (len == 0 ? (host_rand() & 7) == 0
			     : (host_rand() & 255) == 0) {
			for (int i = 0; i < 500; i++)
				platform_relax();
			if (READ_ONCE(n->magic) != LIVE) {
				atomic_inc(&poison_seen);
				break;
			}
		}
		len++;
		if (len > LIST_LEN)
			break;
	}
	if (nested)
		ebr_read_unlock();
	ebr_read_unlock();
	if (!n && len != LIST_LEN)
		atomic_inc(&bad_len);
	return !n;
}

static void *reader(void *arg)
{
	host_srand((uintptr_t)arg * 7919 + 1);
	for (int i = 0; i < READER_WALKS && !load_acquire(&stop); i++) {
		walk();
		stat_inc(&walks);
	}
	host_thread_unregister();
	return NULL;
}

/* Replace the node at a random position with a fresh copy. */
static void replace_one(unsigned int how)
{
	/* Half the time the head, which readers hold on to most often. */
	unsigned int pos = host_rand() & 1 ? 0 : host_rand() % LIST_LEN;
	struct node **link, *old, *n;

	spin_lock(&writer_lock);
	link = &head;
	for (unsigned int i = 0; i < pos; i++)
		link = &(*link)->next;
	old = *link;
	n = new_node(old->value + 1, old->next);
	store_release(link, n);
	spin_unlock(&writer_lock);

	switch (how % 8) {
	case 0: /* synchronous: wait, then free */
		ebr_synchronize();
		poison_and_free(&old->rcu);
		break;
	case 1: /* deferred from inside a read-side section */
		ebr_read_lock();
		ebr_call(&old->rcu, poison_and_free);
		ebr_read_unlock();
		break;
	case 2: /* deferred, then reclaim what is ready right away */
		ebr_call(&old->rcu, poison_and_free);
		ebr_poll();
		break;
	default:
		ebr_call(&old->rcu, poison_and_free);
	}
	stat_inc(&replaces);
}

static void *writer(void *arg)
{
	host_srand((uintptr_t)arg * 104729 + 3);
	for (unsigned int i = 0; !load_acquire(&stop); i++)
		replace_one(i);
	host_thread_unregister();
	return NULL;
}

/* Run the stress for @secs; returns the number of failed checks. */
static int run(double secs)
{
	pthread_t r[NREADERS], w[NWRITERS];
	unsigned int generation = 0;
	struct ebr_stats s;
	uint64_t t_end;
	int failed = tap_failed;

	for (int i = 0; i < LIST_LEN; i++)
		head = new_node(i, head);

	t_end = platform_time_ns() + (uint64_t)(secs * 1e9);
	for (int i = 0; i < NWRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i);
	for (int i = 0; i < NREADERS; i++)
		pthread_create(&r[i], NULL, reader,
			       (void *)(intptr_t)generation++);
	/* Retire and replace readers until time is up. */
	while (platform_time_ns() < t_end && !READ_ONCE(poison_seen)) {
		for (int i = 0; i < NREADERS; i++) {
			pthread_join(r[i], NULL);
			pthread_create(&r[i], NULL, reader,
				       (void *)(intptr_t)generation++);
		}
	}
	store_release(&stop, 1);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(w[i], NULL);

	diag("%s mode, %.1f s: %llu walks, %llu replacements, %u reader "
	     "threads",
	     ebr_asymmetric() ? "asymmetric" : "fenced", secs,
	     (unsigned long long)walks, (unsigned long long)replaces,
	     generation);
	is_int(poison_seen, 0, "no reader ever saw a poisoned node");
	is_int(bad_len, 0, "every walk saw exactly %d nodes", LIST_LEN);
	ok(replaces > 100 && walks > 100, "both sides made progress");

	ebr_barrier();
	ebr_get_stats(&s);
	diag("epoch %llu, %llu callbacks, peak backlog %llu, %llu waits",
	     (unsigned long long)s.epoch, (unsigned long long)s.queued,
	     (unsigned long long)s.max_pending, (unsigned long long)s.waits);
	is_int(s.pending, 0, "nothing pending after ebr_barrier");
	ok(s.max_pending <= EBR_PENDING_HARD, "backlog stayed bounded");

	/* Tear down: every node either in the list, quarantined or freed. */
	for (struct node *n = head, *next; n; n = next) {
		next = n->next;
		free(n);
		nodes_freed++;
	}
	for (int i = 0; i < QUARANTINE; i++) {
		if (quarantine[i]) {
			free(quarantine[i]);
			nodes_freed++;
		}
	}
	is_int(nodes_alloced, nodes_freed, "every node allocated was freed");
	return tap_failed - failed;
}

/*
 * Both read-side modes: the fenced one in a child process (the mode is
 * chosen once per process), the asymmetric one here.
 */
static void fenced_run(void)
{
	ebr_init_mode(false);
	run(stress_seconds(2.0) / 2);
}

int main(void)
{
	ok_in_child(fenced_run, "fenced mode: the whole stress passes");
	ebr_init();
	if (!ebr_asymmetric())
		diag("no platform_membarrier(): second run is fenced too");
	run(stress_seconds(2.0) / 2);
	return tap_done();
}
