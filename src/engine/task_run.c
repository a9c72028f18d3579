/*
 * task_run.c — the transitions every executor shares, for sets of tasks:
 * claimed tasks become running, and running tasks' executors are told to
 * stop them.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/engine_internal.h"
#include "exec/executor.h"

int engine_update_tasks(engine *e, const weft_id *ids, size_t n, unsigned from_mask, const task_update *u,
                        task_update_result *res, task_row *after)
{
	task_change *ch = xcalloc(n ? n : 1, sizeof *ch);
	for (size_t i = 0; i < n; i++) {
		ch[i] = (task_change){ .id = ids[i], .from_mask = from_mask, .u = *u };
		ch[i].u.after = after ? &after[i] : NULL;
	}
	int rc = store_task_update_many(e->w, ch, n, res);
	free(ch);
	return rc;
}

int engine_tasks_running(engine *e, const weft_id *ids, size_t n, int64_t now, bool *applied)
{
	if (n == 0)
		return 0;
	task_update_result *res = xcalloc(n, sizeof *res);
	task_row *after = xcalloc(n, sizeof *after);
	task_update u = { .set_status = true, .status = TS_RUNNING, .started_at = now, .last_updated = now,
	                  .actor = e->actor, .reason = "on_start answered" };
	int rc = engine_update_tasks(e, ids, n, TS_BIT(TS_CLAIMED), &u, res, after);
	for (size_t i = 0; i < n; i++) {
		applied[i] = rc == 0 && res[i].applied;
		if (!applied[i])
			continue;
		engine_metric_transition(e, TS_CLAIMED, TS_RUNNING);
		deadline_arm(e, now + (int64_t)after[i].timeout_secs * 1000000, &deadline_run_timeout, &ids[i]);
		char *labels = xasprintf("kind=\"%s\"", after[i].kind ? after[i].kind : "");
		engine_observe(e, "task_wait_seconds", labels, (double)(now - after[i].created_at) / 1e6);
		free(labels);
		task_row_release(&after[i]);
	}
	free(after);
	free(res);
	return rc;
}

int engine_tasks_cancel_remote(engine *e, const task_row *rows, size_t n, int64_t now)
{
	/* Each executor gets its own tasks as one set. */
	task_row *mine = xcalloc(n ? n : 1, sizeof *mine);
	bool *done = xcalloc(n ? n : 1, sizeof *done);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (done[i])
			continue;
		const executor *ex = executor_of_task(&rows[i]);
		size_t k = 0;
		for (size_t j = i; j < n; j++) {
			if (!done[j] && executor_of_task(&rows[j]) == ex) {
				mine[k++] = rows[j];
				done[j] = true;
			}
		}
		if (ex != NULL && ex->cancel != NULL)
			rc = ex->cancel(e, mine, k, now);
	}
	free(done);
	free(mine);
	return rc;
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
	int rc = engine_tasks_cancel_remote(e, row, 1, now);
	task_row_release(&read);
	return rc;
}
