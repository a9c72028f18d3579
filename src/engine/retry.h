/*
 * retry.h — task retry policies.
 *
 * A task's `retry` object, validated by the HTTP layer and stored in its
 * canonical JSON form with every field present:
 *   {"max_retries": 3, "initial_delay_secs": 5, "backoff_multiplier": 2,
 *    "max_delay_secs": 300, "retry_on": ["timeout","webhook_failure","explicit"]}
 * Defaults: initial_delay_secs 5, backoff_multiplier 2.0, max_delay_secs 300,
 * retry_on all three. Delays may be fractional seconds.
 *
 * A task's `attempt` counts its tries from 1. When a claimed or running
 * task fails for a cause in retry_on and has retries left (attempt - 1 <
 * max_retries: max_retries retries after the first try), it goes to
 * retrying instead of failure: attempt + 1, and it becomes pending again
 * after
 *   min(max_delay, initial_delay * multiplier^(attempt - 1)) ± 10% jitter.
 * No propagation happens meanwhile; only the final outcome reaches the
 * children and fires on_failure.
 */
#ifndef WEFT_RETRY_H
#define WEFT_RETRY_H

#include "../util/common.h"

typedef enum retry_cause {
	RETRY_ON_TIMEOUT = 1 << 0,
	RETRY_ON_WEBHOOK_FAILURE = 1 << 1,
	RETRY_ON_EXPLICIT = 1 << 2,
} retry_cause;

#define RETRY_MAX_RETRIES_LIMIT 100
#define RETRY_MAX_DELAY_LIMIT_SECS 86400.0

typedef struct retry_policy {
	int32_t max_retries;
	double initial_delay_secs;
	double backoff_multiplier;
	double max_delay_secs;
	unsigned retry_on;            /* retry_cause bits */
} retry_policy;

/* Parses the canonical JSON. 0 or -1. */
int retry_policy_parse(const char *json_text, retry_policy *out);
/* Delay before retry `attempt` + 1 runs (attempt = retries done so far,
 * 0-based), in µs, jitter included. */
int64_t retry_delay_us(const retry_policy *p, int32_t attempt);

#endif
