/*
 * worker_impl.h — the parts of libweft's worker runtime (worker.c runs
 * it, worker_io.c holds the threads that talk to the server).
 *
 * Threads, each with its own client:
 *   run      weft_worker_run's caller: sleeps in poll() on a pipe that
 *            weft_worker_stop (async-signal-safe) and the other threads
 *            write to, starts the drain, and ends the run once the drain
 *            is over (no claim in flight, no job held) or a fatal error;
 *   claim    long-polls for as many jobs as there are free handler slots
 *            (a finished job frees its slot before its report is sent);
 *            a drain abandons the claim in flight (claim_cancel: the
 *            server answers a claim whose client went away with no jobs),
 *            and what a claim brings anyway is released at once;
 *   handler  N threads that run the handler on ready jobs, then queue the
 *            job for the reporter;
 *   report   sends every finished job's outcome in one complete and one
 *            fail request (whatever finished while a request was in
 *            flight goes in the next), resending while that may pass;
 *   beat     one heartbeat request for every held lease each period; a
 *            lease answered canceled/lost/not_found marks its job lost.
 *
 * A job is on the held list from its claim until its report is answered
 * (or it is dropped as lost), and on at most one of the ready and done
 * queues; all lists and flags are under mu. A job's weft_job fields are
 * written once before it is listed; `lost` is atomic so that handlers
 * poll it without the lock.
 */
#ifndef WEFT_LIB_WORKER_IMPL_H
#define WEFT_LIB_WORKER_IMPL_H

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define WORKER_CONCURRENCY_MAX 1000
#define WORKER_QUEUES_MAX 16
#define REPORT_ITEMS_MAX 1000           /* the API's limit on one request's items */
#define REPORT_BYTES_MAX (8u << 20)     /* well under the server's 16 MiB body limit */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
#define WORKER_WORKFLOWS_MAX 1000
#define WORKFLOW_TYPE_MAX 255           /* a job's name */

struct weft_job_result {
	bool set;
	bool ok;
	char *result;           /* JSON text, with ok */
	char *code, *message;   /* without ok */
	bool retryable;
	int64_t retry_after_ms;
	bool retry_after_set;
};

typedef struct wjob {
	weft_job job;           /* first: the handler's pointer leads back here */
	struct weft_worker *w;
	struct wjob *prev, *next;   /* the held list */
	struct wjob *qnext;         /* the ready or the done queue */
	atomic_bool lost;
	atomic_bool quiet;          /* the attempt is over on the server and nothing is reported: a workflow
	                               run's suspension, or its end reported by the handler thread itself */
	struct weft_job_result res;
	size_t report_bytes;
	struct weft_client **client;   /* the handler thread's, while its handler runs (weft_job_log_line) */
} wjob;

/* A workflow type and its function (weft_worker_workflow). */
typedef struct wf_type {
	char *type;
	weft_workflow_fn fn;
	void *arg;
} wf_type;

typedef struct wqueue {
	wjob *head, *tail;
	size_t len;
} wqueue;

struct weft_worker {
	weft_worker_options o;      /* its strings point at the copies below */
	char *url, *token, *ns, *id, *hostname;
	char **queues;

	pthread_mutex_t mu;
	pthread_cond_t claim_cv, handler_cv, report_cv, beat_cv;
	int wake[2];                /* the run thread's pipe */
	atomic_bool stop_requested; /* weft_worker_stop */
	atomic_bool abort_requests; /* requests in flight end (a fatal error) */
	atomic_bool claim_cancel;   /* the claim in flight ends (a drain) */
	bool started;
	wf_type *wf_types;          /* set before the run, read-only during it */
	size_t n_wf_types;

	/* under mu */
	bool draining;              /* no more claims */
	bool claims_done;           /* the claim thread has ended */
	bool exiting;               /* the drain is over: the other threads end */
	int fatal;                  /* a WEFT_E* code that ends the run */
	weft_error fatal_err;
	size_t held;                /* jobs on the held list */
	size_t active;              /* of those, jobs ready or running: the handler slots taken */
	wjob *held_head;
	wqueue ready, done;
	int64_t heartbeat_ms;

	_Atomic uint64_t n_claimed, n_completed, n_failed, n_lost, n_released;
	_Atomic uint64_t n_claim_requests, n_heartbeat_requests, n_report_requests;
};

/* The threads (worker_io.c, worker.c). */
void *worker_claim_thread(void *arg);
void *worker_report_thread(void *arg);
void *worker_beat_thread(void *arg);

/* Tells the run thread to look at the state again (any thread). */
void worker_notify(weft_worker *w);
void worker_log(weft_worker *w, weft_log_level level, const char *fmt, ...) WEFT_PRINTF(3, 4);
/* A thread's client, whose requests end when *cancel is set; NULL after
 * ending the run with why. */
weft_client *worker_client(weft_worker *w, const atomic_bool *cancel);
/* Ends the run with code (the first fatal error wins). */
void worker_fatal(weft_worker *w, int code, const weft_error *err);
/* Whether a failed request may pass if sent again. */
bool worker_retryable(int code);
/* Sleeps ms milliseconds on cv (mu held), whatever wakes cv meanwhile,
 * unless the run ends (abort_requests, exiting) or, with or_drain, a
 * drain begins. */
void worker_pause(weft_worker *w, pthread_cond_t *cv, int64_t ms, bool or_drain);
/* worker_pause for the next retry, growing *backoff_ms. */
void worker_backoff(weft_worker *w, pthread_cond_t *cv, int64_t *backoff_ms, bool or_drain);
/* Empties a handler's result. */
void worker_result_clear(struct weft_job_result *r);
/* Runs j when its name is a registered workflow type, or when the worker
 * has no handler (which fails it): true, with the outcome reported or
 * dropped (j->quiet, j->lost) or, for an unknown type, set on j->res.
 * *client: the handler thread's client, made on first use
 * (workflow_runtime.c). */
bool worker_run_workflow(weft_worker *w, wjob *j, weft_client **client);
void worker_workflows_free(weft_worker *w);
/* Takes j off the held list and frees it (mu held). */
void worker_forget(weft_worker *w, wjob *j);
void wqueue_push(wqueue *q, wjob *j);
wjob *wqueue_pop(wqueue *q);

#endif
