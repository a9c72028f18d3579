/*
 * backoff.c — see backoff.h.
 */
#include "util/common.h"
#include "core/backoff.h"

#include <math.h>

int64_t backoff_delay_us(const backoff_policy *p, int32_t attempt, double u)
{
	double cap = p->cap_us > 0 ? (double)p->cap_us : 0;
	double d = p->base_us > 0 ? (double)p->base_us : 0;
	double mult = p->multiplier >= 1 ? p->multiplier : 1;
	for (int32_t i = 1; i < attempt && d < cap; i++)
		d *= mult;
	if (!(d <= cap))
		d = cap;
	double jitter = p->jitter > 0 ? MIN(p->jitter, 1.0) : 0;
	if (!(u >= 0 && u < 1))
		u = 0.5;
	d *= 1.0 + jitter * (2.0 * u - 1.0);
	if (!(d > 0))
		return 0;
	if (d >= 9.0e18)
		return INT64_C(9000000000000000000);
	return (int64_t)llround(d);
}

double backoff_random(void)
{
	/* arc4random is thread-safe and seeded by the kernel. */
	uint64_t r;
	arc4random_buf(&r, sizeof r);
	return (double)(r >> 11) / 9007199254740992.0;   /* 53 bits: [0, 1) */
}
