/*
 * workflows.h — durable workflow runs, their memoized steps and signals in
 * the store (schema 0009; docs/internals/workflows.md).
 *
 * A run's id is its job's task id. Writes come from the engine's workflow
 * commands, inside the transaction that also changes the job; the fence
 * (the job's lease token) is checked there, against the task row. The
 * functions here keep the memo's own rules: which row of a name a call
 * reaches (seq), and that a step ends once.
 */
#ifndef WEFT_STORE_WORKFLOWS_H
#define WEFT_STORE_WORKFLOWS_H

#include "store/store.h"

typedef struct workflow_run_row {
	weft_id id;
	char *namespace, *type, *queue, *status;
	char *idempotency_key;       /* NULL: none */
	char *input, *output;        /* compact JSON or NULL */
	char *error_code, *error_message;
	char *step_retry;            /* canonical retry JSON (engine/retry.h) */
	char *suspend_reason;        /* "sleep", "retry", "signal" or NULL */
	char *wait_signal;
	int64_t wake_at;             /* µs; 0 = none */
	int64_t suspended_token;
	int64_t seen_token;          /* the last attempt that called */
	int64_t replays;             /* attempts that called */
	int64_t created_at, updated_at, ended_at;
} workflow_run_row;
void workflow_run_row_release(workflow_run_row *r);

typedef struct workflow_run_new {
	weft_id id;
	const char *namespace, *type, *queue;
	const char *idempotency_key;   /* NULL: none */
	const char *input;             /* NULL: none */
	const char *step_retry;
	int64_t now;
} workflow_run_new;

/* Inserts a pending run. *created false: an active run of the namespace
 * holds the key, nothing was written (read it with
 * store_workflow_run_by_key). */
int store_workflow_run_insert(store_conn *c, const workflow_run_new *r, bool *created);
/* 0 or WEFT_ENOTFOUND. */
int store_workflow_run_get(store_conn *c, const weft_id *id, workflow_run_row *out);
/* A run and its job, for a change: the job's row locked first, then the
 * run's, both as the last transaction that changed them left them, in one
 * statement. *job (one row, store_free_tasks) and *run; WEFT_ENOTFOUND
 * when either is missing, nothing read (the two reads apart tell which). */
int store_workflow_run_locked(store_conn *c, const weft_id *id, task_row **job, workflow_run_row *run);
/* The active run of the namespace holding key, else the newest finished
 * one: 0 or WEFT_ENOTFOUND. */
int store_workflow_run_by_key(store_conn *c, const char *ns, const char *key, workflow_run_row *out);

/* A run's new state. Text fields NULL are written as NULL, except output
 * (NULL keeps it); times 0 are NULL. With from_active, only a run that is
 * pending, running or suspended changes: *changed says whether it did. */
typedef struct workflow_run_change {
	const char *to;
	bool from_active;
	const char *output;
	const char *error_code, *error_message;
	const char *suspend_reason, *wait_signal;
	int64_t wake_at;
	int64_t suspended_token;
	int64_t replays_add;
	int64_t seen_token;          /* 0 = keep */
	int64_t ended_at;
} workflow_run_change;
int store_workflow_run_change(store_conn *c, const weft_id *id, const workflow_run_change *ch, int64_t now,
                              bool *changed);

/* A run still active in its own row whose job ended without its calls
 * (a worker's job report, a cancel of the task, a lost last lease) takes
 * the job's end: status, the job's result as output on success, error,
 * ended_at. *changed false when the run had ended or its job has not. */
int store_workflow_run_take_job_end(store_conn *c, const weft_id *id, int64_t now, bool *changed);

/* The runs as the API shows them (GET /v1/workflows and one run's reads):
 * newest first along (created_at, id); every filter optional (NULL / 0 =
 * any). A run still active whose job ended outside its own calls (a lost
 * last lease, a cancel of the task, a worker that completed the job) shows
 * the job's end: its status (workflow_status_of_job), ended_at and, on
 * success, the job's result as its output; a run whose job a worker holds
 * shows running. */
typedef struct workflow_run_filter {
	const weft_id *id;               /* that run only */
	const char *const *namespaces;   /* NULL: every namespace */
	size_t nnamespaces;
	const char *status, *type, *queue;
	int64_t created_after;           /* µs, inclusive */
	int64_t created_before;          /* µs, exclusive */
	bool has_cursor;                 /* rows after (cursor_at, cursor_id) in the order */
	int64_t cursor_at;
	weft_id cursor_id;
} workflow_run_filter;
int store_workflow_run_list(store_conn *c, const workflow_run_filter *f, size_t limit, workflow_run_row **out,
                            size_t *n);
void store_free_workflow_runs(workflow_run_row *rows, size_t n);

typedef enum workflow_step_kind { WS_STEP, WS_SLEEP, WS_SIGNAL } workflow_step_kind;
const char *workflow_step_kind_name(workflow_step_kind k);

typedef struct workflow_step_row {
	weft_id run_id;
	char *kind, *name, *status;
	int64_t seq;
	char *output;                  /* compact JSON or NULL */
	char *error_code, *error_message;
	int64_t attempts;
	int64_t next_attempt_at;       /* µs; 0 = none */
	int64_t seen_token;
	int64_t started_at, ended_at;
} workflow_step_row;
void workflow_step_row_release(workflow_step_row *s);

/* The row that the attempt holding lease token `token` reaches by this call
 * of (kind, name): the lowest seq no call of that attempt reached yet,
 * marked reached; when every row was reached, a new one (seq max + 1,
 * status `fresh_status`, attempts 0), *fresh true. So the n-th call of a
 * name in one attempt meets the same row on every replay. A run whose
 * memo has max_rows rows gets no new one: WEFT_ETOOLARGE. */
int store_workflow_step_reach(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                              int64_t token, const char *fresh_status, int64_t now, int64_t max_rows,
                              workflow_step_row *out, bool *fresh);

/* A retried run's steps that failed for good get a fresh try: retrying,
 * due now, attempts 0 (completed steps stay memoized). */
int store_workflow_steps_reopen(store_conn *c, const weft_id *run);

/* One row of the memo: 0 or WEFT_ENOTFOUND. */
int store_workflow_step_get(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                            int64_t seq, workflow_step_row *out);

/* The memo of a run in the order its rows were first reached (started_at,
 * then kind, name, seq), from the offset-th row on, at most limit rows. */
int store_workflow_step_list(store_conn *c, const weft_id *run, int64_t offset, size_t limit,
                             workflow_step_row **out, size_t *n);
void store_free_workflow_steps(workflow_step_row *rows, size_t n);

/* A step's new state, applied only when its status is `from` (a step ends
 * once) and, with `seen_token` set, when that attempt reached it: *changed
 * false when it was not. The changed row into *out (NULL: not wanted; left
 * zeroed when nothing changed). NULL text fields are written as NULL;
 * `next_attempt_at` 0 = none; `ended_at` 0 = not ended. */
typedef struct workflow_step_change {
	const char *from, *to;
	const char *output, *error_code, *error_message;
	int64_t attempts_add;
	int64_t next_attempt_at;
	int64_t ended_at;
	int64_t seen_token;            /* 0 = any */
} workflow_step_change;
int store_workflow_step_change(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                               int64_t seq, const workflow_step_change *ch, workflow_step_row *out,
                               bool *changed);

/* ---- retention (workflow_retention.c) ---------------------------------------------------- */

/* Deletes up to limit runs that ended at or before ended_before (by their
 * row, or by their job's end when the job ended without their calls),
 * with their memo and signals: *deleted how many. */
int store_workflow_runs_expire(store_conn *c, int64_t ended_before, size_t limit, int64_t *deleted);

/* ---- signals ---------------------------------------------------------------------------- */

/* Stores a signal sent to a run: *id its number (the order of arrival). */
int store_workflow_signal_insert(store_conn *c, const weft_id *run, const char *name, const char *payload,
                                 int64_t now, int64_t *id);
/* How many signals of the run no wait has taken yet. */
int store_workflow_signals_pending(store_conn *c, const weft_id *run, int64_t *n);
/* Consumes the oldest unconsumed signal `name` of the run for the wait
 * `seq`: *found false when there is none. *payload (owned; NULL for a
 * signal without one) its payload. */
int store_workflow_signal_take(store_conn *c, const weft_id *run, const char *name, int64_t seq, int64_t now,
                               bool *found, char **payload);

#endif
