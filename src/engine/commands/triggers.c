/*
 * triggers.c — the commands of hooks, events and subscriptions
 * (triggers.h). Rare configuration commands are applied alone; a hook's
 * delivery and an event's publication start their targets in their own
 * transaction (engine/targets.h), with the row that makes each start
 * happen once.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/audit.h"
#include "engine/engine_internal.h"
#include "engine/targets.h"
#include "engine/commands/command.h"
#include "engine/commands/triggers.h"
#include "core/status.h"

ENGINE_CMD_BASE_FIRST(cmd_hook_create);
ENGINE_CMD_BASE_FIRST(cmd_hook_change);
ENGINE_CMD_BASE_FIRST(cmd_hook_deliver);
ENGINE_CMD_BASE_FIRST(cmd_subscription_create);
ENGINE_CMD_BASE_FIRST(cmd_subscription_delete);
ENGINE_CMD_BASE_FIRST(cmd_event_publish);

static int apply_hook_create(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_hook_create *c = engine_cmd_of(cmd, cmd_hook_create);
	c->row.created_at = now;
	bool created = false;
	int rc = store_hook_insert(e->w, &c->row, &created);
	if (rc != 0)
		return rc;
	cmd->result = created ? 0 : WEFT_ECONFLICT;
	if (!created)
		return 0;
	return audit_record_obj(e, c->row.namespace, cmd->actor, "hook.create", "hook", c->row.name,
	                        json_pack("{s:s, s:s}", "scheme", c->row.scheme, "target_kind", c->row.target_kind));
}

static int apply_hook_change(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_hook_change *c = engine_cmd_of(cmd, cmd_hook_change);
	bool found = false;
	int rc;
	if (c->secret == NULL) {
		rc = store_hook_delete(e->w, c->namespace, c->name, &found);
	} else {
		rc = store_hook_set_secret(e->w, c->namespace, c->name, c->secret, now, &found);
	}
	if (rc != 0)
		return rc;
	cmd->result = found ? 0 : WEFT_ENOTFOUND;
	if (!found)
		return 0;
	/* The new secret is never written to the log. */
	return audit_record_in(e, c->namespace, cmd->actor, c->secret == NULL ? "hook.delete" : "hook.rotate", "hook",
	                       c->name, NULL);
}

/* Starts target (stored text) of an owner in namespace with input;
 * *run_id and *job_id (NULL: none) what it started. WEFT_EINVALID: it
 * could not be started (logged). */
static int start_target(engine *e, const char *target_text, const char *namespace, const char *actor,
                        const char *label, const char *input, int64_t now, target_started *out)
{
	json_t *target = json_parse_text(target_text);
	if (target == NULL) {
		log_warn("engine", "%s: its stored target does not parse", label);
		return WEFT_EINVALID;
	}
	target_start t = { .target = target, .namespace = namespace, .actor = actor, .label = label, .input = input };
	int rc = target_start_runs(e, &t, 1, now, out);
	json_decref(target);
	return rc;
}

static int apply_hook_deliver(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_hook_deliver *c = engine_cmd_of(cmd, cmd_hook_deliver);
	hook_row h;
	int rc = store_hook_get(e->w, c->namespace, c->name, &h);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	bool fresh = false;
	char *seen = NULL;
	rc = store_hook_delivery_claim(e->w, c->namespace, c->name, c->delivery_id, now,
	                               now + h.replay_window_secs * 1000000, &fresh, &seen);
	if (rc == 0 && !fresh) {
		c->duplicate = true;
		snprintf(c->run_id, sizeof c->run_id, "%s", seen != NULL ? seen : "");
		cmd->result = 0;
	} else if (rc == 0) {
		char *label = xasprintf("hook %s/%s", c->namespace, c->name);
		target_started out;
		rc = start_target(e, h.target, c->namespace, "hook", label, c->input, now, &out);
		free(label);
		if (rc == WEFT_EINVALID) {
			/* Nothing started: the id is given back in this transaction,
			 * so the delivery sent again once the target can start (a
			 * template version's steps allowed again, say) starts it. */
			cmd->result = WEFT_EINVALID;
			rc = store_hook_delivery_unclaim(e->w, c->namespace, c->name, c->delivery_id);
		} else if (rc == 0) {
			rc = store_hook_delivery_started(e->w, c->namespace, c->name, c->delivery_id, out.last.str,
			                                 out.has_job ? out.last.str : NULL, now);
			snprintf(c->run_id, sizeof c->run_id, "%s", out.last.str);
			if (rc == 0) {
				cmd->result = 0;
				engine_count(e, "trigger_runs_started_total", "source=\"hook\"", 1);
			}
		}
	}
	free(seen);
	hook_row_release(&h);
	return rc;
}

static int apply_subscription_create(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_subscription_create *c = engine_cmd_of(cmd, cmd_subscription_create);
	c->row.created_at = now;
	int64_t count = 0;
	int rc = store_subscription_count(e->w, c->row.namespace, &count);
	if (rc != 0)
		return rc;
	if (count >= SUBSCRIPTIONS_PER_NAMESPACE_MAX) {
		cmd->result = WEFT_ETOOLARGE;
		return 0;
	}
	bool created = false;
	rc = store_subscription_insert(e->w, &c->row, &created);
	if (rc != 0)
		return rc;
	cmd->result = created ? 0 : WEFT_ECONFLICT;
	if (!created)
		return 0;
	return audit_record_obj(e, c->row.namespace, cmd->actor, "subscription.create", "subscription", c->row.name,
	                        json_pack("{s:s, s:s}", "topic", c->row.topic, "target_kind", c->row.target_kind));
}

static int apply_subscription_delete(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(now);
	cmd_subscription_delete *c = engine_cmd_of(cmd, cmd_subscription_delete);
	bool found = false;
	int rc = store_subscription_delete(e->w, c->namespace, c->name, &found);
	if (rc != 0)
		return rc;
	cmd->result = found ? 0 : WEFT_ENOTFOUND;
	return found ? audit_record_in(e, c->namespace, cmd->actor, "subscription.delete", "subscription", c->name,
	                               NULL)
	             : 0;
}

int trigger_publish(engine *e, const trigger_event *ev, int64_t now, bool *created, size_t *started)
{
	*started = 0;
	trigger_event row = *ev;
	row.created_at = now;
	int rc = store_event_insert(e->w, &row, created);
	if (rc != 0 || !*created)
		return rc;
	/* A new event (an id published again, or a command applied again,
	 * stops above): each matching subscription's target starts, as one set
	 * (job targets in one enqueue), and the deliveries are recorded in one
	 * statement, those that started nothing with no run. */
	subscription_row *subs = NULL;
	size_t n = 0;
	rc = store_subscriptions_matching(e->w, ev->namespace, ev->topic, &subs, &n);
	size_t cap = n ? n : 1;
	target_start *ts = xcalloc(cap, sizeof *ts);
	json_t **targets = xcalloc(cap, sizeof *targets);
	char **labels = xcalloc(cap, sizeof *labels);
	size_t *sub_of = xcalloc(cap, sizeof *sub_of);
	event_delivery_new *d = xcalloc(cap, sizeof *d);
	size_t nts = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		d[i] = (event_delivery_new){ .subscription = subs[i].name, .target_kind = subs[i].target_kind };
		labels[i] = xasprintf("subscription %s/%s (event %s)", ev->namespace, subs[i].name, ev->id);
		targets[i] = json_parse_text(subs[i].target);
		if (targets[i] == NULL) {
			log_warn("engine", "%s: its stored target does not parse", labels[i]);
			continue;   /* recorded as a delivery that started nothing */
		}
		ts[nts] = (target_start){ .target = targets[i], .namespace = ev->namespace, .actor = "event",
			                  .label = labels[i], .input = ev->payload };
		sub_of[nts++] = i;
	}
	int *rcs = xcalloc(nts ? nts : 1, sizeof *rcs);
	target_started *outs = xcalloc(nts ? nts : 1, sizeof *outs);
	if (rc == 0 && nts > 0)
		rc = target_start_set(e, ts, nts, now, rcs, outs);
	for (size_t k = 0; k < nts && rc == 0; k++) {
		if (rcs[k] != 0)
			continue;   /* WEFT_EINVALID: logged; the others go on */
		d[sub_of[k]].run_id = outs[k].last.str;
		d[sub_of[k]].job_id = outs[k].has_job ? outs[k].last.str : NULL;
		(*started)++;
	}
	if (rc == 0)
		rc = store_event_deliveries_insert(e->w, ev->namespace, ev->id, d, n, now);
	for (size_t i = 0; i < n; i++) {
		json_decref(targets[i]);
		free(labels[i]);
	}
	free(rcs);
	free(outs);
	free(sub_of);
	free(targets);
	free(labels);
	free(ts);
	free(d);
	store_free_subscriptions(subs, n);
	if (rc == 0 && *started > 0)
		engine_count(e, "trigger_runs_started_total", "source=\"event\"", *started);
	return rc;
}

static bool emit_wanted(const char *on_end, task_status status)
{
	if (strcmp(on_end, "success") == 0)
		return status == TS_SUCCESS;
	if (strcmp(on_end, "failure") == 0)
		return status == TS_FAILURE || status == TS_CANCELED;
	return true;
}

/* The payload of an ended task's event: its result on success, else what
 * ended it. Owned compact JSON. */
static char *emit_payload(const task_row *t, const char *result)
{
	if (t->status == TS_SUCCESS)
		return xstrdup(result != NULL ? result : "null");
	json_t *o = json_pack("{ss}", "status", task_status_name(t->status));
	json_object_set_new(o, "code", t->error_code != NULL ? json_string(t->error_code) : json_null());
	json_object_set_new(o, "message", t->failure_reason != NULL ? json_string(t->failure_reason) : json_null());
	char *text = json_dump_compact(o);
	json_decref(o);
	return text;
}

int trigger_emit_ended(engine *e, const task_row *rows, size_t n, int64_t now)
{
	weft_id *ids = NULL;
	size_t nids = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(rows[i].shape & TASK_SHAPE_EMIT))
			continue;
		if (ids == NULL)
			ids = xcalloc(n, sizeof *ids);
		ids[nids++] = rows[i].id;
	}
	if (nids == 0)
		return 0;
	task_emit_row *emits = NULL;
	size_t nemits = 0;
	int rc = store_task_emits(e->w, ids, nids, &emits, &nemits);
	for (size_t i = 0; i < nemits && rc == 0; i++) {
		const task_row *t = NULL;
		for (size_t k = 0; k < n && t == NULL; k++)   /* emits are few: a scan of the set */
			if (id_eq(&rows[k].id, &emits[i].task_id))
				t = &rows[k];
		if (t == NULL || !emit_wanted(emits[i].on_end, t->status))
			continue;
		char id[64];
		snprintf(id, sizeof id, "task:%s:%d", t->id.str, (int)t->attempt);
		char source[48];
		snprintf(source, sizeof source, "task:%s", t->id.str);
		char *payload = emit_payload(t, emits[i].result);
		trigger_event ev = { .namespace = emits[i].namespace, .id = id, .topic = emits[i].topic,
			             .payload = payload, .source = source };
		bool created;
		size_t started;
		rc = trigger_publish(e, &ev, now, &created, &started);
		free(payload);
	}
	store_free_task_emits(emits, nemits);
	free(ids);
	return rc;
}

static int apply_event_publish(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_event_publish *c = engine_cmd_of(cmd, cmd_event_publish);
	int rc = trigger_publish(e, &c->ev, now, &c->created, &c->started);
	if (rc == 0) {
		c->ev.created_at = now;
		cmd->result = 0;
	}
	return rc;
}

#define OP(var, opname, fn) \
	static const engine_op var = { .name = opname, .apply = fn, .failure_metric = "tasks_db_save_failures_total" }
OP(op_hook_create, "hook.create", apply_hook_create);
OP(op_hook_delete, "hook.delete", apply_hook_change);
OP(op_hook_rotate, "hook.rotate", apply_hook_change);
OP(op_hook_deliver, "hook.deliver", apply_hook_deliver);
OP(op_subscription_create, "subscription.create", apply_subscription_create);
OP(op_subscription_delete, "subscription.delete", apply_subscription_delete);
OP(op_event_publish, "event.publish", apply_event_publish);

void cmd_hook_create_init(cmd_hook_create *c) { *c = (cmd_hook_create){ .base.op = &op_hook_create }; }
void cmd_hook_delete_init(cmd_hook_change *c) { *c = (cmd_hook_change){ .base.op = &op_hook_delete }; }
void cmd_hook_rotate_init(cmd_hook_change *c) { *c = (cmd_hook_change){ .base.op = &op_hook_rotate }; }
void cmd_hook_deliver_init(cmd_hook_deliver *c) { *c = (cmd_hook_deliver){ .base.op = &op_hook_deliver }; }
void cmd_subscription_create_init(cmd_subscription_create *c)
{
	*c = (cmd_subscription_create){ .base.op = &op_subscription_create };
}
void cmd_subscription_delete_init(cmd_subscription_delete *c)
{
	*c = (cmd_subscription_delete){ .base.op = &op_subscription_delete };
}
void cmd_event_publish_init(cmd_event_publish *c) { *c = (cmd_event_publish){ .base.op = &op_event_publish }; }

static void define_metrics(void)
{
	metrics_define("trigger_runs_started_total", METRIC_COUNTER,
	               "Runs started by incoming webhooks (source=hook) and event subscriptions (source=event)");
}

const command_family family_triggers = { .name = "triggers", .define_metrics = define_metrics };
