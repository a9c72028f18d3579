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

/* ---- freeing --------------------------------------------------------- */
void store_free_tasks(task_row *rows, size_t n);
void store_free_actions(action_row *rows, size_t n);
void store_free_batch_summaries(batch_summary *rows, size_t n);
void store_free_outbox(outbox_row *rows, size_t n);
void store_free_events(task_event *rows, size_t n);
void store_free_kind_counts(kind_count *rows, size_t n);
/* Arrays of weft_id, deadline_row, timer_due_row and link_row are freed
 * with free(). */


#endif
