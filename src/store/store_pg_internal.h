/*
 * store_pg_internal.h — what the PostgreSQL backend's files share:
 * store_pg.c (connections, pool, migrations, the listener and leader lock,
 * transactions and every write) and store_pg_read.c (the read operations).
 *
 * Statements are prepared once per connection under their name (a constant
 * that identifies exactly one SQL text) and executed with text parameters;
 * the name is also the label of the statement's db_query_duration_seconds
 * series. A connection that breaks is marked broken: every call on it
 * answers WEFT_EUNAVAILABLE until it is reset (the writer at its next
 * BEGIN, a reader when it is acquired), and a reset forgets what was
 * prepared.
 *
 * Schema (the migrations in schema/postgres/): the tables and columns of the SQLite
 * schema after its last migration, with the same names and meanings: ids
 * are canonical lowercase UUID text, timestamps BIGINT microseconds (NULL =
 * unset), JSON values compact text exactly as stored by the engine
 * (metadata is matched with `metadata::jsonb @> pattern::jsonb`), enums
 * their lowercase spelling (model.c).
 */
#ifndef WEFT_STORE_PG_INTERNAL_H
#define WEFT_STORE_PG_INTERNAL_H

#include "store/store_impl.h"
#include <libpq-fe.h>

/* ---- connections -------------------------------------------------------- */

typedef struct pg_conn pg_conn;     /* defined in store_pg.c; starts with store_conn */

static inline pg_conn *pgc(store_conn *c) { return (pg_conn *)c; }

/* ---- parameters ----------------------------------------------------------
 * Up to PG_MAX_PARAMS text parameters ($1, $2, ... in order of the pg_arg_*
 * calls). Numbers are formatted into the args' own storage; strings are
 * borrowed and must outlive the call. */
#define PG_MAX_PARAMS 32

typedef struct pg_args {
	int n;
	const char *values[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
	bool overflow;                  /* too many parameters: the call fails */
} pg_args;

void pg_args_init(pg_args *a);
void pg_arg_int(pg_args *a, int64_t v);
void pg_arg_null(pg_args *a);
void pg_arg_text(pg_args *a, const char *s);        /* NULL binds SQL NULL */
void pg_arg_id(pg_args *a, const weft_id *id);
void pg_arg_ts(pg_args *a, int64_t us);             /* 0 binds SQL NULL */
void pg_arg_bool(pg_args *a, bool v);               /* 't' / 'f' */

/* ---- execution ----------------------------------------------------------
 * Runs the statement `name` (prepared from `sql` on first use on this
 * connection). On success returns 0 and, when out is non-NULL, the result
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK) for the caller to PQclear.
 * Errors: WEFT_EUNAVAILABLE when the connection is lost (it is marked
 * broken), WEFT_ESTORE for a failed statement (logged with its name and
 * PostgreSQL's message). Inside a transaction a failed statement leaves it
 * aborted: the caller's savepoint rollback restores it. */
int pg_query(pg_conn *c, const char *name, const char *sql, const pg_args *a, PGresult **out);
/* pg_query for statements whose result is not needed. */
int pg_run(pg_conn *c, const char *name, const char *sql, const pg_args *a);
/* Runs a statement returning one row with one integer column (NULL reads
 * as 0 with *is_null set when is_null is non-NULL). WEFT_ENOTFOUND when it
 * returns no row. */
int pg_query_int(pg_conn *c, const char *name, const char *sql, const pg_args *a, int64_t *out,
                 bool *is_null);
/* Number of rows changed by a command result. */
int64_t pg_changes(const PGresult *r);

/* ---- reading columns ---------------------------------------------------- */
bool pg_is_null(const PGresult *r, int row, int col);
int64_t pg_int(const PGresult *r, int row, int col);            /* NULL -> 0 */
bool pg_bool(const PGresult *r, int row, int col);              /* 't' / non-zero */
char *pg_str(const PGresult *r, int row, int col);              /* owned copy; NULL stays NULL */
char *pg_str_nn(const PGresult *r, int row, int col, const char *dflt);  /* owned; NULL -> dflt */
void pg_id(const PGresult *r, int row, int col, weft_id *out);  /* NULL/invalid -> zero id */

/* The task columns in the order pg_read_task reads them, for SELECT lists
 * (`SELECT " PG_TASK_COLS " FROM task ...`), prefixed by a table alias
 * when one is given with PG_TASK_COLS_OF("t.").
 *
 * Reads a task from row `row` starting at column `col0`. Returns 0, or
 * WEFT_ESTORE on an unreadable enum. */
#define PG_TASK_COLS_OF(p) \
	p "id, " p "batch_id, " p "name, " p "kind, " p "status, " p "executor, " p "timeout_secs, " \
	p "created_at, " p "started_at, " p "ended_at, " p "last_updated, " p "metadata, " p "rules, " \
	p "wait_success, " p "wait_finished, " p "success, " p "failures, " p "failure_reason, " \
	p "expected_count, " p "dead_end_barrier, " p "priority, " p "attempt, " p "group_name, " \
	p "start_after, " p "retry_policy, " p "next_retry_at"
#define PG_TASK_COLS PG_TASK_COLS_OF("")
#define PG_TASK_NCOLS 26
int pg_read_task(const PGresult *r, int row, int col0, task_row *out);

/* Outbox columns, likewise. */
#define PG_OUTBOX_COLS_OF(p) \
	p "id, " p "idempotency_key, " p "event, " p "task_id, " p "batch_id, " p "action_id, " \
	p "params, " p "add_handle, " p "status, " p "attempts, " p "max_attempts, " \
	p "next_attempt_at, " p "last_attempt_at, " p "created_at, " p "updated_at, " \
	p "last_http_status, " p "last_error"
#define PG_OUTBOX_COLS PG_OUTBOX_COLS_OF("")
int pg_read_outbox(const PGresult *r, int row, int col0, outbox_row *out);

/* Ids of a result's column `col` into a new array (free()). */
int pg_collect_ids(const PGresult *r, int col, weft_id **out, size_t *n);
/* Tasks of a result (PG_TASK_COLS from column 0) into a new array. */
int pg_collect_tasks(const PGresult *r, task_row **out, size_t *n);

/* A text[] literal "{id,id,...}" of the ids, for `= ANY($1::text[])`. Owned. */
char *pg_ids_array(const weft_id *ids, size_t n);

/* ---- read operations (store_pg_read.c) -----------------------------------
 * Each has exactly the contract of the store.h function of the same name
 * without the pg_ prefix. */
int pg_task_get(store_conn *c, const weft_id *id, task_row *out);
int pg_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n);
int pg_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig, action_condition cond,
                        action_row **out, size_t *n);
int pg_pending_next_start(store_conn *c, int64_t now, int64_t *due);
int pg_count_matching(store_conn *c, const char *kind, unsigned status_mask, const char *pattern,
                      int64_t limit, int64_t *count);
int pg_capacity_sum(store_conn *c, const char *kind, const char *pattern, int64_t *sum);
int pg_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n);
int pg_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count);
int pg_group_tasks(store_conn *c, const char *name, unsigned status_mask, weft_id **ids, size_t *n);
int pg_outbox_next_due(store_conn *c, int64_t *due);
int pg_task_list(store_conn *c, const task_filter *f, int64_t offset, int64_t limit, task_row **out,
                 size_t *n);
int pg_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out);
int pg_batch_list(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit,
                  batch_summary **out, size_t *n);
int pg_dag(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks, link_row **links,
           size_t *nlinks);
int pg_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n);
int pg_outbox_list(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit, outbox_row **out,
                   size_t *n);
int pg_status_counts(store_conn *c, int64_t counts[TS__COUNT]);
int pg_running_by_kind(store_conn *c, kind_count **out, size_t *n);
int pg_timers_due(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit, timer_due_row **out,
                  size_t *n);
int pg_timers_next(store_conn *c, int64_t claim_timeout_us, int64_t *due);

#endif
