/*
 * weft.h — libweft, the C client of weft's /v1 HTTP API, and a worker
 * runtime that claims jobs from queues and runs them in handler threads.
 *
 * Build: `pkg-config --cflags --libs weft` (add --static for libweft.a).
 *
 * Conventions, for every function below:
 *
 * - Results: 0 on success, or a negative WEFT_E* code (weft_strerror()
 *   names it). With a non-NULL `err`, the call first resets *err (freeing
 *   what an earlier call left in it) and, on failure, fills it in: the HTTP
 *   status, the server's error code, message and details when the server
 *   answered {"error":{"code","message","details"}}, or what the transport
 *   saw otherwise. Zero-initialise a weft_error before its first use and
 *   weft_error_release() it after its last.
 * - Ownership: every pointer parameter is borrowed (read during the call
 *   only, never kept) unless its comment says "owned". Results handed back
 *   through `char **out` or `weft_x **out` are owned by the caller: free
 *   JSON text with weft_free() and typed results with their own _free
 *   function. On failure *out is set to NULL. An `out` of NULL discards
 *   the answer.
 * - JSON values cross the API as text: a `const char *` holding one JSON
 *   value (checked before anything is sent; a bad one fails with
 *   WEFT_EINVAL naming the field) and `char *` JSON text in answers.
 * - Request structs are zero-initialised: a NULL pointer or a 0 number is
 *   left out of the request, so the server's default applies. The few
 *   exceptions (where 0 means something) say so on the member. Arrays are
 *   a pointer and a `_len` count. Request and answer structs change only
 *   with the library's major version (its soname); the two options
 *   structs may grow in any version (their size is passed along).
 * - Answers: the job hot path (enqueue, claim, heartbeat, complete, fail,
 *   release) is parsed into typed structs, since workers read those fields
 *   on every job; every other answer is returned as the server's JSON text
 *   (tasks, runs, queues, workers, tokens): those documents are large,
 *   evolve with the server, and callers usually forward or inspect a few
 *   fields of them with their own JSON library.
 * - Threads: a weft_client serves one thread at a time; give each thread
 *   its own (they share nothing). Small allocations abort the program on
 *   out-of-memory, as in the rest of weft; sizes a caller controls are
 *   bounded by the server, which answers 413 past its limits; an answer
 *   larger than 256 MiB fails the call with WEFT_ETRANSPORT ("answer too
 *   large") rather than being held.
 *
 * Each API function carries an `@operation` tag naming the operationId of
 * the OpenAPI document (GET /v1/openapi.json) it calls.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

#define WEFT_VERSION "0.6.0"

/* ---- errors ------------------------------------------------------------- */

enum {
	WEFT_OK = 0,
	WEFT_EINVAL = -1,       /* a bad argument: nothing was sent (err->message names it) */
	WEFT_ECONNECT = -2,     /* the server could not be reached (refused, no route, unknown name) */
	WEFT_ETIMEOUT = -3,     /* no complete answer within the timeout */
	WEFT_ETRANSPORT = -4,   /* the connection failed during the exchange */
	WEFT_ECANCELED = -5,    /* stopped by a worker's shutdown */
	WEFT_EPROTOCOL = -6,    /* the answer could not be understood (not the expected JSON) */
	WEFT_EBADREQUEST = -7,  /* 400 or 413: the server refused the request as malformed or too large */
	WEFT_EAUTH = -8,        /* 401 or 403: no token, a wrong one, or one without the right */
	WEFT_ENOTFOUND = -9,    /* 404 */
	WEFT_ECONFLICT = -10,   /* 409: the object's state does not allow it (err->details says why) */
	WEFT_EOVERLOADED = -11, /* 429: try again later */
	WEFT_ESERVER = -12,     /* 5xx: the server failed or is unavailable; try again later */
	WEFT_EHTTP = -13,       /* another non-2xx status */
};

/* A static description of a WEFT_E* code ("cannot connect"). Never NULL. */
WEFT_API const char *weft_strerror(int code);

/* What went wrong, filled in by a failed call (see the conventions). */
typedef struct weft_error {
	int code;              /* the WEFT_E* code the call returned; 0 after a success */
	long http_status;      /* the answer's HTTP status; 0 when no answer came */
	char server_code[64];  /* the server's error.code ("not_found"), "" when it sent none */
	char message[512];     /* the server's error.message, or the transport's ("POST http://…: cannot connect: …") */
	char *details;         /* owned by the error: error.details as JSON text, or NULL; freed by weft_error_release
	                          and by the next call given this error */
} weft_error;

/* Frees what err holds (its details) and zeroes it; NULL is allowed. */
WEFT_API void weft_error_release(weft_error *err);

/* Frees JSON text and other memory the library handed over as `char *`;
 * NULL is allowed. */
WEFT_API void weft_free(void *p);

/* The library's version, WEFT_VERSION when built (static string). */
WEFT_API const char *weft_version(void);

/* A tri-state for booleans whose server default is true: zero sends
 * nothing (the default applies). */
typedef enum weft_tristate { WEFT_DEFAULT = 0, WEFT_TRUE = 1, WEFT_FALSE = 2 } weft_tristate;

/* ---- clients ------------------------------------------------------------ */

typedef struct weft_client weft_client;

/* Options of a client; zero-initialise, then set what you need. New
 * members are only ever added at the end: weft_client_new passes the size
 * the caller was compiled with, so an older program keeps working. */
typedef struct weft_client_options {
	const char *url;          /* required: "http://host:8085"; copied */
	const char *token;        /* bearer token (WEFT_TOKEN), or NULL; copied */
	long timeout_ms;          /* a whole request; 0: 30,000 (a claim adds its wait to it) */
	long connect_timeout_ms;  /* 0: 5,000 */
} weft_client_options;

/* A client of the server at opt->url (owned: weft_client_free), or NULL
 * with err filled in (WEFT_EINVAL: no URL, or not http:// or https://).
 * No connection is made before the first call; a connection is kept
 * alive between calls. Call through the weft_client_new macro. */
WEFT_API weft_client *weft_client_new_sized(const weft_client_options *opt, size_t opt_size, weft_error *err);
#define weft_client_new(opt, err) weft_client_new_sized((opt), sizeof(*(opt)), (err))

/* Closes the connection and frees c; NULL is allowed. */
WEFT_API void weft_client_free(weft_client *c);

/* ---- jobs: requests ----------------------------------------------------- */

/* Retry delays of a job: initial_ms * coefficient^(attempt-1), capped. */
typedef struct weft_backoff {
	int64_t initial_ms;       /* 0: the server's default (1,000) */
	double coefficient;       /* 0: default (2.0) */
	int64_t max_ms;           /* 0: default (60,000) */
	double jitter;            /* 0..1, sent only with jitter_set (0 is a real value) */
	bool jitter_set;
} weft_backoff;

/* A deduplication key: an enqueue whose key matches an active (or recent)
 * job answers that job, duplicate = true. */
typedef struct weft_dedup {
	const char *key;          /* required */
	const char *scope;        /* "active" (default) or "window" */
	int64_t window_secs;      /* with scope "window" */
} weft_dedup;

/* One job to enqueue. */
typedef struct weft_job_spec {
	const char *queue;        /* required */
	const char *name;         /* default: the queue */
	const char *input;        /* JSON text (at most 1 MiB), or NULL for null */
	int64_t priority;         /* -1000..1000, higher first; 0 is the default */
	const char *run_at;       /* RFC 3339: not claimed before; not with delay_ms */
	int64_t delay_ms;         /* not claimed before now + this */
	int64_t max_attempts;     /* 1..1000, or -1 forever; 0: the server's default (5) */
	const weft_backoff *backoff;
	const char *const *non_retryable_codes;  /* error codes that fail the job for good at once */
	size_t non_retryable_codes_len;
	int64_t timeout_secs;     /* one attempt's execution time; 0: default (300) */
	const weft_dedup *dedup;
	const char *concurrency_key;
	const char *rate_key;
	const char *metadata;     /* JSON object text, or NULL */
} weft_job_spec;

typedef struct weft_enqueue_request {
	const char *namespace_;   /* "namespace"; NULL: the token's only namespace, else "default" */
	const weft_job_spec *jobs;   /* 1..1000 */
	size_t jobs_len;
} weft_enqueue_request;

typedef struct weft_claim_request {
	const char *namespace_;
	const char *const *queues;   /* 1..16 queue names */
	size_t queues_len;
	const char *worker_id;    /* required: this worker's stable id (1..128 bytes) */
	const char *hostname;
	int64_t max_jobs;         /* 1..1000; 0: 1 */
	int64_t wait_ms;          /* how long to wait for a first job (long poll, up to 60,000); 0: none */
	int64_t lease_ms;         /* 1,000..3,600,000; 0: default (60,000) */
} weft_claim_request;

/* A lease to extend. */
typedef struct weft_lease_ref {
	const char *id;
	const char *lease_token;
	const char *progress;     /* JSON text kept on the job (at most 4 KiB), or NULL */
} weft_lease_ref;

typedef struct weft_heartbeat_request {
	const char *worker_id;    /* required */
	int64_t lease_ms;         /* each lease then ends at now + lease_ms; 0: default */
	const weft_lease_ref *leases;   /* 1..1000 */
	size_t leases_len;
} weft_heartbeat_request;

/* Why a job failed. */
typedef struct weft_job_error {
	const char *code;         /* required: a short machine-readable reason ("timeout", "bad_input") */
	const char *message;      /* at most 4,096 bytes */
	weft_tristate retryable;  /* WEFT_FALSE: fail for good now (dead letter); default: retry */
	const char *details;      /* JSON text (at most 16 KiB), or NULL */
} weft_job_error;

/* A claimed job's completion (for weft_complete_job, id may be NULL: the
 * path's id is used). */
typedef struct weft_complete_item {
	const char *id;
	const char *lease_token;  /* required */
	const char *result;       /* JSON text (at most 1 MiB), or NULL for null */
} weft_complete_item;

#define WEFT_RETRY_NOW (-1)   /* retry_after_ms: retry at once (0 leaves the backoff's delay) */

typedef struct weft_fail_item {
	const char *id;
	const char *lease_token;  /* required */
	weft_job_error error;     /* required: error.code */
	int64_t retry_after_ms;   /* replaces the backoff's delay; 0: not sent; WEFT_RETRY_NOW: 0 */
} weft_fail_item;

typedef struct weft_release_item {
	const char *id;
	const char *lease_token;
} weft_release_item;

typedef struct weft_complete_request {
	const weft_complete_item *items;   /* 1..1000 */
	size_t items_len;
} weft_complete_request;

typedef struct weft_fail_request {
	const weft_fail_item *items;
	size_t items_len;
} weft_fail_request;

typedef struct weft_release_request {
	const weft_release_item *items;
	size_t items_len;
} weft_release_request;

/* ---- jobs: answers (typed; every string owned by the answer) ------------ */

typedef struct weft_enqueued_job {
	char *id;                 /* the job's id; the existing job's when duplicate */
	char *run_id;
	char *queue;
	char *status;
	bool duplicate;
} weft_enqueued_job;

typedef struct weft_enqueue_result {
	weft_enqueued_job *jobs;  /* in request order */
	size_t jobs_len;
} weft_enqueue_result;

/* A parent of a job in a run, with its result. */
typedef struct weft_parent {
	char *id;
	char *name;
	char *status;
	char *result;             /* JSON text ("null" when none) */
} weft_parent;

/* A claimed job. In a weft_claim_result its strings belong to the result;
 * a worker's handler gets one borrowed for the call. */
typedef struct weft_job {
	char *id;
	char *run_id;
	char *queue;
	char *name;
	int32_t attempt;          /* 1 on the first claim */
	int32_t max_attempts;     /* -1: forever */
	char *lease_token;
	char *lease_until;        /* RFC 3339 */
	char *timeout_at;         /* RFC 3339: the attempt's execution deadline */
	int64_t heartbeat_ms;     /* suggested heartbeat period */
	char *input;              /* JSON text ("null" when none) */
	char *metadata;           /* JSON text ("null" when none) */
	weft_parent *parents;
	size_t parents_len;
} weft_job;

typedef struct weft_claim_result {
	weft_job *jobs;           /* empty after the wait */
	size_t jobs_len;
	bool drain;               /* the worker was told to drain: stop claiming */
} weft_claim_result;

typedef struct weft_lease_state {
	char *id;
	char *state;              /* "held", "canceled", "lost" or "not_found" (stop the work, report nothing) */
	char *lease_until;        /* with held, else NULL */
} weft_lease_state;

typedef struct weft_heartbeat_result {
	weft_lease_state *leases;
	size_t leases_len;
	bool drain;
} weft_heartbeat_result;

/* The outcome of one completion, failure or release. */
typedef struct weft_report_result {
	char *id;
	char *outcome;            /* completed, already_completed, retrying, dead_lettered, already_failed,
	                             released, stale_lease, canceled, not_found */
	char *next_attempt_at;    /* with retrying, else NULL */
} weft_report_result;

typedef struct weft_report_results {
	weft_report_result *results;   /* in request order */
	size_t results_len;
} weft_report_results;

/* Free a typed answer and everything in it; NULL is allowed. */
WEFT_API void weft_enqueue_result_free(weft_enqueue_result *r);
WEFT_API void weft_claim_result_free(weft_claim_result *r);
WEFT_API void weft_heartbeat_result_free(weft_heartbeat_result *r);
WEFT_API void weft_report_results_free(weft_report_results *r);
WEFT_API void weft_report_result_free(weft_report_result *r);

/* ---- jobs: calls -------------------------------------------------------- */

/* Enqueues jobs (201; 200 when the idempotency key replays an earlier
 * request). idempotency_key: NULL or the Idempotency-Key header.
 * @operation enqueueJobs */
WEFT_API int weft_enqueue_jobs(weft_client *c, const weft_enqueue_request *req, const char *idempotency_key,
                               weft_enqueue_result **out, weft_error *err);

/* Claims up to req->max_jobs jobs, waiting up to req->wait_ms for a first.
 * @operation claimJobs */
WEFT_API int weft_claim_jobs(weft_client *c, const weft_claim_request *req, weft_claim_result **out,
                             weft_error *err);

/* Extends leases; the answer says which are still held.
 * @operation heartbeatJobs */
WEFT_API int weft_heartbeat_jobs(weft_client *c, const weft_heartbeat_request *req, weft_heartbeat_result **out,
                                 weft_error *err);

/* Completes claimed jobs in one request. @operation completeJobs */
WEFT_API int weft_complete_jobs(weft_client *c, const weft_complete_request *req, weft_report_results **out,
                                weft_error *err);

/* Fails claimed jobs in one request. @operation failJobs */
WEFT_API int weft_fail_jobs(weft_client *c, const weft_fail_request *req, weft_report_results **out,
                            weft_error *err);

/* Gives leases back without using an attempt. @operation releaseJobs */
WEFT_API int weft_release_jobs(weft_client *c, const weft_release_request *req, weft_report_results **out,
                               weft_error *err);

/* Completes one job (409 when its lease is stale or it was canceled).
 * @operation completeJob */
WEFT_API int weft_complete_job(weft_client *c, const char *id, const weft_complete_item *req,
                               weft_report_result **out, weft_error *err);

/* Fails one job. @operation failJob */
WEFT_API int weft_fail_job(weft_client *c, const char *id, const weft_fail_item *req, weft_report_result **out,
                           weft_error *err);

/* ---- tasks -------------------------------------------------------------- */

/* Filters of a task list (every member optional). */
typedef struct weft_task_query {
	const char *namespace_;
	const char *queue;
	const char *status;       /* one status or several, comma-separated */
	const char *executor;
	const char *run_id;
	const char *created_after;   /* RFC 3339 */
	const char *created_before;
	const char *cursor;       /* the previous page's next_cursor */
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_task_query;

/* A page of a list that has nothing but paging to choose. */
typedef struct weft_page_query {
	const char *cursor;
	int64_t limit;
} weft_page_query;

/* An operator action's body. */
typedef struct weft_operator_request {
	const char *reason;       /* kept in the task's events (at most 1,024 bytes) */
} weft_operator_request;

typedef struct weft_resolve_request {
	const char *reason;
	const char *result;       /* JSON text: the task's result; NULL: null */
} weft_resolve_request;

typedef struct weft_task_complete_request {
	const char *result;       /* JSON text, or NULL for null */
} weft_task_complete_request;

typedef struct weft_task_error {
	const char *code;         /* required */
	const char *message;
} weft_task_error;

typedef struct weft_task_fail_request {
	weft_task_error error;
} weft_task_fail_request;

/* Tasks, newest first: {"tasks": [...], "next_cursor"}. q may be NULL.
 * @operation listTasks */
WEFT_API int weft_list_tasks(weft_client *c, const weft_task_query *q, char **out, weft_error *err);

/* One task (Task JSON). @operation getTask */
WEFT_API int weft_get_task(weft_client *c, const char *id, char **out, weft_error *err);

/* A task's events: {"events": [...], "next_cursor"}. q may be NULL.
 * @operation listTaskEvents */
WEFT_API int weft_list_task_events(weft_client *c, const char *id, const weft_page_query *q, char **out,
                                   weft_error *err);

/* ---- per-execution logs ---------------------------------------------------- */

/* Which of a task's log lines: q may be NULL. */
typedef struct weft_task_log_query {
	/* true: the answer is the server-sent event stream's text, given once
	 * the task has ended (event "line" per line, then "end"). */
	bool follow;
	int32_t attempt;          /* 0: every attempt */
	const char *stream;       /* "stdout", "stderr", "system"; NULL: every stream */
	const char *cursor;       /* the previous page's next_cursor */
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_task_log_query;

/* A task's log lines in (attempt, seq) order: {"task_id", "status",
 * "attempt", "lines": [...], "next_cursor", "more"}. A follower asks again
 * with next_cursor for lines written since.
 * @operation listTaskLogs */
WEFT_API int weft_list_task_logs(weft_client *c, const char *id, const weft_task_log_query *q, char **out,
                                 weft_error *err);

/* One line a worker appends to its held job. */
typedef struct weft_log_line {
	const char *text;         /* required; at most 64 KiB (stored cut to 16 KiB) */
	const char *stream;       /* "stdout" (NULL) or "stderr" */
	const char *level;        /* "debug", "info", "warn", "error"; NULL: by stream */
} weft_log_line;

typedef struct weft_job_log_request {
	const char *lease_token;  /* required: the held job's */
	const weft_log_line *lines;   /* 1..1000 */
	size_t lines_len;
} weft_job_log_request;

/* Appends log lines to the attempt of a job the caller holds: {"accepted",
 * "attempt", "dropped"}; 409 (WEFT_ECONFLICT) when the lease is not the
 * job's any more. out may be NULL.
 * @operation appendJobLogs */
WEFT_API int weft_job_log(weft_client *c, const char *id, const weft_job_log_request *req, char **out,
                          weft_error *err);

/* The search across executions; every member optional. */
typedef struct weft_log_search_query {
	const char *namespace_;
	const char *task_id;
	const char *run_id;
	const char *queue;
	const char *stream;
	const char *level;
	const char *q;            /* a substring of the text, case-insensitive */
	const char *since;        /* RFC 3339 */
	const char *until;
	const char *cursor;
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_log_search_query;

/* Log lines across executions, newest first: {"lines", "next_cursor"}.
 * @operation searchLogs */
WEFT_API int weft_search_logs(weft_client *c, const weft_log_search_query *q, char **out, weft_error *err);

/* A task's webhook calls (start call, end and cancel webhooks), oldest
 * first, one entry per call with its attempts counted and the last
 * outcome: {"task_id", "deliveries": [{"action", "event", "attempt",
 * "max_attempts", "status", "http_status", "error", "started_at",
 * "ended_at"}]}.
 * @operation listTaskDeliveries */
WEFT_API int weft_list_task_deliveries(weft_client *c, const char *id, char **out, weft_error *err);

/* ---- the metrics history --------------------------------------------------- */

/* Which range: q may be NULL (the last hour). */
typedef struct weft_metrics_history_query {
	const char *since;        /* RFC 3339; NULL: an hour before until */
	const char *until;        /* RFC 3339; NULL: now; at most 31 days after since */
} weft_metrics_history_query;

/* What the server counted step by step: {"step_secs", "samples": [{"at",
 * "created", "completed", "failed", "retried", "latency_p50_ms",
 * "latency_p95_ms", "latency_p99_ms", "queue_depth", "running"}]}.
 * @operation getMetricsHistory */
WEFT_API int weft_get_metrics_history(weft_client *c, const weft_metrics_history_query *q, char **out,
                                      weft_error *err);

/* ---- the change feed ------------------------------------------------------- */

/* Which changes: q may be NULL (every namespace the token sees). */
typedef struct weft_changes_query {
	const char *run;          /* one run's tasks (a lone job is its own run) */
	const char *namespace_;   /* one namespace's; not with run */
	const char *after;        /* the previous answer's cursor; NULL: start now */
	/* Not used: this call always asks for the changes kept now (follow=false);
	 * the live stream (server-sent events) never ends, so it is read with an
	 * event-stream reader, not here. */
	bool follow;
} weft_changes_query;

/* The tasks whose status changed after the cursor, as the server keeps
 * them now: {"tasks": [...], "cursor", "reset"}. Ask again with cursor;
 * reset true: the cursor was older than what is kept, reload. Without a
 * cursor the answer is empty and its cursor marks now (the server keeps
 * changes for a minute after each such call).
 * @operation listChanges */
WEFT_API int weft_list_changes(weft_client *c, const weft_changes_query *q, char **out, weft_error *err);

/* The operator actions on a task answer the task (Task JSON); req may be
 * NULL; 409 (WEFT_ECONFLICT) when its status does not allow the action.
 * @operation retryTask */
WEFT_API int weft_retry_task(weft_client *c, const char *id, const weft_operator_request *req,
                             const char *idempotency_key, char **out, weft_error *err);
/* @operation resetTask */
WEFT_API int weft_reset_task(weft_client *c, const char *id, const weft_operator_request *req,
                             const char *idempotency_key, char **out, weft_error *err);
/* Ends a task in success with the given result. @operation resolveTask */
WEFT_API int weft_resolve_task(weft_client *c, const char *id, const weft_resolve_request *req,
                               const char *idempotency_key, char **out, weft_error *err);
/* @operation cancelTask */
WEFT_API int weft_cancel_task(weft_client *c, const char *id, const weft_operator_request *req,
                              const char *idempotency_key, char **out, weft_error *err);
/* Holds a task back from being claimed or started. @operation pauseTask */
WEFT_API int weft_pause_task(weft_client *c, const char *id, const weft_operator_request *req,
                             const char *idempotency_key, char **out, weft_error *err);
/* @operation resumeTask */
WEFT_API int weft_resume_task(weft_client *c, const char *id, const weft_operator_request *req,
                              const char *idempotency_key, char **out, weft_error *err);

/* Reports the end of a task run by an external executor (TaskReported
 * JSON). @operation taskComplete */
WEFT_API int weft_task_complete(weft_client *c, const char *id, const weft_task_complete_request *req,
                                const char *idempotency_key, char **out, weft_error *err);
/* @operation taskFail */
WEFT_API int weft_task_fail(weft_client *c, const char *id, const weft_task_fail_request *req,
                            const char *idempotency_key, char **out, weft_error *err);

/* ---- dead letters ------------------------------------------------------- */

typedef struct weft_dead_letter_query {
	const char *namespace_;
	const char *queue;
	const char *cursor;
	int64_t limit;
} weft_dead_letter_query;

/* Requeues dead letters: the ids given, or up to limit of a queue's. */
typedef struct weft_requeue_request {
	const char *const *ids;
	size_t ids_len;
	const char *namespace_;
	const char *queue;
	int64_t limit;            /* 0: 100 */
	const char *reason;
} weft_requeue_request;

/* @operation listDeadLetters */
WEFT_API int weft_list_dead_letters(weft_client *c, const weft_dead_letter_query *q, char **out, weft_error *err);
/* @operation getDeadLetter */
WEFT_API int weft_get_dead_letter(weft_client *c, const char *id, char **out, weft_error *err);
/* @operation requeueDeadLetters */
WEFT_API int weft_requeue_dead_letters(weft_client *c, const weft_requeue_request *req, const char *idempotency_key,
                                       char **out, weft_error *err);

/* ---- workers ------------------------------------------------------------ */

typedef struct weft_worker_query {
	const char *namespace_;
	const char *queue;
	const char *cursor;
	int64_t limit;
} weft_worker_query;

/* @operation listWorkers */
WEFT_API int weft_list_workers(weft_client *c, const weft_worker_query *q, char **out, weft_error *err);
/* namespace: NULL for the default. @operation getWorker */
WEFT_API int weft_get_worker(weft_client *c, const char *id, const char *namespace_, char **out, weft_error *err);
/* Tells a worker to drain (its next heartbeat or claim says so).
 * @operation drainWorker */
WEFT_API int weft_drain_worker(weft_client *c, const char *id, const char *namespace_, const char *idempotency_key,
                               char **out, weft_error *err);

/* ---- runs --------------------------------------------------------------- */

typedef struct weft_run_parent {
	const char *ref;          /* a task listed before this one */
	weft_tristate requires_success;   /* default: true */
} weft_run_parent;

typedef struct weft_webhook_params {
	const char *url;          /* required */
	const char *verb;         /* required: Get, Post, Put, Patch, Delete */
	const char *body;         /* JSON text, or NULL */
	const char *headers;      /* JSON object text {"Name": "value"}, or NULL */
} weft_webhook_params;

/* One task of a run (a DAG): a queue job or a webhook call. */
typedef struct weft_run_task_spec {
	const char *ref;          /* required, unique in the run */
	const char *executor;     /* "queue" (default) or "webhook" */
	const weft_run_parent *parents;
	size_t parents_len;
	const char *queue;
	const char *name;
	const char *input;        /* JSON text */
	int64_t priority;
	const char *run_at;
	int64_t delay_ms;
	int64_t max_attempts;
	const weft_backoff *backoff;
	const char *const *non_retryable_codes;
	size_t non_retryable_codes_len;
	int64_t timeout_secs;
	const char *concurrency_key;
	const char *rate_key;
	const char *metadata;     /* JSON object text */
	const char *kind;
	const weft_webhook_params *on_start;
	const weft_webhook_params *on_success;
	size_t on_success_len;
	const weft_webhook_params *on_failure;
	size_t on_failure_len;
	/* A decision: it must have children, and its result {"next": [ref,
	 * ...]} names those that run; the others end skipped. */
	bool decision;
	/* An event the task publishes when it ends, or NULL. */
	const struct weft_task_emit *emit;
	/* executor "exec": what the server runs, and its retries (NULL: none). */
	const struct weft_exec_spec *exec;
	const struct weft_exec_retry *retry;
} weft_run_task_spec;

/* What an exec task runs: argv (argv[0] on the server's EXEC_ALLOW list)
 * given to execve as it is, env added to the few variables the child
 * inherits. */
typedef struct weft_exec_spec {
	const char *const *argv;  /* required, at least one */
	size_t argv_len;
	const char *env;          /* JSON object text of strings, or NULL */
	const char *cwd;          /* an absolute path; NULL: the server's */
	int64_t timeout_secs;     /* 0: the task's timeout_secs, else 3600 */
} weft_exec_spec;

/* An exec task's retries: any failure but exec_failed is retried. */
typedef struct weft_exec_retry {
	int64_t max_retries;
	double initial_delay_secs;     /* sent only with initial_delay_set (0 is a real value); default 5 */
	bool initial_delay_set;
} weft_exec_retry;

/* A task's event on its end: topic (required), on "success", "failure"
 * or "end" (NULL: "end"). */
typedef struct weft_task_emit {
	const char *topic;
	const char *on;
} weft_task_emit;

typedef struct weft_run_request {
	const char *namespace_;
	const char *name;
	const char *metadata;     /* JSON object text */
	const weft_run_task_spec *tasks;
	size_t tasks_len;
} weft_run_request;

typedef struct weft_run_query {
	const char *namespace_;
	const char *status;
	const char *created_after;
	const char *created_before;
	const char *cursor;
	int64_t limit;
} weft_run_query;

/* Creates a run (RunCreated JSON: its id and its tasks' ids by ref).
 * @operation createRun */
WEFT_API int weft_create_run(weft_client *c, const weft_run_request *req, const char *idempotency_key, char **out,
                             weft_error *err);
/* @operation listRuns */
WEFT_API int weft_list_runs(weft_client *c, const weft_run_query *q, char **out, weft_error *err);
/* A run with its status and counts and, when tasks is true, its first
 * 1,000 tasks with their results ("tasks", "tasks_next_cursor"); false
 * answers the summary alone, cheap for a large run.
 * @operation getRun */
WEFT_API int weft_get_run(weft_client *c, const char *id, bool tasks, char **out, weft_error *err);
/* A run's tasks in submission order with the edges into them, pages of up
 * to 10,000 (limit 0: 10,000): {"run_id", "total", "tasks", "edges",
 * "next_cursor"}.
 * @operation getRunGraph */
WEFT_API int weft_get_run_graph(weft_client *c, const char *id, const weft_page_query *q, char **out,
                                weft_error *err);
/* The path through a run with the largest sum of task durations:
 * {"tasks": [ids], "duration_ms", "by_depth"}.
 * @operation getRunCriticalPath */
WEFT_API int weft_get_run_critical_path(weft_client *c, const char *id, char **out, weft_error *err);
/* Replaces the rules of a run's unfinished tasks of one kind. */
typedef struct weft_run_rules_patch {
	const char *kind;         /* required */
	const char *rules;        /* required: a JSON array of rules (ArcRun's Concurency / Capacity objects) */
} weft_run_rules_patch;
/* {"run_id", "kind", "updated"}.
 * @operation patchRunRules */
WEFT_API int weft_patch_run_rules(weft_client *c, const char *id, const weft_run_rules_patch *req, char **out,
                                  weft_error *err);
/* @operation listRunTasks */
WEFT_API int weft_list_run_tasks(weft_client *c, const char *id, const weft_page_query *q, char **out,
                                 weft_error *err);
/* @operation cancelRun */
WEFT_API int weft_cancel_run(weft_client *c, const char *id, const char *idempotency_key, char **out,
                             weft_error *err);
/* Pauses every task of the run that may be: {"id", "paused": n,
 * "unchanged": n}. @operation pauseRun */
WEFT_API int weft_pause_run(weft_client *c, const char *id, const char *idempotency_key, char **out,
                            weft_error *err);
/* {"id", "resumed": n, "unchanged": n}. @operation resumeRun */
WEFT_API int weft_resume_run(weft_client *c, const char *id, const char *idempotency_key, char **out,
                             weft_error *err);

/* ---- workflows ---------------------------------------------------------- */

/*
 * A workflow run is a job of its queue whose handler calls the step API
 * with the job's lease token: a step that completed answers its stored
 * output on every replay (docs/internals/workflows.md). The worker calls
 * (steps, sleep, signal waits, complete, fail) answer the server's JSON,
 * which says what the handler does next.
 */

/* A workflow run to start: a job of queue (its retry policy is also its
 * steps'). */
typedef struct weft_workflow_start_request {
	const char *namespace_;   /* NULL: the token's only namespace, else "default" */
	const char *type;         /* required: the handler a worker runs (also the job's name) */
	const char *queue;        /* required */
	const char *input;        /* JSON text (at most 1 MiB), or NULL for null */
	int64_t priority;         /* -1000..1000 */
	const char *run_at;       /* RFC 3339; not with delay_ms */
	int64_t delay_ms;
	int64_t max_attempts;     /* 1..1000, or -1 forever; 0: the server's default (5) */
	const weft_backoff *backoff;
	const char *const *non_retryable_codes;
	size_t non_retryable_codes_len;
	int64_t timeout_secs;     /* one attempt's execution time; 0: default (300) */
	const char *concurrency_key;
	const char *rate_key;
	const char *metadata;     /* JSON object text, or NULL */
	const char *idempotency_key;   /* the run's key, unique among active runs of the namespace: a start
	                                  with a key an active run holds answers that run (200); see
	                                  weft_get_workflow_by_key. Not the Idempotency-Key header. */
} weft_workflow_start_request;

/* Filters of a workflow list (every member optional). */
typedef struct weft_workflow_query {
	const char *namespace_;   /* NULL: every namespace the token sees */
	const char *status;
	const char *type;
	const char *queue;
	const char *created_after;   /* RFC 3339, inclusive */
	const char *created_before;  /* exclusive */
	const char *cursor;
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_workflow_query;

/* Every step call names the run's current lease (the claimed job's
 * lease_token) and the step's name. */
typedef struct weft_workflow_step_begin_request {
	const char *lease_token;  /* required */
	const char *name;         /* required */
} weft_workflow_step_begin_request;

typedef struct weft_workflow_step_complete_request {
	const char *lease_token;  /* required */
	const char *name;         /* required */
	int64_t seq;              /* required: the seq begin answered */
	const char *output;       /* JSON text (at most 1 MiB), or NULL for null */
} weft_workflow_step_complete_request;

typedef struct weft_workflow_step_fail_request {
	const char *lease_token;  /* required */
	const char *name;         /* required */
	int64_t seq;              /* required */
	weft_task_error error;    /* required: error.code */
	weft_tristate retryable;  /* WEFT_FALSE: the step (and the run) fails for good; default: retry */
} weft_workflow_step_fail_request;

typedef struct weft_workflow_sleep_request {
	const char *lease_token;  /* required */
	const char *name;         /* required */
	int64_t duration_ms;      /* always sent: 0 is a real value */
} weft_workflow_sleep_request;

typedef struct weft_workflow_wait_signal_request {
	const char *lease_token;  /* required */
	const char *name;         /* required: the signal's name */
	int64_t timeout_ms;       /* 0: wait until a signal, a cancel or an operator */
} weft_workflow_wait_signal_request;

typedef struct weft_workflow_complete_request {
	const char *lease_token;  /* required */
	const char *output;       /* JSON text, or NULL for null */
} weft_workflow_complete_request;

typedef struct weft_workflow_fail_request {
	const char *lease_token;  /* required */
	weft_task_error error;    /* required: error.code */
	weft_tristate retryable;  /* WEFT_FALSE: fail for good; default: retry by the run's policy */
} weft_workflow_fail_request;

typedef struct weft_workflow_signal_request {
	const char *name;         /* required */
	const char *payload;      /* JSON text (at most 1 MiB): what the wait answers; NULL: null */
} weft_workflow_signal_request;

/* Starts a run (201; 200 with the active run that holds req->idempotency_key).
 * idempotency_key: NULL or the Idempotency-Key header. @operation startWorkflow */
WEFT_API int weft_start_workflow(weft_client *c, const weft_workflow_start_request *req,
                                 const char *idempotency_key, char **out, weft_error *err);
/* {"workflows": [...], "next_cursor"}. q may be NULL. @operation listWorkflows */
WEFT_API int weft_list_workflows(weft_client *c, const weft_workflow_query *q, char **out, weft_error *err);
/* @operation getWorkflow */
WEFT_API int weft_get_workflow(weft_client *c, const char *id, char **out, weft_error *err);
/* A run's memo, in the order its rows were first reached: {"steps":
 * [{kind, name, seq, status, attempts, output, error, next_attempt_at,
 * started_at, ended_at}], "next_cursor"}. q may be NULL.
 * @operation listWorkflowSteps */
WEFT_API int weft_list_workflow_steps(weft_client *c, const char *id, const weft_page_query *q, char **out,
                                      weft_error *err);
/* The run that holds (or last held) a run key. namespace_: NULL for the
 * default. @operation getWorkflowByKey */
WEFT_API int weft_get_workflow_by_key(weft_client *c, const char *key, const char *namespace_, char **out,
                                      weft_error *err);
/* Begins a step: the answer holds its seq, or its stored output when it
 * completed before. @operation workflowStepBegin */
WEFT_API int weft_workflow_step_begin(weft_client *c, const char *id, const weft_workflow_step_begin_request *req,
                                      char **out, weft_error *err);
/* @operation workflowStepComplete */
WEFT_API int weft_workflow_step_complete(weft_client *c, const char *id,
                                         const weft_workflow_step_complete_request *req, char **out,
                                         weft_error *err);
/* @operation workflowStepFail */
WEFT_API int weft_workflow_step_fail(weft_client *c, const char *id, const weft_workflow_step_fail_request *req,
                                     char **out, weft_error *err);
/* @operation workflowSleep */
WEFT_API int weft_workflow_sleep(weft_client *c, const char *id, const weft_workflow_sleep_request *req,
                                 char **out, weft_error *err);
/* @operation workflowWaitSignal */
WEFT_API int weft_workflow_wait_signal(weft_client *c, const char *id,
                                       const weft_workflow_wait_signal_request *req, char **out, weft_error *err);
/* Ends the run in success with its output. @operation workflowComplete */
WEFT_API int weft_workflow_complete(weft_client *c, const char *id, const weft_workflow_complete_request *req,
                                    char **out, weft_error *err);
/* @operation workflowFail */
WEFT_API int weft_workflow_fail(weft_client *c, const char *id, const weft_workflow_fail_request *req, char **out,
                                weft_error *err);
/* The operator calls: req may be NULL (its reason is kept on the run).
 * @operation cancelWorkflow */
WEFT_API int weft_cancel_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                                  const char *idempotency_key, char **out, weft_error *err);
/* @operation terminateWorkflow */
WEFT_API int weft_terminate_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                                     const char *idempotency_key, char **out, weft_error *err);
/* @operation retryWorkflow */
WEFT_API int weft_retry_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                                 const char *idempotency_key, char **out, weft_error *err);
/* Sends a signal to a run. @operation signalWorkflow */
WEFT_API int weft_signal_workflow(weft_client *c, const char *id, const weft_workflow_signal_request *req,
                                  const char *idempotency_key, char **out, weft_error *err);

/* ---- schedules ---------------------------------------------------------- */

/*
 * A schedule starts a job of its target on a cron's wall-clock times in a
 * zone (docs/internals/time.md, "Schedules"). Names are [a-z0-9][a-z0-9_.-]*
 * (at most 64), unique within a namespace; namespace_ NULL is the token's
 * default.
 */

/* What a schedule starts each time: kind "job" (a job, with the options of
 * POST /v1/jobs a schedule keeps), "workflow" (a workflow run of type, as
 * POST /v1/workflows; no name) or "template" (a run of template
 * "name@version" with context; only template and context apply). */
typedef struct weft_schedule_target {
	const char *kind;         /* NULL: "job" */
	const char *queue;        /* required for a job or a workflow run */
	const char *name;         /* job only */
	const char *input;        /* JSON text (at most 1 MiB), or NULL */
	int64_t priority;         /* -1000..1000 */
	int64_t max_attempts;     /* 0: the server's default */
	int64_t timeout_secs;     /* 0: the server's default */
	const char *concurrency_key;
	const char *rate_key;
	const weft_backoff *backoff;             /* NULL: the server's default */
	const char *const *non_retryable_codes;
	size_t non_retryable_codes_len;
	const char *type;         /* workflow: the workflow type (required) */
	const char *namespace_;   /* workflow: the run's namespace; NULL: the schedule's */
	const char *template_;    /* template: "name@version" (required) */
	const char *context;      /* template: JSON text, or NULL */
} weft_schedule_target;

typedef struct weft_schedule_create_request {
	const char *namespace_;   /* NULL: the token's default */
	const char *name;         /* required */
	const char *cron;         /* required: five fields, or six with a leading second; names, @macros */
	const char *timezone;     /* IANA zone; NULL: "UTC" */
	weft_schedule_target target;   /* required: target.queue */
	const char *catchup;      /* "none" (default), "one" or "all" */
	int64_t catchup_max;      /* 1..1000 with catchup "all"; 0: 1 */
	const char *overlap;      /* "queue" (default), "skip" or "cancel_previous" */
	weft_tristate paused;     /* WEFT_TRUE: created paused */
} weft_schedule_create_request;

/* A page of schedules (every member optional). */
typedef struct weft_schedule_query {
	const char *namespace_;
	const char *cursor;
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_schedule_query;

typedef struct weft_schedule_get_query {
	const char *namespace_;
	int64_t next;             /* next fire times shown, 1..100; 0: the default (5); -1: none */
} weft_schedule_get_query;

/* Creates a schedule (201; 409 when the name is taken). @operation createSchedule */
WEFT_API int weft_create_schedule(weft_client *c, const weft_schedule_create_request *req, char **out,
                                  weft_error *err);
/* {"schedules": [...], "next_cursor"}, by name. q may be NULL. @operation listSchedules */
WEFT_API int weft_list_schedules(weft_client *c, const weft_schedule_query *q, char **out, weft_error *err);
/* The schedule with its "next" fire times. q may be NULL. @operation getSchedule */
WEFT_API int weft_get_schedule(weft_client *c, const char *name, const weft_schedule_get_query *q, char **out,
                               weft_error *err);
/* 204: *out is empty text. @operation deleteSchedule */
WEFT_API int weft_delete_schedule(weft_client *c, const char *name, const char *namespace_, char **out,
                                  weft_error *err);
/* Stops it firing. @operation pauseSchedule */
WEFT_API int weft_pause_schedule(weft_client *c, const char *name, const char *namespace_, char **out,
                                 weft_error *err);
/* Fires again from the cron's next time after now (missed times are not
 * fired). @operation resumeSchedule */
WEFT_API int weft_resume_schedule(weft_client *c, const char *name, const char *namespace_, char **out,
                                  weft_error *err);
/* Fires now, paused or not, under its overlap policy; the answer's
 * last_run_id is the run started.
 * @operation triggerSchedule */
WEFT_API int weft_trigger_schedule(weft_client *c, const char *name, const char *namespace_, char **out,
                                   weft_error *err);

/* ---- incoming webhooks, events and subscriptions -------------------------- */

/*
 * A hook starts its target (a weft_schedule_target: a job, a workflow run
 * or a template run) with each signed delivery's body as input
 * (docs/internals/triggers.md). An event published in a namespace starts
 * the target of each subscription whose topic matches it, once per event
 * and subscription. Names are [a-z0-9][a-z0-9_.-]* (at most 64);
 * namespace_ NULL is the token's default.
 */

typedef struct weft_hook_create_request {
	const char *namespace_;
	const char *name;                  /* required */
	weft_schedule_target target;       /* required */
	const char *scheme;                /* "weft" (default) or "github" */
	const char *secret;                /* 16..256 visible ASCII; NULL: made by the server */
	int64_t replay_window_secs;        /* 1..86400; 0: 300 */
} weft_hook_create_request;

/* A page of hooks or subscriptions (every member optional). */
typedef struct weft_name_page_query {
	const char *namespace_;
	const char *cursor;
	int64_t limit;                     /* 1..1000; 0: 100 */
} weft_name_page_query;

/* Creates a hook; the answer carries its secret, answered only here and by
 * weft_rotate_hook_secret. @operation createHook */
WEFT_API int weft_create_hook(weft_client *c, const weft_hook_create_request *req, char **out, weft_error *err);
/* {"hooks": [...], "next_cursor"}, by name. q may be NULL. @operation listHooks */
WEFT_API int weft_list_hooks(weft_client *c, const weft_name_page_query *q, char **out, weft_error *err);
/* A hook (never its secret). @operation getHook */
WEFT_API int weft_get_hook(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err);
/* 204: *out is empty text. @operation deleteHook */
WEFT_API int weft_delete_hook(weft_client *c, const char *name, const char *namespace_, char **out,
                              weft_error *err);
typedef struct weft_hook_rotate_request {
	const char *secret;                /* 16..256 visible ASCII; NULL: made by the server */
} weft_hook_rotate_request;

/* Replaces the secret (req NULL or req->secret NULL: made by the server);
 * the answer carries the new one. @operation rotateHookSecret */
WEFT_API int weft_rotate_hook_secret(weft_client *c, const char *name, const char *namespace_,
                                     const weft_hook_rotate_request *req, char **out, weft_error *err);

/* A delivery as a sender makes it: body as sent, and the signature header
 * of the hook's scheme computed by the sender over those bytes
 * (X-Weft-Signature "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">",
 * or X-Hub-Signature-256 "sha256=<hex HMAC-SHA256 of the body>"). */
typedef struct weft_hook_delivery {
	const char *namespace_;            /* NULL: "default" */
	const char *body;                  /* at most 1 MiB; NULL: empty */
	size_t body_len;
	const char *weft_signature;        /* X-Weft-Signature, or NULL */
	const char *hub_signature_256;     /* X-Hub-Signature-256, or NULL */
	const char *delivery_id;           /* X-Weft-Delivery (weft) or X-GitHub-Delivery (github), or NULL */
	const char *scheme;                /* which delivery header: "weft" (default) or "github" */
} weft_hook_delivery;

/* Sends a delivery (no bearer token is needed): {"run_id", "duplicate",
 * ...}; 401 when it does not verify. @operation deliverHook */
WEFT_API int weft_deliver_hook(weft_client *c, const char *name, const weft_hook_delivery *d, char **out,
                               weft_error *err);

typedef struct weft_event_publish_request {
	const char *namespace_;
	const char *topic;                 /* required: 1..128 of [A-Za-z0-9_.:-] */
	const char *payload;               /* JSON text, or NULL (null) */
	const char *id;                    /* the idempotency key; NULL: a UUID */
} weft_event_publish_request;

typedef struct weft_event_query {
	const char *namespace_;
	const char *topic;
	const char *cursor;
	int64_t limit;                     /* 1..1000; 0: 100 */
} weft_event_query;

/* Publishes an event (201; 200 when its id was published already: nothing
 * more is done); the answer lists its deliveries. @operation publishEvent */
WEFT_API int weft_publish_event(weft_client *c, const weft_event_publish_request *req, char **out,
                                weft_error *err);
/* {"events": [...], "next_cursor"}, newest first. q may be NULL. @operation listEvents */
WEFT_API int weft_list_events(weft_client *c, const weft_event_query *q, char **out, weft_error *err);
/* An event with its deliveries and their runs' outcomes. @operation getEvent */
WEFT_API int weft_get_event(weft_client *c, const char *id, const char *namespace_, char **out, weft_error *err);

typedef struct weft_subscription_create_request {
	const char *namespace_;
	const char *name;                  /* required */
	const char *topic;                 /* required: exact, "<prefix>.*" or "*" */
	weft_schedule_target target;       /* required */
} weft_subscription_create_request;

/* @operation createSubscription */
WEFT_API int weft_create_subscription(weft_client *c, const weft_subscription_create_request *req, char **out,
                                      weft_error *err);
/* {"subscriptions": [...], "next_cursor"}, by name. q may be NULL. @operation listSubscriptions */
WEFT_API int weft_list_subscriptions(weft_client *c, const weft_name_page_query *q, char **out, weft_error *err);
/* @operation getSubscription */
WEFT_API int weft_get_subscription(weft_client *c, const char *name, const char *namespace_, char **out,
                                   weft_error *err);
/* 204: *out is empty text. @operation deleteSubscription */
WEFT_API int weft_delete_subscription(weft_client *c, const char *name, const char *namespace_, char **out,
                                      weft_error *err);

/* ---- templates ---------------------------------------------------------- */

/*
 * A template is a named, versioned DAG of steps, each a task of a run
 * (docs/internals/templates.md). A version never changes: registering the
 * same body again answers 200, another body 409. A run of a version is an
 * ordinary run; each queue step's input is {"context", "config"}. Names
 * are [a-z][a-z0-9_.-]* (at most 64), versions 1..32 of [A-Za-z0-9._-];
 * namespace_ NULL is the token's default.
 */

typedef struct weft_template_create_request {
	const char *namespace_;
	const char *name;                  /* required */
	const char *version;               /* required */
	const char *description;           /* at most 1024 bytes, or NULL */
	const weft_run_task_spec *steps;   /* required: 1..1000 */
	size_t steps_len;
} weft_template_create_request;

/* A page of template versions, newest first (every member optional). */
typedef struct weft_template_query {
	const char *namespace_;
	const char *name;         /* only this template's versions */
	const char *cursor;
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_template_query;

typedef struct weft_template_run_request {
	const char *namespace_;
	const char *context;          /* JSON text, or NULL (null) */
	const char *idempotency_key;  /* with identity "key" */
	const char *identity;         /* "context", "key" or "none"; NULL: "key" with a key, else "context" */
} weft_template_run_request;

/* Registers a version (201; 200 the same body again; 409 another body).
 * @operation createTemplate */
WEFT_API int weft_create_template(weft_client *c, const weft_template_create_request *req, char **out,
                                  weft_error *err);
/* {"templates": [...], "next_cursor"}. q may be NULL. @operation listTemplates */
WEFT_API int weft_list_templates(weft_client *c, const weft_template_query *q, char **out, weft_error *err);
/* The version with its body. @operation getTemplate */
WEFT_API int weft_get_template(weft_client *c, const char *name, const char *version, const char *namespace_,
                               char **out, weft_error *err);
/* Starts a run of a version (201; 200: the run of the same identity).
 * req may be NULL. @operation runTemplate */
WEFT_API int weft_run_template(weft_client *c, const char *name, const char *version,
                               const weft_template_run_request *req, char **out, weft_error *err);

/* ---- queues ------------------------------------------------------------- */

typedef struct weft_queue_query {
	const char *namespace_;
	const char *cursor;
	int64_t limit;            /* 1..100 */
} weft_queue_query;

typedef struct weft_rate_limit {
	int64_t limit;            /* required: tokens added per period */
	int64_t period_ms;        /* 0: 1,000 */
	int64_t burst;            /* 0: limit */
} weft_rate_limit;

#define WEFT_NO_LIMIT (-1)    /* a limit member: remove the limit (sent as null) */

/* The limits to change: 0 (or NULL) keeps a limit as it is. */
typedef struct weft_queue_patch {
	int64_t concurrency_limit;       /* WEFT_NO_LIMIT removes it */
	int64_t key_concurrency_limit;   /* WEFT_NO_LIMIT removes it */
	const weft_rate_limit *rate_limit;
	bool remove_rate_limit;          /* sends "rate_limit": null */
} weft_queue_patch;

/* @operation listQueues */
WEFT_API int weft_list_queues(weft_client *c, const weft_queue_query *q, char **out, weft_error *err);
/* namespace_: NULL for the default. @operation getQueue */
WEFT_API int weft_get_queue(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err);
/* @operation configureQueue */
WEFT_API int weft_configure_queue(weft_client *c, const char *name, const char *namespace_,
                                  const weft_queue_patch *req, const char *idempotency_key, char **out,
                                  weft_error *err);
/* @operation pauseQueue */
WEFT_API int weft_pause_queue(weft_client *c, const char *name, const char *namespace_, const char *idempotency_key,
                              char **out, weft_error *err);
/* @operation resumeQueue */
WEFT_API int weft_resume_queue(weft_client *c, const char *name, const char *namespace_,
                               const char *idempotency_key, char **out, weft_error *err);

/* ---- tokens (admin) ----------------------------------------------------- */

typedef struct weft_token_request {
	const char *name;         /* required: [a-z0-9_.-]{1,64} */
	const char *const *namespaces;   /* required: names, or {"*"} */
	size_t namespaces_len;
	const char *role;         /* required: "admin" or "client" */
	const char *expires_at;   /* RFC 3339, or NULL: never */
} weft_token_request;

/* {"tokens": [...]}. @operation listTokens */
WEFT_API int weft_list_tokens(weft_client *c, char **out, weft_error *err);
/* The new token with its "secret" (shown only here). @operation createToken */
WEFT_API int weft_create_token(weft_client *c, const weft_token_request *req, char **out, weft_error *err);
/* @operation getToken */
WEFT_API int weft_get_token(weft_client *c, const char *name, char **out, weft_error *err);
/* @operation revokeToken */
WEFT_API int weft_revoke_token(weft_client *c, const char *name, char **out, weft_error *err);
/* The client's own token, for any token: {"token": name or null, "admin",
 * "namespaces": [...] or ["*"], "default_namespace"}. @operation whoami */
WEFT_API int weft_whoami(weft_client *c, char **out, weft_error *err);

/* ---- the audit log ------------------------------------------------------- */

/* Filters of the audit log; NULL / 0 leaves one out. */
typedef struct weft_audit_query {
	const char *since;        /* RFC 3339, inclusive */
	const char *until;        /* RFC 3339, exclusive */
	const char *actor;        /* a token's name, "system", "schedule" */
	const char *action;       /* e.g. "token.create", "queue.pause" */
	const char *object_kind;  /* e.g. "queue", "task", "token" */
	const char *object_id;
	const char *namespace_;
	const char *cursor;
	int64_t limit;            /* 1..1000; 0: 100 */
} weft_audit_query;

/* {"entries": [...], "next_cursor"}, newest first (admin tokens). q may
 * be NULL. @operation listAudit */
WEFT_API int weft_list_audit(weft_client *c, const weft_audit_query *q, char **out, weft_error *err);

/* ---- the API document --------------------------------------------------- */

/* The server's OpenAPI document. @operation getOpenApi */
WEFT_API int weft_get_open_api(weft_client *c, char **out, weft_error *err);

/* ---- the worker runtime ------------------------------------------------- */

/*
 * A worker claims jobs from its queues and runs each in one of its
 * handler threads:
 *
 * - claims in batches: max_jobs = the free handler slots, long-polling
 *   claim_wait_ms, so an idle worker sends a request every claim_wait_ms;
 * - one heartbeat request for every lease it holds, each heartbeat period
 *   (the claim answer's heartbeat_ms); a lease answered canceled or lost
 *   marks its job (weft_job_canceled) and nothing is reported for it;
 * - completions and failures in batches: what finished while the previous
 *   report was in flight goes in the next request; a lone result is sent
 *   at once;
 * - a request that fails in a way that may pass (server unreachable, 5xx,
 *   429) is tried again after a growing pause (100 ms to 5 s); one that
 *   cannot (401, 403) ends weft_worker_run with that error;
 * - drains on weft_worker_stop() or a `drain: true` answer: no new claims
 *   (a claim waiting for jobs is abandoned: the server then hands it
 *   none; jobs one brings anyway are released at once), the handlers in
 *   flight finish, their reports are sent, and weft_worker_run returns 0.
 */

typedef struct weft_worker weft_worker;

/* What a handler reports: set by weft_job_result_complete or
 * weft_job_result_fail (the last call wins). Opaque. */
typedef struct weft_job_result weft_job_result;

/* Runs one job. job and res are borrowed for the call. Returns 0 (the
 * result set on res is reported; none set: completed with null), or
 * non-zero without a result: failed, retryable, code "handler_error". */
typedef int (*weft_handler)(const weft_job *job, weft_job_result *res, void *arg);

/* Completes the job with result_json (JSON text, copied; NULL: null).
 * WEFT_EINVAL when it is not JSON (the job then fails, code
 * "bad_result"). */
WEFT_API int weft_job_result_complete(weft_job_result *res, const char *result_json);

/* Fails the job: code (required, copied), message (copied, or NULL);
 * retryable false sends it to the dead letters at once. */
WEFT_API int weft_job_result_fail(weft_job_result *res, const char *code, const char *message, bool retryable);

/* Asks for the next attempt after retry_after_ms instead of the backoff's
 * delay (with weft_job_result_fail and retryable true). */
WEFT_API void weft_job_result_retry_after(weft_job_result *res, int64_t retry_after_ms);

/* True once the job's lease was answered canceled or lost (someone
 * canceled it, or it ran past its lease): stop the work; whatever is
 * reported is dropped. Also true once the worker stops on a fatal error
 * (weft_worker_run then returns it). job: the pointer given to the
 * handler. Cheap; poll it in long handlers. */
WEFT_API bool weft_job_canceled(const weft_job *job);

/* From a handler: appends one line to the job's log (weft_job_log with
 * the job's lease; sent at once). stream "stdout" (NULL) or "stderr";
 * level NULL, "debug", "info", "warn" or "error". job: the pointer given
 * to the handler, while the handler runs. 0, or a WEFT_E* code. */
WEFT_API int weft_job_log_line(const weft_job *job, const char *stream, const char *level, const char *text);

typedef enum weft_log_level { WEFT_LOG_DEBUG, WEFT_LOG_INFO, WEFT_LOG_WARN, WEFT_LOG_ERROR } weft_log_level;

/* Zero-initialise, set url, queues and handler (or register workflows). */
typedef struct weft_worker_options {
	const char *url;              /* required; copied */
	const char *token;            /* or NULL; copied */
	const char *namespace_;       /* or NULL: the default; copied */
	const char *const *queues;    /* required: 1..16 names; copied */
	size_t queues_len;
	weft_handler handler;         /* required, unless workflows are registered (weft_worker_workflow) */
	void *handler_arg;            /* given to the handler (borrowed by the worker) */
	int concurrency;              /* handler threads; 0: 1; at most 1,000 */
	int64_t lease_ms;             /* 0: 60,000 (the heartbeat runs every lease_ms / 3) */
	int64_t claim_wait_ms;        /* long poll of a claim; 0: 5,000; at most 60,000 */
	const char *worker_id;        /* NULL: "<hostname>-<pid>-<random>"; copied */
	const char *hostname;         /* NULL: gethostname(); copied */
	bool install_signal_handlers; /* during weft_worker_run, SIGTERM and SIGINT drain the worker and a second
	                                 one kills the process (one worker per process may set this) */
	/* Where the worker's messages go; NULL: WARN and ERROR to stderr. msg is
	 * borrowed for the call; called from any of the worker's threads, at
	 * times with the worker's lock held: it must not call the worker. */
	void (*log)(weft_log_level level, const char *msg, void *log_arg);
	void *log_arg;
} weft_worker_options;

/* A worker (owned: weft_worker_free), or NULL with err filled in
 * (WEFT_EINVAL naming the bad option). Starts nothing. Call through the
 * weft_worker_new macro. */
WEFT_API weft_worker *weft_worker_new_sized(const weft_worker_options *opt, size_t opt_size, weft_error *err);
#define weft_worker_new(opt, err) weft_worker_new_sized((opt), sizeof(*(opt)), (err))

/* Runs the worker in the calling thread until it has drained (after
 * weft_worker_stop or a drain answer): 0; or a negative code with err
 * filled in when the server refuses it for good (WEFT_EAUTH, say) or its
 * threads cannot start. Once per worker. */
WEFT_API int weft_worker_run(weft_worker *w, weft_error *err);

/* Asks the worker to drain and weft_worker_run to return. Async-signal-
 * safe and callable from any thread, before or during the run; more calls
 * do nothing more. */
WEFT_API void weft_worker_stop(weft_worker *w);

/* Counts since weft_worker_new. */
typedef struct weft_worker_stats {
	uint64_t claimed;             /* jobs handed to handlers */
	uint64_t completed;           /* completions the server accepted */
	uint64_t failed;              /* failures the server accepted */
	uint64_t lost;                /* jobs whose lease was canceled or lost */
	uint64_t released;            /* jobs given back unstarted during a drain */
	uint64_t claim_requests;      /* requests sent, answered or not */
	uint64_t heartbeat_requests;
	uint64_t report_requests;     /* complete and fail requests */
} weft_worker_stats;

/* A snapshot of w's counts (any thread). */
WEFT_API void weft_worker_get_stats(weft_worker *w, weft_worker_stats *out);

/* The worker id sent to the server (borrowed from w, valid until
 * weft_worker_free). */
WEFT_API const char *weft_worker_id(const weft_worker *w);

/* Frees a worker that is not running; NULL is allowed. */
WEFT_API void weft_worker_free(weft_worker *w);

/* ---- the workflow runtime ----------------------------------------------- */

/*
 * A worker also runs durable workflows (docs/internals/workflows.md): a
 * function registered for a workflow type runs each claimed job whose
 * name is that type (a run started with weft_start_workflow). It calls
 * the step API through its weft_wf; every replay of the run (after a
 * sleep, a step's retry, a signal, a crash) runs the function from the
 * top, and each step that completed before answers its stored output
 * without running again. A step runs at least once: a crash during a
 * step runs it again on the replay.
 *
 * The idiom: a step call that does not return 0 ends the function with
 * that code, after freeing what the function holds:
 *
 *     static int order(weft_wf *wf, weft_job_result *res, void *arg)
 *     {
 *         char *reservation = NULL;
 *         int rc;
 *         if ((rc = weft_step(wf, "reserve", reserve, NULL, &reservation)) != 0)
 *             return rc;
 *         if ((rc = weft_sleep(wf, "cool-off", 300)) == 0)
 *             rc = weft_job_result_complete(res, reservation);
 *         weft_free(reservation);
 *         return rc;
 *     }
 *
 * - WEFT_SUSPENDED: the run is suspended on the server (a sleep, a step
 *   retrying after its backoff, a signal wait); the runtime reports
 *   nothing and the server replays the run when it is due.
 * - WEFT_ENDED: this attempt is over (the run was canceled or terminated,
 *   or the lease was lost); the runtime reports nothing.
 * - WEFT_STEP_FAILED: a step failed for good (its error was not
 *   retryable, or its retries ran out). Return it and the run fails
 *   (code "step_failed", not retried), or compensate with other steps.
 * - another negative WEFT_E* code: a call the server refused, or the
 *   worker stopping; returned, the run fails and is retried by its policy.
 *
 * Once a call returned WEFT_SUSPENDED or WEFT_ENDED, every later call
 * returns it again and nothing the function reports is sent: swallowing
 * the code gains nothing (the server fences the attempt by its lease).
 *
 * The function's own result: weft_job_result_complete (the run's output)
 * or weft_job_result_fail (retryable: the run is replayed by its retry
 * policy; weft_job_result_retry_after does not apply); returning 0
 * without one completes the run with null, and a non-zero code without
 * one fails it (see above). The worker sends it from the function's
 * thread; weft_worker_stats counts it as a job's completion or failure,
 * an attempt found over as lost, and a suspension in neither. Steps run in the
 * function's thread, one after another, and a function must reach the
 * same step names in the same order on every replay: a name reached
 * again (in a loop) is a new step each time.
 */

/* What the step API returns besides 0 and the WEFT_E* codes. */
enum {
	WEFT_SUSPENDED = -20,     /* the run is suspended: return it (the run is replayed when due) */
	WEFT_ENDED = -21,         /* this attempt is over (canceled, terminated, lease lost): return it */
	WEFT_STEP_FAILED = -22,   /* a step failed for good: compensate, or return it (the run fails) */
	WEFT_TIMED_OUT = -23,     /* weft_wait_signal: no signal came within its timeout */
};

/* A run's context, given to its function for the call (opaque). */
typedef struct weft_wf weft_wf;

/* Runs one attempt of a workflow run. res: the run's result (see above);
 * arg: weft_worker_workflow's. */
typedef int (*weft_workflow_fn)(weft_wf *wf, weft_job_result *res, void *arg);

/* One step's work: its output set with weft_job_result_complete, or a
 * failure with weft_job_result_fail (retryable: the server retries the
 * step after the run's backoff; weft_job_result_retry_after is ignored).
 * Returning 0 without a result completes it with null, non-zero fails it
 * (retryable, code "step_error"). It must not call the step API. */
typedef int (*weft_step_fn)(weft_wf *wf, weft_job_result *res, void *arg);

/* Runs fn for the claimed jobs named type (1..255 bytes; copied), with
 * arg. Before weft_worker_run only. A worker with workflows needs no
 * handler: a job of no registered type then fails (retryable, code
 * "unknown_workflow_type"). 0, or WEFT_EINVAL (a bad or a second type,
 * more than 1,000 types, the worker running). */
WEFT_API int weft_worker_workflow(weft_worker *w, const char *type, weft_workflow_fn fn, void *arg);

/* The run's job (its id is the run's id; name: the type; input: the
 * run's input), borrowed for the function's call. */
WEFT_API const weft_job *weft_wf_job(const weft_wf *wf);

/* A memoized step: when step name completed before, 0 with its stored
 * output; else runs fn and records its outcome: 0 with the output;
 * WEFT_SUSPENDED when it failed and will be retried (or still waits for
 * its retry); WEFT_STEP_FAILED when it failed for good. *output (owned,
 * JSON text; NULL allowed) is set only with 0. */
WEFT_API int weft_step(weft_wf *wf, const char *name, weft_step_fn fn, void *arg, char **output);

/* A durable sleep of ms milliseconds (0..31,536,000,000): WEFT_SUSPENDED
 * the first time, 0 once the run is replayed after it. */
WEFT_API int weft_sleep(weft_wf *wf, const char *name, int64_t ms);

/* Waits for the signal name (weft_signal_workflow): 0 with its payload
 * (owned JSON text in *payload; NULL allowed); WEFT_SUSPENDED until one
 * comes; WEFT_TIMED_OUT once timeout_ms passed without one (0: no
 * timeout). Memoized as a step is. */
WEFT_API int weft_wait_signal(weft_wf *wf, const char *name, int64_t timeout_ms, char **payload);

#ifdef __cplusplus
}
#endif

#endif
