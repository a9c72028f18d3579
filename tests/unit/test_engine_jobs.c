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

#include <pthread.h>
#include <curl/curl.h>

#include "store_test.h"

#include "core/limits.h"
#include "engine/commands/jobs.h"
#include "engine/commands/tasks.h"
#include "engine/engine.h"
#include "exec/webhook.h"
#include "util/alloc.h"
#include "util/clock.h"

#define SEC 1000000LL

typedef struct rig {
	store *st;                  /* borrowed */
	dispatcher *disp;
	engine *eng;
	ssrf_policy ssrf;
} rig;

static void rig_start(store *st, rig *r)
{
	r->st = st;
	ssrf_policy_init(&r->ssrf);
	r->ssrf.skip = true;
	dispatcher_config dc = { .host_url = "http://127.0.0.1:8085", .concurrency = 4, .timeout_ms = 60000,
	                         .connect_timeout_ms = 2000, .max_response_bytes = 65536 };
	r->disp = dispatcher_new(&dc);
	engine_config ec = { .claim_timeout_us = 3600 * SEC, .start_window = 100, .dead_end_cancel = true,
	                     .ssrf = &r->ssrf, .delivery_window = 16, .max_attempts = 3, .backoff_base_us = 100000,
	                     .backoff_cap_us = 1000000, .lease_us = 60 * SEC };
	r->eng = engine_new(&ec, st, r->disp);
	assert_int_equal(engine_start(r->eng), 0);
}

/* PostgreSQL: the node takes the leadership (the database's deadlines,
 * job leases among them, are read by the leader) within a moment; the
 * cases wait for it rather than race it. */
static void rig_lead(rig *r)
{
	for (int i = 0; i < 5000 && !store_is_leader(r->st); i++)
		usleep(1000);
	assert_true(store_is_leader(r->st));
	assert_int_equal(engine_sync(r->eng), 0);
}

static void rig_stop(rig *r)
{
	clock_freeze(false);        /* the dispatcher bounds its shutdown by the clock */
	engine_stop(r->eng);
	dispatcher_free(r->disp);
	engine_free(r->eng);
	ssrf_policy_release(&r->ssrf);
}

static void advance(rig *r, int64_t us)
{
	clock_advance(us);
	assert_int_equal(engine_sync(r->eng), 0);
}

/* ---- commands -------------------------------------------------------------------- */

static job_spec spec_of(const char *queue)
{
	job_spec s;
	job_spec_init(&s);
	s.queue = queue;
	return s;
}

static void enqueue_specs(rig *r, job_spec *specs, size_t n)
{
	cmd_job_enqueue c;
	cmd_job_enqueue_init(&c);
	c.namespace = "default";
	c.jobs = specs;
	c.njobs = n;
	c.base.actor = "token:test";
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
}

static weft_id enqueue_one(rig *r, const char *queue, const char *input)
{
	job_spec s = spec_of(queue);
	s.input = input;
	enqueue_specs(r, &s, 1);
	return s.id;
}

/* A claim submitted without waiting for its answer. */
typedef struct claim_call {
	cmd_job_claim c;
	const char *queues[2];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool answered;
} claim_call;

static void claim_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	claim_call *k = arg;
	pthread_mutex_lock(&k->mu);
	k->answered = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static void claim_submit(rig *r, claim_call *k, const char *queue, int32_t max_jobs, int64_t wait_us,
                         int64_t lease_us, const char *worker)
{
	memset(k, 0, sizeof *k);
	cmd_job_claim_init(&k->c);
	k->queues[0] = queue;
	k->c.namespace = "default";
	k->c.queues = k->queues;
	k->c.nqueues = 1;
	k->c.worker_id = worker;
	k->c.hostname = "host";
	k->c.max_jobs = max_jobs;
	k->c.wait_us = wait_us;
	k->c.lease_us = lease_us;
	k->c.base.actor = "token:test";
	k->c.base.done = claim_done;
	k->c.base.arg = k;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	engine_submit(r->eng, &k->c.base);
}

static bool claim_answered(claim_call *k)
{
	pthread_mutex_lock(&k->mu);
	bool a = k->answered;
	pthread_mutex_unlock(&k->mu);
	return a;
}

static void claim_wait(claim_call *k)
{
	pthread_mutex_lock(&k->mu);
	while (!k->answered)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static void claim_end(claim_call *k)
{
	cmd_job_claim_release(&k->c);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
}

/* A claim answered at once (wait 0). */
static void claim_now(rig *r, claim_call *k, const char *queue, int32_t max_jobs, int64_t lease_us,
                      const char *worker)
{
	claim_submit(r, k, queue, max_jobs, 0, lease_us, worker);
	claim_wait(k);
	assert_int_equal(k->c.base.result, 0);
}

static job_outcome complete(rig *r, const weft_id *id, int64_t token, const char *result)
{
	job_complete_item it = { .id = *id, .lease_token = token, .result = result };
	cmd_job_complete c;
	cmd_job_complete_init(&c);
	c.base.actor = "token:test";
	c.items = &it;
	c.nitems = 1;
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
	return it.outcome;
}

static job_outcome fail_job(rig *r, const weft_id *id, int64_t token, const char *code, bool retryable,
                            int64_t *next_attempt_at)
{
	job_fail_item it = { .id = *id, .lease_token = token, .code = code, .message = "it broke",
	                     .retryable = retryable, .retry_after_us = -1 };
	cmd_job_fail c;
	cmd_job_fail_init(&c);
	c.items = &it;
	c.nitems = 1;
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
	if (next_attempt_at)
		*next_attempt_at = it.next_attempt_at;
	return it.outcome;
}

static job_lease_state heartbeat(rig *r, const weft_id *id, int64_t token, int64_t lease_us, int64_t *until)
{
	job_heartbeat_item it = { .id = *id, .lease_token = token, .progress = "{\"done\":1}" };
	cmd_job_heartbeat c;
	cmd_job_heartbeat_init(&c);
	c.namespace = "default";
	c.worker_id = "w1";
	c.lease_us = lease_us;
	c.items = &it;
	c.nitems = 1;
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
	if (until)
		*until = it.lease_until;
	return it.state;
}

static job_detail job_get(store *st, const weft_id *id)
{
	job_detail d;
	store_conn *c = store_reader_acquire(st);
	assert_int_equal(store_job_get(c, id, NULL, 0, &d), 0);
	store_reader_release(st, c);
	return d;
}

static task_status job_status(store *st, const weft_id *id)
{
	job_detail d = job_get(st, id);
	task_status s = d.task.status;
	job_detail_release(&d);
	return s;
}

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

static void test_release_and_dedup(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec s[3] = { spec_of("d"), spec_of("d"), spec_of("d") };
	for (int i = 0; i < 3; i++) {
		s[i].dedup_scope = JOB_DEDUP_ACTIVE;
		s[i].dedup_key = i < 2 ? "k1" : "k2";
	}
	enqueue_specs(&r, s, 3);
	assert_false(s[0].duplicate);
	assert_true(s[1].duplicate);            /* within the request */
	assert_true(id_eq(&s[1].id, &s[0].id));
	assert_false(s[2].duplicate);
	job_spec again = spec_of("d");
	again.dedup_scope = JOB_DEDUP_ACTIVE;
	again.dedup_key = "k1";
	enqueue_specs(&r, &again, 1);
	assert_true(again.duplicate);
	assert_true(id_eq(&again.id, &s[0].id));

	claim_call k;
	claim_now(&r, &k, "d", 1, 60 * SEC, "w1");
	assert_true(id_eq(&k.c.jobs[0].id, &s[0].id));
	claim_end(&k);
	job_release_item it = { .id = s[0].id, .lease_token = 1 };
	cmd_job_release rel;
	cmd_job_release_init(&rel);
	rel.items = &it;
	rel.nitems = 1;
	engine_call(r.eng, &rel.base);
	assert_int_equal(it.outcome, JOB_RELEASED);
	job_detail d = job_get(f->st, &s[0].id);
	assert_int_equal(d.task.status, TS_PENDING);
	assert_int_equal(d.task.attempt, 1);            /* a release is no attempt */
	assert_int_equal(d.nattempts, 1);
	assert_int_equal(d.attempts[0].outcome, JA_RELEASED);
	job_detail_release(&d);
	engine_call(r.eng, &rel.base);
	assert_int_equal(it.outcome, JOB_STALE_LEASE);

	claim_now(&r, &k, "d", 1, 60 * SEC, "w1");
	assert_true(id_eq(&k.c.jobs[0].id, &s[0].id));
	assert_int_equal(k.c.jobs[0].lease_token, 2);
	claim_end(&k);
	assert_int_equal(complete(&r, &s[0].id, 2, NULL), JOB_COMPLETED);
	/* The key is free once its job ended. */
	job_spec after = spec_of("d");
	after.dedup_scope = JOB_DEDUP_ACTIVE;
	after.dedup_key = "k1";
	enqueue_specs(&r, &after, 1);
	assert_false(after.duplicate);
	assert_false(id_eq(&after.id, &s[0].id));

	/* A window key holds for its window, whatever the job does. */
	job_spec w = spec_of("d");
	w.dedup_scope = JOB_DEDUP_WINDOW;
	w.dedup_key = "win";
	w.dedup_window_us = 10 * SEC;
	enqueue_specs(&r, &w, 1);
	assert_false(w.duplicate);
	job_spec w2 = w;
	enqueue_specs(&r, &w2, 1);
	assert_true(w2.duplicate);
	advance(&r, 10 * SEC);
	job_spec w3 = w;
	enqueue_specs(&r, &w3, 1);
	assert_false(w3.duplicate);
	UNUSED(f);
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

/* PostgreSQL: a claim parked on one node is answered by another node's
 * enqueue (its commit's notification). */
static void test_two_nodes_wake_parked_claim(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	store *st2 = open_store(f->url, NULL);
	rig a, b;
	rig_start(f->st, &a);
	rig_lead(&a);
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
		STORE_TEST_SQLITE(test_release_and_dedup),
		STORE_TEST_SQLITE(test_arcrun_updates_refused_cancel_seen),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_enqueue_claim_complete),
		STORE_TEST_PG(test_stale_token_changes_nothing),
		STORE_TEST_PG(test_delayed_job_and_parked_claim),
		STORE_TEST_PG(test_parked_claim_woken_by_enqueue),
		STORE_TEST_PG(test_retry_delays_and_dead_letter),
		STORE_TEST_PG(test_non_retryable_goes_to_dead_letters),
		STORE_TEST_PG(test_heartbeat_and_timeout),
		STORE_TEST_PG(test_release_and_dedup),
		STORE_TEST_PG(test_arcrun_updates_refused_cancel_seen),
		STORE_TEST_PG(test_two_nodes_wake_parked_claim),
	};
	int rc = run_store_tests("engine jobs", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
