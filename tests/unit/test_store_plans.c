/*
 * test_store_plans.c — the plans of set statements on a fresh database,
 * on SQLite and PostgreSQL.
 *
 * A statement that takes a set bound as one parameter ({rows}, {in},
 * {each}) must reach task rows from the set, by primary key: never by a
 * scan of task, and never through one of task's other indexes (most are
 * on status, and hold every running or pending task). A fresh database has
 * no statistics (SQLite writes sqlite_stat1 only at close), and without
 * them SQLite once made task the outer loop through task_timed and read
 * the set's JSON once per running task: completing 1,000 jobs while 20,000
 * ran took seconds. Plans are read as the database gives them (EXPLAIN
 * QUERY PLAN; on PostgreSQL the generic plan of the prepared statement)
 * for every statement the job operations prepared, after running them.
 */
#include "util/common.h"

#include "store_test.h"

#include "core/limits.h"
#include "store/db.h"
#include "store/jobs.h"
#include "plan_check.h"

#define SEC 1000000LL
#define NJOBS 300

/* ---- the job operations, each once, with sets of several items ------------------------- */

static const char *const default_ns[] = { "default" };

static void insert_jobs(fixture *f, weft_id *ids, size_t n)
{
	job_new *jobs = calloc(n, sizeof *jobs);
	for (size_t i = 0; i < n; i++) {
		id_new_v7(&ids[i]);
		jobs[i] = (job_new){ .id = ids[i], .namespace = "default", .queue = "q", .input = "{\"i\":1}",
		                     .retry_policy = "{\"max_retries\":2}", .timeout_secs = 60, .created_at = T0,
		                     .start_after = T0 };
	}
	const char *queues[] = { "q" };
	assert_int_equal(store_queues_ensure(f->w, "default", queues, 1, T0), 0);
	assert_int_equal(store_jobs_insert(f->w, jobs, n), 0);
	free(jobs);
}

static size_t claim(fixture *f, const job_claim_range *r, size_t nr, job_claimed_row **rows)
{
	size_t n = 0;
	assert_int_equal(store_jobs_claim(f->w, "default", "q", T0 + SEC, r, nr, rows, &n), 0);
	return n;
}

static void run_job_operations(fixture *f)
{
	weft_id ids[NJOBS];
	assert_int_equal(store_begin(f->w), 0);
	insert_jobs(f, ids, NJOBS);
	worker_seen w[2] = { { .ns = "default", .id = "w1", .queues_json = "[\"q\"]" },
	                     { .ns = "default", .id = "w2", .queues_json = "[\"q\"]" } };
	assert_int_equal(store_workers_touch(f->w, w, 2, T0), 0);
	assert_int_equal(store_workers_seen(f->w, w, 2, T0), 0);
	/* Most jobs running: one claim alone, then two sharing a statement. */
	job_claim_range one = { 1, 200, "w1", "api", 60 * SEC };
	job_claim_range two[2] = { { 1, 40, "w1", "api", 60 * SEC }, { 41, 80, "w2", "api", 60 * SEC } };
	job_claimed_row *a, *b;
	size_t na = claim(f, &one, 1, &a), nb = claim(f, two, 2, &b);
	assert_int_equal(na, 200);
	assert_int_equal(nb, 80);
	weft_id held[8];
	int64_t tokens[8];
	for (size_t i = 0; i < 8; i++) {
		held[i] = a[i].id;
		tokens[i] = a[i].lease_token;
	}
	/* Heartbeats, states, a dedup set, parents. */
	job_beat beats[2] = { { .id = held[0], .token = tokens[0], .lease_us = SEC, .progress = "{\"p\":1}" },
	                      { .id = held[1], .token = tokens[1], .lease_us = SEC, .visible = default_ns, .nvisible = 1 } };
	assert_int_equal(store_jobs_heartbeat(f->w, beats, 2, T0 + 2 * SEC), 0);
	assert_true(beats[0].held && beats[1].held);
	job_state states[8];
	assert_int_equal(store_jobs_state(f->w, held, tokens, 8, states), 0);
	job_dedup_req dd[2] = { { .queue = "q", .key = "k1", .task_id = ids[NJOBS - 1] },
	                        { .queue = "q", .key = "k2", .task_id = ids[NJOBS - 2], .expires_at = T0 + SEC } };
	assert_int_equal(store_jobs_dedup(f->w, "default", dd, 2, T0), 0);
	job_dedup_req again[1] = { { .queue = "q", .key = "k1", .task_id = ids[NJOBS - 3] } };
	assert_int_equal(store_jobs_dedup(f->w, "default", again, 1, T0), 0);
	assert_false(again[0].taken);
	job_parent_row *parents;
	size_t nparents;
	assert_int_equal(store_job_parents(f->w, held, 8, &parents, &nparents), 0);
	store_free_parents(parents, nparents);
	/* Every shape of fenced change: complete (with and without a namespace
	 * limit), retry, dead letter, release; with and without rows. */
	job_change ch[5] = {
		{ .id = held[0], .token = tokens[0], .to = TS_SUCCESS, .result = "{}", .ended = true, .actor = "api" },
		{ .id = held[1], .token = tokens[1], .to = TS_SUCCESS, .result = "{}", .ended = true, .actor = "api",
		  .visible = default_ns, .nvisible = 1 },
		{ .id = held[2], .token = tokens[2], .to = TS_RETRYING, .error_code = "E", .failure_reason = "E",
		  .attempt = 2, .next_retry_at = T0 + 9 * SEC, .actor = "api", .reason = "attempt 1 failed" },
		{ .id = held[3], .token = tokens[3], .to = TS_FAILURE, .error_code = "E", .dead = true, .ended = true,
		  .actor = "api", .reason = "failed for good" },
		{ .id = held[4], .token = tokens[4], .to = TS_PENDING, .actor = "system" },
	};
	assert_int_equal(store_jobs_change(f->w, ch, 5, T0 + 3 * SEC, false), 0);
	for (size_t i = 0; i < 5; i++)
		assert_true(ch[i].applied);
	job_change more[2] = {
		{ .id = held[5], .token = tokens[5], .to = TS_CANCELED, .ended = true, .actor = "api", .reason = "canceled" },
		{ .id = held[6], .token = tokens[6], .to = TS_SUCCESS, .result = "1", .ended = true, .actor = "api" },
	};
	assert_int_equal(store_jobs_change(f->w, more, 2, T0 + 3 * SEC, true), 0);
	for (size_t i = 0; i < 2; i++) {
		assert_true(more[i].applied);
		task_row_release(&more[i].after);
	}
	job_attempt_row hist[2] = {
		{ .task_id = held[2], .lease_token = tokens[2], .attempt = 1, .started_at = T0, .ended_at = T0 + SEC,
		  .outcome = JA_FAILED, .error_code = "E", .retryable = true },
		{ .task_id = held[3], .lease_token = tokens[3], .attempt = 1, .started_at = T0, .ended_at = T0 + SEC,
		  .outcome = JA_FAILED, .error_code = "E" },
	};
	assert_int_equal(store_job_attempts_insert(f->w, hist, 2), 0);
	task_row *rows;
	size_t nrows;
	assert_int_equal(store_tasks_read(f->w, held, 8, true, &rows, &nrows), 0);
	store_free_tasks(rows, nrows);
	assert_int_equal(store_commit(f->w), 0);
	store_free_claimed(a, na);
	store_free_claimed(b, nb);
}

static void test_job_set_plans(void **state)
{
	fixture *f = *state;
	run_job_operations(f);
	char *indexes = task_indexes(f);
	assert_non_null(strstr(indexes, "task_timed"));
	free(indexes);
	if (f->pg) {
		/* With statistics (autovacuum gathers them soon enough), a
		 * generic plan that expects a set of 100 rows and few running
		 * tasks walked the whole primary key and hashed the set instead
		 * of looking its ids up: completing a job took a millisecond per
		 * 2,000 tasks. */
		PGresult *r = PQexec(f->pq, "ANALYZE task");
		assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
		PQclear(r);
	}
	size_t checked = 0;
	assert_int_equal(check_writer_plans(f, &checked), 0);
	/* claim, worker touch and seen, heartbeat, state (2), dedup (2),
	 * parents, change (2 shapes at least), attempts, tasks read, counts */
	assert_true(checked >= 12);
}

/* The check itself refuses the statement of the bug as it was written:
 * the status compared through its index (SQLite). */
static void test_check_refuses_status_index(void **state)
{
	fixture *f = *state;
	char *indexes = task_indexes(f);
	plan_check pc = { .f = f, .indexes = indexes };
	const char *sql = "UPDATE task SET last_updated = 1 FROM (SELECT value AS id FROM json_each(?1)) AS r "
	                  "WHERE task.id = r.id AND task.status = 'running'";
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	char q[512];
	snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	buf plan;
	buf_init(&plan);
	while (sqlite3_step(st) == SQLITE_ROW)
		buf_printf(&plan, "%s\n", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
	check_plan("probe", sql, plan.data, &pc);
	assert_int_equal(pc.bad, 1);
	buf_release(&plan);
	free(indexes);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_job_set_plans),
		STORE_TEST_SQLITE(test_check_refuses_status_index),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_job_set_plans),
	};
	return run_store_tests("store plans", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
