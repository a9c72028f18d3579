/*
 * test_store.c — the store's lifecycle and single tasks: opening and
 * migrations (also from a SQLite database left at 0001), round trips,
 * guarded updates with their audit events and batch counters,
 * transactions, savepoints and readers, and query metrics. Each case runs
 * on SQLite and on PostgreSQL unless its list says otherwise
 * (store_test.h).
 *
 * WEFT_STORE_BENCH=1 also times inserting 100,000 tasks and links in one
 * transaction, releasing them and scanning them (printed, never asserted).
 */
#include "util/common.h"

#include <time.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/metrics.h"

#include "store_test.h"

static void test_open_and_migrations(void **state)
{
	fixture *f = *state;
	int64_t migrations = 19;  /* PostgreSQL and SQLite alike */
	assert_string_equal(store_backend_name(f->st), f->pg ? "postgres" : "sqlite");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), migrations);
	assert_int_equal(store_ping(f->w), 0);
	task_row t = new_task("a", "k", TS_PENDING, T0);
	insert(f, &t);
	store_close(f->st);

	/* Reopening (a SQLite file in every URL form) applies nothing twice
	 * and keeps the data. */
	const char *sqlite_forms[] = { "sqlite:%s", "sqlite://%s", "file:%s", "%s" }, *pg_forms[] = { "%s" };
	const char **forms = f->pg ? pg_forms : sqlite_forms;
	size_t nforms = f->pg ? ARRAY_LEN(pg_forms) : ARRAY_LEN(sqlite_forms);
	for (size_t i = 0; i < nforms; i++) {
		char url[600];
		snprintf(url, sizeof url, forms[i], fixture_db(f));
		f->st = open_store(url, NULL);
		f->w = store_writer(f->st);
		task_row got = get(f, &t.id);
		assert_string_equal(got.name, "a");
		task_row_release(&got);
		if (i + 1 < nforms)
			store_close(f->st);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), migrations);
	if (!f->pg)
		assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}

/* No server is needed to fail: these run once, with the SQLite cases. */
static void test_open_errors(void **state)
{
	fixture *f = *state;
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
	full.executor = (char *)"queue";
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
	assert_string_equal(g.executor, "queue");
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
	assert_string_equal(g.executor, "webhook");   /* none given: the default */
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

/* The actions of (task, trigger, condition) queries: their params, in
 * order, joined by spaces. */
static char *actions_text(fixture *f, const action_query *q, size_t nq)
{
	action_row *out;
	size_t n;
	assert_int_equal(store_task_actions_many(f->w, q, nq, &out, &n), 0);
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", out[i].params);
	store_free_actions(out, n);
	char *s = xstrdup(b.len ? b.data : "");
	buf_release(&b);
	return s;
}

/* Reads asked for ahead (store_task_actions_prefetch) answer the same
 * queries exactly as a read would, and never another query, within a
 * transaction, after other statements, and after a savepoint's rollback. */
static void test_actions_asked_ahead(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_RUNNING, T0), b = new_task("b", "k", TS_RUNNING, T0 + 1);
	insert(f, &a);
	insert(f, &b);
	action_row acts[] = {
		{ .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"a1" },
		{ .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"a2" },
		{ .trigger = TRIGGER_END, .condition = COND_FAILURE, .params = (char *)"af" },
		{ .trigger = TRIGGER_START, .condition = COND_SUCCESS, .params = (char *)"as" },
	};
	for (size_t i = 0; i < ARRAY_LEN(acts); i++)
		assert_int_equal(store_action_insert(f->w, &a.id, &acts[i]), 0);
	action_row bs = { .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"b1" };
	assert_int_equal(store_action_insert(f->w, &b.id, &bs), 0);
	action_query ab[] = { { a.id, TRIGGER_END, COND_SUCCESS }, { b.id, TRIGGER_END, COND_SUCCESS } };
	action_query ba[] = { { b.id, TRIGGER_END, COND_SUCCESS }, { a.id, TRIGGER_END, COND_SUCCESS } };
	action_query af[] = { { a.id, TRIGGER_END, COND_FAILURE } };

	assert_int_equal(store_begin(f->w), 0);
	/* The same queries, after a write sent without waiting. */
	store_task_actions_prefetch(f->w, ab, 2);
	task_row c = new_task("c", "k", TS_PENDING, T0 + 2);
	insert(f, &c);
	char *got = actions_text(f, ab, 2);
	assert_string_equal(got, "a1 a2 b1");
	free(got);
	/* Other queries (another order, another condition): their own rows. */
	store_task_actions_prefetch(f->w, ab, 2);
	got = actions_text(f, ba, 2);
	assert_string_equal(got, "b1 a1 a2");
	free(got);
	got = actions_text(f, ab, 2);   /* no longer ahead: read */
	assert_string_equal(got, "a1 a2 b1");
	free(got);
	store_task_actions_prefetch(f->w, ab, 1);
	got = actions_text(f, af, 1);
	assert_string_equal(got, "af");
	free(got);
	/* Asked ahead in a step that rolls back: the read still answers. */
	assert_int_equal(store_savepoint(f->w), 0);
	store_task_actions_prefetch(f->w, af, 1);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	got = actions_text(f, af, 1);
	assert_string_equal(got, "af");
	free(got);
	/* Asked ahead and never read: nothing else is changed. */
	store_task_actions_prefetch(f->w, ba, 2);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE name = 'c'"), 1);
	got = actions_text(f, ba, 2);
	assert_string_equal(got, "b1 a1 a2");
	free(got);
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

/* Each field alone: the update assigns that column and leaves the others
 * as they were (the statement assigns only the fields a round gives). */
static void test_update_each_field_alone(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	insert(f, &t);
	task_update one[] = {
		{ .set_status = true, .status = TS_PAUSED },
		{ .add_success = 2 },
		{ .add_failures = 3 },
		{ .metadata = "{\"m\":1}" },
		{ .failure_reason = "why" },
		{ .rules = "[\"r\"]" },
		{ .set_expected_count = true, .expected_count = 7 },
		{ .set_priority = true, .priority = 5 },
		{ .started_at = T0 + 1 },
		{ .ended_at = T0 + 2 },
		{ .last_updated = T0 + 3 },
		{ .set_attempt = true, .attempt = 4 },
		{ .next_retry_at = T0 + 5 },
	};
	for (size_t i = 0; i < ARRAY_LEN(one); i++) {
		task_update_result res;
		assert_int_equal(store_task_update(f->w, &t.id, TS_ALL_MASK, &one[i], &res), 0);
		assert_true(res.applied);
		task_row g = get(f, &t.id);
		assert_int_equal(g.status, TS_PAUSED);
		assert_int_equal(g.success, i >= 1 ? 2 : 0);
		assert_int_equal(g.failures, i >= 2 ? 3 : 0);
		assert_string_equal(g.metadata, i >= 3 ? "{\"m\":1}" : t.metadata);
		if (i >= 4)
			assert_string_equal(g.failure_reason, "why");
		else
			assert_null(g.failure_reason);
		assert_string_equal(g.rules, i >= 5 ? "[\"r\"]" : "[]");
		assert_int_equal(g.has_expected_count, i >= 6);
		assert_int_equal(g.expected_count, i >= 6 ? 7 : 0);
		assert_int_equal(g.priority, i >= 7 ? 5 : t.priority);
		assert_int_equal(g.started_at, i >= 8 ? T0 + 1 : t.started_at);
		assert_int_equal(g.ended_at, i >= 9 ? T0 + 2 : t.ended_at);
		if (i == 10)
			assert_int_equal(g.last_updated, T0 + 3);
		assert_int_equal(g.attempt, i >= 11 ? 4 : t.attempt);
		assert_int_equal(g.next_retry_at, i >= 12 ? T0 + 5 : t.next_retry_at);
		task_row_release(&g);
	}
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
	/* A duplicate id: refused at once, or (sent without waiting) by the
	 * release at the latest. */
	int rc = store_task_insert(f->w, &a);
	if (rc == 0)
		rc = store_savepoint_release(f->w);
	assert_true(rc < 0);
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
	/* JSON containment works on readers too. */
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

/* A savepoint set before the transaction wrote anything (SQLite keeps no
 * SAVEPOINT for it) undoes only its own writes; the transaction goes on,
 * with savepoints after it, and commits what is left. */
static void test_savepoint_first_in_transaction(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_PENDING, T0);
	task_row b = new_task("b", "k", TS_PENDING, T0);
	task_row c = new_task("c", "k", TS_PENDING, T0);
	task_row d = new_task("d", "k", TS_PENDING, T0);
	task_row got;

	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &a);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	assert_int_equal(store_task_get(f->w, &a.id, &got), WEFT_ENOTFOUND);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &b);
	assert_int_equal(store_savepoint_release(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &c);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &d);
	assert_int_equal(store_savepoint_release(f->w), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE name IN ('b', 'd')"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE name IN ('a', 'c')"), 0);

	/* Rolled back first, then a whole transaction rolled back. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	insert(f, &a);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	insert(f, &c);
	assert_int_equal(store_rollback(f->w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task"), 2);
}

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
	char path[128];
	const char *db = f->url;
	if (!f->pg) {
		snprintf(path, sizeof path, "%s/slow.db", f->dir);
		db = path;
	}
	store_options opt = { .sync_full = true, .readers = 1, .slow_query_us = 1 };
	store *s = open_store(db, &opt);
	store_conn *w = store_writer(s);
	assert_int_equal(store_begin(w), 0);
	task_row t2 = new_task("t", "k", TS_PENDING, T0);
	assert_int_equal(store_task_insert(w, &t2), 0);
	assert_int_equal(store_commit(w), 0);
	store_close(s);
	if (!f->pg)
		remove_db(path);
	assert_true(metrics_get("slow_queries_total", commit) >= slow0 + 1);
}

static void exec_sqlite(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

extern const char embed_store_schema_sqlite_0001_init_sql[];

static void test_migration_from_0001(void **state)
{
	fixture *f = *state;
	/* A database as the previous version left it: only 0001 applied. */
	store_close(f->st);
	remove_db(f->path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_sqlite(db, embed_store_schema_sqlite_0001_init_sql);
	exec_sqlite(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER);"
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

	f->st = open_store(f->path, NULL);
	f->w = store_writer(f->st);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_migrations"), 19);
	/* The counts by status start from the rows there were. */
	int64_t counts[TS__COUNT];
	assert_int_equal(store_status_counts(f->w, counts), 0);
	assert_int_equal(counts[TS_RUNNING], 1);
	assert_int_equal(counts[TS_SUCCESS], 2);
	assert_int_equal(counts[TS_CANCELED], 1);
	assert_int_equal(counts[TS_WAITING], 1);
	assert_int_equal(counts[TS_PENDING], 0);
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
	pending_cursor cur = { 0 };
	size_t seen = 0;
	bool first = true;
	do {
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 1000, T0, &rows, &n, NULL), 0);
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

/* Idempotency-Key records: a new key is taken; a known one comes back with
 * its fingerprint and outcome; a rolled-back transaction forgets its key;
 * old keys expire. */
static void test_idempotency_keys(void **state)
{
	fixture *f = *state;
	bool fresh;
	char *fp = NULL, *outcome = NULL;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_idempotency_begin(f->w, "k1", "fp-a", T0, &fresh, &fp, &outcome), 0);
	assert_true(fresh);
	assert_null(fp);
	assert_int_equal(store_idempotency_finish(f->w, "k1", "{\"result\":\"ok\"}"), 0);
	/* In the same transaction, as a second command of one cycle sees it. */
	assert_int_equal(store_idempotency_begin(f->w, "k1", "fp-b", T0 + 1, &fresh, &fp, &outcome), 0);
	assert_false(fresh);
	assert_string_equal(fp, "fp-a");
	assert_string_equal(outcome, "{\"result\":\"ok\"}");
	free(fp);
	free(outcome);
	assert_int_equal(store_commit(f->w), 0);

	/* A rolled-back transaction leaves its key free. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_idempotency_begin(f->w, "k2", "fp", T0 + 2, &fresh, &fp, &outcome), 0);
	assert_true(fresh);
	assert_int_equal(store_rollback(f->w), 0);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_idempotency_begin(f->w, "k2", "fp", T0 + 3, &fresh, &fp, &outcome), 0);
	assert_true(fresh);
	assert_int_equal(store_commit(f->w), 0);

	/* Expiry: keys taken before the cutoff go, a page at a time. */
	int64_t removed = -1;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_idempotency_expire(f->w, T0 + 1, 10, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_idempotency_expire(f->w, T0 + 100, 10, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_idempotency_begin(f->w, "k1", "fp-c", T0 + 4, &fresh, &fp, &outcome), 0);
	assert_true(fresh);
	assert_int_equal(store_commit(f->w), 0);
}

/* Whether a statement that returns no rows is refused. */
static bool sql_refused(fixture *f, const char *sql)
{
	if (f->pg) {
		PGresult *r = PQexec(f->pq, sql);
		bool refused = PQresultStatus(r) != PGRES_COMMAND_OK;
		PQclear(r);
		return refused;
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	bool refused = sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
	sqlite3_close(db);
	return refused;
}

/* Schemas 0010 and 0013: a schedule's name is unique in its namespace, its policies
 * are closed sets, and the due rows are the unpaused ones whose next fire
 * time has come. */
static void test_schedule_table(void **state)
{
	fixture *f = *state;
	sql_exec(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, catchup, "
	            "  catchup_max, overlap, paused, next_fire_at, created_at, updated_at) VALUES "
	            "  ('ns', 'a', '0 * * * *', 'UTC', 'job', '{\"kind\":\"job\"}', 'none', 1, 'skip', 0, 100, 1, 1),"
	            "  ('ns', 'b', '0 * * * *', 'UTC', 'job', '{\"kind\":\"job\"}', 'all', 5, 'queue', 1, 100, 1, 1),"
	            "  ('ns', 'c', '0 * * * *', 'UTC', 'job', '{\"kind\":\"job\"}', 'one', 1, 'skip', 0, 300, 1, 1),"
	            "  ('other', 'a', '0 * * * *', 'UTC', 'job', '{\"kind\":\"job\"}', 'one', 1, 'skip', 0, NULL, 1, 1)");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schedule WHERE paused = 0 AND next_fire_at <= 200"), 1);
	assert_true(sql_refused(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, "
	                           "  catchup, overlap, created_at, updated_at) VALUES "
	                           "  ('ns', 'a', '* * * * *', 'UTC', 'job', '{}', 'none', 'skip', 1, 1)"));
	assert_true(sql_refused(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, "
	                           "  catchup, overlap, created_at, updated_at) VALUES "
	                           "  ('ns', 'd', '* * * * *', 'UTC', 'job', '{}', 'some', 'skip', 1, 1)"));
	assert_true(sql_refused(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, "
	                           "  catchup, catchup_max, overlap, created_at, updated_at) VALUES "
	                           "  ('ns', 'd', '* * * * *', 'UTC', 'job', '{}', 'all', 0, 'skip', 1, 1)"));
	assert_true(sql_refused(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, "
	                           "  catchup, overlap, created_at, updated_at) VALUES "
	                           "  ('ns', 'd', '* * * * *', 'UTC', 'job', '{}', 'none', 'wait', 1, 1)"));
	/* Schema 0013: a template target is a kind; what is not one is refused. */
	sql_exec(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, catchup, overlap, "
	            "  created_at, updated_at) VALUES "
	            "  ('ns', 't', '* * * * *', 'UTC', 'template', '{}', 'none', 'skip', 1, 1)");
	assert_int_equal(sql_int(f, "SELECT skipped_fires FROM schedule WHERE name = 't'"), 0);
	assert_true(sql_refused(f, "INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, "
	                           "  catchup, overlap, created_at, updated_at) VALUES "
	                           "  ('ns', 'e', '* * * * *', 'UTC', 'webhook', '{}', 'none', 'skip', 1, 1)"));
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_open_and_migrations),
		STORE_TEST_SQLITE(test_insert_get_round_trip),
		STORE_TEST_SQLITE(test_actions_asked_ahead),
		STORE_TEST_SQLITE(test_guarded_update),
		STORE_TEST_SQLITE(test_update_each_field_alone),
		STORE_TEST_SQLITE(test_update_events_and_remaining),
		STORE_TEST_SQLITE(test_transactions_and_readers),
		STORE_TEST_SQLITE(test_savepoint_first_in_transaction),
		STORE_TEST_SQLITE(test_idempotency_keys),
		STORE_TEST_SQLITE(test_query_metrics),
		STORE_TEST_SQLITE(test_bench_insert),
		STORE_TEST_SQLITE(test_schedule_table),
		/* SQLite only: file paths, a SQLite schema of before, no backend at all. */
		STORE_TEST_SQLITE(test_open_errors),
		STORE_TEST_SQLITE(test_migration_from_0001),
		STORE_TEST_SQLITE(test_model_names),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_open_and_migrations),
		STORE_TEST_PG(test_insert_get_round_trip),
		STORE_TEST_PG(test_actions_asked_ahead),
		STORE_TEST_PG(test_guarded_update),
		STORE_TEST_PG(test_update_each_field_alone),
		STORE_TEST_PG(test_update_events_and_remaining),
		STORE_TEST_PG(test_transactions_and_readers),
		STORE_TEST_PG(test_savepoint_first_in_transaction),
		STORE_TEST_PG(test_idempotency_keys),
		STORE_TEST_PG(test_query_metrics),
		STORE_TEST_PG(test_bench_insert),
		STORE_TEST_PG(test_schedule_table),
	};
	return run_store_tests("store", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
