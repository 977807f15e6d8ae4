// SPDX-License-Identifier: MIT
/* Unit tests for lib/list.h. */
#include "lib/list.h"
#include "tests/host/tap.h"

struct item {
	int v;
	struct list_head link;
};

int main(void)
{
	struct list_head head = LIST_HEAD_INIT(head);
	struct item items[4], *it, *tmp;
	int sum = 0, order = 0, n = 0;

	ok(list_empty(&head), "new list is empty");
	for (int i = 0; i < 4; i++) {
		items[i].v = i;
		list_add_tail(&items[i].link, &head);
	}
	ok(!list_empty(&head), "list with items is not empty");
	list_for_each_entry(it, &head, link)
		order = order * 10 + it->v;
	is_int(order, 123, "add_tail keeps insertion order");

	list_for_each_entry_safe(it, tmp, &head, link) {
		if (it->v % 2 == 0)
			list_del_init(&it->link);
	}
	list_for_each_entry(it, &head, link) {
		sum += it->v;
		n++;
	}
	is_int(n, 2, "safe iteration removes two items");
	is_int(sum, 4, "the odd items remain");
	ok(list_empty(&items[0].link), "a removed node points at itself");

	list_add(&items[0].link, &head);
	it = list_entry(head.next, struct item, link);
	is_int(it->v, 0, "list_add inserts at the front");
	return tap_done();
}
