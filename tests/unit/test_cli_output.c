/*
 * test_cli_output.c — the client commands' output kit: relative times at
 * their unit boundaries, RFC 3339 parsing with offsets and fractions, and
 * widths and cuts in terminal cells for UTF-8 text.
 */
#include "util/common.h"
#include "cli/output.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define T0 "2026-12-05T10:00:00.000Z"
static const int64_t t0_ms = INT64_C(1796464800000);   /* T0 */

static void rel(int64_t offset_ms, const char *want)
{
	char out[32];
	out_reltime_at(T0, t0_ms + offset_ms, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_relative_times(void **state)
{
	UNUSED(state);
	rel(0, "0s ago");
	rel(3000, "3s ago");
	rel(119999, "119s ago");
	rel(120000, "2m ago");
	rel(2 * 3600 * 1000 - 1, "119m ago");
	rel(2 * 3600 * 1000, "2h ago");
	rel(4 * 86400 * 1000, "4d ago");
	rel(-5 * 60 * 1000, "in 5m");
	rel(-1500, "in 1s");
	char out[32];
	out_reltime(NULL, out, sizeof(out));
	assert_string_equal(out, "-");
	out_reltime_at("not a time", t0_ms, out, sizeof(out));
	assert_string_equal(out, "not a time");
}

static void test_parse_time(void **state)
{
	UNUSED(state);
	int64_t ms;
	assert_int_equal(out_parse_time(T0, &ms), 0);
	assert_int_equal(ms, t0_ms);
	assert_int_equal(out_parse_time("2026-12-05T10:00:00.5Z", &ms), 0);
	assert_int_equal(ms, t0_ms + 500);
	assert_int_equal(out_parse_time("2026-12-05T12:00:00+02:00", &ms), 0);
	assert_int_equal(ms, t0_ms);
	assert_int_equal(out_parse_time("2026-12-05T10:00:00", &ms), -1);   /* no zone */
	assert_int_equal(out_parse_time("2026-12-05", &ms), -1);
}

static void test_widths_and_cuts(void **state)
{
	UNUSED(state);
	assert_int_equal(out_width("abc"), 3);
	assert_int_equal(out_width("Z\xc3\xbcrich"), 6);                    /* Zürich */
	assert_int_equal(out_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);         /* 日本: two wide cells */
	char *c = out_cut("abcdefgh", 5);
	assert_string_equal(c, "abcd\xe2\x80\xa6");
	free(c);
	c = out_cut("abc", 5);
	assert_string_equal(c, "abc");
	free(c);
	/* a wide character is never split, nor a multi-byte one */
	c = out_cut("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4);   /* 日本語 in 4 cells: 日 + … */
	assert_string_equal(c, "\xe6\x97\xa5\xe2\x80\xa6");
	free(c);
	c = out_cut("\xc3\xbc\xc3\xbc\xc3\xbc", 2);                 /* üüü in 2: ü… */
	assert_string_equal(c, "\xc3\xbc\xe2\x80\xa6");
	free(c);
}

static void test_status_colors(void **state)
{
	UNUSED(state);
	assert_string_equal(out_status_color("success"), OUT_GREEN);
	assert_string_equal(out_status_color("failure"), OUT_RED);
	assert_string_equal(out_status_color("running"), OUT_CYAN);
	assert_string_equal(out_status_color("claimed"), OUT_CYAN);
	assert_string_equal(out_status_color("pending"), OUT_DIM);
	assert_string_equal(out_status_color("waiting"), OUT_DIM);
	assert_string_equal(out_status_color("paused"), OUT_YELLOW);
	assert_string_equal(out_status_color("retrying"), OUT_YELLOW);
	assert_string_equal(out_status_color("canceled"), OUT_MAGENTA);
	assert_null(out_status_color("something"));
	assert_null(out_status_color(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_times),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_widths_and_cuts),
		cmocka_unit_test(test_status_colors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
