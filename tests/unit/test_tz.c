/*
 * test_tz.c — time zones (src/core/tz.c): names, loading and the cache,
 * offsets from the TZif tables and from the footer rule past them, and
 * wall/UTC conversion at the exact edges of DST gaps and overlaps.
 *
 * The expected instants were computed with Python's zoneinfo and are
 * hard-coded here.
 */
#include "util/common.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/tz.h"

static const tz_zone *zone(const char *name)
{
	const tz_zone *z = NULL;
	char err[TZ_ERR_LEN] = "";
	int rc = tz_load(name, &z, err, sizeof(err));
	if (rc != 0)
		fail_msg("tz_load(%s): %s", name, err);
	return z;
}

/* Wall seconds of a local civil time. */
static int64_t wall_of(int64_t y, int mo, int d, int h, int mi, int s)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static void expect_unique(const tz_zone *z, int64_t wall, int64_t utc)
{
	tz_wall_mapping m;
	tz_wall_to_utc(z, wall, &m);
	assert_int_equal(m.kind, TZ_WALL_UNIQUE);
	assert_int_equal(m.first, utc);
	assert_int_equal(m.second, utc);
	assert_int_equal(tz_utc_to_wall(z, utc), wall);
}

static void expect_gap(const tz_zone *z, int64_t wall, int64_t gap_end)
{
	tz_wall_mapping m;
	tz_wall_to_utc(z, wall, &m);
	assert_int_equal(m.kind, TZ_WALL_GAP);
	assert_int_equal(m.first, gap_end);
	assert_int_equal(m.second, gap_end);
}

static void expect_overlap(const tz_zone *z, int64_t wall, int64_t first, int64_t second)
{
	tz_wall_mapping m;
	tz_wall_to_utc(z, wall, &m);
	assert_int_equal(m.kind, TZ_WALL_OVERLAP);
	assert_int_equal(m.first, first);
	assert_int_equal(m.second, second);
	assert_int_equal(tz_utc_to_wall(z, first), wall);
	assert_int_equal(tz_utc_to_wall(z, second), wall);
}

static void test_civil(void **state)
{
	UNUSED(state);
	static const struct {
		int64_t y;
		int m, d;
		int64_t days;
	} cases[] = {
		{ 1970, 1, 1, 0 },        { 2000, 2, 29, 11016 }, { 2100, 3, 1, 47541 },
		{ 1900, 1, 1, -25567 },   { 1, 1, 1, -719162 },   { 9999, 12, 31, 2932896 },
		{ 2024, 2, 29, 19782 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(tz_days_from_civil(cases[i].y, cases[i].m, cases[i].d), cases[i].days);
		int64_t y;
		int m, d;
		tz_civil_from_days(cases[i].days, &y, &m, &d);
		assert_int_equal(y, cases[i].y);
		assert_int_equal(m, cases[i].m);
		assert_int_equal(d, cases[i].d);
	}
}

static void test_names(void **state)
{
	UNUSED(state);
	assert_true(tz_name_valid("Europe/Berlin"));
	assert_true(tz_name_valid("Etc/GMT+5"));
	assert_true(tz_name_valid("America/Argentina/Buenos_Aires"));
	assert_true(tz_name_valid("Etc/GMT-14"));
	assert_false(tz_name_valid(""));
	assert_false(tz_name_valid("../etc/passwd"));
	assert_false(tz_name_valid("Europe/../../etc/passwd"));
	assert_false(tz_name_valid("/etc/passwd"));
	assert_false(tz_name_valid("Europe//Berlin"));
	assert_false(tz_name_valid("Europe/"));
	assert_false(tz_name_valid("Europe/Ber lin"));
	assert_false(tz_name_valid("zone.tab"));
	assert_false(tz_name_valid("Europe\\Berlin"));
	char longname[TZ_NAME_MAX + 2];
	memset(longname, 'A', sizeof(longname) - 1);
	longname[TZ_NAME_MAX + 1] = '\0';
	assert_false(tz_name_valid(longname));
	longname[TZ_NAME_MAX] = '\0';
	assert_true(tz_name_valid(longname));
}

static void test_load_errors(void **state)
{
	UNUSED(state);
	const tz_zone *z = NULL;
	char err[TZ_ERR_LEN];
	assert_int_equal(tz_load("../../etc/passwd", &z, err, sizeof(err)), WEFT_EINVALID);
	assert_string_equal(err, "invalid time zone name \"../../etc/passwd\"");
	assert_int_equal(tz_load("/etc/passwd", &z, err, sizeof(err)), WEFT_EINVALID);
	assert_int_equal(tz_load("Mars/Olympus_Mons", &z, err, sizeof(err)), WEFT_ENOTFOUND);
	assert_string_equal(err, "unknown time zone \"Mars/Olympus_Mons\"");
	/* A directory is no zone. */
	assert_int_equal(tz_load("Europe", &z, err, sizeof(err)), WEFT_ENOTFOUND);
	/* A text file is no TZif file. */
	assert_int_equal(tz_load("leapseconds", &z, err, sizeof(err)), WEFT_EINVALID);
	assert_string_equal(err, "zone \"leapseconds\" is not a valid TZif file");
	assert_int_equal(tz_load("right/UTC", &z, err, sizeof(err)), WEFT_EINVALID);
	assert_string_equal(err, "zone \"right/UTC\" has leap seconds, which are not supported");
	assert_null(z);
	/* No error buffer is fine too. */
	assert_int_equal(tz_load("Nowhere", &z, NULL, 0), WEFT_ENOTFOUND);
}

static void test_cache(void **state)
{
	UNUSED(state);
	const tz_zone *a = zone("Europe/Berlin"), *b = zone("Europe/Berlin");
	assert_ptr_equal(a, b);
	assert_string_equal(tz_name(a), "Europe/Berlin");
	assert_ptr_equal(zone("UTC"), tz_utc());
	assert_ptr_not_equal(zone("Europe/Paris"), a);
}

static const char *const race_zones[] = { "Asia/Tokyo", "America/Chicago", "Africa/Cairo", "Pacific/Auckland" };

static void *load_race_zones(void *arg)
{
	const tz_zone **got = arg;
	for (size_t i = 0; i < ARRAY_LEN(race_zones); i++)
		if (tz_load(race_zones[i], &got[i], NULL, 0) != 0)
			got[i] = NULL;
	return NULL;
}

/* Threads loading the same zones at once all get the one cached zone. */
static void test_cache_threads(void **state)
{
	UNUSED(state);
	enum { THREADS = 8 };
	pthread_t threads[THREADS];
	const tz_zone *got[THREADS][ARRAY_LEN(race_zones)];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, load_race_zones, got[i]), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	for (size_t k = 0; k < ARRAY_LEN(race_zones); k++) {
		assert_non_null(got[0][k]);
		assert_string_equal(tz_name(got[0][k]), race_zones[k]);
		for (int i = 1; i < THREADS; i++)
			assert_ptr_equal(got[i][k], got[0][k]);
	}
}

static void test_fixed_zones(void **state)
{
	UNUSED(state);
	const tz_zone *utc = tz_utc();
	assert_int_equal(tz_offset_at(utc, 1774746000, NULL), 0);
	expect_unique(utc, 1774746000, 1774746000);
	int64_t at;
	int32_t before, after;
	assert_false(tz_next_change(utc, 0, INT64_MAX / 2, &at, &before, &after));

	const tz_zone *gmt5 = zone("Etc/GMT+5");
	assert_int_equal(tz_offset_at(gmt5, 0, NULL), -5 * 3600);
	assert_int_equal(tz_offset_at(gmt5, 7263932400, NULL), -5 * 3600);
	expect_unique(gmt5, 3600, 3600 + 5 * 3600);

	/* Kolkata: +05:30 all year, now and far past the table. */
	const tz_zone *kol = zone("Asia/Kolkata");
	bool dst = true;
	assert_int_equal(tz_offset_at(kol, 1774746000, &dst), 19800);
	assert_false(dst);
	assert_int_equal(tz_offset_at(kol, 7263932400, NULL), 19800);
	assert_false(tz_next_change(kol, 1767225600, 1767225600 + 400LL * 86400, &at, &before, &after));
	expect_unique(kol, wall_of(2026, 3, 29, 2, 30, 0), 1774731600);
}

/* Europe/Berlin 2026: CET->CEST at 2026-03-29 01:00 UTC (02:00 -> 03:00),
 * CEST->CET at 2026-10-25 01:00 UTC (03:00 -> 02:00). */
static void test_berlin(void **state)
{
	UNUSED(state);
	const tz_zone *z = zone("Europe/Berlin");
	const int64_t spring = 1774746000, autumn = 1792890000;
	bool dst;
	assert_int_equal(tz_offset_at(z, spring - 1, &dst), 3600);
	assert_false(dst);
	assert_int_equal(tz_offset_at(z, spring, &dst), 7200);
	assert_true(dst);
	assert_int_equal(tz_offset_at(z, autumn - 1, NULL), 7200);
	assert_int_equal(tz_offset_at(z, autumn, NULL), 3600);

	int64_t at;
	int32_t before, after;
	assert_true(tz_next_change(z, spring - 86400, spring + 86400, &at, &before, &after));
	assert_int_equal(at, spring);
	assert_int_equal(before, 3600);
	assert_int_equal(after, 7200);
	assert_true(tz_next_change(z, spring, autumn, &at, &before, &after));
	assert_int_equal(at, autumn);
	assert_false(tz_next_change(z, spring, autumn - 1, &at, &before, &after));

	/* The gap [02:00, 03:00) at its edges. */
	expect_unique(z, wall_of(2026, 3, 29, 1, 59, 59), spring - 1);
	expect_gap(z, wall_of(2026, 3, 29, 2, 0, 0), spring);
	expect_gap(z, wall_of(2026, 3, 29, 2, 30, 0), spring);
	expect_gap(z, wall_of(2026, 3, 29, 2, 59, 59), spring);
	expect_unique(z, wall_of(2026, 3, 29, 3, 0, 0), spring);
	/* The overlap [02:00, 03:00) at its edges. */
	expect_unique(z, wall_of(2026, 10, 25, 1, 59, 59), autumn - 3601);
	expect_overlap(z, wall_of(2026, 10, 25, 2, 0, 0), autumn - 3600, autumn);
	expect_overlap(z, wall_of(2026, 10, 25, 2, 30, 0), autumn - 1800, autumn + 1800);
	expect_overlap(z, wall_of(2026, 10, 25, 2, 59, 59), autumn - 1, autumn + 3599);
	expect_unique(z, wall_of(2026, 10, 25, 3, 0, 0), autumn + 3600);
}

/* America/New_York 2026: 2026-03-08 07:00 UTC (02:00 -> 03:00) and
 * 2026-11-01 06:00 UTC (02:00 -> 01:00). */
static void test_new_york(void **state)
{
	UNUSED(state);
	const tz_zone *z = zone("America/New_York");
	const int64_t spring = 1772953200, autumn = 1793512800;
	assert_int_equal(tz_offset_at(z, spring - 1, NULL), -18000);
	assert_int_equal(tz_offset_at(z, spring, NULL), -14400);
	expect_unique(z, wall_of(2026, 3, 8, 1, 59, 59), spring - 1);
	expect_gap(z, wall_of(2026, 3, 8, 2, 0, 0), spring);
	expect_unique(z, wall_of(2026, 3, 8, 3, 0, 0), spring);
	expect_overlap(z, wall_of(2026, 11, 1, 1, 0, 0), autumn - 3600, autumn);
	expect_overlap(z, wall_of(2026, 11, 1, 1, 59, 59), autumn - 1, autumn + 3599);
	expect_unique(z, wall_of(2026, 11, 1, 2, 0, 0), autumn + 3600);
	expect_unique(z, wall_of(2026, 11, 1, 0, 59, 59), autumn - 3601);
}

/* Australia/Lord_Howe, a 30-minute DST: 2026-04-04 15:00 UTC (02:00 ->
 * 01:30, +11 -> +10:30) and 2026-10-03 15:30 UTC (02:00 -> 02:30). */
static void test_lord_howe(void **state)
{
	UNUSED(state);
	const tz_zone *z = zone("Australia/Lord_Howe");
	const int64_t autumn = 1775314800, spring = 1791041400;
	assert_int_equal(tz_offset_at(z, autumn - 1, NULL), 39600);
	assert_int_equal(tz_offset_at(z, autumn, NULL), 37800);
	assert_int_equal(tz_offset_at(z, spring, NULL), 39600);
	expect_overlap(z, wall_of(2026, 4, 5, 1, 30, 0), autumn - 1800, autumn);
	expect_overlap(z, wall_of(2026, 4, 5, 1, 59, 59), autumn - 1, autumn + 1799);
	expect_unique(z, wall_of(2026, 4, 5, 2, 0, 0), autumn + 1800);
	expect_unique(z, wall_of(2026, 4, 5, 1, 29, 59), autumn - 1801);
	expect_unique(z, wall_of(2026, 10, 4, 1, 59, 59), spring - 1);
	expect_gap(z, wall_of(2026, 10, 4, 2, 0, 0), spring);
	expect_gap(z, wall_of(2026, 10, 4, 2, 29, 59), spring);
	expect_unique(z, wall_of(2026, 10, 4, 2, 30, 0), spring);
}

/* Far past the tables: only the footer's POSIX rule knows these. */
static void test_footer(void **state)
{
	UNUSED(state);
	const tz_zone *berlin = zone("Europe/Berlin");
	const int64_t b_spring = 4109878800, b_autumn = 4128627600;     /* 2100 */
	assert_int_equal(tz_offset_at(berlin, b_spring - 1, NULL), 3600);
	assert_int_equal(tz_offset_at(berlin, b_spring, NULL), 7200);
	assert_int_equal(tz_offset_at(berlin, b_autumn - 1, NULL), 7200);
	assert_int_equal(tz_offset_at(berlin, b_autumn, NULL), 3600);
	expect_gap(berlin, wall_of(2100, 3, 28, 2, 30, 0), b_spring);
	expect_overlap(berlin, wall_of(2100, 10, 31, 2, 30, 0), b_autumn - 1800, b_autumn + 1800);
	int64_t at;
	int32_t before, after;
	assert_true(tz_next_change(berlin, b_spring, b_spring + 400LL * 86400, &at, &before, &after));
	assert_int_equal(at, b_autumn);
	assert_int_equal(before, 7200);
	assert_int_equal(after, 3600);

	const tz_zone *ny = zone("America/New_York");
	const int64_t n_spring = 7263932400, n_autumn = 7284492000;     /* 2200 */
	assert_int_equal(tz_offset_at(ny, n_spring - 1, NULL), -18000);
	assert_int_equal(tz_offset_at(ny, n_spring, NULL), -14400);
	assert_int_equal(tz_offset_at(ny, n_autumn, NULL), -18000);
	expect_gap(ny, wall_of(2200, 3, 9, 2, 15, 0), n_spring);

	const tz_zone *lh = zone("Australia/Lord_Howe");
	const int64_t l_autumn = 5688370800, l_spring = 5704097400;     /* 2150 */
	assert_int_equal(tz_offset_at(lh, l_autumn - 1, NULL), 39600);
	assert_int_equal(tz_offset_at(lh, l_autumn, NULL), 37800);
	assert_int_equal(tz_offset_at(lh, l_spring - 1, NULL), 37800);
	assert_int_equal(tz_offset_at(lh, l_spring, NULL), 39600);
	/* Across the new year, in southern summer time. */
	assert_int_equal(tz_offset_at(lh, wall_of(2151, 1, 1, 0, 0, 0), NULL), 39600);
}

/* TZif v3 footers: rule times below zero (Nuuk, M3.5.0/-1) and past 24h
 * (Jerusalem M3.4.4/26, Santiago /24), and Dublin's negative DST (winter
 * is the "daylight" time). Python's zoneinfo gives these 2100 changes. */
static void test_footer_v3(void **state)
{
	UNUSED(state);
	static const struct {
		const char *zone;
		int64_t at[2];
		int32_t offsets[3];
	} cases[] = {
		{ "America/Nuuk", { 4109878800, 4128627600 }, { -7200, -3600, -7200 } },
		{ "Asia/Jerusalem", { 4109702400, 4128620400 }, { 7200, 10800, 7200 } },
		{ "America/Santiago", { 4110490800, 4123800000 }, { -10800, -14400, -10800 } },
		{ "Europe/Dublin", { 4109878800, 4128627600 }, { 0, 3600, 0 } },
	};
	const int64_t start = 4102444800;   /* 2100-01-01 */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const tz_zone *z = zone(cases[i].zone);
		int64_t from = start, at;
		int32_t before, after;
		for (int k = 0; k < 2; k++) {
			assert_true(tz_next_change(z, from, start + 366LL * 86400, &at, &before, &after));
			if (at != cases[i].at[k])
				fail_msg("%s change %d: got %" PRId64 ", want %" PRId64, cases[i].zone, k, at, cases[i].at[k]);
			assert_int_equal(before, cases[i].offsets[k]);
			assert_int_equal(after, cases[i].offsets[k + 1]);
			assert_int_equal(tz_offset_at(z, at - 1, NULL), before);
			assert_int_equal(tz_offset_at(z, at, NULL), after);
			from = at;
		}
		assert_false(tz_next_change(z, from, start + 365LL * 86400 - 1, &at, &before, &after));
	}
}

/* ---- synthetic TZif files ------------------------------------------------ */

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
	return 4;
}

/* Two transitions, at 1000 (to +01:00 DST) and 2000 (back to UTC), as a
 * 32-bit block; for version '2' also the 64-bit block and the footer. */
static size_t build_tzif(uint8_t *buf, char version, const char *footer)
{
	size_t n = 0;
	for (int block = 0; block < (version == 0 ? 1 : 2); block++) {
		size_t tsize = block == 0 ? 4 : 8;
		memcpy(buf + n, "TZif", 4);
		buf[n + 4] = (uint8_t)version;
		memset(buf + n + 5, 0, 15);
		n += 20;
		n += put32(buf + n, 0);     /* isutcnt */
		n += put32(buf + n, 0);     /* isstdcnt */
		n += put32(buf + n, 0);     /* leapcnt */
		n += put32(buf + n, 2);     /* timecnt */
		n += put32(buf + n, 2);     /* typecnt */
		n += put32(buf + n, 4);     /* charcnt */
		static const uint32_t times[] = { 1000, 2000 };
		for (int i = 0; i < 2; i++) {
			if (tsize == 8)
				n += put32(buf + n, 0);
			n += put32(buf + n, times[i]);
		}
		buf[n++] = 1;
		buf[n++] = 0;
		n += put32(buf + n, 0);
		buf[n++] = 0, buf[n++] = 0;
		n += put32(buf + n, 3600);
		buf[n++] = 1, buf[n++] = 0;
		memcpy(buf + n, "UTC", 4);
		n += 4;
	}
	if (version != 0) {
		size_t len = strlen(footer);
		buf[n++] = '\n';
		memcpy(buf + n, footer, len);
		n += len;
		buf[n++] = '\n';
	}
	return n;
}

static void test_parse_synthetic(void **state)
{
	UNUSED(state);
	uint8_t buf[512];
	tz_zone *z = NULL;
	char err[TZ_ERR_LEN];

	/* Version 1: no footer, the last type holds forever. */
	size_t n = build_tzif(buf, 0, NULL);
	assert_int_equal(tz_parse("Test/V1", buf, n, &z, err, sizeof(err)), 0);
	bool dst;
	assert_int_equal(tz_offset_at(z, 999, &dst), 0);
	assert_int_equal(tz_offset_at(z, 1000, &dst), 3600);
	assert_true(dst);
	assert_int_equal(tz_offset_at(z, 2000, NULL), 0);
	assert_int_equal(tz_offset_at(z, 4102444800, NULL), 0);
	expect_gap(z, 1500, 1000);           /* wall [1000, 2000) never happens */
	expect_overlap(z, 5000, 1400, 5000); /* wall [4600, 5600) happens twice */
	tz_free(z);

	/* Version 2: the footer rules past the table. */
	n = build_tzif(buf, '2', "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(tz_parse("Test/V2", buf, n, &z, err, sizeof(err)), 0);
	assert_int_equal(tz_offset_at(z, 1500, NULL), 3600);
	assert_int_equal(tz_offset_at(z, 1774746000 - 1, NULL), 3600);    /* Berlin's 2026 */
	assert_int_equal(tz_offset_at(z, 1774746000, NULL), 7200);
	tz_free(z);
	tz_free(NULL);

	/* Every truncation of a valid file is refused cleanly. */
	size_t full = build_tzif(buf, '2', "EST5EDT,M3.2.0,M11.1.0");
	for (size_t len = 0; len < full; len++) {
		z = NULL;
		assert_int_equal(tz_parse("Test/Cut", buf, len, &z, err, sizeof(err)), WEFT_EINVALID);
		assert_string_equal(err, "zone \"Test/Cut\" is not a valid TZif file");
		assert_null(z);
	}

	/* Broken pieces. */
	static const char *const bad_footers[] = {
		"CET", "C-1", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
		"CET-1CEST,J0,J365", "CET-1CEST,M3.5.0/168,M10.5.0", "CET-25", "<CET-1", "CET-1CEST,M3.5.0,M10.5.0x",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad_footers); i++) {
		n = build_tzif(buf, '2', bad_footers[i]);
		if (tz_parse("Test/Footer", buf, n, &z, err, sizeof(err)) != WEFT_EINVALID)
			fail_msg("footer \"%s\" was accepted", bad_footers[i]);
	}
	n = build_tzif(buf, '2', "<+0330>-3:30");
	assert_int_equal(tz_parse("Test/Fixed", buf, n, &z, err, sizeof(err)), 0);
	assert_int_equal(tz_offset_at(z, 4102444800, NULL), 3 * 3600 + 1800);
	tz_free(z);
	n = build_tzif(buf, '2', "");
	assert_int_equal(tz_parse("Test/NoFooter", buf, n, &z, err, sizeof(err)), 0);
	assert_int_equal(tz_offset_at(z, 4102444800, NULL), 0);
	tz_free(z);

	n = build_tzif(buf, 0, NULL);
	buf[0] = 'X';
	assert_int_equal(tz_parse("Test/Magic", buf, n, &z, err, sizeof(err)), WEFT_EINVALID);
	n = build_tzif(buf, 0, NULL);
	buf[44 + 8] = 2;    /* a type index past the two types */
	assert_int_equal(tz_parse("Test/Index", buf, n, &z, err, sizeof(err)), WEFT_EINVALID);
	n = build_tzif(buf, 0, NULL);
	put32(buf + 44 + 4, 1000);  /* transitions must ascend */
	assert_int_equal(tz_parse("Test/Order", buf, n, &z, err, sizeof(err)), WEFT_EINVALID);
	n = build_tzif(buf, 0, NULL);
	put32(buf + 44 + 10 + 6, 30 * 3600);   /* an offset no zone has */
	assert_int_equal(tz_parse("Test/Offset", buf, n, &z, err, sizeof(err)), WEFT_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil),      cmocka_unit_test(test_names),
		cmocka_unit_test(test_load_errors), cmocka_unit_test(test_cache), cmocka_unit_test(test_cache_threads),
		cmocka_unit_test(test_fixed_zones), cmocka_unit_test(test_berlin),
		cmocka_unit_test(test_new_york),   cmocka_unit_test(test_lord_howe),
		cmocka_unit_test(test_footer),     cmocka_unit_test(test_footer_v3),
		cmocka_unit_test(test_parse_synthetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
