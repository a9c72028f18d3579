/*
 * errlist.c — collected validation messages (see errlist.h).
 */
#include "util/errlist.h"
#include "util/alloc.h"

void errlist_init(errlist *e)
{
	e->items = NULL;
	e->len = 0;
	e->cap = 0;
}

void errlist_release(errlist *e)
{
	for (size_t i = 0; i < e->len; i++)
		free(e->items[i]);
	free(e->items);
	errlist_init(e);
}

void errlist_addv(errlist *e, const char *fmt, va_list ap)
{
	if (e->len == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->items = xrealloc(e->items, e->cap * sizeof *e->items);
	}
	e->items[e->len++] = xvasprintf(fmt, ap);
}

void errlist_add(errlist *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errlist_addv(e, fmt, ap);
	va_end(ap);
}
