/*
 * task_logs.h — the lines executions printed, in the store (schema 0016,
 * table task_log).
 *
 * A line is keyed by (task, attempt, seq); seq is assigned by the engine
 * per (task, attempt), from 1, continuing after a restart from the stored
 * maximum. The task's namespace, run (its batch, or itself for a lone job)
 * and queue (its kind) are copied into the line when it is written, from
 * the task row, in the same statement: lines of a task that no longer
 * exists are not written. Writes come from the engine, a batch of lines in
 * one statement; reads from any connection.
 */
#ifndef WEFT_STORE_TASK_LOGS_H
#define WEFT_STORE_TASK_LOGS_H

#include "store/store.h"

/* Longest stored line, in bytes; longer ones are cut to this with
 * TASK_LOG_CUT_MARK at their end. */
#define TASK_LOG_LINE_MAX 16384
#define TASK_LOG_CUT_MARK " [cut]"
/* A level a worker may give: info, warn, error, debug (at most this long). */
#define TASK_LOG_LEVEL_MAX 8

/* One line to write (borrowed). */
typedef struct task_log_put {
	weft_id task_id;
	int32_t attempt;
	int64_t seq;
	const char *stream;     /* "stdout", "stderr", "system" */
	const char *level;      /* "info", "warn", ... */
	int64_t at;             /* µs */
	const char *text;       /* valid UTF-8 without NUL, at most TASK_LOG_LINE_MAX bytes */
	size_t len;
} task_log_put;

/* Writes n lines in one statement; *written (optional): rows written
 * (lines of missing tasks are skipped). A key already stored fails it
 * (WEFT_ESTORE): nothing is written. */
int store_task_logs_insert(store_conn *c, const task_log_put *lines, size_t n, int64_t *written);
/* The largest seq of (task, attempt), 0 when it has no line. */
int store_task_logs_max_seq(store_conn *c, const weft_id *task, int32_t attempt, int64_t *seq);

/* A stored line as read. */
typedef struct task_log_entry {
	weft_id task_id;
	int32_t attempt;
	int64_t seq;
	char stream[8];
	char level[TASK_LOG_LEVEL_MAX + 1];
	int64_t at;
	char *namespace, *run_id, *queue;
	char *text;
} task_log_entry;
void store_free_task_logs(task_log_entry *rows, size_t n);

/* A task's lines in (attempt, seq) order after (after_attempt,
 * after_seq): attempt > 0 keeps that attempt's only, stream (optional)
 * that stream's. At most limit rows. */
int store_task_logs_list(store_conn *c, const weft_id *task, int32_t attempt, const char *stream,
                         int32_t after_attempt, int64_t after_seq, size_t limit, task_log_entry **out, size_t *n);

/* The search across executions: every filter optional (NULL / 0). Lines
 * newest first along (at, task_id, attempt, seq), after the cursor's key
 * when has_after. text: a substring, case-insensitive (LIKE on SQLite,
 * ILIKE on PostgreSQL), bounded by the time range and the limit. */
typedef struct task_log_query {
	const char *const *namespaces;   /* visible namespaces; NULL: any */
	size_t nnamespaces;
	const weft_id *task_id;
	const char *run_id, *queue, *stream, *level, *text;
	int64_t since, until;            /* µs, [since, until); 0: open */
	bool has_after;
	int64_t after_at;
	weft_id after_task;
	int32_t after_attempt;
	int64_t after_seq;
	size_t limit;
} task_log_query;
int store_task_logs_search(store_conn *c, const task_log_query *q, task_log_entry **out, size_t *n);

/* Deletes up to limit lines older than `before` (LOG_RETENTION_DAYS). */
int store_task_logs_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed);

#endif
