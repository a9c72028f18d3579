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
 * At most WORKER_WEBHOOK_CONCURRENCY start calls are in flight, so that
 * setting bounds the load on the services (with 1, tasks start strictly in
 * priority order); claiming everything at once would leave a large batch
 * claimed behind a few HTTP slots until every claim went stale.
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
	engine_wake_starts(e);          /* a slot freed */
	engine_wake_deliveries(e);      /* the task's deliveries no longer wait for it */
}

static void job_free(engine_job *job)
{
	start_job *j = (start_job *)job;
	webhook_call_free(j->call);
	free(j);
}

static int webhook_result(engine *e, engine_job *job, int64_t now);

static const job_ops start_job_ops = {
	.name = "webhook.start",
	.actor = "webhook",
	.launch = job_launch,
	.landed = job_landed,
	.apply = webhook_result,
	.free = job_free,
};

/* ---- start ----------------------------------------------------------------------- */

static int webhook_start(engine *e, const task_row *t, int64_t now)
{
	char key[128];
	start_key(key, sizeof(key), &t->id, t->attempt);
	/* A call older than the claim timeout is stale, boundary included: the
	 * requeue of a stale claim and its next claim can share a cycle. */
	ledger_claim_result lr;
	int rc = store_ledger_claim(e->w, key, &t->id, TRIGGER_START, COND_SUCCESS, now,
	                            now - e->cfg.claim_timeout_us + 1, &lr);
	if (rc != 0)
		return rc;
	if (lr == LEDGER_DONE) {
		/* This attempt's start webhook already succeeded: do not call it twice. */
		engine_count(e, "webhook_idempotent_skips_total", "trigger=\"start\"", 1);
		bool applied;
		return engine_task_running(e, &t->id, now, &applied);
	}
	if (lr == LEDGER_BUSY) {
		/* A call for this attempt is still within its claim window: stay
		 * claimed; the claim deadline requeues the task if it never answers. */
		engine_count(e, "webhook_idempotent_conflicts_total", NULL, 1);
		deadline_arm(e, now + e->cfg.claim_timeout_us, &deadline_claim_stale, &t->id);
		return 0;
	}
	action_row *actions = NULL;
	size_t n = 0;
	if ((rc = store_task_actions_for(e->w, &t->id, TRIGGER_START, COND_SUCCESS, &actions, &n)) != 0)
		return rc;
	start_job *j = xcalloc(1, sizeof(*j));
	j->job = (engine_job){ .ops = &start_job_ops, .window = &state_of(e)->window, .holds_task = true,
	                       .task_id = t->id };
	j->e = e;
	j->call = start_call(t, key, actions, n);
	store_free_actions(actions, n);
	engine_launch(e, &j->job);
	deadline_arm(e, now + e->cfg.claim_timeout_us, &deadline_claim_stale, &t->id);
	return 0;
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

static int webhook_result(engine *e, engine_job *job, int64_t now)
{
	webhook_call *call = ((start_job *)job)->call;
	int rc;
	if (call->ok) {
		bool applied = false;
		rc = engine_task_running(e, &call->task_id, now, &applied);
		if (rc == 0 && applied && call->cancel_action)
			register_cancel_action(e, call);
		if (rc == 0)
			rc = store_ledger_finish(e->w, call->key, true, call->http_status, NULL, now);
		return rc;
	}
	if ((rc = store_ledger_finish(e->w, call->key, false, call->http_status, call->error, now)) != 0)
		return rc;
	bool applied, retried;
	rc = dag_fail_task(e, &call->task_id, TS_BIT(TS_CLAIMED), call->error ? call->error : "on_start webhook failed",
	                   RETRY_ON_WEBHOOK_FAILURE, true, now, &applied, &retried);
	return rc == WEFT_ENOTFOUND ? 0 : rc;
}

/* ---- cancel and the rest ------------------------------------------------------------ */

static int webhook_cancel(engine *e, const weft_id *id, const task_row *row, int64_t now)
{
	return outbox_add_task_webhooks(e, id, row, TRIGGER_CANCEL, COND_SUCCESS, now);
}

static size_t webhook_room(const engine *e)
{
	return engine_window_room(&state_of(e)->window);
}

static void *webhook_attach(engine *e)
{
	webhook_state *s = xcalloc(1, sizeof(*s));
	s->window.limit = (size_t)MAX(e->cfg.start_window, 1);
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
