/*
 * test_store_queues.c — queues in the store, on SQLite and PostgreSQL:
 * configuration and its trail; the limited claim (per-key and total
 * concurrency, token buckets refilled by the clock given, the next
 * token's time); the figures of a queue (depth by status, throughput
 * written once per transaction, undone with a savepoint); and on
 * PostgreSQL the queue's lock, which a second node's claim cannot take
 * while the first holds it.
 */
#include "util/common.h"

#include "store_test.h"

#include "core/limits.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/queues.h"
#include "util/alloc.h"

#define SEC 1000000LL
#define T0 1700000000000000LL

static weft_id add_job(fixture *f, const char *queue, const char *ckey, const char *rkey, int64_t start_after)
{
	job_new j = { .namespace = "default", .queue = queue, .concurrency_key = ckey, .rate_key = rkey,
	              .timeout_secs = 100, .created_at = T0, .start_after = start_after,
	              .retry_policy = "{\"max_retries\":2,\"jitter\":0}" };
	id_new_v7(&j.id);
	assert_int_equal(store_jobs_insert(f->w, &j, 1), 0);
	return j.id;
}

static void configure(fixture *f, const char *queue, queue_limits l, unsigned set)
{
	queue_update u = { .ns = "default", .name = queue, .paused = -1, .limits = l, .set = set,
	                   .actor = "token:ops", .action = "configure", .detail = "{}" };
	assert_int_equal(store_queue_update(f->w, &u, T0), 0);
}

/* Claims up to `want` jobs for one worker at `now`; returns how many, and
 * the info. */
static size_t claim_limited(fixture *f, const char *queue, int64_t now, int64_t want, limited_claim_info *info,
                            weft_id *ids)
{
	queue_row q;
	assert_int_equal(store_queue_get(f->w, "default", queue, &q), 0);
	job_claim_range r = { .lo = 1, .hi = want, .worker_id = "w", .actor = "api", .lease_us = 30 * SEC };
	job_claimed_row *rows;
	size_t n;
	*info = (limited_claim_info){ 0 };     /* no clock: the claims' time is `now` */
	assert_int_equal(store_jobs_claim_limited(f->w, "default", queue, &q.limits, now, &r, 1, &rows, &n, info), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rows[i].range, 0);
		assert_true(rows[i].started_at >= now);
		if (ids)
			ids[i] = rows[i].id;
	}
	store_free_claimed(rows, n);
	queue_row_release(&q);
	return n;
}

static void test_configuration_and_trail(void **state)
{
	fixture *f = *state;
	queue_row q;
	assert_int_equal(store_queue_get(f->w, "default", "cfg", &q), WEFT_ENOTFOUND);
	configure(f, "cfg", (queue_limits){ .key_concurrency = 2, .rate_limit = 5, .rate_period_ms = 100,
	                                    .rate_burst = 7 }, QUEUE_SET_KEY_CONCURRENCY | QUEUE_SET_RATE);
	assert_int_equal(store_queue_get(f->w, "default", "cfg", &q), 0);
	assert_false(q.paused);
	assert_true(queue_limits_any(&q.limits));
	assert_int_equal(q.limits.concurrency, 0);
	assert_int_equal(q.limits.key_concurrency, 2);
	assert_int_equal(q.limits.rate_limit, 5);
	assert_int_equal(q.limits.rate_period_ms, 100);
	assert_int_equal(q.limits.rate_burst, 7);
	assert_string_equal(q.updated_by, "token:ops");
	queue_row_release(&q);
	/* Pausing keeps the limits; removing one keeps the others. */
	queue_update p = { .ns = "default", .name = "cfg", .paused = 1, .actor = "token:root", .action = "pause" };
	assert_int_equal(store_queue_update(f->w, &p, T0 + 1), 0);
	configure(f, "cfg", (queue_limits){ 0 }, QUEUE_SET_RATE);
	assert_int_equal(store_queue_get(f->w, "default", "cfg", &q), 0);
	assert_true(q.paused);
	assert_int_equal(q.limits.key_concurrency, 2);
	assert_int_equal(q.limits.rate_limit, 0);
	queue_row_release(&q);
	queue_event *ev;
	size_t n;
	assert_int_equal(store_queue_events(f->w, "default", "cfg", 10, &ev, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].action, "pause");         /* newest first (T0 + 1) */
	assert_string_equal(ev[0].actor, "token:root");
	assert_string_equal(ev[1].action, "configure");
	store_free_queue_events(ev, n);
	/* Listing: by namespace, keyset pages. */
	configure(f, "cfg2", (queue_limits){ 0 }, 0);
	queue_row *rows;
	assert_int_equal(store_queue_list(f->w, NULL, 0, "default", "cfg", 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "cfg2");
	store_free_queues(rows, n);
	const char *other[] = { "other" };
	assert_int_equal(store_queue_list(f->w, other, 1, "", "", 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_free_queues(rows, n);
}

static void test_key_and_total_limits(void **state)
{
	fixture *f = *state;
	configure(f, "k", (queue_limits){ .key_concurrency = 2 }, QUEUE_SET_KEY_CONCURRENCY);
	weft_id a[3];
	for (int i = 0; i < 3; i++)
		a[i] = add_job(f, "k", "a", NULL, T0 + i);
	add_job(f, "k", "b", NULL, T0 + 10);
	add_job(f, "k", NULL, NULL, T0 + 11);           /* no key: no per-key limit */
	limited_claim_info info;
	weft_id got[8];
	assert_int_equal(claim_limited(f, "k", T0 + SEC, 8, &info, got), 4);
	assert_true(info.blocked);
	assert_true(id_eq(&got[0], &a[0]) && id_eq(&got[1], &a[1]));
	assert_int_equal(claim_limited(f, "k", T0 + SEC, 8, &info, NULL), 0);
	/* A slot frees: the third job of key a goes. */
	sql_exec(f, "UPDATE task SET status = 'success' WHERE concurrency_key = 'a' AND status = 'running' "
	            "AND start_after = 1700000000000000");
	assert_int_equal(claim_limited(f, "k", T0 + SEC, 8, &info, got), 1);
	assert_true(id_eq(&got[0], &a[2]));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE status = 'running' AND concurrency_key = 'a'"), 2);

	configure(f, "t", (queue_limits){ .concurrency = 3 }, QUEUE_SET_CONCURRENCY);
	for (int i = 0; i < 5; i++)
		add_job(f, "t", i % 2 ? "x" : NULL, NULL, T0 + i);
	assert_int_equal(claim_limited(f, "t", T0 + SEC, 2, &info, NULL), 2);
	assert_int_equal(claim_limited(f, "t", T0 + SEC, 8, &info, NULL), 1);
	assert_true(info.blocked);
	assert_int_equal(claim_limited(f, "t", T0 + SEC, 8, &info, NULL), 0);
}

/* A busy key at the head of the queue does not hold back the others: the
 * claim reads further pages past its jobs. */
static void test_no_head_of_line_blocking(void **state)
{
	fixture *f = *state;
	configure(f, "h", (queue_limits){ .key_concurrency = 1 }, QUEUE_SET_KEY_CONCURRENCY);
	job_new j = { .namespace = "default", .queue = "h", .concurrency_key = "busy", .timeout_secs = 100,
	              .created_at = T0, .retry_policy = "{}" };
	job_new *many = xcalloc(600, sizeof *many);
	for (int i = 0; i < 600; i++) {
		many[i] = j;
		many[i].start_after = T0 + i;
		id_new_v7(&many[i].id);
	}
	assert_int_equal(store_jobs_insert(f->w, many, 600), 0);
	free(many);
	weft_id other = add_job(f, "h", "quiet", NULL, T0 + 1000);
	limited_claim_info info;
	weft_id got[4];
	assert_int_equal(claim_limited(f, "h", T0 + SEC, 2, &info, got), 2);
	assert_true(id_eq(&got[1], &other) || id_eq(&got[0], &other));
	assert_int_equal(claim_limited(f, "h", T0 + SEC, 2, &info, NULL), 0);
	assert_true(info.blocked);
}

static void test_token_bucket(void **state)
{
	fixture *f = *state;
	/* 2 per second, burst 2, one bucket per rate key; no key = the queue's. */
	configure(f, "r", (queue_limits){ .rate_limit = 2, .rate_period_ms = 1000, .rate_burst = 2 }, QUEUE_SET_RATE);
	for (int i = 0; i < 10; i++)
		add_job(f, "r", NULL, i < 8 ? "p" : NULL, T0 + i);
	limited_claim_info info;
	int64_t now = T0 + SEC;
	/* A new bucket is full: 2 of key p, then the 2 without a key. */
	assert_int_equal(claim_limited(f, "r", now, 10, &info, NULL), 4);
	assert_true(info.blocked);
	assert_int_equal(info.next_token_at, now + 500 * 1000 + 1);       /* half a second per token */
	assert_int_equal(claim_limited(f, "r", now + 499 * 1000, 10, &info, NULL), 0);
	assert_int_equal(claim_limited(f, "r", now + 500 * 1000, 10, &info, NULL), 1);
	/* Ten seconds idle fill the bucket to its burst, not beyond. */
	assert_int_equal(claim_limited(f, "r", now + 11 * SEC, 10, &info, NULL), 2);
	assert_int_equal(claim_limited(f, "r", now + 11 * SEC, 10, &info, NULL), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM rate_bucket"), 2);
}

static void test_figures_and_throughput(void **state)
{
	fixture *f = *state;
	add_job(f, "s", NULL, NULL, T0);
	add_job(f, "s", NULL, NULL, T0 + 1);
	add_job(f, "s", NULL, NULL, T0 + 3600 * SEC);          /* delayed */
	weft_id dead = add_job(f, "s", NULL, NULL, T0 + 2);
	char sql[160];
	snprintf(sql, sizeof sql, "UPDATE task SET status = 'failure', dead_at = 5 WHERE id = '%s'", dead.str);
	sql_exec(f, sql);
	int64_t now = T0 + 10 * SEC;
	/* Ended attempts are noted, summed, and written at commit; a rolled
	 * back savepoint drops its own. */
	assert_int_equal(store_begin(f->w), 0);
	queue_stats_note(f->w, "default", "s", now, TS_SUCCESS, false, false);
	queue_stats_note(f->w, "default", "s", now, TS_SUCCESS, false, false);
	queue_stats_note(f->w, "default", "s", now, TS_RETRYING, false, true);
	queue_stats_note(f->w, "default", "s", now, TS_PENDING, false, false);      /* a release: nothing */
	assert_true(queue_stats_noted(f->w, "default", "s"));
	assert_false(queue_stats_noted(f->w, "default", "t"));
	assert_int_equal(store_savepoint(f->w), 0);
	queue_stats_note(f->w, "default", "s", now, TS_FAILURE, true, true);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	queue_stats_note(f->w, "default", "s", now - 120 * SEC, TS_FAILURE, true, true);    /* two minutes ago */
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_stat"), 2);
	queue_stats s;
	assert_int_equal(store_queue_stats(f->w, "default", "s", now, &s), 0);
	assert_int_equal(s.ready, 2);
	assert_int_equal(s.scheduled, 1);
	assert_int_equal(s.dead, 1);
	assert_int_equal(s.running, 0);
	assert_int_equal(s.oldest_ready_at, T0);
	assert_int_equal(s.completed[0], 2);
	assert_int_equal(s.failed[0], 1);
	assert_int_equal(s.failed[1], 2);
	assert_int_equal(s.dead_lettered[0], 0);
	assert_int_equal(s.dead_lettered[2], 1);
	assert_int_equal(queue_stats_window_minutes(2), 15);
	/* Old rows go. */
	assert_int_equal(store_queue_stats_expire(f->w, now + 3600 * SEC), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_stat"), 0);
}

/* Two nodes: while one holds the queue's lock, the other's try fails. */
static void test_queue_lock_across_nodes(void **state)
{
	fixture *f = *state;
	configure(f, "l", (queue_limits){ .concurrency = 1 }, QUEUE_SET_CONCURRENCY);
	store *other = open_store(fixture_db(f), NULL);
	store_conn *w2 = store_writer(other);
	bool got = false;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_queue_lock(f->w, "default", "l", &got), 0);
	assert_true(got);
	assert_int_equal(store_begin(w2), 0);
	assert_int_equal(store_queue_lock(w2, "default", "l", &got), 0);
	assert_false(got);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_queue_lock(w2, "default", "l", &got), 0);
	assert_true(got);
	assert_int_equal(store_commit(w2), 0);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_configuration_and_trail),
		STORE_TEST_SQLITE(test_key_and_total_limits),
		STORE_TEST_SQLITE(test_no_head_of_line_blocking),
		STORE_TEST_SQLITE(test_token_bucket),
		STORE_TEST_SQLITE(test_figures_and_throughput),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_configuration_and_trail),
		STORE_TEST_PG(test_key_and_total_limits),
		STORE_TEST_PG(test_no_head_of_line_blocking),
		STORE_TEST_PG(test_token_bucket),
		STORE_TEST_PG(test_figures_and_throughput),
		STORE_TEST_PG(test_queue_lock_across_nodes),
	};
	return run_store_tests("store queues", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
