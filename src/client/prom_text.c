/*
 * prom_text.c — the Prometheus text format reader (see prom_text.h).
 *
 * A line is read into one scratch buffer: the metric name, then each label
 * name and unescaped value, NUL-terminated, recorded as offsets until the
 * line is complete (the buffer may move while it grows) and turned into
 * pointers for the callback.
 */
#include "client/prom_text.h"
#include "util/buf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>

#define MAX_LABELS 64

typedef struct line_reader {
	const char *p, *end;
	buf scratch;
	size_t name_off[MAX_LABELS], value_off[MAX_LABELS];
	size_t nlabels;
	const char *why;
} line_reader;

static void skip_blanks(line_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

/* An identifier ([a-zA-Z_] then [a-zA-Z0-9_], plus ':' in metric names)
 * copied into the scratch buffer with its NUL. */
static bool read_ident(line_reader *r, bool colon)
{
	const char *s = r->p;
	while (r->p < r->end) {
		char c = *r->p;
		bool ok = isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
		          (r->p > s && isdigit((unsigned char)c));
		if (!ok)
			break;
		r->p++;
	}
	if (r->p == s)
		return false;
	buf_append(&r->scratch, s, (size_t)(r->p - s));
	buf_putc(&r->scratch, '\0');
	return true;
}

/* A quoted label value, unescaped into the scratch buffer. */
static bool read_value(line_reader *r)
{
	if (r->p >= r->end || *r->p != '"') {
		r->why = "expected '\"' before a label value";
		return false;
	}
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;
		if (c == '\\' && r->p < r->end) {
			char e = *r->p++;
			c = e == 'n' ? '\n' : e;
		}
		buf_putc(&r->scratch, c);
	}
	if (r->p >= r->end) {
		r->why = "unterminated label value";
		return false;
	}
	r->p++;
	buf_putc(&r->scratch, '\0');
	return true;
}

static bool read_labels(line_reader *r)
{
	r->p++;   /* '{' */
	for (;;) {
		skip_blanks(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return true;
		}
		if (r->nlabels == MAX_LABELS) {
			r->why = "too many labels";
			return false;
		}
		r->name_off[r->nlabels] = r->scratch.len;
		if (!read_ident(r, false)) {
			r->why = "expected a label name";
			return false;
		}
		skip_blanks(r);
		if (r->p >= r->end || *r->p != '=') {
			r->why = "expected '=' after a label name";
			return false;
		}
		r->p++;
		skip_blanks(r);
		r->value_off[r->nlabels] = r->scratch.len;
		if (!read_value(r))
			return false;
		r->nlabels++;
		skip_blanks(r);
		if (r->p < r->end && *r->p == ',')
			r->p++;
		else if (r->p >= r->end || *r->p != '}') {
			r->why = "expected ',' or '}' after a label";
			return false;
		}
	}
}

/* The next blank-separated token as a NUL-terminated copy in tok. */
static bool read_token(line_reader *r, char *tok, size_t len)
{
	skip_blanks(r);
	const char *s = r->p;
	while (r->p < r->end && *r->p != ' ' && *r->p != '\t')
		r->p++;
	size_t n = (size_t)(r->p - s);
	if (n == 0 || n >= len)
		return false;
	memcpy(tok, s, n);
	tok[n] = '\0';
	return true;
}

/* Go's ParseFloat spellings, which Prometheus writes: strtod reads them
 * all, Inf and NaN in any case, with an optional sign. */
static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && (errno == 0 || isinf(*out) || *out == 0);
}

/* Reads one sample line [p, end) and calls fn: fn's value, or -1. */
static int read_sample(line_reader *r, prom_sample_fn fn, void *ud)
{
	buf_reset(&r->scratch);
	r->nlabels = 0;
	if (!read_ident(r, true)) {
		r->why = "expected a metric name";
		return -1;
	}
	skip_blanks(r);
	if (r->p < r->end && *r->p == '{' && !read_labels(r))
		return -1;
	prom_sample s = { 0 };
	char tok[64];
	if (!read_token(r, tok, sizeof(tok)) || !parse_double(tok, &s.value)) {
		r->why = "expected a sample value";
		return -1;
	}
	if (read_token(r, tok, sizeof(tok))) {
		char *end;
		errno = 0;
		long long ts = strtoll(tok, &end, 10);
		if (*end != '\0' || errno != 0) {
			r->why = "expected a timestamp after the value";
			return -1;
		}
		s.has_timestamp = true;
		s.timestamp_ms = ts;
	}
	skip_blanks(r);
	if (r->p != r->end) {
		r->why = "unexpected text after the sample";
		return -1;
	}
	const char *names[MAX_LABELS], *values[MAX_LABELS];
	for (size_t i = 0; i < r->nlabels; i++) {
		names[i] = r->scratch.data + r->name_off[i];
		values[i] = r->scratch.data + r->value_off[i];
	}
	s.name = r->scratch.data;
	s.nlabels = r->nlabels;
	s.label_names = names;
	s.label_values = values;
	return fn(&s, ud);
}

int prom_text_parse(const char *text, size_t len, prom_sample_fn fn, void *ud, char *err, size_t errlen)
{
	line_reader r;
	memset(&r, 0, sizeof(r));
	buf_init(&r.scratch);
	const char *p = text, *end = text + len;
	int rc = 0;
	for (size_t line = 1; p < end && rc == 0; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		r.p = p;
		r.end = e > p && e[-1] == '\r' ? e - 1 : e;
		r.why = NULL;
		skip_blanks(&r);
		if (r.p < r.end && *r.p != '#') {
			rc = read_sample(&r, fn, ud);
			if (rc == -1)
				snprintf(err, errlen, "line %zu: %s", line, r.why ? r.why : "not a sample");
		}
		p = nl ? nl + 1 : end;
	}
	buf_release(&r.scratch);
	return rc;
}

const char *prom_sample_label(const prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->label_names[i], name) == 0)
			return s->label_values[i];
	return NULL;
}
