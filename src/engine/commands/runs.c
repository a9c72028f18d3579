/*
 * runs.c — a webhook task's report of its end (runs.h).
 */
#include "util/common.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/runs.h"

ENGINE_CMD_BASE_FIRST(cmd_task_report);

/* The result is written first, guarded on claimed or running in the same
 * transaction; the status change is then the PATCH's own, under the same
 * guard. */
static int apply_report(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_task_report *r = engine_cmd_of(cmd, cmd_task_report);
	bool applied = false;
	int rc = store_webhook_task_report(e->w, &r->id, r->fail ? NULL : (r->result ? r->result : "null"),
	                                   r->fail ? r->error_code : NULL, &applied);
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
	return 0;
}

static const engine_op op_report = { .name = "task.report", .apply = apply_report,
                                     .failure_metric = "tasks_db_save_failures_total" };

void cmd_task_report_init(cmd_task_report *c) { *c = (cmd_task_report){ .base.op = &op_report }; }
