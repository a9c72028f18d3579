/*
 * backoff.h — the one backoff rule of weft: how long to wait before trying
 * something again (a failed webhook delivery, a failed task attempt).
 *
 * The delay after failed attempt n (1-based) is
 *     min(cap, base * multiplier^(n - 1))
 * scaled by a uniform factor in [1 - jitter, 1 + jitter], so that things
 * failing together do not all come back at the same instant. The power is
 * computed by repeated multiplication that stops at the cap, so huge
 * attempt numbers neither overflow nor produce NaN.
 */
#ifndef WEFT_CORE_BACKOFF_H
#define WEFT_CORE_BACKOFF_H

#include "util/common.h"

typedef struct backoff_policy {
	int64_t base_us;          /* delay after the first failure (>= 0) */
	double multiplier;        /* growth per failure (values below 1 count as 1) */
	int64_t cap_us;           /* longest delay (>= 0) */
	double jitter;            /* fraction in [0, 1]: 0.1 = ±10% */
} backoff_policy;

/* The delay in µs after failed attempt `attempt` (values below 1 count as
 * 1). u is a uniform random number in [0, 1) (backoff_random()); tests pass
 * a fixed one. */
int64_t backoff_delay_us(const backoff_policy *p, int32_t attempt, double u);

/* A uniform random number in [0, 1), thread-safe. */
double backoff_random(void);

#endif
