/*
 * cursor.c — the opaque cursors of /v1 listings (see cursor.h).
 */
#include "util/common.h"
#include "http/v1/cursor.h"
#include "http/http.h"

#include <errno.h>

#include "http/wire.h"
#include "util/buf.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void v1_base64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long v1_base64url_decode(const char *text, unsigned char *out, size_t cap)
{
	size_t len = strlen(text), o = 0;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		size_t n = MIN(len - i, (size_t)4);
		for (size_t k = 0; k < 4; k++) {
			int d = k < n ? b64_value(text[i + k]) : 0;
			if (d < 0)
				return -1;
			v = (v << 6) | (uint32_t)d;
		}
		size_t bytes = n - 1;    /* 4 chars: 3 bytes, 3: 2, 2: 1 */
		if (o + bytes > cap)
			return -1;
		for (size_t k = 0; k < bytes; k++)
			out[o++] = (unsigned char)(v >> (16 - 8 * k));
	}
	return (long)o;
}

void v1_cursor_encode(const v1_cursor *c, char out[V1_CURSOR_MAX])
{
	char plain[112];
	int n = snprintf(plain, sizeof plain, "v1|%" PRId64 "|%s|%016" PRIx64 "|%" PRId64, c->at, c->id.str, c->filters,
	                 c->position);
	if (n < 0 || (size_t)n >= sizeof plain)
		n = 0;  /* not reached: every field is bounded */
	v1_base64url_encode((const unsigned char *)plain, (size_t)n, out);
}

/* A decimal integer filling [s, end): 0, or -1. */
static int parse_i64(const char *s, const char *end, int64_t *out)
{
	if (s == end || end - s > 20)
		return -1;
	char tmp[24];
	memcpy(tmp, s, (size_t)(end - s));
	tmp[end - s] = '\0';
	errno = 0;
	char *e;
	long long v = strtoll(tmp, &e, 10);
	if (errno != 0 || *e != '\0' || (tmp[0] != '-' && (tmp[0] < '0' || tmp[0] > '9')))
		return -1;
	*out = v;
	return 0;
}

int v1_cursor_decode(const char *text, v1_cursor *out)
{
	unsigned char plain[V1_CURSOR_MAX];
	if (text == NULL || strlen(text) >= V1_CURSOR_MAX)
		return -1;
	long n = v1_base64url_decode(text, plain, sizeof plain - 1);
	if (n < 0)
		return -1;
	plain[n] = '\0';
	const char *p = (const char *)plain;
	if (strlen(p) != (size_t)n || strncmp(p, "v1|", 3) != 0)
		return -1;
	const char *f[4];
	const char *cur = p + 3;
	for (size_t i = 0; i < 4; i++) {
		f[i] = cur;
		const char *bar = strchr(cur, '|');
		if ((bar == NULL) != (i == 3))
			return -1;
		cur = bar != NULL ? bar + 1 : cur;
	}
	v1_cursor c;
	memset(&c, 0, sizeof c);
	if (parse_i64(f[0], f[1] - 1, &c.at) != 0)
		return -1;
	size_t idlen = (size_t)(f[2] - 1 - f[1]);
	if (idlen > 0) {
		char id[WEFT_ID_LEN + 1];
		if (idlen != WEFT_ID_LEN)
			return -1;
		memcpy(id, f[1], idlen);
		id[idlen] = '\0';
		if (id_parse(id, &c.id) != 0)
			return -1;
	}
	const char *fp = f[2];
	if (f[3] - 1 - fp != 16)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		char ch = fp[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		c.filters = (c.filters << 4) | (uint64_t)d;
	}
	if (parse_i64(f[3], f[3] + strlen(f[3]), &c.position) != 0 || c.position < 0)
		return -1;
	*out = c;
	return 0;
}

uint64_t v1_fingerprint(const char *text)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

int v1_cursor_take(const char *text, uint64_t filters, http_error *e, v1_cursor *out)
{
	if (v1_cursor_decode(text, out) != 0 || !id_is_set(&out->id))
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this list");
	if (out->filters != filters)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor",
		                      "the cursor was made with other filters: send the same filters, or none");
	return 0;
}

int v1_ordinal_cursor_take(const char *text, uint64_t filters, const char *what, http_error *e, int64_t *at)
{
	v1_cursor c;
	if (v1_cursor_decode(text, &c) != 0 || id_is_set(&c.id) || c.filters != filters || c.at < 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of %s", what);
	*at = c.at;
	return 0;
}

/* The page of v1_respond_page and v1_respond_name_page; next_text NULL:
 * the list ends here. */
static void respond_page_text(http_request *r, const char *key, const void *items, size_t n, size_t size,
                              http_put_fn put, const char *next_text)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	wire_str(&b, key);
	buf_puts(&b, ":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put(&b, (const char *)items + i * size);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (next_text != NULL)
		wire_str(&b, next_text);
	else
		buf_puts(&b, "null");
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_respond_page(http_request *r, const char *key, const void *items, size_t n, size_t size, http_put_fn put,
                     const v1_cursor *next)
{
	char text[V1_CURSOR_MAX];
	if (next != NULL)
		v1_cursor_encode(next, text);
	respond_page_text(r, key, items, n, size, put, next != NULL ? text : NULL);
}

void v1_respond_name_page(http_request *r, const char *key, const void *items, size_t n, size_t size,
                          http_put_fn put, const char *next_name)
{
	respond_page_text(r, key, items, n, size, put, next_name);
}
