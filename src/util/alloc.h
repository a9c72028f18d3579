/*
 * alloc.h — allocation that aborts on out-of-memory.
 *
 * Policy: small, internally sized allocations never fail (we abort with a
 * message, as there is no sane recovery). Anything sized by a client must be
 * bounded by the caller *before* allocating and rejected cleanly.
 */
#ifndef WEFT_ALLOC_H
#define WEFT_ALLOC_H

#include "common.h"
#include <stdarg.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);                 /* NULL in -> NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) WEFT_PRINTF(1, 2);  /* owned result */
char *xvasprintf(const char *fmt, va_list ap);

#endif
