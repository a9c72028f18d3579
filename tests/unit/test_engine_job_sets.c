/*
 * test_engine_job_sets.c — job commands as sets, on SQLite and on
 * PostgreSQL: reports queued for one cycle answer as one after the other
 * would; dedup keys within a request and across requests; releases; a
 * claim of several queues; a claim's answer bounded in size; a replayed
 * enqueue (Idempotency-Key); the parents of a claimed job of a run;
 * parked claims served before younger ones.
 */
#include "util/common.h"

#include <curl/curl.h>

#include "job_test.h"
#include "store/jobs.h"

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

/* A claimed job with parents (a run's) carries their results. The link
 * is written here behind the engine's back, as a run's submission would. */
static void test_claim_carries_parents(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	weft_id parent = enqueue_one(&r, "dag-a", "1");
	claim_call k;
	claim_now(&r, &k, "dag-a", 1, 60 * SEC, "w1");
	claim_end(&k);
	assert_int_equal(complete(&r, &parent, 1, "{\"x\":1}"), JOB_COMPLETED);
	weft_id child = enqueue_one(&r, "dag-b", "2");
	char sql[512];
	snprintf(sql, sizeof sql,
	         "INSERT INTO link (parent_id, child_id, requires_success) VALUES ('%s', '%s', 1);"
	         "UPDATE task SET shape = 1 WHERE id = '%s'; UPDATE task SET name = 'first' WHERE id = '%s'",
	         parent.str, child.str, child.str, parent.str);
	sql_exec(f, sql);
	claim_now(&r, &k, "dag-b", 1, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	assert_int_equal(k.c.jobs[0].nparents, 1);
	assert_true(id_eq(&k.c.jobs[0].parents[0].id, &parent));
	assert_string_equal(k.c.jobs[0].parents[0].name, "first");
	assert_int_equal(k.c.jobs[0].parents[0].status, TS_SUCCESS);
	assert_string_equal(k.c.jobs[0].parents[0].result, "{\"x\":1}");
	claim_end(&k);
	rig_stop(&r);
}

/* An enqueue with an Idempotency-Key is applied once: the same request
 * again answers the first one's jobs. */
static void test_enqueue_idempotency_key(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	job_spec a[2] = { spec_of("idem"), spec_of("idem") };
	job_spec b[2] = { spec_of("idem"), spec_of("idem") };
	cmd_job_enqueue c;
	cmd_job_enqueue_init(&c);
	c.namespace = "default";
	c.jobs = a;
	c.njobs = 2;
	c.base.idem_key = "key-1";
	c.base.idem_fingerprint = "fp";
	engine_call(r.eng, &c.base);
	assert_int_equal(c.base.result, 0);
	assert_false(c.base.replayed);
	cmd_job_enqueue_init(&c);
	c.namespace = "default";
	c.jobs = b;
	c.njobs = 2;
	c.base.idem_key = "key-1";
	c.base.idem_fingerprint = "fp";
	engine_call(r.eng, &c.base);
	assert_int_equal(c.base.result, 0);
	assert_true(c.base.replayed);
	for (int i = 0; i < 2; i++) {
		assert_true(id_eq(&a[i].id, &b[i].id));
		assert_int_equal(b[i].status, TS_PENDING);
		assert_false(b[i].duplicate);
	}
	assert_int_equal(c.created, 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task"), 2);
	rig_stop(&r);
}

/* A claim naming several queues takes from them in the order listed, and
 * does not stop at the first. */
static void test_claim_several_queues(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec s[4] = { spec_of("second"), spec_of("second"), spec_of("first"), spec_of("second") };
	s[3].priority = 10;
	enqueue_specs(&r, s, 4);
	claim_call k;
	claim_now(&r, &k, "first", 3, 30 * SEC, "w1");
	assert_int_equal(k.c.njobs, 1);
	claim_end(&k);
	/* That claim took "first"'s job; now both queues, "second" listed
	 * first this time. */
	job_spec more = spec_of("first");
	enqueue_specs(&r, &more, 1);
	memset(&k, 0, sizeof k);
	cmd_job_claim_init(&k.c);
	const char *qs[] = { "second", "first" };
	k.c.namespace = "default";
	k.c.queues = qs;
	k.c.nqueues = 2;
	k.c.worker_id = "w1";
	k.c.max_jobs = 10;
	k.c.lease_us = 30 * SEC;
	engine_call(r.eng, &k.c.base);
	assert_int_equal(k.c.base.result, 0);
	assert_int_equal(k.c.njobs, 4);
	assert_true(id_eq(&k.c.jobs[0].id, &s[3].id));      /* priority first */
	assert_string_equal(k.c.jobs[0].queue, "second");
	assert_string_equal(k.c.jobs[1].queue, "second");
	assert_string_equal(k.c.jobs[2].queue, "second");
	assert_string_equal(k.c.jobs[3].queue, "first");
	assert_true(id_eq(&k.c.jobs[3].id, &more.id));
	cmd_job_claim_release(&k.c);
	UNUSED(f);
	rig_stop(&r);
}

/* A claim's answer stops at CLAIM_ANSWER_MAX_BYTES of payloads: the rows
 * past it are pending again at once, for the next claim. */
static void test_claim_answer_bounded(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	enum { PAYLOAD = 1 << 20, NJOBS = 34 };
	char *big = xmalloc(PAYLOAD + 1);
	memset(big, 'x', PAYLOAD);
	big[0] = big[PAYLOAD - 1] = '"';
	big[PAYLOAD] = '\0';
	job_spec specs[NJOBS];
	for (int i = 0; i < NJOBS; i++) {
		specs[i] = spec_of("big");
		specs[i].input = big;
	}
	enqueue_specs(&r, specs, NJOBS);
	free(big);
	claim_call k;
	claim_now(&r, &k, "big", NJOBS, 60 * SEC, "w1");
	size_t first = k.c.njobs;
	assert_true(first >= 30 && first < NJOBS);
	size_t bytes = 0;
	for (size_t i = 0; i < first; i++)
		bytes += strlen(k.c.jobs[i].input);
	assert_true(bytes <= CLAIM_ANSWER_MAX_BYTES);
	claim_end(&k);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE status = 'pending'"), NJOBS - (int64_t)first);
	claim_now(&r, &k, "big", NJOBS, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, NJOBS - first);
	claim_end(&k);
	rig_stop(&r);
}

/* Reports queued for one cycle are applied as sets and answer as one
 * after the other would: a complete sent twice completes once; a fail
 * after a complete of the same job is stale; a claim and an enqueue of the
 * same cycle meet (the parked claim gets the job at that commit). */
static void test_reports_as_one_set(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	job_spec specs[3] = { spec_of("set"), spec_of("set"), spec_of("set") };
	enqueue_specs(&r, specs, 3);
	claim_call k;
	claim_now(&r, &k, "set", 3, 60 * SEC, "w1");
	assert_int_equal(k.c.njobs, 3);
	claim_end(&k);
	weft_id a = specs[0].id, b = specs[1].id, c = specs[2].id;

	job_complete_item c1[2] = { { .id = a, .lease_token = 1, .result = "1" }, { .id = b, .lease_token = 9 } };
	job_complete_item c2[1] = { { .id = a, .lease_token = 1, .result = "2" } };
	job_fail_item f1[2] = { { .id = a, .lease_token = 1, .code = "late", .retryable = true, .retry_after_us = -1 },
	                        { .id = c, .lease_token = 1, .code = "bad", .retryable = true, .retry_after_us = -1 } };
	cmd_job_complete cc1, cc2;
	cmd_job_fail cf;
	cmd_job_complete_init(&cc1);
	cc1.items = c1;
	cc1.nitems = 2;
	cmd_job_complete_init(&cc2);
	cc2.items = c2;
	cc2.nitems = 1;
	cmd_job_fail_init(&cf);
	cf.items = f1;
	cf.nitems = 2;
	claim_call parked;
	claim_submit(&r, &parked, "later-q", 1, 30 * SEC, 30 * SEC, "w2");
	assert_int_equal(engine_sync(r.eng), 0);
	job_spec late = spec_of("later-q");
	cmd_job_enqueue ce;
	cmd_job_enqueue_init(&ce);
	ce.namespace = "default";
	ce.jobs = &late;
	ce.njobs = 1;
	engine_cmd *cmds[] = { &cc1.base, &cc2.base, &cf.base, &ce.base };
	apply_in_one_cycle(r.eng, cmds, ARRAY_LEN(cmds));
	assert_int_equal(c1[0].outcome, JOB_COMPLETED);
	assert_int_equal(c1[1].outcome, JOB_STALE_LEASE);
	assert_int_equal(c2[0].outcome, JOB_ALREADY_COMPLETED);
	assert_int_equal(f1[0].outcome, JOB_STALE_LEASE);
	assert_int_equal(f1[1].outcome, JOB_RETRYING);
	job_detail d = job_get(f->st, &a);
	assert_string_equal(d.result, "1");
	job_detail_release(&d);
	claim_wait(&parked);
	assert_int_equal(parked.c.njobs, 1);
	assert_true(id_eq(&parked.c.jobs[0].id, &late.id));
	claim_end(&parked);
	rig_stop(&r);
}

/* Claims are served oldest first: a job enqueued in the cycle of a new
 * claim goes to the claim that was waiting already. */
static void test_parked_claims_served_first(void **state)
{
	fixture *f = *state;
	clock_freeze(true);
	rig r;
	rig_start(f->st, &r);
	rig_lead(&r);
	claim_call old, young;
	claim_submit(&r, &old, "fair", 1, 30 * SEC, 30 * SEC, "w-old");
	assert_int_equal(engine_sync(r.eng), 0);
	assert_false(claim_answered(&old));

	job_spec s = spec_of("fair");
	cmd_job_enqueue ce;
	cmd_job_enqueue_init(&ce);
	ce.namespace = "default";
	ce.jobs = &s;
	ce.njobs = 1;
	memset(&young, 0, sizeof young);
	pthread_mutex_init(&young.mu, NULL);
	pthread_cond_init(&young.cv, NULL);
	cmd_job_claim_init(&young.c);
	young.queues[0] = "fair";
	young.c.namespace = "default";
	young.c.queues = young.queues;
	young.c.nqueues = 1;
	young.c.worker_id = "w-young";
	young.c.max_jobs = 1;
	young.c.wait_us = 30 * SEC;
	young.c.lease_us = 30 * SEC;
	young.c.base.done = claim_done;
	young.c.base.arg = &young;
	engine_cmd *cmds[] = { &ce.base, &young.c.base };
	apply_in_one_cycle(r.eng, cmds, ARRAY_LEN(cmds));
	claim_wait(&old);
	assert_int_equal(old.c.njobs, 1);
	assert_true(id_eq(&old.c.jobs[0].id, &s.id));
	assert_false(claim_answered(&young));
	weft_id next = enqueue_one(&r, "fair", "2");
	claim_wait(&young);
	assert_int_equal(young.c.njobs, 1);
	assert_true(id_eq(&young.c.jobs[0].id, &next));
	claim_end(&old);
	claim_end(&young);
	UNUSED(f);
	rig_stop(&r);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_release_and_dedup),
		STORE_TEST_SQLITE(test_claim_carries_parents),
		STORE_TEST_SQLITE(test_enqueue_idempotency_key),
		STORE_TEST_SQLITE(test_claim_several_queues),
		STORE_TEST_SQLITE(test_claim_answer_bounded),
		STORE_TEST_SQLITE(test_reports_as_one_set),
		STORE_TEST_SQLITE(test_parked_claims_served_first),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_release_and_dedup),
		STORE_TEST_PG(test_claim_carries_parents),
		STORE_TEST_PG(test_enqueue_idempotency_key),
		STORE_TEST_PG(test_claim_several_queues),
		STORE_TEST_PG(test_claim_answer_bounded),
		STORE_TEST_PG(test_reports_as_one_set),
		STORE_TEST_PG(test_parked_claims_served_first),
	};
	int rc = run_store_tests("engine job sets", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
