/*
 * url.c — database URLs and connection strings with their passwords masked
 * (see url.h). The parsing follows libpq's (fe-connect.c): what libpq would
 * take as a password is what gets masked.
 */
#include "util/url.h"
#include "util/buf.h"

#include <ctype.h>
#include <strings.h>

#define MASK "***"

static const char *const secret_keys[] = { "password", "sslpassword" };

int url_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Whether key (len bytes, percent-encoded as in a URL query) names a
 * secret. Longer names than any secret key are not secrets. */
static bool secret_key(const char *key, size_t len, bool percent)
{
	char dec[32];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (percent && c == '%' && i + 2 < len) {
			int hi = url_hex_value(key[i + 1]), lo = url_hex_value(key[i + 2]);
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
			}
		}
		if (n + 1 >= sizeof(dec))
			return false;
		dec[n++] = c;
	}
	dec[n] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(secret_keys); i++)
		if (strcasecmp(dec, secret_keys[i]) == 0)
			return true;
	return false;
}

/* libpq's test for a keyword/value string here: a keyword, optional
 * blanks, then '='. A URL's scheme is followed by ':' instead. */
static bool is_conninfo(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	const char *k = s;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	if (s == k)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	return *s == '=';
}

/* host=h password='a b' ...: libpq's conninfo_parse, copying everything
 * but the secret values. A malformed rest is copied as it is. */
static void mask_conninfo(buf *out, const char *s)
{
	const char *p = s;
	for (;;) {
		const char *blank = p;
		while (isspace((unsigned char)*p))
			p++;
		buf_append(out, blank, (size_t)(p - blank));
		if (*p == '\0')
			return;
		const char *key = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - key);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=') {
			buf_puts(out, key);
			return;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		const char *val = p;
		if (*p == '\'') {
			p++;
			while (*p && *p != '\'') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p == '\'')
				p++;
		} else {
			while (*p && !isspace((unsigned char)*p)) {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
		}
		buf_append(out, key, (size_t)(val - key));
		if (secret_key(key, klen, false))
			buf_puts(out, MASK);
		else
			buf_append(out, val, (size_t)(p - val));
	}
}

/* Copies p, masking the value of each secret parameter: a key=value that
 * follows a '?' or a '&', up to the next '&'. Every such place counts, not
 * only the query: what looks like a parameter is treated as one. */
static void mask_params(buf *out, const char *p)
{
	for (;;) {
		size_t len = strcspn(p, "?&");
		buf_append(out, p, len);
		p += len;
		if (*p == '\0')
			return;
		buf_putc(out, *p++);
		size_t seg = strcspn(p, "&");
		const char *eq = memchr(p, '=', seg);
		if (eq && secret_key(p, (size_t)(eq - p), true)) {
			buf_append(out, p, (size_t)(eq + 1 - p));
			buf_puts(out, MASK);
			p += seg;
		}
	}
}

static void mask_uri(buf *out, const char *s)
{
	const char *sep = strstr(s, "://");
	const char *auth = sep ? sep + 3 : s;
	const char *slash = auth + strcspn(auth, "/");
	const char *at = NULL;
	for (const char *p = auth; p < slash; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	const char *rest = s;
	if (colon) {
		buf_append(out, s, (size_t)(colon + 1 - s));
		buf_puts(out, MASK);
		buf_putc(out, '@');
		rest = at + 1;
	}
	/* Without a password in the userinfo, a '?' in it starts the query as
	 * the writer meant it: "host?password=a@b" masks "a@b". */
	const char *tail = colon ? rest : auth;
	buf_append(out, rest, (size_t)(tail - rest));
	mask_params(out, tail);
}

char *url_mask_password(const char *url)
{
	if (!url)
		return NULL;
	buf out;
	buf_init(&out);
	if (is_conninfo(url))
		mask_conninfo(&out, url);
	else
		mask_uri(&out, url);
	return buf_detach(&out, NULL);
}
