/*
 * webhook_executor.c — the webhook executor: a task is started by calling
 * its on_start webhooks, and is running once they answered 2xx.
 *
 *   start:  the start ledger's key for this attempt is claimed in the
 *           claiming transaction ("<task>:start" for the first attempt,
 *           "<task>:start:<n>" for attempt n > 1); the start actions are
 *           rendered with the task's metadata and launched as one call
 *           after the commit; the claim deadline requeues the task if the
 *           call never answers. A key that already succeeded (the answer
 *           was recorded but the task requeued) marks the task running
 *           without calling the service twice; a key still in flight within
 *           its claim window leaves the task claimed.
 *   result: 2xx -> claimed becomes running (and a cancel action returned
 *           by the answer is registered); otherwise the failure path, which
 *           may retry under the task's policy.
 *   cancel: the task's cancel webhooks, written to the outbox.
 *
 * The dispatcher runs at most WORKER_WEBHOOK_CONCURRENCY start calls at
 * once, so that setting bounds the load on the services (with 1, tasks
 * start strictly in priority order). The engine claims as many, and as
 * many again while the calls come back quickly (engine_window: those wait
 * in the dispatcher's start lane for a slot); claiming everything at once
 * would leave a large batch claimed behind a few HTTP slots until every
 * claim went stale.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "exec/executor.h"
#include "exec/template.h"
#include "exec/webhook.h"

typedef struct webhook_state {
	engine_window window;
} webhook_state;

typedef struct start_job {
	engine_job job;
	engine *e;
	webhook_call *call;
} start_job;

static webhook_state *state_of(const engine *e)
{
	return executor_state(e, &executor_webhook);
}

/* "<task>:start" for the first attempt, "<task>:start:<n>" for attempt n > 1. */
static void start_key(char *out, size_t n, const weft_id *task, int32_t attempt)
{
	if (attempt > 1)
		snprintf(out, n, "%s:start:%d", task->str, (int)attempt);
	else
		snprintf(out, n, "%s:start", task->str);
}

/* The start call of a task: its start actions rendered with its metadata. */
static webhook_call *start_call(const task_row *t, const char *key, const action_row *actions, size_t n)
{
	char **rendered = xcalloc(n ? n : 1, sizeof(char *));
	const char **params = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (template_has_placeholders(actions[i].params))
			rendered[i] = template_render_params(actions[i].params, t->metadata);
		params[i] = rendered[i] ? rendered[i] : actions[i].params;
	}
	webhook_call *call = webhook_call_new(&t->id, TRIGGER_START, COND_SUCCESS, key, params, n);
	call->lane = WEBHOOK_LANE_START;
	for (size_t i = 0; i < n; i++)
		free(rendered[i]);
	free(rendered);
	free(params);
	return call;
}

/* ---- the job --------------------------------------------------------------------- */

/* The dispatcher thread: the call finished. */
static void on_call_done(webhook_call *call, void *arg)
{
	UNUSED(call);
	start_job *j = arg;
	engine_job_done(j->e, &j->job);
}

static void job_launch(engine *e, engine_job *job)
{
	start_job *j = (start_job *)job;
	j->call->done = on_call_done;
	j->call->arg = j;
	dispatcher_submit(e->disp, j->call);
}

static void job_landed(engine *e, engine_job *job)
{
	UNUSED(job);
	engine_start_slot_freed(e);
	engine_wake_held_deliveries(e);     /* the task's deliveries no longer wait for it */
}

static void job_free(engine_job *job)
{
	start_job *j = (start_job *)job;
	webhook_call_free(j->call);
	free(j);
}

static int webhook_result_one(engine *e, engine_job *job, int64_t now);
static int webhook_result(engine *e, engine_job **jobs, size_t n, int64_t now);

static const job_ops start_job_ops = {
	.name = "webhook.start",
	.actor = "webhook",
	.launch = job_launch,
	.landed = job_landed,
	.apply = webhook_result_one,
	.apply_many = webhook_result,
	.free = job_free,
};

/* ---- start ----------------------------------------------------------------------- */

static action_query *start_queries(const task_row *tasks, const size_t *at, size_t n)
{
	action_query *q = xcalloc(n ? n : 1, sizeof *q);
	for (size_t k = 0; k < n; k++)
		q[k] = (action_query){ .task_id = tasks[at != NULL ? at[k] : k].id, .trigger = TRIGGER_START,
		                       .condition = COND_SUCCESS };
	return q;
}

/* Launches the start calls of the claimed tasks tasks[at[0..n-1]]: their
 * start actions read in one statement. */
static int launch_starts(engine *e, const task_row *tasks, const size_t *at, size_t n, char (*keys)[128],
                         int64_t now)
{
	if (n == 0)
		return 0;
	action_query *q = start_queries(tasks, at, n);
	action_row *actions = NULL;
	size_t na = 0;
	int rc = store_task_actions_many(e->w, q, n, &actions, &na);
	for (size_t k = 0, j = 0; k < n && rc == 0; k++) {
		const task_row *t = &tasks[at[k]];
		size_t first = j;
		while (j < na && id_eq(&actions[j].task_id, &t->id))
			j++;
		start_job *sj = xcalloc(1, sizeof(*sj));
		sj->job = (engine_job){ .ops = &start_job_ops, .window = &state_of(e)->window, .holds_task = true,
		                        .task_id = t->id };
		sj->e = e;
		sj->call = start_call(t, keys[at[k]], actions + first, j - first);
		engine_launch(e, &sj->job);
		deadline_arm(e, now + e->cfg.claim_timeout_us, &deadline_claim_stale, &t->id);
	}
	store_free_actions(actions, na);
	free(q);
	return rc;
}

static int webhook_start(engine *e, const task_row *tasks, size_t n, int64_t now)
{
	char (*keys)[128] = xcalloc(n ? n : 1, sizeof *keys);
	ledger_claim *claims = xcalloc(n ? n : 1, sizeof *claims);
	for (size_t i = 0; i < n; i++) {
		start_key(keys[i], sizeof keys[i], &tasks[i].id, tasks[i].attempt);
		claims[i] = (ledger_claim){ .key = keys[i], .task = tasks[i].id };
	}
	/* Their start actions come back with the ledger's answer when every
	 * task is to be called, as is usual (store_task_actions_prefetch). */
	action_query *q = start_queries(tasks, NULL, n);
	store_task_actions_prefetch(e->w, q, n);
	free(q);
	/* A call older than the claim timeout is stale, boundary included: the
	 * requeue of a stale claim and its next claim can share a cycle. */
	int rc = store_ledger_claim_many(e->w, claims, n, TRIGGER_START, COND_SUCCESS, now,
	                                 now - e->cfg.claim_timeout_us + 1);
	weft_id *done = xcalloc(n ? n : 1, sizeof *done);
	bool *applied = xcalloc(n ? n : 1, sizeof *applied);
	size_t *launch = xcalloc(n ? n : 1, sizeof *launch);
	size_t ndone = 0, nlaunch = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (claims[i].result == LEDGER_DONE) {
			/* This attempt's start webhook already succeeded: do not
			 * call it twice. */
			engine_count(e, "webhook_idempotent_skips_total", "trigger=\"start\"", 1);
			done[ndone++] = tasks[i].id;
		} else if (claims[i].result == LEDGER_BUSY) {
			/* A call for this attempt is still within its claim window:
			 * stay claimed; the claim deadline requeues the task if it
			 * never answers. */
			engine_count(e, "webhook_idempotent_conflicts_total", NULL, 1);
			deadline_arm(e, now + e->cfg.claim_timeout_us, &deadline_claim_stale, &tasks[i].id);
		} else {
			launch[nlaunch++] = i;
		}
	}
	if (rc == 0)
		rc = engine_tasks_running(e, done, ndone, now, applied);
	if (rc == 0)
		rc = launch_starts(e, tasks, launch, nlaunch, keys, now);
	free(launch);
	free(applied);
	free(done);
	free(claims);
	free(keys);
	return rc;
}

/* ---- result ------------------------------------------------------------------------ */

static void register_cancel_action(engine *e, const webhook_call *call)
{
	json_t *obj = json_parse_text(call->cancel_action);
	const json_t *params = json_object_get(obj, "params");
	char err[256];
	if (!json_is_object(params) || webhook_params_check(params, e->cfg.ssrf, err, sizeof(err)) != 0) {
		log_warn("engine", "task %s: cancel action returned by on_start ignored: %s", call->task_id.str,
		         json_is_object(params) ? err : "no params object");
	} else {
		char *text = json_dump_compact(params);
		action_row a = { .trigger = TRIGGER_CANCEL, .condition = COND_SUCCESS, .params = text };
		if (store_action_insert(e->w, &call->task_id, &a) != 0)
			log_error("engine", "task %s: could not save its cancel action", call->task_id.str);
		free(text);
	}
	json_decref(obj);
}

/* 2xx: claimed -> running (registering a cancel action the answer
 * returned); otherwise the failure path, which may retry. Every call's
 * ledger row records its outcome. */
static int webhook_result(engine *e, engine_job **jobs, size_t n, int64_t now)
{
	weft_id *ok = xcalloc(n, sizeof *ok);
	bool *applied = xcalloc(n, sizeof *applied);
	const webhook_call **ok_calls = xcalloc(n, sizeof *ok_calls);
	fail_req *failed = xcalloc(n, sizeof *failed);
	ledger_outcome *outcomes = xcalloc(n, sizeof *outcomes);
	size_t nok = 0, nfailed = 0;
	for (size_t i = 0; i < n; i++) {
		const webhook_call *call = ((start_job *)jobs[i])->call;
		outcomes[i] = (ledger_outcome){ .key = call->key, .ok = call->ok, .http_status = call->http_status,
		                                .error = call->ok ? NULL : call->error };
		if (call->ok) {
			ok_calls[nok] = call;
			ok[nok++] = call->task_id;
		} else {
			failed[nfailed++] = (fail_req){ .id = call->task_id, .from_mask = TS_BIT(TS_CLAIMED),
			                                .reason = call->error ? call->error : "on_start webhook failed",
			                                .cause = RETRY_ON_WEBHOOK_FAILURE, .touch_last_updated = true };
		}
	}
	/* The ledger first: it goes with the update's round trip. */
	int rc = store_ledger_finish_many(e->w, outcomes, n, now);
	if (rc == 0)
		rc = engine_tasks_running(e, ok, nok, now, applied);
	for (size_t i = 0; i < nok && rc == 0; i++)
		if (applied[i] && ok_calls[i]->cancel_action)
			register_cancel_action(e, ok_calls[i]);
	if (rc == 0)
		rc = dag_fail_tasks(e, failed, nfailed, false, now);
	free(outcomes);
	free(failed);
	free(ok_calls);
	free(applied);
	free(ok);
	return rc;
}

static int webhook_result_one(engine *e, engine_job *job, int64_t now)
{
	return webhook_result(e, &job, 1, now);
}

/* ---- cancel and the rest ------------------------------------------------------------ */

static int webhook_cancel(engine *e, const task_row *rows, size_t n, int64_t now)
{
	task_webhooks *reqs = xcalloc(n ? n : 1, sizeof *reqs);
	for (size_t i = 0; i < n; i++)
		reqs[i] = (task_webhooks){ &rows[i], TRIGGER_CANCEL, COND_SUCCESS };
	int rc = outbox_add_task_webhooks(e, reqs, n, now);
	free(reqs);
	return rc;
}

static size_t webhook_room(const engine *e)
{
	return engine_window_room(&state_of(e)->window, clock_mono_us());
}

static void *webhook_attach(engine *e)
{
	webhook_state *s = xcalloc(1, sizeof(*s));
	/* The dispatcher's start lane runs start_window calls at once. */
	engine_window_init(&s->window, (size_t)MAX(e->cfg.start_window, 1), (size_t)MAX(e->cfg.start_window, 1));
	return s;
}

static void webhook_detach(void *state)
{
	free(state);
}

const executor executor_webhook = {
	.name = "webhook",
	.attach = webhook_attach,
	.detach = webhook_detach,
	.room = webhook_room,
	.start = webhook_start,
	.result = webhook_result,
	.cancel = webhook_cancel,
};
