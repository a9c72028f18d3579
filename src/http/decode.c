/*
 * decode.c — the decode kit (see decode.h).
 */
#include "util/common.h"
#include "http/decode.h"

#include <stdarg.h>

#include "core/error.h"
#include "util/alloc.h"
#include "util/clock.h"

/* ---- bodies --------------------------------------------------------------- */

int decode_body(const char *body, size_t len, int max_depth, http_error *e, json_t **out)
{
	char err[HTTP_ERROR_MSG_MAX];
	err[0] = '\0';
	*out = json_parse_body(body, len, max_depth, err, sizeof(err));
	if (*out == NULL)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, NULL, "%s", err[0] ? err : "invalid JSON");
	return 0;
}

int decode_body_object(const char *body, size_t len, int max_depth, http_error *e, json_t **out)
{
	int rc = decode_body(body, len, max_depth, e, out);
	if (rc != 0 || json_is_object(*out))
		return rc;
	rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, NULL, "expected an object, got %s",
	                    json_type_name(*out));
	json_decref(*out);
	*out = NULL;
	return rc;
}

/* ---- paths and problems --------------------------------------------------- */

/* Paths are built without printf: this is on the path of every member of
 * a large body that has a problem or wants its path. */
static size_t path_put(char out[DECODE_PATH_MAX], size_t at, const char *s)
{
	size_t n = strlen(s);
	if (at + n >= DECODE_PATH_MAX)
		n = DECODE_PATH_MAX - 1 - at;
	memcpy(out + at, s, n);
	out[at + n] = '\0';
	return at + n;
}

void decode_path(char out[DECODE_PATH_MAX], const char *at, const char *key)
{
	size_t n = 0;
	out[0] = '\0';
	if (at != NULL && at[0] != '\0') {
		n = path_put(out, 0, at);
		if (key != NULL)
			n = path_put(out, n, ".");
	}
	if (key != NULL)
		path_put(out, n, key);
}

void decode_path_index(char out[DECODE_PATH_MAX], const char *at, size_t i)
{
	char digits[24], *d = digits + sizeof(digits) - 1;
	*d = '\0';
	do {
		*--d = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	*--d = '[';
	size_t n = path_put(out, 0, at);
	n = path_put(out, n, d);
	path_put(out, n, "]");
}

int decode_problem(http_error *e, const char *at, const char *key, const char *fmt, ...)
{
	char path[DECODE_PATH_MAX];
	decode_path(path, at, key);
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = http_error_detail(e, "%s: %s", path, msg);
	free(msg);
	return rc;
}

int decode_type_error(http_error *e, const char *path, const char *expected, const json_t *got)
{
	return http_error_detail(e, "%s: expected %s, got %s", path, expected, json_type_name(got));
}

/* ---- members ---------------------------------------------------------------- */

json_t *decode_member(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                      char *path)
{
	bool required = flags & DECODE_REQUIRED;
	json_t *m = json_object_get(obj, key);
	if (m == NULL) {
		if (required)
			decode_problem(e, at, key, "missing field");
		return NULL;
	}
	if (json_is_null(m) && !required)
		return NULL;
	if (path != NULL)
		decode_path(path, at, key);
	return m;
}

/* The member, or NULL with *rc set: 0 when absent and optional,
 * WEFT_EINVALID when missing. *present (when non-NULL) is cleared: the
 * caller sets it once the value is read. */
static json_t *lookup(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, int *rc,
                      bool *present)
{
	if (present != NULL)
		*present = false;
	json_t *m = decode_member(e, obj, at, key, flags, NULL);
	*rc = m == NULL && (flags & DECODE_REQUIRED) ? WEFT_EINVALID : 0;
	return m;
}

static int member_type_error(http_error *e, const char *at, const char *key, const char *expected,
                             const json_t *got)
{
	char path[DECODE_PATH_MAX];
	decode_path(path, at, key);
	return decode_type_error(e, path, expected, got);
}

int decode_str(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
               const char **out)
{
	int rc;
	json_t *m = lookup(e, obj, at, key, flags, &rc, NULL);
	if (m == NULL)
		return rc;
	if (!json_is_string(m))
		return member_type_error(e, at, key, "a string", m);
	*out = json_string_value(m);
	return 0;
}

int decode_int(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, int64_t *out,
               bool *present)
{
	int rc;
	json_t *m = lookup(e, obj, at, key, flags, &rc, present);
	if (m == NULL)
		return rc;
	if (!json_is_integer(m))
		return member_type_error(e, at, key, "an integer", m);
	json_int_t x = json_integer_value(m);
	if ((flags & DECODE_INT32) && (x < INT32_MIN || x > INT32_MAX))
		return decode_problem(e, at, key, "expected a 32-bit integer, got %lld", (long long)x);
	*out = (int64_t)x;
	if (present != NULL)
		*present = true;
	return 0;
}

int decode_bool(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, bool *out,
                bool *present)
{
	int rc;
	json_t *m = lookup(e, obj, at, key, flags, &rc, present);
	if (m == NULL)
		return rc;
	if (!json_is_boolean(m))
		return member_type_error(e, at, key, "a boolean", m);
	*out = json_is_true(m);
	if (present != NULL)
		*present = true;
	return 0;
}

int decode_number(http_error *e, const json_t *obj, const char *at, const char *key, double min, double max,
                  double *out)
{
	int rc;
	json_t *m = lookup(e, obj, at, key, 0, &rc, NULL);
	if (m == NULL)
		return rc;
	if (!json_is_number(m))
		return member_type_error(e, at, key, "a number", m);
	double d = json_number_value(m);
	if (!(d >= min && d <= max))
		return decode_problem(e, at, key, "%s must be between %g and %g", key, min, max);
	*out = d == 0 ? 0 : d;     /* no "-0" in what is stored */
	return 0;
}

static int decode_container(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                            bool array, json_t **out, char *path)
{
	json_t *m = decode_member(e, obj, at, key, flags, path);
	if (m == NULL)
		return (flags & DECODE_REQUIRED) ? WEFT_EINVALID : 0;
	if (array ? !json_is_array(m) : !json_is_object(m))
		return decode_type_error(e, path, array ? "an array" : "an object", m);
	*out = m;
	return 0;
}

int decode_array(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, json_t **out,
                 char *path)
{
	return decode_container(e, obj, at, key, flags, true, out, path);
}

int decode_object(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, json_t **out,
                  char *path)
{
	return decode_container(e, obj, at, key, flags, false, out, path);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool decode_blank(const char *s)
{
	for (; *s; s++) {
		if (!is_space(*s))
			return false;
	}
	return true;
}

const char *decode_trim(const char *s, size_t *len)
{
	while (is_space(*s))
		s++;
	const char *end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		end--;
	*len = (size_t)(end - s);
	return s;
}

/* ---- query strings ---------------------------------------------------------- */

/* Rust's str::parse::<i64> rules and messages. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out, const char **why)
{
	const char *p = s;
	bool neg = false;
	if (*p == '\0') {
		*why = "cannot parse integer from empty string";
		return WEFT_EINVALID;
	}
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (*p == '\0') {
		*why = "invalid digit found in string";
		return WEFT_EINVALID;
	}
	/* Accumulate negatively so INT64_MIN is representable. */
	int64_t acc = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			*why = "invalid digit found in string";
			return WEFT_EINVALID;
		}
		int d = *p - '0';
		if (acc < (INT64_MIN + d) / 10) {
			*why = neg ? "number too small to fit in target type" : "number too large to fit in target type";
			return WEFT_EINVALID;
		}
		acc = acc * 10 - d;
	}
	if (!neg) {
		if (acc == INT64_MIN) {
			*why = "number too large to fit in target type";
			return WEFT_EINVALID;
		}
		acc = -acc;
	}
	if (acc > max) {
		*why = "number too large to fit in target type";
		return WEFT_EINVALID;
	}
	if (acc < min) {
		*why = "number too small to fit in target type";
		return WEFT_EINVALID;
	}
	*out = acc;
	return 0;
}

int decode_query_int(const http_query_src *q, const char *key, int64_t min, int64_t max, http_error *e,
                     int64_t *out, bool *present)
{
	const char *s = q->get(q->ctx, key);
	const char *why = NULL;
	if (present != NULL)
		*present = s != NULL;
	if (s == NULL)
		return 0;
	if (parse_int(s, min, max, out, &why) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, key, "%s", why);
	return 0;
}

int decode_query_id(const http_query_src *q, const char *key, http_error *e, weft_id *out, bool *present)
{
	const char *s = q->get(q->ctx, key);
	if (present != NULL)
		*present = s != NULL;
	if (s != NULL && id_parse(s, out) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, key, "%s: invalid UUID", key);
	return 0;
}

int decode_query_time(const http_query_src *q, const char *key, http_error *e, int64_t *out)
{
	const char *s = q->get(q->ctx, key);
	if (s != NULL && time_parse_rfc3339(s, out) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, key, "%s: invalid RFC 3339 timestamp", key);
	return 0;
}

const char *decode_query_text(const http_query_src *q, const char *key)
{
	const char *s = q->get(q->ctx, key);
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int decode_query_page(const http_query_src *q, const char *page_key, const char *size_key, int64_t def,
                      int64_t max, http_error *e, int64_t *offset, int64_t *limit)
{
	bool present;
	int64_t page = 0, size = 0;
	int rc = decode_query_int(q, page_key, INT64_MIN, INT64_MAX, e, &page, NULL);
	if (rc == 0)
		rc = decode_query_int(q, size_key, INT64_MIN, INT64_MAX, e, &size, &present);
	if (rc != 0)
		return rc;
	if (page < 0)
		page = 0;
	if (!present || size <= 0)
		size = def;
	if (size > max)
		size = max;
	if (size <= 0)
		size = 1;
	*limit = size;
	*offset = page > INT64_MAX / size ? INT64_MAX : page * size;
	return 0;
}

const char *decode_str_bounded(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                               size_t max, bool *too_large)
{
	const char *s = NULL;
	if (decode_str(e, obj, at, key, flags, &s) != 0 || s == NULL)
		return NULL;
	size_t n = strlen(s);
	if (n == 0 || n > max) {
		decode_problem(e, at, key, "must be 1 to %zu bytes", max);
		*too_large |= n > max;
		return NULL;
	}
	return s;
}

void decode_unknown_members(http_error *e, const json_t *obj, const char *at, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k != NULL && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok)
			decode_problem(e, at, key, "unknown field");
	}
}
