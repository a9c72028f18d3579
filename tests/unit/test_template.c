/*
 * test_template.c — {{metadata.KEY}} placeholders in webhook params: url
 * percent-encoding, header values, body strings that keep the value's JSON
 * type, nested paths, missing keys, and text left alone.
 */
#include "exec/template.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char META[] =
	"{\"env\":\"prod\",\"n\":42,\"pi\":1.5,\"ok\":true,\"nothing\":null,"
	"\"who\":{\"name\":\"Ann Lee\",\"id\":7,\"tags\":[\"a\",\"b\"],\"deep\":{\"x\":\"y\"}},"
	"\"q\":\"a b&c=d/e?f#g%h~i_j.k-l\",\"uni\":\"caf\\u00e9\","
	"\"crlf\":\"x\\r\\nInjected: 1\",\"lf\":\"x\\ny\",\"looks\":\"{{metadata.env}}\","
	"\"dotted.key\":\"no\",\"empty\":\"\"}";

/* Renders params against META and compares with the expected compact JSON
 * (compared as values, so key order and spacing must match exactly). */
static void assert_render(const char *params, const char *meta, const char *want)
{
	char *got = template_render_params(params, meta);
	if (got == NULL)
		fail_msg("%s: rendered to NULL", params);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n  expected %s\n  got      %s", params, want, got);
	free(got);
}

static void test_has_placeholders(void **state)
{
	UNUSED(state);
	assert_true(template_has_placeholders("{\"url\":\"http://x/{{metadata.a}}\"}"));
	assert_true(template_has_placeholders("{{metadata."));
	assert_false(template_has_placeholders("{\"url\":\"http://x/{{meta.a}}\"}"));
	assert_false(template_has_placeholders("{\"url\":\"http://x/{{ metadata.a }}\"}"));
	assert_false(template_has_placeholders(""));
	assert_false(template_has_placeholders(NULL));
	/* placeholders are looked for in the decoded strings */
	assert_true(template_has_placeholders("{\"url\":\"http://x/\\u007b{metadata.a}}\"}"));
	assert_false(template_has_placeholders("{\"url\":\"http://x/caf\\u00e9\"}"));
	assert_false(template_has_placeholders("{\"url\":\"\\u"));
}

static void test_escaped_placeholder(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/\\u007b{metadata.env}}\",\"verb\":\"Get\"}", META,
	              "{\"url\":\"https://e.com/prod\",\"verb\":\"Get\"}");
}

static void test_no_placeholders_identical(void **state)
{
	UNUSED(state);
	/* the very same text, spacing and number spelling included */
	const char *texts[] = {
		"{\"url\": \"https://example.com/a?b=1\",  \"verb\": \"Post\", \"body\": {\"x\": 1.50, \"y\": 1e2}}",
		"{\"url\":\"https://example.com/{{other.x}}\",\"verb\":\"Get\"}",
		"[1, 2]",
		"null",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		char *got = template_render_params(texts[i], META);
		assert_non_null(got);
		assert_string_equal(got, texts[i]);
		free(got);
	}
}

static void test_invalid_params(void **state)
{
	UNUSED(state);
	assert_null(template_render_params("{\"url\":", META));
	assert_null(template_render_params("{\"url\":\"{{metadata.env}}\"", META));
	assert_null(template_render_params("", META));
	assert_null(template_render_params(NULL, META));
}

static void test_url(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://{{metadata.env}}.example.com/u/{{metadata.who.id}}?q={{metadata.q}}\",\"verb\":\"Get\"}",
	              META,
	              "{\"url\":\"https://prod.example.com/u/7?q=a%20b%26c%3Dd%2Fe%3Ff%23g%25h~i_j.k-l\",\"verb\":\"Get\"}");
	/* UTF-8 bytes are encoded one by one, upper-case hex */
	assert_render("{\"url\":\"https://e.com/{{metadata.uni}}\",\"verb\":\"Get\"}", META,
	              "{\"url\":\"https://e.com/caf%C3%A9\",\"verb\":\"Get\"}");
	/* non-strings are their compact JSON, encoded */
	assert_render("{\"url\":\"https://e.com/?t={{metadata.who.tags}}&o={{metadata.ok}}&p={{metadata.pi}}\",\"verb\":\"Get\"}",
	              META,
	              "{\"url\":\"https://e.com/?t=%5B%22a%22%2C%22b%22%5D&o=true&p=1.5\",\"verb\":\"Get\"}");
	/* missing and null */
	assert_render("{\"url\":\"https://e.com/{{metadata.nope}}/{{metadata.who.nope}}/{{metadata.nothing}}\",\"verb\":\"Get\"}",
	              META, "{\"url\":\"https://e.com///null\",\"verb\":\"Get\"}");
	/* CR/LF are encoded in a URL, not dropped */
	assert_render("{\"url\":\"https://e.com/{{metadata.lf}}\",\"verb\":\"Get\"}", META,
	              "{\"url\":\"https://e.com/x%0Ay\",\"verb\":\"Get\"}");
}

static void test_headers(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"headers\":{"
	              "\"X-Env\":\"{{metadata.env}}\",\"X-Who\":\"id={{metadata.who.id}}; name={{metadata.who.name}}\","
	              "\"X-Obj\":\"{{metadata.who.deep}}\",\"X-Missing\":\"[{{metadata.none}}]\","
	              "\"X-Crlf\":\"a{{metadata.crlf}}b\",\"X-Lf\":\"{{metadata.lf}}\",\"X-Plain\":\"Bearer t\"}}",
	              META,
	              "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"headers\":{"
	              "\"X-Env\":\"prod\",\"X-Who\":\"id=7; name=Ann Lee\","
	              "\"X-Obj\":\"{\\\"x\\\":\\\"y\\\"}\",\"X-Missing\":\"[]\","
	              "\"X-Crlf\":\"ab\",\"X-Lf\":\"\",\"X-Plain\":\"Bearer t\"}}");
	/* header names are not rendered; null headers stay */
	assert_render("{\"url\":\"https://e.com/{{metadata.n}}\",\"verb\":\"Get\",\"headers\":{\"{{metadata.env}}\":\"v\"}}",
	              META,
	              "{\"url\":\"https://e.com/42\",\"verb\":\"Get\",\"headers\":{\"{{metadata.env}}\":\"v\"}}");
	assert_render("{\"url\":\"https://e.com/{{metadata.n}}\",\"verb\":\"Get\",\"headers\":null}", META,
	              "{\"url\":\"https://e.com/42\",\"verb\":\"Get\",\"headers\":null}");
}

static void test_body_whole_value_keeps_type(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{"
	              "\"n\":\"{{metadata.n}}\",\"pi\":\"{{metadata.pi}}\",\"ok\":\"{{metadata.ok}}\","
	              "\"who\":\"{{metadata.who}}\",\"tags\":\"{{metadata.who.tags}}\",\"s\":\"{{metadata.env}}\","
	              "\"nothing\":\"{{metadata.nothing}}\",\"missing\":\"{{metadata.zzz}}\",\"empty\":\"{{metadata.empty}}\"}}",
	              META,
	              "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{"
	              "\"n\":42,\"pi\":1.5,\"ok\":true,"
	              "\"who\":{\"name\":\"Ann Lee\",\"id\":7,\"tags\":[\"a\",\"b\"],\"deep\":{\"x\":\"y\"}},"
	              "\"tags\":[\"a\",\"b\"],\"s\":\"prod\",\"nothing\":null,\"missing\":null,\"empty\":\"\"}}");
	/* the body itself may be a single placeholder */
	assert_render("{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":\"{{metadata.who.deep}}\"}", META,
	              "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{\"x\":\"y\"}}");
	assert_render("{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":\"{{metadata.gone}}\"}", META,
	              "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":null}");
}

static void test_body_spliced_and_nested(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{"
	              "\"msg\":\"{{metadata.who.name}} ({{metadata.n}}) in {{metadata.env}}\","
	              "\"list\":[\"{{metadata.n}}\",\"n={{metadata.n}}\",[\"{{metadata.who.deep.x}}\"],3,{\"k\":\"{{metadata.ok}}\"}],"
	              "\"obj\":\"x{{metadata.who.deep}}\",\"miss\":\"<{{metadata.who.name.first}}>\","
	              "\"crlf\":\"{{metadata.lf}}!\",\"keep\":false,\"num\":2.25,\"{{metadata.env}}\":1}}",
	              META,
	              "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{"
	              "\"msg\":\"Ann Lee (42) in prod\","
	              "\"list\":[42,\"n=42\",[\"y\"],3,{\"k\":true}],"
	              "\"obj\":\"x{\\\"x\\\":\\\"y\\\"}\",\"miss\":\"<>\","
	              "\"crlf\":\"x\\ny!\",\"keep\":false,\"num\":2.25,\"{{metadata.env}}\":1}}");
}

static void test_not_placeholders_left_alone(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/{{metadata.n}}\",\"verb\":\"Post\",\"body\":{"
	              "\"a\":\"{{metadata.}}\",\"b\":\"{{metadata.env}\",\"c\":\"{{metadata..env}}\","
	              "\"d\":\"{{ metadata.env }}\",\"e\":\"{{metadata.env.}}\",\"f\":\"{{metadata.env\","
	              "\"g\":\"{{{metadata.env}}}\",\"h\":\"{{metadata.{{metadata.env}}}}\","
	              "\"i\":\"{{Metadata.env}}\",\"j\":\"{{metadata.looks}}\",\"k\":\"x{{metadata.looks}}\","
	              "\"l\":\"}}{{metadata.env}}{{\",\"m\":\"{{metadata.dotted.key}}\"}}",
	              META,
	              "{\"url\":\"https://e.com/42\",\"verb\":\"Post\",\"body\":{"
	              "\"a\":\"{{metadata.}}\",\"b\":\"{{metadata.env}\",\"c\":\"{{metadata..env}}\","
	              "\"d\":\"{{ metadata.env }}\",\"e\":\"{{metadata.env.}}\",\"f\":\"{{metadata.env\","
	              "\"g\":\"{prod}\",\"h\":\"{{metadata.prod}}\","
	              "\"i\":\"{{Metadata.env}}\",\"j\":\"{{metadata.env}}\",\"k\":\"x{{metadata.env}}\","
	              "\"l\":\"}}prod{{\",\"m\":null}}");
}

static void test_null_or_bad_metadata(void **state)
{
	UNUSED(state);
	const char *params = "{\"url\":\"https://e.com/{{metadata.a}}x\",\"verb\":\"Post\","
	                     "\"headers\":{\"H\":\"{{metadata.a}}\"},\"body\":{\"v\":\"{{metadata.a}}\",\"s\":\"<{{metadata.a}}>\"}}";
	const char *want = "{\"url\":\"https://e.com/x\",\"verb\":\"Post\","
	                   "\"headers\":{\"H\":\"\"},\"body\":{\"v\":null,\"s\":\"<>\"}}";
	assert_render(params, "null", want);
	assert_render(params, NULL, want);
	assert_render(params, "[1,2]", want);
	assert_render(params, "\"str\"", want);
	assert_render(params, "{not json", want);
	assert_render(params, "{}", want);
}

static void test_other_fields_untouched(void **state)
{
	UNUSED(state);
	/* only url, header values and body are rendered */
	assert_render("{\"url\":\"https://e.com/{{metadata.n}}\",\"verb\":\"{{metadata.env}}\",\"extra\":\"{{metadata.env}}\"}",
	              META,
	              "{\"url\":\"https://e.com/42\",\"verb\":\"{{metadata.env}}\",\"extra\":\"{{metadata.env}}\"}");
	/* a params text that is not an object comes back as is */
	char *got = template_render_params("[\"{{metadata.env}}\"]", META);
	assert_string_equal(got, "[\"{{metadata.env}}\"]");
	free(got);
}

static void test_large_integers_exact(void **state)
{
	UNUSED(state);
	assert_render("{\"url\":\"https://e.com/{{metadata.big}}\",\"verb\":\"Post\",\"body\":\"{{metadata.big}}\"}",
	              "{\"big\":9007199254740993}",
	              "{\"url\":\"https://e.com/9007199254740993\",\"verb\":\"Post\",\"body\":9007199254740993}");
}

/* One large value in many placeholders stops at a budget of 1 MiB of
 * substituted text; placeholders past it render as missing. */
static void test_substitution_budget(void **state)
{
	UNUSED(state);
	const size_t big = 300 * 1024;
	char *val = malloc(big + 1);
	memset(val, 'v', big);
	val[big] = '\0';
	char *meta = NULL;
	assert_true(asprintf(&meta, "{\"big\":\"%s\",\"obj\":{\"s\":\"%s\"},\"small\":\"x\"}", val, val) > 0);

	/* 10 spliced + 10 whole strings, each 300 KiB */
	buf params;
	buf_init(&params);
	buf_puts(&params, "{\"url\":\"https://e.com/\",\"verb\":\"Post\",\"body\":{\"s\":[");
	for (int i = 0; i < 10; i++)
		buf_puts(&params, i ? ",\"<{{metadata.big}}>\"" : "\"<{{metadata.big}}>\"");
	buf_puts(&params, "],\"w\":[");
	for (int i = 0; i < 10; i++)
		buf_puts(&params, i ? ",\"{{metadata.obj}}\"" : "\"{{metadata.obj}}\"");
	buf_puts(&params, "],\"after\":\"{{metadata.small}}\"}}");

	char *got = template_render_params(params.data, meta);
	assert_non_null(got);
	assert_true(strlen(got) < 1100 * 1024);
	json_t *v = json_parse_text(got);
	assert_non_null(v);
	json_t *s = json_object_get(json_object_get(v, "body"), "s");
	json_t *w = json_object_get(json_object_get(v, "body"), "w");
	/* three fit (900 KiB), the fourth does not, nor anything after it */
	for (size_t i = 0; i < 10; i++) {
		const char *str = json_string_value(json_array_get(s, i));
		assert_non_null(str);
		assert_int_equal(strlen(str), i < 3 ? big + 2 : 2);
		assert_true(json_is_null(json_array_get(w, i)));
	}
	assert_true(json_is_null(json_object_get(json_object_get(v, "body"), "after")));
	json_decref(v);
	free(got);
	buf_release(&params);
	free(meta);
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_placeholders),
		cmocka_unit_test(test_no_placeholders_identical),
		cmocka_unit_test(test_escaped_placeholder),
		cmocka_unit_test(test_invalid_params),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_body_whole_value_keeps_type),
		cmocka_unit_test(test_body_spliced_and_nested),
		cmocka_unit_test(test_not_placeholders_left_alone),
		cmocka_unit_test(test_null_or_bad_metadata),
		cmocka_unit_test(test_other_fields_untouched),
		cmocka_unit_test(test_large_integers_exact),
		cmocka_unit_test(test_substitution_budget),
	};
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
