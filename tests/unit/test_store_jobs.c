/*
 * test_store_jobs.c — the store's job operations on SQLite and
 * PostgreSQL: schema 0007 applied to a 0006 database with tasks in every
 * status (the start scan, rules counts and timers see them as before);
 * claims shared by several claims in rank order; the fenced change of a
 * stale token changing nothing; heartbeats; the job read.
 */
#include "util/common.h"

#include "store_test.h"

#include "core/limits.h"
#include "store/jobs.h"

#define SEC 1000000LL

/* ---- migration from 0006 ----------------------------------------------------------------- */

extern const char embed_store_schema_sqlite_0001_init_sql[];
extern const char embed_store_schema_sqlite_0002_delivery_sql[];
extern const char embed_store_schema_sqlite_0003_attempt_sql[];
extern const char embed_store_schema_sqlite_0004_idempotency_sql[];
extern const char embed_store_schema_sqlite_0005_batch_listing_sql[];
extern const char embed_store_schema_sqlite_0006_task_counts_sql[];
extern const char embed_store_schema_postgres_0001_init_sql[];
extern const char embed_store_schema_postgres_0002_attempt_sql[];
extern const char embed_store_schema_postgres_0003_idempotency_sql[];
extern const char embed_store_schema_postgres_0004_batch_listing_sql[];
extern const char embed_store_schema_postgres_0005_task_counts_sql[];
extern const char embed_store_schema_postgres_0006_outbox_leased_by_sql[];

/* Tasks in every status, as a 0006 database holds them (the counts by
 * status are rebuilt from them by 0006 itself, applied after). */
static const char rows_0006[] =
	"INSERT INTO batch (id, created_at) VALUES ('b1', 1);"
	"INSERT INTO task (id, batch_id, name, kind, status, timeout_secs, created_at, last_updated, metadata, rules, "
	"  attempt, start_after, next_retry_at) VALUES "
	"  ('t-wait', 'b1', 'w', 'k', 'waiting', 60, 10, 10, '{}', '[]', 1, NULL, NULL),"
	"  ('t-pend', 'b1', 'p', 'k', 'pending', 60, 11, 11, '{}', '[]', 1, NULL, NULL),"
	"  ('t-later', 'b1', 'l', 'k', 'pending', 60, 12, 12, '{}', '[]', 1, 5000000, NULL),"
	"  ('t-claim', 'b1', 'c', 'k', 'claimed', 60, 13, 13, '{}', '[]', 1, NULL, NULL),"
	"  ('t-run', 'b1', 'r', 'k', 'running', 60, 14, 14, '{}', '[]', 1, NULL, NULL),"
	"  ('t-pause', 'b1', 'z', 'k', 'paused', 60, 15, 15, '{}', '[]', 1, NULL, NULL),"
	"  ('t-retry', 'b1', 'y', 'k', 'retrying', 60, 16, 16, '{}', '[]', 2, NULL, 900),"
	"  ('t-ok', 'b1', 'o', 'k', 'success', 60, 17, 17, '{}', '[]', 1, NULL, NULL),"
	"  ('t-bad', 'b1', 'f', 'k', 'failure', 60, 18, 18, '{}', '[]', 1, NULL, NULL),"
	"  ('t-gone', 'b1', 'g', 'k', 'canceled', 60, 19, 19, '{}', '[]', 1, NULL, NULL);";

static void build_0006(fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	if (f->pg) {
		sql_exec(f, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
		const char *scripts[] = {
			embed_store_schema_postgres_0001_init_sql, embed_store_schema_postgres_0002_attempt_sql,
			embed_store_schema_postgres_0003_idempotency_sql, embed_store_schema_postgres_0004_batch_listing_sql,
			rows_0006, embed_store_schema_postgres_0005_task_counts_sql,
			embed_store_schema_postgres_0006_outbox_leased_by_sql,
		};
		for (size_t i = 0; i < ARRAY_LEN(scripts); i++)
			sql_exec(f, scripts[i]);
	} else {
		remove_db(f->path);
		const char *scripts[] = {
			embed_store_schema_sqlite_0001_init_sql, embed_store_schema_sqlite_0002_delivery_sql,
			embed_store_schema_sqlite_0003_attempt_sql, embed_store_schema_sqlite_0004_idempotency_sql,
			embed_store_schema_sqlite_0005_batch_listing_sql, rows_0006,
			embed_store_schema_sqlite_0006_task_counts_sql,
		};
		for (size_t i = 0; i < ARRAY_LEN(scripts); i++)
			sql_exec(f, scripts[i]);
	}
	sql_exec(f, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT);"
	            "INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0);");
	f->st = open_store(fixture_db(f), NULL);
	f->w = store_writer(f->st);
}

static void test_migration_from_0006(void **state)
{
	fixture *f = *state;
	build_0006(f);
	/* Every later migration applied too. */
	assert_int_equal(sql_int(f, "SELECT max(version) FROM schema_migrations"), 20);
	/* Older rows are plain tasks of the default namespace, with every end
	 * path (shape 7) and no lease. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE namespace = 'default' AND shape = 7 "
	                            "AND lease_token = 0 AND lease_until IS NULL AND dead_at IS NULL "
	                            "AND retry_base = 0 AND executor = 'webhook'"), 10);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM batch WHERE namespace = 'default'"), 1);
	/* The start scan finds the pending task, and the delayed one's time. */
	task_row *rows;
	size_t n;
	int64_t next = 0;
	assert_int_equal(store_pending_scan(f->w, NULL, 10, 1000000, &rows, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].id.str, "t-pend");
	assert_string_equal(rows[0].namespace, "default");
	assert_int_equal(rows[0].shape, TASK_SHAPE_ALL);
	assert_int_equal(next, 5000000);
	store_free_tasks(rows, n);
	/* Rules count what they counted. */
	int64_t count = 0;
	assert_int_equal(store_count_matching(f->w, "k", TS_ACTIVE_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 7);
	/* Timers at start-up. */
	deadline_row *d;
	assert_int_equal(store_deadlines(f->w, TS_RUNNING, &d, &n), 0);
	assert_int_equal(n, 1);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_PENDING, &d, &n), 0);
	assert_int_equal(n, 1);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_RETRYING, &d, &n), 0);
	assert_int_equal(n, 1);
	free(d);
	int64_t counts[TS__COUNT];
	assert_int_equal(store_status_counts(f->w, counts), 0);
	assert_int_equal(counts[TS_PENDING], 2);
	assert_int_equal(counts[TS_RUNNING], 1);
	assert_int_equal(counts[TS_SUCCESS], 1);
	assert_int_equal(counts[TS_WAITING], 1);
	/* A job inserted now stays out of all of them. */
	job_new j = { .namespace = "default", .queue = "k", .timeout_secs = 60, .created_at = 20, .start_after = 20 };
	id_new_v7(&j.id);
	assert_int_equal(store_jobs_insert(f->w, &j, 1), 0);
	assert_int_equal(store_pending_scan(f->w, NULL, 10, 1000000, &rows, &n, &next), 0);
	assert_int_equal(n, 1);
	store_free_tasks(rows, n);
	assert_int_equal(store_count_matching(f->w, "k", TS_ACTIVE_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 7);
	assert_int_equal(store_deadlines(f->w, TS_PENDING, &d, &n), 0);
	assert_int_equal(n, 1);
	free(d);
	assert_int_equal(store_status_counts(f->w, counts), 0);
	assert_int_equal(counts[TS_PENDING], 3);
	/* The archive takes the new columns along. */
	sql_exec(f, "UPDATE task SET ended_at = 30 WHERE status IN ('success', 'failure', 'canceled')");
	int64_t archived = 0;
	assert_int_equal(store_archive_terminal(f->w, 100, 10, &archived), 0);
	assert_int_equal(archived, 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_archive WHERE namespace = 'default' AND shape = 7 "
	                            "AND lease_token = 0"), 3);
}

/* ---- claims ------------------------------------------------------------------------------ */

static weft_id add_job(fixture *f, const char *queue, int32_t priority, int64_t start_after, const char *input)
{
	job_new j = { .namespace = "default", .queue = queue, .input = input, .priority = priority,
	              .timeout_secs = 100, .created_at = T0, .start_after = start_after,
	              .retry_policy = "{\"max_retries\":2,\"jitter\":0}" };
	id_new_v7(&j.id);
	assert_int_equal(store_jobs_insert(f->w, &j, 1), 0);
	return j.id;
}

static void test_claim_ranges_in_order(void **state)
{
	fixture *f = *state;
	weft_id ids[6];
	/* Claim order: priority DESC, start_after, id. */
	ids[0] = add_job(f, "q", 0, T0 + 3, "0");
	ids[1] = add_job(f, "q", 9, T0 + 5, "1");
	ids[2] = add_job(f, "q", 0, T0 + 1, "2");
	ids[3] = add_job(f, "q", 0, T0 + 2, "3");
	ids[4] = add_job(f, "q", 0, T0 + 100 * SEC, "4");   /* not yet */
	ids[5] = add_job(f, "other", 0, T0, "5");
	job_claim_range r[2] = {
		{ .lo = 1, .hi = 2, .worker_id = "a", .actor = "token:a", .lease_us = 10 * SEC },
		{ .lo = 3, .hi = 5, .worker_id = "b", .actor = "token:b", .lease_us = 20 * SEC },
	};
	job_claimed_row *rows;
	size_t n;
	int64_t now = T0 + 10;
	assert_int_equal(store_jobs_claim(f->w, "default", "q", now, r, 2, &rows, &n), 0);
	assert_int_equal(n, 4);
	const int want[] = { 1, 2, 3, 0 };
	for (size_t i = 0; i < n; i++) {
		assert_true(id_eq(&rows[i].id, &ids[want[i]]));
		assert_int_equal(rows[i].range, i < 2 ? 0 : 1);
		assert_int_equal(rows[i].lease_token, 1);
		assert_int_equal(rows[i].attempt, 1);
		assert_int_equal(rows[i].started_at, now);
		assert_int_equal(rows[i].lease_until, now + (i < 2 ? 10 : 20) * SEC);
	}
	assert_string_equal(rows[0].input, "1");
	store_free_claimed(rows, n);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task WHERE worker_id = 'b' AND claimed_by = 'token:b' "
	                             "AND status = 'running'"), 2);
	int64_t due = 0;
	assert_int_equal(store_jobs_next_ready(f->w, "default", "q", now, &due), 0);
	assert_int_equal(due, T0 + 100 * SEC);
	/* The lease never passes the timeout (100 s). */
	job_claim_range lr = { .lo = 1, .hi = 1, .worker_id = "c", .actor = "api", .lease_us = 500 * SEC };
	assert_int_equal(store_jobs_claim(f->w, "default", "other", now, &lr, 1, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].lease_until, now + 100 * SEC);
	store_free_claimed(rows, n);
	/* A paused queue gives nothing. */
	const char *names[] = { "q" };
	assert_int_equal(store_queues_ensure(f->w, "default", names, 1, now), 0);
	sql_exec(f, "UPDATE queue SET paused = 1 WHERE name = 'q'");
	assert_int_equal(store_jobs_claim(f->w, "default", "q", T0 + 200 * SEC, r, 1, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_free_claimed(rows, n);
}

/* A change with a stale token, or of another namespace, changes nothing. */
static void test_fenced_change(void **state)
{
	fixture *f = *state;
	weft_id id = add_job(f, "q", 0, T0, "1");
	job_claim_range r = { .lo = 1, .hi = 1, .worker_id = "a", .actor = "token:a", .lease_us = 10 * SEC };
	job_claimed_row *rows;
	size_t n;
	assert_int_equal(store_jobs_claim(f->w, "default", "q", T0, &r, 1, &rows, &n), 0);
	assert_int_equal(n, 1);
	store_free_claimed(rows, n);

	job_change ch = { .id = id, .token = 2, .to = TS_SUCCESS, .result = "\"x\"", .ended = true, .actor = "a" };
	assert_int_equal(store_jobs_change(f->w, &ch, 1, T0 + 1, false), 0);
	assert_false(ch.applied);
	const char *ns[] = { "elsewhere" };
	ch.token = 1;
	ch.visible = ns;
	ch.nvisible = 1;
	assert_int_equal(store_jobs_change(f->w, &ch, 1, T0 + 1, false), 0);
	assert_false(ch.applied);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task WHERE id = '%s' AND status = 'running' "
	                             "AND result IS NULL AND lease_token = 1 AND ended_at IS NULL", id.str), 1);
	job_state st;
	assert_int_equal(store_jobs_state(f->w, &id, NULL, 1, &st), 0);
	assert_true(st.found);
	assert_string_equal(st.ns, "default");
	assert_int_equal(st.status, TS_RUNNING);
	assert_int_equal(st.lease_token, 1);

	job_beat b = { .id = id, .token = 2, .lease_us = 30 * SEC };
	assert_int_equal(store_jobs_heartbeat(f->w, &b, 1, T0 + 5), 0);
	assert_false(b.held);
	b.token = 1;
	b.visible = ns;
	b.nvisible = 1;
	assert_int_equal(store_jobs_heartbeat(f->w, &b, 1, T0 + 5), 0);
	assert_false(b.held);
	b.visible = NULL;
	assert_int_equal(store_jobs_heartbeat(f->w, &b, 1, T0 + 5), 0);
	assert_true(b.held);
	assert_int_equal(b.lease_until, T0 + 5 + 30 * SEC);

	const char *dflt[] = { "other", "default" };
	ch.visible = dflt;
	ch.nvisible = 2;
	assert_int_equal(store_jobs_change(f->w, &ch, 1, T0 + 6, true), 0);
	assert_true(ch.applied);
	assert_int_equal(ch.after.status, TS_SUCCESS);
	assert_int_equal(ch.after.ended_at, T0 + 6);
	assert_int_equal(ch.after.lease_until, 0);
	task_row_release(&ch.after);
	job_detail d;
	assert_int_equal(store_job_get(f->w, &id, NULL, 0, &d), 0);
	assert_string_equal(d.result, "\"x\"");
	assert_string_equal(d.ended_by, "a");
	assert_string_equal(d.claimed_by, "token:a");
	assert_int_equal(d.max_attempts, 3);
	job_detail_release(&d);
	assert_int_equal(store_job_get(f->w, &id, ns, 1, &d), WEFT_ENOTFOUND);
	int64_t counts[TS__COUNT];
	assert_int_equal(store_status_counts(f->w, counts), 0);
	assert_int_equal(counts[TS_SUCCESS], 1);
	assert_int_equal(counts[TS_RUNNING], 0);
}

static void test_dedup_keys(void **state)
{
	fixture *f = *state;
	weft_id live = add_job(f, "q", 0, T0, "1"), ended = add_job(f, "q", 0, T0, "2");
	sql_exec(f, "UPDATE task SET status = 'success' WHERE input = '2'");
	job_dedup_req r[3] = {
		{ .queue = "q", .key = "a", .task_id = live },
		{ .queue = "q", .key = "b", .task_id = ended },
		{ .queue = "q", .key = "w", .task_id = live, .expires_at = T0 + 10 * SEC },
	};
	assert_int_equal(store_jobs_dedup(f->w, "default", r, 3, T0), 0);
	for (int i = 0; i < 3; i++)
		assert_true(r[i].taken);
	/* Again with other jobs: "a" is held by a live job; "b"'s job ended;
	 * "w" holds for its window. */
	weft_id other = add_job(f, "q", 0, T0, "3");
	job_dedup_req again[3] = {
		{ .queue = "q", .key = "a", .task_id = other },
		{ .queue = "q", .key = "b", .task_id = other },
		{ .queue = "q", .key = "w", .task_id = other, .expires_at = T0 + 20 * SEC },
	};
	assert_int_equal(store_jobs_dedup(f->w, "default", again, 3, T0 + 5 * SEC), 0);
	assert_false(again[0].taken);
	assert_true(id_eq(&again[0].owner, &live));
	assert_int_equal(again[0].owner_status, TS_PENDING);
	assert_true(again[1].taken);
	assert_false(again[2].taken);
	/* Another namespace has its own keys. */
	assert_int_equal(store_jobs_dedup(f->w, "other", again, 1, T0 + 5 * SEC), 0);
	assert_true(again[0].taken);
	/* Past the window it is free; expiry removes what no longer holds. */
	int64_t removed = 0;
	assert_int_equal(store_jobs_dedup_expire(f->w, T0 + 5 * SEC, 100, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(store_jobs_dedup_expire(f->w, T0 + 10 * SEC, 100, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM job_dedup"), 3);
}

/* Workers of a set touched in one statement: a worker given twice is one
 * row (its last queues); a draining worker is told so. */
static void test_workers_touch(void **state)
{
	fixture *f = *state;
	worker_seen w[3] = {
		{ .ns = "default", .id = "w1", .hostname = "h1", .queues_json = "[\"a\"]" },
		{ .ns = "default", .id = "w2", .queues_json = "[\"b\"]" },
		{ .ns = "default", .id = "w1", .hostname = "h1", .queues_json = "[\"c\"]" },
	};
	assert_int_equal(store_workers_touch(f->w, w, 3, T0), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM worker"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM worker WHERE id = 'w1' AND queues = '[\"c\"]' "
	                            "AND hostname = 'h1'"), 1);
	sql_exec(f, "UPDATE worker SET draining = 1 WHERE id = 'w2'");
	assert_int_equal(store_workers_touch(f->w, w, 3, T0 + 1), 0);
	assert_false(w[0].draining);
	assert_true(w[1].draining);
	assert_false(w[2].draining);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM worker WHERE last_seen_at = " "1700000000000001"), 2);
	/* Heartbeats: seen, queues kept; with no namespace, any. */
	worker_seen hb[3] = { { .id = "w2" }, { .ns = "default", .id = "w1" }, { .ns = "other", .id = "w2" } };
	assert_int_equal(store_workers_seen(f->w, hb, 3, T0 + 2), 0);
	assert_true(hb[0].draining);
	assert_false(hb[1].draining);
	assert_false(hb[2].draining);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM worker WHERE last_seen_at = 1700000000000002 "
	                            "AND queues <> '[]'"), 2);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_migration_from_0006),
		STORE_TEST_SQLITE(test_claim_ranges_in_order),
		STORE_TEST_SQLITE(test_fenced_change),
		STORE_TEST_SQLITE(test_dedup_keys),
		STORE_TEST_SQLITE(test_workers_touch),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_migration_from_0006),
		STORE_TEST_PG(test_claim_ranges_in_order),
		STORE_TEST_PG(test_fenced_change),
		STORE_TEST_PG(test_dedup_keys),
		STORE_TEST_PG(test_workers_touch),
	};
	return run_store_tests("store jobs", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
