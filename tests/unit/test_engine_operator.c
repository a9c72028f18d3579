/*
 * test_engine_operator.c — operator actions through the engine, on SQLite
 * and on PostgreSQL: the retry budget after a retry (kept) and a reset
 * (fresh), a resolved running job losing its lease, the requeue of a
 * selection of dead letters (newest first, limited), namespaces, a
 * drain answering a worker's parked claim at once, and a paused job that
 * no claim takes until it is resumed.
 *
 * The clock is frozen in every case: time moves only by advance().
 */
#include "util/common.h"

#include <curl/curl.h>

#include "job_test.h"

#include "engine/commands/operator.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/operator.h"
#include "plan_check.h"

static int act(rig *r, operator_action a, const weft_id *id, const char *result, task_status *status)
{
	cmd_operator c;
	cmd_operator_init(&c, a);
	c.base.actor = "token:ops";
	c.id = *id;
	c.reason = "test";
	c.result = result;
	engine_call(r->eng, &c.base);
	if (status != NULL)
		*status = c.base.current_status;
	return c.base.result == WEFT_ECONFLICT && c.has_dependents ? -1 : c.base.result;
}

/* Claims the one job of queue q: its token. */
static int64_t claim_token(rig *r, const char *q, const weft_id *want, int32_t attempt)
{
	claim_call k;
	claim_now(r, &k, q, 1, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, want));
	assert_int_equal(k.c.jobs[0].attempt, attempt);
	int64_t token = k.c.jobs[0].lease_token;
	claim_end(&k);
	return token;
}

/* A job of max_attempts 2 (backoff 1 s, no jitter), failed twice: dead. */
static weft_id dead_job(rig *r, const char *q)
{
	job_spec s = spec_of(q);
	s.max_attempts = 2;
	s.backoff_initial_us = SEC;
	s.backoff_jitter = 0;
	enqueue_specs(r, &s, 1);
	assert_int_equal(fail_job(r, &s.id, claim_token(r, q, &s.id, 1), "boom", true, NULL), JOB_RETRYING);
	advance(r, SEC);
	assert_int_equal(fail_job(r, &s.id, claim_token(r, q, &s.id, 2), "boom", true, NULL), JOB_DEAD_LETTERED);
	return s.id;
}

static void test_reset_gives_a_fresh_budget_and_retry_keeps_it(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = dead_job(&r, "q");
	task_status st;
	assert_int_equal(act(&r, OPERATOR_RESET, &id, NULL, &st), 0);
	assert_int_equal(st, TS_PENDING);
	job_detail d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_PENDING);
	assert_int_equal(d.task.attempt, 3);
	assert_int_equal(d.task.retry_base, 2);
	assert_int_equal(d.task.dead_at, 0);
	assert_int_equal(d.task.ended_at, 0);
	assert_int_equal(d.task.lease_until, 0);
	assert_null(d.task.worker_id);
	assert_int_equal(d.nattempts, 2);          /* the error history stays */
	job_detail_release(&d);

	/* A fresh budget: one retry again. */
	assert_int_equal(fail_job(&r, &id, claim_token(&r, "q", &id, 3), "boom", true, NULL), JOB_RETRYING);
	advance(&r, SEC);
	assert_int_equal(fail_job(&r, &id, claim_token(&r, "q", &id, 4), "boom", true, NULL), JOB_DEAD_LETTERED);

	/* A retry keeps the budget, spent: the next failure is final. */
	assert_int_equal(act(&r, OPERATOR_RETRY, &id, NULL, &st), 0);
	assert_int_equal(fail_job(&r, &id, claim_token(&r, "q", &id, 5), "boom", true, NULL), JOB_DEAD_LETTERED);

	/* A claim parked on the queue gets the job at a reset's commit. */
	claim_call k;
	claim_submit(&r, &k, "q", 1, 30 * SEC, 60 * SEC, "w2");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));
	assert_int_equal(act(&r, OPERATOR_RESET, &id, NULL, &st), 0);
	claim_wait(&k);
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, &id));
	assert_int_equal(k.c.jobs[0].attempt, 6);
	int64_t held = k.c.jobs[0].lease_token;
	claim_end(&k);
	assert_int_equal(act(&r, OPERATOR_RESET, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(st, TS_RUNNING);
	assert_int_equal(fail_job(&r, &id, held, "boom", false, NULL), JOB_DEAD_LETTERED);

	/* States that do not allow them. */
	assert_int_equal(act(&r, OPERATOR_CANCEL, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(st, TS_FAILURE);
	assert_int_equal(act(&r, OPERATOR_RESOLVE, &id, "{\"x\":1}", &st), 0);
	assert_int_equal(act(&r, OPERATOR_RESET, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(st, TS_SUCCESS);
	weft_id nobody;
	id_new_v7(&nobody);
	assert_int_equal(act(&r, OPERATOR_RETRY, &nobody, NULL, NULL), WEFT_ENOTFOUND);
	rig_stop(&r);
}

static void test_resolve_takes_the_lease(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = enqueue_one(&r, "q", "1");
	int64_t token = claim_token(&r, "q", &id, 1);
	assert_int_equal(act(&r, OPERATOR_RESOLVE, &id, "{\"by\":\"hand\"}", NULL), 0);
	job_detail d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_SUCCESS);
	assert_string_equal(d.result, "{\"by\":\"hand\"}");
	assert_int_equal(d.task.lease_until, 0);
	assert_null(d.task.worker_id);
	job_detail_release(&d);
	assert_int_equal(heartbeat(&r, &id, token, 60 * SEC, NULL), JOB_LEASE_LOST);
	assert_int_not_equal(complete(&r, &id, token, "{\"late\":1}"), JOB_COMPLETED);
	d = job_get(f->st, &id);
	assert_string_equal(d.result, "{\"by\":\"hand\"}");
	job_detail_release(&d);
	/* Its lease deadline is gone: nothing happens when it would have ended. */
	advance(&r, 120 * SEC);
	assert_int_equal(job_status(f->st, &id), TS_SUCCESS);
	rig_stop(&r);
}

static void test_pause_holds_a_job_from_claims(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = enqueue_one(&r, "q", "1");
	task_status st;
	assert_int_equal(act(&r, OPERATOR_PAUSE, &id, NULL, &st), 0);
	assert_int_equal(st, TS_PAUSED);
	assert_int_equal(act(&r, OPERATOR_PAUSE, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(st, TS_PAUSED);
	claim_call k;
	claim_now(&r, &k, "q", 1, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);
	assert_int_equal(act(&r, OPERATOR_RESUME, &id, NULL, &st), 0);
	assert_int_equal(st, TS_PENDING);
	claim_token(&r, "q", &id, 1);
	/* Running: neither action applies. */
	assert_int_equal(act(&r, OPERATOR_PAUSE, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(st, TS_RUNNING);
	assert_int_equal(act(&r, OPERATOR_RESUME, &id, NULL, &st), WEFT_ECONFLICT);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_event WHERE actor = 'token:ops' "
	                            "AND reason IN ('operator: pause: test', 'operator: resume: test')"), 2);
	rig_stop(&r);
}

static void test_requeue_a_selection(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id old = dead_job(&r, "q");
	advance(&r, SEC);
	weft_id mid = dead_job(&r, "q");
	advance(&r, SEC);
	weft_id newest = dead_job(&r, "q");
	weft_id other = dead_job(&r, "other");

	cmd_requeue c;
	cmd_requeue_init(&c);
	c.base.actor = "token:ops";
	c.namespace = "default";
	c.queue = "q";
	c.limit = 2;
	engine_call(r.eng, &c.base);
	assert_int_equal(c.base.result, 0);
	assert_int_equal(c.nitems, 2);
	assert_true(id_eq(&c.items[0].id, &newest));
	assert_true(id_eq(&c.items[1].id, &mid));
	assert_int_equal(c.items[0].outcome, REQUEUED);
	assert_int_equal(c.items[1].outcome, REQUEUED);
	cmd_requeue_release(&c);
	assert_int_equal(job_status(f->st, &old), TS_FAILURE);
	assert_int_equal(job_status(f->st, &other), TS_FAILURE);

	/* By ids, as a caller limited to another namespace: not found. */
	static const char *const elsewhere[] = { "billing" };
	requeue_item items[2] = { { .id = old }, { .id = other } };
	cmd_requeue_init(&c);
	c.base.actor = "token:ops";
	c.items = items;
	c.nitems = 2;
	c.visible = (job_visibility){ .names = elsewhere, .n = 1 };
	engine_call(r.eng, &c.base);
	assert_int_equal(items[0].outcome, REQUEUE_NOT_FOUND);
	assert_int_equal(items[1].outcome, REQUEUE_NOT_FOUND);
	/* As one that sees it: requeued, then not a dead letter any more. */
	c.visible = (job_visibility){ .all = true };
	engine_call(r.eng, &c.base);
	assert_int_equal(items[0].outcome, REQUEUED);
	engine_call(r.eng, &c.base);
	assert_int_equal(items[0].outcome, REQUEUE_NOT_DEAD);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE dead_at IS NOT NULL"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_event WHERE actor = 'token:ops' "
	                            "AND from_status = 'failure' AND to_status = 'pending'"), 4);
	rig_stop(&r);
}

static void test_drain_answers_a_parked_claim(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	claim_call k;
	claim_now(&r, &k, "idle", 1, 60 * SEC, "w9");      /* registers the worker */
	claim_end(&k);
	claim_submit(&r, &k, "idle", 1, 30 * SEC, 60 * SEC, "w9");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));

	cmd_worker_drain d;
	cmd_worker_drain_init(&d);
	d.namespace = "default";
	d.worker_id = "nobody";
	engine_call(r.eng, &d.base);
	assert_int_equal(d.base.result, WEFT_ENOTFOUND);
	d.worker_id = "w9";
	engine_call(r.eng, &d.base);
	assert_int_equal(d.base.result, 0);
	claim_wait(&k);
	assert_true(k.c.drain);
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);

	/* Its next claim takes nothing, though a job is there; another
	 * worker's does. */
	weft_id id = enqueue_one(&r, "idle", "1");
	claim_now(&r, &k, "idle", 1, 60 * SEC, "w9");
	assert_true(k.c.drain);
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);
	assert_int_equal(claim_token(&r, "idle", &id, 1), 1);
	assert_int_equal(sql_int(f, "SELECT draining FROM worker WHERE id = 'w9'"), 1);
	rig_stop(&r);
}

/* The registry's and the dead letters' reads take their rows along the
 * indexes they name (plan_check.h), with a namespace set bound as one
 * parameter, on the statements a page prepares. */
static void test_read_plans(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	dead_job(&r, "q");
	weft_id live = enqueue_one(&r, "q", "1");
	claim_token(&r, "q", &live, 1);
	rig_stop(&r);

	static const char *const visible[] = { "default", "other" };
	dead_letter_filter df = { .visible = visible, .nvisible = 2, .queue = "q", .limit = 10 };
	task_row *rows;
	size_t n;
	assert_int_equal(store_dead_letters(f->w, &df, &rows, &n), 0);
	assert_int_equal(n, 1);
	store_free_tasks(rows, n);
	worker_filter wf = { .visible = visible, .nvisible = 2, .limit = 10 };
	worker_row *ws;
	assert_int_equal(store_workers(f->w, &wf, &ws, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ws[0].id, "w1");
	assert_int_equal(ws[0].in_flight, 1);
	store_free_workers(ws, n);
	size_t checked = 0;
	assert_int_equal(check_writer_plans(f, &checked), 0);
	assert_true(checked >= 3);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_reset_gives_a_fresh_budget_and_retry_keeps_it),
		STORE_TEST_SQLITE(test_resolve_takes_the_lease),
		STORE_TEST_SQLITE(test_requeue_a_selection),
		STORE_TEST_SQLITE(test_pause_holds_a_job_from_claims),
		STORE_TEST_SQLITE(test_drain_answers_a_parked_claim),
		STORE_TEST_SQLITE(test_read_plans),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_reset_gives_a_fresh_budget_and_retry_keeps_it),
		STORE_TEST_PG(test_resolve_takes_the_lease),
		STORE_TEST_PG(test_requeue_a_selection),
		STORE_TEST_PG(test_pause_holds_a_job_from_claims),
		STORE_TEST_PG(test_drain_answers_a_parked_claim),
		STORE_TEST_PG(test_read_plans),
	};
	int rc = run_store_tests("engine operator", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests,
	                         ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
