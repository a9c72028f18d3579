/*
 * outbox.c — webhooks that must not be lost: the rows.
 *
 * End (on_success / on_failure), cancel and batch-complete webhooks are not
 * called directly: the engine writes one outbox row per action in the same
 * transaction as the state change that causes it, with the exact request
 * to send. parts/deliveries.c leases and delivers them. A crash at any point
 * loses nothing: rows are durable before anything is sent.
 *
 * Keys (Idempotency-Key, stable across retries):
 *     <task>:end:success | <task>:end:failure | <task>:cancel
 *     <task>:cancel:attempt:<n>     for a cancel of attempt n > 1
 *     batch:<batch>:complete
 * with ":<i>" appended for the i-th (i > 0) action of the same trigger.
 *
 * Bodies are enriched under an "arcrun" key: an object body gains it, an
 * absent body becomes {"arcrun": {...}}, any other body is sent unchanged.
 */
#include "util/common.h"
#include "core/backoff.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "exec/template.h"

static json_t *ts_or_null(int64_t us)
{
	if (us == 0)
		return json_null();
	char text[TIME_RFC3339_MAX];
	time_format_rfc3339(us, text);
	return json_string(text);
}

/* params with its body enriched by `arcrun` (a new reference is stolen). */
static char *enrich(const char *params_text, json_t *arcrun)
{
	json_t *params = json_parse_text(params_text);
	if (!json_is_object(params)) {
		json_decref(params);
		json_decref(arcrun);
		return xstrdup(params_text);
	}
	json_t *body = json_object_get(params, "body");
	if (body == NULL || json_is_null(body)) {
		json_t *fresh = json_object();
		json_object_set_new(fresh, "arcrun", arcrun);
		json_object_set_new(params, "body", fresh);
	} else if (json_is_object(body)) {
		json_object_set_new(body, "arcrun", arcrun);
	} else {
		json_decref(arcrun);
	}
	char *out = json_dump_compact(params);
	json_decref(params);
	return out;
}

static json_t *task_enrichment(const task_row *t, action_trigger trig)
{
	json_t *a = json_object();
	json_object_set_new(a, "task_id", json_string(t->id.str));
	json_object_set_new(a, "batch_id", id_is_set(&t->batch_id) ? json_string(t->batch_id.str) : json_null());
	json_object_set_new(a, "status", json_string(task_status_label(t->status)));
	json_object_set_new(a, "trigger", json_string(action_trigger_name(trig)));
	json_object_set_new(a, "attempt", json_integer(t->attempt));
	json_object_set_new(a, "failure_reason", t->failure_reason ? json_string(t->failure_reason) : json_null());
	json_object_set_new(a, "success", json_integer(t->success));
	json_object_set_new(a, "failures", json_integer(t->failures));
	json_object_set_new(a, "ended_at", ts_or_null(t->ended_at));
	return a;
}

static int insert_delivery(engine *e, outbox_row *o)
{
	int rc = store_outbox_insert(e->w, o);
	if (rc == 0 && o->id != 0)
		engine_wake_deliveries(e);
	return rc;
}

static delivery_event event_of(action_trigger trig, action_condition cond)
{
	if (trig == TRIGGER_CANCEL)
		return DELIVERY_CANCEL;
	return cond == COND_SUCCESS ? DELIVERY_END_SUCCESS : DELIVERY_END_FAILURE;
}

int outbox_add_task_webhooks(engine *e, const weft_id *task, const task_row *row, action_trigger trig,
                             action_condition cond, int64_t now)
{
	action_row *actions = NULL;
	size_t n = 0;
	int rc = store_task_actions_for(e->w, task, trig, cond, &actions, &n);
	if (rc != 0 || n == 0) {
		store_free_actions(actions, n);
		return rc;
	}
	task_row read = { 0 };
	if (row == NULL) {
		if ((rc = store_task_get(e->w, task, &read)) != 0) {
			store_free_actions(actions, n);
			return rc == WEFT_ENOTFOUND ? 0 : rc;
		}
		row = &read;
	}
	const task_row *t = row;
	/* A cancel concerns the attempt that was running; a timeout that is
	 * retried has already counted the next one. */
	int32_t attempt = t->attempt - (trig == TRIGGER_CANCEL && t->status == TS_RETRYING ? 1 : 0);
	char base[128];
	if (trig == TRIGGER_END)
		snprintf(base, sizeof(base), "%s:end:%s", task->str, action_condition_name(cond));
	else if (attempt > 1)
		snprintf(base, sizeof(base), "%s:cancel:attempt:%d", task->str, (int)attempt);
	else
		snprintf(base, sizeof(base), "%s:cancel", task->str);

	for (size_t i = 0; i < n && rc == 0; i++) {
		char *rendered = template_has_placeholders(actions[i].params)
		                     ? template_render_params(actions[i].params, t->metadata) : NULL;
		outbox_row o = {
			.event = event_of(trig, cond),
			.task_id = *task,
			.batch_id = t->batch_id,
			.action_id = actions[i].id,
			.add_handle = true,
			.status = DS_PENDING,
			.max_attempts = e->cfg.max_attempts,
			.next_attempt_at = now,
			.created_at = now,
			.updated_at = now,
		};
		if (i == 0)
			snprintf(o.key, sizeof(o.key), "%s", base);
		else
			snprintf(o.key, sizeof(o.key), "%s:%zu", base, i);
		o.params = enrich(rendered ? rendered : actions[i].params, task_enrichment(t, trig));
		rc = insert_delivery(e, &o);
		free(o.params);
		free(rendered);
	}
	task_row_release(&read);
	store_free_actions(actions, n);
	return rc;
}

int outbox_add_batch_webhooks(engine *e, const weft_id *batch, const char *on_complete,
                              const batch_outcome *counts, int64_t now)
{
	json_t *actions = on_complete ? json_parse_text(on_complete) : NULL;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(actions); i++) {
		const json_t *params = json_object_get(json_array_get(actions, i), "params");
		if (!json_is_object(params))
			continue;
		json_t *a = json_object();
		json_object_set_new(a, "batch_id", json_string(batch->str));
		json_t *c = json_object();
		json_object_set_new(c, "success", json_integer(counts->success));
		json_object_set_new(c, "failure", json_integer(counts->failure));
		json_object_set_new(c, "canceled", json_integer(counts->canceled));
		json_object_set_new(a, "counts", c);
		json_object_set_new(a, "completed_at", ts_or_null(now));
		char *text = json_dump_compact(params);
		outbox_row o = {
			.event = DELIVERY_BATCH_COMPLETE,
			.batch_id = *batch,
			.add_handle = false,
			.status = DS_PENDING,
			.max_attempts = e->cfg.max_attempts,
			.next_attempt_at = now,
			.created_at = now,
			.updated_at = now,
		};
		if (i == 0)
			snprintf(o.key, sizeof(o.key), "batch:%s:complete", batch->str);
		else
			snprintf(o.key, sizeof(o.key), "batch:%s:complete:%zu", batch->str, i);
		o.params = enrich(text, a);
		rc = insert_delivery(e, &o);
		free(o.params);
		free(text);
	}
	json_decref(actions);
	return rc;
}

int64_t outbox_backoff_us(const engine *e, int32_t attempt)
{
	/* ±10% so that a burst of failures does not come back as a burst */
	backoff_policy p = { .base_us = e->cfg.backoff_base_us, .multiplier = 2, .cap_us = e->cfg.backoff_cap_us,
	                     .jitter = 0.1 };
	return backoff_delay_us(&p, attempt, backoff_random());
}
