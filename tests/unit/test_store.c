/*
 * test_store.c — the store against a temporary SQLite file: migrations,
 * round trips, guarded updates, DAG propagation, the start scan, rules
 * queries, listings, batch operations and the webhook ledger.
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
#include "util/log.h"
#include "util/uuid.h"

#define T0 1700000000000000LL   /* a base timestamp, µs */

typedef struct fixture {
	char dir[64];
	char path[128];
	store *st;
	store_conn *w;
} fixture;

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

/* ---- opening --------------------------------------------------------- */

static void test_open_and_migrations(void **state)
{
	fixture *f = *state;
	assert_string_equal(store_backend_name(f->st), "sqlite");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 1);
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
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);

	char err[256];
	assert_null(store_open("postgres://u@localhost/weft", NULL, err, sizeof err));
	assert_string_equal(err, "PostgreSQL support is not built yet");
	assert_null(store_open("postgresql://localhost/weft", NULL, err, sizeof err));

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
	task_row_release(&g);
	/* 0 is stored as NULL, not as 0. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE name = 'bare' AND started_at IS NULL "
	                            "AND ended_at IS NULL AND last_updated IS NULL AND batch_id IS NULL "
	                            "AND expected_count IS NULL AND failure_reason IS NULL"), 1);

	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_get(f->w, &unknown, &g), STORE_NOT_FOUND);

	/* Actions keep insertion order; the filtered read picks trigger and condition. */
	action_row acts[] = {
		{ TRIGGER_START, COND_SUCCESS, (char *)"{\"url\":\"s\"}" },
		{ TRIGGER_END, COND_FAILURE, (char *)"{\"url\":\"f1\"}" },
		{ TRIGGER_END, COND_SUCCESS, (char *)"{\"url\":\"ok\"}" },
		{ TRIGGER_END, COND_FAILURE, (char *)"{\"url\":\"f2\"}" },
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
	assert_int_equal(store_task_update(f->w, &t.id, from, &u, &prev), 0);
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
	assert_int_equal(store_task_update(f->w, &t.id, from, &u, &prev), STORE_GUARD);
	assert_int_equal(prev, TS_SUCCESS);
	assert_int_equal(store_task_update(f->w, &t.id, from, &u, NULL), STORE_GUARD);

	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_update(f->w, &unknown, TS_ALL_MASK, &u, &prev), STORE_NOT_FOUND);

	/* Counters and other fields without a status change (any status). */
	task_update c = { .add_success = 2, .failure_reason = "late", .set_expected_count = true,
	                  .expected_count = 20, .set_priority = true, .priority = 7,
	                  .rules = "[1]", .started_at = T0 + 1 };
	assert_int_equal(store_task_update(f->w, &t.id, TS_ALL_MASK, &c, &prev), 0);
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
	assert_int_equal(store_task_update(f->w, &t.id, TS_BIT(TS_SUCCESS), &none, &prev), 0);
	assert_int_equal(store_task_update(f->w, &t.id, TS_BIT(TS_PENDING), &none, &prev), STORE_GUARD);
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
	assert_int_equal(store_task_update(f->w, &z.id, TS_ACTIVE_MASK, &u, NULL), 0);
	assert_int_equal(store_dead_end_parents(f->w, check, 2, &ids, &n), 0);
	assert_int_equal(n, 1);   /* X once; W is terminal already */
	assert_true(id_eq(&ids[0], &x.id));
	free(ids);

	assert_int_equal(store_dead_end_parents(f->w, check, 0, &ids, &n), 0);
	assert_int_equal(n, 0);
	u.status = TS_CANCELED;
	assert_int_equal(store_task_update(f->w, &x.id, TS_ACTIVE_MASK, &u, NULL), 0);
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
	assert_int_equal(store_pending_scan(f->w, NULL, 100, &out, &n), 0);
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[want[i]].id.str);
	store_free_tasks(out, n);

	/* Pages of two, each after the last row of the previous one. */
	pending_cursor cur;
	size_t seen = 0;
	bool first = true;
	for (;;) {
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 2, &out, &n), 0);
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
	assert_int_equal(store_pending_scan(f->w, NULL, 0, &out, &n), 0);
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
	assert_int_equal(store_ledger_finish(f->w, key, false, T0 + 210), 0);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 220, 0, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	/* Succeeded: done forever, even when stale. */
	assert_int_equal(store_ledger_finish(f->w, key, true, T0 + 230), 0);
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
	assert_int_equal(store_task_get(f->w, &a.id, &got), STORE_NOT_FOUND);
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
	assert_int_equal(store_task_get(r1, &a.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_task_get(r1, &a.id, &got), 0);
	task_row_release(&got);
	assert_int_equal(store_task_get(r2, &b.id, &got), STORE_NOT_FOUND);
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
		{ { .has_status = true, .status = TS_PENDING }, 2, 4 },
		{ { .has_timeout = true, .timeout = 30 }, 1, 1 },
		{ { .batch_id = &b1 }, 3, 3 },
		{ { .metadata = "{\"env\":\"prod\"}" }, 2, 3 },
		{ { .metadata = "{}" }, 4, 4 },
		{ { .kind = "ci", .metadata = "{\"env\":\"prod\"}", .batch_id = &b1 }, 1, 0 },
		{ { .kind = "ci", .has_status = true, .status = TS_CANCELED }, 0, 0 },
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
	flt = (batch_filter){ .kind = "a", .has_status = true, .status = TS_FAILURE };
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
	assert_int_equal(bs.total_success, 0 + 1 + 2 + 3 + 4 + 5 + 6 + 7);
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
	assert_int_equal(store_batch_stats(f->w, &none, &bs), STORE_NOT_FOUND);
	assert_int_equal(store_batch_task_count(f->w, &none, &count), 0);
	assert_int_equal(count, 0);

	/* Rules: non-terminal tasks of that exact kind. */
	int64_t updated;
	assert_int_equal(store_batch_set_rules(f->w, &batch, "odd", "[{\"type\":\"Capacity\"}]", T0 + 500, &updated), 0);
	assert_int_equal(updated, 2);   /* the pending and the running one */

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
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 1000, &rows, &n), 0);
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
		cmocka_unit_test_setup_teardown(test_bench_insert, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
