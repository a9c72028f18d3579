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
 * Jobs (executor "queue") store the same form with more members:
 *   "jitter": 0.1           the ± fraction of each delay (0..1; default 0.1)
 *   "non_retryable": [...]  error codes that never retry
 *   "max_retries": -1       retry forever (max_attempts -1)
 * A job's retries used are attempt - 1 - retry_base (an operator reset
 * gives the budget back).
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
	int32_t max_retries;          /* -1: forever */
	double initial_delay_secs;
	double backoff_multiplier;
	double max_delay_secs;
	unsigned retry_on;            /* retry_cause bits */
	double jitter;                /* 0..1 */
} retry_policy;

/* The most retries a job's policy may ask for (max_attempts 1000). */
#define RETRY_JOB_MAX_RETRIES 999

/* Parses the canonical JSON. 0 or -1. */
int retry_policy_parse(const char *json_text, retry_policy *out);
/* Delay before retry `attempt` + 1 runs (attempt = retries done so far,
 * 0-based), in µs, jitter included. */
int64_t retry_delay_us(const retry_policy *p, int32_t attempt);
/* The same with the uniform number u in [0, 1) given (tests). */
int64_t retry_delay_us_at(const retry_policy *p, int32_t attempt, double u);

/* The canonical policy of a job (owned): max_attempts 1..1000 or -1,
 * delays in µs, codes borrowed. */
char *retry_policy_job_json(int32_t max_attempts, int64_t initial_us, double coefficient, int64_t max_us,
                            double jitter, const char *const *non_retryable, size_t ncodes);
/* Whether the policy (canonical JSON, may be NULL) lists `code` in its
 * non_retryable codes. */
bool retry_code_non_retryable(const char *policy_json, const char *code);
/* max_retries + 1 of a policy; -1 forever; 1 without a policy. */
int32_t retry_max_attempts(const char *policy_json);

#endif
