/*
 * Tests of core/: error names, the canonical state names, the backoff
 * rule and the saturating sums of counters.
 */
#include "util/common.h"
#include "core/backoff.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/status.h"
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_error_names(void **state)
{
	UNUSED(state);
	assert_string_equal(weft_strerror(0), "success");
	assert_string_equal(weft_errname(WEFT_ENOTFOUND), "not_found");
	assert_string_equal(weft_strerror(WEFT_EUNAVAILABLE), "database connection unavailable");
	for (int code = 0; code > WEFT_E__LAST; code--) {
		assert_string_not_equal(weft_strerror(code), "unknown error");
		assert_string_not_equal(weft_errname(code), "unknown");
	}
	assert_string_equal(weft_strerror(WEFT_E__LAST), "unknown error");
	assert_string_equal(weft_strerror(1), "unknown error");
	assert_string_equal(weft_errname(-1000), "unknown");
}

static void test_status_names(void **state)
{
	UNUSED(state);
	for (int s = 0; s < TS__COUNT; s++) {
		task_status back;
		assert_int_equal(task_status_parse(task_status_name((task_status)s), &back), 0);
		assert_int_equal(back, s);
		assert_int_equal(task_status_from_label(task_status_label((task_status)s), &back), 0);
		assert_int_equal(back, s);
	}
	task_status st;
	assert_int_equal(task_status_parse("Pending", &st), WEFT_EINVALID);
	assert_int_equal(task_status_parse(NULL, &st), WEFT_EINVALID);
	assert_string_equal(task_status_name(TS__COUNT), "unknown");
	action_trigger t;
	assert_int_equal(action_trigger_parse("cancel", &t), 0);
	assert_int_equal(t, TRIGGER_CANCEL);
	action_condition c;
	assert_int_equal(action_condition_parse("failure", &c), 0);
	assert_int_equal(c, COND_FAILURE);
}

static void test_backoff_exact(void **state)
{
	UNUSED(state);
	backoff_policy p = { .base_us = 2000000, .multiplier = 2, .cap_us = 300000000, .jitter = 0.1 };
	/* u = 0.5 is the centre of the jitter range: no jitter. */
	assert_int_equal(backoff_delay_us(&p, 1, 0.5), 2000000);
	assert_int_equal(backoff_delay_us(&p, 2, 0.5), 4000000);
	assert_int_equal(backoff_delay_us(&p, 5, 0.5), 32000000);
	assert_int_equal(backoff_delay_us(&p, 9, 0.5), 300000000);      /* 512 s capped */
	assert_int_equal(backoff_delay_us(&p, INT32_MAX, 0.5), 300000000);
	assert_int_equal(backoff_delay_us(&p, 0, 0.5), 2000000);        /* below 1 counts as 1 */
	/* The ends of the jitter range. */
	assert_int_equal(backoff_delay_us(&p, 1, 0.0), 1800000);
	assert_true(backoff_delay_us(&p, 1, 0.999999) > 2199990);
	/* Out-of-range u and odd policies stay sane. */
	assert_int_equal(backoff_delay_us(&p, 1, -3), 2000000);
	backoff_policy flat = { .base_us = 7, .multiplier = 0.5, .cap_us = 100, .jitter = 0 };
	assert_int_equal(backoff_delay_us(&flat, 40, 0.9), 7);
	backoff_policy zero = { 0 };
	assert_int_equal(backoff_delay_us(&zero, 3, 0.5), 0);
	backoff_policy huge = { .base_us = INT64_MAX, .multiplier = 10, .cap_us = INT64_MAX, .jitter = 1 };
	assert_true(backoff_delay_us(&huge, 100, 0.999) > 0);
}

static void test_backoff_random(void **state)
{
	UNUSED(state);
	double lo = 1, hi = 0;
	for (int i = 0; i < 10000; i++) {
		double u = backoff_random();
		assert_true(u >= 0 && u < 1);
		lo = MIN(lo, u);
		hi = MAX(hi, u);
	}
	assert_true(lo < 0.01 && hi > 0.99);
}

static void test_counter_sums_saturate(void **state)
{
	UNUSED(state);
	const int64_t top = TASK_COUNTER_MAX, unit = INT64_C(1) << COUNTER_SUM_SHIFT;
	assert_int_equal(counter_add_sat(1, 2), 3);
	assert_int_equal(counter_add_sat(INT64_MAX, 1), INT64_MAX);
	assert_int_equal(counter_add_sat(INT64_MAX - 1, 1), INT64_MAX);
	assert_int_equal(counter_add_sat(INT64_MIN, -1), INT64_MIN);
	assert_int_equal(counter_add_sat(INT64_MAX, INT64_MIN), -1);
	/* One counter split and joined again. */
	assert_int_equal(counter_sum_join(top >> COUNTER_SUM_SHIFT, top & (unit - 1)), top);
	assert_int_equal(counter_sum_join(0, 0), 0);
	assert_int_equal(counter_sum_join(0, 5), 5);
	/* 1,024 counters at the bound: 2^63 - 1024, still exact. */
	int64_t n = 1024;
	assert_int_equal(counter_sum_join(n * (top >> COUNTER_SUM_SHIFT), n * (top & (unit - 1))), n * top);
	/* 1,100 of them pass INT64_MAX: saturated, never negative. */
	n = 1100;
	assert_int_equal(counter_sum_join(n * (top >> COUNTER_SUM_SHIFT), n * (top & (unit - 1))), INT64_MAX);
	/* The high part alone overflows, or only the addition does. */
	assert_int_equal(counter_sum_join(INT64_MAX / 2, 0), INT64_MAX);
	assert_int_equal(counter_sum_join(INT64_MAX >> COUNTER_SUM_SHIFT, unit), INT64_MAX);
	assert_int_equal(counter_sum_join(INT64_MAX >> COUNTER_SUM_SHIFT, unit - 1), INT64_MAX);
	assert_int_equal(counter_sum_join(INT64_MAX >> COUNTER_SUM_SHIFT, unit - 2), INT64_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_backoff_exact),
		cmocka_unit_test(test_backoff_random),
		cmocka_unit_test(test_counter_sums_saturate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
