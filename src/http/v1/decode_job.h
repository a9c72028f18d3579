/*
 * decode_job.h — decoding and validating the bodies of the /v1 job routes
 * into the engine's job commands (engine/commands/jobs.h), with the
 * bounds of core/limits.h.
 *
 * Every decoder reads the whole body and records every problem as a
 * "<path>: <problem>" detail ("jobs[3].max_attempts: must be from 1 to
 * 1000, or -1"), so that a client learns all its mistakes from one answer.
 * It returns 0, WEFT_EINVALID (400), or WEFT_ETOOLARGE (413) when any
 * problem is a size past its limit (an input or result over 1 MiB, more
 * than 1,000 jobs or items): the details then name every problem found.
 * Members a route does not know are problems too ("unknown field"), so a
 * misspelt optional field is not silently ignored. On failure the output
 * is released.
 *
 * The decoded structs borrow strings from the parsed body (kept in the
 * input's doc) and from compact JSON texts the input owns; release the
 * input once the command is done. Nothing here touches the engine, the
 * network or the database.
 */
#ifndef WEFT_HTTP_V1_DECODE_JOB_H
#define WEFT_HTTP_V1_DECODE_JOB_H

#include "util/common.h"
#include "util/json.h"
#include "engine/commands/jobs.h"
#include "http/http.h"

/* Bounds of /v1 fields that core/limits.h leaves to the front door. */
#define V1_DELAY_MAX_MS (365LL * 86400 * 1000)        /* delay_ms */
#define V1_BACKOFF_MAX_MS (86400LL * 1000)            /* backoff.initial_ms, backoff.max_ms */
#define V1_BACKOFF_COEFFICIENT_MAX 100.0
#define V1_RETRY_AFTER_MAX_MS (86400LL * 1000)        /* retry_after_ms */

/* Compact JSON texts an input owns (inputs, results, metadata). */
typedef struct v1_texts {
	char **items;
	size_t n, cap;
} v1_texts;

/* ---- POST /v1/jobs ------------------------------------------------------------------- */

typedef struct v1_enqueue_input {
	json_t *doc;                 /* the parsed body: strings are borrowed from it */
	const char *namespace;       /* NULL: not given (the token's default applies) */
	job_spec *jobs;              /* njobs, in request order */
	size_t njobs;
	const char **codes;          /* every job's non_retryable codes, one array */
	v1_texts texts;
} v1_enqueue_input;

/* {"namespace"?, "jobs": [job, ...]} (1..JOBS_PER_REQUEST_MAX jobs). Each
 * job: queue (required), name, input, priority, run_at | delay_ms,
 * max_attempts, backoff {initial_ms, coefficient, max_ms, jitter},
 * non_retryable_codes, timeout_secs, dedup {key, scope, window_secs},
 * concurrency_key, rate_key, metadata; the API's defaults are
 * filled in (max_attempts 5, backoff 1000 ms × 2.0 up to 60,000 ms with
 * jitter 0.1, timeout_secs 300, priority 0). */
int v1_decode_enqueue(const char *body, size_t len, int max_depth, v1_enqueue_input *out, http_error *e);
void v1_enqueue_input_release(v1_enqueue_input *in);

/* ---- POST /v1/jobs/claim -------------------------------------------------------------- */

typedef struct v1_claim_input {
	json_t *doc;
	const char *namespace;       /* NULL: not given */
	const char **queues;         /* nqueues, 1..CLAIM_QUEUES_MAX, distinct */
	size_t nqueues;
	const char *worker_id;
	const char *hostname;        /* NULL: not given */
	int32_t max_jobs;            /* default 1 */
	int64_t wait_ms;             /* default 0 */
	int64_t lease_ms;            /* default JOB_LEASE_DEFAULT_MS */
} v1_claim_input;

int v1_decode_claim(const char *body, size_t len, int max_depth, v1_claim_input *out, http_error *e);
void v1_claim_input_release(v1_claim_input *in);

/* ---- reports: heartbeat, complete, fail, release ------------------------------------------ */

typedef struct v1_heartbeat_input {
	json_t *doc;
	const char *worker_id;
	int64_t lease_ms;            /* default JOB_LEASE_DEFAULT_MS */
	job_heartbeat_item *items;
	size_t nitems;
	v1_texts texts;
} v1_heartbeat_input;

/* {"worker_id", "lease_ms"?, "leases": [{"id", "lease_token", "progress"?}]} */
int v1_decode_heartbeat(const char *body, size_t len, int max_depth, v1_heartbeat_input *out, http_error *e);
void v1_heartbeat_input_release(v1_heartbeat_input *in);

/* The reports on held jobs: complete, fail or release. */
typedef enum v1_report_kind { V1_REPORT_COMPLETE, V1_REPORT_FAIL, V1_REPORT_RELEASE } v1_report_kind;

typedef struct v1_report_input {
	json_t *doc;
	v1_report_kind kind;
	job_complete_item *completes;    /* kind COMPLETE */
	job_fail_item *fails;            /* kind FAIL */
	job_release_item *releases;      /* kind RELEASE */
	size_t nitems;
	v1_texts texts;
} v1_report_input;

/* {"items": [item, ...]} (1..JOBS_PER_REQUEST_MAX), items by kind:
 * complete {"id", "lease_token", "result"?}; fail {"id", "lease_token",
 * "error": {"code", "message"?, "retryable"?, "details"?}, "retry_after_ms"?};
 * release {"id", "lease_token"}. */
int v1_decode_report(v1_report_kind kind, const char *body, size_t len, int max_depth, v1_report_input *out,
                     http_error *e);
/* One item's body for /v1/jobs/{id}/complete or /fail: the item without
 * "items" (its "id", when given, must be the path's). */
int v1_decode_report_one(v1_report_kind kind, const weft_id *id, const char *body, size_t len, int max_depth,
                         v1_report_input *out, http_error *e);
void v1_report_input_release(v1_report_input *in);

/* ---- a job inside another body (a run's queue tasks) ------------------------------------ */

/* Decodes the job object `job` at path `at` into s, as one element of
 * POST /v1/jobs (same fields, bounds and defaults), its members
 * `also_known` (NULL-terminated, may be NULL) left to the caller. Its
 * non_retryable codes go to codes at *ncodes (room for
 * JOB_NON_RETRYABLE_MAX more), its JSON texts to texts. Problems are
 * added to e; *too_large is set when one is a size past its limit.
 * 0 or WEFT_EINVALID (this job had a problem). */
int v1_decode_job_in(const json_t *job, const char *at, const char *const *also_known, job_spec *s,
                     const char **codes, size_t *ncodes, v1_texts *texts, http_error *e, bool *too_large);
void v1_texts_release(v1_texts *t);

/* A lease token as sent: a decimal string of 1 to 19 digits (≤ INT64_MAX).
 * 0 or -1. */
int v1_parse_lease_token(const char *s, int64_t *out);

#endif
