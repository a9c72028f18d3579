/*
 * operator.c — operator actions on tasks, requeueing dead letters and
 * draining workers (operator.h). Each action reads its task locked, checks
 * what its state allows, and changes it with one guarded update (status,
 * attempt, audit event, counters) plus one statement for the columns the
 * guarded update does not set (store_task_operator_fields).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/operator.h"
#include "engine/audit.h"
#include "store/operator.h"

ENGINE_CMD_BASE_FIRST(cmd_operator);
ENGINE_CMD_BASE_FIRST(cmd_requeue);
ENGINE_CMD_BASE_FIRST(cmd_worker_drain);

static const char *const action_names[OPERATOR__COUNT] = { "retry", "reset", "resolve", "cancel", "pause",
	                                                           "resume" };

const char *operator_action_name(operator_action a)
{
	return (unsigned)a < OPERATOR__COUNT ? action_names[a] : "unknown";
}

const char *requeue_outcome_name(requeue_outcome o)
{
	switch (o) {
	case REQUEUED: return "requeued";
	case REQUEUE_NOT_FOUND: return "not_found";
	case REQUEUE_NOT_DEAD: return "not_dead_letter";
	case REQUEUE_HAS_DEPENDENTS: return "has_dependents";
	case REQUEUE_NONE: break;
	}
	return "none";
}

static bool visible(const job_visibility *v, const char *ns)
{
	if (v->all)
		return true;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], ns != NULL ? ns : NAMESPACE_DEFAULT) == 0)
			return true;
	return false;
}

static bool is_job(const task_row *t)
{
	return t->executor != NULL && strcmp(t->executor, "queue") == 0;
}

/* A task became startable: parked claims look again (a job), or the
 * start pass runs (any other task). */
static void wake_for(engine *e, const task_row *t)
{
	if (is_job(t))
		engine_claims_wake(e);
	else
		engine_wake_starts(e);
}

/* What one action needs: the task (read locked), and the audit reason. */
typedef struct action_ctx {
	engine *e;
	operator_action action;
	const char *actor;
	char reason[OPERATOR_REASON_MAX + 64];
	int64_t now;
	task_row t;
} action_ctx;

/* The task's status does not allow the action. */
static int refuse(engine_cmd *cmd, task_status st)
{
	cmd->result = WEFT_ECONFLICT;
	cmd->current_status = st;
	return 0;
}

/* The guarded change of status and the columns beside it. res says
 * whether it applied; `after` (optional) the row afterwards. */
static int change(action_ctx *a, unsigned from_mask, task_update *u, const task_operator_fields *f,
                  task_update_result *res)
{
	u->actor = a->actor;
	u->reason = a->reason;
	u->last_updated = a->now;
	int rc = store_task_update(a->e->w, &a->t.id, from_mask, u, res);
	if (rc == 0 && res->applied && f != NULL)
		rc = store_task_operator_fields(a->e->w, &a->t.id, f);
	return rc;
}

/* failure|canceled -> pending: retry (budget kept) or reset (a fresh
 * budget), as a dead letter's requeue too. */
static int reopen(action_ctx *a, bool fresh_budget, task_update_result *res)
{
	int32_t attempt = MAX(a->t.attempt, 1) + 1;
	task_update u = { .set_status = true, .status = TS_PENDING, .set_attempt = true, .attempt = attempt };
	/* Retries used = attempt − 1 − retry_base: 0 for the new attempt. */
	task_operator_fields f = { .reopen = true, .clear_dead = true, .set_retry_base = fresh_budget,
		                   .retry_base = attempt - 1, .start_after = a->now, .clear_next_retry = true,
		                   .clear_lease = true };
	int rc = change(a, TS_BIT(a->t.status), &u, &f, res);
	if (rc == 0 && res->applied) {
		engine_metric_transition(a->e, a->t.status, TS_PENDING);
		engine_count(a->e, "operator_actions_total", fresh_budget ? "action=\"reset\"" : "action=\"retry\"", 1);
		wake_for(a->e, &a->t);
	}
	return rc;
}

/* Whether a terminal task may be reopened or resolved: *ok false after
 * refusing cmd (children: c->has_dependents when c is given; or parents
 * that did not all finish). */
static int may_reopen(action_ctx *a, cmd_operator *c, engine_cmd *cmd, bool *ok)
{
	*ok = false;
	bool children = false;
	int rc = store_task_has_children(a->e->w, &a->t.id, &children);
	if (rc != 0)
		return rc;
	if (children) {
		if (c != NULL)
			c->has_dependents = true;
		return refuse(cmd, a->t.status);
	}
	if (a->action != OPERATOR_RESOLVE && (a->t.wait_finished > 0 || a->t.wait_success > 0))
		return refuse(cmd, a->t.status);   /* failed by its parents' cascade */
	*ok = true;
	return 0;
}

static int action_retry(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	task_update_result res;
	int rc = 0;
	task_status st = a->t.status;
	if (st == TS_RETRYING) {
		task_update u = { .set_status = true, .status = TS_PENDING };
		task_operator_fields f = { .start_after = a->now, .clear_next_retry = true };
		rc = change(a, TS_BIT(TS_RETRYING), &u, &f, &res);
		if (rc == 0 && res.applied) {
			engine_metric_transition(a->e, TS_RETRYING, TS_PENDING);
			engine_count(a->e, "operator_actions_total", "action=\"retry\"", 1);
			wake_for(a->e, &a->t);
		}
	} else if (st == TS_PENDING && a->t.start_after > a->now) {
		task_operator_fields f = { .start_after = a->now };
		rc = store_task_operator_fields(a->e->w, &a->t.id, &f);
		if (rc == 0)
			rc = store_task_event_add(a->e->w, &a->t.id, a->now, TS_PENDING, TS_PENDING, a->reason, a->actor);
		if (rc == 0) {
			engine_count(a->e, "operator_actions_total", "action=\"retry\"", 1);
			wake_for(a->e, &a->t);
		}
		res = (task_update_result){ .found = true, .applied = true, .prev = TS_PENDING };
	} else if (st == TS_FAILURE || st == TS_CANCELED) {
		bool ok;
		if ((rc = may_reopen(a, c, cmd, &ok)) != 0 || !ok)
			return rc;
		rc = reopen(a, false, &res);
	} else {
		return refuse(cmd, st);
	}
	if (rc == 0 && !res.applied)
		return refuse(cmd, res.prev);
	if (rc == 0) {
		cmd->result = 0;
		cmd->current_status = TS_PENDING;
	}
	return rc;
}

static int action_reset(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	if (a->t.status != TS_FAILURE && a->t.status != TS_CANCELED)
		return refuse(cmd, a->t.status);
	bool ok;
	int rc = may_reopen(a, c, cmd, &ok);
	if (rc != 0 || !ok)
		return rc;
	task_update_result res;
	if ((rc = reopen(a, true, &res)) != 0)
		return rc;
	if (!res.applied)
		return refuse(cmd, res.prev);
	cmd->result = 0;
	cmd->current_status = TS_PENDING;
	return 0;
}

static int action_resolve(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	engine *e = a->e;
	task_status prev = a->t.status;
	/* Only a failure is reopened: a skipped task's children were released
	 * by its skip already. */
	if (task_status_terminal(prev) && prev != TS_FAILURE)
		return refuse(cmd, prev);
	if (prev == TS_FAILURE) {
		bool ok;
		int rc = may_reopen(a, c, cmd, &ok);
		if (rc != 0 || !ok)
			return rc;
	}
	task_row after = { 0 };
	task_update u = { .set_status = true, .status = TS_SUCCESS, .ended_at = a->now, .after = &after };
	/* ended_by stays unset: a job's trail derives a worker's completion
	 * from it, and this one is recorded with its reason instead. */
	task_operator_fields f = { .result = c->result ? c->result : "null", .clear_dead = true,
		                   .clear_next_retry = true, .clear_lease = is_job(&a->t) };
	task_update_result res;
	int rc = change(a, TS_BIT(prev), &u, &f, &res);
	if (rc != 0)
		return rc;
	if (!res.applied)
		return refuse(cmd, res.prev);
	engine_count(e, "operator_actions_total", "action=\"resolve\"", 1);
	engine_metric_transition(e, prev, TS_SUCCESS);
	engine_metric_terminal(e, &after);
	if (prev == TS_CLAIMED || prev == TS_RUNNING) {
		engine_wake_held_starts(e);     /* a rule slot was freed */
		if (is_job(&a->t))
			engine_claims_wake(e);      /* a limited queue's slot was freed */
	}
	/* A running webhook task is told to stop, as on a cancel; a job's
	 * holder learns it at its next heartbeat (lost). */
	if (prev == TS_RUNNING && !is_job(&a->t))
		rc = engine_task_cancel_remote(e, &a->t.id, &after, a->now);
	/* Its on_success webhooks, and its children released. */
	if (rc == 0)
		rc = dag_tasks_ended(e, &after, 1, a->now);
	task_row_release(&after);
	if (rc == 0) {
		cmd->result = 0;
		cmd->current_status = TS_SUCCESS;
	}
	return rc;
}

static int action_cancel(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	if (task_status_terminal(a->t.status))
		return refuse(cmd, a->t.status);
	task_update_result res;
	int rc = task_cancel_one(a->e, &a->t.id, a->reason, a->now, &res);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (!res.applied)
		return refuse(cmd, res.prev);
	engine_count(a->e, "operator_actions_total", "action=\"cancel\"", 1);
	if (is_job(&a->t) && res.prev == TS_RUNNING)
		engine_claims_wake(a->e);       /* a limited queue's slot was freed */
	cmd->result = 0;
	cmd->current_status = TS_CANCELED;
	return 0;
}

/* pending|waiting -> paused. A running task (a job held by a worker, or a
 * webhook task's remote work) cannot be paused: a conflict. */
static int action_pause(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	unsigned from = TS_BIT(TS_PENDING) | TS_BIT(TS_WAITING);
	if ((TS_BIT(a->t.status) & from) == 0)
		return refuse(cmd, a->t.status);
	task_update u = { .set_status = true, .status = TS_PAUSED };
	task_update_result res;
	int rc = change(a, from, &u, NULL, &res);
	if (rc != 0)
		return rc;
	if (!res.applied)
		return refuse(cmd, res.prev);
	engine_metric_transition(a->e, res.prev, TS_PAUSED);
	engine_count(a->e, "operator_actions_total", "action=\"pause\"", 1);
	cmd->result = 0;
	cmd->current_status = TS_PAUSED;
	return 0;
}

/* paused -> waiting while its parents have not all finished, else
 * pending (startable, or claimable for a job). */
static int action_resume(action_ctx *a, cmd_operator *c)
{
	engine_cmd *cmd = &c->base;
	if (a->t.status != TS_PAUSED)
		return refuse(cmd, a->t.status);
	task_status to = a->t.wait_finished > 0 ? TS_WAITING : TS_PENDING;
	task_update u = { .set_status = true, .status = to };
	task_update_result res;
	int rc = change(a, TS_BIT(TS_PAUSED), &u, NULL, &res);
	if (rc != 0)
		return rc;
	if (!res.applied)
		return refuse(cmd, res.prev);
	engine_metric_transition(a->e, TS_PAUSED, to);
	engine_count(a->e, "operator_actions_total", "action=\"resume\"", 1);
	if (to == TS_PENDING)
		wake_for(a->e, &a->t);
	cmd->result = 0;
	cmd->current_status = to;
	return 0;
}

/* Reads the task locked; false (cmd answered not found) when it is not
 * there or not visible. */
static int read_task(action_ctx *a, const weft_id *id, const job_visibility *vis, bool *found)
{
	task_row *rows = NULL;
	size_t n = 0;
	*found = false;
	int rc = store_tasks_read(a->e->w, id, 1, true, &rows, &n);
	if (rc == 0 && n == 1 && visible(vis, rows[0].namespace)) {
		a->t = rows[0];
		memset(&rows[0], 0, sizeof rows[0]);
		*found = true;
	}
	store_free_tasks(rows, n);
	return rc;
}

static void set_reason(action_ctx *a, const char *reason)
{
	if (reason != NULL && reason[0] != '\0')
		snprintf(a->reason, sizeof a->reason, "operator: %s: %s", operator_action_name(a->action), reason);
	else
		snprintf(a->reason, sizeof a->reason, "operator: %s", operator_action_name(a->action));
}

static int apply_action(engine *e, engine_cmd *cmd, int64_t now, operator_action action)
{
	cmd_operator *c = engine_cmd_of(cmd, cmd_operator);
	c->has_dependents = false;
	action_ctx a = { .e = e, .action = action, .actor = cmd->actor ? cmd->actor : "api", .now = now };
	set_reason(&a, c->reason);
	bool found;
	int rc = read_task(&a, &c->id, &c->visible, &found);
	if (rc != 0)
		return rc;
	if (!found) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	switch (action) {
	case OPERATOR_RETRY: rc = action_retry(&a, c); break;
	case OPERATOR_RESET: rc = action_reset(&a, c); break;
	case OPERATOR_RESOLVE: rc = action_resolve(&a, c); break;
	case OPERATOR_CANCEL: rc = action_cancel(&a, c); break;
	case OPERATOR_PAUSE: rc = action_pause(&a, c); break;
	case OPERATOR_RESUME: rc = action_resume(&a, c); break;
	default: rc = WEFT_EINTERNAL; break;
	}
	/* Only what was applied: a refusal (409) records nothing. The
	 * result a resolve sets is not copied: it may be large, or private. */
	if (rc == 0 && cmd->result == 0 && !c->audited_by_caller) {
		char action_name[32];
		snprintf(action_name, sizeof action_name, "task.%s", operator_action_name(action));
		json_t *detail = json_pack("{s:s}", "status", task_status_name(cmd->current_status));
		if (c->reason != NULL && c->reason[0] != '\0')
			json_object_set_new(detail, "reason", json_string(c->reason));
		rc = audit_record_obj(e, a.t.namespace, cmd->actor, action_name, "task", c->id.str, detail);
	}
	task_row_release(&a.t);
	return rc;
}

static int apply_retry(engine *e, engine_cmd *cmd, int64_t now) { return apply_action(e, cmd, now, OPERATOR_RETRY); }
static int apply_reset(engine *e, engine_cmd *cmd, int64_t now) { return apply_action(e, cmd, now, OPERATOR_RESET); }
static int apply_resolve(engine *e, engine_cmd *cmd, int64_t now)
{
	return apply_action(e, cmd, now, OPERATOR_RESOLVE);
}
static int apply_cancel(engine *e, engine_cmd *cmd, int64_t now) { return apply_action(e, cmd, now, OPERATOR_CANCEL); }
static int apply_pause(engine *e, engine_cmd *cmd, int64_t now) { return apply_action(e, cmd, now, OPERATOR_PAUSE); }
static int apply_resume(engine *e, engine_cmd *cmd, int64_t now) { return apply_action(e, cmd, now, OPERATOR_RESUME); }

static void operator_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_operator *c = engine_cmd_of((engine_cmd *)cmd, cmd_operator);
	json_object_set_new(out, "has_dependents", json_boolean(c->has_dependents));
}

static int operator_load(engine_cmd *cmd, const json_t *in)
{
	engine_cmd_of(cmd, cmd_operator)->has_dependents = json_is_true(json_object_get(in, "has_dependents"));
	return 0;
}

/* ---- requeueing dead letters ------------------------------------------------------------ */

/* The newest dead letters of the selection, read in the transaction. */
static int select_dead(engine *e, cmd_requeue *c)
{
	dead_letter_filter f = { .namespace = c->namespace, .queue = c->queue, .limit = (size_t)c->limit };
	task_row *rows = NULL;
	size_t n = 0;
	int rc = store_dead_letters(e->w, &f, &rows, &n);
	cmd_requeue_release(c);      /* a selection applied again picks again */
	if (rc == 0) {
		c->items = xcalloc(n ? n : 1, sizeof *c->items);
		c->owns_items = true;
		for (size_t i = 0; i < n; i++)
			c->items[i].id = rows[i].id;
		c->nitems = n;
	}
	store_free_tasks(rows, n);
	return rc;
}

/* The ids shown in a requeue's audit entry, per namespace; the count is
 * always whole. */
#define REQUEUE_AUDIT_IDS_MAX 50

/* Notes a requeued task in `by_ns` ({namespace: {"count", "ids"}}). */
static void requeue_note(json_t *by_ns, const task_row *t)
{
	json_t *g = json_object_get(by_ns, t->namespace);
	if (g == NULL) {
		g = json_pack("{s:I,s:[]}", "count", (json_int_t)0, "ids");
		json_object_set_new(by_ns, t->namespace, g);
	}
	json_object_set_new(g, "count", json_integer(json_integer_value(json_object_get(g, "count")) + 1));
	json_t *ids = json_object_get(g, "ids");
	if (json_array_size(ids) < REQUEUE_AUDIT_IDS_MAX)
		json_array_append_new(ids, json_string(t->id.str));
}

/* One entry per namespace the requeue touched: a requeue of 1,000 dead
 * letters is one row with its count, not 1,000. */
static int requeue_audit(engine *e, const cmd_requeue *c, json_t *by_ns)
{
	const char *ns;
	json_t *g;
	int rc = 0;
	json_object_foreach(by_ns, ns, g) {
		json_t *detail = json_deep_copy(g);
		if (c->queue != NULL)
			json_object_set_new(detail, "queue", json_string(c->queue));
		if (c->reason != NULL && c->reason[0] != '\0')
			json_object_set_new(detail, "reason", json_string(c->reason));
		json_object_set_new(detail, "selection", json_boolean(c->namespace != NULL));
		rc = audit_record_obj(e, ns, c->base.actor, "dead_letter.requeue", "dead_letters",
		                      c->queue != NULL ? c->queue : ns, detail);
		if (rc != 0)
			break;
	}
	return rc;
}

static int requeue_one(engine *e, cmd_requeue *c, requeue_item *it, int64_t now, json_t *by_ns)
{
	action_ctx a = { .e = e, .action = OPERATOR_RESET, .actor = c->base.actor ? c->base.actor : "api", .now = now };
	snprintf(a.reason, sizeof a.reason, "operator: reset: %s", c->reason && c->reason[0] ? c->reason : "requeued");
	bool found;
	int rc = read_task(&a, &it->id, &c->visible, &found);
	if (rc != 0 || !found) {
		it->outcome = REQUEUE_NOT_FOUND;
		return rc;
	}
	if (a.t.dead_at == 0 || a.t.status != TS_FAILURE) {
		it->outcome = REQUEUE_NOT_DEAD;
	} else {
		engine_cmd probe = { 0 };
		bool ok;
		rc = may_reopen(&a, NULL, &probe, &ok);
		task_update_result res = { 0 };
		if (rc == 0 && ok)
			rc = reopen(&a, true, &res);
		it->outcome = !ok ? REQUEUE_HAS_DEPENDENTS : res.applied ? REQUEUED : REQUEUE_NOT_DEAD;
		if (rc == 0 && it->outcome == REQUEUED)
			requeue_note(by_ns, &a.t);
	}
	task_row_release(&a.t);
	return rc;
}

static int apply_requeue(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_requeue *c = engine_cmd_of(cmd, cmd_requeue);
	int rc = 0;
	if ((c->nitems == 0 || c->owns_items) && c->namespace != NULL)
		rc = select_dead(e, c);
	json_t *by_ns = json_object();
	for (size_t i = 0; i < c->nitems && rc == 0; i++)
		rc = requeue_one(e, c, &c->items[i], now, by_ns);
	if (rc == 0)
		rc = requeue_audit(e, c, by_ns);
	json_decref(by_ns);
	if (rc == 0)
		cmd->result = 0;
	return rc;
}

static void requeue_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_requeue *c = engine_cmd_of((engine_cmd *)cmd, cmd_requeue);
	json_t *items = json_array();
	for (size_t i = 0; i < c->nitems; i++)
		json_array_append_new(items, json_pack("[s,i]", c->items[i].id.str, (int)c->items[i].outcome));
	json_object_set_new(out, "items", items);
}

static int requeue_load(engine_cmd *cmd, const json_t *in)
{
	cmd_requeue *c = engine_cmd_of(cmd, cmd_requeue);
	const json_t *items = json_object_get(in, "items");
	if (!json_is_array(items) || (c->nitems > 0 && json_array_size(items) != c->nitems))
		return WEFT_EINTERNAL;
	if (c->nitems == 0) {
		c->nitems = json_array_size(items);
		c->items = xcalloc(c->nitems ? c->nitems : 1, sizeof *c->items);
		c->owns_items = true;
	}
	for (size_t i = 0; i < c->nitems; i++) {
		const json_t *j = json_array_get(items, i);
		const char *id = json_string_value(json_array_get(j, 0));
		json_int_t o = json_integer_value(json_array_get(j, 1));
		if (id == NULL || id_parse(id, &c->items[i].id) != 0 || o < REQUEUED || o > REQUEUE_HAS_DEPENDENTS)
			return WEFT_EINTERNAL;
		c->items[i].outcome = (requeue_outcome)o;
	}
	return 0;
}

void cmd_requeue_release(cmd_requeue *c)
{
	if (c->owns_items)
		free(c->items);
	c->items = NULL;
	c->nitems = 0;
	c->owns_items = false;
}

/* ---- draining a worker ------------------------------------------------------------------ */

static int apply_drain(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(now);
	cmd_worker_drain *c = engine_cmd_of(cmd, cmd_worker_drain);
	bool found = false;
	int rc = store_worker_drain(e->w, c->namespace, c->worker_id, &found);
	if (rc != 0)
		return rc;
	cmd->result = found ? 0 : WEFT_ENOTFOUND;
	if (!found)
		return 0;
	rc = audit_record_in(e, c->namespace, cmd->actor, "worker.drain", "worker", c->worker_id, NULL);
	/* Its parked claims answer drain now. */
	if (rc == 0)
		engine_claims_drain(e, c->namespace, c->worker_id);
	return rc;
}

#define FAILED "tasks_db_save_failures_total"

static const engine_op op_action[OPERATOR__COUNT] = {
	[OPERATOR_RETRY] = { .name = "operator.retry", .apply = apply_retry, .failure_metric = FAILED,
	                     .outcome_save = operator_save, .outcome_load = operator_load },
	[OPERATOR_RESET] = { .name = "operator.reset", .apply = apply_reset, .failure_metric = FAILED,
	                     .outcome_save = operator_save, .outcome_load = operator_load },
	[OPERATOR_RESOLVE] = { .name = "operator.resolve", .apply = apply_resolve, .failure_metric = FAILED,
	                       .outcome_save = operator_save, .outcome_load = operator_load },
	[OPERATOR_CANCEL] = { .name = "operator.cancel", .apply = apply_cancel, .failure_metric = FAILED,
	                      .outcome_save = operator_save, .outcome_load = operator_load },
	[OPERATOR_PAUSE] = { .name = "operator.pause", .apply = apply_pause, .failure_metric = FAILED,
	                     .outcome_save = operator_save, .outcome_load = operator_load },
	[OPERATOR_RESUME] = { .name = "operator.resume", .apply = apply_resume, .failure_metric = FAILED,
	                      .outcome_save = operator_save, .outcome_load = operator_load },
};
static const engine_op op_requeue = { .name = "operator.requeue", .apply = apply_requeue, .failure_metric = FAILED,
	                              .outcome_save = requeue_save, .outcome_load = requeue_load };
static const engine_op op_drain = { .name = "worker.drain", .apply = apply_drain, .failure_metric = FAILED };

void cmd_operator_init(cmd_operator *c, operator_action a)
{
	*c = (cmd_operator){ .base.op = &op_action[a], .visible.all = true };
}
void cmd_requeue_init(cmd_requeue *c) { *c = (cmd_requeue){ .base.op = &op_requeue, .visible.all = true }; }
void cmd_worker_drain_init(cmd_worker_drain *c) { *c = (cmd_worker_drain){ .base.op = &op_drain }; }

static void define_metrics(void)
{
	metrics_define("operator_actions_total", METRIC_COUNTER,
	               "Operator actions applied (retry, reset, resolve, cancel, pause, resume), requeues counted as resets");
}

const command_family family_operator = { .name = "operator", .define_metrics = define_metrics };
