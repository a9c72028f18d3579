/*
 * job_test.h — what the engine's job test files share: an engine on the
 * fixture's store (store_test.h), and the job commands as one-line calls.
 * The clock is frozen by the cases: time moves only by advance().
 */
#ifndef WEFT_TESTS_JOB_TEST_H
#define WEFT_TESTS_JOB_TEST_H

#include "util/common.h"

#include <pthread.h>

#include "store_test.h"

#include "core/limits.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"
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

static inline void rig_start(store *st, rig *r)
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
static inline void rig_lead(rig *r)
{
	for (int i = 0; i < 5000 && !store_is_leader(r->st); i++)
		usleep(1000);
	assert_true(store_is_leader(r->st));
	assert_int_equal(engine_sync(r->eng), 0);
}

static inline void rig_stop(rig *r)
{
	clock_freeze(false);        /* the dispatcher bounds its shutdown by the clock */
	engine_stop(r->eng);
	dispatcher_free(r->disp);
	engine_free(r->eng);
	ssrf_policy_release(&r->ssrf);
}

static inline void advance(rig *r, int64_t us)
{
	clock_advance(us);
	assert_int_equal(engine_sync(r->eng), 0);
}

/* ---- commands -------------------------------------------------------------------- */

static inline job_spec spec_of(const char *queue)
{
	job_spec s;
	job_spec_init(&s);
	s.queue = queue;
	return s;
}

static inline void enqueue_specs(rig *r, job_spec *specs, size_t n)
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

static inline weft_id enqueue_one(rig *r, const char *queue, const char *input)
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

static inline void claim_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	claim_call *k = arg;
	pthread_mutex_lock(&k->mu);
	k->answered = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static inline void claim_submit(rig *r, claim_call *k, const char *queue, int32_t max_jobs, int64_t wait_us,
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

static inline bool claim_answered(claim_call *k)
{
	pthread_mutex_lock(&k->mu);
	bool a = k->answered;
	pthread_mutex_unlock(&k->mu);
	return a;
}

static inline void claim_wait(claim_call *k)
{
	pthread_mutex_lock(&k->mu);
	while (!k->answered)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static inline void claim_end(claim_call *k)
{
	cmd_job_claim_release(&k->c);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
}

/* A claim answered at once (wait 0). */
static inline void claim_now(rig *r, claim_call *k, const char *queue, int32_t max_jobs, int64_t lease_us,
                      const char *worker)
{
	claim_submit(r, k, queue, max_jobs, 0, lease_us, worker);
	claim_wait(k);
	assert_int_equal(k->c.base.result, 0);
}

static inline job_outcome complete(rig *r, const weft_id *id, int64_t token, const char *result)
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

static inline job_outcome fail_job(rig *r, const weft_id *id, int64_t token, const char *code, bool retryable,
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

static inline job_lease_state heartbeat(rig *r, const weft_id *id, int64_t token, int64_t lease_us, int64_t *until)
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

static inline job_detail job_get(store *st, const weft_id *id)
{
	job_detail d;
	store_conn *c = store_reader_acquire(st);
	assert_int_equal(store_job_get(c, id, NULL, 0, &d), 0);
	store_reader_release(st, c);
	return d;
}

static inline task_status job_status(store *st, const weft_id *id)
{
	job_detail d = job_get(st, id);
	task_status s = d.task.status;
	job_detail_release(&d);
	return s;
}

/* A command that holds the engine inside a cycle while others queue, so
 * that the next cycle takes them all as one set. */
typedef struct gate {
	engine_cmd base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, open;
} gate;

static inline int apply_gate(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(e);
	UNUSED(now);
	gate *g = (gate *)cmd;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	cmd->result = 0;
	return 0;
}

static const engine_op op_gate = { .name = "test.gate", .apply = apply_gate, .failure_metric = "x" };

static inline void apply_in_one_cycle(engine *eng, engine_cmd **cmds, size_t n)
{
	gate g = { .base = { .op = &op_gate } };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	engine_submit(eng, &g.base);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cv, &g.mu);
	for (size_t i = 0; i < n; i++)
		engine_submit(eng, cmds[i]);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	assert_int_equal(engine_sync(eng), 0);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
}

#endif
