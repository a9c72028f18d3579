/*
 * store.h — persistence. The engine and the read paths talk to the database
 * only through these functions; SQL and dialect live in the backends
 * (store_sqlite.c now, store_pg.c later), selected by URL in store_open().
 *
 * Connections: one *writer* connection, used only by the engine thread, on
 * which every mutation runs inside store_begin()/store_commit(); and a pool
 * of *reader* connections for HTTP reads (GET routes), each used by one
 * thread at a time (store_reader_acquire/release).
 *
 * Return convention: 0 = ok; STORE_NOT_FOUND (1) where noted; negative =
 * error (STORE_ERR for a failed statement, STORE_UNAVAILABLE when the
 * database cannot be reached). Output arrays are owned by the caller and
 * freed with the matching store_free_* function. Input pointers are borrowed.
 */
#ifndef WEFT_STORE_H
#define WEFT_STORE_H

#include "model.h"

#define STORE_NOT_FOUND 1
#define STORE_ERR (-1)
#define STORE_UNAVAILABLE (-2)

typedef struct store store;
typedef struct store_conn store_conn;

typedef struct store_options {
	bool sync_full;        /* SQLite synchronous=FULL (default) vs NORMAL */
	int readers;           /* size of the reader pool (default 8) */
} store_options;

/* Opens (creating if needed) and migrates the database named by url: a file
 * path, "sqlite:PATH", "sqlite://PATH" or "file:PATH" (SQLite). On failure
 * returns NULL and writes a clear message into err. */
store *store_open(const char *url, const store_options *opt, char *err, size_t errlen);
void store_close(store *s);
const char *store_backend_name(const store *s);     /* "sqlite" */

store_conn *store_writer(store *s);                 /* borrowed; engine thread only */
store_conn *store_reader_acquire(store *s);         /* blocks until one is free */
void store_reader_release(store *s, store_conn *c);
void store_pool_stats(store *s, int *size, int *idle);
int store_ping(store_conn *c);

/* ---- transactions (writer) ------------------------------------------- */
int store_begin(store_conn *c);       /* BEGIN IMMEDIATE */
int store_commit(store_conn *c);
int store_rollback(store_conn *c);
/* One level of savepoint, so one failing command of a group commit can be
 * undone without losing the others. */
int store_savepoint(store_conn *c);
int store_savepoint_release(store_conn *c);
int store_savepoint_rollback(store_conn *c);

/* ---- inserts (writer) ------------------------------------------------ */
typedef struct batch_row {
	weft_id id;
	int64_t created_at;
	const char *scope;            /* NULL = none */
	const char *metadata;         /* JSON text or NULL */
	const char *on_complete;      /* JSON array text of NewActionDto, or NULL */
} batch_row;

int store_batch_insert(store_conn *c, const batch_row *b);
int store_task_insert(store_conn *c, const task_row *t);
int store_link_insert(store_conn *c, const link_row *l);
int store_action_insert(store_conn *c, const weft_id *task_id, const action_row *a);

/* ---- single task ----------------------------------------------------- */
int store_task_get(store_conn *c, const weft_id *id, task_row *out);  /* 0 / NOT_FOUND */
/* All actions of a task, in insertion order. */
int store_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n);
/* The actions of one trigger and condition, in insertion order. */
int store_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig,
                           action_condition cond, action_row **out, size_t *n);

/* A guarded update: applied only when the task's status is in from_mask.
 * Fields left at their zero value are not touched. */
typedef struct task_update {
	bool set_status;
	task_status status;
	int64_t add_success, add_failures;       /* added to the counters */
	const char *metadata;                    /* replaces when non-NULL */
	const char *failure_reason;              /* sets when non-NULL */
	const char *rules;                       /* replaces when non-NULL */
	bool set_expected_count;
	int64_t expected_count;
	bool set_priority;
	int32_t priority;
	int64_t started_at, ended_at, last_updated;   /* set when non-zero */
} task_update;

/* Returns 0 when applied (*prev = status before), STORE_NOT_FOUND when no
 * task has this id, STORE_GUARD (2) when it exists but its status is not in
 * from_mask (*prev = its current status). prev may be NULL. */
#define STORE_GUARD 2
int store_task_update(store_conn *c, const weft_id *id, unsigned from_mask,
                      const task_update *u, task_status *prev);

/* ---- DAG propagation (writer) ---------------------------------------- */
/* Children of `parent` linked with requires_success whose status is waiting
 * or paused become failure with `reason` and ended_at = now (last_updated
 * untouched). Returns the ids changed. */
int store_fail_required_children(store_conn *c, const weft_id *parent, const char *reason,
                                 int64_t now, weft_id **changed, size_t *n);
/* For every child of `parent` still waiting or paused: wait_finished -= 1,
 * and wait_success -= 1 when parent_succeeded and the link requires success.
 * Then the waiting ones (not paused) whose counters are both 0 become
 * pending; their ids are returned. */
int store_release_children(store_conn *c, const weft_id *parent, bool parent_succeeded,
                           weft_id **became_pending, size_t *n);
/* Distinct parents of the given tasks that are non-terminal and have no
 * non-terminal child any more (dead-end candidates). */
int store_dead_end_parents(store_conn *c, const weft_id *tasks, size_t ntasks,
                           weft_id **parents, size_t *n);

/* ---- starting tasks (writer) ----------------------------------------- */
/* Pending tasks in start order: priority DESC, created_at ASC, id ASC,
 * strictly after the cursor row when `after` is non-NULL. */
typedef struct pending_cursor {
	int32_t priority;
	int64_t created_at;
	weft_id id;
} pending_cursor;
int store_pending_scan(store_conn *c, const pending_cursor *after, size_t limit,
                       task_row **out, size_t *n);

/* Number of tasks with kind == kind, status in status_mask and metadata
 * containing `pattern` (JSON object text; "{}" matches every task whose
 * metadata is an object, not one whose metadata is null). Counting stops
 * at `limit` (> 0). Dedup and concurrency rules use it. */
int store_count_matching(store_conn *c, const char *kind, unsigned status_mask,
                         const char *pattern, int64_t limit, int64_t *count);
/* Σ max(coalesce(expected_count,0) − success − failures, 0) over tasks with
 * kind == kind, status in {claimed, running}, metadata containing pattern. */
int store_capacity_sum(store_conn *c, const char *kind, const char *pattern, int64_t *sum);

/* Start-webhook idempotency ledger, keyed "<task>:start" etc. */
typedef enum { LEDGER_CLAIMED = 0, LEDGER_DONE = 1, LEDGER_BUSY = 2 } ledger_claim_result;
/* Inserts the key as pending, or re-claims it when it failed before or is
 * pending and older than stale_before. LEDGER_DONE: it already succeeded. */
int store_ledger_claim(store_conn *c, const char *key, const weft_id *task, action_trigger trig,
                       action_condition cond, int64_t now, int64_t stale_before,
                       ledger_claim_result *result);
int store_ledger_finish(store_conn *c, const char *key, bool ok, int64_t now);

/* Tasks in `status` with their timer inputs, to arm timers at start-up. */
typedef struct deadline_row {
	weft_id id;
	int64_t last_updated;
	int32_t timeout_secs;
} deadline_row;
int store_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n);

/* ---- batches (writer) ------------------------------------------------ */
int store_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count);

typedef struct batch_cancel_counts {
	int64_t canceled[TS__COUNT];    /* indexed by the status before */
	int64_t already_terminal;
} batch_cancel_counts;
/* Every non-terminal task of the batch becomes canceled with `reason`,
 * ended_at = last_updated = now. Returns counts and the ids that were
 * running (their cancel webhooks fire). */
int store_batch_cancel(store_conn *c, const weft_id *batch, const char *reason, int64_t now,
                       batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning);
/* Tasks of the batch with exactly this kind and a non-terminal status get
 * rules = rules_json and last_updated = now. */
int store_batch_set_rules(store_conn *c, const weft_id *batch, const char *kind,
                          const char *rules_json, int64_t now, int64_t *updated);

/* ---- reads for the API (any connection) ------------------------------ */
typedef struct task_filter {
	const char *name;         /* case-sensitive substring, NULL = any */
	const char *kind;         /* case-sensitive substring, NULL = any */
	bool has_status;
	task_status status;
	bool has_timeout;
	int32_t timeout;
	const weft_id *batch_id;  /* NULL = any */
	const char *metadata;     /* containment pattern JSON text, NULL = any */
} task_filter;
/* Ordered created_at DESC, id DESC. */
int store_task_list(store_conn *c, const task_filter *f, int64_t offset, int64_t limit,
                    task_row **out, size_t *n);

typedef struct batch_stats {
	int64_t total_tasks, total_success, total_failures;
	bool has_total_expected;     /* false when any task's expected_count is null */
	int64_t total_expected;
	int64_t status_counts[TS__COUNT];
} batch_stats;
int store_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out);  /* NOT_FOUND: no task */

typedef struct batch_filter {
	const char *kind;          /* substring */
	const char *name;          /* substring */
	bool has_status;
	task_status status;
	int64_t created_after;     /* inclusive, 0 = none */
	int64_t created_before;    /* inclusive, 0 = none */
} batch_filter;
typedef struct batch_summary {
	weft_id batch_id;
	int64_t total_tasks;
	int64_t first_created_at, latest_updated_at;
	int64_t status_counts[TS__COUNT];
	char **kinds;              /* distinct kinds of the matching tasks, owned */
	size_t nkinds;
} batch_summary;
/* Batches with at least one task matching every filter, ordered by the
 * earliest created_at of their matching tasks, newest first. */
int store_batch_list(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit,
                     batch_summary **out, size_t *n);

/* Tasks of a batch (created_at ASC) and the links inside it. */
int store_dag(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks,
              link_row **links, size_t *nlinks);

/* ---- freeing --------------------------------------------------------- */
void store_free_tasks(task_row *rows, size_t n);
void store_free_actions(action_row *rows, size_t n);
void store_free_batch_summaries(batch_summary *rows, size_t n);

#endif
