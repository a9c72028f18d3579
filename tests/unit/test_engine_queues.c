/*
 * test_engine_queues.c — queues through the engine, with the clock frozen
 * (it moves only by advance()), on SQLite and PostgreSQL: a paused queue
 * keeps a parked claim parked and its resume answers it at once; a rate
 * limit of 20/s is held over 3 s of 50 ms steps; a parked claim on a
 * rate-limited queue is answered at the next token (a deadline) and one on
 * a key-limited queue when a job of that key ends.
 */
#include "util/common.h"

#include <curl/curl.h>

#include "job_test.h"

#include "engine/commands/queues.h"
#include "store/queues.h"

static void queue_cmd(rig *r, const char *queue, queue_action action, queue_limits l, unsigned set)
{
	cmd_queue c;
	cmd_queue_init(&c, action);
	c.namespace = "default";
	c.name = queue;
	c.limits = l;
	c.set = set;
	c.base.actor = "token:ops";
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
}

static void test_pause_keeps_a_claim_parked_and_resume_answers_it(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id first = enqueue_one(&r, "p", "1");
	queue_cmd(&r, "p", QUEUE_PAUSE, (queue_limits){ 0 }, 0);
	claim_call k;
	claim_now(&r, &k, "p", 5, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 0);
	claim_end(&k);

	claim_submit(&r, &k, "p", 5, 30 * SEC, 30 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	enqueue_one(&r, "p", "2");                 /* an enqueue wakes it, but the queue is paused */
	advance(&r, SEC);
	assert_false(claim_answered(&k));
	queue_cmd(&r, "p", QUEUE_RESUME, (queue_limits){ 0 }, 0);
	claim_wait(&k);                             /* no time passed */
	assert_int_equal(k.c.njobs, 2);
	assert_true(id_eq(&k.c.jobs[0].id, &first));
	claim_end(&k);
	rig_stop(&r);
}

/* 20 per second, burst 20, claimed greedily every 50 ms for 3 s. */
static void test_rate_limit_held_over_three_seconds(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	queue_cmd(&r, "r", QUEUE_CONFIGURE, (queue_limits){ .rate_limit = 20, .rate_period_ms = 1000, .rate_burst = 20 },
	          QUEUE_SET_RATE);
	job_spec specs[200];
	for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
		specs[i] = spec_of("r");
		specs[i].rate_key = "partner";
	}
	enqueue_specs(&r, specs, ARRAY_LEN(specs));
	size_t claimed = 0;
	for (int step = 0; step <= 60; step++) {
		if (step > 0)
			advance(&r, 50 * 1000);
		for (;;) {
			claim_call k;
			claim_now(&r, &k, "r", 100, 3600 * SEC, "w1");
			size_t got = k.c.njobs;
			claim_end(&k);
			if (got == 0)
				break;
			claimed += got;
		}
		/* claimed(t) <= 20 + 20 t at t = step / 20 s, and the bucket
		 * gives all it may: exactly that. */
		assert_int_equal(claimed, 20 + step);
	}
	assert_true(claimed >= 60);
	rig_stop(&r);
}

static void test_parked_claims_wake_at_the_next_token_and_a_freed_slot(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	/* One token per 10 s. */
	queue_cmd(&r, "t", QUEUE_CONFIGURE, (queue_limits){ .rate_limit = 1, .rate_period_ms = 10000, .rate_burst = 1 },
	          QUEUE_SET_RATE);
	enqueue_one(&r, "t", "1");
	enqueue_one(&r, "t", "2");
	claim_call k;
	claim_now(&r, &k, "t", 5, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	claim_end(&k);
	claim_submit(&r, &k, "t", 5, 30 * SEC, 60 * SEC, "w1");
	assert_int_equal(engine_sync(r.eng), 0);
	advance(&r, 9900 * 1000);
	assert_false(claim_answered(&k));
	advance(&r, 100 * 1000 + 1);                /* the token's deadline */
	claim_wait(&k);
	assert_int_equal(k.c.njobs, 1);
	claim_end(&k);

	/* One job of a key at a time: a parked claim gets the next one when the
	 * first ends. */
	queue_cmd(&r, "k", QUEUE_CONFIGURE, (queue_limits){ .key_concurrency = 1 }, QUEUE_SET_KEY_CONCURRENCY);
	job_spec specs[2] = { spec_of("k"), spec_of("k") };
	specs[0].concurrency_key = specs[1].concurrency_key = "customer-1";
	enqueue_specs(&r, specs, 2);
	claim_now(&r, &k, "k", 5, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	weft_id held = k.c.jobs[0].id;
	int64_t token = k.c.jobs[0].lease_token;
	claim_end(&k);
	claim_submit(&r, &k, "k", 5, 30 * SEC, 60 * SEC, "w2");
	assert_int_equal(engine_sync(r.eng), 0);
	advance(&r, SEC);
	assert_false(claim_answered(&k));
	assert_int_equal(complete(&r, &held, token, NULL), JOB_COMPLETED);
	claim_wait(&k);                             /* no time passed */
	assert_int_equal(k.c.njobs, 1);
	assert_true(id_eq(&k.c.jobs[0].id, &specs[1].id));
	claim_end(&k);
	rig_stop(&r);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_pause_keeps_a_claim_parked_and_resume_answers_it),
		STORE_TEST_SQLITE(test_rate_limit_held_over_three_seconds),
		STORE_TEST_SQLITE(test_parked_claims_wake_at_the_next_token_and_a_freed_slot),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_pause_keeps_a_claim_parked_and_resume_answers_it),
		STORE_TEST_PG(test_rate_limit_held_over_three_seconds),
		STORE_TEST_PG(test_parked_claims_wake_at_the_next_token_and_a_freed_slot),
	};
	int rc = run_store_tests("engine queues", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
