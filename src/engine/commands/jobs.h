/*
 * jobs.h — the commands of job queues: enqueueing jobs, claiming them
 * (pull workers), and a worker's reports on the jobs it holds (heartbeat,
 * complete, fail, release).
 *
 * A job is a task row with executor "queue" whose kind is its queue; a
 * lone job has no batch row, and its run id is its own id. A claim moves
 * a pending job to running under a lease: `lease_until` (absolute µs,
 * never past the attempt's timeout) and a fencing token `lease_token`,
 * incremented by every claim and never reset. Every report names the job
 * and the token it was claimed with; a report whose token is not the
 * job's current one changes nothing (JOB_STALE_LEASE / JOB_LEASE_LOST).
 *
 * All commands are applied as sets (one fenced statement for the completes
 * of a cycle, ...); the claims of a cycle cost one cheap statement per
 * claim and queue.
 *
 * Ownership, for every command here:
 *  - What the caller fills (request fields, arrays of items and specs, the
 *    strings they point to) is borrowed by the engine until done() runs,
 *    and never freed or changed by it, except the result fields that each
 *    struct marks "out".
 *  - Results are written into the caller's structs (per item / per spec).
 *    The only results the engine allocates are a claim's jobs
 *    (cmd_job_claim.jobs); cmd_job_claim_release() frees them.
 *  - base.result is 0 when the command was applied, whatever the items'
 *    outcomes: per-item outcomes are never command failures. It is an
 *    error (WEFT_ESTORE, WEFT_EUNAVAILABLE, WEFT_EOVERLOADED, ...) only when
 *    nothing of the command was applied; the per-item fields are then
 *    meaningless.
 *  - base.actor ("token:<name>", borrowed) is recorded as who claimed and
 *    who ended a job (task.claimed_by / ended_by) and on audit events.
 *
 * Namespaces: every report is confined to the namespaces the caller may
 * see (`visible`, per command; commands of different callers still share
 * one set): a job of any other namespace is answered exactly as an
 * unknown id (JOB_NOT_FOUND), and nothing is written to it. The claim and
 * the enqueue name one namespace, which the front door has checked.
 *
 * Elsewhere: a job's task row is read for GET /v1/tasks/{id} with
 * store_job_get (store/store.h: input, result, error, lease, attempts and
 * their error history, dead letter); its audit trail with
 * store_task_events (claims and successes derived). ArcRun's PATCH and PUT
 * on a job answer WEFT_ECONFLICT (current_status set) and change nothing;
 * cancel (cmd_task TASK_CANCEL) works as on any task, and the holder
 * learns it at its next heartbeat (JOB_LEASE_CANCELED).
 */
#ifndef WEFT_ENGINE_COMMANDS_JOBS_H
#define WEFT_ENGINE_COMMANDS_JOBS_H

#include "engine/engine.h"
#include "core/limits.h"
#include "store/jobs.h"

/* The namespaces a command may touch: names[0..n-1] (borrowed), or every
 * namespace when `all` is set (tokens with "*", no tokens configured). */
typedef struct job_visibility {
	bool all;
	const char *const *names;
	size_t n;
} job_visibility;

/* ---- enqueue -------------------------------------------------------------- */

typedef enum job_dedup_scope {
	JOB_DEDUP_NONE = 0,
	JOB_DEDUP_ACTIVE,           /* one live job per key: a new one once it ended */
	JOB_DEDUP_WINDOW,           /* one job per key for window_us after its enqueue */
} job_dedup_scope;

/* One job to enqueue, validated and decoded by the front door (bounds in
 * core/limits.h). Strings are borrowed; NULL where "optional". */
typedef struct job_spec {
	const char *queue;          /* required, queue_name_valid() */
	const char *name;           /* NULL = the queue */
	const char *input;          /* compact JSON text, ≤ JOB_PAYLOAD_MAX_BYTES; NULL = "null" */
	int32_t priority;           /* higher first; TASK_PRIORITY_MIN..MAX */
	/* When it may be claimed: run_at_us (absolute µs) when non-zero, else
	 * the engine's now + delay_us (the engine's clock, so that a test clock
	 * applies). Both zero = at once. */
	int64_t run_at_us;
	int64_t delay_us;
	int32_t max_attempts;       /* 1..JOB_MAX_ATTEMPTS_MAX, or -1 = forever */
	/* Backoff between attempts: min(max, initial·coefficient^(n−1))·(1 ± jitter). */
	int64_t backoff_initial_us;
	double backoff_coefficient; /* ≥ 1 */
	int64_t backoff_max_us;
	double backoff_jitter;      /* 0..1 */
	const char *const *non_retryable; /* error codes that never retry, job_error_code_valid() */
	size_t nnon_retryable;      /* ≤ JOB_NON_RETRYABLE_MAX */
	int32_t timeout_secs;       /* per attempt, TASK_TIMEOUT_MIN..MAX */
	job_dedup_scope dedup_scope;
	const char *dedup_key;      /* with a scope: ≤ JOB_KEY_MAX bytes */
	int64_t dedup_window_us;    /* JOB_DEDUP_WINDOW */
	const char *concurrency_key;   /* NULL = none, ≤ JOB_KEY_MAX */
	const char *rate_key;          /* NULL = none, ≤ JOB_KEY_MAX */
	const char *metadata;       /* compact JSON object text, ≤ TASK_METADATA_MAX; NULL = none */

	/* out */
	weft_id id;                 /* the job's id (the existing job's when duplicate) */
	weft_id run_id;             /* its run: its own id for a lone job */
	task_status status;         /* its status now */
	bool duplicate;             /* an existing job with the same dedup key answered for it */
} job_spec;

/* Sets a spec's defaults: max_attempts JOB_MAX_ATTEMPTS_DEFAULT, backoff
 * 1 s × 2.0 up to 60 s with jitter 0.1, timeout JOB_TIMEOUT_DEFAULT. */
void job_spec_init(job_spec *s);

/* Enqueues jobs[0..n-1] (1..JOBS_PER_REQUEST_MAX) in `namespace`, all or
 * none. A spec whose dedup key is live in its queue (or taken by an
 * earlier spec of the same command) is not created: it answers with the
 * existing job, duplicate set. Idempotency-Key (base.idem_key) is honoured:
 * a replay answers the recorded ids. */
typedef struct cmd_job_enqueue {
	engine_cmd base;
	const char *namespace;      /* borrowed, namespace_valid() */
	job_spec *jobs;             /* borrowed; out fields written */
	size_t njobs;
	size_t created;             /* out: jobs created (njobs − duplicates) */
} cmd_job_enqueue;
void cmd_job_enqueue_init(cmd_job_enqueue *c);

/* ---- claim ---------------------------------------------------------------- */

/* A parent of a claimed job (jobs of a run with dependencies). Owned by
 * the claimed job. */
typedef struct job_parent {
	weft_id id;
	char *name;
	task_status status;
	char *result;               /* compact JSON text, "null" when none */
} job_parent;

/* One job handed to a worker. Strings owned (freed by
 * cmd_job_claim_release). */
typedef struct claimed_job {
	weft_id id;
	weft_id run_id;             /* its batch, or its own id for a lone job */
	char *queue;
	char *name;
	int32_t attempt;            /* 1 on the first claim */
	int32_t max_attempts;       /* -1 = forever */
	int64_t lease_token;        /* sent back with every report (a decimal string on the wire) */
	int64_t lease_until;        /* µs: the lease's end, never past timeout_at */
	int64_t timeout_at;         /* µs: the attempt's execution deadline */
	char *input;                /* compact JSON text, "null" when none */
	char *metadata;             /* compact JSON text, "null" when none */
	job_parent *parents;        /* NULL when none */
	size_t nparents;
} claimed_job;

/* Claims up to max_jobs pending jobs whose start time has come, from the
 * queues in the order listed (the first queue first, the rest from the
 * next, ...), each queue in priority DESC, run time, id order; paused
 * queues give nothing. Claims are served oldest first (a claim that may
 * wait queues behind parked ones, served in the same cycle). A claim that
 * gets at least one job is answered after the cycle's commit (it never
 * waits to fill max_jobs). One that gets none:
 *  - with wait_us == 0, is answered at once with no jobs;
 *  - else is parked: done() runs later, when a job of its queues becomes
 *    claimable (answered with it) or after wait_us (no jobs), or with no
 *    jobs when the engine stops. The caller must keep the struct (and
 *    what it borrows) alive until done().
 * The answer holds at most CLAIM_ANSWER_MAX_BYTES of inputs (a first job
 * always): the jobs past it stay pending for the next claim. A job of a
 * run with parents carries them (with their results).
 * base.result: 0; WEFT_EOVERLOADED when CLAIMS_PARKED_MAX claims are
 * already parked on this node (answer 429). The worker row (namespace,
 * worker_id) is created or touched; a draining worker gets no jobs and
 * `drain` at once. */
typedef struct cmd_job_claim {
	engine_cmd base;
	const char *namespace;      /* borrowed, namespace_valid() */
	const char *const *queues;  /* borrowed, 1..CLAIM_QUEUES_MAX names */
	size_t nqueues;
	const char *worker_id;      /* borrowed, 1..WORKER_ID_MAX bytes */
	const char *hostname;       /* borrowed, NULL = unknown */
	int32_t max_jobs;           /* 1..CLAIM_JOBS_MAX */
	int64_t wait_us;            /* 0..CLAIM_WAIT_MAX_MS ms */
	int64_t lease_us;           /* JOB_LEASE_MIN_MS..JOB_LEASE_MAX_MS ms */

	/* out: owned by the command, freed by cmd_job_claim_release */
	claimed_job *jobs;
	size_t njobs;
	bool drain;                 /* the worker is draining: stop claiming */

	/* engine-private: parking (parts/claims.c) */
	int64_t park_until;
	uint64_t parked_seq;        /* the cycle that parked it */
} cmd_job_claim;
void cmd_job_claim_init(cmd_job_claim *c);
/* Frees the claimed jobs (after done()); the struct stays valid. */
void cmd_job_claim_release(cmd_job_claim *c);

/* ---- reports on held jobs ----------------------------------------------- */

/* What a report did to one job. */
typedef enum job_outcome {
	JOB_OUTCOME_NONE = 0,       /* not applied (the command failed) */
	JOB_COMPLETED,              /* complete: running -> success */
	JOB_ALREADY_COMPLETED,      /* complete sent again with the token that completed it: nothing changed */
	JOB_RETRYING,               /* fail: retrying, again claimable at next_attempt_at */
	JOB_DEAD_LETTERED,          /* fail: failure for good (no retry left, or not retryable); dead_at set */
	JOB_ALREADY_FAILED,         /* fail sent again for an attempt already failed with this token */
	JOB_RELEASED,               /* release: running -> pending, attempt unchanged */
	JOB_STALE_LEASE,            /* the token is not the job's current one, or the job is no longer
	                               running under it: nothing changed (409 stale_lease) */
	JOB_CANCELED,               /* the job was canceled while held: nothing changed (409 canceled) */
	JOB_NOT_FOUND,              /* no such job, or not a job, or not visible (404) */
} job_outcome;
/* "completed", "already_completed", "retrying", "dead_lettered",
 * "already_failed", "released", "stale_lease", "canceled", "not_found"
 * (the wire names); "none" for JOB_OUTCOME_NONE. */
const char *job_outcome_name(job_outcome o);

/* A heartbeat's answer for one lease. */
typedef enum job_lease_state {
	JOB_LEASE_NONE = 0,         /* not applied (the command failed) */
	JOB_LEASE_HELD,             /* extended: lease_until = now + lease_us (capped at the timeout) */
	JOB_LEASE_CANCELED,         /* the job was canceled: stop it, report nothing */
	JOB_LEASE_LOST,             /* the token is stale, or the job ended: stop it, report nothing */
	JOB_LEASE_NOT_FOUND,
} job_lease_state;
/* "held", "canceled", "lost", "not_found". */
const char *job_lease_state_name(job_lease_state s);

typedef struct job_heartbeat_item {
	weft_id id;
	int64_t lease_token;
	const char *progress;       /* borrowed JSON text ≤ JOB_PROGRESS_MAX, NULL = keep */
	/* out */
	job_lease_state state;
	int64_t lease_until;        /* µs, with JOB_LEASE_HELD */
} job_heartbeat_item;

/* Extends held leases to now + lease_us: never cumulative, never past
 * the attempt's timeout (started_at + timeout_secs). Items are independent;
 * an id given twice is answered for each. Touches the worker row and says
 * whether it drains. */
typedef struct cmd_job_heartbeat {
	engine_cmd base;
	job_visibility visible;
	const char *namespace;      /* borrowed: the worker's namespace; NULL = its row in any namespace */
	const char *worker_id;      /* borrowed */
	int64_t lease_us;           /* JOB_LEASE_MIN_MS..JOB_LEASE_MAX_MS ms */
	job_heartbeat_item *items;  /* borrowed, 1..JOBS_PER_REQUEST_MAX; out fields written */
	size_t nitems;
	bool drain;                 /* out */
} cmd_job_heartbeat;
void cmd_job_heartbeat_init(cmd_job_heartbeat *c);

typedef struct job_complete_item {
	weft_id id;
	int64_t lease_token;
	const char *result;         /* borrowed compact JSON ≤ JOB_PAYLOAD_MAX_BYTES, NULL = "null" */
	job_outcome outcome;        /* out: COMPLETED, ALREADY_COMPLETED, STALE_LEASE, CANCELED, NOT_FOUND */
} job_complete_item;

/* Completes held jobs (fenced: only while running under lease_token). */
typedef struct cmd_job_complete {
	engine_cmd base;
	job_visibility visible;
	job_complete_item *items;   /* borrowed, 1..JOBS_PER_REQUEST_MAX */
	size_t nitems;
} cmd_job_complete;
void cmd_job_complete_init(cmd_job_complete *c);

typedef struct job_fail_item {
	weft_id id;
	int64_t lease_token;
	const char *code;           /* borrowed, job_error_code_valid() */
	const char *message;        /* borrowed ≤ JOB_ERROR_MESSAGE_MAX, NULL = none */
	const char *details;        /* borrowed JSON text ≤ JOB_ERROR_DETAILS_MAX, NULL = none */
	bool retryable;             /* false: dead letter at once */
	int64_t retry_after_us;     /* ≥ 0 replaces the computed delay (capped at the max); −1 = none */
	/* out */
	job_outcome outcome;        /* RETRYING, DEAD_LETTERED, ALREADY_FAILED, STALE_LEASE, CANCELED, NOT_FOUND */
	int64_t next_attempt_at;    /* µs, with JOB_RETRYING */
} job_fail_item;

/* Fails held attempts (fenced). Each goes to the job's error history
 * (job_attempt). A retryable error whose code is not in the job's
 * non_retryable codes, with attempts left, retries after the backoff;
 * otherwise the job fails for good and becomes a dead letter. */
typedef struct cmd_job_fail {
	engine_cmd base;
	job_visibility visible;
	job_fail_item *items;       /* borrowed, 1..JOBS_PER_REQUEST_MAX */
	size_t nitems;
} cmd_job_fail;
void cmd_job_fail_init(cmd_job_fail *c);

typedef struct job_release_item {
	weft_id id;
	int64_t lease_token;
	job_outcome outcome;        /* out: RELEASED, STALE_LEASE, CANCELED, NOT_FOUND */
} job_release_item;

/* Gives held jobs back unworked (a draining worker): pending at once,
 * attempt unchanged, claimable by any worker. */
typedef struct cmd_job_release {
	engine_cmd base;
	job_visibility visible;
	job_release_item *items;    /* borrowed, 1..JOBS_PER_REQUEST_MAX */
	size_t nitems;
} cmd_job_release;
void cmd_job_release_init(cmd_job_release *c);

#endif
