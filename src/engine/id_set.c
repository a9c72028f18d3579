/*
 * id_set.c — a small set of ids (engine_internal.h): linear, since the
 * sets the engine keeps (starts in flight, batches touched in a cycle)
 * stay small.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/engine_internal.h"

bool id_set_has(const id_set *s, const weft_id *id)
{
	for (size_t i = 0; i < s->len; i++)
		if (id_eq(&s->items[i], id))
			return true;
	return false;
}

void id_set_add(id_set *s, const weft_id *id)
{
	if (id_set_has(s, id))
		return;
	if (s->len == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->items = xrealloc(s->items, s->cap * sizeof(weft_id));
	}
	s->items[s->len++] = *id;
}

bool id_set_remove(id_set *s, const weft_id *id)
{
	for (size_t i = 0; i < s->len; i++) {
		if (id_eq(&s->items[i], id)) {
			s->items[i] = s->items[--s->len];
			return true;
		}
	}
	return false;
}

void id_set_release(id_set *s)
{
	free(s->items);
	s->items = NULL;
	s->len = s->cap = 0;
}
