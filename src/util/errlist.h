/*
 * errlist.h — a list of user-facing validation messages.
 *
 * Validation collects every problem (not fail-fast), each formatted as
 * "<field>: <message>"; the HTTP layer renders them in its error bodies.
 */
#ifndef WEFT_ERRLIST_H
#define WEFT_ERRLIST_H

#include "common.h"
#include <stdarg.h>

typedef struct errlist {
	char **items;   /* owned strings */
	size_t len;
	size_t cap;
} errlist;

void errlist_init(errlist *e);
void errlist_release(errlist *e);
void errlist_add(errlist *e, const char *fmt, ...) WEFT_PRINTF(2, 3);
void errlist_addv(errlist *e, const char *fmt, va_list ap) WEFT_PRINTF(2, 0);

#endif
