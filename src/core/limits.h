/*
 * limits.h — bounds on what a client may submit, shared by every front door
 * (the HTTP decoders enforce them; the engine relies on them).
 */
#ifndef WEFT_CORE_LIMITS_H
#define WEFT_CORE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TASK_NAME_MAX 255
#define TASK_KIND_MAX 100
/* Rules in one change of a run's rules (PATCH /batch/{id}/rules, /v1/runs/{id}/rules). */
#define RULES_CHANGE_MAX 100
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

/* ---- job queues (/v1) ----------------------------------------------------
 * Bounds of the job commands (engine/commands/jobs.h). The front door
 * refuses anything past them (413 for sizes, 400 for ranges), naming the
 * field; the engine relies on them. */
#define JOBS_PER_REQUEST_MAX 1000           /* jobs per enqueue; items per heartbeat/complete/fail/release */
#define JOB_PAYLOAD_MAX_BYTES (1 << 20)     /* one input or result, compact JSON */
#define CLAIM_ANSWER_MAX_BYTES (32 << 20)   /* inputs of one claim answer */
#define CLAIM_QUEUES_MAX 16
#define CLAIM_JOBS_MAX 1000
#define CLAIM_WAIT_MAX_MS 60000
#define JOB_LEASE_MIN_MS 1000
#define JOB_LEASE_MAX_MS 3600000
#define JOB_LEASE_DEFAULT_MS 60000
#define CLAIMS_PARKED_MAX 10000             /* parked claims per node; past it WEFT_EOVERLOADED */
#define JOB_TIMEOUT_DEFAULT 300             /* seconds per attempt; bounds as TASK_TIMEOUT_* */
#define JOB_MAX_ATTEMPTS_MAX 1000           /* or -1: forever */
#define JOB_MAX_ATTEMPTS_DEFAULT 5
#define JOB_NON_RETRYABLE_MAX 32            /* codes in non_retryable_codes */
#define JOB_PROGRESS_MAX 4096
#define JOB_ERROR_MESSAGE_MAX 4096
#define JOB_ERROR_DETAILS_MAX 16384
#define JOB_ERROR_CODE_MAX 64               /* [a-z0-9_.:-]{1,64} */
#define JOB_KEY_MAX 255                     /* dedup, concurrency and rate keys */
#define JOB_DEDUP_WINDOW_MAX_SECS (30 * 86400)
#define WORKER_ID_MAX 128
#define WORKER_HOSTNAME_MAX 255
#define NAMESPACE_MAX 63                    /* [a-z0-9][a-z0-9_-]{0,62} */
#define NAMESPACE_DEFAULT "default"

/* A queue name: [A-Za-z0-9][A-Za-z0-9._:-]*, at most TASK_KIND_MAX bytes. */
static inline bool queue_name_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (n == 0 || (c != '.' && c != '_' && c != ':' && c != '-')))
			return false;
	}
	return n >= 1 && n <= TASK_KIND_MAX;
}

/* A namespace: [a-z0-9][a-z0-9_-]{0,62}. */
static inline bool namespace_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (n == 0 || (c != '_' && c != '-')))
			return false;
	}
	return n >= 1 && n <= NAMESPACE_MAX;
}

/* An error code of a failed job: [a-z0-9_.:-]{1,64}. */
static inline bool job_error_code_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return n >= 1 && n <= JOB_ERROR_CODE_MAX;
}

#endif
