/* SPDX-License-Identifier: MIT */
/*
 * Intrusive circular doubly linked list.  An empty list is a head that
 * points at itself.
 */
#ifndef TIDAL_LIB_LIST_H
#define TIDAL_LIB_LIST_H

#include "lib/compiler.h"

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_link_between(struct list_head *n,
				     struct list_head *prev,
				     struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert @n right after @h (stack order). */
static inline void list_add(struct list_head *n, struct list_head *h)
{
	list_link_between(n, h, h->next);
}

/* Insert @n right before @h (queue order). */
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list_link_between(n, h->prev, h);
}

/* Unlink @n and leave it pointing at itself, so list_empty(n) holds. */
static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

#define list_for_each_safe(pos, tmp, head)                        \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

#define list_for_each_entry(pos, head, member)                              \
	for (pos = list_entry((head)->next, __typeof__(*pos), member);     \
	     &pos->member != (head);                                      \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, tmp, head, member)                    \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),      \
	    tmp = list_entry(pos->member.next, __typeof__(*pos), member);   \
	     &pos->member != (head); pos = tmp,                             \
	    tmp = list_entry(tmp->member.next, __typeof__(*tmp), member))

#endif
