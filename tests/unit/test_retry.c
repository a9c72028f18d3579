/*
 * test_retry.c — task retry policies (src/engine/retry.c): reading the
 * canonical JSON and the backoff delays (growth, cap, ±10% jitter), and
 * the job form of the policy (its jitter, codes, and retrying forever).
 */
#include "util/common.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "engine/retry.h"

#define ALL_CAUSES (RETRY_ON_TIMEOUT | RETRY_ON_WEBHOOK_FAILURE | RETRY_ON_EXPLICIT)
#define SAMPLES 2000

static void test_parse_canonical(void **state)
{
	UNUSED(state);
	retry_policy p;
	assert_int_equal(retry_policy_parse("{\"max_retries\":3,\"initial_delay_secs\":0.5,\"backoff_multiplier\":2,"
	                                    "\"max_delay_secs\":300,\"retry_on\":[\"timeout\",\"webhook_failure\",\"explicit\"]}",
	                                    &p),
	                 0);
	assert_int_equal(p.max_retries, 3);
	assert_true(p.initial_delay_secs == 0.5);
	assert_true(p.backoff_multiplier == 2.0);
	assert_true(p.max_delay_secs == 300.0);
	assert_int_equal(p.retry_on, ALL_CAUSES);

	assert_int_equal(retry_policy_parse("{\"max_retries\":0,\"initial_delay_secs\":5,\"backoff_multiplier\":1.5,"
	                                    "\"max_delay_secs\":60,\"retry_on\":[\"explicit\"]}",
	                                    &p),
	                 0);
	assert_int_equal(p.max_retries, 0);
	assert_true(p.backoff_multiplier == 1.5);
	assert_int_equal(p.retry_on, RETRY_ON_EXPLICIT);

	assert_int_equal(retry_policy_parse("{\"max_retries\":1,\"initial_delay_secs\":1,\"backoff_multiplier\":1,"
	                                    "\"max_delay_secs\":1,\"retry_on\":[]}",
	                                    &p),
	                 0);
	assert_int_equal(p.retry_on, 0);
}

static void test_parse_defaults(void **state)
{
	UNUSED(state);
	retry_policy p;
	assert_int_equal(retry_policy_parse("{\"max_retries\":2}", &p), 0);
	assert_int_equal(p.max_retries, 2);
	assert_true(p.initial_delay_secs == 5.0);
	assert_true(p.backoff_multiplier == 2.0);
	assert_true(p.max_delay_secs == 300.0);
	assert_int_equal(p.retry_on, ALL_CAUSES);
}

static void test_parse_rejects(void **state)
{
	UNUSED(state);
	retry_policy p;
	memset(&p, 0x5a, sizeof(p));
	retry_policy before = p;
	static const char *const bad[] = {
		NULL,
		"",
		"not json",
		"[]",
		"{}",
		"{\"max_retries\":\"3\"}",
		"{\"max_retries\":-1}",
		"{\"max_retries\":101}",
		"{\"max_retries\":1.5}",
		"{\"max_retries\":1,\"initial_delay_secs\":-1}",
		"{\"max_retries\":1,\"initial_delay_secs\":86401}",
		"{\"max_retries\":1,\"backoff_multiplier\":0.5}",
		"{\"max_retries\":1,\"max_delay_secs\":\"300\"}",
		"{\"max_retries\":1,\"retry_on\":\"timeout\"}",
		"{\"max_retries\":1,\"retry_on\":[\"never\"]}",
		"{\"max_retries\":1,\"retry_on\":[1]}",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (retry_policy_parse(bad[i], &p) != -1)
			print_message("accepted: %s\n", bad[i] ? bad[i] : "(null)");
		assert_int_equal(retry_policy_parse(bad[i], &p), -1);
		assert_memory_equal(&p, &before, sizeof(p));
	}
}

static retry_policy policy(double initial, double multiplier, double max_delay)
{
	retry_policy p = { 10, initial, multiplier, max_delay, ALL_CAUSES, 0.1 };
	return p;
}

/* Every sample of the delay before retry `attempt` + 1 lies within ±10%
 * of `expected_secs`, and the samples do spread (jitter is applied). */
static void assert_jittered(const retry_policy *p, int32_t attempt, double expected_secs)
{
	double lo = expected_secs * 0.9 * 1e6 - 1, hi = expected_secs * 1.1 * 1e6 + 1;
	int64_t min = INT64_MAX, max = INT64_MIN;
	double sum = 0;
	for (int i = 0; i < SAMPLES; i++) {
		int64_t d = retry_delay_us(p, attempt);
		if ((double)d < lo || (double)d > hi)
			print_message("attempt %d: %" PRId64 " us outside [%.0f, %.0f]\n", attempt, d, lo, hi);
		assert_true((double)d >= lo && (double)d <= hi);
		min = MIN(min, d);
		max = MAX(max, d);
		sum += (double)d;
	}
	if (expected_secs > 0) {
		/* Both halves of the range are reached, and the mean is central. */
		assert_true((double)min < expected_secs * 0.97 * 1e6);
		assert_true((double)max > expected_secs * 1.03 * 1e6);
		double mean = sum / SAMPLES / 1e6;
		assert_true(fabs(mean - expected_secs) < expected_secs * 0.02);
	} else {
		assert_int_equal(min, 0);
		assert_int_equal(max, 0);
	}
}

static void test_delay_growth(void **state)
{
	UNUSED(state);
	retry_policy p = policy(5, 2, 300);
	assert_jittered(&p, 0, 5);
	assert_jittered(&p, 1, 10);
	assert_jittered(&p, 2, 20);
	assert_jittered(&p, 3, 40);
	assert_jittered(&p, 5, 160);

	p = policy(0.5, 3, 1000);
	assert_jittered(&p, 0, 0.5);
	assert_jittered(&p, 1, 1.5);
	assert_jittered(&p, 4, 40.5);

	/* A multiplier of 1 keeps the delay constant. */
	p = policy(7, 1, 300);
	assert_jittered(&p, 0, 7);
	assert_jittered(&p, 50, 7);
}

static void test_delay_cap(void **state)
{
	UNUSED(state);
	retry_policy p = policy(5, 2, 300);
	assert_jittered(&p, 6, 300);     /* 320 capped */
	assert_jittered(&p, 7, 300);
	assert_jittered(&p, 100, 300);
	assert_jittered(&p, INT32_MAX, 300);   /* no overflow, no endless loop */

	/* Initial delay above the cap: the cap from the first retry on. */
	p = policy(600, 2, 60);
	assert_jittered(&p, 0, 60);

	/* Largest values allowed: stays finite. */
	p = policy(86400, 100, 86400);
	assert_jittered(&p, 100, 86400);
	int64_t d = retry_delay_us(&p, 100);
	assert_true(d > 0 && d <= (int64_t)(86400 * 1.1 * 1e6) + 1);
}

static void test_delay_zero(void **state)
{
	UNUSED(state);
	retry_policy p = policy(0, 2, 300);
	assert_jittered(&p, 0, 0);
	assert_jittered(&p, 1000, 0);    /* 0 * multiplier^n stays 0, never NaN */
	p = policy(5, 2, 0);
	assert_jittered(&p, 3, 0);
}

static void test_delay_is_microseconds(void **state)
{
	UNUSED(state);
	retry_policy p = policy(0.001, 2, 300);
	for (int i = 0; i < 100; i++) {
		int64_t d = retry_delay_us(&p, 0);
		assert_true(d >= 900 && d <= 1100);
	}
}

/* A job's policy: built from its fields, read back; max_attempts -1
 * retries forever; its codes; its jitter bounds each delay. */
static void test_job_policy(void **state)
{
	UNUSED(state);
	const char *codes[] = { "bad_input", "gone" };
	char *json = retry_policy_job_json(6, 1000000, 2.0, 5000000, 0, codes, 2);
	retry_policy p;
	assert_int_equal(retry_policy_parse(json, &p), 0);
	assert_int_equal(p.max_retries, 5);
	assert_int_equal(retry_max_attempts(json), 6);
	assert_true(retry_code_non_retryable(json, "gone"));
	assert_false(retry_code_non_retryable(json, "flaky"));
	assert_false(retry_code_non_retryable(NULL, "gone"));
	/* Jitter 0: exactly 1, 2, 4, 5, 5 s. */
	const int64_t want[] = { 1000000, 2000000, 4000000, 5000000, 5000000 };
	for (int i = 0; i < 5; i++)
		assert_int_equal(retry_delay_us_at(&p, i, 0.99), want[i]);
	free(json);

	json = retry_policy_job_json(-1, 1000000, 2.0, 60000000, 0.1, NULL, 0);
	assert_int_equal(retry_policy_parse(json, &p), 0);
	assert_int_equal(p.max_retries, -1);
	assert_int_equal(retry_max_attempts(json), -1);
	for (int i = 0; i < 200; i++) {
		int64_t d = retry_delay_us(&p, 0);
		assert_true(d >= 900000 && d <= 1100000);
	}
	free(json);
	assert_int_equal(retry_max_attempts(NULL), 1);
	/* A task's policy keeps ArcRun's bounds. */
	assert_int_equal(retry_policy_parse("{\"max_retries\":-1}", &p), -1);
	assert_int_equal(retry_policy_parse("{\"max_retries\":999,\"jitter\":0.2}", &p), 0);
	assert_int_equal(retry_policy_parse("{\"max_retries\":1000,\"jitter\":0.2}", &p), -1);
	assert_int_equal(retry_policy_parse("{\"max_retries\":1,\"jitter\":1.5}", &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_canonical),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_delay_growth),
		cmocka_unit_test(test_delay_cap),
		cmocka_unit_test(test_delay_zero),
		cmocka_unit_test(test_delay_is_microseconds),
		cmocka_unit_test(test_job_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
