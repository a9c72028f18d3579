/*
 * jobs.h — jobs in the store: queue tasks inserted, claimed, held and
 * reported in sets (jobs.c, job_reports.c), and their reads for the API.
 * Part of the store's interface (store.h states its conventions).
 */
#ifndef WEFT_STORE_JOBS_H
#define WEFT_STORE_JOBS_H

#include "store/store.h"

/* ---- jobs (writer) ---------------------------------------------------------
 * Jobs are task rows with executor "queue" and kind = their queue. These
 * operations take sets and run a constant number of statements for them.
 * Every statement that changes a held job is fenced: it applies only while
 * the job is running under the given lease_token. */

/* A job to insert: pending, attempt 1, no batch (its run is itself). */
typedef struct job_new {
	weft_id id;
	const char *namespace, *queue, *name;
	const char *input;           /* compact JSON, NULL = "null" */
	const char *metadata;        /* compact JSON, NULL = "null" */
	const char *retry_policy;    /* canonical JSON (engine/retry.h) */
	const char *concurrency_key, *rate_key;   /* NULL = none */
	int32_t priority, timeout_secs;
	int64_t created_at;
	int64_t start_after;         /* claimable from (µs); always set */
} job_new;
/* One prepared insert per row (SQLite), one COPY for the transaction's
 * rows (PostgreSQL). */
int store_jobs_insert(store_conn *c, const job_new *jobs, size_t n);

/* The queue rows of names[0..n-1] in `ns`, created when missing. */
int store_queues_ensure(store_conn *c, const char *ns, const char *const *names, size_t n, int64_t now);

/* Dedup keys, resolved against the live ones in one statement: key[i]
 * (namespace ns, queue[i]) is taken for task_id[i] when free (no row, its
 * window expired, or its job ended while the key lived while active:
 * expires_at NULL); else owner[i] is the job holding it. taken[i] says
 * which. Keys must be distinct (namespace, queue, key) within the set. */
typedef struct job_dedup_req {
	const char *queue, *key;
	weft_id task_id;
	int64_t expires_at;          /* 0 = while the job is active */
	/* out */
	bool taken;
	weft_id owner;
	task_status owner_status;
} job_dedup_req;
int store_jobs_dedup(store_conn *c, const char *ns, job_dedup_req *reqs, size_t n, int64_t now);

/* Removes up to `limit` dedup keys that no longer hold (their window is
 * over, or their job ended); *removed says how many. */
int store_jobs_dedup_expire(store_conn *c, int64_t now, size_t limit, int64_t *removed);

/* The workers of a cycle's claims, seen now (created or touched), in one
 * statement: each entry gets whether its worker was told to drain. A
 * worker given twice is one row (its last entry's queues). */
typedef struct worker_seen {
	const char *ns, *id, *hostname, *queues_json;   /* borrowed; queues JSON array text */
	bool draining;                                  /* out */
} worker_seen;
int store_workers_touch(store_conn *c, worker_seen *w, size_t n, int64_t now);
/* The workers of a cycle's heartbeats (ns NULL: the worker's rows in any
 * namespace; hostname and queues not used): last_seen_at = now for those
 * that exist, in one statement; draining as above (false for an unknown
 * worker). */
int store_workers_seen(store_conn *c, worker_seen *w, size_t n, int64_t now);

/* One claim's share of a queue's ready jobs: the ranks lo..hi (from 1,
 * in claim order: priority DESC, start_after, id). */
typedef struct job_claim_range {
	int64_t lo, hi;
	const char *worker_id;
	const char *actor;           /* claimed_by */
	int64_t lease_us;
} job_claim_range;
/* A claimed row. Strings owned (store_free_claimed). */
typedef struct job_claimed_row {
	size_t range;                /* index of its range */
	weft_id id, batch_id;
	char *name, *input, *metadata, *retry_policy;
	int32_t attempt, timeout_secs, shape, priority;
	int64_t lease_token, lease_until, started_at, start_after;
} job_claimed_row;
/* Claims the ready jobs of one queue for the ranges (borrowed; disjoint,
 * together 1..N): pending -> running, lease_token + 1, lease_until =
 * min(now + lease, now + timeout), started_at = now. A paused queue gives
 * nothing. Rows another node is claiming are skipped. Rows come in claim
 * order. */
int store_jobs_claim(store_conn *c, const char *ns, const char *queue, int64_t now, const job_claim_range *r,
                     size_t nr, job_claimed_row **out, size_t *n);
void store_free_claimed(job_claimed_row *rows, size_t n);
/* The parents of the tasks `children` (their results for a claim of a job
 * in a run): one row per link, owned strings (store_free_parents). */
typedef struct job_parent_row {
	weft_id child, id;
	char *name;
	task_status status;
	char *result;                /* compact JSON, "null" when none */
} job_parent_row;
int store_job_parents(store_conn *c, const weft_id *children, size_t n, job_parent_row **out, size_t *nout);
void store_free_parents(job_parent_row *rows, size_t n);

/* The earliest start_after later than now among the queue's pending jobs;
 * INT64_MAX when none. */
int store_jobs_next_ready(store_conn *c, const char *ns, const char *queue, int64_t now, int64_t *due);

/* What a job looks like to a report: its status and token. */
typedef struct job_state {
	weft_id id;
	bool found;                  /* a job (executor queue) */
	char ns[NAMESPACE_MAX + 1];  /* its namespace (the caller decides what it may see) */
	task_status status;
	int64_t lease_token;
	bool failed_with_token;      /* a job_attempt row of that token exists (filled on request) */
} job_state;
/* The state of ids[i] into out[i] (n entries, caller's). With tokens (n
 * entries, optional): failed_with_token too. */
int store_jobs_state(store_conn *c, const weft_id *ids, const int64_t *tokens, size_t n, job_state *out);

/* A fenced transition of a running job (out of running). Strings
 * borrowed. */
typedef struct job_change {
	weft_id id;
	int64_t token;
	task_status to;              /* success, failure, retrying, pending, canceled */
	const char *result;          /* JSON, with success */
	const char *error_code;      /* NULL = keep */
	const char *failure_reason;  /* NULL = keep */
	int32_t attempt;             /* 0 = keep */
	int64_t next_retry_at;       /* 0 = keep */
	bool dead;                   /* dead_at = now */
	bool ended;                  /* ended_at = now, ended_by = actor */
	const char *actor;           /* ended_by / the event's actor */
	const char *reason;          /* the audit event's reason; NULL = no event */
	const char *const *visible;  /* the namespaces the job may be in (borrowed); NULL = any */
	size_t nvisible;
	/* out */
	bool applied;
	int32_t shape;               /* when applied: TASK_SHAPE_* bits of the job */
	task_row after;              /* when applied and the set asks for rows */
} job_change;
/* Applies the changes (distinct ids) whose job is running under their
 * token and in one of their visible namespaces; the others are left as
 * they are (applied false). Counts and batch counters follow; with
 * want_rows the rows afterwards are returned in `after`
 * (task_row_release). */
int store_jobs_change(store_conn *c, job_change *ch, size_t n, int64_t now, bool want_rows);

/* A heartbeat: a running job under the token gets lease_until =
 * min(now + lease_us, started_at + timeout) and its progress (when
 * given). held[i] and lease_until[i] (n entries, caller's) say what it got. */
typedef struct job_beat {
	weft_id id;
	int64_t token;
	int64_t lease_us;
	const char *progress;        /* NULL = keep */
	const char *const *visible;  /* as job_change's */
	size_t nvisible;
	/* out */
	bool held;
	int64_t lease_until;
} job_beat;
int store_jobs_heartbeat(store_conn *c, job_beat *beats, size_t n, int64_t now);

/* The error history: one row per attempt that did not succeed (rows
 * borrowed; an attempt already recorded is left as it is). A row without
 * claimed_by takes the job's (who claimed the attempt being ended). */
int store_job_attempts_insert(store_conn *c, const job_attempt_row *rows, size_t n);

/* ---- jobs: reads for the API (any connection) -------------------------- */
/* A job (or any task) with what only job reads carry. Owned; freed with
 * job_detail_release. */
typedef struct job_detail {
	task_row task;               /* namespace, lease, attempt, dead_at, error_code, ... */
	char *input;                 /* compact JSON text, "null" when none */
	char *result;                /* compact JSON text, NULL = none yet */
	char *progress;              /* last heartbeat's progress JSON, NULL = none */
	int32_t max_attempts;        /* from the retry policy: -1 forever, 1 when none */
	char *claimed_by, *ended_by; /* actors, NULL = none */
	job_attempt_row *attempts;   /* the error history, oldest first */
	size_t nattempts;
} job_detail;
/* 0 or WEFT_ENOTFOUND (also for a task of a namespace not in `visible`:
 * names[0..nvisible-1], or any when names is NULL). Falls back to the
 * archive. */
int store_job_get(store_conn *c, const weft_id *id, const char *const *visible, size_t nvisible,
                  job_detail *out);
void job_detail_release(job_detail *d);

#endif
