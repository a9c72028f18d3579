/*
 * fuzz_common.c — see fuzz.h.
 */
#include "fuzz.h"
#include "util/alloc.h"
#include "util/url.h"

#include <pthread.h>

static weft_config config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void load_config(void)
{
	char *argv[] = { "serve", NULL };
	if (config_load(&config, 1, argv) != 0)
		abort();
}

const weft_config *fuzz_config(void)
{
	pthread_once(&config_once, load_config);
	return &config;
}

struct fuzz_query {
	char **keys, **values;
	size_t n;
};

/* Percent-decodes s[0..len) with '+' as a space, as MHD does for query
 * arguments. */
static char *decode(const uint8_t *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && url_hex_value(s[i + 1]) >= 0 && url_hex_value(s[i + 2]) >= 0) {
			out[o++] = (char)(url_hex_value(s[i + 1]) * 16 + url_hex_value(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : (char)s[i];
		}
	}
	out[o] = '\0';
	return out;
}

fuzz_query *fuzz_query_parse(const uint8_t *data, size_t size)
{
	fuzz_query *q = xcalloc(1, sizeof(*q));
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '&')
			continue;
		const uint8_t *part = data + start;
		size_t len = i - start;
		start = i + 1;
		if (len == 0)
			continue;
		const uint8_t *eq = memchr(part, '=', len);
		size_t klen = eq ? (size_t)(eq - part) : len;
		q->keys = xrealloc(q->keys, (q->n + 1) * sizeof(char *));
		q->values = xrealloc(q->values, (q->n + 1) * sizeof(char *));
		q->keys[q->n] = decode(part, klen);
		q->values[q->n] = eq ? decode(eq + 1, len - klen - 1) : xstrdup("");
		q->n++;
	}
	return q;
}

const char *fuzz_query_get(void *ctx, const char *key)
{
	const fuzz_query *q = ctx;
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->keys[i], key) == 0)
			return q->values[i];
	return NULL;
}

void fuzz_query_free(fuzz_query *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->keys[i]);
		free(q->values[i]);
	}
	free(q->keys);
	free(q->values);
	free(q);
}
