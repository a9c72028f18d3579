/*
 * limits.h — bounds on what a client may submit, shared by every front door
 * (the HTTP decoders enforce them; the engine relies on them).
 */
#ifndef WEFT_CORE_LIMITS_H
#define WEFT_CORE_LIMITS_H

#include <stdint.h>

#define TASK_NAME_MAX 255
#define TASK_KIND_MAX 100
#define TASK_TIMEOUT_MIN 1
#define TASK_TIMEOUT_MAX 86400
#define TASK_TIMEOUT_DEFAULT 60
#define TASK_METADATA_MAX 65536
#define TASK_PRIORITY_MIN (-1000)
#define TASK_PRIORITY_MAX 1000
/* The largest counter a client may send (success and failure increments,
 * expected_count): 2^53 - 1, the largest integer every JSON client reads
 * exactly. */
#define TASK_COUNTER_MAX INT64_C(9007199254740991)

/* Sums of counters over many tasks (a batch's totals, a capacity rule's
 * sum) can pass INT64_MAX: they saturate there instead of failing or
 * wrapping. The store sums a counter's bits above and below
 * COUNTER_SUM_SHIFT apart, sums no database overflows (each stays below
 * 2^63 up to 2^36 rows at TASK_COUNTER_MAX), and joins them here. */
#define COUNTER_SUM_SHIFT 26

/* a + b, saturating at INT64_MAX (INT64_MIN below). */
static inline int64_t counter_add_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return a < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

/* high * 2^COUNTER_SUM_SHIFT + low, saturating. */
static inline int64_t counter_sum_join(int64_t high, int64_t low)
{
	int64_t r;
	if (__builtin_mul_overflow(high, INT64_C(1) << COUNTER_SUM_SHIFT, &r))
		return high < 0 ? INT64_MIN : INT64_MAX;
	return counter_add_sat(r, low);
}

#endif
