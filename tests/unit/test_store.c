/*
 * test_store.c — the store against a temporary SQLite file: migrations
 * (including from a database left at 0001), round trips, guarded updates,
 * DAG propagation, the start scan and delayed starts, rules queries,
 * listings, batch operations and completion, the webhook ledger, the
 * outbox, the audit trail, retention into the archive, groups, gauges and
 * query metrics.
 *
 * WEFT_STORE_BENCH=1 also times inserting 100,000 tasks and links in one
 * transaction (printed, never asserted).
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/metrics.h"
#include "core/id.h"

#define T0 1700000000000000LL   /* a base timestamp, µs */

typedef struct fixture {
	char dir[64];
	char path[128];
	store *st;
	store_conn *w;
} fixture;

/* store_task_update as one int: 0 applied, GUARD_MISS when the guard did
 * not match, or the error; *prev (optional) the status before. */
#define GUARD_MISS 1

static int update(store_conn *c, const weft_id *id, unsigned from, const task_update *u, task_status *prev)
{
	task_update_result res;
	int rc = store_task_update(c, id, from, u, &res);
	if (rc != 0)
		return rc;
	if (prev != NULL)
		*prev = res.prev;
	return res.applied ? 0 : GUARD_MISS;
}

/* store_batch_complete as one int: 0 completed, WEFT_ENOTFOUND when not. */
static int complete_batch(store_conn *c, const weft_id *batch, int64_t now, char **json, batch_outcome *out)
{
	bool completed;
	int rc = store_batch_complete(c, batch, now, &completed, json, out);
	return rc != 0 ? rc : completed ? 0 : WEFT_ENOTFOUND;
}

/* A "next due" lookup as one int: 0 found, WEFT_ENOTFOUND when none. */
static int due_found(int rc, const int64_t *due)
{
	return rc != 0 ? rc : *due == INT64_MAX ? WEFT_ENOTFOUND : 0;
}

static void remove_db(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static store *open_path(const char *url)
{
	char err[256] = "";
	store_options opt = { .sync_full = true, .readers = 2 };
	store *s = store_open(url, &opt, err, sizeof err);
	if (s == NULL)
		fail_msg("store_open(%s): %s", url, err);
	return s;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/weft-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
	f->st = open_path(f->path);
	f->w = store_writer(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	store_close(f->st);
	remove_db(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A task with every optional field unset. Strings are borrowed literals. */
static task_row new_task(const char *name, const char *kind, task_status status, int64_t created)
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

static void insert(fixture *f, const task_row *t) { assert_int_equal(store_task_insert(f->w, t), 0); }

static void add_link(fixture *f, const task_row *parent, const task_row *child, bool requires_success)
{
	link_row l = { .parent_id = parent->id, .child_id = child->id, .requires_success = requires_success };
	assert_int_equal(store_link_insert(f->w, &l), 0);
}

static task_row get(fixture *f, const weft_id *id)
{
	task_row t;
	assert_int_equal(store_task_get(f->w, id, &t), 0);
	return t;
}

static task_status status_of(fixture *f, const weft_id *id)
{
	task_row t = get(f, id);
	task_status s = t.status;
	task_row_release(&t);
	return s;
}

static bool ids_have(const weft_id *ids, size_t n, const weft_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(&ids[i], id))
			return true;
	return false;
}

/* Runs a statement on the file directly and returns its integer result. */
static int64_t sql_int(fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* sql_int with printf-style formatting (ids in the SQL text). */
static int64_t sql_intf(fixture *f, const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return sql_int(f, sql);
}

static void sql_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void set_status(fixture *f, const weft_id *id, task_status to, const task_update *base)
{
	task_update u = base ? *base : (task_update){ 0 };
	u.set_status = true;
	u.status = to;
	assert_int_equal(update(f->w, id, TS_ALL_MASK, &u, NULL), 0);
}

static void new_batch(fixture *f, weft_id *id, const char *on_complete)
{
	id_new_v4(id);
	batch_row br = { .id = *id, .created_at = T0, .on_complete = on_complete };
	assert_int_equal(store_batch_insert(f->w, &br), 0);
}

static int64_t remaining(fixture *f, const weft_id *batch)
{
	return sql_intf(f, "SELECT remaining FROM batch WHERE id = '%s'", batch->str);
}

/* ---- opening --------------------------------------------------------- */

static void test_open_and_migrations(void **state)
{
	fixture *f = *state;
	assert_string_equal(store_backend_name(f->st), "sqlite");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 3);
	assert_int_equal(store_ping(f->w), 0);
	task_row t = new_task("a", "k", TS_PENDING, T0);
	insert(f, &t);
	store_close(f->st);

	/* Reopening (in every URL form) applies nothing twice and keeps the data. */
	const char *forms[] = { "sqlite:%s", "sqlite://%s", "file:%s", "%s" };
	for (size_t i = 0; i < ARRAY_LEN(forms); i++) {
		char url[200];
		snprintf(url, sizeof url, forms[i], f->path);
		f->st = open_path(url);
		f->w = store_writer(f->st);
		task_row got = get(f, &t.id);
		assert_string_equal(got.name, "a");
		task_row_release(&got);
		if (i + 1 < ARRAY_LEN(forms))
			store_close(f->st);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);

	char err[256];
	/* Nothing listens on port 1: the error names the server, never the password. */
	assert_null(store_open("postgres://u:s3cret@127.0.0.1:1/weft?connect_timeout=2", NULL, err, sizeof err));
	assert_non_null(strstr(err, "127.0.0.1:1/weft"));
	assert_null(strstr(err, "s3cret"));
	assert_null(store_open("postgresql://127.0.0.1:1/weft", NULL, err, sizeof err));
	assert_non_null(strstr(err, "PostgreSQL"));

	assert_null(store_open("/nonexistent-dir/weft.db", NULL, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent-dir/weft.db"));
	assert_non_null(strstr(err, "unable to open"));

	char junk[160];
	snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
	FILE *fp = fopen(junk, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database file at all\n", fp);
	fclose(fp);
	assert_null(store_open(junk, NULL, err, sizeof err));
	assert_non_null(strstr(err, junk));
	assert_non_null(strstr(err, "not a database"));
	unlink(junk);
}

/* ---- single task ------------------------------------------------------ */

static void test_insert_get_round_trip(void **state)
{
	fixture *f = *state;
	weft_id batch;
	id_new_v4(&batch);
	batch_row br = { .id = batch, .created_at = T0, .scope = "default", .metadata = "{\"a\":1}",
	                 .on_complete = NULL };
	assert_int_equal(store_batch_insert(f->w, &br), 0);

	task_row full = new_task("full", "build", TS_RUNNING, T0 + 1);
	full.batch_id = batch;
	full.timeout_secs = 120;
	full.started_at = T0 + 2;
	full.ended_at = T0 + 3;
	full.last_updated = T0 + 4;
	full.metadata = (char *)"{\"project\":\"x\",\"n\":[1,2]}";
	full.rules = (char *)"[{\"type\":\"Concurency\"}]";
	full.wait_success = 1;
	full.wait_finished = 2;
	full.success = 5000000000LL;
	full.failures = 7;
	full.failure_reason = (char *)"boom";
	full.has_expected_count = true;
	full.expected_count = 0;
	full.dead_end_barrier = true;
	full.priority = -1000;
	full.attempt = 3;
	full.group_name = (char *)"nightly";
	full.start_after = T0 + 100;
	full.retry_policy = (char *)"{\"max_retries\":3}";
	full.next_retry_at = T0 + 200;
	insert(f, &full);

	task_row bare = new_task("bare", "test", TS_WAITING, T0 + 5);
	bare.metadata = NULL;   /* stored as JSON null */
	bare.rules = NULL;      /* stored as [] */
	bare.last_updated = 0;
	insert(f, &bare);

	task_row g = get(f, &full.id);
	assert_string_equal(g.id.str, full.id.str);
	assert_string_equal(g.batch_id.str, batch.str);
	assert_string_equal(g.name, "full");
	assert_string_equal(g.kind, "build");
	assert_int_equal(g.status, TS_RUNNING);
	assert_int_equal(g.timeout_secs, 120);
	assert_int_equal(g.created_at, T0 + 1);
	assert_int_equal(g.started_at, T0 + 2);
	assert_int_equal(g.ended_at, T0 + 3);
	assert_int_equal(g.last_updated, T0 + 4);
	assert_string_equal(g.metadata, full.metadata);
	assert_string_equal(g.rules, full.rules);
	assert_int_equal(g.wait_success, 1);
	assert_int_equal(g.wait_finished, 2);
	assert_int_equal(g.success, 5000000000LL);
	assert_int_equal(g.failures, 7);
	assert_string_equal(g.failure_reason, "boom");
	assert_true(g.has_expected_count);
	assert_int_equal(g.expected_count, 0);
	assert_true(g.dead_end_barrier);
	assert_int_equal(g.priority, -1000);
	assert_int_equal(g.attempt, 3);
	assert_string_equal(g.group_name, "nightly");
	assert_int_equal(g.start_after, T0 + 100);
	assert_string_equal(g.retry_policy, "{\"max_retries\":3}");
	assert_int_equal(g.next_retry_at, T0 + 200);
	assert_false(g.archived);
	task_row_release(&g);

	g = get(f, &bare.id);
	assert_false(id_is_set(&g.batch_id));
	assert_int_equal(g.status, TS_WAITING);
	assert_int_equal(g.started_at, 0);
	assert_int_equal(g.ended_at, 0);
	assert_int_equal(g.last_updated, 0);
	assert_string_equal(g.metadata, "null");
	assert_string_equal(g.rules, "[]");
	assert_null(g.failure_reason);
	assert_false(g.has_expected_count);
	assert_false(g.dead_end_barrier);
	assert_int_equal(g.priority, 0);
	assert_int_equal(g.attempt, 0);
	assert_null(g.group_name);
	assert_int_equal(g.start_after, 0);
	assert_null(g.retry_policy);
	assert_int_equal(g.next_retry_at, 0);
	task_row_release(&g);
	/* 0 is stored as NULL, not as 0. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE name = 'bare' AND started_at IS NULL "
	                            "AND ended_at IS NULL AND last_updated IS NULL AND batch_id IS NULL "
	                            "AND expected_count IS NULL AND failure_reason IS NULL "
	                            "AND group_name IS NULL AND start_after IS NULL AND retry_policy IS NULL "
	                            "AND next_retry_at IS NULL"), 1);

	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_get(f->w, &unknown, &g), WEFT_ENOTFOUND);

	/* Actions keep insertion order; the filtered read picks trigger and condition. */
	action_row acts[] = {
		{ .trigger = TRIGGER_START, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"s\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_FAILURE, .params = (char *)"{\"url\":\"f1\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"ok\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_FAILURE, .params = (char *)"{\"url\":\"f2\"}" },
	};
	for (size_t i = 0; i < ARRAY_LEN(acts); i++)
		assert_int_equal(store_action_insert(f->w, &full.id, &acts[i]), 0);
	action_row *out;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &full.id, &out, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].trigger, acts[i].trigger);
		assert_int_equal(out[i].condition, acts[i].condition);
		assert_string_equal(out[i].params, acts[i].params);
	}
	store_free_actions(out, n);
	assert_int_equal(store_task_actions_for(f->w, &full.id, TRIGGER_END, COND_FAILURE, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].params, "{\"url\":\"f1\"}");
	assert_string_equal(out[1].params, "{\"url\":\"f2\"}");
	store_free_actions(out, n);
	assert_int_equal(store_task_actions(f->w, &bare.id, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);
}

static void test_guarded_update(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	t.has_expected_count = true;
	t.expected_count = 10;
	insert(f, &t);

	task_status prev = TS_CANCELED;
	task_update u = { .set_status = true, .status = TS_SUCCESS, .add_success = 3, .add_failures = 1,
	                  .metadata = "{\"done\":true}", .ended_at = T0 + 10, .last_updated = T0 + 11 };
	unsigned from = TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED);
	assert_int_equal(update(f->w, &t.id, from, &u, &prev), 0);
	assert_int_equal(prev, TS_RUNNING);
	task_row g = get(f, &t.id);
	assert_int_equal(g.status, TS_SUCCESS);
	assert_int_equal(g.success, 3);
	assert_int_equal(g.failures, 1);
	assert_string_equal(g.metadata, "{\"done\":true}");
	assert_int_equal(g.ended_at, T0 + 10);
	assert_int_equal(g.last_updated, T0 + 11);
	/* untouched */
	assert_null(g.failure_reason);
	assert_int_equal(g.expected_count, 10);
	assert_int_equal(g.started_at, 0);
	assert_string_equal(g.rules, "[]");
	task_row_release(&g);

	/* A second completion is refused by the guard and reports the status. */
	assert_int_equal(update(f->w, &t.id, from, &u, &prev), GUARD_MISS);
	assert_int_equal(prev, TS_SUCCESS);
	assert_int_equal(update(f->w, &t.id, from, &u, NULL), GUARD_MISS);

	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(update(f->w, &unknown, TS_ALL_MASK, &u, &prev), WEFT_ENOTFOUND);

	/* Counters and other fields without a status change (any status). */
	task_update c = { .add_success = 2, .failure_reason = "late", .set_expected_count = true,
	                  .expected_count = 20, .set_priority = true, .priority = 7,
	                  .rules = "[1]", .started_at = T0 + 1 };
	assert_int_equal(update(f->w, &t.id, TS_ALL_MASK, &c, &prev), 0);
	assert_int_equal(prev, TS_SUCCESS);
	g = get(f, &t.id);
	assert_int_equal(g.status, TS_SUCCESS);
	assert_int_equal(g.success, 5);
	assert_string_equal(g.failure_reason, "late");
	assert_int_equal(g.expected_count, 20);
	assert_int_equal(g.priority, 7);
	assert_string_equal(g.rules, "[1]");
	assert_int_equal(g.started_at, T0 + 1);
	assert_int_equal(g.last_updated, T0 + 11);
	task_row_release(&g);

	/* An empty update only checks the guard. */
	task_update none = { 0 };
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_SUCCESS), &none, &prev), 0);
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_PENDING), &none, &prev), GUARD_MISS);
}

/* ---- DAG propagation -------------------------------------------------- */

/*      A
 *    r/ \o   \r
 *    B   C    P (paused)
 *    r\ /o
 *      D
 */
typedef struct diamond {
	task_row a, b, c, d, p;
} diamond;

static void make_diamond(fixture *f, diamond *g)
{
	g->a = new_task("A", "k", TS_RUNNING, T0);
	g->b = new_task("B", "k", TS_WAITING, T0 + 1);
	g->c = new_task("C", "k", TS_WAITING, T0 + 2);
	g->d = new_task("D", "k", TS_WAITING, T0 + 3);
	g->p = new_task("P", "k", TS_PAUSED, T0 + 4);
	g->b.wait_success = 1, g->b.wait_finished = 1;
	g->c.wait_success = 0, g->c.wait_finished = 1;
	g->d.wait_success = 1, g->d.wait_finished = 2;
	g->p.wait_success = 1, g->p.wait_finished = 1;
	insert(f, &g->a);
	insert(f, &g->b);
	insert(f, &g->c);
	insert(f, &g->d);
	insert(f, &g->p);
	add_link(f, &g->a, &g->b, true);
	add_link(f, &g->a, &g->c, false);
	add_link(f, &g->b, &g->d, true);
	add_link(f, &g->c, &g->d, false);
	add_link(f, &g->a, &g->p, true);
}

static void test_propagate_failure(void **state)
{
	fixture *f = *state;
	diamond g;
	make_diamond(f, &g);
	assert_int_equal(store_begin(f->w), 0);

	weft_id *ids;
	size_t n;
	assert_int_equal(store_fail_required_children(f->w, &g.a.id, "Required parent failed", T0 + 50,
	                                              &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_true(ids_have(ids, n, &g.b.id));
	assert_true(ids_have(ids, n, &g.p.id));   /* a paused child receives the outcome too */
	free(ids);
	task_row b = get(f, &g.b.id);
	assert_int_equal(b.status, TS_FAILURE);
	assert_string_equal(b.failure_reason, "Required parent failed");
	assert_int_equal(b.ended_at, T0 + 50);
	assert_int_equal(b.last_updated, T0 + 1);   /* untouched */
	task_row_release(&b);

	/* The optional child is released and becomes pending. */
	assert_int_equal(store_release_children(f->w, &g.a.id, false, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &g.c.id));
	free(ids);
	task_row c = get(f, &g.c.id);
	assert_int_equal(c.status, TS_PENDING);
	assert_int_equal(c.wait_finished, 0);
	assert_int_equal(c.wait_success, 0);
	task_row_release(&c);

	/* The cascade continues from B; calling it again changes nothing. */
	assert_int_equal(store_fail_required_children(f->w, &g.b.id, "x", T0 + 51, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &g.d.id));
	free(ids);
	assert_int_equal(store_fail_required_children(f->w, &g.b.id, "x", T0 + 52, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(status_of(f, &g.d.id), TS_FAILURE);
}

static void test_propagate_success(void **state)
{
	fixture *f = *state;
	diamond g;
	make_diamond(f, &g);
	weft_id *ids;
	size_t n;

	assert_int_equal(store_release_children(f->w, &g.a.id, true, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_true(ids_have(ids, n, &g.b.id));
	assert_true(ids_have(ids, n, &g.c.id));
	free(ids);
	/* The paused child's counters move, but it stays paused. */
	task_row p = get(f, &g.p.id);
	assert_int_equal(p.status, TS_PAUSED);
	assert_int_equal(p.wait_finished, 0);
	assert_int_equal(p.wait_success, 0);
	task_row_release(&p);

	/* D needs both: after B only one counter is resolved. */
	assert_int_equal(store_release_children(f->w, &g.b.id, true, &ids, &n), 0);
	assert_int_equal(n, 0);
	task_row d = get(f, &g.d.id);
	assert_int_equal(d.status, TS_WAITING);
	assert_int_equal(d.wait_finished, 1);
	assert_int_equal(d.wait_success, 0);
	task_row_release(&d);
	/* An optional parent's failure still counts as finished. */
	assert_int_equal(store_release_children(f->w, &g.c.id, false, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &g.d.id));
	free(ids);
	assert_int_equal(status_of(f, &g.d.id), TS_PENDING);

	/* A required parent's success decrements wait_success only on required links. */
	task_row x = new_task("X", "k", TS_RUNNING, T0 + 10);
	task_row y = new_task("Y", "k", TS_WAITING, T0 + 11);
	y.wait_success = 1;
	y.wait_finished = 2;
	insert(f, &x);
	insert(f, &y);
	add_link(f, &x, &y, false);
	assert_int_equal(store_release_children(f->w, &x.id, true, &ids, &n), 0);
	assert_int_equal(n, 0);
	task_row yy = get(f, &y.id);
	assert_int_equal(yy.wait_finished, 1);
	assert_int_equal(yy.wait_success, 1);
	task_row_release(&yy);
}

static void test_dead_end_parents(void **state)
{
	fixture *f = *state;
	task_row x = new_task("X", "k", TS_RUNNING, T0);
	task_row w = new_task("W", "k", TS_SUCCESS, T0 + 1);
	task_row y = new_task("Y", "k", TS_FAILURE, T0 + 2);
	task_row z = new_task("Z", "k", TS_PENDING, T0 + 3);
	insert(f, &x);
	insert(f, &w);
	insert(f, &y);
	insert(f, &z);
	add_link(f, &x, &y, false);
	add_link(f, &x, &z, false);
	add_link(f, &w, &y, false);

	weft_id check[] = { y.id, z.id };
	weft_id *ids;
	size_t n;
	assert_int_equal(store_dead_end_parents(f->w, check, 1, &ids, &n), 0);
	assert_int_equal(n, 0);   /* Z is still active */

	task_update u = { .set_status = true, .status = TS_CANCELED };
	assert_int_equal(update(f->w, &z.id, TS_ACTIVE_MASK, &u, NULL), 0);
	assert_int_equal(store_dead_end_parents(f->w, check, 2, &ids, &n), 0);
	assert_int_equal(n, 1);   /* X once; W is terminal already */
	assert_true(id_eq(&ids[0], &x.id));
	free(ids);

	assert_int_equal(store_dead_end_parents(f->w, check, 0, &ids, &n), 0);
	assert_int_equal(n, 0);
	u.status = TS_CANCELED;
	assert_int_equal(update(f->w, &x.id, TS_ACTIVE_MASK, &u, NULL), 0);
	assert_int_equal(store_dead_end_parents(f->w, check, 2, &ids, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- starting tasks --------------------------------------------------- */

static void test_pending_scan(void **state)
{
	fixture *f = *state;
	/* Inserted out of order; ids are time-ordered, so equal created_at
	 * breaks ties in insertion order. */
	struct { int prio; int64_t at; task_status s; } spec[] = {
		{ 0, 5, TS_PENDING },  { 10, 9, TS_PENDING }, { 0, 1, TS_PENDING }, { -5, 0, TS_PENDING },
		{ 10, 9, TS_PENDING }, { 0, 1, TS_PENDING },  { 99, 0, TS_RUNNING }, { 0, 3, TS_WAITING },
		{ 10, 2, TS_PENDING },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task("p", "k", spec[i].s, T0 + spec[i].at);
		rows[i].priority = spec[i].prio;
		insert(f, &rows[i]);
	}
	const size_t want[] = { 8, 1, 4, 2, 5, 0, 3 };

	task_row *out;
	size_t n;
	assert_int_equal(store_pending_scan(f->w, NULL, 100, T0, &out, &n), 0);
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[want[i]].id.str);
	store_free_tasks(out, n);

	/* Pages of two, each after the last row of the previous one. */
	pending_cursor cur;
	size_t seen = 0;
	bool first = true;
	for (;;) {
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 2, T0, &out, &n), 0);
		first = false;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			assert_string_equal(out[i].id.str, rows[want[seen + i]].id.str);
		seen += n;
		cur.priority = out[n - 1].priority;
		cur.created_at = out[n - 1].created_at;
		cur.id = out[n - 1].id;
		store_free_tasks(out, n);
	}
	assert_int_equal(seen, ARRAY_LEN(want));
	assert_int_equal(store_pending_scan(f->w, NULL, 0, T0, &out, &n), 0);
	assert_int_equal(n, 0);
}

static void test_count_matching(void **state)
{
	fixture *f = *state;
	const char *meta[] = { "{\"p\":1,\"tags\":[\"a\",\"b\"],\"o\":{\"x\":1,\"y\":2}}", "{\"p\":2}",
	                       "null", "{\"p\":1}", "[1]" };
	for (size_t i = 0; i < ARRAY_LEN(meta); i++) {
		task_row t = new_task("t", "job", i == 3 ? TS_RUNNING : TS_PENDING, T0 + (int64_t)i);
		t.metadata = (char *)meta[i];
		insert(f, &t);
	}
	task_row other = new_task("t", "other", TS_PENDING, T0);
	other.metadata = (char *)"{\"p\":1}";
	insert(f, &other);

	int64_t count;
	unsigned pend = TS_BIT(TS_PENDING);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":1}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", pend | TS_BIT(TS_RUNNING), "{\"p\":1}", 100, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_count_matching(f->w, "job", pend | TS_BIT(TS_RUNNING), "{\"p\":1}", 1, &count), 0);
	assert_int_equal(count, 1);   /* stops at the limit */
	/* "{}" matches objects only: not null, not an array. */
	assert_int_equal(store_count_matching(f->w, "job", TS_ALL_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"tags\":[\"b\"],\"o\":{\"y\":2}}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":1.0}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", TS_BIT(TS_CLAIMED), "{}", 100, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_count_matching(f->w, "nope", TS_ALL_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 0);
	/* The statement is reused with another pattern: the cached pattern must not leak. */
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":2}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_true(store_count_matching(f->w, "job", pend, "{oops", 100, &count) < 0);
}

static void test_capacity_sum(void **state)
{
	fixture *f = *state;
	struct { task_status s; bool has; int64_t exp, ok, bad; const char *meta; } spec[] = {
		{ TS_RUNNING, true, 10, 3, 2, "{\"q\":1}" },   /* 5 */
		{ TS_CLAIMED, true, 4, 0, 0, "{\"q\":1}" },    /* 4 */
		{ TS_RUNNING, true, 2, 5, 0, "{\"q\":1}" },    /* over: 0 */
		{ TS_RUNNING, false, 0, 0, 0, "{\"q\":1}" },   /* null: 0 */
		{ TS_PENDING, true, 50, 0, 0, "{\"q\":1}" },   /* not started */
		{ TS_RUNNING, true, 7, 0, 0, "{\"q\":2}" },    /* other key */
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task("t", "cap", spec[i].s, T0);
		t.has_expected_count = spec[i].has;
		t.expected_count = spec[i].exp;
		t.success = spec[i].ok;
		t.failures = spec[i].bad;
		t.metadata = (char *)spec[i].meta;
		insert(f, &t);
	}
	int64_t sum;
	assert_int_equal(store_capacity_sum(f->w, "cap", "{\"q\":1}", &sum), 0);
	assert_int_equal(sum, 9);
	assert_int_equal(store_capacity_sum(f->w, "cap", "{}", &sum), 0);
	assert_int_equal(sum, 16);
	assert_int_equal(store_capacity_sum(f->w, "none", "{}", &sum), 0);
	assert_int_equal(sum, 0);
}

static void test_ledger(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	insert(f, &t);
	const char *key = "task:start";
	ledger_claim_result r;

	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 100, T0 + 70, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	/* Pending and fresh: busy. */
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 110, T0 + 80, &r), 0);
	assert_int_equal(r, LEDGER_BUSY);
	/* Pending but older than stale_before: re-claimed. */
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 200, T0 + 150, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	assert_int_equal(sql_int(f, "SELECT attempts FROM webhook_execution"), 2);
	/* Failed: re-claimed at once. */
	assert_int_equal(store_ledger_finish(f->w, key, false, 500, "HTTP 500", T0 + 210), 0);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 220, 0, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	/* Succeeded: done forever, even when stale. */
	assert_int_equal(store_ledger_finish(f->w, key, true, 200, NULL, T0 + 230), 0);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 999999, INT64_MAX, &r), 0);
	assert_int_equal(r, LEDGER_DONE);
	assert_int_equal(sql_int(f, "SELECT attempts FROM webhook_execution"), 3);
	/* Another key is independent. */
	assert_int_equal(store_ledger_claim(f->w, "task:end:success", &t.id, TRIGGER_END, COND_SUCCESS, T0, 0, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
}

static void test_deadlines(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_RUNNING, T0);
	task_row b = new_task("b", "k", TS_RUNNING, T0);
	task_row c = new_task("c", "k", TS_CLAIMED, T0);
	a.last_updated = T0 + 20;
	b.last_updated = T0 + 10;
	b.timeout_secs = 5;
	insert(f, &a);
	insert(f, &b);
	insert(f, &c);
	deadline_row *d;
	size_t n;
	assert_int_equal(store_deadlines(f->w, TS_RUNNING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, b.id.str);
	assert_int_equal(d[0].last_updated, T0 + 10);
	assert_int_equal(d[0].timeout_secs, 5);
	assert_string_equal(d[1].id.str, a.id.str);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_PAUSED, &d, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- transactions and readers ------------------------------------------ */

static void test_transactions_and_readers(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_PENDING, T0);
	task_row b = new_task("b", "k", TS_PENDING, T0);
	task_row c = new_task("c", "k", TS_PENDING, T0);
	task_row got;

	assert_int_equal(store_begin(f->w), 0);
	insert(f, &a);
	assert_int_equal(store_rollback(f->w), 0);
	assert_int_equal(store_task_get(f->w, &a.id, &got), WEFT_ENOTFOUND);
	assert_int_equal(store_rollback(f->w), 0);   /* nothing open: a no-op */

	/* A failing command inside a savepoint is undone alone. */
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &a);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &b);
	assert_true(store_task_insert(f->w, &a) < 0);   /* duplicate id */
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &c);
	assert_int_equal(store_savepoint_release(f->w), 0);

	/* Readers see only what is committed. */
	int size, idle;
	store_pool_stats(f->st, &size, &idle);
	assert_int_equal(size, 2);
	assert_int_equal(idle, 2);
	store_conn *r1 = store_reader_acquire(f->st);
	store_conn *r2 = store_reader_acquire(f->st);
	assert_ptr_not_equal(r1, r2);
	store_pool_stats(f->st, &size, &idle);
	assert_int_equal(idle, 0);
	assert_int_equal(store_ping(r1), 0);
	assert_int_equal(store_task_get(r1, &a.id, &got), WEFT_ENOTFOUND);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_task_get(r1, &a.id, &got), 0);
	task_row_release(&got);
	assert_int_equal(store_task_get(r2, &b.id, &got), WEFT_ENOTFOUND);
	assert_int_equal(store_task_get(r2, &c.id, &got), 0);
	task_row_release(&got);
	/* Readers cannot write. */
	task_row d = new_task("d", "k", TS_PENDING, T0);
	assert_true(store_task_insert(r2, &d) < 0);
	/* weft_json_contains exists on readers too. */
	task_filter flt = { .metadata = "{}" };
	task_row *rows;
	size_t n;
	assert_int_equal(store_task_list(r2, &flt, 0, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_reader_release(f->st, r1);
	store_reader_release(f->st, r2);
	store_pool_stats(f->st, &size, &idle);
	assert_int_equal(idle, 2);
}

/* ---- reads for the API -------------------------------------------------- */

static void test_task_list(void **state)
{
	fixture *f = *state;
	weft_id b1;
	id_new_v4(&b1);
	struct { const char *name, *kind; task_status s; int timeout; bool in_b1; const char *meta; } spec[] = {
		{ "Build app", "ci-build", TS_SUCCESS, 60, true, "{\"env\":\"prod\"}" },
		{ "build lib", "ci-build", TS_RUNNING, 30, true, "null" },
		{ "test", "ci-test", TS_PENDING, 60, false, "{\"env\":\"dev\"}" },
		{ "deploy", "cd", TS_WAITING, 60, true, "{\"env\":\"prod\",\"r\":1}" },
		{ "100%_done", "misc", TS_PENDING, 60, false, "{}" },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task(spec[i].name, spec[i].kind, spec[i].s, T0 + (int64_t)i);
		rows[i].timeout_secs = spec[i].timeout;
		rows[i].metadata = (char *)spec[i].meta;
		if (spec[i].in_b1)
			rows[i].batch_id = b1;
		insert(f, &rows[i]);
	}
	task_row *out;
	size_t n;

	/* No filter: newest first. */
	assert_int_equal(store_task_list(f->w, NULL, 0, 100, &out, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[4 - i].id.str);
	store_free_tasks(out, n);

	struct { task_filter flt; size_t count; int first; } cases[] = {
		{ { .name = "build" }, 1, 1 },                 /* case-sensitive */
		{ { .name = "uild" }, 2, 1 },
		{ { .name = "%_" }, 1, 4 },                    /* no LIKE wildcards */
		{ { .name = "" }, 5, 4 },
		{ { .kind = "ci-" }, 3, 2 },
		{ { .status_mask = TS_BIT(TS_PENDING) }, 2, 4 },
		{ { .status_mask = TS_BIT(TS_PENDING) | TS_BIT(TS_CANCELED) | TS_BIT(TS_RETRYING) }, 2, 4 },
		{ { .has_timeout = true, .timeout = 30 }, 1, 1 },
		{ { .batch_id = &b1 }, 3, 3 },
		{ { .metadata = "{\"env\":\"prod\"}" }, 2, 3 },
		{ { .metadata = "{}" }, 4, 4 },
		{ { .kind = "ci", .metadata = "{\"env\":\"prod\"}", .batch_id = &b1 }, 1, 0 },
		{ { .kind = "ci", .status_mask = TS_BIT(TS_CANCELED) }, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(store_task_list(f->w, &cases[i].flt, 0, 100, &out, &n), 0);
		if (n != cases[i].count)
			fail_msg("case %zu: %zu rows, want %zu", i, n, cases[i].count);
		if (n > 0)
			assert_string_equal(out[0].id.str, rows[cases[i].first].id.str);
		store_free_tasks(out, n);
	}

	/* Pages. */
	assert_int_equal(store_task_list(f->w, NULL, 2, 2, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].id.str, rows[2].id.str);
	assert_string_equal(out[1].id.str, rows[1].id.str);
	store_free_tasks(out, n);
	assert_int_equal(store_task_list(f->w, NULL, 4, 2, &out, &n), 0);
	assert_int_equal(n, 1);
	store_free_tasks(out, n);
	assert_int_equal(store_task_list(f->w, NULL, 5, 2, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, INT64_MAX, 100, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, INT64_MAX - 1, INT64_MAX, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, -5, 1, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].id.str, rows[4].id.str);
	store_free_tasks(out, n);
}

static void test_batch_list(void **state)
{
	fixture *f = *state;
	weft_id b1, b2, b3;
	id_new_v4(&b1);
	id_new_v4(&b2);
	id_new_v4(&b3);
	struct { weft_id *b; const char *name, *kind; task_status s; int64_t at, upd; } spec[] = {
		{ &b1, "one", "alpha", TS_SUCCESS, 10, 100 },
		{ &b1, "two", "beta", TS_RUNNING, 40, 150 },
		{ &b1, "three", "beta", TS_RUNNING, 45, 120 },
		{ &b2, "uno", "alpha", TS_PENDING, 20, 20 },
		{ &b2, "dos", "gamma", TS_FAILURE, 21, 300 },
		{ &b3, "x", "beta", TS_WAITING, 30, 30 },
		{ NULL, "loose", "alpha", TS_PENDING, 50, 50 },   /* no batch: never listed */
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task(spec[i].name, spec[i].kind, spec[i].s, T0 + spec[i].at);
		t.last_updated = T0 + spec[i].upd;
		if (spec[i].b)
			t.batch_id = *spec[i].b;
		insert(f, &t);
	}
	batch_summary *out;
	size_t n;

	/* No filter: ordered by each batch's earliest task, newest first. */
	assert_int_equal(store_batch_list(f->w, NULL, 0, 10, &out, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].batch_id.str, b3.str);
	assert_string_equal(out[1].batch_id.str, b2.str);
	assert_string_equal(out[2].batch_id.str, b1.str);
	batch_summary *s1 = &out[2];
	assert_int_equal(s1->total_tasks, 3);
	assert_int_equal(s1->first_created_at, T0 + 10);
	assert_int_equal(s1->latest_updated_at, T0 + 150);
	assert_int_equal(s1->status_counts[TS_SUCCESS], 1);
	assert_int_equal(s1->status_counts[TS_RUNNING], 2);
	assert_int_equal(s1->status_counts[TS_PENDING], 0);
	assert_int_equal(s1->nkinds, 2);
	store_free_batch_summaries(out, n);

	/* kind=beta: b1 qualifies through its tasks at 40/45, so it sorts
	 * before b3 (30); counts stay over all tasks, kinds only matching ones. */
	batch_filter flt = { .kind = "beta" };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].batch_id.str, b1.str);
	assert_string_equal(out[1].batch_id.str, b3.str);
	assert_int_equal(out[0].total_tasks, 3);
	assert_int_equal(out[0].first_created_at, T0 + 10);
	assert_int_equal(out[0].nkinds, 1);
	assert_string_equal(out[0].kinds[0], "beta");
	store_free_batch_summaries(out, n);

	/* "a" is in every kind; only the failed task matches the status. */
	flt = (batch_filter){ .kind = "a", .status_mask = TS_BIT(TS_FAILURE) | TS_BIT(TS_RETRYING) };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].batch_id.str, b2.str);
	assert_int_equal(out[0].total_tasks, 2);
	assert_int_equal(out[0].status_counts[TS_PENDING], 1);
	assert_int_equal(out[0].status_counts[TS_FAILURE], 1);
	assert_int_equal(out[0].latest_updated_at, T0 + 300);
	assert_int_equal(out[0].nkinds, 1);
	assert_string_equal(out[0].kinds[0], "gamma");
	store_free_batch_summaries(out, n);

	/* Time window (inclusive) and name. */
	flt = (batch_filter){ .created_after = T0 + 20, .created_before = T0 + 30 };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].batch_id.str, b3.str);
	assert_string_equal(out[1].batch_id.str, b2.str);
	assert_int_equal(out[1].nkinds, 2);
	store_free_batch_summaries(out, n);
	flt = (batch_filter){ .name = "o" };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);   /* one, two (b1); uno, dos (b2) */
	store_free_batch_summaries(out, n);

	/* Pages. */
	assert_int_equal(store_batch_list(f->w, NULL, 1, 1, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].batch_id.str, b2.str);
	store_free_batch_summaries(out, n);
	assert_int_equal(store_batch_list(f->w, NULL, INT64_MAX, 100, &out, &n), 0);
	assert_int_equal(n, 0);

	/* Works on a reader too. */
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_batch_list(r, NULL, 0, 10, &out, &n), 0);
	assert_int_equal(n, 3);
	store_free_batch_summaries(out, n);
	store_reader_release(f->st, r);
}

static void test_batch_stats_cancel_rules(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	id_new_v4(&batch);
	id_new_v4(&other);
	task_row rows[TS__COUNT + 1];
	for (int s = 0; s < TS__COUNT; s++) {
		rows[s] = new_task("t", s % 2 ? "odd" : "even", (task_status)s, T0 + s);
		rows[s].batch_id = batch;
		rows[s].success = s;
		rows[s].failures = 1;
		rows[s].has_expected_count = true;
		rows[s].expected_count = 10;
		insert(f, &rows[s]);
	}
	task_row outside = new_task("o", "odd", TS_RUNNING, T0);
	outside.batch_id = other;
	insert(f, &outside);

	batch_stats bs;
	assert_int_equal(store_batch_stats(f->w, &batch, &bs), 0);
	assert_int_equal(bs.total_tasks, TS__COUNT);
	assert_int_equal(bs.total_success, TS__COUNT * (TS__COUNT - 1) / 2);
	assert_int_equal(bs.total_failures, TS__COUNT);
	assert_true(bs.has_total_expected);
	assert_int_equal(bs.total_expected, 10 * TS__COUNT);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(bs.status_counts[s], 1);
	int64_t count;
	assert_int_equal(store_batch_task_count(f->w, &batch, &count), 0);
	assert_int_equal(count, TS__COUNT);

	/* One null expected_count makes the total null. */
	task_row extra = new_task("t", "even", TS_SUCCESS, T0 + 20);
	extra.batch_id = batch;
	insert(f, &extra);
	rows[TS__COUNT] = extra;
	assert_int_equal(store_batch_stats(f->w, &batch, &bs), 0);
	assert_false(bs.has_total_expected);
	assert_int_equal(bs.total_tasks, TS__COUNT + 1);

	weft_id none;
	id_new_v4(&none);
	assert_int_equal(store_batch_stats(f->w, &none, &bs), WEFT_ENOTFOUND);
	assert_int_equal(store_batch_task_count(f->w, &none, &count), 0);
	assert_int_equal(count, 0);

	/* Rules: non-terminal tasks of that exact kind. */
	int64_t updated;
	assert_int_equal(store_batch_set_rules(f->w, &batch, "odd", "[{\"type\":\"Capacity\"}]", T0 + 500, &updated), 0);
	assert_int_equal(updated, 3);   /* the pending, the running and the retrying one */

	batch_cancel_counts cc;
	weft_id *running;
	size_t nrunning;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 1000, &cc, &running, &nrunning), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(cc.already_terminal, 4);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(cc.canceled[s], task_status_terminal((task_status)s) ? 0 : 1);
	assert_int_equal(nrunning, 1);
	assert_string_equal(running[0].str, rows[TS_RUNNING].id.str);
	free(running);

	for (int s = 0; s <= TS__COUNT; s++) {
		task_row g = get(f, &rows[s].id);
		if (s < TS__COUNT && !task_status_terminal((task_status)s)) {
			assert_int_equal(g.status, TS_CANCELED);
			assert_string_equal(g.failure_reason, "Batch stopped");
			assert_int_equal(g.ended_at, T0 + 1000);
			assert_int_equal(g.last_updated, T0 + 1000);
		} else {
			assert_int_not_equal(g.last_updated, T0 + 1000);
		}
		task_row_release(&g);
	}
	assert_int_equal(status_of(f, &outside.id), TS_RUNNING);

	/* Again: everything is terminal now. */
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 2000, &cc, &running, &nrunning), 0);
	assert_int_equal(cc.already_terminal, TS__COUNT + 1);
	assert_int_equal(nrunning, 0);
}

static void test_dag(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	id_new_v4(&batch);
	id_new_v4(&other);
	task_row a = new_task("a", "k", TS_SUCCESS, T0 + 2);
	task_row b = new_task("b", "k", TS_PENDING, T0 + 1);
	task_row c = new_task("c", "k", TS_WAITING, T0 + 1);
	task_row x = new_task("x", "k", TS_WAITING, T0);
	a.batch_id = b.batch_id = c.batch_id = batch;
	x.batch_id = other;
	insert(f, &a);
	insert(f, &b);
	insert(f, &c);
	insert(f, &x);
	add_link(f, &a, &b, true);
	add_link(f, &b, &c, false);
	add_link(f, &a, &x, true);   /* leaves the batch: not shown */

	task_row *tasks;
	link_row *links;
	size_t nt, nl;
	assert_int_equal(store_dag(f->w, &batch, &tasks, &nt, &links, &nl), 0);
	assert_int_equal(nt, 3);
	assert_string_equal(tasks[0].name, "b");   /* created_at, then id */
	assert_string_equal(tasks[1].name, "c");
	assert_string_equal(tasks[2].name, "a");
	assert_int_equal(nl, 2);
	for (size_t i = 0; i < nl; i++) {
		if (id_eq(&links[i].parent_id, &a.id)) {
			assert_string_equal(links[i].child_id.str, b.id.str);
			assert_true(links[i].requires_success);
		} else {
			assert_string_equal(links[i].parent_id.str, b.id.str);
			assert_string_equal(links[i].child_id.str, c.id.str);
			assert_false(links[i].requires_success);
		}
	}
	store_free_tasks(tasks, nt);
	free(links);
	weft_id none;
	id_new_v4(&none);
	assert_int_equal(store_dag(f->w, &none, &tasks, &nt, &links, &nl), 0);
	assert_int_equal(nt, 0);
	assert_int_equal(nl, 0);
}

/* ---- schema migration 0002 ---------------------------------------------- */

extern const char embed_store_schema_sqlite_0001_init_sql[];

static void test_migration_from_0001(void **state)
{
	fixture *f = *state;
	/* A database as the previous version left it: only 0001 applied. */
	store_close(f->st);
	remove_db(f->path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql_exec(db, embed_store_schema_sqlite_0001_init_sql);
	sql_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER);"
	             "INSERT INTO schema_migrations VALUES (1, 0);"
	             "INSERT INTO batch (id, created_at, on_complete) VALUES ('b-active', 1, '[{\"x\":1}]'),"
	             "  ('b-done', 2, NULL), ('b-empty', 3, NULL);"
	             "INSERT INTO task (id, batch_id, name, kind, status, timeout_secs, created_at, ended_at, "
	             "  metadata, rules, success) VALUES "
	             "  ('t-run', 'b-active', 'run', 'k', 'running', 60, 10, NULL, '{\"a\":1}', '[]', 7),"
	             "  ('t-ok', 'b-active', 'ok', 'k', 'success', 60, 11, 20, 'null', '[]', 0),"
	             "  ('t-done1', 'b-done', 'd1', 'k', 'success', 60, 12, 30, 'null', '[]', 0),"
	             "  ('t-done2', 'b-done', 'd2', 'k', 'canceled', 60, 13, 40, 'null', '[]', 0),"
	             "  ('t-wait', NULL, 'w', 'k', 'waiting', 60, 14, NULL, 'null', '[]', 0);"
	             "INSERT INTO link (parent_id, child_id, requires_success) VALUES ('t-run', 't-wait', 1);"
	             "INSERT INTO action (task_id, trigger, condition, params) VALUES "
	             "  ('t-run', 'end', 'success', '{\"url\":\"u\"}'), ('t-run', 'start', 'success', '{}');"
	             "INSERT INTO webhook_execution (idempotency_key, task_id, trigger, condition, status, "
	             "  attempts, created_at, updated_at) VALUES ('t-run:start', 't-run', 'start', 'success', "
	             "  'success', 2, 5, 6);");
	sqlite3_close(db);

	f->st = open_path(f->path);
	f->w = store_writer(f->st);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 3);
	weft_id run = { .str = "t-run" }, done = { .str = "b-done" }, active = { .str = "b-active" },
	        empty = { .str = "b-empty" };
	task_row g = get(f, &run);
	assert_int_equal(g.status, TS_RUNNING);
	assert_string_equal(g.metadata, "{\"a\":1}");
	assert_int_equal(g.success, 7);
	assert_null(g.group_name);
	assert_int_equal(g.start_after, 0);
	assert_null(g.retry_policy);
	assert_false(g.archived);
	task_row_release(&g);
	action_row *acts;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &run, &acts, &n), 0);
	assert_int_equal(n, 2);
	assert_true(acts[0].id > 0);
	assert_false(acts[0].has_delivery);
	assert_true(acts[1].has_delivery);   /* the start ledger row of before */
	assert_int_equal(acts[1].delivery, DS_SUCCESS);
	assert_int_equal(acts[1].attempts, 2);
	assert_int_equal(acts[1].last_attempt_at, 6);
	assert_int_equal(acts[1].last_http_status, 0);
	assert_null(acts[1].last_error);
	store_free_actions(acts, n);

	/* remaining counts the unfinished tasks; finished batches count as completed. */
	assert_int_equal(remaining(f, &active), 1);
	assert_int_equal(remaining(f, &done), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM batch WHERE id = 'b-active' AND completed_at IS NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT completed_at FROM batch WHERE id = 'b-done'"), 40);
	assert_int_equal(sql_int(f, "SELECT completed_at FROM batch WHERE id = 'b-empty'"), 3);
	char *json;
	batch_outcome out;
	assert_int_equal(complete_batch(f->w, &done, T0, &json, &out), WEFT_ENOTFOUND);
	assert_int_equal(complete_batch(f->w, &empty, T0, &json, &out), WEFT_ENOTFOUND);
	assert_int_equal(complete_batch(f->w, &active, T0, &json, &out), WEFT_ENOTFOUND);
	set_status(f, &run, TS_SUCCESS, NULL);
	assert_int_equal(complete_batch(f->w, &active, T0, &json, &out), 0);
	assert_string_equal(json, "[{\"x\":1}]");
	assert_int_equal(out.success, 2);
	free(json);

	/* The rebuilt indexes are in place. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_index_info('task_pending') "
	                            "WHERE name = 'start_after'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_schema WHERE name = 'task_timed' "
	                            "AND sql LIKE '%retrying%'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM link"), 1);
}

static void test_model_names(void **state)
{
	UNUSED(state);
	task_status s;
	assert_string_equal(task_status_name(TS_RETRYING), "retrying");
	assert_string_equal(task_status_label(TS_RETRYING), "RetryPending");
	assert_int_equal(task_status_from_label("RetryPending", &s), 0);
	assert_int_equal(s, TS_RETRYING);
	assert_int_equal(task_status_parse("retrying", &s), 0);
	assert_int_equal(s, TS_RETRYING);
	assert_false(task_status_terminal(TS_RETRYING));
	assert_true(TS_ACTIVE_MASK & TS_BIT(TS_RETRYING));

	static const char *const db[] = { "pending", "delivering", "retrying", "success", "exhausted" };
	for (int i = 0; i < DS__COUNT; i++) {
		delivery_status d;
		assert_string_equal(delivery_status_name((delivery_status)i), db[i]);
		assert_int_equal(delivery_status_parse(db[i], &d), 0);
		assert_int_equal(d, i);
	}
	delivery_status d;
	assert_int_equal(delivery_status_parse("failure", &d), WEFT_EINVALID);
	assert_int_equal(delivery_status_parse(NULL, &d), WEFT_EINVALID);
	assert_string_equal(delivery_status_name(DS__COUNT), "unknown");

	static const char *const ev[] = { "end_success", "end_failure", "cancel", "batch_complete" };
	for (int i = 0; i < 4; i++) {
		delivery_event e;
		assert_string_equal(delivery_event_name((delivery_event)i), ev[i]);
		assert_int_equal(delivery_event_parse(ev[i], &e), 0);
		assert_int_equal(e, i);
	}
	delivery_event e;
	assert_int_equal(delivery_event_parse("End", &e), WEFT_EINVALID);

	/* Releasing is idempotent and accepts NULL. */
	outbox_row o = { .params = strdup("{}"), .last_error = strdup("x") };
	outbox_row_release(&o);
	outbox_row_release(&o);
	outbox_row_release(NULL);
	task_event te = { .reason = strdup("r"), .actor = strdup("api") };
	task_event_release(&te);
	task_event_release(NULL);
	action_row a = { .params = strdup("{}"), .last_error = strdup("boom") };
	action_row_release(&a);
	assert_null(a.last_error);
	task_row t = { .group_name = strdup("g"), .retry_policy = strdup("{}") };
	task_row_release(&t);
	assert_null(t.group_name);
}

/* ---- audit trail and batch counters ------------------------------------- */

static task_event *events_of(fixture *f, const weft_id *id, size_t *n)
{
	task_event *ev;
	assert_int_equal(store_task_events(f->w, id, &ev, n), 0);
	return ev;
}

static void check_event(const task_event *e, int64_t at, int from, task_status to, const char *reason,
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

static void test_update_events_and_remaining(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	task_row t = new_task("t", "k", TS_PENDING, T0);
	t.batch_id = batch;
	insert(f, &t);
	task_row other = new_task("o", "k", TS_RUNNING, T0 + 1);
	other.batch_id = batch;
	insert(f, &other);
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 2), 0);
	assert_int_equal(remaining(f, &batch), 2);

	/* A task with no events yet: only its creation, with its current status. */
	size_t n;
	task_event *ev = events_of(f, &t.id, &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], T0, -1, TS_PENDING, "created", "api");
	store_free_events(ev, n);

	task_row after;
	task_status prev;
	task_update u = { .set_status = true, .status = TS_CLAIMED, .last_updated = T0 + 10, .after = &after };
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_PENDING), &u, &prev), 0);
	assert_int_equal(after.status, TS_CLAIMED);
	assert_int_equal(after.last_updated, T0 + 10);
	assert_string_equal(after.id.str, t.id.str);
	task_row_release(&after);
	/* Refused by the guard: no event, after left empty. */
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_PENDING), &u, &prev), GUARD_MISS);
	assert_null(after.name);

	u = (task_update){ .set_status = true, .status = TS_RUNNING, .started_at = T0 + 20, .actor = "webhook" };
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_CLAIMED), &u, NULL), 0);
	/* Fails with retries left: retrying is not terminal, remaining stays. */
	u = (task_update){ .set_status = true, .status = TS_RETRYING, .set_attempt = true, .attempt = 1,
	                   .next_retry_at = T0 + 500, .failure_reason = "Timeout", .actor = "system",
	                   .last_updated = T0 + 30, .after = &after };
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_RUNNING), &u, NULL), 0);
	assert_int_equal(after.status, TS_RETRYING);
	assert_int_equal(after.attempt, 1);
	assert_int_equal(after.next_retry_at, T0 + 500);
	assert_string_equal(after.failure_reason, "Timeout");
	task_row_release(&after);
	assert_int_equal(remaining(f, &batch), 2);

	/* Fields only, and a "change" to the same status: no event. */
	u = (task_update){ .metadata = "{\"x\":1}", .set_status = true, .status = TS_RETRYING };
	assert_int_equal(update(f->w, &t.id, TS_ALL_MASK, &u, NULL), 0);
	u = (task_update){ .add_success = 1 };
	assert_int_equal(update(f->w, &t.id, TS_ALL_MASK, &u, NULL), 0);

	u = (task_update){ .set_status = true, .status = TS_PENDING, .last_updated = T0 + 500, .actor = "system",
	                   .reason = "retry" };
	assert_int_equal(update(f->w, &t.id, TS_BIT(TS_RETRYING), &u, NULL), 0);
	set_status(f, &t.id, TS_CLAIMED, &(task_update){ .last_updated = T0 + 501 });
	set_status(f, &t.id, TS_RUNNING, &(task_update){ .last_updated = T0 + 502 });
	/* reason wins over failure_reason. */
	set_status(f, &t.id, TS_FAILURE, &(task_update){ .ended_at = T0 + 600, .failure_reason = "boom",
	                                                 .reason = "explicit", .actor = "webhook" });
	assert_int_equal(remaining(f, &batch), 1);
	/* Already terminal: no second decrement. */
	u = (task_update){ .set_status = true, .status = TS_CANCELED, .last_updated = T0 + 601 };
	assert_int_equal(update(f->w, &t.id, TS_ALL_MASK, &u, NULL), 0);
	assert_int_equal(remaining(f, &batch), 1);
	/* Leaving a terminal status counts the task as unfinished again. */
	set_status(f, &t.id, TS_PENDING, &(task_update){ .last_updated = T0 + 700, .actor = "operator" });
	assert_int_equal(remaining(f, &batch), 2);
	set_status(f, &other.id, TS_SUCCESS, &(task_update){ .ended_at = T0 + 800 });
	assert_int_equal(remaining(f, &batch), 1);

	ev = events_of(f, &t.id, &n);
	assert_int_equal(n, 10);
	check_event(&ev[0], T0, -1, TS_PENDING, "created", "api");
	check_event(&ev[1], T0 + 10, TS_PENDING, TS_CLAIMED, NULL, "api");
	check_event(&ev[2], T0 + 20, TS_CLAIMED, TS_RUNNING, NULL, "webhook");
	check_event(&ev[3], T0 + 30, TS_RUNNING, TS_RETRYING, "Timeout", "system");
	check_event(&ev[4], T0 + 500, TS_RETRYING, TS_PENDING, "retry", "system");
	check_event(&ev[5], T0 + 501, TS_PENDING, TS_CLAIMED, NULL, "api");
	check_event(&ev[6], T0 + 502, TS_CLAIMED, TS_RUNNING, NULL, "api");
	check_event(&ev[7], T0 + 600, TS_RUNNING, TS_FAILURE, "explicit", "webhook");
	check_event(&ev[8], T0 + 601, TS_FAILURE, TS_CANCELED, NULL, "api");
	check_event(&ev[9], T0 + 700, TS_CANCELED, TS_PENDING, NULL, "operator");
	store_free_events(ev, n);

	/* Tasks without a batch, or whose batch has no row, are no trouble. */
	task_row loose = new_task("l", "k", TS_RUNNING, T0);
	insert(f, &loose);
	set_status(f, &loose.id, TS_SUCCESS, NULL);
	task_row rowless = new_task("r", "k", TS_RUNNING, T0);
	id_new_v4(&rowless.batch_id);
	insert(f, &rowless);
	set_status(f, &rowless.id, TS_SUCCESS, NULL);
	ev = events_of(f, &loose.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0, -1, TS_RUNNING, "created", "api");
	assert_true(ev[1].at > T0);   /* no timestamp in the update: now */
	store_free_events(ev, n);

	/* Events read on a reader; unknown ids are NOT_FOUND. */
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_events(r, &t.id, &ev, &n), 0);
	assert_int_equal(n, 10);
	store_free_events(ev, n);
	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_events(r, &unknown, &ev, &n), WEFT_ENOTFOUND);
	assert_int_equal(n, 0);
	store_reader_release(f->st, r);
}

static void test_cascade_events(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	new_batch(f, &batch, NULL);
	new_batch(f, &other, NULL);
	task_row a = new_task("A", "k", TS_RUNNING, T0);
	task_row c1 = new_task("c1", "k", TS_WAITING, T0 + 1);   /* required */
	task_row c2 = new_task("c2", "k", TS_PAUSED, T0 + 2);    /* required, paused */
	task_row c3 = new_task("c3", "k", TS_WAITING, T0 + 3);   /* optional */
	task_row c4 = new_task("c4", "k", TS_WAITING, T0 + 4);   /* required, other batch */
	a.batch_id = c1.batch_id = c2.batch_id = c3.batch_id = batch;
	c4.batch_id = other;
	c1.wait_finished = c2.wait_finished = c3.wait_finished = c4.wait_finished = 1;
	c1.wait_success = c2.wait_success = c4.wait_success = 1;
	task_row *all[] = { &a, &c1, &c2, &c3, &c4 };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	add_link(f, &a, &c1, true);
	add_link(f, &a, &c2, true);
	add_link(f, &a, &c3, false);
	add_link(f, &a, &c4, true);
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 4), 0);
	assert_int_equal(store_batch_add_remaining(f->w, &other, 1), 0);

	set_status(f, &a.id, TS_FAILURE, &(task_update){ .ended_at = T0 + 40 });
	assert_int_equal(remaining(f, &batch), 3);
	assert_int_equal(store_begin(f->w), 0);
	weft_id *ids;
	size_t n;
	assert_int_equal(store_fail_required_children(f->w, &a.id, "Required parent failed", T0 + 50, &ids, &n), 0);
	assert_int_equal(n, 3);
	free(ids);
	assert_int_equal(store_release_children(f->w, &a.id, false, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &c3.id));
	free(ids);
	/* Nothing left to fail: no events, no counter change. */
	assert_int_equal(store_fail_required_children(f->w, &a.id, "again", T0 + 60, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(remaining(f, &batch), 1);   /* c3 is still to run */
	assert_int_equal(remaining(f, &other), 0);

	task_event *ev = events_of(f, &c1.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 1, -1, TS_WAITING, "created", "api");
	check_event(&ev[1], T0 + 50, TS_WAITING, TS_FAILURE, "Required parent failed", "system");
	store_free_events(ev, n);
	ev = events_of(f, &c2.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 2, -1, TS_PAUSED, "created", "api");
	check_event(&ev[1], T0 + 50, TS_PAUSED, TS_FAILURE, "Required parent failed", "system");
	store_free_events(ev, n);
	ev = events_of(f, &c3.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 3, -1, TS_WAITING, "created", "api");
	check_event(&ev[1], 0, TS_WAITING, TS_PENDING, "dependencies resolved", "system");
	store_free_events(ev, n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_event"), 5);   /* A, c1, c2, c3, c4 */
}

static void test_batch_cancel_events(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	const task_status st[] = { TS_WAITING, TS_PENDING, TS_RETRYING, TS_RUNNING, TS_SUCCESS };
	task_row rows[ARRAY_LEN(st)];
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		rows[i] = new_task("t", "k", st[i], T0 + (int64_t)i);
		rows[i].batch_id = batch;
		insert(f, &rows[i]);
	}
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 4), 0);
	batch_cancel_counts cc;
	weft_id *running;
	size_t nrunning;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 100, &cc, &running, &nrunning), 0);
	assert_int_equal(store_commit(f->w), 0);
	free(running);
	assert_int_equal(cc.canceled[TS_RETRYING], 1);
	assert_int_equal(cc.already_terminal, 1);
	assert_int_equal(remaining(f, &batch), 0);
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		size_t n;
		task_event *ev = events_of(f, &rows[i].id, &n);
		if (st[i] == TS_SUCCESS) {
			assert_int_equal(n, 1);
		} else {
			assert_int_equal(n, 2);
			check_event(&ev[1], T0 + 100, (int)st[i], TS_CANCELED, "Batch stopped", "api");
		}
		store_free_events(ev, n);
	}
	char *json;
	batch_outcome out;
	assert_int_equal(complete_batch(f->w, &batch, T0 + 101, &json, &out), 0);
	assert_null(json);
	assert_int_equal(out.success, 1);
	assert_int_equal(out.canceled, 4);
	assert_int_equal(out.failure, 0);
}

static void test_batch_complete(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, "[{\"url\":\"http://done\"}]");
	const task_status st[] = { TS_SUCCESS, TS_FAILURE, TS_CANCELED, TS_RUNNING };
	task_row rows[ARRAY_LEN(st)];
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		rows[i] = new_task("t", "k", st[i], T0 + (int64_t)i);
		rows[i].batch_id = batch;
		insert(f, &rows[i]);
	}
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 1), 0);
	char *json = (char *)"untouched";
	batch_outcome out = { 9, 9, 9 };
	assert_int_equal(complete_batch(f->w, &batch, T0 + 100, &json, &out), WEFT_ENOTFOUND);
	assert_null(json);
	assert_int_equal(out.success, 0);

	set_status(f, &rows[3].id, TS_SUCCESS, &(task_update){ .ended_at = T0 + 90 });
	assert_int_equal(remaining(f, &batch), 0);
	assert_int_equal(complete_batch(f->w, &batch, T0 + 100, &json, &out), 0);
	assert_string_equal(json, "[{\"url\":\"http://done\"}]");
	free(json);
	assert_int_equal(out.success, 2);
	assert_int_equal(out.failure, 1);
	assert_int_equal(out.canceled, 1);
	assert_int_equal(sql_intf(f, "SELECT completed_at FROM batch WHERE id = '%s'", batch.str), T0 + 100);
	/* Only once. */
	assert_int_equal(complete_batch(f->w, &batch, T0 + 200, &json, &out), WEFT_ENOTFOUND);
	assert_int_equal(sql_intf(f, "SELECT completed_at FROM batch WHERE id = '%s'", batch.str), T0 + 100);

	/* No batch row: nothing to complete. A batch row without tasks completes. */
	weft_id none, empty;
	id_new_v4(&none);
	assert_int_equal(complete_batch(f->w, &none, T0, &json, &out), WEFT_ENOTFOUND);
	new_batch(f, &empty, NULL);
	assert_int_equal(complete_batch(f->w, &empty, T0, &json, &out), 0);
	assert_null(json);
	assert_int_equal(out.success + out.failure + out.canceled, 0);
	assert_int_equal(store_batch_add_remaining(f->w, &none, 5), 0);   /* no row: no-op */

	/* Archived tasks still count. */
	weft_id b3;
	new_batch(f, &b3, NULL);
	task_row old = new_task("old", "k", TS_SUCCESS, T0);
	task_row late = new_task("late", "k", TS_RUNNING, T0 + 1);
	old.batch_id = late.batch_id = b3;
	old.ended_at = T0 + 5;
	insert(f, &old);
	insert(f, &late);
	assert_int_equal(store_batch_add_remaining(f->w, &b3, 1), 0);
	int64_t archived;
	assert_int_equal(store_archive_terminal(f->w, T0 + 10, 100, &archived), 0);
	assert_int_equal(archived, 1);
	set_status(f, &late.id, TS_FAILURE, &(task_update){ .ended_at = T0 + 20 });
	assert_int_equal(complete_batch(f->w, &b3, T0 + 30, &json, &out), 0);
	assert_int_equal(out.success, 1);
	assert_int_equal(out.failure, 1);
}

/* ---- outbox ------------------------------------------------------------- */

static outbox_row delivery(const char *key, delivery_event ev, const task_row *t, int64_t action_id,
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

static void lease(fixture *f, int64_t now, int64_t until, size_t limit, const weft_id *skip, size_t nskip,
                  const int64_t *want, size_t nwant)
{
	outbox_row *rows;
	size_t n;
	assert_int_equal(store_outbox_lease(f->w, now, until, limit, skip, nskip, &rows, &n), 0);
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

static int64_t list_count(store_conn *c, unsigned status_mask, int64_t *first_id)
{
	outbox_row *rows;
	size_t n;
	assert_int_equal(store_outbox_list(c, status_mask, 0, 100, &rows, &n), 0);
	if (first_id != NULL)
		*first_id = n > 0 ? rows[0].id : 0;
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].id > rows[i].id);   /* newest first */
	store_free_outbox(rows, n);
	return (int64_t)n;
}

static void test_outbox(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_SUCCESS, T0);
	task_row b = new_task("b", "k", TS_CANCELED, T0);
	id_new_v4(&a.batch_id);
	int64_t due;
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), WEFT_ENOTFOUND);

	outbox_row o1 = delivery("a:end:success", DELIVERY_END_SUCCESS, &a, 11, T0 + 10);
	outbox_row o2 = delivery("b:cancel", DELIVERY_CANCEL, &b, 12, T0 + 5);
	outbox_row o3 = delivery("batch:x:complete", DELIVERY_BATCH_COMPLETE, NULL, 0, T0 + 20);
	outbox_row o4 = delivery("a:cancel", DELIVERY_CANCEL, &a, 13, T0 + 1000);
	outbox_row *all[] = { &o1, &o2, &o3, &o4 };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		assert_int_equal(store_outbox_insert(f->w, all[i]), 0);
		assert_true(all[i]->id > 0);
		if (i > 0)
			assert_true(all[i]->id > all[i - 1]->id);
	}
	/* The same key again: kept as it was. */
	outbox_row dup = delivery("a:end:success", DELIVERY_END_FAILURE, &b, 99, T0);
	dup.params = (char *)"{\"other\":1}";
	dup.id = 77;
	assert_int_equal(store_outbox_insert(f->w, &dup), 0);
	assert_int_equal(dup.id, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 4);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), 0);
	assert_int_equal(due, T0 + 5);

	/* Due rows, oldest due first; the rest wait. */
	lease(f, T0 + 15, T0 + 115, 10, NULL, 0, (int64_t[]){ o2.id, o1.id }, 2);
	outbox_row *rows;
	size_t n;
	assert_int_equal(store_outbox_list(f->w, 0, 0, 10, &rows, &n), 0);
	assert_int_equal(n, 4);
	outbox_row *r1 = &rows[3];   /* o1: newest first */
	assert_int_equal(r1->id, o1.id);
	assert_string_equal(r1->key, "a:end:success");
	assert_int_equal(r1->event, DELIVERY_END_SUCCESS);
	assert_string_equal(r1->task_id.str, a.id.str);
	assert_string_equal(r1->batch_id.str, a.batch_id.str);
	assert_int_equal(r1->action_id, 11);
	assert_string_equal(r1->params, "{\"url\":\"http://hook\"}");
	assert_true(r1->add_handle);
	assert_int_equal(r1->attempts, 1);
	assert_int_equal(r1->max_attempts, 3);
	assert_int_equal(r1->created_at, T0);
	assert_int_equal(r1->last_http_status, 0);
	assert_null(r1->last_error);
	outbox_row *r3 = &rows[1];
	assert_int_equal(r3->event, DELIVERY_BATCH_COMPLETE);
	assert_false(id_is_set(&r3->task_id));
	assert_false(id_is_set(&r3->batch_id));
	assert_int_equal(r3->action_id, 0);
	assert_false(r3->add_handle);
	assert_int_equal(r3->status, DS_PENDING);
	assert_int_equal(r3->attempts, 0);
	store_free_outbox(rows, n);

	/* Leased rows are not due again before their lease ends. */
	lease(f, T0 + 20, T0 + 120, 10, NULL, 0, (int64_t[]){ o3.id }, 1);
	lease(f, T0 + 100, T0 + 200, 10, NULL, 0, NULL, 0);
	/* Expired leases come back; a skipped task's rows stay, a batch row never is skipped. */
	lease(f, T0 + 1000, T0 + 1100, 10, &a.id, 1, (int64_t[]){ o2.id, o3.id }, 2);
	lease(f, T0 + 2000, T0 + 2100, 1, &b.id, 1, (int64_t[]){ o1.id }, 1);
	lease(f, T0 + 2000, T0 + 2100, 10, (weft_id[]){ b.id, a.id }, 2, (int64_t[]){ o3.id }, 1);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o2.id), 2);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o1.id), 2);

	/* Outcomes. */
	assert_int_equal(store_outbox_finish(f->w, o1.id, true, 200, NULL, T0 + 2001, T0 + 9999), 0);
	assert_int_equal(store_outbox_finish(f->w, o2.id, false, 503, "HTTP 503", T0 + 2002, T0 + 3000), 0);
	assert_int_equal(store_outbox_finish(f->w, o3.id, false, 0, "timeout", T0 + 2003, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, 424242, true, 200, NULL, T0, 0), 0);   /* unknown: no-op */
	assert_int_equal(store_outbox_list(f->w, 0, 0, 10, &rows, &n), 0);
	assert_int_equal(rows[3].status, DS_SUCCESS);
	assert_int_equal(rows[3].last_http_status, 200);
	assert_int_equal(rows[3].updated_at, T0 + 2001);
	assert_int_equal(rows[2].status, DS_RETRYING);
	assert_int_equal(rows[2].next_attempt_at, T0 + 3000);
	assert_int_equal(rows[2].last_http_status, 503);
	assert_string_equal(rows[2].last_error, "HTTP 503");
	assert_int_equal(rows[1].status, DS_EXHAUSTED);
	assert_int_equal(rows[1].last_http_status, 0);
	assert_string_equal(rows[1].last_error, "timeout");
	assert_int_equal(rows[0].status, DS_PENDING);
	store_free_outbox(rows, n);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), 0);
	assert_int_equal(due, T0 + 1000);   /* o4 */

	/* A retrying row is due at its retry time. */
	lease(f, T0 + 2999, T0 + 4000, 10, &a.id, 1, NULL, 0);
	lease(f, T0 + 3000, T0 + 4000, 10, &a.id, 1, (int64_t[]){ o2.id }, 1);

	/* Listing by delivery status, on a reader too. */
	store_conn *r = store_reader_acquire(f->st);
	int64_t first;
	assert_int_equal(list_count(r, 0, &first), 4);
	assert_int_equal(first, o4.id);
	assert_int_equal(list_count(r, 1u << DS_PENDING | 1u << DS_DELIVERING, &first), 2);   /* o4 pending, o2 delivering */
	assert_int_equal(first, o4.id);
	assert_int_equal(list_count(r, 1u << DS_SUCCESS, &first), 1);
	assert_int_equal(first, o1.id);
	assert_int_equal(list_count(r, 1u << DS_EXHAUSTED, &first), 1);
	assert_int_equal(first, o3.id);
	assert_int_equal(list_count(r, 1u << DS_RETRYING, NULL), 0);
	assert_int_equal(store_outbox_list(r, 0, 1, 2, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, o3.id);
	assert_int_equal(rows[1].id, o2.id);
	store_free_outbox(rows, n);
	assert_int_equal(store_outbox_list(r, 0, 10, 2, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_reader_release(f->st, r);
	assert_int_equal(store_outbox_finish(f->w, o2.id, false, 500, "HTTP 500", T0 + 3001, T0 + 5000), 0);
	assert_int_equal(list_count(f->w, 1u << DS_RETRYING, &first), 1);
	assert_int_equal(first, o2.id);

	/* Start-up: a row left delivering becomes due at once. */
	lease(f, T0 + 4000, T0 + 9000, 10, &b.id, 1, (int64_t[]){ o4.id }, 1);
	lease(f, T0 + 4100, T0 + 9000, 10, &b.id, 1, NULL, 0);
	assert_int_equal(store_outbox_recover(f->w, T0 + 4100), 0);
	assert_int_equal(sql_intf(f, "SELECT next_attempt_at FROM outbox WHERE id = %" PRId64, o4.id), T0 + 4100);
	assert_int_equal(sql_intf(f, "SELECT next_attempt_at FROM outbox WHERE id = %" PRId64, o2.id), T0 + 5000);
	lease(f, T0 + 4100, T0 + 9000, 10, &b.id, 1, (int64_t[]){ o4.id }, 1);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o4.id), 2);

	/* Nothing undelivered left. */
	assert_int_equal(store_outbox_finish(f->w, o4.id, true, 204, NULL, T0 + 4200, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, o2.id, true, 200, NULL, T0 + 4200, 0), 0);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), WEFT_ENOTFOUND);
	lease(f, INT64_MAX, INT64_MAX, 10, NULL, 0, NULL, 0);
	lease(f, T0 + 9999999, T0, 0, NULL, 0, NULL, 0);
}

/* ---- action delivery records -------------------------------------------- */

static void test_action_delivery(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	insert(f, &t);
	action_row acts[] = {
		{ .trigger = TRIGGER_START, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"s\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"e1\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_FAILURE, .params = (char *)"{\"url\":\"e2\"}" },
		{ .trigger = TRIGGER_CANCEL, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"c\"}" },
	};
	for (size_t i = 0; i < ARRAY_LEN(acts); i++)
		assert_int_equal(store_action_insert(f->w, &t.id, &acts[i]), 0);
	action_row *out;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &t.id, &out, &n), 0);
	assert_int_equal(n, 4);
	int64_t ids[4];
	for (size_t i = 0; i < n; i++) {
		ids[i] = out[i].id;
		assert_true(i == 0 || ids[i] > ids[i - 1]);
		assert_false(out[i].has_delivery);
		assert_null(out[i].last_error);
	}
	store_free_actions(out, n);
	assert_int_equal(store_task_actions_for(f->w, &t.id, TRIGGER_END, COND_SUCCESS, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].id, ids[1]);
	assert_false(out[0].has_delivery);
	store_free_actions(out, n);

	/* Start: from the ledger. */
	char key[64];
	snprintf(key, sizeof key, "%s:start", t.id.str);
	ledger_claim_result lr;
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 100, 0, &lr), 0);
	/* End (success): the newest of its outbox rows. Cancel: a failed attempt. */
	outbox_row first = delivery("e1:1", DELIVERY_END_SUCCESS, &t, ids[1], T0);
	outbox_row second = delivery("e1:2", DELIVERY_END_SUCCESS, &t, ids[1], T0 + 500);
	outbox_row cancel = delivery("c", DELIVERY_CANCEL, &t, ids[3], T0);
	assert_int_equal(store_outbox_insert(f->w, &first), 0);
	assert_int_equal(store_outbox_insert(f->w, &cancel), 0);
	lease(f, T0 + 200, T0 + 300, 10, NULL, 0, (int64_t[]){ first.id, cancel.id }, 2);
	assert_int_equal(store_outbox_finish(f->w, first.id, true, 200, NULL, T0 + 201, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, cancel.id, false, 500, "HTTP 500", T0 + 202, T0 + 900), 0);
	assert_int_equal(store_outbox_insert(f->w, &second), 0);

	assert_int_equal(store_task_actions(f->w, &t.id, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_true(out[0].has_delivery);
	assert_int_equal(out[0].delivery, DS_DELIVERING);
	assert_int_equal(out[0].attempts, 1);
	assert_int_equal(out[0].last_attempt_at, T0 + 100);
	assert_int_equal(out[0].last_http_status, 0);
	assert_true(out[1].has_delivery);
	assert_int_equal(out[1].delivery, DS_PENDING);
	assert_int_equal(out[1].attempts, 0);
	assert_false(out[2].has_delivery);
	assert_true(out[3].has_delivery);
	assert_int_equal(out[3].delivery, DS_RETRYING);
	assert_int_equal(out[3].attempts, 1);
	assert_int_equal(out[3].last_http_status, 500);
	assert_string_equal(out[3].last_error, "HTTP 500");
	assert_int_equal(out[3].last_attempt_at, T0 + 200);
	store_free_actions(out, n);

	assert_int_equal(store_ledger_finish(f->w, key, false, 500, "HTTP 500", T0 + 150), 0);
	/* The ledger's record of the last answer, when there is one. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql_exec(db, "UPDATE webhook_execution SET last_http_status = 502, last_error = 'HTTP 502'");
	sqlite3_close(db);
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_actions(r, &t.id, &out, &n), 0);
	assert_int_equal(out[0].delivery, DS_RETRYING);
	assert_int_equal(out[0].last_attempt_at, T0 + 150);
	assert_int_equal(out[0].last_http_status, 502);
	assert_string_equal(out[0].last_error, "HTTP 502");
	store_free_actions(out, n);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 160, 0, &lr), 0);
	assert_int_equal(store_ledger_finish(f->w, key, true, 200, NULL, T0 + 170), 0);
	assert_int_equal(store_task_actions(r, &t.id, &out, &n), 0);
	assert_int_equal(out[0].delivery, DS_SUCCESS);
	assert_int_equal(out[0].attempts, 2);
	store_free_actions(out, n);
	store_reader_release(f->st, r);
}

/* ---- retention ---------------------------------------------------------- */

static void test_archive(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	task_row p = new_task("p", "k", TS_RUNNING, T0);              /* parent, still running */
	task_row old = new_task("old", "k", TS_RUNNING, T0 + 1);      /* finishes at T0 + 10 */
	task_row old2 = new_task("old2", "k", TS_FAILURE, T0 + 2);
	task_row young = new_task("young", "k", TS_SUCCESS, T0 + 3);
	task_row c = new_task("c", "k", TS_WAITING, T0 + 4);          /* child of old */
	old.batch_id = batch;
	old.metadata = (char *)"{\"m\":1}";
	old.group_name = (char *)"g";
	old.retry_policy = (char *)"{\"max_retries\":1}";
	old2.ended_at = T0 + 20;
	young.ended_at = T0 + 500;
	task_row *all[] = { &p, &old, &old2, &young, &c };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	add_link(f, &p, &old, false);
	add_link(f, &old, &c, false);
	add_link(f, &p, &c, false);
	action_row act = { .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"{}" };
	assert_int_equal(store_action_insert(f->w, &old.id, &act), 0);
	assert_int_equal(store_action_insert(f->w, &p.id, &act), 0);
	ledger_claim_result lr;
	assert_int_equal(store_ledger_claim(f->w, "old:start", &old.id, TRIGGER_START, COND_SUCCESS, T0, 0, &lr), 0);
	set_status(f, &old.id, TS_SUCCESS, &(task_update){ .ended_at = T0 + 10, .last_updated = T0 + 10 });
	outbox_row sent = delivery("old:end", DELIVERY_END_SUCCESS, &old, 1, T0);
	outbox_row unsent = delivery("old:end:2", DELIVERY_END_SUCCESS, &old, 1, T0 + 99999);
	assert_int_equal(store_outbox_insert(f->w, &sent), 0);
	assert_int_equal(store_outbox_insert(f->w, &unsent), 0);
	lease(f, T0 + 11, T0 + 20, 10, NULL, 0, (int64_t[]){ sent.id }, 1);
	assert_int_equal(store_outbox_finish(f->w, sent.id, true, 200, NULL, T0 + 12, 0), 0);

	/* Oldest first, up to the limit; the young and the unfinished stay. */
	int64_t archived;
	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 1, &archived), 0);
	assert_int_equal(archived, 1);
	task_row g;
	assert_int_equal(store_task_get(f->w, &old.id, &g), 0);
	assert_true(g.archived);
	assert_int_equal(g.status, TS_SUCCESS);
	assert_string_equal(g.name, "old");
	assert_string_equal(g.batch_id.str, batch.str);
	assert_string_equal(g.metadata, "{\"m\":1}");
	assert_string_equal(g.group_name, "g");
	assert_string_equal(g.retry_policy, "{\"max_retries\":1}");
	assert_int_equal(g.ended_at, T0 + 10);
	task_row_release(&g);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task WHERE id = '%s'", old.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT archived_at > 0 FROM task_archive WHERE id = '%s'", old.id.str), 1);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM action WHERE task_id = '%s'", old.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM action WHERE task_id = '%s'", p.id.str), 1);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM link WHERE parent_id = '%s' OR child_id = '%s'",
	                          old.id.str, old.id.str), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM link"), 1);   /* p -> c */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM webhook_execution"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(sql_intf(f, "SELECT id FROM outbox"), unsent.id);
	action_row *acts;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &old.id, &acts, &n), 0);
	assert_int_equal(n, 0);
	/* Its audit trail stays readable. */
	task_event *ev = events_of(f, &old.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 1, -1, TS_RUNNING, "created", "api");
	check_event(&ev[1], T0 + 10, TS_RUNNING, TS_SUCCESS, NULL, "api");
	store_free_events(ev, n);
	/* Archived tasks are no longer live. */
	task_update u = { .set_status = true, .status = TS_FAILURE };
	assert_int_equal(update(f->w, &old.id, TS_ALL_MASK, &u, NULL), WEFT_ENOTFOUND);
	task_row *rows;
	assert_int_equal(store_task_list(f->w, NULL, 0, 100, &rows, &n), 0);
	assert_int_equal(n, 4);
	store_free_tasks(rows, n);

	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_get(r, &old.id, &g), 0);
	assert_true(g.archived);
	task_row_release(&g);
	assert_int_equal(store_task_events(r, &old.id, &ev, &n), 0);
	assert_int_equal(n, 2);
	store_free_events(ev, n);
	store_reader_release(f->st, r);

	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 10, &archived), 0);
	assert_int_equal(archived, 1);   /* old2 */
	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 10, &archived), 0);
	assert_int_equal(archived, 0);
	assert_int_equal(store_archive_terminal(f->w, T0 + 100000, 0, &archived), 0);
	assert_int_equal(archived, 0);
	/* Inside a transaction it is part of it. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_archive_terminal(f->w, T0 + 100000, 10, &archived), 0);
	assert_int_equal(archived, 1);   /* young */
	assert_int_equal(store_rollback(f->w), 0);
	g = get(f, &young.id);
	assert_false(g.archived);
	task_row_release(&g);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_archive"), 2);
	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_events(f->w, &unknown, &ev, &n), WEFT_ENOTFOUND);
}

/* ---- delayed start, retry timers, groups, gauges ------------------------ */

static void scan_expect(fixture *f, const pending_cursor *after, int64_t now, const task_row *const *want,
                        size_t nwant)
{
	task_row *out;
	size_t n;
	assert_int_equal(store_pending_scan(f->w, after, 100, now, &out, &n), 0);
	if (n != nwant)
		fail_msg("scan at %" PRId64 ": %zu rows, want %zu", (int64_t)(now - T0), n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, want[i]->id.str);
	store_free_tasks(out, n);
}

static void test_pending_scan_start_after(void **state)
{
	fixture *f = *state;
	task_row t1 = new_task("now", "k", TS_PENDING, T0 + 1);
	task_row t2 = new_task("late", "k", TS_PENDING, T0 + 2);
	task_row t3 = new_task("soon", "k", TS_PENDING, T0 + 3);
	t2.priority = 5;
	t2.start_after = T0 + 100;
	t3.start_after = T0 + 50;
	insert(f, &t1);
	insert(f, &t2);
	insert(f, &t3);
	scan_expect(f, NULL, T0 + 10, (const task_row *[]){ &t1 }, 1);
	scan_expect(f, NULL, T0 + 50, (const task_row *[]){ &t1, &t3 }, 2);
	scan_expect(f, NULL, T0 + 100, (const task_row *[]){ &t2, &t1, &t3 }, 3);
	pending_cursor cur = { .priority = 5, .created_at = t2.created_at, .id = t2.id };
	scan_expect(f, &cur, T0 + 10, (const task_row *[]){ &t1 }, 1);
	scan_expect(f, &cur, T0 + 60, (const task_row *[]){ &t1, &t3 }, 2);
	cur = (pending_cursor){ .priority = 0, .created_at = t1.created_at, .id = t1.id };
	scan_expect(f, &cur, T0 + 10, NULL, 0);
	scan_expect(f, &cur, T0 + 60, (const task_row *[]){ &t3 }, 1);

	/* The next delayed start strictly after now, among pending tasks only. */
	task_row run = new_task("run", "k", TS_RUNNING, T0);
	run.start_after = T0 + 20;
	insert(f, &run);
	int64_t due;
	assert_int_equal(due_found(store_pending_next_start(f->w, T0, &due), &due), 0);
	assert_int_equal(due, T0 + 50);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 50, &due), &due), 0);
	assert_int_equal(due, T0 + 100);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 100, &due), &due), WEFT_ENOTFOUND);
	set_status(f, &t2.id, TS_CLAIMED, NULL);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 50, &due), &due), WEFT_ENOTFOUND);
}

static void test_deadlines_retrying_and_delayed(void **state)
{
	fixture *f = *state;
	task_row r1 = new_task("r1", "k", TS_RETRYING, T0);
	task_row r2 = new_task("r2", "k", TS_RETRYING, T0);
	task_row p1 = new_task("p1", "k", TS_PENDING, T0);
	task_row p2 = new_task("p2", "k", TS_PENDING, T0);
	task_row p3 = new_task("p3", "k", TS_PENDING, T0);
	task_row run = new_task("run", "k", TS_RUNNING, T0);
	r1.next_retry_at = T0 + 300;
	r2.next_retry_at = T0 + 200;
	r2.attempt = 2;
	p2.start_after = T0 + 50;
	p3.start_after = T0 + 40;
	task_row *all[] = { &r1, &r2, &p1, &p2, &p3, &run };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	deadline_row *d;
	size_t n;
	assert_int_equal(store_deadlines(f->w, TS_RETRYING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, r2.id.str);
	assert_int_equal(d[0].next_retry_at, T0 + 200);
	assert_string_equal(d[1].id.str, r1.id.str);
	assert_int_equal(d[1].next_retry_at, T0 + 300);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_PENDING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, p3.id.str);
	assert_int_equal(d[0].start_after, T0 + 40);
	assert_string_equal(d[1].id.str, p2.id.str);
	assert_int_equal(d[1].start_after, T0 + 50);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_RUNNING, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].timeout_secs, 60);
	assert_int_equal(d[0].next_retry_at, 0);
	free(d);

	/* A retrying task is not finished: dead-end detection and the rules see it as active. */
	task_row child = new_task("child", "k", TS_SUCCESS, T0);
	insert(f, &child);
	add_link(f, &r1, &child, false);
	weft_id *ids;
	assert_int_equal(store_dead_end_parents(f->w, &child.id, 1, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &r1.id));
	free(ids);
	int64_t count;
	assert_int_equal(store_count_matching(f->w, "k", TS_BIT(TS_RETRYING), "null", 10, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_count_matching(f->w, "k", TS_ACTIVE_MASK, "null", 10, &count), 0);
	assert_int_equal(count, 6);
}

static void test_group_tasks(void **state)
{
	fixture *f = *state;
	struct { const char *group; task_status s; int64_t at; } spec[] = {
		{ "g1", TS_PENDING, 2 }, { "g1", TS_RUNNING, 1 }, { "g1", TS_SUCCESS, 3 },
		{ "g1", TS_PAUSED, 4 },  { "g2", TS_PENDING, 0 }, { NULL, TS_PENDING, 0 },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task("t", "k", spec[i].s, T0 + spec[i].at);
		rows[i].group_name = (char *)spec[i].group;
		insert(f, &rows[i]);
	}
	weft_id *ids;
	size_t n;
	assert_int_equal(store_group_tasks(f->w, "g1", TS_ACTIVE_MASK, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0].str, rows[1].id.str);
	assert_string_equal(ids[1].str, rows[0].id.str);
	assert_string_equal(ids[2].str, rows[3].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "g1", TS_BIT(TS_PENDING) | TS_BIT(TS_PAUSED), &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0].str, rows[0].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "g1", TS_TERMINAL_MASK, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0].str, rows[2].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "G1", TS_ALL_MASK, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_group_tasks(f->w, "g1", 0, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

static void test_status_counts_and_running_by_kind(void **state)
{
	fixture *f = *state;
	int64_t counts[TS__COUNT];
	kind_count *kc;
	size_t n;
	assert_int_equal(store_status_counts(f->w, counts), 0);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(counts[s], 0);
	assert_int_equal(store_running_by_kind(f->w, &kc, &n), 0);
	assert_int_equal(n, 0);

	struct { const char *kind; task_status s; } spec[] = {
		{ "b", TS_RUNNING }, { "b", TS_RUNNING }, { "a", TS_RUNNING }, { "a", TS_PENDING },
		{ "a", TS_RETRYING }, { "c", TS_SUCCESS }, { "c", TS_CLAIMED },
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task("t", spec[i].kind, spec[i].s, T0);
		insert(f, &t);
	}
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_status_counts(r, counts), 0);
	assert_int_equal(counts[TS_RUNNING], 3);
	assert_int_equal(counts[TS_PENDING], 1);
	assert_int_equal(counts[TS_RETRYING], 1);
	assert_int_equal(counts[TS_SUCCESS], 1);
	assert_int_equal(counts[TS_CLAIMED], 1);
	assert_int_equal(counts[TS_WAITING], 0);
	assert_int_equal(store_running_by_kind(r, &kc, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kc[0].kind, "a");
	assert_int_equal(kc[0].count, 1);
	assert_string_equal(kc[1].kind, "b");
	assert_int_equal(kc[1].count, 2);
	store_free_kind_counts(kc, n);
	store_reader_release(f->st, r);
}

/* ---- query metrics ------------------------------------------------------ */

static void test_query_metrics(void **state)
{
	fixture *f = *state;
	const char *ins = "query=\"task_insert\"", *get_l = "query=\"task_get\"", *commit = "query=\"commit\"";
	int64_t ins0 = metrics_get("db_query_duration_seconds", ins);
	int64_t get0 = metrics_get("db_query_duration_seconds", get_l);
	int64_t slow0 = metrics_get("slow_queries_total", commit);
	task_row t = new_task("t", "k", TS_PENDING, T0);
	insert(f, &t);
	task_row g = get(f, &t.id);
	task_row_release(&g);
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_get(r, &t.id, &g), 0);
	task_row_release(&g);
	store_reader_release(f->st, r);
	assert_int_equal(metrics_get("db_query_duration_seconds", ins), ins0 + 1);
	assert_int_equal(metrics_get("db_query_duration_seconds", get_l), get0 + 2);
	/* A failing statement is timed as well. */
	assert_true(store_task_insert(f->w, &t) < 0);
	assert_int_equal(metrics_get("db_query_duration_seconds", ins), ins0 + 2);
	buf out;
	buf_init(&out);
	metrics_render(&out);
	assert_non_null(strstr(out.data, "db_query_duration_seconds_bucket{query=\"task_insert\",le=\"0.001\"}"));
	assert_non_null(strstr(out.data, "# TYPE slow_queries_total counter"));
	buf_release(&out);

	/* With a 1 µs threshold a synchronous commit is slow. */
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/slow.db", f->dir);
	store_options opt = { .sync_full = true, .readers = 1, .slow_query_us = 1 };
	store *s = store_open(path, &opt, err, sizeof err);
	assert_non_null(s);
	store_conn *w = store_writer(s);
	assert_int_equal(store_begin(w), 0);
	task_row t2 = new_task("t", "k", TS_PENDING, T0);
	assert_int_equal(store_task_insert(w, &t2), 0);
	assert_int_equal(store_commit(w), 0);
	store_close(s);
	remove_db(path);
	assert_true(metrics_get("slow_queries_total", commit) >= slow0 + 1);
}

/* ---- performance (measured, not asserted) ------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_bench_insert(void **state)
{
	fixture *f = *state;
	const char *env = getenv("WEFT_STORE_BENCH");
	if (env == NULL || strcmp(env, "1") != 0)
		skip();
	enum { N = 100000 };
	weft_id batch;
	id_new_v4(&batch);
	task_row root = new_task("root", "fan", TS_RUNNING, T0);
	root.batch_id = batch;

	double t0 = now_s();
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &root);
	for (int i = 0; i < N; i++) {
		task_row t = new_task("child", "fan", TS_WAITING, T0 + 1 + i);
		t.batch_id = batch;
		t.metadata = (char *)"{\"i\":1}";
		t.wait_finished = 1;
		t.wait_success = 1;
		insert(f, &t);
		add_link(f, &root, &t, true);
	}
	assert_int_equal(store_commit(f->w), 0);
	double t1 = now_s();

	weft_id *ids;
	size_t n;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_release_children(f->w, &root.id, true, &ids, &n), 0);
	assert_int_equal(store_commit(f->w), 0);
	double t2 = now_s();
	assert_int_equal(n, N);
	free(ids);

	task_row *rows;
	pending_cursor cur;
	size_t seen = 0;
	bool first = true;
	do {
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 1000, T0, &rows, &n), 0);
		first = false;
		if (n > 0) {
			cur.priority = rows[n - 1].priority;
			cur.created_at = rows[n - 1].created_at;
			cur.id = rows[n - 1].id;
		}
		seen += n;
		store_free_tasks(rows, n);
	} while (n > 0);
	double t3 = now_s();
	assert_int_equal(seen, N);
	print_message("insert %d tasks + %d links in one transaction: %.3f s\n", N + 1, N, t1 - t0);
	print_message("release %d children of one parent: %.3f s\n", N, t2 - t1);
	print_message("pending scan of %d tasks in pages of 1000: %.3f s\n", N, t3 - t2);
}

int main(void)
{
	/* Some cases provoke failed statements on purpose; their error lines
	 * in the output are expected. */
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_get_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guarded_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_propagate_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_propagate_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_end_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity_sum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions_and_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_stats_cancel_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_0001, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_events_and_remaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_cancel_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_action_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_scan_start_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlines_retrying_and_delayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_counts_and_running_by_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench_insert, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
