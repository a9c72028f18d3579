/*
 * runs.c — a webhook task's report of its end, and a run paused or
 * resumed (runs.h).
 */
#include "util/common.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/runs.h"
#include "engine/audit.h"
#include "store/runs.h"

ENGINE_CMD_BASE_FIRST(cmd_task_report);
ENGINE_CMD_BASE_FIRST(cmd_run_pause);

/* The result is written first, guarded on claimed or running in the same
 * transaction; the status change is then the PATCH's own, under the same
 * guard. */
static int apply_report(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_task_report *r = engine_cmd_of(cmd, cmd_task_report);
	bool applied = false;
	int32_t shape = 0;
	int rc = store_webhook_task_report(e->w, &r->id, r->fail ? NULL : (r->result ? r->result : "null"),
	                                   r->fail ? r->error_code : NULL, &applied, &shape);
	if (rc != 0)
		return rc;
	if (!applied) {
		task_row t;
		rc = store_task_get(e->w, &r->id, &t);
		if (rc == WEFT_ENOTFOUND || (rc == 0 && t.executor != NULL && strcmp(t.executor, "queue") == 0)) {
			cmd->result = WEFT_ENOTFOUND;
		} else if (rc == 0) {
			cmd->result = WEFT_ECONFLICT;
			cmd->current_status = t.status;
		}
		if (rc == 0)
			task_row_release(&t);
		return rc == WEFT_ENOTFOUND ? 0 : rc;
	}
	cmd_patch *p = &r->patch;
	cmd_patch_init(p);
	p->base.actor = cmd->actor;
	p->id = r->id;
	p->has_status = true;
	p->status = r->fail ? TS_FAILURE : TS_SUCCESS;
	p->failure_reason = r->fail ? (r->message ? r->message : r->error_code) : NULL;
	if ((rc = p->base.op->apply(e, &p->base, now)) != 0)
		return rc;
	cmd->result = p->base.result;
	cmd->current_status = p->base.current_status;
	cmd->noop = p->base.noop;
	/* A decision's success may have failed it (its result was no
	 * decision): the answer says where it ended. */
	if (cmd->result == 0 && cmd->current_status == TS_SUCCESS && (shape & TASK_SHAPE_DECISION)) {
		task_row t;
		if ((rc = store_task_get(e->w, &r->id, &t)) != 0)
			return rc;
		cmd->current_status = t.status;
		task_row_release(&t);
	}
	return 0;
}

static const engine_op op_report = { .name = "task.report", .apply = apply_report,
                                     .failure_metric = "tasks_db_save_failures_total" };

void cmd_task_report_init(cmd_task_report *c) { *c = (cmd_task_report){ .base.op = &op_report }; }

/* ---- a run paused or resumed ------------------------------------------------------ */

static int apply_run_pause(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_run_pause *c = engine_cmd_of(cmd, cmd_run_pause);
	int64_t total = 0;
	int rc = store_batch_task_count(e->w, &c->batch_id, &total);
	if (rc != 0)
		return rc;
	if (total == 0) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	int64_t counts[TS__COUNT];
	rc = store_batch_pause(e->w, &c->batch_id, c->resume, now, cmd->actor ? cmd->actor : "api",
	                       c->resume ? "operator: resume" : "operator: pause", counts);
	if (rc != 0)
		return rc;
	c->changed = 0;
	for (int s = 0; s < TS__COUNT; s++) {
		if (counts[s] == 0)
			continue;
		c->changed += counts[s];
		task_status from = c->resume ? TS_PAUSED : (task_status)s, to = c->resume ? (task_status)s : TS_PAUSED;
		char labels[96];
		snprintf(labels, sizeof labels, "from_status=\"%s\",to_status=\"%s\"", task_status_label(from),
		         task_status_label(to));
		engine_count(e, "task_status_transitions_total", labels, (uint64_t)counts[s]);
	}
	c->unchanged = total - c->changed;
	if (c->changed > 0)
		engine_count(e, "operator_actions_total", c->resume ? "action=\"resume\"" : "action=\"pause\"",
		             (uint64_t)c->changed);
	rc = audit_record_run(e, cmd->actor, c->resume ? "run.resume" : "run.pause", &c->batch_id,
	                      json_pack("{s:I}", "changed", (json_int_t)c->changed));
	if (rc != 0)
		return rc;
	/* Resumed tasks may start now, and resumed jobs be claimed. */
	if (c->resume && counts[TS_PENDING] > 0) {
		engine_wake_starts(e);
		engine_claims_wake(e);
	}
	cmd->result = 0;
	return 0;
}

static void run_pause_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_run_pause *c = engine_cmd_of((engine_cmd *)cmd, cmd_run_pause);
	json_object_set_new(out, "changed", json_integer(c->changed));
	json_object_set_new(out, "unchanged", json_integer(c->unchanged));
}

static int run_pause_load(engine_cmd *cmd, const json_t *in)
{
	cmd_run_pause *c = engine_cmd_of(cmd, cmd_run_pause);
	const json_t *a = json_object_get(in, "changed"), *b = json_object_get(in, "unchanged");
	if (!json_is_integer(a) || !json_is_integer(b))
		return WEFT_EINTERNAL;
	c->changed = json_integer_value(a);
	c->unchanged = json_integer_value(b);
	return 0;
}

static const engine_op op_run_pause[2] = {
	{ .name = "run.pause", .apply = apply_run_pause, .failure_metric = "tasks_db_save_failures_total",
	  .outcome_save = run_pause_save, .outcome_load = run_pause_load },
	{ .name = "run.resume", .apply = apply_run_pause, .failure_metric = "tasks_db_save_failures_total",
	  .outcome_save = run_pause_save, .outcome_load = run_pause_load },
};

void cmd_run_pause_init(cmd_run_pause *c, bool resume)
{
	*c = (cmd_run_pause){ .base.op = &op_run_pause[resume ? 1 : 0], .resume = resume };
}
