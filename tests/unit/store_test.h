/*
 * store_test.h — what the store's test files share: a fixture that opens
 * a fresh store on either backend, and helpers to build rows and to look
 * into the database behind the store's back.
 *
 * Every case of a test_store*.c file runs on SQLite (a temporary file) and
 * on PostgreSQL (a database created for the case and dropped after it, in
 * the server named by WEFT_TEST_PG_URL, which `make unit` and `make check`
 * start: tests/api/pgcluster.py). Without WEFT_TEST_PG_URL the PostgreSQL
 * cases fail: a suite that silently skipped half of itself would pass
 * without testing PostgreSQL at all.
 *
 * A file lists its cases per backend (STORE_TEST_SQLITE, STORE_TEST_PG) and
 * runs both lists with run_store_tests(); a case in one list only is about
 * that backend alone (file paths and pragmas; COPY, row locks between
 * connections, advisory locks, reconnection).
 */
#ifndef WEFT_TESTS_STORE_TEST_H
#define WEFT_TESTS_STORE_TEST_H

#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "core/id.h"
#include "store/store.h"
#include "util/log.h"

#define T0 1700000000000000LL   /* a base timestamp, µs */

typedef struct fixture {
	bool pg;
	char dir[64];           /* SQLite: the temporary directory and file */
	char path[128];
	char dbname[64];        /* PostgreSQL: the case's database and its URL */
	char url[512];
	PGconn *pq;             /* PostgreSQL: a connection of the test's own */
	store *st;
	store_conn *w;
} fixture;

/* ---- opening ----------------------------------------------------------------------- */

/* The database the fixture's store uses: its path or URL. */
static inline const char *fixture_db(const fixture *f) { return f->pg ? f->url : f->path; }

static inline store *open_store(const char *url, const store_options *opt)
{
	char err[256] = "";
	store_options dflt = { .sync_full = true, .readers = 2 };
	store *s = store_open(url, opt ? opt : &dflt, err, sizeof err);
	if (s == NULL)
		fail_msg("store_open(%s): %s", url, err);
	return s;
}

static inline void remove_db(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static inline int setup_sqlite(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/weft-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
	*state = f;
	f->st = open_store(f->path, NULL);
	f->w = store_writer(f->st);
	return 0;
}

/* The server's URL with its database name replaced by name. */
static inline void pg_url_for(const char *admin, const char *name, char *out, size_t n)
{
	const char *scheme = strstr(admin, "://");
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	size_t host_len = slash ? (size_t)(slash - admin) : strlen(admin);
	const char *query = slash ? strchr(slash, '?') : NULL;
	snprintf(out, n, "%.*s/%s%s", (int)host_len, admin, name, query ? query : "");
}

/* Runs one statement on the server's admin database (CREATE / DROP
 * DATABASE cannot run in the database they are about). */
static inline void pg_admin(const char *sql)
{
	const char *admin = getenv("WEFT_TEST_PG_URL");
	PGconn *pq = PQconnectdb(admin);
	if (PQstatus(pq) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", admin, PQerrorMessage(pq));
	PGresult *r = PQexec(pq, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pq));
	PQclear(r);
	PQfinish(pq);
}

static inline int setup_pg(void **state)
{
	static int seq;
	const char *admin = getenv("WEFT_TEST_PG_URL");
	fixture *f = calloc(1, sizeof *f);
	f->pg = true;
	*state = f;
	if (admin == NULL || admin[0] == '\0')
		fail_msg("WEFT_TEST_PG_URL is not set: the PostgreSQL cases need a server "
		         "(make unit and make check start one; see tests/unit/store_test.h)");
	snprintf(f->dbname, sizeof f->dbname, "weft_unit_%d_%d", (int)getpid(), ++seq);
	char sql[160];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
	pg_admin(sql);
	pg_url_for(admin, f->dbname, f->url, sizeof f->url);
	f->pq = PQconnectdb(f->url);
	if (PQstatus(f->pq) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", f->url, PQerrorMessage(f->pq));
	f->st = open_store(f->url, NULL);
	f->w = store_writer(f->st);
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	if (f == NULL)
		return 0;
	store_close(f->st);
	if (f->pg) {
		if (f->pq != NULL)
			PQfinish(f->pq);
		if (f->dbname[0] != '\0') {
			char sql[160];
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
			pg_admin(sql);
		}
	} else {
		remove_db(f->path);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

#define STORE_TEST_SQLITE(fn) { #fn " [sqlite]", fn, setup_sqlite, teardown, NULL }
#define STORE_TEST_PG(fn) { #fn " [postgres]", fn, setup_pg, teardown, NULL }

/* Runs the SQLite cases, then the PostgreSQL ones; 1 when any failed. */
static inline int run_store_tests(const char *name, const struct CMUnitTest *sqlite_tests, size_t nsqlite,
                                  const struct CMUnitTest *pg_tests, size_t npg)
{
	/* Some cases provoke failed statements on purpose; their error lines
	 * in the output are expected. */
	log_set_level(LOG_WARN);
	char group[96];
	int failed = 0;
	snprintf(group, sizeof group, "%s [sqlite]", name);
	if (nsqlite > 0)
		failed += _cmocka_run_group_tests(group, sqlite_tests, nsqlite, NULL, NULL);
	snprintf(group, sizeof group, "%s [postgres]", name);
	if (npg > 0)
		failed += _cmocka_run_group_tests(group, pg_tests, npg, NULL, NULL);
	return failed ? 1 : 0;
}

/* ---- rows ------------------------------------------------------------------------------ */

/* A task with every optional field unset. Strings are borrowed literals. */
static inline task_row new_task(const char *name, const char *kind, task_status status, int64_t created)
{
	task_row t;
	memset(&t, 0, sizeof t);
	id_new_v7(&t.id);
	t.name = (char *)name;
	t.kind = (char *)kind;
	t.status = status;
	t.timeout_secs = 60;
	t.created_at = created;
	t.last_updated = created;
	t.metadata = (char *)"null";
	t.rules = (char *)"[]";
	return t;
}

static inline void insert(fixture *f, const task_row *t) { assert_int_equal(store_task_insert(f->w, t), 0); }

static inline void add_link(fixture *f, const task_row *parent, const task_row *child, bool requires_success)
{
	link_row l = { .parent_id = parent->id, .child_id = child->id, .requires_success = requires_success };
	assert_int_equal(store_link_insert(f->w, &l), 0);
}

static inline task_row get(fixture *f, const weft_id *id)
{
	task_row t;
	assert_int_equal(store_task_get(f->w, id, &t), 0);
	return t;
}

static inline task_status status_of(fixture *f, const weft_id *id)
{
	task_row t = get(f, id);
	task_status s = t.status;
	task_row_release(&t);
	return s;
}

static inline bool ids_have(const weft_id *ids, size_t n, const weft_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(&ids[i], id))
			return true;
	return false;
}

/* store_task_update as one int: 0 applied, GUARD_MISS when the guard did
 * not match, or the error; *prev (optional) the status before. */
#define GUARD_MISS 1

static inline int update(store_conn *c, const weft_id *id, unsigned from, const task_update *u, task_status *prev)
{
	task_update_result res;
	int rc = store_task_update(c, id, from, u, &res);
	if (rc != 0)
		return rc;
	if (prev != NULL)
		*prev = res.prev;
	return res.applied ? 0 : GUARD_MISS;
}

static inline void set_status(fixture *f, const weft_id *id, task_status to, const task_update *base)
{
	task_update u = base ? *base : (task_update){ 0 };
	u.set_status = true;
	u.status = to;
	assert_int_equal(update(f->w, id, TS_ALL_MASK, &u, NULL), 0);
}

/* store_batch_complete as one int: 0 completed, WEFT_ENOTFOUND when not. */
static inline int complete_batch(store_conn *c, const weft_id *batch, int64_t now, char **json, batch_outcome *out)
{
	bool completed;
	int rc = store_batch_complete(c, batch, now, &completed, json, out);
	return rc != 0 ? rc : completed ? 0 : WEFT_ENOTFOUND;
}

/* A "next due" lookup as one int: 0 found, WEFT_ENOTFOUND when none. */
static inline int due_found(int rc, const int64_t *due)
{
	return rc != 0 ? rc : *due == INT64_MAX ? WEFT_ENOTFOUND : 0;
}

static inline void new_batch(fixture *f, weft_id *id, const char *on_complete)
{
	id_new_v4(id);
	batch_row br = { .id = *id, .created_at = T0, .on_complete = on_complete };
	assert_int_equal(store_batch_insert(f->w, &br), 0);
}

/* ---- behind the store's back ------------------------------------------------------------ */

/* Runs a statement on the database directly (SQL both dialects accept)
 * and returns its integer result; a boolean reads 1 or 0. */
static inline int64_t sql_int(fixture *f, const char *sql)
{
	if (f->pg) {
		PGresult *r = PQexec(f->pq, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("%s: %s", sql, PQerrorMessage(f->pq));
		const char *v = PQgetvalue(r, 0, 0);
		int64_t n = v[0] == 't' ? 1 : v[0] == 'f' ? 0 : strtoll(v, NULL, 10);
		PQclear(r);
		return n;
	}
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* sql_int with printf-style formatting (ids in the SQL text). */
static inline int64_t sql_intf(fixture *f, const char *fmt, ...) WEFT_PRINTF(2, 3);
static inline int64_t sql_intf(fixture *f, const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return sql_int(f, sql);
}

/* Runs statements that return no rows. */
static inline void sql_exec(fixture *f, const char *sql)
{
	if (f->pg) {
		PGresult *r = PQexec(f->pq, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(f->pq));
		PQclear(r);
		return;
	}
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static inline int64_t remaining(fixture *f, const weft_id *batch)
{
	return sql_intf(f, "SELECT remaining FROM batch WHERE id = '%s'", batch->str);
}

/* ---- the audit trail ---------------------------------------------------------------------- */

static inline task_event *events_of(fixture *f, const weft_id *id, size_t *n)
{
	task_event *ev;
	assert_int_equal(store_task_events(f->w, id, &ev, n), 0);
	return ev;
}

static inline void check_event(const task_event *e, int64_t at, int from, task_status to, const char *reason,
                        const char *actor)
{
	if (at != 0)
		assert_int_equal(e->at, at);
	if (from < 0) {
		assert_false(e->has_from);
	} else {
		assert_true(e->has_from);
		assert_int_equal(e->from, from);
	}
	assert_int_equal(e->to, to);
	if (reason == NULL)
		assert_null(e->reason);
	else
		assert_string_equal(e->reason, reason);
	assert_string_equal(e->actor, actor);
}

/* ---- outbox rows ------------------------------------------------------------------------------ */

static inline outbox_row delivery(const char *key, delivery_event ev, const task_row *t, int64_t action_id,
                           int64_t due)
{
	outbox_row o;
	memset(&o, 0, sizeof o);
	snprintf(o.key, sizeof o.key, "%s", key);
	o.event = ev;
	if (t != NULL) {
		o.task_id = t->id;
		o.batch_id = t->batch_id;
	}
	o.action_id = action_id;
	o.params = (char *)"{\"url\":\"http://hook\"}";
	o.add_handle = t != NULL;
	o.status = DS_PENDING;
	o.max_attempts = 3;
	o.next_attempt_at = due;
	o.created_at = T0;
	o.updated_at = T0;
	return o;
}

static inline void lease(fixture *f, int64_t now, int64_t until, size_t limit, const weft_id *skip, size_t nskip,
                  const int64_t *want, size_t nwant)
{
	outbox_row *rows;
	size_t n;
	int64_t next = 0, want_next = 0;
	assert_int_equal(store_outbox_lease(f->w, now, until, limit, skip, nskip, &rows, &n, &next), 0);
	/* The lease's next due time is the one the rows give afterwards. */
	assert_int_equal(store_outbox_next_due(f->w, &want_next), 0);
	assert_int_equal(next, want_next);
	if (n != nwant)
		fail_msg("leased %zu rows, want %zu", n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rows[i].id, want[i]);
		assert_int_equal(rows[i].status, DS_DELIVERING);
		assert_int_equal(rows[i].next_attempt_at, until);
		assert_int_equal(rows[i].last_attempt_at, now);
		assert_int_equal(rows[i].updated_at, now);
	}
	store_free_outbox(rows, n);
}

#endif
