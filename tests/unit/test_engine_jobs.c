/*
 * test_engine_jobs.c — job queues through the engine's job commands, on
 * SQLite and on PostgreSQL (store_test.h's fixture, with an engine on
 * top): enqueue, claim, complete; the fence (a stale lease token changes
 * nothing); leases that expire (the job is claimed again, attempt 2);
 * delayed jobs; parked claims woken by an enqueue, by a delayed job
 * becoming due, by another node's enqueue (PostgreSQL), or answered empty
 * when their wait ends or the engine stops; retry delays, non-retryable
 * codes and dead letters; heartbeats.
 *
 * The clock is frozen in every case: time moves only by clock_advance(),
 * and engine_sync() returns once a cycle ran at the new time.
 */
#include "util/common.h"

#include <curl/curl.h>

#include "job_test.h"

#include "engine/commands/tasks.h"
#include "store/jobs.h"

/* ---- cases ------------------------------------------------------------------------- */

static void test_enqueue_claim_complete(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	int64_t t0 = clock_now_us();
	job_spec specs[3] = { spec_of("mail"), spec_of("mail"), spec_of("mail") };
	specs[0].input = "{\"n\":0}";
	specs[1].input = "{\"n\":1}";
	specs[1].priority = 5;                  /* claimed first */
	specs[2].input = "{\"n\":2}";
	specs[2].metadata = "{\"m\":true}";
	enqueue_specs(&r, specs, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(id_is_set(&specs[i].id));
		assert_true(id_eq(&specs[i].run_id, &specs[i].id));
		assert_int_equal(specs[i].status, TS_PENDING);
		assert_false(specs[i].duplicate);
	}
	/* No audit row for the creation, nor for claims and successes. */
	int64_t events0 = sql_int(f, "SELECT count(*) FROM task_event");

	claim_call k;
	claim_now(&r, &k, "mail", 2, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 2);
	assert_false(k.c.drain);
	claimed_job *j = k.c.jobs;
	assert_true(id_eq(&j[0].id, &specs[1].id));
	assert_true(id_eq(&j[1].id, &specs[0].id));
	assert_string_equal(j[0].input, "{\"n\":1}");
	assert_string_equal(j[0].queue, "mail");
	assert_string_equal(j[0].name, "mail");
	assert_int_equal(j[0].attempt, 1);
	assert_int_equal(j[0].max_attempts, JOB_MAX_ATTEMPTS_DEFAULT);
	assert_int_equal(j[0].lease_token, 1);
	assert_int_equal(j[0].lease_until, t0 + 30 * SEC);
	assert_int_equal(j[0].timeout_at, t0 + JOB_TIMEOUT_DEFAULT * SEC);
	assert_true(id_eq(&j[0].run_id, &j[0].id));
	weft_id a = j[0].id, b = j[1].id;
	claim_end(&k);
	assert_int_equal(job_status(f->st, &a), TS_RUNNING);

	assert_int_equal(complete(&r, &a, 1, "{\"ok\":1}"), JOB_COMPLETED);
	assert_int_equal(complete(&r, &a, 1, "{\"ok\":2}"), JOB_ALREADY_COMPLETED);   /* a resend */
	assert_int_equal(complete(&r, &b, 7, NULL), JOB_STALE_LEASE);
	assert_int_equal(complete(&r, &b, 1, NULL), JOB_COMPLETED);
	weft_id nobody;
	id_new_v7(&nobody);
	assert_int_equal(complete(&r, &nobody, 1, NULL), JOB_NOT_FOUND);
	/* A caller that may not see the job's namespace gets not_found, and
	 * the job is left as it is. */
	claim_call k2;
	weft_id c3 = enqueue_one(&r, "hidden", "3");
	claim_now(&r, &k2, "hidden", 1, 30 * SEC, "w1");
	assert_int_equal(k2.c.njobs, 1);
	claim_end(&k2);
	const char *elsewhere[] = { "billing" };
	job_complete_item hid = { .id = c3, .lease_token = 1 };
	cmd_job_complete hc;
	cmd_job_complete_init(&hc);
	hc.visible = (job_visibility){ .names = elsewhere, .n = 1 };
	hc.items = &hid;
	hc.nitems = 1;
	engine_call(r.eng, &hc.base);
	assert_int_equal(hid.outcome, JOB_NOT_FOUND);
	job_heartbeat_item hb = { .id = c3, .lease_token = 1 };
	cmd_job_heartbeat hh;
	cmd_job_heartbeat_init(&hh);
	hh.visible = hc.visible;
	hh.worker_id = "w1";
	hh.items = &hb;
	hh.nitems = 1;
	engine_call(r.eng, &hh.base);
	assert_int_equal(hb.state, JOB_LEASE_NOT_FOUND);
	assert_int_equal(job_status(f->st, &c3), TS_RUNNING);
	const char *mine[] = { "billing", "default" };
	hc.visible = (job_visibility){ .names = mine, .n = 2 };
	engine_call(r.eng, &hc.base);
	assert_int_equal(hid.outcome, JOB_COMPLETED);

	job_detail d = job_get(f->st, &a);
	assert_int_equal(d.task.status, TS_SUCCESS);
	assert_string_equal(d.result, "{\"ok\":1}");
	assert_string_equal(d.ended_by, "token:test");
	assert_string_equal(d.claimed_by, "token:test");
	assert_string_equal(d.task.worker_id, "w1");
	assert_int_equal(d.task.lease_until, 0);
	assert_int_equal(d.task.lease_token, 1);
	assert_int_equal(d.nattempts, 0);
	job_detail_release(&d);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_event"), events0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM worker WHERE id = 'w1' AND hostname = 'host'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue WHERE namespace = 'default' AND name = 'mail'"), 1);

	/* The third job is left; its metadata comes with it. */
	claim_now(&r, &k, "mail", 10, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	assert_string_equal(k.c.jobs[0].metadata, "{\"m\":true}");
	claim_end(&k);
	claim_now(&r, &k, "mail", 10, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);
	rig_stop(&r);
}

/* A claims; its lease passes; B claims (attempt 2, token 2). A's reports
 * change nothing; B completes once. */
static void test_stale_token_changes_nothing(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = enqueue_one(&r, "q", "1");
	claim_call k;
	claim_now(&r, &k, "q", 1, 10 * SEC, "worker-a");
	assert_int_equal(k.c.njobs, 1);
	assert_int_equal(k.c.jobs[0].lease_token, 1);
	claim_end(&k);

	advance(&r, 10 * SEC);                  /* the lease ends: claimable at once */
	job_detail d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_PENDING);
	assert_int_equal(d.task.attempt, 2);
	assert_int_equal(d.nattempts, 1);
	assert_int_equal(d.attempts[0].outcome, JA_LEASE_EXPIRED);
	assert_int_equal(d.attempts[0].attempt, 1);
	assert_string_equal(d.attempts[0].worker_id, "worker-a");
	job_detail_release(&d);

	claim_now(&r, &k, "q", 1, 10 * SEC, "worker-b");
	assert_int_equal(k.c.njobs, 1);
	assert_int_equal(k.c.jobs[0].attempt, 2);
	assert_int_equal(k.c.jobs[0].lease_token, 2);
	claim_end(&k);

	assert_int_equal(complete(&r, &id, 1, "\"from a\""), JOB_STALE_LEASE);
	assert_int_equal(fail_job(&r, &id, 1, "boom", true, NULL), JOB_STALE_LEASE);
	assert_int_equal(heartbeat(&r, &id, 1, 10 * SEC, NULL), JOB_LEASE_LOST);
	d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_RUNNING);
	assert_int_equal(d.task.lease_token, 2);
	assert_string_equal(d.task.worker_id, "worker-b");
	assert_null(d.result);
	assert_int_equal(d.nattempts, 1);
	job_detail_release(&d);

	assert_int_equal(complete(&r, &id, 2, "\"from b\""), JOB_COMPLETED);
	assert_int_equal(complete(&r, &id, 2, "\"again\""), JOB_ALREADY_COMPLETED);
	d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_SUCCESS);
	assert_string_equal(d.result, "\"from b\"");
	job_detail_release(&d);
	/* The trail: creation, two claims (derived), the lost lease
	 * (recorded), the success (derived). */
	task_event *ev;
	size_t nev;
	store_conn *rc = store_reader_acquire(f->st);
	assert_int_equal(store_task_events(rc, &id, &ev, &nev), 0);
	store_reader_release(f->st, rc);
	assert_int_equal(nev, 5);
	assert_false(ev[0].has_from);
	assert_int_equal(ev[0].to, TS_PENDING);
	const task_status from[] = { 0, TS_PENDING, TS_RUNNING, TS_PENDING, TS_RUNNING };
	const task_status to[] = { TS_PENDING, TS_RUNNING, TS_PENDING, TS_RUNNING, TS_SUCCESS };
	const char *actor[] = { "api", "token:test", "system", "token:test", "token:test" };
	for (size_t i = 1; i < nev; i++) {
		assert_int_equal(ev[i].from, from[i]);
		assert_int_equal(ev[i].to, to[i]);
		assert_string_equal(ev[i].actor, actor[i]);
		assert_true(ev[i].at >= ev[i - 1].at);
	}
	assert_string_equal(ev[1].reason, "claimed by worker worker-a");
	assert_string_equal(ev[3].reason, "claimed by worker worker-b");
	store_free_events(ev, nev);
	/* The expired lease's deadline does not fire again. */
	advance(&r, 60 * SEC);
	assert_int_equal(job_status(f->st, &id), TS_SUCCESS);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE status = 'success'"), 1);
	rig_stop(&r);
}

static void test_delayed_job_and_parked_claim(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec s = spec_of("later");
	s.delay_us = 5 * SEC;
	enqueue_specs(&r, &s, 1);

	claim_call k;
	claim_now(&r, &k, "later", 1, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 0);        /* not before its time */
	claim_end(&k);

	claim_submit(&r, &k, "later", 1, 30 * SEC, 30 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));       /* parked */
	advance(&r, 4900 * 1000);
	assert_false(claim_answered(&k));
	advance(&r, 100 * 1000);                /* due: the parked claim gets it */
	claim_wait(&k);
	assert_int_equal(k.c.base.result, 0);
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, &s.id));
	claim_end(&k);
	assert_int_equal(job_status(f->st, &s.id), TS_RUNNING);
	rig_stop(&r);
}

static void test_parked_claim_woken_by_enqueue(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	claim_call k;
	claim_submit(&r, &k, "wake", 5, 30 * SEC, 30 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));
	weft_id id = enqueue_one(&r, "other", "1");    /* another queue wakes nobody's claim with a job */
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));
	id = enqueue_one(&r, "wake", "2");
	claim_wait(&k);                         /* no time passed */
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, &id));
	claim_end(&k);

	/* A wait that ends answers with no jobs. */
	claim_submit(&r, &k, "wake", 1, 5 * SEC, 30 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	advance(&r, 4 * SEC);
	assert_false(claim_answered(&k));
	advance(&r, 1 * SEC);
	claim_wait(&k);
	assert_int_equal(k.c.base.result, 0);
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);

	/* The engine stopping answers a parked claim with no jobs. */
	claim_submit(&r, &k, "wake", 1, 30 * SEC, 30 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&k));
	engine_stop(r.eng);
	assert_true(claim_answered(&k));
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);
	rig_stop(&r);
	UNUSED(f);
}

/* initial 1 s, coefficient 2, max 5 s, jitter 0: delays 1, 2, 4, 5, 5 s;
 * the sixth failure is the last attempt's: a dead letter. */
static void test_retry_delays_and_dead_letter(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec s = spec_of("retry");
	s.max_attempts = 6;
	s.backoff_initial_us = 1 * SEC;
	s.backoff_coefficient = 2.0;
	s.backoff_max_us = 5 * SEC;
	s.backoff_jitter = 0;
	enqueue_specs(&r, &s, 1);
	const int64_t want[] = { 1, 2, 4, 5, 5 };
	for (int n = 0; n < 5; n++) {
		claim_call k;
		claim_now(&r, &k, "retry", 1, 60 * SEC, "w1");
		assert_int_equal(k.c.njobs, 1);
		assert_int_equal(k.c.jobs[0].attempt, n + 1);
		assert_int_equal(k.c.jobs[0].max_attempts, 6);
		int64_t token = k.c.jobs[0].lease_token;
		claim_end(&k);
		int64_t now = clock_now_us(), next = 0;
		assert_int_equal(fail_job(&r, &s.id, token, "flaky", true, &next), JOB_RETRYING);
		assert_int_equal(next - now, want[n] * SEC);
		assert_int_equal(fail_job(&r, &s.id, token, "flaky", true, NULL), JOB_ALREADY_FAILED);
		assert_int_equal(job_status(f->st, &s.id), TS_RETRYING);
		advance(&r, want[n] * SEC - 1);
		claim_now(&r, &k, "retry", 1, 60 * SEC, "w1");
		assert_int_equal(k.c.njobs, 0);     /* not before the delay */
		claim_end(&k);
		advance(&r, 1);
		assert_int_equal(job_status(f->st, &s.id), TS_PENDING);
	}
	claim_call k;
	claim_now(&r, &k, "retry", 1, 60 * SEC, "w1");
	assert_int_equal(k.c.jobs[0].attempt, 6);
	int64_t token = k.c.jobs[0].lease_token;
	claim_end(&k);
	assert_int_equal(fail_job(&r, &s.id, token, "flaky", true, NULL), JOB_DEAD_LETTERED);
	job_detail d = job_get(f->st, &s.id);
	assert_int_equal(d.task.status, TS_FAILURE);
	assert_true(d.task.dead_at > 0);
	assert_string_equal(d.task.error_code, "flaky");
	assert_int_equal(d.nattempts, 6);
	for (size_t i = 0; i < d.nattempts; i++) {
		assert_int_equal(d.attempts[i].attempt, (int32_t)i + 1);
		assert_int_equal(d.attempts[i].outcome, JA_FAILED);
		assert_string_equal(d.attempts[i].error_code, "flaky");
		assert_string_equal(d.attempts[i].error_message, "it broke");
	}
	job_detail_release(&d);
	rig_stop(&r);
}

static void test_non_retryable_goes_to_dead_letters(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	const char *codes[] = { "bad_input" };
	job_spec s[2] = { spec_of("nr"), spec_of("nr") };
	s[0].non_retryable = codes;
	s[0].nnon_retryable = 1;
	enqueue_specs(&r, s, 2);
	claim_call k;
	claim_now(&r, &k, "nr", 2, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 2);
	claim_end(&k);
	/* A code the job lists, and an error sent as not retryable. */
	assert_int_equal(fail_job(&r, &s[0].id, 1, "bad_input", true, NULL), JOB_DEAD_LETTERED);
	assert_int_equal(fail_job(&r, &s[1].id, 1, "anything", false, NULL), JOB_DEAD_LETTERED);
	for (int i = 0; i < 2; i++) {
		job_detail d = job_get(f->st, &s[i].id);
		assert_int_equal(d.task.status, TS_FAILURE);
		assert_true(d.task.dead_at > 0);
		assert_int_equal(d.task.attempt, 1);
		assert_int_equal(d.nattempts, 1);
		job_detail_release(&d);
	}
	assert_int_equal(fail_job(&r, &s[0].id, 1, "bad_input", true, NULL), JOB_ALREADY_FAILED);
	rig_stop(&r);
}

/* A heartbeat moves the lease to now + lease (not lease more than it
 * had), never past the attempt's timeout; the timeout fails the attempt
 * with code "timeout". */
static void test_heartbeat_and_timeout(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec s = spec_of("hb");
	s.timeout_secs = 30;
	enqueue_specs(&r, &s, 1);
	int64_t t0 = clock_now_us();
	claim_call k;
	claim_now(&r, &k, "hb", 1, 10 * SEC, "w1");
	assert_int_equal(k.c.jobs[0].lease_until, t0 + 10 * SEC);
	claim_end(&k);
	advance(&r, 6 * SEC);
	int64_t until = 0;
	assert_int_equal(heartbeat(&r, &s.id, 1, 10 * SEC, &until), JOB_LEASE_HELD);
	assert_int_equal(until, t0 + 16 * SEC);
	advance(&r, 9 * SEC);                   /* t0 + 15: the old lease's end passed, the new one holds */
	assert_int_equal(job_status(f->st, &s.id), TS_RUNNING);
	assert_int_equal(heartbeat(&r, &s.id, 1, 20 * SEC, &until), JOB_LEASE_HELD);
	assert_int_equal(until, t0 + 30 * SEC);   /* capped at the timeout */
	job_detail d = job_get(f->st, &s.id);
	assert_string_equal(d.progress, "{\"done\":1}");
	job_detail_release(&d);
	advance(&r, 15 * SEC);                  /* t0 + 30: timed out */
	d = job_get(f->st, &s.id);
	assert_int_equal(d.task.status, TS_RETRYING);
	assert_string_equal(d.task.error_code, "timeout");
	assert_int_equal(d.task.attempt, 2);
	assert_int_equal(d.nattempts, 1);
	assert_int_equal(d.attempts[0].outcome, JA_TIMED_OUT);
	job_detail_release(&d);
	assert_int_equal(heartbeat(&r, &s.id, 1, 10 * SEC, NULL), JOB_LEASE_LOST);
	weft_id nobody;
	id_new_v7(&nobody);
	assert_int_equal(heartbeat(&r, &nobody, 1, 10 * SEC, NULL), JOB_LEASE_NOT_FOUND);
	rig_stop(&r);
}

/* ArcRun's PATCH and PUT would bypass the lease fence: they conflict on a
 * job (409 current_status), and change nothing. Cancel works as on any
 * task; the holder learns it at its next heartbeat. */
static void test_arcrun_updates_refused_cancel_seen(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = enqueue_one(&r, "arc", "1");
	claim_call k;
	claim_now(&r, &k, "arc", 1, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	claim_end(&k);
	cmd_patch p;
	cmd_patch_init(&p);
	p.id = id;
	p.has_status = true;
	p.status = TS_SUCCESS;
	engine_call(r.eng, &p.base);
	assert_int_equal(p.base.result, WEFT_ECONFLICT);
	assert_int_equal(p.base.current_status, TS_RUNNING);
	cmd_counters cnt;
	cmd_counters_init(&cnt);
	cnt.id = id;
	cnt.success = 3;
	engine_call(r.eng, &cnt.base);
	assert_int_equal(cnt.base.result, WEFT_ECONFLICT);
	job_detail d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_RUNNING);
	assert_int_equal(d.task.success, 0);
	job_detail_release(&d);

	cmd_task c;
	cmd_task_init(&c, TASK_CANCEL);
	c.id = id;
	engine_call(r.eng, &c.base);
	assert_int_equal(c.base.result, 0);
	assert_int_equal(heartbeat(&r, &id, 1, 10 * SEC, NULL), JOB_LEASE_CANCELED);
	assert_int_equal(complete(&r, &id, 1, NULL), JOB_CANCELED);
	assert_int_equal(fail_job(&r, &id, 1, "x", true, NULL), JOB_CANCELED);
	advance(&r, 120 * SEC);                 /* its lease's deadline finds it canceled */
	assert_int_equal(job_status(f->st, &id), TS_CANCELED);
	rig_stop(&r);
}

/* A lease outlives its engine: a new engine on the store (a restart)
 * finds the running job's lease and ends it when it passes. */
static void test_lease_survives_restart(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id id = enqueue_one(&r, "restart", "1");
	claim_call k;
	claim_now(&r, &k, "restart", 1, 10 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	claim_end(&k);
	rig_stop(&r);
	clock_freeze(true);
	rig_start(f->st, &r);
	rig_lead(&r);
	advance(&r, 9 * SEC);
	assert_int_equal(job_status(f->st, &id), TS_RUNNING);
	advance(&r, 1 * SEC);
	job_detail d = job_get(f->st, &id);
	assert_int_equal(d.task.status, TS_PENDING);
	assert_int_equal(d.task.attempt, 2);
	job_detail_release(&d);
	rig_stop(&r);
}

/* PostgreSQL: a claim parked on one node is answered by another node's
 * enqueue (its commit's notification). */
static void test_two_nodes_wake_parked_claim(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig a, b;
	rig_start(f->st, &a);
	rig_lead(&a);               /* before the second node exists, which could take the lead first */
	store *st2 = open_store(f->url, NULL);
	rig_start(st2, &b);
	claim_call k;
	claim_submit(&a, &k, "shared", 1, 30 * SEC, 30 * SEC, "wa");
	assert_int_equal(engine_sync(a.eng), 0);
	assert_false(claim_answered(&k));
	weft_id id = enqueue_one(&b, "shared", "1");
	claim_wait(&k);                         /* no clock move: the wake-up did it */
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, &id));
	claim_end(&k);
	rig_stop(&b);
	rig_stop(&a);
	store_close(st2);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_enqueue_claim_complete),
		STORE_TEST_SQLITE(test_stale_token_changes_nothing),
		STORE_TEST_SQLITE(test_delayed_job_and_parked_claim),
		STORE_TEST_SQLITE(test_parked_claim_woken_by_enqueue),
		STORE_TEST_SQLITE(test_retry_delays_and_dead_letter),
		STORE_TEST_SQLITE(test_non_retryable_goes_to_dead_letters),
		STORE_TEST_SQLITE(test_heartbeat_and_timeout),
		STORE_TEST_SQLITE(test_arcrun_updates_refused_cancel_seen),
		STORE_TEST_SQLITE(test_lease_survives_restart),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_enqueue_claim_complete),
		STORE_TEST_PG(test_stale_token_changes_nothing),
		STORE_TEST_PG(test_delayed_job_and_parked_claim),
		STORE_TEST_PG(test_parked_claim_woken_by_enqueue),
		STORE_TEST_PG(test_retry_delays_and_dead_letter),
		STORE_TEST_PG(test_non_retryable_goes_to_dead_letters),
		STORE_TEST_PG(test_heartbeat_and_timeout),
		STORE_TEST_PG(test_arcrun_updates_refused_cancel_seen),
		STORE_TEST_PG(test_lease_survives_restart),
		STORE_TEST_PG(test_two_nodes_wake_parked_claim),
	};
	int rc = run_store_tests("engine jobs", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
