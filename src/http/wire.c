/*
 * wire.c — JSON value writers (see wire.h).
 */
#include "util/common.h"
#include "http/wire.h"

#include "util/clock.h"
#include "util/json.h"

/* Integers and timestamps are written without printf: a 100,000-task
 * batch answer has over a million of them. */
void wire_i64(buf *b, int64_t v)
{
	char digits[24], *d = digits + sizeof(digits);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--d = '-';
	buf_append(b, d, (size_t)(digits + sizeof(digits) - d));
}

void wire_i64_or_null(buf *b, int64_t v)
{
	if (v == 0)
		buf_puts(b, "null");
	else
		wire_i64(b, v);
}

void wire_i64_opt(buf *b, bool has, int64_t v)
{
	if (has)
		wire_i64(b, v);
	else
		buf_puts(b, "null");
}

void wire_bool(buf *b, bool v)
{
	buf_puts(b, v ? "true" : "false");
}

void wire_ts(buf *b, int64_t us)
{
	/* Tasks of one batch share their timestamps: format each once. */
	static _Thread_local int64_t last_us;
	static _Thread_local char last[TIME_RFC3339_MAX + 2];
	static _Thread_local size_t last_len;
	if (us == 0) {
		buf_puts(b, "null");
		return;
	}
	if (us != last_us || last_len == 0) {
		char t[TIME_RFC3339_MAX];
		time_format_rfc3339(us, t);
		last_len = (size_t)snprintf(last, sizeof(last), "\"%s\"", t);
		last_us = us;
	}
	buf_append(b, last, last_len);
}

void wire_ts_ms(buf *b, int64_t us)
{
	/* The jobs of one claim answer share their lease and timeout times:
	 * the last two formatted are kept. */
	static _Thread_local int64_t memo_ms[2];
	static _Thread_local char memo[2][TIME_RFC3339_MAX + 8];
	static _Thread_local size_t memo_len[2];
	static _Thread_local unsigned next;
	if (us == 0) {
		buf_puts(b, "null");
		return;
	}
	int64_t ms = us / 1000 - (us % 1000 < 0);   /* floor, also before 1970 */
	for (unsigned i = 0; i < 2; i++)
		if (memo_len[i] != 0 && memo_ms[i] == ms) {
			buf_append(b, memo[i], memo_len[i]);
			return;
		}
	char t[TIME_RFC3339_MAX];
	time_format_rfc3339(ms * 1000, t);
	/* "...:SSZ" or "...:SS.mmmZ": give every time its 3 digits. */
	size_t n = strlen(t);
	unsigned k = next++ & 1;
	if (n >= 5 && t[n - 5] == '.')
		memo_len[k] = (size_t)snprintf(memo[k], sizeof memo[k], "\"%s\"", t);
	else
		memo_len[k] = (size_t)snprintf(memo[k], sizeof memo[k], "\"%.*s.000Z\"", (int)(n - 1), t);
	memo_ms[k] = ms;
	buf_append(b, memo[k], memo_len[k]);
}

void wire_raw(buf *b, const char *json, const char *fallback)
{
	buf_puts(b, json != NULL && json[0] != '\0' ? json : fallback);
}

void wire_id(buf *b, const weft_id *id)
{
	if (id == NULL || !id_is_set(id)) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	buf_append(b, id->str, WEFT_ID_LEN);
	buf_putc(b, '"');
}

void wire_secs(buf *b, int64_t us)
{
	if (us < 0) {
		buf_putc(b, '-');
		us = us == INT64_MIN ? INT64_MAX : -us;
	}
	wire_i64(b, us / 1000000);
	int64_t frac = us % 1000000;
	if (frac == 0)
		return;
	char digits[8];
	int n = 6;
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	snprintf(digits, sizeof(digits), ".%0*" PRId64, n, frac);
	buf_puts(b, digits);
}

void wire_str(buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "null");
	else
		json_put_string(b, s, strlen(s));
}
