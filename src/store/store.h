/*
 * store.h — persistence. The engine and the read paths talk to the database
 * only through these functions; SQL and dialect live below, in the store's
 * domain files (written once over the driver seam, db.h) and its two
 * drivers, SQLite and PostgreSQL, selected by URL in store_open().
 *
 * Backends: SQLite (one node owns the file) and PostgreSQL (any number of
 * nodes share one database; see "Many nodes" below).
 *
 * Connections: one *writer* connection, used only by the engine thread, on
 * which every mutation runs inside store_begin()/store_commit(); and a pool
 * of *reader* connections for HTTP reads (GET routes), each used by one
 * thread at a time (store_reader_acquire/release).
 *
 * Writes inside a transaction may be sent without waiting for their answer
 * (PostgreSQL): a failed one then fails the next call that waits — a read,
 * store_savepoint_release or store_commit — never silently.
 *
 * Errors: every function returns 0 or a negative code of core/error.h:
 * WEFT_ENOTFOUND where noted, WEFT_ESTORE for a failed statement,
 * WEFT_EUNAVAILABLE when the database cannot be reached, WEFT_ERETRY for a
 * conflict with another node's transaction (a deadlock or a lock wait that
 * timed out: the step's savepoint must be rolled back, and the step may be
 * tried again). Outcomes that are not failures (a guard that did not
 * match, no due row) come back through out-parameters. Output arrays are
 * owned by the caller and freed with the matching store_free_* function.
 * Input pointers are borrowed.
 */
#ifndef WEFT_STORE_H
#define WEFT_STORE_H

#include "model.h"
#include "core/error.h"
#include "core/limits.h"

typedef struct store store;
typedef struct store_conn store_conn;

typedef struct store_options {
	bool sync_full;        /* SQLite synchronous=FULL (default) vs NORMAL */
	int readers;           /* size of the reader pool (default 8) */
	int64_t slow_query_us; /* statements slower than this count in slow_queries_total (default 100 ms) */
	const char *node_id;   /* this node's name in cross-node wake-ups (PostgreSQL); NULL = generated */
	/* The database page cache of the whole process, in MiB (default 32):
	 * on SQLite half for the writer, half shared by the readers; on
	 * PostgreSQL the server caches and the client holds result sets only. */
	int cache_mb;
} store_options;

/* Opens (creating if needed) and migrates the database named by url: a file
 * path, "sqlite:PATH", "sqlite://PATH" or "file:PATH" (SQLite), or a
 * "postgres://" / "postgresql://" URL (PostgreSQL). On failure returns NULL
 * and writes a clear message into err. */
store *store_open(const char *url, const store_options *opt, char *err, size_t errlen);
void store_close(store *s);
const char *store_backend_name(const store *s);     /* "sqlite" | "postgres" */

store_conn *store_writer(store *s);                 /* borrowed; engine thread only */
store_conn *store_reader_acquire(store *s);         /* blocks until one is free */
void store_reader_release(store *s, store_conn *c);
void store_pool_stats(store *s, int *size, int *idle);
int store_ping(store_conn *c);

/* ---- transactions (writer) ------------------------------------------- */
int store_begin(store_conn *c);       /* BEGIN IMMEDIATE */
/* 0: committed. WEFT_EUNAVAILABLE when the connection was lost before
 * COMMIT was sent (nothing committed), another error when the transaction
 * failed (rolled back). WEFT_EINDOUBT when the connection was lost while
 * COMMIT was under way (PostgreSQL only; SQLite's commit is local): the
 * transaction may or may not have committed, and store_commit_resolve
 * tells. Never blocks beyond the COMMIT itself. */
int store_commit(store_conn *c);
/* The tasks whose status the writer's last transaction changed (or is
 * changing), in the order of the changes: valid until the next store_begin. Runs changed as a whole
 * by one statement are given as runs; overflow: more changed than
 * STORE_CHANGES_MAX, take everything as changed. */
#define STORE_CHANGES_MAX 20000
typedef struct store_change {
	weft_id id;
	task_status status;          /* the status the change gave */
} store_change;
typedef struct store_changes {
	const store_change *items;
	size_t n;
	const weft_id *runs;
	size_t nruns;
	bool overflow;
} store_changes;
store_changes store_changes_of(const store_conn *c);
/* The tasks of the status changes recorded in the trail after the entry
 * *after (up to limit, in order; *after moves to the last one read). With
 * *after < 0 it is set to the last entry, and nothing is read. */
int store_task_events_after(store_conn *c, int64_t *after, size_t limit, weft_id **ids, size_t *n);
/* After store_commit answered WEFT_EINDOUBT: ONE attempt to learn the
 * outcome (reconnecting if needed, then asking the transaction's status).
 * 0 with *committed set when it is known; WEFT_EUNAVAILABLE while the
 * database is out of reach or the old session is still ending the
 * transaction (try again later); WEFT_EINDOUBT when it can never be known
 * (no transaction id, or too old to tell: logged as an error). WEFT_EINVALID
 * when no commit is in doubt. The next store_begin forgets the doubt. */
int store_commit_resolve(store_conn *c, bool *committed);
int store_rollback(store_conn *c);
/* One level of savepoint, so one failing command of a group commit can be
 * undone without losing the others. A release can fail (a write sent
 * without waiting for its answer failed): the caller then rolls back to the
 * savepoint, which is still set. */
int store_savepoint(store_conn *c);
int store_savepoint_release(store_conn *c);
int store_savepoint_rollback(store_conn *c);   /* undoes and releases it */

/* ---- inserts (writer) ------------------------------------------------ */
typedef struct batch_row {
	weft_id id;
	int64_t created_at;
	const char *scope;            /* NULL = none */
	const char *metadata;         /* JSON text or NULL */
	const char *on_complete;      /* JSON array text of NewActionDto, or NULL */
	const char *namespace;        /* NULL = "default" */
	const char *name;             /* a run's name (POST /v1/runs), NULL = none */
} batch_row;

int store_batch_insert(store_conn *c, const batch_row *b);
int store_task_insert(store_conn *c, const task_row *t);
/* The same for a task of a /v1 run, with its ref (NULL: none), which a
 * decision's result names it by. */
int store_run_task_insert(store_conn *c, const task_row *t, const char *ref);
int store_link_insert(store_conn *c, const link_row *l);
int store_action_insert(store_conn *c, const weft_id *task_id, const action_row *a);

/* ---- single task ----------------------------------------------------- */
/* 0 or WEFT_ENOTFOUND. Falls back to the archive (out->archived = true). */
int store_task_get(store_conn *c, const weft_id *id, task_row *out);
/* All actions of a task, in insertion order, with their delivery record. */
int store_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n);
/* The actions of one trigger and condition, in insertion order. */
int store_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig,
                           action_condition cond, action_row **out, size_t *n);
/* The actions of many (task, trigger, condition) in one read: those of
 * q[0] in insertion order, then those of q[1], ...; each row carries its
 * task id (action_row.task_id). */
typedef struct action_query {
	weft_id task_id;
	action_trigger trigger;
	action_condition condition;
} action_query;
int store_task_actions_many(store_conn *c, const action_query *q, size_t nq, action_row **out, size_t *n);
/* A hint: store_task_actions_many with the same queries is coming later
 * in this transaction, and may get its answer with an earlier round trip
 * (db_prefetch; the start and end actions a task is created with never
 * change). Changes nothing; any other call runs as ever. */
void store_task_actions_prefetch(store_conn *c, const action_query *q, size_t nq);

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
	bool set_attempt;
	int32_t attempt;
	int64_t next_retry_at;                   /* set when non-zero */
	/* A job (executor "queue") is left as it is: not applied, whatever
	 * its status (ArcRun's PATCH and PUT, which would bypass the lease
	 * fence). */
	bool not_jobs;
	/* Audit trail: when the status changes, an event (prev -> status) is
	 * recorded with this actor ("api" when NULL) and reason (failure_reason
	 * when NULL). */
	const char *actor;
	const char *reason;
	/* Out (optional): the row as it is after the update, when applied. */
	task_row *after;
} task_update;

/* What a guarded update found. */
typedef struct task_update_result {
	bool found;             /* the task exists (store_task_update answers WEFT_ENOTFOUND instead) */
	bool applied;           /* the status was in from_mask and the row was written */
	task_status prev;       /* the status before (the current one when not applied) */
	/* "success" or "failures" when the guard matched but adding to that
	 * counter would have passed TASK_COUNTER_MAX (core/limits.h): nothing
	 * was written. NULL otherwise. Static. */
	const char *over_limit;
} task_update_result;

/* When the status enters a terminal one from a non-terminal one, the
 * task's batch counter of unfinished tasks (batch.remaining) is decremented.
 * Returns 0 when the task exists (res says whether the guard matched),
 * WEFT_ENOTFOUND when no task has this id. res is required. */
int store_task_update(store_conn *c, const weft_id *id, unsigned from_mask,
                      const task_update *u, task_update_result *res);

/* One change of a set: a guarded update of one task. */
typedef struct task_change {
	weft_id id;
	unsigned from_mask;
	task_update u;          /* u.after: optional, filled when applied */
} task_change;
/* Applies the changes of a set (borrowed) as store_task_update would one
 * after the other, in a constant number of statements per round: changes
 * of the same task apply in their order, in successive rounds. res (n
 * entries, required) says for each whether its task was found and the
 * change applied. Rows are locked in id order where other nodes write. */
int store_task_update_many(store_conn *c, const task_change *ch, size_t n, task_update_result *res);
/* The round of each of n ids (borrowed): the k-th occurrence of an id is
 * in round k (from 0). Returns the number of rounds. */
size_t store_rounds(const weft_id *const *ids, size_t n, uint32_t *round);
/* Calls fn once per round of the n ids, in order, with the positions of
 * the round's ids (idx[0..m-1], ascending); stops at the first error,
 * which it returns. */
int store_each_round(const weft_id *const *ids, size_t n, int (*fn)(void *ctx, const size_t *idx, size_t m),
                     void *ctx);
/* The live tasks among ids, in no particular order (an id without a task
 * is left out); with lock, their rows are locked in id order where other
 * nodes write. */
int store_tasks_read(store_conn *c, const weft_id *ids, size_t n, bool lock, task_row **out, size_t *nout);

/* ---- DAG propagation (writer) ---------------------------------------- */
/* The failure cascade of a set of tasks that failed or were canceled:
 * every waiting or paused task reached from them through requires_success
 * links, at any depth, becomes failure with "Required parent task <p>
 * failed" (p: the least of its parents through which the cascade reached
 * it) and ended_at = now (last_updated untouched), with an audit event
 * each (actor "system") and its batch's remaining counter decremented.
 * Returns those tasks as they are afterwards (owned rows) and, for each,
 * that parent (free()). One recursive query, whatever the depth. */
int store_fail_cascade(store_conn *c, const weft_id *failed, size_t n, int64_t now, task_row **out,
                       weft_id **parents, size_t *nout);
/* decisions.c: a decision task's children with their refs (NULL: the
 * child has none), in id order, and its result (owned compact JSON, NULL
 * when none was stored). */
typedef struct decision_child {
	weft_id id;
	char *ref;
	task_status status;
} decision_child;
int store_decision_read(store_conn *c, const weft_id *id, char **result, decision_child **children, size_t *n);
void decision_children_free(decision_child *v, size_t n);
/* Sets the task's error code to invalid_decision (its status and message
 * are the guarded update's). */
int store_decision_mark_invalid(store_conn *c, const weft_id *id);
/* The children a decision did not choose (seeds; deciders[i]: the
 * decision of seeds[i]) that are still waiting or paused, and every task
 * below them whose parents are all skipped (or skipped by this cascade),
 * become skipped: audit events (actor "system"), batch counters and
 * status counts. A task below them with a parent that is not skipped
 * stays as it is. Returns the skipped tasks as they are afterwards (owned
 * rows). One recursive query, whatever the depth. */
int store_skip_cascade(store_conn *c, const weft_id *seeds, const weft_id *deciders, size_t n, int64_t now,
                       task_row **out, size_t *nout);
/* For every child of the parents still waiting or paused: wait_finished
 * -= the number of its links from them, and wait_success -= the number of
 * those links that require success from a parent that succeeded. Then the
 * waiting ones (not paused) whose counters are both 0 become pending
 * (audit event, actor "system", reason "dependencies resolved"); their ids
 * are returned. A parent is given once. */
typedef struct parent_outcome {
	weft_id id;
	bool succeeded;
} parent_outcome;
int store_release_children_many(store_conn *c, const parent_outcome *parents, size_t n,
                                weft_id **became_pending, size_t *np);
/* The same for one parent. */
int store_release_children(store_conn *c, const weft_id *parent, bool parent_succeeded,
                           weft_id **became_pending, size_t *n);
/* Whether a task among `children` has at least two of its parents among
 * `parents`. */
int store_two_parents_among(store_conn *c, const weft_id *children, size_t nc, const weft_id *parents, size_t np,
                            bool *found);
/* Distinct parents of the given tasks that are non-terminal and have no
 * non-terminal child any more (dead-end candidates). */
int store_dead_end_parents(store_conn *c, const weft_id *tasks, size_t ntasks,
                           weft_id **parents, size_t *n);

/* ---- starting tasks (writer) ----------------------------------------- */
/* Pending tasks in start order: priority DESC, created_at ASC, id ASC,
 * strictly after the cursor row when `after` is non-NULL, leaving out those
 * whose start_after is later than `now`. The first page (no cursor) also
 * gives *next_start (optional): what store_pending_next_start answers. */
typedef struct pending_cursor {
	int32_t priority;
	int64_t created_at;
	weft_id id;
	/* Executors whose tasks the page after the cursor leaves out (they
	 * have no room left in the pass): borrowed, nskip of them. */
	const char *const *skip;
	size_t nskip;
} pending_cursor;
int store_pending_scan(store_conn *c, const pending_cursor *after, size_t limit, int64_t now,
                       task_row **out, size_t *n, int64_t *next_start);

/* The earliest start_after later than `now` among pending tasks (the next
 * delayed start to wake up for); INT64_MAX when none. */
int store_pending_next_start(store_conn *c, int64_t now, int64_t *due);

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
/* Records the outcome with the last HTTP status (0 = none) and error
 * (NULL = none), shown as the start action's delivery record. */
int store_ledger_finish(store_conn *c, const char *key, bool ok, int32_t http_status, const char *error,
                        int64_t now);
/* The same for a set of keys in one statement each: claims (a key given
 * twice is claimed by its first claim only) and outcomes (a key given
 * twice keeps its last). Keys and errors are borrowed. */
typedef struct ledger_claim {
	const char *key;
	weft_id task;
	ledger_claim_result result;     /* out */
} ledger_claim;
int store_ledger_claim_many(store_conn *c, ledger_claim *claims, size_t n, action_trigger trig,
                            action_condition cond, int64_t now, int64_t stale_before);
typedef struct ledger_outcome {
	const char *key;
	bool ok;
	int32_t http_status;
	const char *error;
} ledger_outcome;
int store_ledger_finish_many(store_conn *c, const ledger_outcome *o, size_t n, int64_t now);

/* Tasks in `status` with their timer inputs, to arm timers at start-up.
 * For TS_PENDING only tasks with a start_after are returned. Jobs
 * (executor "queue") are left out of pending and running: their timers are
 * their leases (store_job_leases). */
typedef struct deadline_row {
	weft_id id;
	int64_t last_updated;
	int32_t timeout_secs;
	int64_t next_retry_at;      /* retrying tasks */
	int64_t start_after;        /* pending tasks */
	int64_t lease_until;        /* running jobs */
} deadline_row;
int store_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n);
/* Running jobs with their lease_until, to arm their job_lease at start-up. */
int store_job_leases(store_conn *c, deadline_row **out, size_t *n);

/* ---- batches (writer) ------------------------------------------------ */
int store_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count);
/* batch.remaining += delta (tasks created unfinished). */
int store_batch_add_remaining(store_conn *c, const weft_id *batch, int64_t delta);

typedef struct batch_outcome {
	int64_t success, failure, canceled;
} batch_outcome;
/* Marks the batch completed when it has a batch row, no unfinished task
 * (remaining == 0) and was not completed before: then *completed is true,
 * with its on_complete JSON (owned, NULL when none) and the counts of its
 * tasks by terminal status. */
int store_batch_complete(store_conn *c, const weft_id *batch, int64_t now, bool *completed,
                         char **on_complete, batch_outcome *counts);
/* The same for a set of batches in two statements: the batches that
 * completed now, each with its on_complete (owned) and counts. Batch rows
 * are locked in id order where other nodes write. Free with
 * store_free_completions. */
typedef struct batch_completion {
	weft_id batch;
	char *on_complete;
	batch_outcome counts;
} batch_completion;
int store_batch_complete_many(store_conn *c, const weft_id *batches, size_t n, int64_t now,
                              batch_completion **out, size_t *nout);
void store_free_completions(batch_completion *rows, size_t n);

typedef struct batch_cancel_counts {
	int64_t canceled[TS__COUNT];    /* indexed by the status before */
	int64_t already_terminal;
} batch_cancel_counts;
/* Every non-terminal task of the batch becomes canceled with `reason`,
 * ended_at = last_updated = now (audit events, actor "api"; remaining
 * decremented). Returns counts and the ids that were running (their cancel
 * webhooks fire). */
int store_batch_cancel(store_conn *c, const weft_id *batch, const char *reason, int64_t now,
                       batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning);
/* Pauses (resume false) every pending or waiting task of the batch, or
 * resumes every paused one (to waiting while its parents have not all
 * finished, else pending), in a constant number of statements: audit
 * events by actor with reason, last_updated = now, the status counts
 * kept. counts[s]: the tasks changed, by the status they left (pause) or
 * reached (resume). */
int store_batch_pause(store_conn *c, const weft_id *batch, bool resume, int64_t now, const char *actor,
                      const char *reason, int64_t counts[TS__COUNT]);
/* Tasks of the batch with exactly this kind and a non-terminal status get
 * rules = rules_json and last_updated = now. */
int store_batch_set_rules(store_conn *c, const weft_id *batch, const char *kind,
                          const char *rules_json, int64_t now, int64_t *updated);

/* ---- groups (writer) ------------------------------------------------- */
/* Ids of the tasks of group `name` whose status is in status_mask, oldest
 * first. */
int store_group_tasks(store_conn *c, const char *name, unsigned status_mask, weft_id **ids, size_t *n);

/* ---- outbox (writer) ------------------------------------------------- */
/* Inserts a delivery (id assigned into o->id). A row with the same key
 * already present is left as it is (returns 0, o->id = 0). */
int store_outbox_insert(store_conn *c, outbox_row *o);
/* Leases up to `limit` due deliveries: status pending or retrying with
 * next_attempt_at <= now, or delivering whose lease (next_attempt_at)
 * expired; skipping rows of the tasks in `skip` (their start call is in
 * flight). Leased rows become delivering with next_attempt_at =
 * lease_until, attempts + 1, last_attempt_at = now; they are returned as
 * updated, oldest due first. *next_due (optional) is what
 * store_outbox_next_due would answer afterwards. */
int store_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit,
                       const weft_id *skip, size_t nskip, outbox_row **out, size_t *n, int64_t *next_due);
/* Inserts a set of deliveries in one statement, sent without waiting (ids
 * are not returned); keys already present, in the table or earlier in the
 * set, are skipped. A row given as delivering is leased to this writer as
 * it is written (its attempts, and its lease's end in next_attempt_at);
 * its outcome names it by key. */
int store_outbox_insert_many(store_conn *c, const outbox_row *o, size_t n);
/* Records an attempt's outcome: ok -> success; otherwise retrying with
 * next_attempt_at = retry_at, or exhausted when retry_at is 0. */
int store_outbox_finish(store_conn *c, int64_t id, bool ok, int32_t http_status, const char *error,
                        int64_t now, int64_t retry_at);
/* The same for a set of deliveries, in one statement. */
typedef struct outbox_outcome {
	int64_t id;                 /* the row, or 0: the row of `key` */
	const char *key;            /* borrowed; used when id is 0 */
	bool ok;
	int32_t http_status;        /* 0 = none */
	const char *error;          /* borrowed, NULL = none */
	int64_t retry_at;
} outbox_outcome;
int store_outbox_finish_many(store_conn *c, const outbox_outcome *o, size_t n, int64_t now);
/* Earliest next_attempt_at of undelivered rows (pending, retrying,
 * delivering); INT64_MAX when there is none. */
int store_outbox_next_due(store_conn *c, int64_t *due);
/* At start-up of a single node: rows left delivering become due now. */
int store_outbox_recover(store_conn *c, int64_t now);

/* ---- idempotency keys (writer) ------------------------------------------ */
/* Takes `key` for a request whose fingerprint (of its method, path and
 * body) is `fingerprint`, inside the writer's transaction. A new key is
 * inserted: *fresh true, and the caller applies the request and records
 * its outcome with store_idempotency_finish in the same transaction (a
 * rollback forgets the key). A known key: *fresh false, with the
 * fingerprint it was taken with and its recorded outcome (both owned,
 * freed by the caller; the outcome NULL when none was recorded). Two
 * transactions taking one key serialize on it: on PostgreSQL the second
 * waits for the first to end, then sees its row. */
int store_idempotency_begin(store_conn *c, const char *key, const char *fingerprint, int64_t now, bool *fresh,
                            char **fingerprint_was, char **outcome);
int store_idempotency_finish(store_conn *c, const char *key, const char *outcome);
/* Removes up to `limit` keys taken before `before`; *removed says how many. */
int store_idempotency_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed);

/* ---- retention (writer) ---------------------------------------------- */
/* Moves up to `limit` terminal tasks with ended_at <= ended_before into the
 * archive (task_archive), removing their actions, links, ledger and
 * delivered outbox rows; their audit events stay. */
int store_archive_terminal(store_conn *c, int64_t ended_before, size_t limit, int64_t *archived);

/* ---- reads for the API (any connection) ------------------------------ */
typedef struct task_filter {
	const char *name;         /* case-sensitive substring, NULL = any */
	const char *kind;         /* case-sensitive substring, NULL = any */
	unsigned status_mask;     /* TS_BIT()s of the statuses wanted, 0 = any */
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
int store_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out);  /* WEFT_ENOTFOUND: no task */

typedef struct batch_filter {
	const char *kind;          /* substring */
	const char *name;          /* substring */
	unsigned status_mask;      /* TS_BIT()s: batches with a task in one of them; 0 = any */
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

/* A task's webhook calls as stored: one row per call, not per attempt (the
 * attempts are counted, the last one's outcome kept). kind: "start" (the
 * start call's ledger), or the outbox event: "end_success",
 * "end_failure", "cancel". */
typedef struct task_webhook_call {
	char kind[16];
	char status[16];             /* ledger: pending, success, failure; outbox: pending, delivering,
	                              * retrying, success, exhausted */
	int32_t attempts, max_attempts;   /* max_attempts 0: the ledger's (no bound stored) */
	int32_t http_status;         /* the last attempt's; 0: none */
	char *error;                 /* the last attempt's; NULL: none */
	int64_t created_at, ended_at;   /* ended_at 0: not ended */
} task_webhook_call;
int store_task_deliveries(store_conn *c, const weft_id *task, size_t limit, task_webhook_call **out, size_t *n);
void store_free_task_deliveries(task_webhook_call *rows, size_t n);

/* The links whose child is one of children (parents anywhere), by child. */
int store_links_to(store_conn *c, const weft_id *children, size_t n, link_row **out, size_t *nout);

/* The audit trail of a task, oldest first. The first entry is its
 * creation (has_from = false, to = its first status, actor "api", reason
 * "created"); later ones are its recorded transitions. WEFT_ENOTFOUND when the
 * task exists neither live nor archived. */
int store_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n);

/* Outbox rows, newest first, whose status is in status_mask (bits
 * 1u << delivery_status; 0 = every row). */
int store_outbox_list(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit,
                      outbox_row **out, size_t *n);

/* Gauges for /metrics: live tasks by status, and running tasks by kind. */
typedef struct kind_count {
	char *kind;       /* owned */
	int64_t count;
} kind_count;
int store_status_counts(store_conn *c, int64_t counts[TS__COUNT]);
int store_running_by_kind(store_conn *c, kind_count **out, size_t *n);

/* Tasks of a batch with their links, for critical-path analysis: see
 * store_dag. */

/* ---- many nodes ---------------------------------------------------------
 * On PostgreSQL several weft nodes share the database. Each has its own
 * engine; correctness across them comes from guarded updates, SKIP LOCKED
 * claims and advisory locks. On SQLite there is one node: it is always the
 * leader, its wake-ups go nowhere and rule locks are always granted. */

/* Whether other nodes may write the same database concurrently. The engine
 * then takes timers from the database (store_timers_*) instead of its own
 * heap, and does not recover other nodes' outbox leases at start. */
bool store_shared(const store *s);

/* Wake-ups from other nodes: `wake` is called from the store's listener
 * thread with STORE_WAKE_* bits when another node committed a change that
 * may give this one work (the bits that node sent with store_notify), or
 * this node's leadership changed (STORE_WAKE_LEADER). Set before the
 * engine starts, and cleared (NULL) before the engine is freed: once the
 * clearing call returns, no call of the old callback is under way. SQLite
 * never calls it. */
#define STORE_WAKE_STARTS (1u << 0)    /* tasks may have become startable */
#define STORE_WAKE_LEADER (1u << 1)
#define STORE_WAKE_FREED (1u << 2)     /* a claimed or running task left, capacity freed */
#define STORE_WAKE_OUTBOX (1u << 3)    /* deliveries written that their writer did not lease */
#define STORE_WAKE_DEADLINES (1u << 4) /* a deadline was armed in the database */
#define STORE_WAKE_QUEUE (1u << 5)     /* jobs became claimable (enqueue, release, lease lost) */
/* Everything another node may have done: sent when the bits are not
 * known (a notification from an older node, changes missed while the
 * listener was away). */
#define STORE_WAKE_WORK (STORE_WAKE_STARTS | STORE_WAKE_FREED | STORE_WAKE_OUTBOX | STORE_WAKE_DEADLINES | \
                         STORE_WAKE_QUEUE)
void store_set_wakeup(store *s, void (*wake)(void *arg, unsigned what), void *arg);
/* Whether this node holds the singleton lock (timers, retention): always
 * true on SQLite. Another node takes over within seconds of the leader's
 * death (its session's advisory lock goes with its connection). */
bool store_is_leader(store *s);
/* Inside the writer's transaction: tell the other nodes, at commit, what
 * the transaction may have given them to do (STORE_WAKE_* bits but
 * STORE_WAKE_LEADER). No-op on SQLite. */
int store_notify(store_conn *c, unsigned what);
/* Inside the writer's transaction: takes the cross-node lock of rule
 * checks on tasks of `kind` until the transaction ends, without waiting:
 * *got = false when another node holds it (try again later). Always
 * granted on SQLite. */
int store_rules_lock(store_conn *c, const char *kind, bool *got);
/* Blocking form, for dedup checks at submit: waits for the lock. */
int store_rules_lock_wait(store_conn *c, const char *kind);

/* Deadlines kept in the database (shared stores only; SQLite answers
 * WEFT_ESTORE). A due row is a task whose status deadline has passed:
 *   claimed:  last_updated + claim_timeout_us <= now (stale claim);
 *   running:  last_updated + timeout_secs s   <= now (inactivity timeout);
 *   retrying: next_retry_at                   <= now (backoff over);
 *   running job: lease_until                  <= now (lease or attempt over:
 *             `lease` set; jobs have no inactivity timeout).
 * Rows come earliest due first, at most `limit`. */
typedef struct timer_due_row {
	weft_id id;
	task_status status;
	bool lease;                 /* a running job's lease */
} timer_due_row;
int store_timers_due(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit,
                     timer_due_row **out, size_t *n);
/* The earliest of those deadlines, due or not; INT64_MAX when no task
 * has one. */
int store_timers_next(store_conn *c, int64_t claim_timeout_us, int64_t *due);

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

/* ---- operator actions, dead letters, workers (store/operator.c) -------- */
/* Whether some task depends on `id` (a link from it). */
int store_task_has_children(store_conn *c, const weft_id *id, bool *has);
/* The columns an operator action sets beside its guarded status change
 * (store_task_update), on a row it just changed. Each flag leaves its
 * column as it is when false (0). */
typedef struct task_operator_fields {
	bool reopen;                 /* ended_at, ended_by NULL: the task is no longer ended */
	bool clear_dead;             /* dead_at NULL: no longer a dead letter */
	bool set_retry_base;         /* retry_base = retry_base (a fresh retry budget) */
	int32_t retry_base;
	int64_t start_after;         /* non-zero: startable (claimable) from then */
	bool clear_next_retry;       /* next_retry_at NULL */
	const char *result;          /* non-NULL: result (compact JSON) */
	bool clear_lease;            /* lease_until, worker_id NULL: the holder lost it */
} task_operator_fields;
int store_task_operator_fields(store_conn *c, const weft_id *id, const task_operator_fields *f);
/* An audit entry (from -> to) for an action that changed no status (a
 * pending task made startable now). */
int store_task_event_add(store_conn *c, const weft_id *id, int64_t at, task_status from, task_status to,
                         const char *reason, const char *actor);

/* Dead letters (jobs with dead_at set), newest first along (dead_at, id),
 * strictly after (after_dead_at, after_id) when after_dead_at is set. */
typedef struct dead_letter_filter {
	const char *namespace;       /* exact; NULL = those in visible */
	const char *const *visible;  /* NULL with namespace NULL: every namespace */
	size_t nvisible;
	const char *queue;           /* exact; NULL = any */
	int64_t after_dead_at;
	weft_id after_id;
	size_t limit;
} dead_letter_filter;
int store_dead_letters(store_conn *c, const dead_letter_filter *f, task_row **out, size_t *n);

/* A worker as the registry knows it. Strings owned (store_free_workers). */
typedef struct worker_row {
	char namespace[NAMESPACE_MAX + 1];
	char *id;
	char *hostname;              /* NULL = unknown */
	char *queues;                /* JSON array text of the queues it last claimed from */
	int64_t first_seen_at, last_seen_at;
	bool draining;
	int64_t in_flight;           /* jobs running under its leases now */
} worker_row;
/* Workers in (namespace, id) order, after (after_namespace, after_id)
 * when set; or the one worker `id`. */
typedef struct worker_filter {
	const char *namespace;       /* exact; NULL = those in visible */
	const char *const *visible;  /* NULL with namespace NULL: every namespace */
	size_t nvisible;
	const char *id;              /* one worker; NULL = a page */
	const char *after_namespace, *after_id;
	size_t limit;
} worker_filter;
int store_workers(store_conn *c, const worker_filter *f, worker_row **out, size_t *n);
void store_free_workers(worker_row *rows, size_t n);
/* Marks a worker as told to drain: its next claim gets no job and every
 * claim and heartbeat answers drain. *found false when no such worker. */
int store_worker_drain(store_conn *c, const char *ns, const char *id, bool *found);
/* ---- runs (POST /v1/runs; runs.c) ------------------------------------------
 * A run is a batch whose tasks may be queue tasks (jobs) or webhook tasks;
 * its status is derived from its tasks (run_status_of). */

/* A queue task of a run: a job row in the run's batch, waiting for its
 * parents (wait_* as ArcRun's counters) or pending. */
typedef struct run_job_new {
	job_new job;
	weft_id batch_id;
	task_status status;          /* TS_WAITING or TS_PENDING */
	int64_t wait_success, wait_finished;
	int32_t shape;               /* TASK_SHAPE_* bits */
	const char *ref;             /* its ref in the run (borrowed) */
} run_job_new;
int store_run_job_insert(store_conn *c, const run_job_new *r);

/* exec_tasks.c: the exec executor's tasks. Records `node` as the worker
 * of the exec tasks ids (one statement). */
int store_exec_tasks_mark(store_conn *c, const weft_id *ids, size_t n, const char *node);
/* Up to limit claimed or running exec tasks of `node` (NULL: of any
 * node) not updated since `before` (µs): what it was running when it
 * stopped. */
int store_exec_tasks_orphaned(store_conn *c, const char *node, int64_t before, size_t limit, weft_id **out,
                              size_t *n);
/* The outcome of exec tasks: each one's result (JSON text) or error
 * code, written only while it is claimed or running, in one statement;
 * *applied (owned) the ids written. */
typedef struct exec_report {
	weft_id id;
	const char *result;          /* borrowed, NULL with an error code */
	const char *error_code;      /* borrowed, NULL on success */
} exec_report;
int store_exec_tasks_report(store_conn *c, const exec_report *r, size_t n, weft_id **applied, size_t *napplied);

/* The result (and error code) a webhook task's service reported, written
 * only while the task is claimed (its on_start call in flight) or running,
 * and not a job; *applied says whether it was, and *shape gives the
 * task's TASK_SHAPE_* bits when it was. The status change itself is the
 * PATCH's (update.c). */
int store_webhook_task_report(store_conn *c, const weft_id *id, const char *result, const char *error_code,
                              bool *applied, int32_t *shape);

typedef enum run_status { RUN_ACTIVE, RUN_SUCCESS, RUN_FAILURE, RUN_CANCELED, RUN__ANY } run_status;
/* "active", "success", "failure", "canceled". */
const char *run_status_name(run_status s);
int run_status_parse(const char *s, run_status *out);

/* One run. Strings owned (run_row_release). */
typedef struct run_row {
	weft_id id;
	char *namespace;
	char *name;                  /* NULL = none */
	char *metadata;              /* compact JSON, "null" when none */
	int64_t created_at, completed_at;
	int64_t remaining;           /* its unfinished tasks */
	int64_t counts[TS__COUNT];   /* its tasks by status (store_run_counts) */
} run_row;
void run_row_release(run_row *r);
void store_free_runs(run_row *rows, size_t n);
/* Active while a task is unfinished; else failure, canceled or success. */
run_status run_status_of(const int64_t counts[TS__COUNT]);

/* 0 or WEFT_ENOTFOUND (no batch with this id). */
int store_run_get(store_conn *c, const weft_id *id, run_row *out);
/* Fills runs[i].counts in one read. */
int store_run_counts(store_conn *c, run_row *runs, size_t n);

/* GET /v1/runs: newest first along (created_at, id), after the cursor. */
typedef struct run_filter {
	const char *const *namespaces;   /* NULL = every namespace */
	size_t nnamespaces;
	bool has_status;
	run_status status;
	int64_t created_after, created_before;   /* inclusive, exclusive µs; 0 = none */
	bool has_cursor;
	int64_t cursor_at;
	weft_id cursor_id;
} run_filter;
int store_run_list(store_conn *c, const run_filter *f, size_t limit, run_row **out, size_t *n);

/* A run's tasks oldest first along (created_at, id), after (after_at,
 * after_id) (0 and NULL: from the first), with their results. */
typedef struct run_task_row {
	task_row task;
	char *result;                /* compact JSON, NULL = none */
} run_task_row;
int store_run_tasks(store_conn *c, const weft_id *run, int64_t after_at, const weft_id *after_id, size_t limit,
                    run_task_row **out, size_t *n);
void store_free_run_tasks(run_task_row *rows, size_t n);

/* ---- freeing --------------------------------------------------------- */
void store_free_tasks(task_row *rows, size_t n);
void store_free_actions(action_row *rows, size_t n);
void store_free_batch_summaries(batch_summary *rows, size_t n);
void store_free_outbox(outbox_row *rows, size_t n);
void store_free_events(task_event *rows, size_t n);
void store_free_kind_counts(kind_count *rows, size_t n);
/* Arrays of weft_id, deadline_row, timer_due_row and link_row are freed
 * with free(). */

/* ---- bearer tokens made over the API (store/tokens.c) ------------------------------ */

/* A token of table api_token. The secret itself is never stored: digest
 * is the 64 hex digits of its SHA-256. namespaces: "*" or the names
 * joined by ','. Times in µs, 0 = none; last_used_at is written at most
 * once a minute per token and node. */
typedef struct api_token_row {
	char *name;
	char *digest;
	char *namespaces;
	bool admin;
	int64_t created_at;
	char *created_by;
	int64_t expires_at;
	int64_t revoked_at;
	char *revoked_by;
	int64_t last_used_at;
} api_token_row;
void api_token_row_release(api_token_row *t);
void store_free_api_tokens(api_token_row *rows, size_t n);

/* A token to insert (all borrowed). */
typedef struct api_token_new {
	const char *name, *digest, *namespaces;
	bool admin;
	int64_t created_at;
	const char *created_by;
	int64_t expires_at;         /* 0 = never */
} api_token_new;
/* Inserts t with a "create" event by created_by. *created false (nothing
 * written) when the name, or the digest, is taken already. Writer. */
int store_api_token_insert(store_conn *c, const api_token_new *t, bool *created);
/* Revokes the token `name` at now by actor (a "revoke" event); a token
 * revoked already stays as it is. *found false when there is no such
 * token. Writer. */
int store_api_token_revoke(store_conn *c, const char *name, int64_t now, const char *actor, bool *found);
/* The token `name` was used at `at`: last_used_at moves forward to it
 * (never back). Writer. */
int store_api_token_used(store_conn *c, const char *name, int64_t at);
/* One token by name, or by digest (hex; the unique index): 0 or
 * WEFT_ENOTFOUND. */
int store_api_token_get(store_conn *c, const char *name, api_token_row *out);
int store_api_token_by_digest(store_conn *c, const char *digest, api_token_row *out);
/* Every token, by name (bytewise), at most `limit`. */
int store_api_token_list(store_conn *c, size_t limit, api_token_row **out, size_t *n);

/* ---- queues: configuration, figures and limits (store/queues.c, queue_limits.c) ---- */

/* A queue's limits; 0 = none. */
typedef struct queue_limits {
	int64_t concurrency;         /* jobs of the queue running at once */
	int64_t key_concurrency;     /* jobs of one concurrency_key running at once */
	int64_t rate_limit;          /* claims per rate_period_ms, per rate key (a token bucket) */
	int64_t rate_period_ms;
	int64_t rate_burst;          /* the bucket's size */
} queue_limits;
bool queue_limits_any(const queue_limits *l);

/* A queue row. Strings owned (queue_row_release). */
typedef struct queue_row {
	char *namespace, *name;
	bool paused;
	queue_limits limits;
	int64_t created_at, updated_at;
	char *updated_by;            /* the actor of the last change of configuration; NULL = none */
} queue_row;
void queue_row_release(queue_row *q);
void store_free_queues(queue_row *rows, size_t n);

/* One queue: WEFT_ENOTFOUND when it has no row (no job was ever enqueued
 * and it was never configured). */
int store_queue_get(store_conn *c, const char *ns, const char *name, queue_row *out);
/* Queues of the namespaces ns[0..nns-1] (ns NULL: all), in (namespace,
 * name) byte order, after (after_ns, after_name) ("" for the first page). */
int store_queue_list(store_conn *c, const char *const *ns, size_t nns, const char *after_ns, const char *after_name,
                     size_t limit, queue_row **out, size_t *n);

/* A change of a queue's configuration, recorded in queue_event with its
 * actor. The row is created when missing. */
enum { QUEUE_SET_CONCURRENCY = 1, QUEUE_SET_KEY_CONCURRENCY = 2, QUEUE_SET_RATE = 4 };
typedef struct queue_update {
	const char *ns, *name;
	int paused;                  /* 1 pause, 0 resume, -1 keep */
	queue_limits limits;         /* the fields named by `set`; 0 removes a limit */
	unsigned set;                /* QUEUE_SET_* */
	const char *actor, *action;  /* "token:<name>"; "pause", "resume", "configure" */
	const char *detail;          /* JSON text of what changed, NULL = none */
} queue_update;
int store_queue_update(store_conn *c, const queue_update *u, int64_t now);

/* The trail of a queue's configuration, newest first. Owned strings. */
typedef struct queue_event {
	int64_t at;
	char *actor, *action, *detail;
} queue_event;
int store_queue_events(store_conn *c, const char *ns, const char *name, size_t limit, queue_event **out, size_t *n);
void store_free_queue_events(queue_event *ev, size_t n);

/* Figures of a queue at `now`. Windows: the last 1, 5 and 15 minutes, in
 * whole minutes (the current one and those before it). `paused` is left 0:
 * the ready jobs of a paused queue are its paused ones (the caller, who
 * has the queue row, moves them). */
#define QUEUE_WINDOWS 3
typedef struct queue_stats {
	int64_t ready, scheduled, running, retrying, paused, dead;
	int64_t oldest_ready_at;     /* start_after of the oldest ready job; 0 = none */
	int64_t completed[QUEUE_WINDOWS], failed[QUEUE_WINDOWS], dead_lettered[QUEUE_WINDOWS];
} queue_stats;
int store_queue_stats(store_conn *c, const char *ns, const char *name, int64_t now, queue_stats *out);
int queue_stats_window_minutes(int w);
/* Drops throughput rows older than any window reads (leader's retention). */
int store_queue_stats_expire(store_conn *c, int64_t now);
/* Whether the writer's transaction ended an attempt of a job of (ns,
 * queue) so far: a slot of a limited queue may have freed. */
bool queue_stats_noted(const store_conn *c, const char *ns, const char *queue);

/* The claim of a limited queue: up to the ranges' demand, in claim order,
 * as far as the limits allow. Call with the queue's lock held
 * (store_queue_lock). With info->clock set, the claims' time (started_at,
 * and the buckets') is read from it after the running counts, never before
 * now: a claim that took a slot another node freed then starts after that
 * node's end, also by the timestamps. */
typedef struct limited_claim_info {
	int64_t (*clock)(void);      /* in: NULL = `now` */
	bool blocked;                /* a limit held rows back */
	int64_t next_token_at;       /* when a held-back bucket has a token; INT64_MAX = none */
} limited_claim_info;
int store_jobs_claim_limited(store_conn *c, const char *ns, const char *queue, const queue_limits *l, int64_t now,
                             const job_claim_range *r, size_t nr, job_claimed_row **out, size_t *n,
                             limited_claim_info *info);
/* The queue's lock for the rest of the transaction, tried (PostgreSQL);
 * always granted with one writer (SQLite). */
int store_queue_lock(store_conn *c, const char *ns, const char *queue, bool *got);

#endif
