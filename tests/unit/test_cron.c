/*
 * test_cron.c — cron expressions (src/core/cron.c): every syntax feature
 * and every parse error, next fire times across month ends, leap years,
 * day-of-month/day-of-week OR semantics, six-field seconds, the search
 * bound, and the DST rules of cron.h in Berlin, New York, Lord Howe (a
 * 30-minute change) and Kolkata (none), also past the zone tables.
 *
 * Expected instants in DST zones were computed with Python's zoneinfo and
 * are written here as UTC civil times.
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/cron.h"
#include "core/error.h"
#include "core/tz.h"

#define US 1000000LL

/* UTC microseconds of a UTC civil time (tz_days_from_civil is checked
 * against Python in test_tz.c). */
static int64_t T(int64_t y, int mo, int d, int h, int mi, int s)
{
	return (tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * US;
}

static cron_expr parse_ok(const char *text)
{
	cron_expr e;
	char err[CRON_ERR_LEN] = "";
	int rc = cron_parse(text, strlen(text), &e, err, sizeof(err));
	if (rc != 0)
		fail_msg("cron_parse(\"%s\"): %s", text, err);
	return e;
}

static void expect_error(const char *text, int code, const char *message)
{
	cron_expr e;
	char err[CRON_ERR_LEN] = "";
	assert_int_equal(cron_parse(text, strlen(text), &e, err, sizeof(err)), code);
	assert_string_equal(err, message);
}

static const tz_zone *zone(const char *name)
{
	const tz_zone *z = NULL;
	assert_int_equal(tz_load(name, &z, NULL, 0), 0);
	return z;
}

/* The fire times of `text` in zone `name` after `after` match want[]. */
static void expect_next(const char *text, const char *name, int64_t after, const int64_t *want, size_t n)
{
	cron_expr e = parse_ok(text);
	const tz_zone *z = zone(name);
	int64_t got[16];
	assert_true(n <= ARRAY_LEN(got));
	assert_int_equal(cron_next_n(&e, z, after, n, got), (int)n);
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i])
			fail_msg("\"%s\" in %s, fire %zu: got %" PRId64 ", want %" PRId64 " (off by %" PRId64 " s)", text,
			         name, i, got[i], want[i], (got[i] - want[i]) / US);
	}
}

#define EXPECT_NEXT(text, zone_name, after, ...)                                                            \
	do {                                                                                                 \
		const int64_t want_[] = { __VA_ARGS__ };                                                     \
		expect_next(text, zone_name, after, want_, ARRAY_LEN(want_));                                \
	} while (0)

static uint64_t bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	for (int v = lo; v <= hi; v += step)
		b |= UINT64_C(1) << v;
	return b;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_fields(void **state)
{
	UNUSED(state);
	cron_expr e = parse_ok("*/5 * * * *");
	assert_int_equal(e.seconds, 1);
	assert_int_equal(e.minutes, bits(0, 55, 5));
	assert_int_equal(e.hours, bits(0, 23, 1));
	assert_int_equal(e.days, bits(1, 31, 1));
	assert_int_equal(e.months, bits(1, 12, 1));
	assert_int_equal(e.weekdays, 0x7f);
	assert_int_equal(e.flags, CRON_DOM_STAR | CRON_DOW_STAR | CRON_INTERVAL);

	e = parse_ok("1-30/2 9-17 1,15,31 * MON-FRI");
	assert_int_equal(e.minutes, bits(1, 29, 2));
	assert_int_equal(e.hours, bits(9, 17, 1));
	assert_int_equal(e.days, (1u << 1) | (1u << 15) | (1u << 31));
	assert_int_equal(e.weekdays, bits(1, 5, 1));
	assert_int_equal(e.flags, CRON_INTERVAL);   /* a step in the minute field */

	e = parse_ok("0,15,45 0 * jan,Mar,DEC sun");
	assert_int_equal(e.minutes, (1u << 0) | (1u << 15) | (UINT64_C(1) << 45));
	assert_int_equal(e.months, (1u << 1) | (1u << 3) | (1u << 12));
	assert_int_equal(e.weekdays, 1);
	assert_int_equal(e.flags, CRON_DOM_STAR);

	/* 0 and 7 are Sunday; N/STEP runs to the end of the field. */
	assert_int_equal(parse_ok("0 0 * * 7").weekdays, 1);
	assert_int_equal(parse_ok("0 0 * * 5-7").weekdays, (1u << 0) | (1u << 5) | (1u << 6));
	assert_int_equal(parse_ok("0 0 * * 0,7").weekdays, 1);
	assert_int_equal(parse_ok("0 0 * * */2").weekdays, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6));
	assert_int_equal(parse_ok("0 0 * * 1/2").weekdays, (1u << 1) | (1u << 3) | (1u << 5));
	assert_int_equal(parse_ok("5/15 * * * *").minutes, bits(5, 50, 15));
	assert_int_equal(parse_ok("0 0 1 feb-apr/2 *").months, (1u << 2) | (1u << 4));

	/* Six fields: seconds first. */
	e = parse_ok("*/10 30 2 * * *");
	assert_int_equal(e.seconds, bits(0, 50, 10));
	assert_int_equal(e.minutes, UINT64_C(1) << 30);
	assert_int_equal(e.hours, 1u << 2);
	assert_true(e.flags & CRON_SECONDS);
	assert_true(e.flags & CRON_INTERVAL);

	/* Fixed-time: no '*' and no step in second, minute or hour. */
	assert_false(parse_ok("30 2 * * *").flags & CRON_INTERVAL);
	assert_false(parse_ok("0 30 2 * * *").flags & CRON_INTERVAL);
	assert_false(parse_ok("0,30 2 * * *").flags & CRON_INTERVAL);
	assert_true(parse_ok("0 * * * *").flags & CRON_INTERVAL);
	assert_true(parse_ok("0-59/20 2 * * *").flags & CRON_INTERVAL);

	/* Blanks: tabs and runs of spaces. */
	e = parse_ok("  0\t12   * *\tWed ");
	assert_int_equal(e.hours, 1u << 12);
	assert_int_equal(e.weekdays, 1u << 3);
}

static void test_parse_macros(void **state)
{
	UNUSED(state);
	static const char *const pairs[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
		{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" }, { " @HOURLY ", "0 * * * *" }, { "@Daily", "0 0 * * *" },
	};
	for (size_t i = 0; i < ARRAY_LEN(pairs); i++) {
		cron_expr a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void test_parse_errors(void **state)
{
	UNUSED(state);
	expect_error("0 0 32 * *", WEFT_EINVALID, "field 3 (day of month): 32 is out of 1-31");
	expect_error("0 0 0 * *", WEFT_EINVALID, "field 3 (day of month): 0 is out of 1-31");
	expect_error("60 * * * *", WEFT_EINVALID, "field 1 (minute): 60 is out of 0-59");
	expect_error("0 24 * * *", WEFT_EINVALID, "field 2 (hour): 24 is out of 0-23");
	expect_error("0 0 * 13 *", WEFT_EINVALID, "field 4 (month): 13 is out of 1-12");
	expect_error("0 0 * * 8", WEFT_EINVALID, "field 5 (day of week): 8 is out of 0-7");
	expect_error("60 * * * * *", WEFT_EINVALID, "field 1 (second): 60 is out of 0-59");
	expect_error("0 0 0 32 * *", WEFT_EINVALID, "field 4 (day of month): 32 is out of 1-31");
	expect_error("0 0 * FOO *", WEFT_EINVALID, "field 4 (month): unknown name \"FOO\"");
	expect_error("0 0 * * MONDAY", WEFT_EINVALID, "field 5 (day of week): unknown name \"MONDAY\"");
	expect_error("MON * * * *", WEFT_EINVALID, "field 1 (minute): names are not allowed here (\"MON\")");
	expect_error("5-3 * * * *", WEFT_EINVALID, "field 1 (minute): range 5-3 goes backwards");
	expect_error("0 0 * * FRI-SUN", WEFT_EINVALID, "field 5 (day of week): range 5-0 goes backwards");
	expect_error("*/0 * * * *", WEFT_EINVALID, "field 1 (minute): step 0 is out of 1-60");
	expect_error("*/61 * * * *", WEFT_EINVALID, "field 1 (minute): step 61 is out of 1-60");
	expect_error("0 */25 * * *", WEFT_EINVALID, "field 2 (hour): step 25 is out of 1-24");
	expect_error("*/9999999 * * * *", WEFT_EINVALID, "field 1 (minute): step 999999 is out of 1-60");
	expect_error("*/ * * * *", WEFT_EINVALID, "field 1 (minute): expected a step after \"/\"");
	expect_error("1,,2 * * * *", WEFT_EINVALID, "field 1 (minute): empty list item");
	expect_error("1, * * * *", WEFT_EINVALID, "field 1 (minute): empty list item");
	expect_error("1x * * * *", WEFT_EINVALID, "field 1 (minute): unexpected \"x\" in \"1x\"");
	expect_error("1-2-3 * * * *", WEFT_EINVALID, "field 1 (minute): unexpected \"-\" in \"1-2-3\"");
	expect_error("** * * * *", WEFT_EINVALID, "field 1 (minute): unexpected \"*\" in \"**\"");
	expect_error("1- * * * *", WEFT_EINVALID, "field 1 (minute): expected a number");
	expect_error("-5 * * * *", WEFT_EINVALID, "field 1 (minute): expected a number, found \"-\"");
	expect_error("0 0 * ? *", WEFT_EINVALID, "field 4 (month): expected a number or a name, found \"?\"");
	expect_error("1234567 * * * *", WEFT_EINVALID, "field 1 (minute): number \"123456...\" is too long");
	expect_error("* * * *", WEFT_EINVALID, "expected 5 or 6 fields, got 4");
	expect_error("* * * * * * *", WEFT_EINVALID, "expected 5 or 6 fields, got 7");
	expect_error("* * * * * * * * *", WEFT_EINVALID, "expected 5 or 6 fields, got more than 7");
	expect_error("", WEFT_EINVALID, "empty expression");
	expect_error(" \t ", WEFT_EINVALID, "empty expression");
	expect_error("@reboot", WEFT_EINVALID, "unknown macro \"@reboot\"");
	expect_error("@daily 1", WEFT_EINVALID, "expected 5 or 6 fields, got 2");
	expect_error("@ * * * *", WEFT_EINVALID, "field 1 (minute): expected a number, found \"@\"");
	expect_error("0 0 * * *\n", WEFT_EINVALID, "unexpected byte 0x0a at offset 9");

	char long_text[CRON_TEXT_MAX + 2];
	memset(long_text, ' ', sizeof(long_text));
	memcpy(long_text, "* * * * *", 9);
	cron_expr e;
	char err[CRON_ERR_LEN];
	assert_int_equal(cron_parse(long_text, CRON_TEXT_MAX, &e, err, sizeof(err)), 0);
	assert_int_equal(cron_parse(long_text, CRON_TEXT_MAX + 1, &e, err, sizeof(err)), WEFT_ETOOLARGE);
	assert_string_equal(err, "expression is longer than 256 bytes");
	/* A NUL inside the given length is an error, not the end. */
	assert_int_equal(cron_parse("* * * * *\0 *", 11, &e, err, sizeof(err)), WEFT_EINVALID);
	assert_string_equal(err, "unexpected byte 0x00 at offset 9");
	/* No error buffer, or a tiny one, is fine. */
	assert_int_equal(cron_parse("61 * * * *", 10, &e, NULL, 0), WEFT_EINVALID);
	char tiny[8];
	assert_int_equal(cron_parse("61 * * * *", 10, &e, tiny, sizeof(tiny)), WEFT_EINVALID);
	assert_string_equal(tiny, "field 1");
}

/* ---- next fire times in UTC --------------------------------------------- */

static void test_next_basics(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("*/15 * * * *", "UTC", T(2026, 1, 1, 0, 7, 0), T(2026, 1, 1, 0, 15, 0), T(2026, 1, 1, 0, 30, 0),
	            T(2026, 1, 1, 0, 45, 0), T(2026, 1, 1, 1, 0, 0));
	/* Strictly after, down to the microsecond. */
	EXPECT_NEXT("0 12 * * *", "UTC", T(2026, 1, 1, 12, 0, 0), T(2026, 1, 2, 12, 0, 0));
	EXPECT_NEXT("0 12 * * *", "UTC", T(2026, 1, 1, 12, 0, 0) - 1, T(2026, 1, 1, 12, 0, 0));
	EXPECT_NEXT("0 12 * * *", "UTC", T(2026, 1, 1, 11, 59, 59) + 999999, T(2026, 1, 1, 12, 0, 0));
	/* Month and year ends. */
	EXPECT_NEXT("0 0 1 * *", "UTC", T(2026, 1, 31, 12, 0, 0), T(2026, 2, 1, 0, 0, 0), T(2026, 3, 1, 0, 0, 0));
	EXPECT_NEXT("0 0 31 * *", "UTC", T(2026, 1, 31, 0, 0, 0), T(2026, 3, 31, 0, 0, 0), T(2026, 5, 31, 0, 0, 0),
	            T(2026, 7, 31, 0, 0, 0), T(2026, 8, 31, 0, 0, 0));
	EXPECT_NEXT("59 23 31 12 *", "UTC", T(2026, 6, 1, 0, 0, 0), T(2026, 12, 31, 23, 59, 0),
	            T(2027, 12, 31, 23, 59, 0));
	EXPECT_NEXT("@yearly", "UTC", T(2026, 12, 31, 23, 59, 59), T(2027, 1, 1, 0, 0, 0));
	EXPECT_NEXT("@weekly", "UTC", T(2026, 1, 1, 0, 0, 0), T(2026, 1, 4, 0, 0, 0), T(2026, 1, 11, 0, 0, 0));
	/* Before 1970. */
	EXPECT_NEXT("0 0 1 1 *", "UTC", T(1969, 6, 1, 0, 0, 0), 0);
	EXPECT_NEXT("0 0 29 2 *", "UTC", T(1960, 3, 1, 0, 0, 0), T(1964, 2, 29, 0, 0, 0));
}

static void test_next_leap_years(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("0 0 29 2 *", "UTC", T(2026, 1, 1, 0, 0, 0), T(2028, 2, 29, 0, 0, 0), T(2032, 2, 29, 0, 0, 0),
	            T(2036, 2, 29, 0, 0, 0));
	/* 2100 is not a leap year: eight years from 2096 to 2104. 2000 is. */
	EXPECT_NEXT("0 0 29 2 *", "UTC", T(2096, 3, 1, 0, 0, 0), T(2104, 2, 29, 0, 0, 0));
	EXPECT_NEXT("0 0 29 2 *", "UTC", T(1999, 1, 1, 0, 0, 0), T(2000, 2, 29, 0, 0, 0));
}

static void test_next_day_semantics(void **state)
{
	UNUSED(state);
	/* Both restricted: the 13th OR a Friday. */
	EXPECT_NEXT("0 0 13 * FRI", "UTC", T(2026, 1, 1, 0, 0, 0), T(2026, 1, 2, 0, 0, 0), T(2026, 1, 9, 0, 0, 0),
	            T(2026, 1, 13, 0, 0, 0), T(2026, 1, 16, 0, 0, 0));
	/* Day of month starts with '*': both must match (odd days that are Fridays). */
	EXPECT_NEXT("0 0 */2 * FRI", "UTC", T(2026, 1, 1, 0, 0, 0), T(2026, 1, 9, 0, 0, 0), T(2026, 1, 23, 0, 0, 0));
	/* Only the weekday restricted. */
	EXPECT_NEXT("0 0 * * 7", "UTC", T(2026, 2, 28, 0, 0, 0), T(2026, 3, 1, 0, 0, 0), T(2026, 3, 8, 0, 0, 0));
	EXPECT_NEXT("30 8 * * MON-FRI", "UTC", T(2026, 1, 2, 9, 0, 0), T(2026, 1, 5, 8, 30, 0),
	            T(2026, 1, 6, 8, 30, 0));
}

static void test_next_seconds(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("*/20 * * * * *", "UTC", T(2026, 1, 1, 12, 0, 0) + 500000, T(2026, 1, 1, 12, 0, 20),
	            T(2026, 1, 1, 12, 0, 40), T(2026, 1, 1, 12, 1, 0));
	EXPECT_NEXT("30 0 0 * * *", "UTC", T(2026, 1, 1, 0, 0, 30), T(2026, 1, 2, 0, 0, 30));
	EXPECT_NEXT("* * * * * *", "UTC", T(2026, 12, 31, 23, 59, 58), T(2026, 12, 31, 23, 59, 59),
	            T(2027, 1, 1, 0, 0, 0));
	/* Five fields fire on second 0. */
	EXPECT_NEXT("* * * * *", "UTC", T(2026, 1, 1, 0, 0, 1), T(2026, 1, 1, 0, 1, 0));
}

static void test_next_bounds(void **state)
{
	UNUSED(state);
	int64_t next = -1;
	cron_expr e = parse_ok("0 0 30 2 *");
	assert_int_equal(cron_next(&e, tz_utc(), T(2026, 1, 1, 0, 0, 0), &next), WEFT_ENOTFOUND);
	e = parse_ok("0 0 31 4,6,9,11 *");
	assert_int_equal(cron_next(&e, zone("Europe/Berlin"), T(2026, 1, 1, 0, 0, 0), &next), WEFT_ENOTFOUND);
	assert_int_equal(next, -1);
	/* Years 1-9999 only. */
	e = parse_ok("0 0 1 1 *");
	assert_int_equal(cron_next(&e, tz_utc(), T(10000, 1, 1, 0, 0, 0), &next), WEFT_EINVALID);
	assert_int_equal(cron_next(&e, tz_utc(), INT64_MIN, &next), WEFT_EINVALID);
	assert_int_equal(cron_next(&e, tz_utc(), INT64_MAX, &next), WEFT_EINVALID);
	/* An expression not made by cron_parse. */
	cron_expr zero;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(cron_next(&zero, tz_utc(), 0, &next), WEFT_EINVALID);

	/* cron_next_n: at most CRON_NEXT_N_MAX, ascending, and short at the end of time. */
	static int64_t many[CRON_NEXT_N_MAX + 1];
	e = parse_ok("0 0 * * *");
	assert_int_equal(cron_next_n(&e, tz_utc(), 0, CRON_NEXT_N_MAX + 1, many), WEFT_ETOOLARGE);
	assert_int_equal(cron_next_n(&e, zone("Europe/Berlin"), 0, CRON_NEXT_N_MAX, many), CRON_NEXT_N_MAX);
	for (size_t i = 1; i < CRON_NEXT_N_MAX; i++)
		assert_true(many[i] > many[i - 1]);
	e = parse_ok("@yearly");
	assert_int_equal(cron_next_n(&e, tz_utc(), T(9997, 6, 1, 0, 0, 0), 5, many), 2);
	assert_int_equal(many[1], T(9999, 1, 1, 0, 0, 0));
	e = parse_ok("0 0 30 2 *");
	assert_int_equal(cron_next_n(&e, tz_utc(), 0, 3, many), 0);
}

/* ---- DST ---------------------------------------------------------------- */

/* Europe/Berlin, 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00 UTC. */
static void test_dst_berlin_spring(void **state)
{
	UNUSED(state);
	/* A skipped fixed time fires once, when the gap ends, then as usual. */
	EXPECT_NEXT("30 2 * * *", "Europe/Berlin", T(2026, 3, 28, 12, 0, 0), T(2026, 3, 29, 1, 0, 0),
	            T(2026, 3, 30, 0, 30, 0));
	EXPECT_NEXT("0 2 * * *", "Europe/Berlin", T(2026, 3, 28, 12, 0, 0), T(2026, 3, 29, 1, 0, 0));
	EXPECT_NEXT("30 3 * * *", "Europe/Berlin", T(2026, 3, 28, 12, 0, 0), T(2026, 3, 29, 1, 30, 0),
	            T(2026, 3, 30, 1, 30, 0));
	/* Intervals collapse the gap into one firing and keep their pace. */
	EXPECT_NEXT("*/15 * * * *", "Europe/Berlin", T(2026, 3, 29, 0, 40, 0), T(2026, 3, 29, 0, 45, 0),
	            T(2026, 3, 29, 1, 0, 0), T(2026, 3, 29, 1, 15, 0), T(2026, 3, 29, 1, 30, 0));
	EXPECT_NEXT("@hourly", "Europe/Berlin", T(2026, 3, 28, 23, 30, 0), T(2026, 3, 29, 0, 0, 0),
	            T(2026, 3, 29, 1, 0, 0), T(2026, 3, 29, 2, 0, 0));
	/* Several skipped times: one firing. */
	EXPECT_NEXT("0,20,40 2 * * *", "Europe/Berlin", T(2026, 3, 29, 0, 0, 0), T(2026, 3, 29, 1, 0, 0),
	            T(2026, 3, 30, 0, 0, 0));
}

/* Europe/Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00 UTC. */
static void test_dst_berlin_autumn(void **state)
{
	UNUSED(state);
	/* A repeated fixed time fires once, at its first occurrence. */
	EXPECT_NEXT("30 2 * * *", "Europe/Berlin", T(2026, 10, 24, 12, 0, 0), T(2026, 10, 25, 0, 30, 0),
	            T(2026, 10, 26, 1, 30, 0));
	EXPECT_NEXT("0,30 2 * * *", "Europe/Berlin", T(2026, 10, 24, 12, 0, 0), T(2026, 10, 25, 0, 0, 0),
	            T(2026, 10, 25, 0, 30, 0), T(2026, 10, 26, 1, 0, 0));
	EXPECT_NEXT("0 30 2 * * *", "Europe/Berlin", T(2026, 10, 24, 12, 0, 0), T(2026, 10, 25, 0, 30, 0),
	            T(2026, 10, 26, 1, 30, 0));
	/* Starting in the second pass, a fixed time waits for the next day. */
	EXPECT_NEXT("45 2 * * *", "Europe/Berlin", T(2026, 10, 25, 1, 1, 0), T(2026, 10, 26, 1, 45, 0));
	/* Intervals fire in both passes. */
	EXPECT_NEXT("*/30 * * * *", "Europe/Berlin", T(2026, 10, 24, 23, 50, 0), T(2026, 10, 25, 0, 0, 0),
	            T(2026, 10, 25, 0, 30, 0), T(2026, 10, 25, 1, 0, 0), T(2026, 10, 25, 1, 30, 0),
	            T(2026, 10, 25, 2, 0, 0));
	EXPECT_NEXT("0 * * * *", "Europe/Berlin", T(2026, 10, 24, 22, 30, 0), T(2026, 10, 24, 23, 0, 0),
	            T(2026, 10, 25, 0, 0, 0), T(2026, 10, 25, 1, 0, 0), T(2026, 10, 25, 2, 0, 0));
	EXPECT_NEXT("*/30 * * * *", "Europe/Berlin", T(2026, 10, 25, 1, 1, 0), T(2026, 10, 25, 1, 30, 0));
	EXPECT_NEXT("0 */20 2 * * *", "Europe/Berlin", T(2026, 10, 25, 0, 50, 0), T(2026, 10, 25, 1, 0, 0),
	            T(2026, 10, 25, 1, 20, 0), T(2026, 10, 25, 1, 40, 0), T(2026, 10, 26, 1, 0, 0));
}

/* America/New_York 2026: 03-08 07:00 UTC (02:00 -> 03:00), 11-01 06:00
 * UTC (02:00 EDT -> 01:00 EST). */
static void test_dst_new_york(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("30 2 * * *", "America/New_York", T(2026, 3, 7, 12, 0, 0), T(2026, 3, 8, 7, 0, 0),
	            T(2026, 3, 9, 6, 30, 0));
	EXPECT_NEXT("0 3 * * *", "America/New_York", T(2026, 3, 7, 12, 0, 0), T(2026, 3, 8, 7, 0, 0));
	EXPECT_NEXT("0 1 * * *", "America/New_York", T(2026, 10, 31, 12, 0, 0), T(2026, 11, 1, 5, 0, 0),
	            T(2026, 11, 2, 6, 0, 0));
	EXPECT_NEXT("*/20 1 * * *", "America/New_York", T(2026, 11, 1, 4, 50, 0), T(2026, 11, 1, 5, 0, 0),
	            T(2026, 11, 1, 5, 20, 0), T(2026, 11, 1, 5, 40, 0), T(2026, 11, 1, 6, 0, 0),
	            T(2026, 11, 1, 6, 20, 0), T(2026, 11, 1, 6, 40, 0), T(2026, 11, 2, 6, 0, 0));
}

/* Australia/Lord_Howe 2026, 30-minute changes: 04-04 15:00 UTC (02:00
 * +11 -> 01:30 +10:30) and 10-03 15:30 UTC (02:00 -> 02:30). */
static void test_dst_lord_howe(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("45 1 * * *", "Australia/Lord_Howe", T(2026, 4, 4, 0, 0, 0), T(2026, 4, 4, 14, 45, 0),
	            T(2026, 4, 5, 15, 15, 0));
	EXPECT_NEXT("*/15 * * * *", "Australia/Lord_Howe", T(2026, 4, 4, 14, 20, 0), T(2026, 4, 4, 14, 30, 0),
	            T(2026, 4, 4, 14, 45, 0), T(2026, 4, 4, 15, 0, 0), T(2026, 4, 4, 15, 15, 0),
	            T(2026, 4, 4, 15, 30, 0));
	EXPECT_NEXT("15 2 * * *", "Australia/Lord_Howe", T(2026, 10, 3, 0, 0, 0), T(2026, 10, 3, 15, 30, 0),
	            T(2026, 10, 4, 15, 15, 0));
	EXPECT_NEXT("*/15 * * * *", "Australia/Lord_Howe", T(2026, 10, 3, 15, 10, 0), T(2026, 10, 3, 15, 15, 0),
	            T(2026, 10, 3, 15, 30, 0), T(2026, 10, 3, 15, 45, 0));
}

static void test_no_dst_and_far_future(void **state)
{
	UNUSED(state);
	EXPECT_NEXT("30 2 * * *", "Asia/Kolkata", T(2026, 3, 28, 12, 0, 0), T(2026, 3, 28, 21, 0, 0),
	            T(2026, 3, 29, 21, 0, 0));
	EXPECT_NEXT("0 9 * * *", "Etc/GMT+5", T(2026, 1, 1, 0, 0, 0), T(2026, 1, 1, 14, 0, 0));
	/* Past the tables, from the footer rule: Berlin 2100-03-28 01:00 UTC. */
	EXPECT_NEXT("30 2 * * *", "Europe/Berlin", T(2100, 3, 27, 12, 0, 0), T(2100, 3, 28, 1, 0, 0),
	            T(2100, 3, 29, 0, 30, 0));
	EXPECT_NEXT("0 0 29 2 *", "Europe/Berlin", T(2096, 3, 1, 0, 0, 0), T(2104, 2, 28, 23, 0, 0));
	/* Samoa skipped all of 2011-12-30 (-10 -> +14 at 10:00 UTC): that
	 * day's 09:00 fires when the gap ends, at 00:00 on the 31st. */
	EXPECT_NEXT("0 9 * * *", "Pacific/Apia", T(2011, 12, 29, 20, 0, 0), T(2011, 12, 30, 10, 0, 0),
	            T(2011, 12, 30, 19, 0, 0));
}

static void test_matches(void **state)
{
	UNUSED(state);
	cron_expr e = parse_ok("30 2 13 * FRI");
	int64_t day = tz_days_from_civil(2026, 1, 13) * 86400;  /* a Tuesday */
	assert_true(cron_matches(&e, day + 2 * 3600 + 30 * 60));
	assert_false(cron_matches(&e, day + 2 * 3600 + 30 * 60 + 1));
	assert_false(cron_matches(&e, day + 3 * 3600 + 30 * 60));
	assert_false(cron_matches(&e, day + 86400 + 2 * 3600 + 30 * 60));     /* Wednesday the 14th */
	assert_true(cron_matches(&e, day + 3 * 86400 + 2 * 3600 + 30 * 60));  /* Friday the 16th */
	assert_true(cron_matches(&e, -86400 + 2 * 3600 + 30 * 60) == false);   /* 1969-12-31, a Wednesday */
	e = parse_ok("0 0 * * WED");
	assert_true(cron_matches(&e, -86400));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fields),      cmocka_unit_test(test_parse_macros),
		cmocka_unit_test(test_parse_errors),      cmocka_unit_test(test_next_basics),
		cmocka_unit_test(test_next_leap_years),   cmocka_unit_test(test_next_day_semantics),
		cmocka_unit_test(test_next_seconds),      cmocka_unit_test(test_next_bounds),
		cmocka_unit_test(test_dst_berlin_spring), cmocka_unit_test(test_dst_berlin_autumn),
		cmocka_unit_test(test_dst_new_york),      cmocka_unit_test(test_dst_lord_howe),
		cmocka_unit_test(test_no_dst_and_far_future), cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
