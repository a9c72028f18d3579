/*
 * test_engine_window.c — how many jobs an engine window lets out: its
 * limit, and `ahead` more only while jobs come back quickly and none has
 * been out long.
 */
#include "util/common.h"
#include "engine/engine_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define NOW (1000 * 1000000LL)
#define MS (1000LL)

static void test_a_new_window_gives_its_limit(void **state)
{
	UNUSED(state);
	engine_window w;
	engine_window_init(&w, 4, 4);
	/* No job came back yet: how long they take is unknown. */
	assert_int_equal(engine_window_room(&w, NOW), 4);
	w.queued = 3;
	assert_int_equal(engine_window_room(&w, NOW), 1);
	w.queued = 4;
	assert_int_equal(engine_window_room(&w, NOW), 0);
}

static void test_quick_jobs_let_more_out(void **state)
{
	UNUSED(state);
	engine_window w;
	engine_window_init(&w, 4, 4);
	w.back_us = 2 * MS;
	assert_int_equal(engine_window_room(&w, NOW), 8);
	engine_job out = { .launched_us = NOW - 5 * MS };
	w.oldest = w.newest = &out;
	w.in_flight = 4;
	assert_int_equal(engine_window_room(&w, NOW), 4);
	w.in_flight = 8;
	assert_int_equal(engine_window_room(&w, NOW), 0);
}

static void test_slow_jobs_give_the_limit_only(void **state)
{
	UNUSED(state);
	engine_window w;
	engine_window_init(&w, 4, 4);
	/* Slow on average. */
	w.back_us = 200 * MS;
	assert_int_equal(engine_window_room(&w, NOW), 4);
	/* Quick on average, but one job has been out for a second: a job
	 * handed over now could wait for it. */
	w.back_us = 2 * MS;
	engine_job out = { .launched_us = NOW - 1000 * MS };
	w.oldest = w.newest = &out;
	w.in_flight = 1;
	assert_int_equal(engine_window_room(&w, NOW), 3);
	/* Without `ahead`, the limit whatever the times. */
	engine_window_init(&w, 4, 0);
	w.back_us = 1 * MS;
	assert_int_equal(engine_window_room(&w, NOW), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_new_window_gives_its_limit),
		cmocka_unit_test(test_quick_jobs_let_more_out),
		cmocka_unit_test(test_slow_jobs_give_the_limit_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
