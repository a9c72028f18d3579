/*
 * tasks.c — the commands on one task (tasks.h), and the single-task
 * cancel, pause and resume that the group commands share. PATCH and PUT
 * are applied as sets: the commands of a cycle in a constant number of
 * statements, one alone as a set of one.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/commands/command.h"
#include "engine/commands/tasks.h"

ENGINE_CMD_BASE_FIRST(cmd_patch);
ENGINE_CMD_BASE_FIRST(cmd_counters);
ENGINE_CMD_BASE_FIRST(cmd_task);

/* ---- PATCH /task/{id} ---------------------------------------------------- */

/* A PATCH as a guarded update of its task. t: the task as it is (read
 * for a failure only: its retry policy decides); *retry: it is a failure
 * that the policy retries. */
static task_update patch_update(engine *e, const cmd_patch *p, const task_row *t, int64_t now, task_row *after,
                                bool *retry)
{
	task_update u = {
		.add_success = p->new_success,
		.add_failures = p->new_failures,
		.metadata = p->metadata,
		.set_expected_count = p->has_expected_count,
		.expected_count = p->expected_count,
		.set_priority = p->has_priority,
		.priority = p->priority,
		.last_updated = now,
		.not_jobs = true,       /* a job changes only through its lease (commands/jobs.h) */
		.actor = p->base.actor ? p->base.actor : "api",
		.after = after,
	};
	/* An explicit failure may be retried under the task's policy. */
	*retry = p->has_status && p->status == TS_FAILURE && t != NULL &&
	         (TS_BIT(t->status) & (TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED))) &&
	         dag_should_retry(e, t, RETRY_ON_EXPLICIT, now, &u);
	if (*retry) {
		u.failure_reason = p->failure_reason;
		u.reason = "explicit failure: retry scheduled";
	} else if (p->has_status) {
		u.set_status = true;
		u.status = p->status;
		u.failure_reason = p->failure_reason;
		u.ended_at = now;
	}
	return u;
}

/* A PATCH of a set: its command, what its update found and left. */
typedef struct patch_item {
	cmd_patch *p;
	task_update_result res;
	task_row after;
	bool retry;
} patch_item;

/* One round of PATCHes, one per task: the tasks that fail read (locked)
 * in one statement, the updates in one more. */
static int patch_round(void *ctx, const size_t *idx, size_t m)
{
	engine_round *ps = ctx;
	patch_item *it = ps->items;
	weft_id *failing = xcalloc(m, sizeof *failing);
	size_t nfailing = 0;
	for (size_t k = 0; k < m; k++)
		if (it[idx[k]].p->has_status && it[idx[k]].p->status == TS_FAILURE)
			failing[nfailing++] = it[idx[k]].p->id;
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(ps->e->w, failing, nfailing, true, &rows, &nrows);
	task_rows_sort(rows, nrows);
	task_change *ch = xcalloc(m, sizeof *ch);
	task_update_result *rr = xcalloc(m, sizeof *rr);
	for (size_t k = 0; k < m && rc == 0; k++) {
		patch_item *x = &it[idx[k]];
		const task_row *t = task_rows_find(rows, nrows, &x->p->id);
		ch[k] = (task_change){ .id = x->p->id, .from_mask = TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED),
		                       .u = patch_update(ps->e, x->p, t, ps->now, &x->after, &x->retry) };
	}
	if (rc == 0)
		rc = store_task_update_many(ps->e->w, ch, m, rr);
	for (size_t k = 0; k < m && rc == 0; k++)
		it[idx[k]].res = rr[k];
	free(rr);
	free(ch);
	store_free_tasks(rows, nrows);
	free(failing);
	return rc;
}

/* The answer of one PATCH and what its update counts and arms. A task
 * that reached a terminal status goes to `ended`. */
static void patch_answer(engine *e, patch_item *x, task_row *ended, size_t *nended)
{
	cmd_patch *p = x->p;
	engine_cmd *cmd = &p->base;
	if (!x->res.found) {
		cmd->result = WEFT_ENOTFOUND;
		return;
	}
	cmd->current_status = x->res.prev;
	if (!x->res.applied) {
		p->over_limit = x->res.over_limit;
		cmd->noop = x->res.over_limit == NULL && p->has_status && x->res.prev == p->status;
		cmd->result = x->res.over_limit ? WEFT_EINVALID : cmd->noop ? 0 : WEFT_ECONFLICT;
		return;
	}
	cmd->result = 0;
	cmd->current_status = x->after.status;
	if (p->new_success || p->new_failures || p->has_expected_count)
		engine_wake_held_starts(e);     /* capacity may have been freed */
	if (!p->has_status)
		return;
	engine_metric_transition(e, x->res.prev, x->after.status);
	engine_wake_held_starts(e);         /* a rule slot was freed */
	if (x->retry) {
		engine_count(e, "tasks_retried_total", NULL, 1);
		deadline_arm(e, x->after.next_retry_at, &deadline_retry_backoff, &p->id);
		return;
	}
	engine_metric_terminal(e, &x->after);
	ended[(*nended)++] = x->after;
}

/* The end actions the set will read if every PATCH that sets a final
 * status ends its task, asked for ahead: they come back with the update
 * (store_task_actions_prefetch). When they do not (a failure retried, a
 * task patched twice), the read runs as ever. */
static void prefetch_end_actions(engine *e, const patch_item *items, const weft_id **ids, size_t n)
{
	uint32_t *round = xmalloc((n ? n : 1) * sizeof *round);
	bool repeated = store_rounds(ids, n, round) > 1;    /* a task patched twice */
	free(round);
	if (repeated)
		return;
	action_query *q = xmalloc((n ? n : 1) * sizeof *q);
	size_t nq = 0;
	for (size_t i = 0; i < n; i++) {
		const cmd_patch *p = items[i].p;
		if (p->has_status && task_status_terminal(p->status))
			q[nq++] = (action_query){ .task_id = p->id, .trigger = TRIGGER_END,
			                          .condition = p->status == TS_SUCCESS ? COND_SUCCESS : COND_FAILURE };
	}
	store_task_actions_prefetch(e->w, q, nq);
	free(q);
}

/* PATCHes of the same task apply in their order, in successive rounds;
 * the webhooks and what follows the completions, for all of them. */
static int patch_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	patch_item *items = xcalloc(n, sizeof *items);
	const weft_id **ids = xcalloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		items[i].p = engine_cmd_of(cmds[i], cmd_patch);
		items[i].p->over_limit = NULL;
		ids[i] = &items[i].p->id;
	}
	prefetch_end_actions(e, items, ids, n);
	task_row *ended = xcalloc(n, sizeof *ended);
	size_t nended = 0;
	engine_round ps = { e, items, now };
	int rc = store_each_round(ids, n, patch_round, &ps);
	for (size_t i = 0; i < n && rc == 0; i++)
		patch_answer(e, &items[i], ended, &nended);
	if (rc == 0)
		rc = dag_tasks_ended(e, ended, nended, now);
	for (size_t i = 0; i < n; i++)
		if (items[i].res.applied)
			task_row_release(&items[i].after);
	free(ended);
	free(ids);
	free(items);
	return rc;
}

static int patch_task(engine *e, engine_cmd *cmd, int64_t now)
{
	return patch_many(e, &cmd, 1, now);
}

/* ---- PUT /task/{id} ------------------------------------------------------ */

/* Counters land whatever the status, terminal included: a report racing
 * the task's completion must not be lost (ArcRun's tested behaviour). They
 * also refresh last_updated, which is the running task's heartbeat. An
 * increment that would pass TASK_COUNTER_MAX is refused whole. PUTs of
 * the same task apply in their order. */
static int counters_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	task_change *ch = xcalloc(n, sizeof *ch);
	task_update_result *res = xcalloc(n, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		cmd_counters *c = engine_cmd_of(cmds[i], cmd_counters);
		ch[i] = (task_change){ .id = c->id, .from_mask = TS_ALL_MASK,
		                       .u = { .add_success = c->success, .add_failures = c->failures,
		                              .last_updated = now, .not_jobs = true,
		                              .actor = cmds[i]->actor ? cmds[i]->actor : "api" } };
	}
	int rc = store_task_update_many(e->w, ch, n, res);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_counters *c = engine_cmd_of(cmds[i], cmd_counters);
		c->over_limit = res[i].over_limit;
		cmds[i]->current_status = res[i].prev;
		/* Not applied without an over-limit counter: a job, whose
		 * counters are not ArcRun's to change. */
		cmds[i]->result = !res[i].found         ? WEFT_ENOTFOUND
		                  : res[i].over_limit   ? WEFT_EINVALID
		                  : !res[i].applied     ? WEFT_ECONFLICT
		                                        : 0;
		if (res[i].applied)
			engine_wake_held_starts(e);   /* progress lowers capacity sums */
	}
	free(res);
	free(ch);
	return rc;
}

static int add_counters(engine *e, engine_cmd *cmd, int64_t now)
{
	return counters_many(e, &cmd, 1, now);
}

/* ---- DELETE /task/{id} --------------------------------------------------- */

/* Cancels one task: 0 (res says whether it applied, and the status
 * before), WEFT_ENOTFOUND, or an error. */
int task_cancel_one(engine *e, const weft_id *id, const char *reason, int64_t now, task_update_result *res)
{
	task_row after = { 0 };
	task_update u = { .set_status = true, .status = TS_CANCELED, .ended_at = now, .last_updated = now,
	                  .actor = e->actor, .reason = reason, .after = &after };
	int rc = store_task_update(e->w, id, TS_ACTIVE_MASK, &u, res);
	if (rc != 0 || !res->applied)
		return rc;
	task_status prev = res->prev;
	engine_count(e, "tasks_cancelled_total", NULL, 1);
	engine_metric_transition(e, prev, TS_CANCELED);
	engine_metric_terminal(e, &after);
	if (prev == TS_CLAIMED || prev == TS_RUNNING)
		engine_wake_held_starts(e);
	/* The canceled task's own on_failure does not fire; its executor is
	 * told to stop it when it was running. */
	if (prev == TS_RUNNING)
		rc = engine_task_cancel_remote(e, id, &after, now);
	if (rc == 0)
		rc = dag_after_terminal(e, &after, 1, now);
	task_row_release(&after);
	return rc;
}

/* A single-task operation's store result as the command's outcome: `res`
 * says whether it applied and the status before, `reached` the status
 * the task has when it applied. */
static int task_outcome(engine_cmd *cmd, int rc, const task_update_result *res, task_status reached)
{
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (!res->applied) {
		cmd->result = WEFT_ECONFLICT;
		cmd->current_status = res->prev;
		return 0;
	}
	cmd->result = 0;
	cmd->current_status = reached;
	return 0;
}

static int cancel_task(engine *e, engine_cmd *cmd, int64_t now)
{
	task_update_result res;
	int rc = task_cancel_one(e, &engine_cmd_of(cmd, cmd_task)->id, "canceled by request", now, &res);
	return task_outcome(cmd, rc, &res, TS_CANCELED);
}

/* ---- pause / resume ------------------------------------------------------ */

int task_pause_one(engine *e, const weft_id *id, task_update_result *res)
{
	task_update u = { .set_status = true, .status = TS_PAUSED, .actor = e->actor, .reason = "paused by request" };
	int rc = store_task_update(e->w, id, TS_BIT(TS_PENDING) | TS_BIT(TS_WAITING), &u, res);
	if (rc == 0 && res->applied)
		engine_metric_transition(e, res->prev, TS_PAUSED);
	return rc;
}

static int pause_task(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(now);
	task_update_result res;
	int rc = task_pause_one(e, &engine_cmd_of(cmd, cmd_task)->id, &res);
	return task_outcome(cmd, rc, &res, TS_PAUSED);
}

/* Resumes a paused task to waiting or pending by its counters: 0 (res
 * says whether it applied; *now_status is the status it has after),
 * WEFT_ENOTFOUND, or an error. */
int task_resume_one(engine *e, const weft_id *id, int64_t now, task_update_result *res, task_status *now_status)
{
	task_row row;
	int rc = store_task_get(e->w, id, &row);
	if (rc != 0)
		return rc;
	task_status to = row.wait_finished > 0 ? TS_WAITING : TS_PENDING;
	task_status current = row.status;
	bool archived = row.archived;
	task_row_release(&row);
	*now_status = current;
	*res = (task_update_result){ .applied = false, .prev = current };
	if (current != TS_PAUSED || archived)
		return 0;
	task_update u = { .set_status = true, .status = to, .last_updated = now, .actor = e->actor,
	                  .reason = "resumed by request" };
	if ((rc = store_task_update(e->w, id, TS_BIT(TS_PAUSED), &u, res)) != 0)
		return rc == WEFT_ENOTFOUND ? WEFT_ESTORE : rc;
	if (!res->applied)
		return 0;
	engine_metric_transition(e, TS_PAUSED, to);
	if (to == TS_PENDING)
		engine_wake_starts(e);
	*now_status = to;
	return 0;
}

static int resume_task(engine *e, engine_cmd *cmd, int64_t now)
{
	task_update_result res;
	task_status st = TS_PENDING;
	int rc = task_resume_one(e, &engine_cmd_of(cmd, cmd_task)->id, now, &res, &st);
	return task_outcome(cmd, rc, &res, st);
}

static const engine_op op_patch = { .name = "task.patch", .apply = patch_task, .apply_many = patch_many,
                                    .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_counters = { .name = "task.counters", .apply = add_counters, .apply_many = counters_many,
                                       .failure_metric = "batch_update_failures_total" };
static const engine_op op_task[] = {
	[TASK_CANCEL] = { .name = "task.cancel", .apply = cancel_task, .failure_metric = "tasks_db_save_failures_total" },
	[TASK_PAUSE] = { .name = "task.pause", .apply = pause_task, .failure_metric = "tasks_db_save_failures_total" },
	[TASK_RESUME] = { .name = "task.resume", .apply = resume_task, .failure_metric = "tasks_db_save_failures_total" },
};

void cmd_patch_init(cmd_patch *c) { *c = (cmd_patch){ .base.op = &op_patch }; }
void cmd_counters_init(cmd_counters *c) { *c = (cmd_counters){ .base.op = &op_counters }; }
void cmd_task_init(cmd_task *c, task_action what) { *c = (cmd_task){ .base.op = &op_task[what] }; }

static void define_metrics(void)
{
	metrics_define("tasks_cancelled_total", METRIC_COUNTER, "Tasks canceled by DELETE /task or DELETE /batch");
	metrics_define("tasks_db_save_failures_total", METRIC_COUNTER, "Commands not applied because of a storage error");
	metrics_define("batch_update_failures_total", METRIC_COUNTER,
	               "PUT counter updates not applied because of a storage error");
}

const command_family family_tasks = { .name = "tasks", .define_metrics = define_metrics };
