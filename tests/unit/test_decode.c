/*
 * test_decode.c — the HTTP layer's generic parts: the decode kit
 * (src/http/decode.c), the request's error object and the mapping of
 * weft's error codes to HTTP statuses (src/http/respond.c).
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "http/decode.h"
#include "query_table.h"

static http_error err;

static int reset(void **state)
{
	UNUSED(state);
	http_error_release(&err);
	return 0;
}

static bool has(const char *detail)
{
	for (size_t i = 0; i < err.details.len; i++) {
		if (strcmp(err.details.items[i], detail) == 0)
			return true;
	}
	for (size_t i = 0; i < err.details.len; i++)
		print_message("  detail: %s\n", err.details.items[i]);
	return false;
}

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	return v;
}

/* ---- status map --------------------------------------------------------- */

static void test_status_of(void **state)
{
	UNUSED(state);
	static const struct {
		int code;
		unsigned status, retry_after;
	} cases[] = {
		{ 0, 200, 0 },
		{ WEFT_EINVALID, 400, 0 },
		{ WEFT_EUNAUTHORIZED, 401, 0 },
		{ WEFT_EFORBIDDEN, 403, 0 },
		{ WEFT_ENOTFOUND, 404, 0 },
		{ WEFT_ECONFLICT, 409, 0 },
		{ WEFT_ETOOLARGE, 413, 0 },
		{ WEFT_EUNAVAILABLE, 503, 0 },
		{ WEFT_EOVERLOADED, 503, 1 },
		{ WEFT_ERETRY, 503, 1 },
		{ WEFT_ESTORE, 500, 0 },
		{ WEFT_EINTERNAL, 500, 0 },
		{ -1000, 500, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(http_status_of(cases[i].code), cases[i].status);
		assert_int_equal(http_retry_after_of(cases[i].code), cases[i].retry_after);
	}
	/* Every code weft has maps to an error status. */
	for (int code = -1; code > WEFT_E__LAST; code--)
		assert_true(http_status_of(code) >= 400);
}

static void test_error_object(void **state)
{
	UNUSED(state);
	assert_int_equal(http_error_set(&err, WEFT_ETOOLARGE, HTTP_ERR_RULE, NULL, "limit is %d bytes", 5),
	                 WEFT_ETOOLARGE);
	assert_string_equal(err.message, "limit is 5 bytes");
	assert_int_equal(err.kind, HTTP_ERR_RULE);
	assert_int_equal(http_error_detail(&err, "a.b: %s", "bad"), WEFT_EINVALID);
	assert_int_equal(err.kind, HTTP_ERR_FIELDS);
	assert_true(has("a.b: bad"));
	http_error_state(&err, TS_RETRYING);
	assert_true(err.has_state);
	assert_int_equal(err.state, TS_RETRYING);
	http_error_release(&err);
	assert_int_equal(err.details.len, 0);
	assert_false(err.has_state);
	assert_string_equal(err.message, "");
}

/* ---- bodies -------------------------------------------------------------- */

static void test_body(void **state)
{
	UNUSED(state);
	json_t *v = NULL;
	assert_int_equal(decode_body("[1]", 3, 8, &err, &v), 0);
	assert_true(json_is_array(v));
	json_decref(v);

	assert_int_equal(decode_body("{\"a\":", 5, 8, &err, &v), WEFT_EINVALID);
	assert_null(v);
	assert_int_equal(err.kind, HTTP_ERR_SYNTAX);
	assert_null(err.param);
	assert_true(strlen(err.message) > 0);
	http_error_release(&err);

	assert_int_equal(decode_body("[[[1]]]", 7, 2, &err, &v), WEFT_EINVALID);
	assert_string_equal(err.message, "nesting deeper than 2 levels");
	http_error_release(&err);

	assert_int_equal(decode_body_object("[1]", 3, 8, &err, &v), WEFT_EINVALID);
	assert_null(v);
	assert_string_equal(err.message, "expected an object, got array");
	http_error_release(&err);
	assert_int_equal(decode_body_object("{}", 2, 8, &err, &v), 0);
	json_decref(v);
}

/* ---- paths and members ------------------------------------------------------ */

static void test_paths(void **state)
{
	UNUSED(state);
	char p[DECODE_PATH_MAX];
	decode_path(p, "", "status");
	assert_string_equal(p, "status");
	decode_path(p, NULL, "status");
	assert_string_equal(p, "status");
	decode_path(p, "tasks[3]", "rules");
	assert_string_equal(p, "tasks[3].rules");
	decode_path(p, "tasks[3]", NULL);
	assert_string_equal(p, "tasks[3]");
	decode_path_index(p, "tasks", 0);
	assert_string_equal(p, "tasks[0]");
	decode_path_index(p, "a.b", 123456);
	assert_string_equal(p, "a.b[123456]");

	/* Long paths are cut, never overflow. */
	char at[DECODE_PATH_MAX];
	memset(at, 'x', sizeof(at) - 1);
	at[sizeof(at) - 1] = '\0';
	decode_path(p, at, "key");
	assert_int_equal(strlen(p), DECODE_PATH_MAX - 1);
	decode_path_index(p, at, 7);
	assert_int_equal(strlen(p), DECODE_PATH_MAX - 1);
}

static void test_members(void **state)
{
	UNUSED(state);
	json_t *o = parse("{\"s\":\"x\",\"n\":5,\"big\":5000000000,\"f\":1.5,\"b\":true,\"z\":null,"
	                  "\"a\":[1],\"o\":{}}");
	const char *s = NULL;
	int64_t i = -1;
	bool b = false, present = true;
	double d = -1;
	json_t *c = NULL;
	char path[DECODE_PATH_MAX];

	assert_int_equal(decode_str(&err, o, "t", "s", DECODE_REQUIRED, &s), 0);
	assert_string_equal(s, "x");
	s = NULL;
	assert_int_equal(decode_str(&err, o, "t", "missing", 0, &s), 0);
	assert_null(s);
	assert_int_equal(decode_str(&err, o, "t", "z", 0, &s), 0);     /* null is absence */
	assert_null(s);
	assert_int_equal(err.details.len, 0);

	assert_int_equal(decode_str(&err, o, "t", "missing", DECODE_REQUIRED, &s), WEFT_EINVALID);
	assert_true(has("t.missing: missing field"));
	assert_int_equal(decode_str(&err, o, "t", "z", DECODE_REQUIRED, &s), WEFT_EINVALID);
	assert_true(has("t.z: expected a string, got null"));
	assert_int_equal(decode_str(&err, o, "", "n", 0, &s), WEFT_EINVALID);
	assert_true(has("n: expected a string, got integer"));

	assert_int_equal(decode_int(&err, o, "", "big", 0, &i, &present), 0);
	assert_true(present);
	assert_int_equal(i, 5000000000LL);
	assert_int_equal(decode_int(&err, o, "", "missing", 0, &i, &present), 0);
	assert_false(present);
	assert_int_equal(decode_int(&err, o, "", "big", DECODE_INT32, &i, &present), WEFT_EINVALID);
	assert_false(present);
	assert_true(has("big: expected a 32-bit integer, got 5000000000"));
	assert_int_equal(decode_int(&err, o, "", "f", 0, &i, NULL), WEFT_EINVALID);
	assert_true(has("f: expected an integer, got number"));

	assert_int_equal(decode_bool(&err, o, "", "b", 0, &b, &present), 0);
	assert_true(b && present);
	assert_int_equal(decode_bool(&err, o, "", "n", 0, &b, NULL), WEFT_EINVALID);
	assert_true(has("n: expected a boolean, got integer"));

	assert_int_equal(decode_number(&err, o, "", "f", 0, 2, &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(decode_number(&err, o, "", "n", 0, 2, &d), WEFT_EINVALID);
	assert_true(has("n: n must be between 0 and 2"));

	assert_int_equal(decode_array(&err, o, "", "a", 0, &c, path), 0);
	assert_true(json_is_array(c));
	assert_string_equal(path, "a");
	assert_int_equal(decode_object(&err, o, "p", "a", 0, &c, path), WEFT_EINVALID);
	assert_true(has("p.a: expected an object, got array"));
	c = NULL;
	assert_int_equal(decode_object(&err, o, "", "missing", 0, &c, path), 0);
	assert_null(c);
	assert_int_equal(decode_array(&err, o, "", "missing", DECODE_REQUIRED, &c, path), WEFT_EINVALID);
	assert_true(has("missing: missing field"));

	assert_int_equal(decode_problem(&err, "tasks[1]", "id", "Task local ID cannot be %s", "empty"), WEFT_EINVALID);
	assert_true(has("tasks[1].id: Task local ID cannot be empty"));
	json_decref(o);
}

static void test_text_helpers(void **state)
{
	UNUSED(state);
	assert_true(decode_blank(""));
	assert_true(decode_blank(" \t\n\r\f\v"));
	assert_false(decode_blank(" a "));
	size_t n;
	const char *t = decode_trim("  etl/eu west \t", &n);
	assert_int_equal(n, 11);
	assert_memory_equal(t, "etl/eu west", 11);
	decode_trim("   ", &n);
	assert_int_equal(n, 0);
}

/* ---- query strings ------------------------------------------------------------ */

static void test_query_values(void **state)
{
	UNUSED(state);
	kv q[] = { { "n", "-12" }, { "big", "9223372036854775808" }, { "low", "-9223372036854775809" },
		   { "bad", "1x" }, { "sign", "+" }, { "empty", "" }, { "id", "0A8E6F0C-5C6B-4B8E-9E32-6F7A2D7E1C11" },
		   { "badid", "nope" }, { "at", "2026-03-14T10:00:00Z" }, { "badat", "soon" }, { NULL, NULL } };
	http_query_src src = { kv_get, q };
	int64_t v = 7;
	bool present;

	assert_int_equal(decode_query_int(&src, "n", INT64_MIN, INT64_MAX, &err, &v, &present), 0);
	assert_true(present);
	assert_int_equal(v, -12);
	assert_int_equal(decode_query_int(&src, "none", 0, 10, &err, &v, &present), 0);
	assert_false(present);
	assert_int_equal(v, -12);

	static const struct {
		const char *key;
		int64_t min, max;
		const char *why;
	} bad[] = {
		{ "big", INT64_MIN, INT64_MAX, "number too large to fit in target type" },
		{ "low", INT64_MIN, INT64_MAX, "number too small to fit in target type" },
		{ "n", 0, 10, "number too small to fit in target type" },
		{ "bad", INT64_MIN, INT64_MAX, "invalid digit found in string" },
		{ "sign", INT64_MIN, INT64_MAX, "invalid digit found in string" },
		{ "empty", INT64_MIN, INT64_MAX, "cannot parse integer from empty string" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(decode_query_int(&src, bad[i].key, bad[i].min, bad[i].max, &err, &v, NULL), WEFT_EINVALID);
		assert_int_equal(err.kind, HTTP_ERR_SYNTAX);
		assert_string_equal(err.param, bad[i].key);
		assert_string_equal(err.message, bad[i].why);
	}

	weft_id id;
	assert_int_equal(decode_query_id(&src, "id", &err, &id, &present), 0);
	assert_true(present);
	assert_string_equal(id.str, "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11");
	assert_int_equal(decode_query_id(&src, "badid", &err, &id, &present), WEFT_EINVALID);
	assert_string_equal(err.message, "badid: invalid UUID");

	int64_t at = 0;
	assert_int_equal(decode_query_time(&src, "at", &err, &at), 0);
	assert_int_equal(at, 1773482400LL * 1000000);
	assert_int_equal(decode_query_time(&src, "badat", &err, &at), WEFT_EINVALID);
	assert_string_equal(err.message, "badat: invalid RFC 3339 timestamp");

	assert_string_equal(decode_query_text(&src, "n"), "-12");
	assert_null(decode_query_text(&src, "empty"));
	assert_null(decode_query_text(&src, "none"));
}

static void test_query_page(void **state)
{
	UNUSED(state);
	static const struct {
		const char *page, *size;
		int64_t offset, limit;
	} cases[] = {
		{ NULL, NULL, 0, 50 },
		{ "2", "10", 20, 10 },
		{ "-3", "500", 0, 100 },
		{ "2", "0", 100, 50 },
		{ "1", "-1", 50, 50 },
		{ "9223372036854775807", "100", INT64_MAX, 100 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		kv q[] = { { "page", cases[i].page }, { "page_size", cases[i].size }, { NULL, NULL } };
		http_query_src src = { kv_get, q };
		int64_t offset = -1, limit = -1;
		assert_int_equal(decode_query_page(&src, "page", "page_size", 50, 100, &err, &offset, &limit), 0);
		assert_int_equal(offset, cases[i].offset);
		assert_int_equal(limit, cases[i].limit);
	}
	kv q[] = { { "page_size", "x" }, { NULL, NULL } };
	http_query_src src = { kv_get, q };
	int64_t offset, limit;
	assert_int_equal(decode_query_page(&src, "page", "page_size", 50, 100, &err, &offset, &limit), WEFT_EINVALID);
	assert_string_equal(err.param, "page_size");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_status_of, reset),
		cmocka_unit_test_teardown(test_error_object, reset),
		cmocka_unit_test_teardown(test_body, reset),
		cmocka_unit_test_teardown(test_paths, reset),
		cmocka_unit_test_teardown(test_members, reset),
		cmocka_unit_test_teardown(test_text_helpers, reset),
		cmocka_unit_test_teardown(test_query_values, reset),
		cmocka_unit_test_teardown(test_query_page, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
