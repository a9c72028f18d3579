/*
 * test_json.c — the JSON facade: body parsing limits and errors, compact
 * dumping, jsonb containment and typed getters.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "core/error.h"

#include <math.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

static json_t *parse(const char *s, int depth, char *err)
{
	return json_parse_body(s, strlen(s), depth, err, 256);
}

/* Parses trusted test JSON; fails the test on error. */
static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("bad test JSON '%s': %s", s, e.text);
	return v;
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse_values(void **state)
{
	UNUSED(state);
	char err[256] = "";
	json_t *v = parse("{\"a\": [1, 2.5, \"x\", null, true]}", 64, err);
	assert_non_null(v);
	assert_true(json_is_object(v));
	assert_int_equal(json_array_size(json_object_get(v, "a")), 5);
	json_decref(v);

	/* any value is accepted at the top level */
	v = parse("42", 64, err);
	assert_true(json_is_integer(v));
	json_decref(v);
	v = parse(" \"s\" ", 64, err);
	assert_string_equal(json_string_value(v), "s");
	json_decref(v);
	v = parse("null", 64, err);
	assert_true(json_is_null(v));
	json_decref(v);

	/* the body need not be NUL-terminated: only len bytes are read */
	const char raw[] = "[1]garbage";
	v = json_parse_body(raw, 3, 64, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);

	/* exact 64-bit integers */
	v = parse("9223372036854775807", 64, err);
	assert_int_equal(json_integer_value(v), INT64_MAX);
	json_decref(v);
}

static void test_parse_empty(void **state)
{
	UNUSED(state);
	char err[256];
	assert_null(json_parse_body("", 0, 64, err, sizeof err));
	assert_string_equal(err, "empty body");
	assert_null(json_parse_body(NULL, 0, 64, err, sizeof err));
	assert_string_equal(err, "empty body");
	assert_null(parse(" \n\t ", 64, err));
	assert_string_equal(err, "empty body");
}

static char *nested(int depth, const char *open, const char *inner, const char *close)
{
	buf b;
	buf_init(&b);
	for (int i = 0; i < depth; i++)
		buf_puts(&b, open);
	buf_puts(&b, inner);
	for (int i = 0; i < depth; i++)
		buf_puts(&b, close);
	return buf_detach(&b, NULL);
}

static void test_parse_depth_limit(void **state)
{
	UNUSED(state);
	char err[256];
	char *ok = nested(64, "[", "1", "]");
	json_t *v = parse(ok, 64, err);
	assert_non_null(v);
	json_decref(v);
	free(ok);

	char *deep = nested(65, "[", "1", "]");
	assert_null(parse(deep, 64, err));
	assert_string_equal(err, "nesting deeper than 64 levels");
	free(deep);

	char *objs = nested(4, "{\"a\":", "1", "}");
	assert_null(parse(objs, 3, err));
	assert_string_equal(err, "nesting deeper than 3 levels");
	v = parse(objs, 4, err);
	assert_non_null(v);
	json_decref(v);
	free(objs);

	/* Far deeper than jansson would survive: rejected by the pre-scan. */
	char *huge = nested(200000, "[", "", "]");
	assert_null(parse(huge, 64, err));
	assert_string_equal(err, "nesting deeper than 64 levels");
	free(huge);

	/* Brackets inside strings do not count, escaped quotes included. */
	v = parse("[\"[[[[[[{{{{{\", \"\\\"[[[[[[[\", {\"k\\\\\": \"]]]]\"}]", 2, err);
	assert_non_null(v);
	json_decref(v);

	/* A max_depth of 0 means the default. */
	char *d65 = nested(65, "[", "", "]");
	assert_null(parse(d65, 0, err));
	assert_string_equal(err, "nesting deeper than 64 levels");
	free(d65);
}

static void test_parse_duplicate_keys(void **state)
{
	UNUSED(state);
	char err[256];
	assert_null(parse("{\"a\":1,\"a\":2}", 64, err));
	assert_non_null(strstr(err, "duplicate"));
	assert_null(parse("{\"o\":{\"b\":1,\"c\":2,\"b\":3}}", 64, err));
	assert_non_null(strstr(err, "duplicate"));
	/* the same key in sibling objects is fine */
	json_t *v = parse("[{\"a\":1},{\"a\":2}]", 64, err);
	assert_non_null(v);
	json_decref(v);
}

static void test_parse_error_position(void **state)
{
	UNUSED(state);
	char err[256];
	assert_null(parse("{\n  \"a\": 1,\n  \"b\" 2\n}", 64, err));
	assert_non_null(strstr(err, " at line 3 column "));

	assert_null(parse("{\"a\":1} x", 64, err));
	assert_non_null(strstr(err, "at line 1 column 9"));

	assert_null(parse("[1, 2", 64, err));
	assert_non_null(strstr(err, "at line 1 column"));

	/* NUL escapes are refused */
	assert_null(parse("\"a\\u0000b\"", 64, err));
	assert_non_null(strstr(err, "at line 1"));

	/* the message is bounded by errlen */
	char small[8];
	assert_null(json_parse_body("{", 1, 64, small, sizeof small));
	assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_parse_text(void **state)
{
	UNUSED(state);
	json_t *v = json_parse_text("{\"a\":[true]}");
	assert_non_null(v);
	assert_true(json_is_true(json_array_get(json_object_get(v, "a"), 0)));
	json_decref(v);
	v = json_parse_text("7");
	assert_int_equal(json_integer_value(v), 7);
	json_decref(v);
	assert_null(json_parse_text("{"));
	assert_null(json_parse_text(NULL));
}

/* ---- dumping ----------------------------------------------------------- */

static void check_dump(const char *in, const char *want)
{
	json_t *v = J(in);
	char *s = json_dump_compact(v);
	assert_string_equal(s, want);
	free(s);
	json_decref(v);
}

static void test_dump_compact(void **state)
{
	UNUSED(state);
	check_dump("{ \"b\" : 1, \"a\" : [1, 2, \"x\"], \"c\": {}}", "{\"b\":1,\"a\":[1,2,\"x\"],\"c\":{}}");
	check_dump("[]", "[]");
	check_dump("\"tab\\there \\\"q\\\" back\\\\ nl\\n \\u001f \\u00e9 /\"",
	           "\"tab\\there \\\"q\\\" back\\\\ nl\\n \\u001F \xc3\xa9 /\"");
	check_dump("-9223372036854775808", "-9223372036854775808");
	check_dump("[true,false,null]", "[true,false,null]");
	/* reals: shortest text that reads back the same, always with . or e */
	check_dump("0.1", "0.1");
	check_dump("1.0", "1.0");
	check_dump("-0.0", "-0.0");
	check_dump("2.5", "2.5");
	check_dump("1e20", "1e20");
	check_dump("1.5e-7", "1.5e-7");
	check_dump("123456789.125", "123456789.125");
	check_dump("0.30000000000000004", "0.30000000000000004");

	/* json_dump_buf appends */
	buf b;
	buf_init(&b);
	buf_puts(&b, "x=");
	json_t *v = J("{\"k\":[1]}");
	json_dump_buf(v, &b);
	assert_string_equal(b.data, "x={\"k\":[1]}");
	json_decref(v);
	buf_release(&b);
}

/* Same bytes as jansson's own compact dump for everything but reals. */
static void test_dump_matches_jansson(void **state)
{
	UNUSED(state);
	static const char *const docs[] = {
		"{\"z\":1,\"a\":{\"m\":[1,-2,{\"q\":null}],\"e\":\"\"},\"k\":\"\\u001f\\b\\f\\r\\t\"}",
		"[\"\\u2028\\u00ff\\ud83d\\ude00\",[],[[]],{}]",
		"\"just a string with \\\"quotes\\\" and \\\\\"",
	};
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		json_t *v = J(docs[i]);
		char *mine = json_dump_compact(v);
		char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		assert_string_equal(mine, theirs);
		free(mine);
		free(theirs);
		json_decref(v);
	}
}

static void test_dump_reals_round_trip(void **state)
{
	UNUSED(state);
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		uint64_t bits = x;
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		json_t *v = json_real(d);
		char *s = json_dump_compact(v);
		json_t *back = json_parse_text(s);
		assert_non_null(back);
		assert_true(json_is_real(back));
		if (json_real_value(back) != d)
			fail_msg("%.17g dumped as %s", d, s);
		free(s);
		json_decref(back);
		json_decref(v);
	}
}

/* ---- containment ------------------------------------------------------- */

static bool contains(const char *a, const char *b)
{
	json_t *ja = J(a), *jb = J(b);
	bool r = json_contains(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return r;
}

static void test_contains_objects(void **state)
{
	UNUSED(state);
	const char *doc = "{\"a\":1,\"b\":{\"c\":2,\"d\":[3,4]},\"s\":\"x\"}";
	assert_true(contains(doc, "{}"));
	assert_true(contains(doc, "{\"a\":1}"));
	assert_true(contains(doc, "{\"b\":{\"c\":2}}"));
	assert_true(contains(doc, "{\"b\":{\"d\":[4]}}"));
	assert_true(contains(doc, "{\"b\":{}}"));
	assert_true(contains(doc, doc));
	assert_false(contains(doc, "{\"b\":{\"c\":3}}"));
	assert_false(contains(doc, "{\"x\":1}"));
	assert_false(contains(doc, "{\"a\":\"1\"}"));
	assert_false(contains(doc, "{\"b\":{\"d\":[5]}}"));
	assert_false(contains("{\"a\":1}", doc));
	/* nested values must match in kind: a scalar is not contained by an array there */
	assert_false(contains("{\"a\":[1,2]}", "{\"a\":1}"));
	assert_false(contains("{\"a\":1}", "{\"a\":[1]}"));
	assert_false(contains(doc, "[]"));
}

static void test_contains_arrays(void **state)
{
	UNUSED(state);
	assert_true(contains("[1,2,3]", "[]"));
	assert_true(contains("[1,2,3]", "[3,1]"));
	assert_true(contains("[1,2,3]", "[1,1,1]"));
	assert_false(contains("[1,2,3]", "[4]"));
	assert_true(contains("[\"a\",\"b\"]", "[\"b\"]"));
	assert_true(contains("[{\"k\":1,\"v\":2},{\"k\":3}]", "[{\"k\":1}]"));
	assert_false(contains("[{\"k\":1,\"v\":2},{\"k\":3}]", "[{\"k\":1,\"v\":3}]"));
	assert_true(contains("[1,[2,3]]", "[[3]]"));
	assert_false(contains("[1,[2]]", "[2]"));
	assert_false(contains("[[1]]", "[1]"));
	/* only at the top level may an array contain a bare scalar (as in PostgreSQL) */
	assert_true(contains("[1,2]", "1"));
	assert_false(contains("[1,2]", "3"));
	assert_false(contains("1", "[1]"));
	assert_false(contains("[]", "{}"));
	assert_false(contains("{}", "[]"));
}

static void test_contains_scalars(void **state)
{
	UNUSED(state);
	assert_true(contains("1", "1"));
	assert_true(contains("1", "1.0"));
	assert_true(contains("1.0", "1"));
	assert_true(contains("{\"n\":2}", "{\"n\":2.0}"));
	assert_false(contains("1", "1.5"));
	assert_false(contains("1", "\"1\""));
	assert_false(contains("1", "true"));
	assert_true(contains("\"a\"", "\"a\""));
	assert_false(contains("\"a\"", "\"ab\""));
	assert_true(contains("true", "true"));
	assert_false(contains("true", "false"));
	assert_false(contains("0", "false"));
	/* integers beyond 2^53 are compared exactly, not through a double */
	assert_false(contains("9007199254740993", "9007199254740992.0"));
	assert_true(contains("9007199254740992", "9007199254740992.0"));
	assert_false(contains("9223372036854775807", "9223372036854775808.0"));
}

static void test_contains_null(void **state)
{
	UNUSED(state);
	assert_true(contains("null", "null"));
	assert_false(contains("null", "{}"));
	assert_false(contains("{}", "null"));
	assert_false(contains("{\"m\":null}", "{\"m\":{}}"));
	assert_true(contains("{\"m\":null}", "{\"m\":null}"));
	assert_false(contains("{}", "{\"m\":null}"));

	/* A missing (NULL) value behaves as JSON null. */
	json_t *empty = J("{}");
	assert_false(json_contains(NULL, empty));
	assert_false(json_contains(empty, NULL));
	assert_true(json_contains(NULL, NULL));
	json_decref(empty);
}

/* ---- getters ----------------------------------------------------------- */

static void test_getters(void **state)
{
	UNUSED(state);
	json_t *o = J("{\"s\":\"x\",\"n\":5,\"big\":3000000000,\"min\":-2147483648,"
	              "\"max\":2147483647,\"under\":-2147483649,\"r\":1.0,\"b\":false,\"z\":null}");
	const char *s = "untouched";
	int64_t i64 = 99;
	int32_t i32 = 99;
	bool b = true;

	assert_int_equal(json_get_str(o, "s", &s), 0);
	assert_string_equal(s, "x");
	s = "untouched";
	assert_int_equal(json_get_str(o, "missing", &s), WEFT_ENOTFOUND);
	assert_int_equal(json_get_str(o, "z", &s), WEFT_ENOTFOUND);
	assert_int_equal(json_get_str(o, "n", &s), WEFT_EINVALID);
	assert_string_equal(s, "untouched");

	assert_int_equal(json_get_i64(o, "big", &i64), 0);
	assert_int_equal(i64, 3000000000);
	i64 = 99;
	assert_int_equal(json_get_i64(o, "r", &i64), WEFT_EINVALID);   /* 1.0 is a real */
	assert_int_equal(json_get_i64(o, "s", &i64), WEFT_EINVALID);
	assert_int_equal(json_get_i64(o, "z", &i64), WEFT_ENOTFOUND);
	assert_int_equal(i64, 99);

	assert_int_equal(json_get_i32(o, "n", &i32), 0);
	assert_int_equal(i32, 5);
	assert_int_equal(json_get_i32(o, "min", &i32), 0);
	assert_int_equal(i32, INT32_MIN);
	assert_int_equal(json_get_i32(o, "max", &i32), 0);
	assert_int_equal(i32, INT32_MAX);
	i32 = 99;
	assert_int_equal(json_get_i32(o, "big", &i32), WEFT_EINVALID);
	assert_int_equal(json_get_i32(o, "under", &i32), WEFT_EINVALID);
	assert_int_equal(json_get_i32(o, "r", &i32), WEFT_EINVALID);
	assert_int_equal(json_get_i32(o, "missing", &i32), WEFT_ENOTFOUND);
	assert_int_equal(i32, 99);

	assert_int_equal(json_get_bool(o, "b", &b), 0);
	assert_false(b);
	assert_int_equal(json_get_bool(o, "n", &b), WEFT_EINVALID);
	assert_int_equal(json_get_bool(o, "z", &b), WEFT_ENOTFOUND);

	/* not an object: nothing can be found in it */
	json_t *arr = J("[1]");
	assert_int_equal(json_get_i64(arr, "0", &i64), WEFT_ENOTFOUND);
	assert_int_equal(json_get_str(NULL, "s", &s), WEFT_ENOTFOUND);
	json_decref(arr);
	json_decref(o);
}

static void test_type_names(void **state)
{
	UNUSED(state);
	static const struct { const char *json, *name; } cases[] = {
		{ "{}", "object" }, { "[]", "array" },    { "\"\"", "string" }, { "1", "integer" },
		{ "1.5", "number" }, { "true", "boolean" }, { "false", "boolean" }, { "null", "null" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		json_t *v = J(cases[i].json);
		assert_string_equal(json_type_name(v), cases[i].name);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_depth_limit),
		cmocka_unit_test(test_parse_duplicate_keys),
		cmocka_unit_test(test_parse_error_position),
		cmocka_unit_test(test_parse_text),
	};
	const struct CMUnitTest dump_tests[] = {
		cmocka_unit_test(test_dump_compact),
		cmocka_unit_test(test_dump_matches_jansson),
		cmocka_unit_test(test_dump_reals_round_trip),
	};
	const struct CMUnitTest contains_tests[] = {
		cmocka_unit_test(test_contains_objects),
		cmocka_unit_test(test_contains_arrays),
		cmocka_unit_test(test_contains_scalars),
		cmocka_unit_test(test_contains_null),
	};
	const struct CMUnitTest getter_tests[] = {
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_type_names),
	};
	int failed = 0;
	failed += cmocka_run_group_tests_name("json parse", parse_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("json dump", dump_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("json contains", contains_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("json getters", getter_tests, NULL, NULL);
	return failed ? 1 : 0;
}
