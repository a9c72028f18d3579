/*
 * db.h — the driver seam of the store, private to src/store/.
 *
 * The domain operations (tasks.c, dag.c, batches.c, ...) are written once,
 * over this seam; a driver (sqlite/, pg/) supplies what is really its own:
 * connections, statement execution, transactions, the spelling of a few
 * SQL fragments, and the few operations whose strategy differs (declared in
 * its header, each with the reason).
 *
 * Statements. A statement is defined once (db_sql) in portable SQL:
 * parameters are written $1, $2, ... (a parameter may be used twice), and
 * the few constructs the dialects spell differently are written as
 * fragments in braces, "{name}" or "{name:arg,arg}", which the driver's
 * dialect expands (db_expand): row locks, index hints, JSON containment, a
 * set of values bound as one parameter, ... (see db_fragment below and
 * docs/internals/store.md). Statements whose text depends on which
 * optional parts are present are built by a function per shape (db_dyn).
 * Each connection prepares a statement once and keeps it (dynamic shapes
 * in a bounded LRU).
 *
 * Sets. A list of values or of rows is bound as ONE parameter: a JSON
 * array (db_set), expanded by the dialect ({in}, {each}, {rows}), so one
 * statement serves any number of items and a set-based statement needs no
 * SQL text per size.
 *
 * Execution. db_prepare (or db_prepare_dyn), db_bind_* in parameter order,
 * then one of:
 *   db_step until it returns 0, reading columns in between, then db_end;
 *   db_run, for a statement whose rows are not needed (changes counted);
 *   db_send, for a write whose answer is not needed before the next
 *     statement that waits: a driver may send it without waiting (in a
 *     writer's transaction), so its error may show at a later call (a
 *     read, a savepoint release, the commit), never be lost;
 *   db_prefetch, for a read whose rows will be asked for later in the
 *     transaction: a driver may send it now, with what is queued, and
 *     answer the next execution of the same statement with the same
 *     values from it (one round trip fewer); it runs nothing by itself,
 *     and the later execution runs as ever when nothing matches. The
 *     answer is the rows as they were when it was sent: only for rows
 *     the transaction does not change in between.
 * Every execution is timed into db_query_duration_seconds and
 * slow_queries_total under the statement's name.
 *
 * Errors are core/error.h codes: WEFT_ESTORE for a failed statement,
 * WEFT_EUNAVAILABLE for a lost connection, WEFT_ERETRY for a conflict with
 * another transaction (deadlock, serialization failure, lock timeout).
 *
 * Pointers given to the seam are borrowed; bound text must stay valid
 * until the statement ends (db_end, db_run, db_send).
 */
#ifndef WEFT_STORE_DB_H
#define WEFT_STORE_DB_H

#include <pthread.h>

#include "core/limits.h"
#include "store/store.h"
#include "util/buf.h"

typedef struct db_driver db_driver;
typedef struct db_stmt db_stmt;
typedef struct db_cache_entry db_cache_entry;

typedef enum { DB_WRITER, DB_READER } db_role;

/* ---- statements ----------------------------------------------------------- */

typedef struct db_sql {
	const char *name;     /* the metrics label; stable across versions */
	const char *text;     /* portable SQL */
	/* Optional, for single-row inserts: the same table and columns as a
	 * COPY ... FROM STDIN, parameters in column order. A driver may collect
	 * the rows of a transaction and send them in one COPY (pg/pg.h). */
	const char *copy;
} db_sql;

/* A statement built per shape: build appends the portable SQL of one shape
 * (a set of bits the caller defines) to sql. */
typedef struct db_dyn {
	const char *name;
	void (*build)(buf *sql, unsigned shape);
} db_dyn;

/* The part of a prepared statement the seam shares with its driver (the
 * first member of the driver's statement). */
struct db_stmt {
	store_conn *c;
	const char *label;     /* "query=\"name\"", kept for the life of the process */
	const db_sql *def;     /* NULL for a dynamic statement */
	int nparams;           /* parameters of the text */
	int nbound;            /* bound so far in this execution */
	int err;               /* the first binding error */
	int64_t t0;            /* start of the execution (monotonic ns) */
	int64_t changes;       /* rows changed by the last execution; -1 unknown */
};

/* The prepared statement for def (or dyn and shape) on c, ready for its
 * parameters; the execution is timed from here. */
int db_prepare(store_conn *c, const db_sql *def, db_stmt **out);
int db_prepare_dyn(store_conn *c, const db_dyn *dyn, unsigned shape, db_stmt **out);

void db_bind_int(db_stmt *st, int64_t v);
void db_bind_null(db_stmt *st);
void db_bind_text(db_stmt *st, const char *s);          /* NULL binds NULL */
void db_bind_textn(db_stmt *st, const char *s, size_t maxlen);   /* at most maxlen bytes */
void db_bind_id(db_stmt *st, const weft_id *id);        /* NULL or unset binds NULL */
void db_bind_ts(db_stmt *st, int64_t us);               /* 0 binds NULL */
void db_bind_int_or_null(db_stmt *st, int64_t v);       /* 0 binds NULL */
void db_bind_bool(db_stmt *st, bool v);                 /* 1 or 0: compare with <> 0 */

/* 1: a row is there to read; 0: done; < 0: an error (then call db_end). */
int db_step(db_stmt *st);
/* Ends an execution (always, after db_step): rc is the last db_step result
 * or a caller's error; returns the error to report. */
int db_end(db_stmt *st, int rc);
/* Runs to the end without reading rows; *changes (optional) the rows changed. */
int db_run(db_stmt *st, int64_t *changes);
/* A write whose answer is not needed now (see the top). *changes
 * (optional): rows changed, or -1 when it was sent without waiting. */
int db_send(db_stmt *st, int64_t *changes);
void db_prefetch(db_stmt *st);     /* ends st */
/* A statement returning one integer: *found false (and *out 0) when it
 * returns no row or NULL. */
int db_query_int(db_stmt *st, int64_t *out, bool *found);

/* Columns of the current row, from 0. Text is borrowed until the next step. */
bool db_col_null(db_stmt *st, int i);
int64_t db_col_int(db_stmt *st, int i);                 /* NULL reads 0 */
const char *db_col_text(db_stmt *st, int i);            /* NULL for NULL */
char *db_col_str(db_stmt *st, int i);                   /* owned copy; NULL stays NULL */
char *db_col_str_nn(db_stmt *st, int i, const char *dflt);   /* owned; NULL reads dflt */
void db_col_id(db_stmt *st, int i, weft_id *out);       /* NULL or malformed: unset */
int db_col_status(db_stmt *st, int i, task_status *out);   /* WEFT_ESTORE when unknown */

/* Two columns: the sums of the non-negative integer expression `expr`'s
 * bits above and below COUNTER_SUM_SHIFT (core/limits.h), for
 * counter_sum_join; neither overflows where sum(expr) would. */
#define DB_SUM_PARTS(expr)                                                             \
	"CAST(coalesce(sum((" expr ") >> " DB_SUM_SHIFT_TEXT "), 0) AS BIGINT), "         \
	"CAST(coalesce(sum((" expr ") & " DB_SUM_MASK_TEXT "), 0) AS BIGINT)"
#define DB_SUM_SHIFT_TEXT "26"
#define DB_SUM_MASK_TEXT "67108863"    /* 2^26 - 1 */
_Static_assert(COUNTER_SUM_SHIFT == 26, "DB_SUM_SHIFT_TEXT and DB_SUM_MASK_TEXT follow COUNTER_SUM_SHIFT");
/* The sum read from columns i and i + 1 of DB_SUM_PARTS, saturating. */
int64_t db_col_sum(db_stmt *st, int i);

/* ---- sets bound as one parameter ---------------------------------------------
 * A JSON array: of values (db_set_text, _int, _id) for {in} and {each}, or
 * of rows (db_set_row then db_set_field_*) for {rows}. */
typedef struct db_set {
	buf json;
	size_t n;              /* values or rows */
	int fields;            /* fields of the current row; -1 outside a row */
	bool closed;           /* bound: complete, nothing can be added */
} db_set;

void db_set_init(db_set *s);
void db_set_release(db_set *s);
void db_set_text(db_set *s, const char *v);
void db_set_int(db_set *s, int64_t v);
void db_set_id(db_set *s, const weft_id *id);
void db_set_ids(db_set *s, const weft_id *ids, size_t n);
void db_set_statuses(db_set *s, unsigned mask);         /* the names of a task status mask */
void db_set_row(db_set *s);
void db_set_field_text(db_set *s, const char *name, const char *v);
void db_set_field_int(db_set *s, const char *name, int64_t v);
/* Completes the set (nothing can be added afterwards; it may be bound to
 * several statements); borrowed until the statement ends. */
void db_bind_set(db_stmt *st, db_set *s);
/* A list's namespace filter, the first parameter of its dynamic statement:
 * one namespace (ns; shape 1), the namespaces visible[0..nvisible-1]
 * (bound as a set built in *set, which the caller releases after the
 * statement; shape 2), or every namespace ("" ; shape 0 when both are
 * NULL). db_ns_filter_shape gives the shape bits the statement is chosen
 * by. */
unsigned db_ns_filter_shape(const char *ns, const char *const *visible);
void db_bind_ns_filter(db_stmt *st, db_set *set, const char *ns, const char *const *visible, size_t nvisible);

/* ---- rows the domain reads in several places ----------------------------------- */

/* The task columns in the order db_read_task reads them; TASK_COLS_OF("t.")
 * prefixes each with a table alias. */
#define TASK_COLS_OF(p)                                                                          \
	p "id, " p "batch_id, " p "name, " p "kind, " p "status, " p "timeout_secs, " p "created_at, " \
	p "started_at, " p "ended_at, " p "last_updated, " p "metadata, " p "rules, " p "wait_success, " \
	p "wait_finished, " p "success, " p "failures, " p "failure_reason, " p "expected_count, "       \
	p "dead_end_barrier, " p "priority, " p "attempt, " p "group_name, " p "start_after, "           \
	p "retry_policy, " p "next_retry_at, " p "executor, " p "namespace, " p "lease_token, "            \
	p "lease_until, " p "worker_id, " p "dead_at, " p "error_code, " p "retry_base, " p "shape"
#define TASK_COLS TASK_COLS_OF("")
#define TASK_NCOLS 34
/* One NULL per task column: the other rows of a compound select. */
#define TASK_NULLS                                                                               \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "   \
	"NULL, NULL, NULL, NULL"
/* The job columns outside TASK_COLS (read only by job reads), which the
 * archive copies with them. */
#define TASK_JOB_COLS "input, result, progress, concurrency_key, rate_key, claimed_by, ended_by"
/* A task from the row's columns col0 .. col0 + TASK_NCOLS - 1; WEFT_ESTORE
 * on an unknown status (out released). */
int db_read_task(db_stmt *st, int col0, task_row *out);

#define OUTBOX_COLS_OF(p)                                                                         \
	p "id, " p "idempotency_key, " p "event, " p "task_id, " p "batch_id, " p "action_id, "        \
	p "params, " p "add_handle, " p "status, " p "attempts, " p "max_attempts, "                     \
	p "next_attempt_at, " p "last_attempt_at, " p "created_at, " p "updated_at, "                    \
	p "last_http_status, " p "last_error"
#define OUTBOX_COLS OUTBOX_COLS_OF("")
int db_read_outbox(db_stmt *st, int col0, outbox_row *out);

/* Steps st to its end collecting rows into a new array (nothing on error;
 * st is ended either way): of a kind given by its element size, how to
 * fill a zeroed element from the current row, how to free one (NULL:
 * nothing to free); or of the kinds below. */
typedef struct db_row_kind {
	size_t size;
	int (*read)(db_stmt *st, void *row);
	void (*release)(void *row);
} db_row_kind;
int db_collect(db_stmt *st, const db_row_kind *k, void **out, size_t *n);
int db_collect_ids(db_stmt *st, weft_id **out, size_t *n);          /* column 0 */
int db_collect_tasks(db_stmt *st, task_row **out, size_t *n);       /* TASK_COLS from 0 */
int db_collect_outbox(db_stmt *st, outbox_row **out, size_t *n);    /* OUTBOX_COLS from 0 */

/* ---- transactions the domain opens itself ------------------------------------- */

/* Several reads in one snapshot, or several writes that apply together:
 * inside the caller's transaction when there is one, else in their own
 * (own = true), ended by the matching _end, which returns err or the
 * ending's error. */
int db_snapshot_begin(store_conn *c, bool *own);
int db_write_begin(store_conn *c, bool *own);
int db_own_end(store_conn *c, bool own, int err);

/* ---- dialects ------------------------------------------------------------------- */

/* A fragment: "{name}" or "{name:a,b}" in portable SQL becomes the
 * template with %1, %2, ... replaced by the (expanded) arguments.
 * Arguments are split at commas outside parentheses and braces. */
typedef struct db_fragment {
	const char *name;
	const char *tmpl;
} db_fragment;

typedef struct db_dialect {
	char param;                  /* '?' (?NNN) or '$' ($NNN) */
	const db_fragment *frags;
	size_t nfrags;
	/* {rows:$n,name type,...}: a subquery whose columns are the named
	 * fields of the rows of the set bound at $n. */
	void (*rows)(buf *out, const char *param, char *const *cols, int ncols);
} db_dialect;

/* Appends the dialect's form of portable SQL; *nparams the highest $n.
 * WEFT_ESTORE (logged) for an unknown fragment or unbalanced braces. */
int db_expand(const db_dialect *d, const char *text, buf *out, int *nparams);

/* ---- connections and the store ------------------------------------------------- */

/* The changes of batch.remaining not written yet (batches.c). */
typedef struct batch_delta {
	weft_id batch;
	int64_t delta;
} batch_delta;

typedef struct db_deltas {
	batch_delta *v;
	size_t n, cap;
	size_t flushed;          /* entries before this one are written */
	size_t sp_n, sp_flushed; /* where both stood at the savepoint */
} db_deltas;

/* The changes of the task counts by status not written yet (counts.c). */
typedef struct db_counts {
	int64_t delta[TS__COUNT];
	int64_t sp_delta[TS__COUNT];   /* as they stood at the savepoint */
	int slot;                      /* the connection's row of each status; -1 until picked */
} db_counts;

/* Job attempts ended in the transaction, per queue and minute, not
 * written yet (queues.c). */
struct queue_stat_entry;
typedef struct db_qstats {
	struct queue_stat_entry *v;
	size_t n, cap;
	size_t sp_n;                   /* entries at the savepoint */
	int slot;                      /* the connection's rows; 0 until picked */
} db_qstats;

/* The tasks whose status the transaction changed (changes.c). */
typedef struct db_changes {
	store_change *items;
	size_t n, cap;
	weft_id *runs;                 /* runs changed as a whole */
	size_t nruns, runs_cap;
	bool overflow;
	size_t sp_n, sp_nruns;         /* where they stood at the savepoint */
	bool sp_overflow;
} db_changes;

/* The part of a connection the seam shares with its driver (the first
 * member of the driver's connection). */
struct store_conn {
	const db_driver *drv;
	store *st;
	db_role role;
	bool sp_open;            /* a savepoint is set */
	bool sp_is_tx;           /* ... and it is the transaction itself (store.c) */
	bool final_writes_done;  /* drv->final_writes ran in this transaction */
	db_deltas deltas;
	db_counts counts;
	db_qstats qstats;
	db_changes changes;
	/* prepared statements */
	db_cache_entry *cache;
	size_t cache_cap, cache_len, ndyn;
	uint64_t clock;
};

/* The part of a store the seam shares with its driver (the first member
 * of the driver's store). */
struct store {
	const db_driver *drv;
	int64_t slow_ns;         /* slow_queries_total threshold */
	int64_t cache_kib;       /* the page-cache budget of the whole process */
	store_conn *writer;
	/* The reader pool: max_readers slots, the first nopen used; a driver
	 * opens them at start (db_pool_add) or on first need. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	store_conn **readers;
	int max_readers, nopen;
	store_conn **idle;
	int nidle;
};

/* Sets up the shared part of a new store from the options (defaults
 * applied) and the reader pool. */
void db_store_init(store *s, const db_driver *drv, const store_options *opt);
/* Adds an opened reader to the pool (a driver that opens them at start). */
void db_pool_add(store *s, store_conn *reader);
/* Frees the connections and the shared part (the driver frees its own). */
void db_store_release(store *s);
/* Sets up / frees the shared part of a connection. */
void db_conn_init(store_conn *c, store *s, const db_driver *drv, db_role role);
void db_conn_release(store_conn *c);

/* Times one execution: label as in db_stmt. */
void db_observe(store_conn *c, const char *label, int64_t ns);
int64_t db_mono_ns(void);

/* A schema migration: its number and its SQL (NUL-terminated). */
typedef struct db_migration {
	int version;
	const char *sql;
} db_migration;

/* Applies the driver's migrations not yet recorded, each in its own
 * transaction (migrate.c). -1 with a message naming what (where) on failure. */
int db_migrate(store_conn *w, const char *where, char *err, size_t errlen);

/* ---- the driver ------------------------------------------------------------------ */

struct db_driver {
	const char *name;                      /* "sqlite" | "postgres" */
	const db_dialect *dialect;
	const db_migration *migrations;
	size_t nmigrations;
	bool shared;                           /* other nodes may write the database */

	/* connections */
	/* A reader opened on first need must come back (broken, its calls then
	 * answering WEFT_EUNAVAILABLE) rather than NULL; a driver that opens
	 * its pool at start (db_pool_add) is never asked. */
	store_conn *(*conn_open)(store *s, db_role role);
	int (*conn_check)(store_conn *c);      /* before a reader is handed out */
	void (*conn_free)(store_conn *c);
	void (*close)(store *s);               /* the driver's own teardown and free */

	/* statements: sql is the expanded text */
	int (*prepare)(store_conn *c, const char *sql, int nparams, db_stmt **out);
	void (*finalize)(db_stmt *st);
	void (*bind_int)(db_stmt *st, int i, int64_t v);
	void (*bind_text)(db_stmt *st, int i, const char *s, size_t n);   /* s NULL: NULL */
	int (*step)(db_stmt *st);
	int (*send)(db_stmt *st);
	void (*prefetch)(db_stmt *st);         /* optional (db_prefetch); st is reset after */
	void (*reset)(db_stmt *st);
	bool (*col_null)(db_stmt *st, int i);
	int64_t (*col_int)(db_stmt *st, int i);
	const char *(*col_text)(db_stmt *st, int i, size_t *len);

	/* transactions */
	int (*begin)(store_conn *c);           /* BEGIN IMMEDIATE on a writer */
	int (*begin_snapshot)(store_conn *c);  /* one read snapshot */
	/* 0, an error, or WEFT_EINDOUBT: the connection was lost while COMMIT
	 * was under way, and commit_resolve tells the outcome. */
	int (*commit)(store_conn *c);
	/* One attempt to learn the outcome of a commit in doubt (store.h,
	 * store_commit_resolve). NULL: the driver's commits are never in doubt. */
	int (*commit_resolve)(store_conn *c, bool *committed);
	int (*rollback)(store_conn *c);
	bool (*in_transaction)(store_conn *c);
	bool (*tx_failed)(store_conn *c);      /* aborted: only a rollback is left */
	int (*savepoint)(store_conn *c);
	int (*savepoint_release)(store_conn *c);
	int (*savepoint_rollback)(store_conn *c);     /* undoes and releases it */
	/* Whether the writer's transaction has written nothing yet, so that a
	 * savepoint set now may be the transaction itself (NULL: never). */
	bool (*tx_untouched)(store_conn *c);
	/* Waits for the writes sent without waiting, so that a failed one
	 * fails the step that sent it (NULL: a driver that always waits). */
	int (*sync_writes)(store_conn *c);
	/* The transaction's last writes follow (at commit): NULL or a hook. */
	int (*final_writes)(store_conn *c);
	/* Migrations: runs a script of statements, message in err; and takes
	 * the lock that keeps other openers out until the transaction ends
	 * (NULL: BEGIN of a writer is enough). */
	int (*exec_script)(store_conn *c, const char *sql, char *err, size_t errlen);
	int (*migration_lock)(store_conn *c);

	/* many nodes: NULL when the database has one node */
	void (*set_wakeup)(store *s, void (*wake)(void *arg, unsigned what), void *arg);
	bool (*is_leader)(store *s);
	int (*notify)(store_conn *c, unsigned what);
	int (*rules_lock)(store_conn *c, const char *kind, bool wait, bool *got);

	/* Appends the expanded text of st to sql and its plan to plan (one
	 * line per plan node), the plan the database would choose for any
	 * parameter values; outside a transaction (db_explain_prepared). */
	int (*explain)(db_stmt *st, buf *sql, buf *plan);

	/* overrides: NULL runs the operation written once (its contract is
	 * store.h's) */
	/* One round of store_task_update_many: the changes ch[idx[0..n-1]]
	 * name distinct tasks; fills res[] and batch[] (each task's batch) at
	 * those indexes and records the events. The batch counters are the
	 * caller's. */
	int (*task_update_round)(store_conn *c, const task_change *ch, const size_t *idx, size_t n,
	                         task_update_result *res, weft_id *batch);
	int (*outbox_lease)(store_conn *c, int64_t now, int64_t lease_until, size_t limit,
	                    const weft_id *skip, size_t nskip, outbox_row **out, size_t *n, int64_t *next_due);
};

/* For tests of plans: calls fn with the name, expanded text and plan of
 * every statement prepared on c so far (see drv->explain), outside a
 * transaction. The first error of the driver or of fn. */
int db_explain_prepared(store_conn *c, int (*fn)(const char *name, const char *sql, const char *plan, void *arg),
                        void *arg);

/* ---- domain helpers shared by the written-once operations and overrides --------- */

/* arr (holding len elements of elem bytes, room for *cap) with room for
 * one more: the same or a larger array. */
void *db_grow(void *arr, size_t len, size_t *cap, size_t elem);
/* limit as an SQL LIMIT. */
int64_t db_clamp_limit(size_t limit);
/* Normalizes a page: a negative offset is 0 and limit + offset stays in
 * int64. False when the page is empty for sure. */
bool db_page_clamp(int64_t *offset, int64_t *limit);
/* db_run, with *changed set when the statement changed a row. */
int db_run_changed(db_stmt *st, bool *changed);
/* Runs q, a DELETE of at most $2 rows older than $1, in the caller's
 * transaction; *deleted gets the count. */
int db_delete_before(store_conn *c, const db_sql *q, int64_t before, size_t limit, int64_t *deleted);
/* The same in its own write transaction when the caller has none; a
 * limit of 0 deletes nothing, and *deleted is 0 on error. */
int db_expire_before(store_conn *c, const db_sql *q, int64_t before, size_t limit, int64_t *deleted);

/* update.c: what a driver's round of store_task_update_many shares with
 * the round written once. A change is one row of a set: the fields it
 * gives (task_change_fields), named as in TASK_CHANGE_COLS; absent ones
 * are null and keep their column in TASK_CHANGE_SET, whose row alias is r. */
#define TASK_CHANGE_COLS                                                                          \
	"status text, add_success bigint, add_failures bigint, metadata text, failure_reason text, "  \
	"rules text, expected_count bigint, priority bigint, started_at bigint, ended_at bigint, "    \
	"last_updated bigint, attempt bigint, next_retry_at bigint"
#define TASK_CHANGE_SET(r)                                                                        \
	"status = coalesce(" r ".status, task.status), "                                             \
	"success = task.success + coalesce(" r ".add_success, 0), "                                  \
	"failures = task.failures + coalesce(" r ".add_failures, 0), "                               \
	"metadata = coalesce(" r ".metadata, task.metadata), "                                       \
	"failure_reason = coalesce(" r ".failure_reason, task.failure_reason), "                     \
	"rules = coalesce(" r ".rules, task.rules), "                                                \
	"expected_count = coalesce(" r ".expected_count, task.expected_count), "                     \
	"priority = coalesce(" r ".priority, task.priority), "                                       \
	"started_at = coalesce(" r ".started_at, task.started_at), "                                 \
	"ended_at = coalesce(" r ".ended_at, task.ended_at), "                                       \
	"last_updated = coalesce(" r ".last_updated, task.last_updated), "                           \
	"attempt = coalesce(" r ".attempt, task.attempt), "                                          \
	"next_retry_at = coalesce(" r ".next_retry_at, task.next_retry_at)"
/* The fields of TASK_CHANGE_COLS, in its order, as bits. */
enum {
	TCF_STATUS = 1u << 0,
	TCF_ADD_SUCCESS = 1u << 1,
	TCF_ADD_FAILURES = 1u << 2,
	TCF_METADATA = 1u << 3,
	TCF_FAILURE_REASON = 1u << 4,
	TCF_RULES = 1u << 5,
	TCF_EXPECTED_COUNT = 1u << 6,
	TCF_PRIORITY = 1u << 7,
	TCF_STARTED_AT = 1u << 8,
	TCF_ENDED_AT = 1u << 9,
	TCF_LAST_UPDATED = 1u << 10,
	TCF_ATTEMPT = 1u << 11,
	TCF_NEXT_RETRY_AT = 1u << 12,
};
#define TCF__COUNT 13
/* Adds the change's fields to the current row of s; the TCF_* bits of
 * the fields it gave. */
unsigned task_change_fields(db_set *s, const task_update *u);
/* The counter (its name) that the change's additions would push past
 * TASK_COUNTER_MAX, NULL when none. */
const char *task_change_over(const task_update *u, int64_t success, int64_t failures);
/* The row a change of the round ch[idx[0..n-1]] wants back for the task
 * id (NULL when none); *index is built on first use, freed by the caller. */
typedef struct id_pos {
	const weft_id *id;
	size_t i;
} id_pos;
task_row *task_change_after(const task_change *ch, const size_t *idx, size_t n, const weft_id *id, id_pos **index);
/* When the transition happened: the update's own timestamps, else now. */
int64_t task_update_time(const task_update *u);
/* The reason and actor recorded for a status change. */
const char *task_update_reason(const task_update *u);
const char *task_update_actor(const task_update *u);

/* events.c: a set of events: rows added with event_row (from NULL: none), written
 * by one statement sent without waiting. */
void event_row(db_set *s, const weft_id *task, int64_t at, const char *from, const char *to, const char *reason,
               const char *actor);
int event_add_rows(store_conn *c, db_set *rows);

/* batches.c: batch.remaining bookkeeping, summed per batch in memory and
 * written once per transaction (at commit or before a completion check). */
int batch_remaining_add(store_conn *c, const weft_id *batch, int64_t delta);
/* A task of batch moved from `from` to `to`: counts it when it entered or
 * left a terminal status, and moves it in the counts by status (the hook
 * of every guarded status change: update.c's and the cascade's). */
int batch_remaining_move(store_conn *c, const weft_id *batch, task_status from, task_status to);
/* Writes what is not written yet; at_commit: the transaction's last write. */
int batch_remaining_flush(store_conn *c, bool at_commit);
void batch_remaining_reset(store_conn *c);
void batch_remaining_savepoint(store_conn *c);
void batch_remaining_rollback(store_conn *c);

/* counts.c: the counts of tasks by status (table task_count), changes
 * summed in memory and written once per transaction, at commit; outside a
 * transaction at once. n tasks entered status s (negative: left it). */
int task_count_add(store_conn *c, task_status s, int64_t n);
/* A task moved from `from` to `to`. */
int task_count_move(store_conn *c, task_status from, task_status to);
/* Writes what is not written yet; at_commit: among the transaction's last writes. */
int task_counts_flush(store_conn *c, bool at_commit);
/* The INSERT that writes them, the set and the slot being the parameters
 * named by `rows` and `slot`, for a WITH of another write (PostgreSQL),
 * bound by task_counts_bind and marked written by task_counts_written
 * once the statement ran. */
#define TASK_COUNT_ADD_SQL(rows, slot)                                                               \
	"INSERT INTO task_count (status, slot, n) SELECT x.status, " slot ", x.delta "                  \
	"FROM {rows:" rows ",status text,delta bigint} AS x WHERE 1 = 1 "                               \
	"ON CONFLICT (status, slot) DO UPDATE SET n = task_count.n + excluded.n"
bool task_counts_dirty(const store_conn *c);
/* Binds the set (filled here into *rows, released by the caller after the
 * statement) and the slot, as the next two parameters. */
void task_counts_bind(store_conn *c, db_stmt *st, db_set *rows);
void task_counts_written(store_conn *c);
void task_counts_reset(store_conn *c);
void task_counts_savepoint(store_conn *c);
void task_counts_rollback(store_conn *c);

/* queues.c: throughput of queues (table queue_stat), noted per ended job
 * attempt and written by one statement before COMMIT, as the counts are.
 * attempt_failed: the attempt failed (retried or not); dead: for good. */
void queue_stats_note(store_conn *c, const char *ns, const char *queue, int64_t now, task_status to, bool dead,
                      bool attempt_failed);
int queue_stats_flush(store_conn *c, bool at_commit);
void queue_stats_savepoint(store_conn *c);
void queue_stats_rollback(store_conn *c);
void queue_stats_reset(store_conn *c);
void queue_stats_release(store_conn *c);
/* changes.c: the task (or every task of the run) changed its status in
 * this transaction (store_changes_of). */
void task_changed_note(store_conn *c, const weft_id *id, task_status to);
void task_changed_note_run(store_conn *c, const weft_id *run);
void task_changes_reset(store_conn *c);
void task_changes_savepoint(store_conn *c);
void task_changes_rollback(store_conn *c);
void task_changes_release(store_conn *c);
/* jobs.c: how a claimed row is read (the claim statements' RETURNING). */
const db_row_kind *store_claimed_row_kind(void);

/* outbox.c: puts leased rows back in the order of ids (due order) and
 * returns how many there are. */
size_t outbox_order_by_ids(outbox_row *rows, size_t n, const int64_t *ids, size_t nids);

#endif
