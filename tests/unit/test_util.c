/*
 * test_util.c — alloc, buf, errlist, clock (RFC 3339), uuid and log.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errlist.h"
#include "util/log.h"
#include "core/id.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

/* ---- alloc ------------------------------------------------------------- */

static void test_xasprintf(void **state)
{
	UNUSED(state);
	char *s = xasprintf("%s-%d-%05.1f", "x", 42, 3.14159);
	assert_string_equal(s, "x-42-003.1");
	free(s);

	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = xasprintf("[%s]", big);
	assert_int_equal(strlen(s), sizeof big + 1);
	assert_int_equal(s[0], '[');
	assert_int_equal(s[sizeof big], ']');
	free(s);
}

static void test_xstrdup(void **state)
{
	UNUSED(state);
	assert_null(xstrdup(NULL));
	char *s = xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	s = xstrndup("hello", 3);
	assert_string_equal(s, "hel");
	free(s);
	s = xstrndup("hi", 10);
	assert_string_equal(s, "hi");
	free(s);

	int *z = xcalloc(100, sizeof *z);
	for (int i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	z = xrealloc(z, 1000 * sizeof *z);
	z[999] = 7;
	assert_int_equal(z[0], 0);
	free(z);
}

/* ---- buf --------------------------------------------------------------- */

static void test_buf_init_and_detach_empty(void **state)
{
	UNUSED(state);
	buf b;
	buf_init(&b);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_reset(&b);
	assert_string_equal(b.data, "");

	size_t len = 99;
	char *s = buf_detach(&b, &len);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);   /* owned even though nothing was appended */
	buf_release(&b);
}

static void test_buf_growth(void **state)
{
	UNUSED(state);
	buf b;
	buf_init(&b);
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[10000], '\0');
	for (int i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);

	size_t cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");

	/* Binary data with NUL bytes keeps its length. */
	buf_append(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_release(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
}

static void test_buf_printf(void **state)
{
	UNUSED(state);
	buf b;
	buf_init(&b);
	buf_puts(&b, "n=");
	buf_printf(&b, "%d,%s", 12, "ab");
	assert_string_equal(b.data, "n=12,ab");
	assert_int_equal(b.len, 7);

	/* Longer than any initial capacity: forces the grow-and-retry path. */
	char big[3000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, 7 + 2 + sizeof big - 1);
	assert_int_equal(b.data[7], '<');
	assert_int_equal(b.data[b.len - 1], '>');
	assert_int_equal(b.data[b.len], '\0');

	size_t len;
	char *s = buf_detach(&b, &len);
	assert_int_equal(len, 7 + 2 + sizeof big - 1);
	assert_int_equal(strlen(s), len);
	free(s);
	/* detach leaves a usable empty buffer */
	assert_int_equal(b.len, 0);
	buf_puts(&b, "again");
	assert_string_equal(b.data, "again");
	buf_release(&b);
}

/* ---- errlist ----------------------------------------------------------- */

static void test_errlist(void **state)
{
	UNUSED(state);
	errlist e;
	errlist_init(&e);
	assert_int_equal(e.len, 0);
	for (int i = 0; i < 20; i++)
		errlist_add(&e, "tasks[%d].name: %s", i, "Task name cannot be empty");
	assert_int_equal(e.len, 20);
	assert_string_equal(e.items[0], "tasks[0].name: Task name cannot be empty");
	assert_string_equal(e.items[19], "tasks[19].name: Task name cannot be empty");
	errlist_release(&e);
	assert_int_equal(e.len, 0);
	assert_null(e.items);
}

/* ---- clock ------------------------------------------------------------- */

static void check_format(int64_t us, const char *want)
{
	char out[TIME_RFC3339_MAX];
	time_format_rfc3339(us, out);
	assert_string_equal(out, want);
}

static void test_time_format_precision(void **state)
{
	UNUSED(state);
	check_format(0, "1970-01-01T00:00:00Z");
	check_format(INT64_C(1700000000) * 1000000, "2023-11-14T22:13:20Z");
	check_format(INT64_C(1700000000) * 1000000 + 500000, "2023-11-14T22:13:20.500Z");
	check_format(INT64_C(1700000000) * 1000000 + 123000, "2023-11-14T22:13:20.123Z");
	check_format(INT64_C(1700000000) * 1000000 + 123456, "2023-11-14T22:13:20.123456Z");
	check_format(INT64_C(1700000000) * 1000000 + 1, "2023-11-14T22:13:20.000001Z");
	check_format(-1, "1969-12-31T23:59:59.999999Z");
	check_format(-1000000, "1969-12-31T23:59:59Z");
	check_format(INT64_C(951782400) * 1000000, "2000-02-29T00:00:00Z");
	check_format(INT64_C(253402300799) * 1000000 + 999000, "9999-12-31T23:59:59.999Z");
}

static void check_parse(const char *s, int64_t want)
{
	int64_t got = -42;
	if (time_parse_rfc3339(s, &got) != 0)
		fail_msg("failed to parse '%s'", s);
	assert_int_equal(got, want);
}

static void test_time_parse(void **state)
{
	UNUSED(state);
	const int64_t t = INT64_C(1700000000) * 1000000;
	check_parse("2023-11-14T22:13:20Z", t);
	check_parse("2023-11-14t22:13:20z", t);
	check_parse("2023-11-14 22:13:20Z", t);
	check_parse("2023-11-14T23:13:20+01:00", t);
	check_parse("2023-11-14T16:43:20-05:30", t);
	check_parse("2023-11-14T22:13:20-00:00", t);
	check_parse("2023-11-14T22:13:20.5Z", t + 500000);
	check_parse("2023-11-14T22:13:20.123Z", t + 123000);
	check_parse("2023-11-14T22:13:20.123456Z", t + 123456);
	/* digits beyond microseconds are truncated, not rounded */
	check_parse("2023-11-14T22:13:20.123456999Z", t + 123456);
	check_parse("1969-12-31T23:59:59.999999Z", -1);
	check_parse("2024-02-29T00:00:00Z", INT64_C(1709164800) * 1000000);
	check_parse("2000-02-29T00:00:00Z", INT64_C(951782400) * 1000000);
	/* a leap second lands on the next minute */
	check_parse("2016-12-31T23:59:60Z", INT64_C(1483228800) * 1000000);
}

static void test_time_parse_rejects(void **state)
{
	UNUSED(state);
	static const char *const bad[] = {
		"",
		"2023-11-14",
		"2023-11-14T22:13:20",          /* no zone */
		"2023-11-14T22:13:20Zx",        /* trailing garbage */
		"2023-11-14T22:13:20 Z",
		"2023-11-14X22:13:20Z",
		"2023-1-14T22:13:20Z",
		"23-11-14T22:13:20Z",
		"2023-13-14T22:13:20Z",         /* month */
		"2023-00-14T22:13:20Z",
		"2023-11-00T22:13:20Z",         /* day */
		"2023-11-31T22:13:20Z",
		"2023-02-29T00:00:00Z",         /* not a leap year */
		"1900-02-29T00:00:00Z",
		"2023-11-14T24:00:00Z",         /* hour */
		"2023-11-14T22:60:00Z",         /* minute */
		"2023-11-14T22:13:61Z",         /* second */
		"2023-11-14T22:13:20.Z",        /* empty fraction */
		"2023-11-14T22:13:20.1234567890Z", /* 10 digits */
		"2023-11-14T22:13:20+01",
		"2023-11-14T22:13:20+0100",
		"2023-11-14T22:13:20+24:00",
		"2023-11-14T22:13:20+01:60",
		"2023-11-14T22:13:2OZ",
		"-023-11-14T22:13:20Z",
		" 2023-11-14T22:13:20Z",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int64_t v = 77;
		if (time_parse_rfc3339(bad[i], &v) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(v, 77);
	}
	int64_t v;
	assert_int_equal(time_parse_rfc3339(NULL, &v), -1);
}

static void test_time_round_trip(void **state)
{
	UNUSED(state);
	/* A spread of instants from 1900 to 2200 with every precision. */
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t us = (int64_t)(x % UINT64_C(9467280000000000)) - INT64_C(2208988800000000);
		if (i % 3 == 0)
			us -= us % 1000000;
		else if (i % 3 == 1)
			us -= us % 1000;
		char s[TIME_RFC3339_MAX];
		time_format_rfc3339(us, s);
		int64_t back;
		assert_int_equal(time_parse_rfc3339(s, &back), 0);
		assert_int_equal(back, us);
	}
}

static void test_clock_advance(void **state)
{
	UNUSED(state);
	int64_t w0 = clock_now_us(), m0 = clock_mono_us();
	clock_advance(INT64_C(3600) * 1000000);
	int64_t w1 = clock_now_us(), m1 = clock_mono_us();
	assert_true(w1 - w0 >= INT64_C(3600) * 1000000);
	assert_true(w1 - w0 < INT64_C(3601) * 1000000);
	assert_true(m1 - m0 >= INT64_C(3600) * 1000000);
	clock_advance(-INT64_C(3600) * 1000000);
	assert_true(clock_now_us() - w0 < 1000000);
	/* The wall clock is the real one (within a minute of time()). */
	assert_true(llabs(clock_now_us() / 1000000 - (int64_t)time(NULL)) < 60);
}

/* ---- uuid -------------------------------------------------------------- */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_uuid_shape(const weft_id *id, char version)
{
	assert_int_equal(strlen(id->str), WEFT_ID_LEN);
	for (int i = 0; i < WEFT_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id->str[i], '-');
		else
			assert_true(is_lower_hex(id->str[i]));
	}
	assert_int_equal(id->str[14], version);
	assert_non_null(strchr("89ab", id->str[19]));
}

static void test_uuid_v7(void **state)
{
	UNUSED(state);
	weft_id prev, id;
	id_new_v7(&prev);
	check_uuid_shape(&prev, '7');

	/* The first 48 bits are the Unix time in ms. */
	char hex[13];
	memcpy(hex, prev.str, 8);
	memcpy(hex + 8, prev.str + 9, 4);
	hex[12] = '\0';
	int64_t ms = (int64_t)strtoull(hex, NULL, 16);
	assert_true(llabs(ms - clock_now_us() / 1000) < 5000);

	/* Strictly increasing, many per millisecond. */
	for (int i = 0; i < 50000; i++) {
		id_new_v7(&id);
		check_uuid_shape(&id, '7');
		if (strcmp(prev.str, id.str) >= 0)
			fail_msg("not increasing: %s then %s", prev.str, id.str);
		prev = id;
	}

	/* Still increasing when the wall clock goes back. */
	clock_advance(-INT64_C(10) * 1000000);
	id_new_v7(&id);
	clock_advance(INT64_C(10) * 1000000);
	assert_true(strcmp(prev.str, id.str) < 0);
}

#define V7_THREADS 4
#define V7_PER_THREAD 5000

static void *v7_worker(void *arg)
{
	weft_id *ids = arg;
	for (int i = 0; i < V7_PER_THREAD; i++)
		id_new_v7(&ids[i]);
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const weft_id *)a)->str, ((const weft_id *)b)->str);
}

static void test_uuid_v7_threads(void **state)
{
	UNUSED(state);
	weft_id *ids = xcalloc(V7_THREADS * V7_PER_THREAD, sizeof *ids);
	pthread_t th[V7_THREADS];
	for (int t = 0; t < V7_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, v7_worker, ids + t * V7_PER_THREAD), 0);
	for (int t = 0; t < V7_THREADS; t++)
		pthread_join(th[t], NULL);
	/* Each thread saw increasing ids ... */
	for (int t = 0; t < V7_THREADS; t++)
		for (int i = 1; i < V7_PER_THREAD; i++)
			assert_true(cmp_id(&ids[t * V7_PER_THREAD + i - 1], &ids[t * V7_PER_THREAD + i]) < 0);
	/* ... and no id was handed out twice. */
	qsort(ids, V7_THREADS * V7_PER_THREAD, sizeof *ids, cmp_id);
	for (int i = 1; i < V7_THREADS * V7_PER_THREAD; i++)
		assert_true(cmp_id(&ids[i - 1], &ids[i]) < 0);
	free(ids);
}

static void test_uuid_v4(void **state)
{
	UNUSED(state);
	weft_id a, b;
	id_new_v4(&a);
	id_new_v4(&b);
	check_uuid_shape(&a, '4');
	check_uuid_shape(&b, '4');
	assert_false(id_eq(&a, &b));
	assert_true(id_eq(&a, &a));
	assert_true(id_is_set(&a));
}

static void test_uuid_parse(void **state)
{
	UNUSED(state);
	weft_id id;
	assert_int_equal(id_parse("0192F3A4-7B1C-7D2E-8F00-ABCDEFabcdef", &id), 0);
	assert_string_equal(id.str, "0192f3a4-7b1c-7d2e-8f00-abcdefabcdef");

	weft_id orig;
	id_new_v7(&orig);
	assert_int_equal(id_parse(orig.str, &id), 0);
	assert_true(id_eq(&orig, &id));

	static const char *const bad[] = {
		"",
		"0192f3a4-7b1c-7d2e-8f00-abcdefabcde",     /* 35 */
		"0192f3a4-7b1c-7d2e-8f00-abcdefabcdef0",   /* 37 */
		"0192f3a4-7b1c-7d2e-8f00_abcdefabcdef",
		"0192f3a47b1c-7d2e-8f00-abcdefabcdef0",
		"0192f3a4-7b1c-7d2e-8f00-abcdefabcdeg",
		"{0192f3a4-7b1c-7d2e-8f00-abcdefabcde}",
		"0192f3a47b1c7d2e8f00abcdefabcdef",
		" 0192f3a4-7b1c-7d2e-8f00-abcdefabcde",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		weft_id out;
		memset(&out, 'x', sizeof out);
		if (id_parse(bad[i], &out) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(out.str[0], 'x');   /* untouched */
	}
	assert_int_equal(id_parse(NULL, &id), -1);
}

/* ---- log --------------------------------------------------------------- */

/* Runs fn with stderr redirected into a temporary file; returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	buf b;
	buf_init(&b);
	rewind(tmp);
	char chunk[256];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, tmp)) > 0)
		buf_append(&b, chunk, n);
	fclose(tmp);
	return buf_detach(&b, NULL);
}

static void log_some(void)
{
	log_set_level(LOG_INFO);
	log_info("engine", "started %d workers\nsecond line", 3);
	log_debug("engine", "not shown %d", 1);
	log_error("http", "%s", "boom");
}

static void test_log_format(void **state)
{
	UNUSED(state);
	char *out = capture_stderr(log_some);
	/* Two lines: the debug one is filtered; the newline inside became a space. */
	char *nl1 = strchr(out, '\n');
	assert_non_null(nl1);
	char *nl2 = strchr(nl1 + 1, '\n');
	assert_non_null(nl2);
	assert_int_equal(nl2[1], '\0');

	/* "2026-11-24T10:00:00.123Z level subsystem: message" */
	assert_true(strlen(out) > 24);
	assert_int_equal(out[23], 'Z');
	assert_int_equal(out[19], '.');
	char ts[25];
	memcpy(ts, out, 24);
	ts[24] = '\0';
	int64_t when;
	assert_int_equal(time_parse_rfc3339(ts, &when), 0);
	assert_true(llabs(when - clock_now_us()) < INT64_C(60) * 1000000);
	*nl1 = '\0';
	assert_string_equal(out + 24, " info engine: started 3 workers second line");
	*nl2 = '\0';
	assert_string_equal(nl1 + 25, " error http: boom");
	free(out);
}

static void test_log_levels(void **state)
{
	UNUSED(state);
	log_level l;
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_parse_level("WARN", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
	assert_int_equal(log_parse_level("info", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_parse_level("verbose", &l), -1);
	assert_int_equal(log_parse_level("", &l), -1);

	log_set_level(LOG_WARN);
	assert_true(log_enabled(LOG_ERROR));
	assert_true(log_enabled(LOG_WARN));
	assert_false(log_enabled(LOG_INFO));
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest alloc_tests[] = {
		cmocka_unit_test(test_xasprintf),
		cmocka_unit_test(test_xstrdup),
		cmocka_unit_test(test_buf_init_and_detach_empty),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_errlist),
	};
	const struct CMUnitTest clock_tests[] = {
		cmocka_unit_test(test_time_format_precision),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_parse_rejects),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_clock_advance),
	};
	const struct CMUnitTest uuid_tests[] = {
		cmocka_unit_test(test_uuid_v7),
		cmocka_unit_test(test_uuid_v7_threads),
		cmocka_unit_test(test_uuid_v4),
		cmocka_unit_test(test_uuid_parse),
	};
	const struct CMUnitTest log_tests[] = {
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_levels),
	};
	int failed = 0;
	failed += cmocka_run_group_tests_name("alloc, buf, errlist", alloc_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("clock", clock_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("uuid", uuid_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("log", log_tests, NULL, NULL);
	return failed ? 1 : 0;
}
