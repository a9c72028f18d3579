/*
 * task_run.c — the transitions every executor shares: a claimed task
 * becomes running, and a running task's executor is told to stop it.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/engine_internal.h"
#include "exec/executor.h"

int engine_task_running(engine *e, const weft_id *id, int64_t now, bool *applied)
{
	task_row after = { 0 };
	task_update u = { .set_status = true, .status = TS_RUNNING, .started_at = now, .last_updated = now,
	                  .actor = e->actor, .reason = "on_start answered", .after = &after };
	task_update_result res;
	int rc = store_task_update(e->w, id, TS_BIT(TS_CLAIMED), &u, &res);
	*applied = rc == 0 && res.applied;
	if (rc == WEFT_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (*applied) {
		engine_metric_transition(e, TS_CLAIMED, TS_RUNNING);
		deadline_arm(e, now + (int64_t)after.timeout_secs * 1000000, &deadline_run_timeout, id);
		char *labels = xasprintf("kind=\"%s\"", after.kind ? after.kind : "");
		engine_observe(e, "task_wait_seconds", labels, (double)(now - after.created_at) / 1e6);
		free(labels);
		task_row_release(&after);
	}
	return 0;
}

int engine_task_cancel_remote(engine *e, const weft_id *id, const task_row *row, int64_t now)
{
	task_row read = { 0 };
	if (row == NULL) {
		int rc = store_task_get(e->w, id, &read);
		if (rc != 0)
			return rc == WEFT_ENOTFOUND ? 0 : rc;
		row = &read;
	}
	const executor *ex = executor_of_task(row);
	int rc = ex && ex->cancel ? ex->cancel(e, id, row, now) : 0;
	task_row_release(&read);
	return rc;
}
