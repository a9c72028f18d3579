/*
 * sqlite.c — the SQLite driver (sqlite.h): connections, statements,
 * transactions, the checkpointer and weft_json_contains().
 *
 * One writer connection (engine thread only) and a pool of read-only
 * connections for HTTP reads, all on one WAL database file. Statements
 * are reset as soon as their rows are read (db_end): a statement left open
 * pins its snapshot and starves WAL checkpoints.
 */
#include "util/common.h"

#include <pthread.h>
#include <sqlite3.h>
#include <strings.h>

#include "store/db.h"
#include "store/sqlite/sqlite.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

#define SUBSYS "store"
#define BUSY_TIMEOUT_MS 5000
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
#define CHECKPOINT_PAGES 1000   /* SQLite's own auto-checkpoint threshold */
/* The checkpointer copies pages from the log to the file: it needs little
 * cache of its own. */
#define CHECKPOINT_CACHE_KIB 256
#define MIN_READER_CACHE_KIB 256

extern const char embed_store_schema_sqlite_0001_init_sql[];
extern const char embed_store_schema_sqlite_0002_delivery_sql[];
extern const char embed_store_schema_sqlite_0003_attempt_sql[];
extern const char embed_store_schema_sqlite_0004_idempotency_sql[];
extern const char embed_store_schema_sqlite_0005_batch_listing_sql[];
extern const char embed_store_schema_sqlite_0006_task_counts_sql[];
extern const char embed_store_schema_sqlite_0007_jobs_sql[];
extern const char embed_store_schema_sqlite_0008_tokens_sql[];
extern const char embed_store_schema_sqlite_0009_workflows_sql[];
extern const char embed_store_schema_sqlite_0010_schedules_sql[];
extern const char embed_store_schema_sqlite_0011_templates_sql[];
extern const char embed_store_schema_sqlite_0012_workflow_listing_sql[];
extern const char embed_store_schema_sqlite_0013_schedule_overlap_sql[];
extern const char embed_store_schema_sqlite_0014_task_ref_sql[];
extern const char embed_store_schema_sqlite_0016_task_logs_sql[];
extern const char embed_store_schema_sqlite_0017_triggers_sql[];
extern const char embed_store_schema_sqlite_0018_audit_log_sql[];
extern const char embed_store_schema_sqlite_0019_trigger_expiry_sql[];
extern const char embed_store_schema_sqlite_0020_metrics_history_sql[];

static const db_migration migrations[] = {
	{ 1, embed_store_schema_sqlite_0001_init_sql },
	{ 2, embed_store_schema_sqlite_0002_delivery_sql },
	{ 3, embed_store_schema_sqlite_0003_attempt_sql },
	{ 4, embed_store_schema_sqlite_0004_idempotency_sql },
	{ 5, embed_store_schema_sqlite_0005_batch_listing_sql },
	{ 6, embed_store_schema_sqlite_0006_task_counts_sql },
	{ 7, embed_store_schema_sqlite_0007_jobs_sql },
	{ 8, embed_store_schema_sqlite_0008_tokens_sql },
	{ 9, embed_store_schema_sqlite_0009_workflows_sql },
	{ 10, embed_store_schema_sqlite_0010_schedules_sql },
	{ 11, embed_store_schema_sqlite_0011_templates_sql },
	{ 12, embed_store_schema_sqlite_0012_workflow_listing_sql },
	{ 13, embed_store_schema_sqlite_0013_schedule_overlap_sql },
	{ 14, embed_store_schema_sqlite_0014_task_ref_sql },
	{ 16, embed_store_schema_sqlite_0016_task_logs_sql },
	{ 17, embed_store_schema_sqlite_0017_triggers_sql },
	{ 18, embed_store_schema_sqlite_0018_audit_log_sql },
	{ 19, embed_store_schema_sqlite_0019_trigger_expiry_sql },
	{ 20, embed_store_schema_sqlite_0020_metrics_history_sql },
};

typedef struct sq_stmt {
	db_stmt base;           /* first: the seam's part */
	sqlite3_stmt *st;
} sq_stmt;

typedef struct sq_conn {
	store_conn base;        /* first: the seam's part */
	sqlite3 *db;
	bool readonly;
	int64_t begin_changes;  /* sqlite3_total_changes64 at BEGIN */
} sq_conn;

/* The checkpoint thread and its connection. */
typedef struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	bool started;
	bool due;               /* the WAL passed the threshold since the last run */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} checkpointer;

typedef struct sq_store {
	store base;             /* first: the seam's part */
	char *path;
	bool sync_full;
	int64_t writer_kib, reader_kib;
	checkpointer ckpt;
} sq_store;

static const db_driver sqlite_driver;

static sq_conn *sqc(store_conn *c) { return (sq_conn *)c; }
static sq_stmt *sqst(db_stmt *st) { return (sq_stmt *)st; }
static sqlite3 *db_of(db_stmt *st) { return sqc(st->c)->db; }

/* ---- dialect ---------------------------------------------------------------------- */

static const db_fragment fragments[] = {
	{ "lock", "" },
	{ "lock_in_order", "" },
	{ "lock_in_order_of", "" },
	{ "lock_in_order_of_both", "" },
	{ "lock_skip", "" },
	{ "index", " INDEXED BY %1" },
	{ "noindex", "+%1" },
	{ "rowkey", "rowid" },
	{ "contains", "weft_json_contains(%1, %2)" },
	{ "strpos", "instr(%1, %2)" },
	{ "in", "(%1 IN (SELECT value FROM json_each(%2)))" },
	{ "in_int", "(%1 IN (SELECT value FROM json_each(%2)))" },
	{ "in_query", "(%1 IN (%2))" },
	{ "plan_ids", "1" },
	{ "each", "(SELECT value FROM json_each(%1))" },
	{ "json_agg", "json_group_array(%1)" },
	{ "least", "min(%1, %2)" },
};

/* Each column "name type" is the row object's field of that name. */
static void rows_fragment(buf *out, const char *param, char *const *cols, int ncols)
{
	buf_puts(out, "(SELECT ");
	for (int i = 0; i < ncols; i++) {
		int len = (int)strcspn(cols[i], " ");
		buf_printf(out, "%sj.value ->> '%.*s' AS %.*s", i ? ", " : "", len, cols[i], len, cols[i]);
	}
	buf_printf(out, " FROM json_each(%s) AS j)", param);
}

static const db_dialect dialect = { '?', fragments, ARRAY_LEN(fragments), rows_fragment };

/* ---- errors --------------------------------------------------------------------------- */

/* Errors that mean the database itself cannot be used (disk, file, lock). */
static bool rc_unavailable(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FULL:
	case SQLITE_BUSY:
	case SQLITE_PERM:
		return true;
	default:
		return false;
	}
}

/* Logs a failed call with SQLite's message and maps rc to a store code. */
static int sq_fail(sqlite3 *db, int rc, const char *what)
{
	log_error(SUBSYS, "sqlite %s: %s (code %d)", what, sqlite3_errmsg(db), rc);
	return rc_unavailable(rc) ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
}

/* ---- statements ------------------------------------------------------------------------ */

static int sq_prepare(store_conn *c, const char *sql, int nparams, db_stmt **out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(sqc(c)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(sqc(c)->db, rc, "prepare");
	sq_stmt *s = xcalloc(1, sizeof *s);
	s->st = st;
	s->base.nparams = nparams;
	*out = &s->base;
	return 0;
}

static void sq_finalize(db_stmt *st)
{
	sqlite3_finalize(sqst(st)->st);
	free(st);
}

/* EXPLAIN QUERY PLAN of the statement's text: one line per node, indented
 * two spaces per level. */
static int sq_explain(db_stmt *st, buf *sql, buf *plan)
{
	const char *text = sqlite3_sql(sqst(st)->st);
	buf_puts(sql, text ? text : "");
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", text ? text : "");
	sqlite3_stmt *e = NULL;
	int rc = q ? sqlite3_prepare_v2(db_of(st), q, -1, &e, NULL) : SQLITE_NOMEM;
	sqlite3_free(q);
	if (rc != SQLITE_OK)
		return sq_fail(db_of(st), rc, "explain");
	/* Rows are (id, parent, _, detail); a node's depth is its parent's + 1. */
	int ids[64] = { 0 }, depths[64] = { 0 }, n = 0;
	while ((rc = sqlite3_step(e)) == SQLITE_ROW) {
		int id = sqlite3_column_int(e, 0), parent = sqlite3_column_int(e, 1), depth = 0;
		for (int i = 0; i < n; i++)
			if (ids[i] == parent)
				depth = depths[i] + 1;
		if (n < 64) {
			ids[n] = id;
			depths[n++] = depth;
		}
		const unsigned char *detail = sqlite3_column_text(e, 3);
		buf_printf(plan, "%*s%s\n", depth * 2, "", detail ? (const char *)detail : "");
	}
	sqlite3_finalize(e);
	return rc == SQLITE_DONE ? 0 : sq_fail(db_of(st), rc, "explain");
}

static void bind_check(db_stmt *st, int rc)
{
	if (rc != SQLITE_OK && st->err == 0)
		st->err = sq_fail(db_of(st), rc, "bind");
}

static void sq_bind_int(db_stmt *st, int i, int64_t v) { bind_check(st, sqlite3_bind_int64(sqst(st)->st, i + 1, v)); }

static void sq_bind_text(db_stmt *st, int i, const char *s, size_t n)
{
	sqlite3_stmt *q = sqst(st)->st;
	if (s == NULL)
		bind_check(st, sqlite3_bind_null(q, i + 1));
	else
		bind_check(st, sqlite3_bind_text64(q, i + 1, s, n, SQLITE_STATIC, SQLITE_UTF8));
}

static int sq_step(db_stmt *st)
{
	int rc = sqlite3_step(sqst(st)->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes64(db_of(st));
		return 0;
	}
	return sq_fail(db_of(st), rc, st->label);
}

/* Nothing is ever deferred: the statement runs now. */
static int sq_send(db_stmt *st)
{
	int rc;
	while ((rc = sq_step(st)) > 0)
		;
	return rc;
}

static void sq_reset(db_stmt *st) { sqlite3_reset(sqst(st)->st); }
static bool sq_col_null(db_stmt *st, int i) { return sqlite3_column_type(sqst(st)->st, i) == SQLITE_NULL; }
static int64_t sq_col_int(db_stmt *st, int i) { return sqlite3_column_int64(sqst(st)->st, i); }

static const char *sq_col_text(db_stmt *st, int i, size_t *len)
{
	const char *s = (const char *)sqlite3_column_text(sqst(st)->st, i);
	if (len != NULL)
		*len = s ? (size_t)sqlite3_column_bytes(sqst(st)->st, i) : 0;
	return s;
}

/* ---- transactions ---------------------------------------------------------------------- */

static const db_sql q_begin = { "begin", "BEGIN IMMEDIATE", NULL };
static const db_sql q_begin_read = { "begin_read", "BEGIN", NULL };
static const db_sql q_commit = { "commit", "COMMIT", NULL };
static const db_sql q_rollback = { "rollback", "ROLLBACK", NULL };
static const db_sql q_savepoint = { "savepoint", "SAVEPOINT weft_sp", NULL };
static const db_sql q_release = { "savepoint_release", "RELEASE weft_sp", NULL };
static const db_sql q_rollback_to = { "savepoint_rollback", "ROLLBACK TO weft_sp", NULL };

static int run_fixed(store_conn *c, const db_sql *q)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	return err ? err : db_run(st, NULL);
}

static bool sq_in_transaction(store_conn *c) { return !sqlite3_get_autocommit(sqc(c)->db); }

/* BEGIN IMMEDIATE on the writer; a plain (snapshot) BEGIN on a reader. */
static int sq_begin(store_conn *c)
{
	sq_conn *q = sqc(c);
	q->begin_changes = sqlite3_total_changes64(q->db);
	return run_fixed(c, q->readonly ? &q_begin_read : &q_begin);
}

static int sq_begin_snapshot(store_conn *c) { return run_fixed(c, &q_begin_read); }
static int sq_commit(store_conn *c) { return run_fixed(c, &q_commit); }

/* Nothing open (SQLite may have rolled back already): nothing to do. */
static int sq_rollback(store_conn *c) { return sq_in_transaction(c) ? run_fixed(c, &q_rollback) : 0; }

/* Only a transaction that is gone (SQLite rolled it back after an I/O
 * error, say) cannot take more writes. */
static bool sq_tx_failed(store_conn *c) { return !sq_in_transaction(c); }

/* Nothing written since BEGIN (store_savepoint: the savepoint is then
 * the transaction). Row changes are what SQLite counts. */
static bool sq_tx_untouched(store_conn *c)
{
	sq_conn *q = sqc(c);
	return !q->readonly && sq_in_transaction(c) && sqlite3_total_changes64(q->db) == q->begin_changes;
}

static int sq_savepoint(store_conn *c) { return run_fixed(c, &q_savepoint); }
static int sq_savepoint_release(store_conn *c) { return run_fixed(c, &q_release); }

/* ROLLBACK TO keeps the savepoint open; RELEASE then pops it. */
static int sq_savepoint_rollback(store_conn *c)
{
	int err = run_fixed(c, &q_rollback_to);
	return err ? err : run_fixed(c, &q_release);
}

static int sq_exec_script(store_conn *c, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	sqlite3 *db = sqc(c)->db;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return WEFT_ESTORE;
}

/* ---- weft_json_contains(container, pattern) -------------------------------------------- */

static void pattern_free(void *p) { json_decref((json_t *)p); }

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static bool text_contains(const char *text, const json_t *pattern)
{
	if (json_is_object(pattern)) {
		/* Only an object contains an object; "{}" is contained by any
		 * object, which needs no parse. */
		if (*skip_space(text) != '{')
			return false;
		if (json_object_size(pattern) == 0)
			return true;
	}
	json_t *container = json_parse_text(text);
	if (container == NULL)
		return false;
	bool r = json_contains(container, pattern);
	json_decref(container);
	return r;
}

/* jsonb-style containment (container @> pattern). The parsed pattern is
 * kept as auxiliary data of argument 1, so a bound pattern is parsed once
 * per statement execution rather than once per row. */
static void fn_json_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	UNUSED(argc);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	json_t *pattern = sqlite3_get_auxdata(ctx, 1);
	bool parsed_here = false;
	if (pattern == NULL) {
		pattern = json_parse_text((const char *)sqlite3_value_text(argv[1]));
		if (pattern == NULL) {
			sqlite3_result_error(ctx, "weft_json_contains: the pattern is not valid JSON", -1);
			return;
		}
		parsed_here = true;
	}
	sqlite3_result_int(ctx, text != NULL && text_contains(text, pattern));
	/* Last: SQLite may free the pattern inside sqlite3_set_auxdata. */
	if (parsed_here)
		sqlite3_set_auxdata(ctx, 1, pattern, pattern_free);
}

/* ---- connections ------------------------------------------------------------------------ */

static void sq_conn_free(store_conn *cc)
{
	sq_conn *c = sqc(cc);
	if (c == NULL)
		return;
	db_conn_release(&c->base);
	sqlite3_close(c->db);
	free(c);
}

/* Runs one pragma (or any statement) on a connection being opened. */
static int open_exec(sqlite3 *db, const char *path, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "database \"%s\": %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int set_wal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "database \"%s\": %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	const char *mode = (const char *)sqlite3_column_text(st, 0);
	bool wal = mode != NULL && strcasecmp(mode, "wal") == 0;
	if (!wal)
		snprintf(err, errlen, "database \"%s\": cannot use WAL mode (journal mode stays %s)", path,
		         mode ? mode : "unknown");
	sqlite3_finalize(st);
	return wal ? 0 : -1;
}

static sq_conn *conn_open(sq_store *s, db_role role, char *err, size_t errlen)
{
	bool readonly = role == DB_READER;
	sq_conn *c = xcalloc(1, sizeof *c);
	db_conn_init(&c->base, &s->base, &sqlite_driver, role);
	c->readonly = readonly;
	int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database \"%s\": %s", s->path,
		         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);

	/* The writer keeps temp_store at its default (file): the engine runs
	 * every command in a savepoint, and SQLite's statement journal then
	 * lives in a temporary file once past 64 KiB. Held in memory it is a
	 * chunk list that each statement's truncate walks from the start,
	 * which made a 100,000-task failure cascade quadratic (minutes). */
	char pragmas[256];
	if (readonly) {
		snprintf(pragmas, sizeof pragmas, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-%" PRId64 ";",
		         s->reader_kib);
		/* Reading the schema here makes "not a database" fail at open. */
		if (open_exec(c->db, s->path, pragmas, err, errlen) != 0 ||
		    open_exec(c->db, s->path, "SELECT count(*) FROM sqlite_schema", err, errlen) != 0)
			goto fail;
	} else {
		snprintf(pragmas, sizeof pragmas,
		         "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=%d; "
		         "PRAGMA cache_size=-%" PRId64 ";",
		         s->sync_full ? "FULL" : "NORMAL", JOURNAL_SIZE_LIMIT, s->writer_kib);
		if (set_wal(c->db, s->path, err, errlen) != 0 || open_exec(c->db, s->path, pragmas, err, errlen) != 0)
			goto fail;
	}
	rc = sqlite3_create_function_v2(c->db, "weft_json_contains", 2,
	                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, fn_json_contains,
	                                NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database \"%s\": cannot register weft_json_contains: %s", s->path,
		         sqlite3_errmsg(c->db));
		goto fail;
	}
	return c;
fail:
	sq_conn_free(&c->base);
	return NULL;
}

/* Readers are all opened at start; one more is only asked for if that
 * failed half-way, which store_open does not let happen. */
static store_conn *sq_conn_open(store *s, db_role role)
{
	char err[256];
	sq_conn *c = conn_open((sq_store *)s, role, err, sizeof err);
	if (c == NULL)
		log_error(SUBSYS, "%s", err);
	return c ? &c->base : NULL;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

static void *checkpoint_main(void *arg)
{
	checkpointer *k = arg;
	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->due && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop)
			break;
		k->due = false;
		pthread_mutex_unlock(&k->mu);
		/* PASSIVE never blocks the writer or the readers; what a reader
		 * still needs is copied on a later run. */
		int log_pages = 0, done_pages = 0;
		int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done_pages);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			log_warn(SUBSYS, "checkpoint: %s (code %d)", sqlite3_errmsg(k->db), rc);
		else
			log_debug(SUBSYS, "checkpoint: %d of %d WAL pages", done_pages, log_pages);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* Runs on the writer after each commit, its locks released. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	UNUSED(db);
	UNUSED(name);
	checkpointer *k = arg;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&k->mu);
		k->due = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	return SQLITE_OK;
}

static int checkpointer_start(sq_store *s, char *err, size_t errlen)
{
	checkpointer *k = &s->ckpt;
	int rc = sqlite3_open_v2(s->path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database \"%s\": %s", s->path,
		         k->db ? sqlite3_errmsg(k->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(k->db, 1);
	sqlite3_busy_timeout(k->db, BUSY_TIMEOUT_MS);
	char pragmas[128];
	snprintf(pragmas, sizeof pragmas, "PRAGMA synchronous=%s; PRAGMA cache_size=-%d",
	         s->sync_full ? "FULL" : "NORMAL", CHECKPOINT_CACHE_KIB);
	if (open_exec(k->db, s->path, pragmas, err, errlen) != 0)
		return -1;
	if (pthread_create(&k->thread, NULL, checkpoint_main, k) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		return -1;
	}
	k->started = true;
	/* Replaces SQLite's auto-checkpoint, which would run inside COMMIT. */
	sqlite3_wal_hook(sqc(s->base.writer)->db, on_wal_commit, k);
	return 0;
}

static void checkpointer_stop(sq_store *s)
{
	checkpointer *k = &s->ckpt;
	if (s->base.writer != NULL)
		sqlite3_wal_hook(sqc(s->base.writer)->db, NULL, NULL);
	if (k->started) {
		pthread_mutex_lock(&k->mu);
		k->stop = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->thread, NULL);
		k->started = false;
	}
	sqlite3_close(k->db);
	k->db = NULL;
}

/* ---- opening and closing ---------------------------------------------------------------- */

/* SQLite's memory statistics take a global mutex on every allocation;
 * weft never reads them. Only possible before SQLite initializes. */
static void sqlite_global_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sq_close(store *base)
{
	sq_store *s = (sq_store *)base;
	checkpointer_stop(s);
	if (s->base.writer != NULL) {
		/* Refreshes planner statistics where they drifted; the analysis
		 * limit keeps it quick on a large database. */
		sqlite3_exec(sqc(s->base.writer)->db, "PRAGMA analysis_limit=400; PRAGMA optimize", NULL, NULL, NULL);
	}
	db_store_release(&s->base);
	pthread_cond_destroy(&s->ckpt.cv);
	pthread_mutex_destroy(&s->ckpt.mu);
	free(s->path);
	free(s);
}

/* The page-cache budget: half to the writer (less the checkpointer's),
 * half shared by the readers. */
static void split_cache(sq_store *s)
{
	int64_t half = s->base.cache_kib / 2;
	s->writer_kib = MAX(half - CHECKPOINT_CACHE_KIB, (int64_t)MIN_READER_CACHE_KIB);
	s->reader_kib = MAX(half / s->base.max_readers, (int64_t)MIN_READER_CACHE_KIB);
}

store *sqlite_store_open(const char *path, const store_options *opt, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_global_config);
	if (sqlite3_threadsafe() == 0) {
		snprintf(err, errlen, "the SQLite library was built without thread support");
		return NULL;
	}
	sq_store *s = xcalloc(1, sizeof *s);
	db_store_init(&s->base, &sqlite_driver, opt);
	s->path = xstrdup(path);
	s->sync_full = opt != NULL ? opt->sync_full : true;
	split_cache(s);
	log_debug(SUBSYS, "page cache: writer %" PRId64 " KiB, %d readers %" PRId64 " KiB each, checkpointer %d KiB",
	          s->writer_kib, s->base.max_readers, s->reader_kib, CHECKPOINT_CACHE_KIB);
	pthread_mutex_init(&s->ckpt.mu, NULL);
	pthread_cond_init(&s->ckpt.cv, NULL);

	/* The writer first: it creates the file and the schema the readers need. */
	sq_conn *w = conn_open(s, DB_WRITER, err, errlen);
	if (w == NULL)
		goto fail;
	s->base.writer = &w->base;
	if (db_migrate(&w->base, path, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < s->base.max_readers; i++) {
		sq_conn *r = conn_open(s, DB_READER, err, errlen);
		if (r == NULL)
			goto fail;
		db_pool_add(&s->base, &r->base);
	}
	if (checkpointer_start(s, err, errlen) != 0)
		goto fail;
	return &s->base;
fail:
	sq_close(&s->base);
	return NULL;
}

static const db_driver sqlite_driver = {
	.name = "sqlite",
	.dialect = &dialect,
	.migrations = migrations,
	.nmigrations = ARRAY_LEN(migrations),
	.shared = false,
	.conn_open = sq_conn_open,
	.conn_free = sq_conn_free,
	.close = sq_close,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.bind_int = sq_bind_int,
	.bind_text = sq_bind_text,
	.step = sq_step,
	.send = sq_send,
	.reset = sq_reset,
	.col_null = sq_col_null,
	.col_int = sq_col_int,
	.col_text = sq_col_text,
	.begin = sq_begin,
	.begin_snapshot = sq_begin_snapshot,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_transaction = sq_in_transaction,
	.tx_failed = sq_tx_failed,
	.savepoint = sq_savepoint,
	.savepoint_release = sq_savepoint_release,
	.savepoint_rollback = sq_savepoint_rollback,
	.tx_untouched = sq_tx_untouched,
	.exec_script = sq_exec_script,
	.explain = sq_explain,
};
