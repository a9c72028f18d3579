#include "util/common.h"
#include "util/alloc.h"
#include "engine/timers.h"

void timers_init(timer_heap *h)
{
	h->items = NULL;
	h->len = h->cap = 0;
}

void timers_release(timer_heap *h)
{
	free(h->items);
	timers_init(h);
}

static void swap_entries(timer_entry *a, timer_entry *b)
{
	timer_entry t = *a;
	*a = *b;
	*b = t;
}

void timers_push(timer_heap *h, int64_t due_us, timer_kind kind, const weft_id *task)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->items = xrealloc(h->items, h->cap * sizeof(*h->items));
	}
	size_t i = h->len++;
	h->items[i] = (timer_entry){ .due_us = due_us, .kind = kind, .task_id = *task };
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent].due_us <= h->items[i].due_us)
			break;
		swap_entries(&h->items[parent], &h->items[i]);
		i = parent;
	}
}

int64_t timers_next_due(const timer_heap *h)
{
	return h->len ? h->items[0].due_us : INT64_MAX;
}

bool timers_pop_due(timer_heap *h, int64_t now, timer_entry *out)
{
	if (h->len == 0 || h->items[0].due_us > now)
		return false;
	*out = h->items[0];
	h->items[0] = h->items[--h->len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->len && h->items[l].due_us < h->items[m].due_us)
			m = l;
		if (r < h->len && h->items[r].due_us < h->items[m].due_us)
			m = r;
		if (m == i)
			break;
		swap_entries(&h->items[m], &h->items[i]);
		i = m;
	}
	return true;
}
