/*
 * json.c — the JSON facade over jansson (see json.h).
 *
 * Dumping is done here rather than by json_dumps() because jansson prints
 * reals with 17 significant digits (0.1 becomes 0.10000000000000001); we
 * print the shortest text that reads back as the same double, and otherwise
 * produce exactly jansson's compact output (same escapes, "1.0" for whole
 * reals, "1e20" exponents, object keys in insertion order).
 */
#include "util/json.h"
#include "util/alloc.h"
#include "core/error.h"

#include <math.h>

/* ---- parsing ---------------------------------------------------------- */

/* Deepest bracket nesting of a JSON text, counting only brackets outside
 * strings. Stops early once limit is exceeded. Malformed text is left for
 * jansson to report. */
static int max_nesting(const char *p, size_t len, int limit)
{
	int depth = 0, deepest = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest) {
				deepest = depth;
				if (deepest > limit)
					break;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

json_t *json_parse_body(const char *data, size_t len, int max_depth, char *err, size_t errlen)
{
	if (max_depth <= 0)
		max_depth = JSON_DEFAULT_MAX_DEPTH;

	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i == len) {
		snprintf(err, errlen, "empty body");
		return NULL;
	}
	if (max_nesting(data, len, max_depth) > max_depth) {
		snprintf(err, errlen, "nesting deeper than %d levels", max_depth);
		return NULL;
	}

	json_error_t je;
	json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v)
		snprintf(err, errlen, "%s at line %d column %d", je.text, je.line, je.column);
	return v;
}

json_t *json_parse_text(const char *s)
{
	if (!s)
		return NULL;
	return json_loads(s, JSON_DECODE_ANY, NULL);
}

/* ---- dumping ---------------------------------------------------------- */

void json_put_string(buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";   /* jansson's case */
	buf_putc(b, '"');
	size_t run = 0;   /* start of the pending run of bytes that need no escape */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(b, u, sizeof u);
		}
		}
	}
	buf_append(b, s + run, len - run);
	buf_putc(b, '"');
}

static void dump_real(buf *b, double d)
{
	char tmp[40];
	if (!isfinite(d)) {   /* jansson never holds these; be safe anyway */
		buf_puts(b, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	char out[48];
	size_t o = 0;
	bool dot_or_exp = false;
	for (const char *p = tmp; *p; p++) {
		if (*p == 'e') {
			dot_or_exp = true;
			out[o++] = 'e';
			p++;
			if (*p == '-')
				out[o++] = '-';
			if (*p == '-' || *p == '+')
				p++;
			while (*p == '0' && p[1] != '\0')
				p++;
			while (*p)
				out[o++] = *p++;
			break;
		}
		if (*p == '.')
			dot_or_exp = true;
		out[o++] = *p;
	}
	if (!dot_or_exp) {
		out[o++] = '.';
		out[o++] = '0';
	}
	buf_append(b, out, o);
}

static void dump_value(buf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		json_t *obj = (json_t *)v;
		bool first = true;
		buf_putc(b, '{');
		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
			if (!first)
				buf_putc(b, ',');
			first = false;
			json_put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			buf_putc(b, ':');
			dump_value(b, json_object_iter_value(it));
		}
		buf_putc(b, '}');
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		buf_putc(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(b, ',');
			dump_value(b, json_array_get(v, i));
		}
		buf_putc(b, ']');
		break;
	}
	case JSON_STRING:
		json_put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		dump_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		buf_puts(b, "true");
		break;
	case JSON_FALSE:
		buf_puts(b, "false");
		break;
	case JSON_NULL:
		buf_puts(b, "null");
		break;
	}
}

void json_dump_buf(const json_t *v, buf *b)
{
	if (!v)
		buf_puts(b, "null");
	else
		dump_value(b, v);
}

char *json_dump_compact(const json_t *v)
{
	buf b;
	buf_init(&b);
	json_dump_buf(v, &b);
	return buf_detach(&b, NULL);
}

/* ---- containment ------------------------------------------------------ */

static bool int_eq_real(json_int_t i, double d)
{
	/* Exact: d must be a whole number inside the int64 range. */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	if (trunc(d) != d)
		return false;
	return (json_int_t)d == i;
}

static bool scalar_eq(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		if (json_is_real(a) && json_is_real(b))
			return json_real_value(a) == json_real_value(b);
		if (json_is_integer(a))
			return int_eq_real(json_integer_value(a), json_real_value(b));
		return int_eq_real(json_integer_value(b), json_real_value(a));
	}
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_string(a)) {
		size_t la = json_string_length(a);
		return la == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), la) == 0;
	}
	return true;   /* true, false, null */
}

static bool is_container(const json_t *v)
{
	return json_is_object(v) || json_is_array(v);
}

/* `top` marks the outermost call: as in PostgreSQL, only there may an array
 * contain a bare scalar ('[1,2]' @> '1'). */
static bool contains(const json_t *a, const json_t *b, bool top)
{
	if (json_is_object(b)) {
		if (!json_is_object(a))
			return false;
		json_t *bo = (json_t *)b;
		for (void *it = json_object_iter(bo); it; it = json_object_iter_next(bo, it)) {
			const json_t *av = json_object_getn(a, json_object_iter_key(it),
			                                    json_object_iter_key_len(it));
			if (!av || !contains(av, json_object_iter_value(it), false))
				return false;
		}
		return true;
	}
	if (json_is_array(b)) {
		if (!json_is_array(a))
			return false;
		size_t nb = json_array_size(b), na = json_array_size(a);
		for (size_t i = 0; i < nb; i++) {
			const json_t *be = json_array_get(b, i);
			bool found = false;
			for (size_t j = 0; j < na && !found; j++) {
				const json_t *ae = json_array_get(a, j);
				if (is_container(be) == is_container(ae))
					found = contains(ae, be, false);
			}
			if (!found)
				return false;
		}
		return true;
	}
	if (json_is_array(a)) {
		if (!top)
			return false;
		size_t na = json_array_size(a);
		for (size_t j = 0; j < na; j++)
			if (scalar_eq(json_array_get(a, j), b))
				return true;
		return false;
	}
	return scalar_eq(a, b);
}

bool json_contains(const json_t *container, const json_t *contained)
{
	/* A missing value behaves as JSON null. */
	const json_t *a = container ? container : json_null();
	const json_t *b = contained ? contained : json_null();
	return contains(a, b, true);
}

/* ---- typed getters ---------------------------------------------------- */

static const json_t *lookup(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	const json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

int json_get_str(const json_t *obj, const char *key, const char **out)
{
	const json_t *v = lookup(obj, key);
	if (!v)
		return WEFT_ENOTFOUND;
	if (!json_is_string(v))
		return WEFT_EINVALID;
	*out = json_string_value(v);
	return 0;
}

int json_get_i64(const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = lookup(obj, key);
	if (!v)
		return WEFT_ENOTFOUND;
	if (!json_is_integer(v))
		return WEFT_EINVALID;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int json_get_i32(const json_t *obj, const char *key, int32_t *out)
{
	const json_t *v = lookup(obj, key);
	if (!v)
		return WEFT_ENOTFOUND;
	if (!json_is_integer(v))
		return WEFT_EINVALID;
	json_int_t i = json_integer_value(v);
	if (i < INT32_MIN || i > INT32_MAX)
		return WEFT_EINVALID;
	*out = (int32_t)i;
	return 0;
}

int json_get_bool(const json_t *obj, const char *key, bool *out)
{
	const json_t *v = lookup(obj, key);
	if (!v)
		return WEFT_ENOTFOUND;
	if (!json_is_boolean(v))
		return WEFT_EINVALID;
	*out = json_is_true(v);
	return 0;
}

const char *json_type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "null";
}
