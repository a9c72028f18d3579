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

static delivery_event event_of(action_trigger trig, action_condition cond)
{
	if (trig == TRIGGER_CANCEL)
		return DELIVERY_CANCEL;
	return cond == COND_SUCCESS ? DELIVERY_END_SUCCESS : DELIVERY_END_FAILURE;
}

/* The key of a request's first delivery (its i-th gets ":<i>"). */
static void base_key(char *out, size_t n, const task_webhooks *r)
{
	const task_row *t = r->row;
	/* A cancel concerns the attempt that was running; a timeout that is
	 * retried has already counted the next one. */
	int32_t attempt = t->attempt - (r->trig == TRIGGER_CANCEL && t->status == TS_RETRYING ? 1 : 0);
	if (r->trig == TRIGGER_END)
		snprintf(out, n, "%s:end:%s", t->id.str, action_condition_name(r->cond));
	else if (attempt > 1)
		snprintf(out, n, "%s:cancel:attempt:%d", t->id.str, (int)attempt);
	else
		snprintf(out, n, "%s:cancel", t->id.str);
}

static bool answers(const action_row *a, const task_webhooks *r)
{
	return id_eq(&a->task_id, &r->row->id) && a->trigger == r->trig && a->condition == r->cond;
}

/* A delivery row of task webhooks (params owned). */
static void task_delivery(engine *e, const task_webhooks *r, const action_row *a, const char *key, int64_t now,
                          outbox_row *o)
{
	const task_row *t = r->row;
	char *rendered = template_has_placeholders(a->params) ? template_render_params(a->params, t->metadata) : NULL;
	*o = (outbox_row){
		.event = event_of(r->trig, r->cond),
		.task_id = t->id,
		.batch_id = t->batch_id,
		.action_id = a->id,
		.add_handle = true,
		.status = DS_PENDING,
		.max_attempts = e->cfg.max_attempts,
		.next_attempt_at = now,
		.created_at = now,
		.updated_at = now,
	};
	snprintf(o->key, sizeof o->key, "%s", key);
	o->params = enrich(rendered ? rendered : a->params, task_enrichment(t, r->trig));
	free(rendered);
}

/* By key, then position in the set. */
static int cmp_key_pos(const void *a, const void *b)
{
	const outbox_row *x = *(const outbox_row *const *)a, *y = *(const outbox_row *const *)b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : (x > y) - (x < y);
}

/* Rows of the set whose key an earlier row has (the insert keeps the
 * first): they are neither leased nor launched. */
static bool *repeated_keys(const outbox_row *rows, size_t n)
{
	bool *rep = xcalloc(n ? n : 1, sizeof *rep);
	const outbox_row **by_key = xmalloc((n ? n : 1) * sizeof *by_key);
	for (size_t i = 0; i < n; i++)
		by_key[i] = &rows[i];
	if (n > 1)
		qsort(by_key, n, sizeof *by_key, cmp_key_pos);
	for (size_t i = 1; i < n; i++)
		if (strcmp(by_key[i]->key, by_key[i - 1]->key) == 0)
			rep[by_key[i] - rows] = true;
	free(by_key);
	return rep;
}

/* Writes the rows. Those the deliveries part can send at once are written
 * leased to this node and launched after the commit, which spares a lease
 * (a statement, and a second version of each row) per delivery; the others
 * wait for the deliveries part's next lease. */
static int insert_deliveries(engine *e, outbox_row *rows, size_t n, int64_t now)
{
	size_t room = engine_deliveries_room_now(e, now);
	bool waiting = false, *repeated = room > 0 ? repeated_keys(rows, n) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (room > 0 && !repeated[i] && !engine_delivery_held(e, &rows[i].task_id)) {
			room--;
			rows[i].status = DS_DELIVERING;
			rows[i].attempts = 1;
			rows[i].next_attempt_at = now + e->cfg.lease_us;
			rows[i].last_attempt_at = now;
		} else if (repeated == NULL || !repeated[i]) {
			waiting = true;
		}
	}
	free(repeated);
	int rc = store_outbox_insert_many(e->w, rows, n);
	/* A leased row's key is new: a key names the task (or batch), the
	 * trigger and the attempt, which end once. Were it in the table
	 * already, that row would be delivered once more and recorded: still
	 * at least once. */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (rows[i].status == DS_DELIVERING)
			engine_delivery_launch(e, &rows[i]);
	if (rc == 0 && waiting)
		engine_wake_deliveries(e);
	for (size_t i = 0; i < n; i++)
		free(rows[i].params);
	return rc;
}

int outbox_add_task_webhooks(engine *e, const task_webhooks *reqs, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	action_query *q = xcalloc(n, sizeof *q);
	for (size_t i = 0; i < n; i++)
		q[i] = (action_query){ .task_id = reqs[i].row->id, .trigger = reqs[i].trig, .condition = reqs[i].cond };
	action_row *actions = NULL;
	size_t na = 0;
	int rc = store_task_actions_many(e->w, q, n, &actions, &na);
	outbox_row *rows = xcalloc(na ? na : 1, sizeof *rows);
	size_t nrows = 0;
	/* The actions come in the order of the requests: each request takes
	 * the run that answers it (a request given twice gets the same keys
	 * twice, and the insert keeps the first). */
	for (size_t i = 0, j = 0; i < n && rc == 0; i++) {
		char base[128];
		base_key(base, sizeof base, &reqs[i]);
		for (size_t k = 0; j < na && answers(&actions[j], &reqs[i]); j++, k++) {
			char key[160];
			if (k == 0)
				snprintf(key, sizeof key, "%s", base);
			else
				snprintf(key, sizeof key, "%s:%zu", base, k);
			task_delivery(e, &reqs[i], &actions[j], key, now, &rows[nrows++]);
		}
	}
	if (rc == 0)
		rc = insert_deliveries(e, rows, nrows, now);
	else
		for (size_t i = 0; i < nrows; i++)
			free(rows[i].params);
	free(rows);
	store_free_actions(actions, na);
	free(q);
	return rc;
}

int outbox_add_batch_webhooks(engine *e, const batch_completion *done, size_t n, int64_t now)
{
	outbox_row *rows = NULL;
	size_t nrows = 0, cap = 0;
	for (size_t b = 0; b < n; b++) {
		const weft_id *batch = &done[b].batch;
		json_t *actions = done[b].on_complete ? json_parse_text(done[b].on_complete) : NULL;
		for (size_t i = 0; i < json_array_size(actions); i++) {
			const json_t *params = json_object_get(json_array_get(actions, i), "params");
			if (!json_is_object(params))
				continue;
			json_t *a = json_object();
			json_object_set_new(a, "batch_id", json_string(batch->str));
			json_t *c = json_object();
			json_object_set_new(c, "success", json_integer(done[b].counts.success));
			json_object_set_new(c, "failure", json_integer(done[b].counts.failure));
			json_object_set_new(c, "canceled", json_integer(done[b].counts.canceled));
			json_object_set_new(a, "counts", c);
			json_object_set_new(a, "completed_at", ts_or_null(now));
			char *text = json_dump_compact(params);
			if (nrows == cap) {
				cap = cap ? cap * 2 : 8;
				rows = xrealloc(rows, cap * sizeof *rows);
			}
			outbox_row *o = &rows[nrows++];
			*o = (outbox_row){
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
				snprintf(o->key, sizeof o->key, "batch:%s:complete", batch->str);
			else
				snprintf(o->key, sizeof o->key, "batch:%s:complete:%zu", batch->str, i);
			o->params = enrich(text, a);
			free(text);
		}
		json_decref(actions);
	}
	int rc = insert_deliveries(e, rows, nrows, now);
	free(rows);
	return rc;
}

int64_t outbox_backoff_us(const engine *e, int32_t attempt)
{
	/* ±10% so that a burst of failures does not come back as a burst */
	backoff_policy p = { .base_us = e->cfg.backoff_base_us, .multiplier = 2, .cap_us = e->cfg.backoff_cap_us,
	                     .jitter = 0.1 };
	return backoff_delay_us(&p, attempt, backoff_random());
}
