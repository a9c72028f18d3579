/*
 * runs.h — runs in the store (runs.c): their queue tasks, exec tasks and
 * webhook task reports, run status and the run reads. Part of the store's
 * interface (store.h states its conventions).
 */
#ifndef WEFT_STORE_RUNS_H
#define WEFT_STORE_RUNS_H

#include "store/jobs.h"

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

#endif
