/*
 * test_prom_text.c — the Prometheus text format reader: weft's own
 * /metrics output, label escapes and order, values and timestamps,
 * comments, and the lines it refuses.
 */
#include "util/common.h"
#include "client/prom_text.h"
#include "util/buf.h"
#include "util/metrics.h"

#include <math.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* Every sample as "name{a=v,b=w} value[ @ts]" lines. */
static int collect(const prom_sample *s, void *ud)
{
	buf *out = ud;
	buf_puts(out, s->name);
	buf_putc(out, '{');
	for (size_t i = 0; i < s->nlabels; i++)
		buf_printf(out, "%s%s=%s", i ? "," : "", s->label_names[i], s->label_values[i]);
	buf_printf(out, "} %g", s->value);
	if (s->has_timestamp)
		buf_printf(out, " @%" PRId64, s->timestamp_ms);
	buf_putc(out, '\n');
	return 0;
}

static void check(const char *text, const char *want)
{
	buf out;
	buf_init(&out);
	char err[128] = "";
	int rc = prom_text_parse(text, strlen(text), collect, &out, err, sizeof(err));
	if (rc != 0)
		fail_msg("parse failed: %s", err);
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void check_error(const char *text, const char *want)
{
	buf out;
	buf_init(&out);
	char err[128] = "";
	assert_int_equal(prom_text_parse(text, strlen(text), collect, &out, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	buf_release(&out);
}

static void test_samples(void **state)
{
	UNUSED(state);
	check("# HELP a_total A counter\n"
	      "# TYPE a_total counter\n"
	      "a_total 3\n"
	      "\n"
	      "b{x=\"1\"} 2.5\n"
	      "c_bucket{query=\"task_get\",le=\"+Inf\"} 17\n"
	      "  d:sub_total   42   1700000000000  \n"
	      "e{} -1e3\n",
	      "a_total{} 3\n"
	      "b{x=1} 2.5\n"
	      "c_bucket{query=task_get,le=+Inf} 17\n"
	      "d:sub_total{} 42 @1700000000000\n"
	      "e{} -1000\n");
	/* CRLF line ends, no final newline, blanks around label tokens, a
	 * trailing comma */
	check("f{ a = \"x\" , b=\"y\", } 1\r\ng 2", "f{a=x,b=y} 1\ng{} 2\n");
	check("", "");
	check("# only a comment", "");
}

static void test_escapes(void **state)
{
	UNUSED(state);
	check("m{q=\"a\\\"b\",r=\"c\\\\d\",s=\"e\\nf\",t=\"x,y}z{\"} 1\n",
	      "m{q=a\"b,r=c\\d,s=e\nf,t=x,y}z{} 1\n");
}

static double value_of(const char *text)
{
	buf out;
	buf_init(&out);
	double v = 0;
	char err[64];
	assert_int_equal(prom_text_parse(text, strlen(text), collect, &out, err, sizeof(err)), 0);
	v = strtod(strchr(out.data, '}') + 1, NULL);
	buf_release(&out);
	return v;
}

static void test_special_values(void **state)
{
	UNUSED(state);
	assert_true(isinf(value_of("a +Inf\n")) && value_of("a +Inf\n") > 0);
	assert_true(isinf(value_of("a -Inf\n")) && value_of("a -Inf\n") < 0);
	assert_true(isnan(value_of("a NaN\n")));
	assert_true(value_of("a 18446744073709551615\n") > 1.8e19);
}

typedef struct lookup {
	const char *want_name;
	double sum;
	int seen;
} lookup;

/* Sums db_query_duration_seconds_count by the query label, wherever the
 * label stands among others. */
static int sum_query(const prom_sample *s, void *ud)
{
	lookup *l = ud;
	if (strcmp(s->name, "db_query_duration_seconds_count") != 0)
		return 0;
	const char *q = prom_sample_label(s, "query");
	if (q && strcmp(q, l->want_name) == 0) {
		l->sum += s->value;
		l->seen++;
	}
	return 0;
}

static void test_label_lookup(void **state)
{
	UNUSED(state);
	const char *text = "db_query_duration_seconds_count{query=\"task_claim\"} 5\n"
	                   "db_query_duration_seconds_count{node=\"a\",query=\"task_claim\",backend=\"pg\"} 7\n"
	                   "db_query_duration_seconds_count{query=\"task_claim_x\"} 100\n"
	                   "db_query_duration_seconds_sum{query=\"task_claim\"} 0.5\n"
	                   "db_query_duration_seconds_count 1\n";
	lookup l = { .want_name = "task_claim" };
	char err[64];
	assert_int_equal(prom_text_parse(text, strlen(text), sum_query, &l, err, sizeof(err)), 0);
	assert_int_equal(l.seen, 2);
	assert_true(l.sum == 12);
}

static int stop_at_second(const prom_sample *s, void *ud)
{
	int *n = ud;
	UNUSED(s);
	return ++*n == 2 ? 7 : 0;
}

static void test_callback_stops(void **state)
{
	UNUSED(state);
	int n = 0;
	char err[64];
	assert_int_equal(prom_text_parse("a 1\nb 2\nc 3\n", 12, stop_at_second, &n, err, sizeof(err)), 7);
	assert_int_equal(n, 2);
	/* len bounds the text: the rest is not read */
	n = 0;
	assert_int_equal(prom_text_parse("a 1\nb 2\nbroken", 4, stop_at_second, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
}

static void test_errors(void **state)
{
	UNUSED(state);
	check_error("a 1\n{x=\"1\"} 2\n", "line 2: expected a metric name");
	check_error("a{x=1} 2\n", "line 1: expected '\"' before a label value");
	check_error("a{x=\"1} 2\n", "line 1: unterminated label value");
	check_error("a{x \"1\"} 2\n", "line 1: expected '=' after a label name");
	check_error("a{x=\"1\" y=\"2\"} 2\n", "line 1: expected ',' or '}' after a label");
	check_error("a{1x=\"1\"} 2\n", "line 1: expected a label name");
	check_error("a\n", "line 1: expected a sample value");
	check_error("a abc\n", "line 1: expected a sample value");
	check_error("a 1 2.5\n", "line 1: expected a timestamp after the value");
	check_error("a 1 2 3\n", "line 1: unexpected text after the sample");
}

/* What weft's own registry writes reads back, histograms included. */
static void test_reads_weft_metrics(void **state)
{
	UNUSED(state);
	static const double bounds[] = { 0.001, 0.01 };
	metrics_reset();
	metrics_define_histogram_labeled("db_query_duration_seconds", "Statements", bounds, 2);
	metrics_observe("db_query_duration_seconds", "query=\"task_get\"", 0.002);
	metrics_observe("db_query_duration_seconds", "query=\"task_get\"", 0.0001);
	metrics_observe("db_query_duration_seconds", "query=\"we\\\"ird\"", 1);
	buf text;
	buf_init(&text);
	metrics_render(&text);
	lookup l = { .want_name = "task_get" };
	char err[64];
	assert_int_equal(prom_text_parse(text.data, text.len, sum_query, &l, err, sizeof(err)), 0);
	assert_true(l.sum == 2);
	lookup w = { .want_name = "we\"ird" };
	assert_int_equal(prom_text_parse(text.data, text.len, sum_query, &w, err, sizeof(err)), 0);
	assert_true(w.sum == 1);
	buf_release(&text);
	metrics_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_label_lookup),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reads_weft_metrics),
	};
	return cmocka_run_group_tests_name("prom_text", tests, NULL, NULL);
}
