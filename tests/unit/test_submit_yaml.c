/*
 * test_submit_yaml.c — YAML to JSON for `weft submit` (src/cli/submit_yaml.c):
 * how each kind of scalar is typed, what is refused and where, the limits,
 * aliases and merge keys and the bound on their expansion, and the lines of
 * the DAG's tasks.
 */
#include "util/common.h"
#include "cli/submit_yaml.h"
#include "util/buf.h"
#include "util/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static char err[512];

/* The compact JSON of yaml (owned), or NULL with err set. */
static char *convert(const char *yaml)
{
	json_t *v = submit_yaml_to_json(yaml, strlen(yaml), "f.yaml", NULL, err, sizeof(err));
	if (!v)
		return NULL;
	char *text = json_dump_compact(v);
	json_decref(v);
	return text;
}

static void assert_converts(const char *yaml, const char *json)
{
	char *got = convert(yaml);
	if (!got)
		fail_msg("'%s' was refused: %s", yaml, err);
	if (strcmp(got, json) != 0)
		fail_msg("'%s' gave %s, not %s", yaml, got, json);
	free(got);
}

static void assert_refused(const char *yaml, const char *where, const char *what)
{
	char *got = convert(yaml);
	if (got)
		fail_msg("'%s' was accepted as %s", yaml, got);
	if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what))
		fail_msg("'%s': the message '%s' should start with '%s' and say '%s'", yaml, err, where, what);
}

static void test_scalars(void **state)
{
	UNUSED(state);
	static const char *const cases[][2] = {
		/* null */
		{ "v: ~", "{\"v\":null}" },
		{ "v: null", "{\"v\":null}" },
		{ "v: NULL", "{\"v\":null}" },
		{ "v:", "{\"v\":null}" },
		{ "v: nil", "{\"v\":\"nil\"}" },
		/* booleans: true and false only */
		{ "v: [true, True, TRUE, false, False, FALSE]", "{\"v\":[true,true,true,false,false,false]}" },
		{ "v: [yes, no, on, off, y, n, NO]", "{\"v\":[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"NO\"]}" },
		/* integers, exact to 64 bits */
		{ "v: [0, -0, 7, +12, -42]", "{\"v\":[0,0,7,12,-42]}" },
		{ "v: [0x1F, -0x10, 0o17]", "{\"v\":[31,-16,15]}" },
		{ "v: [9223372036854775807, -9223372036854775808]", "{\"v\":[9223372036854775807,-9223372036854775808]}" },
		{ "v: 9007199254740993", "{\"v\":9007199254740993}" },
		/* digits that are not an integer stay text */
		{ "v: [01234, 007, 1_000, 12:30, 0x, 0o8]",
		  "{\"v\":[\"01234\",\"007\",\"1_000\",\"12:30\",\"0x\",\"0o8\"]}" },
		/* numbers */
		{ "v: [1.5, -0.25, .5, 5., 1e3, 2.5E-2]", "{\"v\":[1.5,-0.25,0.5,5.0,1000.0,0.025]}" },
		{ "v: [1.2.3, e5, 1e, 1.5x]", "{\"v\":[\"1.2.3\",\"e5\",\"1e\",\"1.5x\"]}" },
		/* quoted, block and !!str scalars are text */
		{ "v: ['1', \"true\", '~', !!str 12, ! 13]", "{\"v\":[\"1\",\"true\",\"~\",\"12\",\"13\"]}" },
		{ "v: |\n  a\n  b\n", "{\"v\":\"a\\nb\\n\"}" },
		{ "v: >-\n  a\n  b\n", "{\"v\":\"a b\"}" },
		{ "v: \"caf\\u00e9 \\t end\"", "{\"v\":\"caf\xc3\xa9 \\t end\"}" },
		/* keys are text whatever they look like; order is kept */
		{ "{1: a, true: b, ~: c, z: d, a: e}", "{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\",\"z\":\"d\",\"a\":\"e\"}" },
		/* a document marker and a comment change nothing */
		{ "--- # the DAG\ntasks: []\n...\n", "{\"tasks\":[]}" },
		{ "[]", "[]" },
		{ "plain", "\"plain\"" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_converts(cases[i][0], cases[i][1]);
}

static void test_refusals(void **state)
{
	UNUSED(state);
	assert_refused("a: 1\nb: 2\na: 3\n", "f.yaml:3:1: ", "the key 'a' is given twice");
	assert_refused("{1: x, '1': y}", "f.yaml:1:8: ", "the key '1' is given twice");
	assert_refused("a: [1]\nb: *x\n", "f.yaml:2:4: ", "the alias *x names no anchor");
	assert_refused("a: &m {b: *m}\n", "f.yaml:1:11: ", "the alias *m names no anchor");   /* inside itself */
	assert_refused("a: &n 1\n*n : 2\n", "f.yaml:2:1: ", "a key must be a string");
	assert_refused("a: {<<: 1}\n", "f.yaml:1:9: ", "<< (a merge key) takes a mapping or a list of mappings, not an integer");
	assert_refused("a: {<<: [{b: 1}, 2]}\n", "f.yaml:1:9: ", "item 2 is an integer");
	assert_refused("a: 1\n---\nb: 2\n", "f.yaml:2:1: ", "a second document");
	assert_refused("v: 9223372036854775808", "f.yaml:1:4: ", "does not fit in 64 bits");
	assert_refused("v: -9223372036854775809", "f.yaml:1:4: ", "does not fit in 64 bits");
	assert_refused("v: 0x10000000000000000", "f.yaml:1:4: ", "does not fit in 64 bits");
	assert_refused("v: [1, .NaN]", "f.yaml:1:8: ", ".NaN is not a number JSON can carry");
	assert_refused("v: -.inf", "f.yaml:1:4: ", "not a number JSON can carry");
	assert_refused("v: 1e999", "f.yaml:1:4: ", "too large for JSON's doubles");
	assert_refused("v: !!int 3", "f.yaml:1:4: ", "the tag !!int is not supported");
	assert_refused("v: !custom {a: 1}", "f.yaml:1:4: ", "the tag !custom is not supported");
	assert_refused("? [a]\n: 1\n", "f.yaml:1:3: ", "a key must be a scalar, not a sequence");
	assert_refused("? {a: 1}\n: 1\n", "f.yaml:1:3: ", "a key must be a scalar, not a mapping");
	assert_refused("a: [1, 2\n", "f.yaml:2:1: ", "did not find expected ',' or ']'");
	assert_refused("a: b: c\n", "f.yaml:1:5: ", "mapping values are not allowed");
	assert_refused("a: '\n", "f.yaml:2:1: ", "found unexpected end of stream");
	assert_refused("a: \"x\\0y\"\n", "f.yaml:1:4: ", "a NUL character");
	assert_refused("{\"k\\x00\": 1}\n", "f.yaml:1:2: ", "a NUL character");
	assert_refused("a: \xff\n", "f.yaml:1:4: ", "invalid leading UTF-8 octet");
	assert_refused("", "f.yaml: ", "no YAML document");
	assert_refused("# only a comment\n", "f.yaml: ", "no YAML document");
}

static void test_depth_limit(void **state)
{
	UNUSED(state);
	buf b;
	buf_init(&b);
	for (int i = 0; i < SUBMIT_YAML_MAX_DEPTH; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < SUBMIT_YAML_MAX_DEPTH; i++)
		buf_putc(&b, ']');
	char *ok = convert(b.data);
	assert_non_null(ok);   /* exactly the limit */
	free(ok);
	buf_reset(&b);
	for (int i = 0; i <= SUBMIT_YAML_MAX_DEPTH; i++)
		buf_puts(&b, "{a: ");
	assert_refused(b.data, "f.yaml:1:", "nesting deeper than 64 levels");
	buf_release(&b);
}

static void test_aliases_and_merges(void **state)
{
	UNUSED(state);
	static const char *const cases[][2] = {
		/* an alias is its anchor's value, scalar or not */
		{ "a: &x 1\nb: *x\nc: [*x, *x]", "{\"a\":1,\"b\":1,\"c\":[1,1]}" },
		{ "d: &b {initial_ms: 100}\nt: [{backoff: *b}, {backoff: *b}]",
		  "{\"d\":{\"initial_ms\":100},\"t\":[{\"backoff\":{\"initial_ms\":100}},{\"backoff\":{\"initial_ms\":100}}]}" },
		/* a name given again names the new value from there on */
		{ "a: &x 1\nb: *x\nc: &x 2\nd: *x", "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}" },
		/* a string alias may be a key */
		{ "a: &k name\n*k : v", "{\"a\":\"name\",\"name\":\"v\"}" },
		/* merges: the mapping's own keys win, before or after the <<; then the earlier merge */
		{ "d: &d {queue: q, priority: 1}\nt: {<<: *d, priority: 5}",
		  "{\"d\":{\"queue\":\"q\",\"priority\":1},\"t\":{\"queue\":\"q\",\"priority\":5}}" },
		{ "d: &d {queue: q, priority: 1}\nt: {priority: 5, <<: *d}",
		  "{\"d\":{\"queue\":\"q\",\"priority\":1},\"t\":{\"priority\":5,\"queue\":\"q\"}}" },
		{ "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nt: {<<: [*a, *b]}",
		  "{\"a\":{\"x\":1},\"b\":{\"x\":2,\"y\":2},\"t\":{\"x\":1,\"y\":2}}" },
		{ "t: {<<: {x: 1, y: 1}, y: 2}", "{\"t\":{\"x\":1,\"y\":2}}" },
		{ "t: {<<: [{x: 1}, {x: 2, z: 3}]}", "{\"t\":{\"x\":1,\"z\":3}}" },
		/* a quoted << is an ordinary key */
		{ "t: {'<<': 1}", "{\"t\":{\"<<\":1}}" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_converts(cases[i][0], cases[i][1]);
	/* a key of its own, twice, is still a duplicate after a merge */
	assert_refused("d: &d {x: 1}\nt: {<<: *d, x: 2, x: 3}\n", "f.yaml:2:19: ", "the key 'x' is given twice");
}

static void test_alias_expansion_is_bounded(void **state)
{
	UNUSED(state);
	/* billion laughs: 10^9 values once expanded, refused at once */
	static const char laughs[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	                             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                             "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                             "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                             "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                             "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	assert_refused(laughs, "f.yaml:7:", "once its aliases are expanded: the DAG is too large for one run");
	/* a few big strings, many times: the bytes are counted */
	buf b;
	buf_init(&b);
	buf_puts(&b, "s: &s \"");
	for (int i = 0; i < (1 << 20); i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\"\nt: [");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "*s, ");
	buf_puts(&b, "]\n");
	assert_refused(b.data, "f.yaml:2:", "more than 64 MiB of values once its aliases are expanded");
	/* nesting counts the alias's own: 40 levels under 24 is the limit, under 25 too deep */
	for (int under = 24; under <= 25; under++) {
		buf_reset(&b);
		buf_puts(&b, "a: &deep ");
		for (int i = 0; i < 40; i++)
			buf_putc(&b, '[');
		for (int i = 0; i < 40; i++)
			buf_putc(&b, ']');
		buf_puts(&b, "\nb: ");
		for (int i = 0; i < under - 1; i++)   /* the top mapping is one level */
			buf_putc(&b, '[');
		buf_puts(&b, "*deep");
		for (int i = 0; i < under - 1; i++)
			buf_putc(&b, ']');
		buf_putc(&b, '\n');
		if (under == 24) {
			char *ok = convert(b.data);
			if (!ok)
				fail_msg("64 levels were refused: %s", err);
			free(ok);
		} else {
			assert_refused(b.data, "f.yaml:2:", "nesting deeper than 64 levels once the alias *deep is expanded");
		}
	}
	buf_release(&b);
}

static void test_task_lines(void **state)
{
	UNUSED(state);
	static const char dag[] = "name: n\n"
	                          "tasks:\n"
	                          "  - ref: a\n"
	                          "    queue: q\n"
	                          "\n"
	                          "  # the second\n"
	                          "  - ref: b\n"
	                          "    parents: [{ref: a}]\n"
	                          "  - {ref: c}\n"
	                          "other: [1, 2, 3]\n";
	submit_yaml_lines lines = { 0 };
	json_t *v = submit_yaml_to_json(dag, strlen(dag), "f.yaml", &lines, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(lines.n, 3);   /* the tasks only: not their parents, not other lists */
	assert_int_equal(lines.line[0], 3);
	assert_int_equal(lines.line[1], 7);
	assert_int_equal(lines.line[2], 9);
	json_decref(v);
	submit_yaml_lines_release(&lines);

	static const char bare[] = "- ref: a\n  queue: q\n- ref: b\n";
	v = submit_yaml_to_json(bare, strlen(bare), "f.yaml", &lines, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(lines.n, 2);
	assert_int_equal(lines.line[1], 3);
	json_decref(v);
	submit_yaml_lines_release(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_aliases_and_merges),
		cmocka_unit_test(test_alias_expansion_is_bounded),
		cmocka_unit_test(test_task_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
