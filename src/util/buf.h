/*
 * buf.h — a growable byte buffer, always NUL-terminated.
 *
 * Embedded objects: buf_init() before use, buf_release() after.
 * buf_detach() hands the bytes to the caller (owned, free()) and resets.
 */
#ifndef WEFT_BUF_H
#define WEFT_BUF_H

#include "common.h"
#include <stdarg.h>

typedef struct buf {
	char *data;   /* never NULL after buf_init; always NUL-terminated */
	size_t len;
	size_t cap;
} buf;

void buf_init(buf *b);
void buf_release(buf *b);
void buf_reset(buf *b);                        /* len = 0, keeps memory */
/* Makes room for `extra` more bytes in one allocation (e.g. a body of known
 * length), so appends up to that size never reallocate. */
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
void buf_vprintf(buf *b, const char *fmt, va_list ap);
char *buf_detach(buf *b, size_t *len_out);     /* owned; len_out may be NULL */

#endif
