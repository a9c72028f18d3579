/*
 * buf.c — growable NUL-terminated byte buffer (see buf.h).
 *
 * An initialised but unused buf points at a shared static "" with cap 0, so
 * embedding a buf costs no allocation until something is appended.
 */
#include "util/buf.h"
#include "util/alloc.h"

static char empty[1];

void buf_init(buf *b)
{
	b->data = empty;
	b->len = 0;
	b->cap = 0;
}

void buf_release(buf *b)
{
	if (b->cap)
		free(b->data);
	buf_init(b);
}

void buf_reset(buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL. */
static void grow(buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1) {
		fprintf(stderr, "weft: buffer size overflow\n");
		abort();
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->cap) {
		b->data = xrealloc(b->data, cap);
	} else {
		b->data = xmalloc(cap);
		b->data[0] = '\0';
	}
	b->cap = cap;
}

void buf_reserve(buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	b->data = b->cap ? xrealloc(b->data, need) : xmalloc(need);
	if (b->len == 0)
		b->data[0] = '\0';
	b->cap = need;
}

void buf_append(buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
	grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t avail = b->cap ? b->cap - b->len : 0;
	int n = vsnprintf(avail ? b->data + b->len : NULL, avail, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		fprintf(stderr, "weft: buf_vprintf: bad format '%s'\n", fmt);
		abort();
	}
	if ((size_t)n >= avail) {
		grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *buf_detach(buf *b, size_t *len_out)
{
	char *p = b->cap ? b->data : xstrdup("");
	if (len_out)
		*len_out = b->len;
	buf_init(b);
	return p;
}
