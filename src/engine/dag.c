/*
 * dag.c — what happens when a task becomes terminal (ArcRun's dependency
 * rules), inside the engine's transaction:
 *
 *  1. propagation: a success releases every waiting/paused child (counters
 *     decremented; a waiting child whose counters reach 0 becomes pending);
 *     a failure or cancel fails the children that require success
 *     (recursively, "Required parent task <id> failed") and releases the
 *     others, for which a finished optional parent counts as resolved;
 *  2. the on_failure webhooks of every cascade-failed child are queued;
 *  3. dead-end cancellation (DEAD_END_CANCEL_ENABLED): ancestors whose
 *     children are all terminal are canceled ("All child tasks already
 *     terminated"), walking upwards, stopping at dead_end_barrier tasks;
 *     each gets its executor's cancel if it was running, then its on_failure.
 *
 * Propagation is iterative (an explicit work list), so a 10,000-deep chain
 * failing at its root does not recurse 10,000 frames.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"

typedef struct id_list {
	weft_id *items;
	size_t len, cap;
} id_list;

static void id_list_push(id_list *l, const weft_id *id)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(weft_id));
	}
	l->items[l->len++] = *id;
}

static void id_list_push_all(id_list *l, const weft_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		id_list_push(l, &ids[i]);
}

/* Propagates `parent`'s outcome; appends every cascade-failed task to
 * `failed`. */
static int propagate(engine *e, const weft_id *root, bool root_succeeded, int64_t now, id_list *failed)
{
	id_list work = { 0 };
	size_t next = 0;
	int rc = 0;
	id_list_push(&work, root);

	while (next < work.len) {
		weft_id parent = work.items[next];
		bool succeeded = next == 0 ? root_succeeded : false;
		next++;
		engine_count(e, "dependency_propagations_total",
		            succeeded ? "parent_outcome=\"success\"" : "parent_outcome=\"failure\"", 1);

		if (!succeeded) {
			char reason[80];
			snprintf(reason, sizeof(reason), "Required parent task %s failed", parent.str);
			weft_id *changed = NULL;
			size_t nchanged = 0;
			rc = store_fail_required_children(e->w, &parent, reason, now, &changed, &nchanged);
			if (rc != 0)
				goto out;
			engine_count(e, "tasks_failed_by_dependency_total", NULL, nchanged);
			id_list_push_all(failed, changed, nchanged);
			id_list_push_all(&work, changed, nchanged);
			free(changed);
		}

		weft_id *ready = NULL;
		size_t nready = 0;
		rc = store_release_children(e->w, &parent, succeeded, &ready, &nready);
		if (rc != 0)
			goto out;
		if (nready) {
			engine_count(e, "tasks_unblocked_total", NULL, nready);
			engine_count(e, "task_status_transitions_total",
			            "from_status=\"Waiting\",to_status=\"Pending\"", nready);
			engine_wake_starts(e);
		}
		free(ready);
	}
out:
	free(work.items);
	return rc;
}

static int cancel_dead_ends(engine *e, id_list *check, int64_t now)
{
	int rc = 0;
	id_list current = *check, nextround = { 0 };
	*check = (id_list){ 0 };

	while (current.len > 0) {
		weft_id *parents = NULL;
		size_t nparents = 0;
		rc = store_dead_end_parents(e->w, current.items, current.len, &parents, &nparents);
		if (rc != 0)
			break;
		for (size_t i = 0; i < nparents && rc == 0; i++) {
			task_row row = { 0 };
			task_update u = {
				.set_status = true,
				.status = TS_CANCELED,
				.failure_reason = "All child tasks already terminated",
				.ended_at = now,
				.last_updated = now,
				.actor = "system",
				.after = &row,
			};
			task_update_result res;
			int r = store_task_update(e->w, &parents[i], TS_ACTIVE_MASK, &u, &res);
			if (r == WEFT_ENOTFOUND || (r == 0 && !res.applied))
				continue;
			if (r != 0) {
				rc = r;
				break;
			}
			task_status prev = res.prev;
			engine_count(e, "tasks_canceled_dead_end_total", NULL, 1);
			engine_metric_transition(e, prev, TS_CANCELED);
			engine_metric_terminal(e, &row);
			if (prev == TS_RUNNING)
				rc = engine_task_cancel_remote(e, &parents[i], &row, now);
			if (rc == 0)
				rc = outbox_add_task_webhooks(e, &parents[i], &row, TRIGGER_END, COND_FAILURE, now);
			if (prev == TS_CLAIMED || prev == TS_RUNNING)
				engine_wake_starts(e);
			if (!row.dead_end_barrier)
				id_list_push(&nextround, &parents[i]);
			task_row_release(&row);
		}
		free(parents);
		free(current.items);
		current = nextround;
		nextround = (id_list){ 0 };
	}
	free(current.items);
	free(nextround.items);
	return rc;
}

int dag_after_terminal(engine *e, const weft_id *task, const task_row *row, task_status final, int64_t now)
{
	/* Links stay inside a batch: the task's batch is the only one whose
	 * completion this can change. */
	int rc = 0;
	if (row != NULL) {
		if (id_is_set(&row->batch_id))
			engine_touch_batch(e, &row->batch_id);
	} else {
		task_row read;
		rc = store_task_get(e->w, task, &read);
		if (rc != 0)
			return rc == WEFT_ENOTFOUND ? 0 : rc;
		if (id_is_set(&read.batch_id))
			engine_touch_batch(e, &read.batch_id);
		task_row_release(&read);
	}

	id_list failed = { 0 };
	rc = propagate(e, task, final == TS_SUCCESS, now, &failed);
	for (size_t i = 0; rc == 0 && i < failed.len; i++)
		rc = outbox_add_task_webhooks(e, &failed.items[i], NULL, TRIGGER_END, COND_FAILURE, now);
	if (rc == 0 && e->cfg.dead_end_cancel) {
		id_list check = { 0 };
		id_list_push(&check, task);
		id_list_push_all(&check, failed.items, failed.len);
		rc = cancel_dead_ends(e, &check, now);
		free(check.items);
	}
	free(failed.items);
	return rc;
}

bool dag_should_retry(engine *e, const task_row *t, unsigned cause, int64_t now, task_update *u)
{
	retry_policy p;
	if (cause == 0 || t->retry_policy == NULL || retry_policy_parse(t->retry_policy, &p) != 0)
		return false;
	/* attempt counts tries from 1: attempt - 1 retries are done. */
	int32_t retries_done = MAX(t->attempt, 1) - 1;
	if (!(p.retry_on & cause) || retries_done >= p.max_retries)
		return false;
	UNUSED(e);
	u->set_status = true;
	u->status = TS_RETRYING;
	u->set_attempt = true;
	u->attempt = retries_done + 2;
	u->next_retry_at = now + retry_delay_us(&p, retries_done);
	return true;
}

int dag_fail_task(engine *e, const weft_id *task, unsigned from_mask, const char *reason, unsigned cause,
                  bool touch_last_updated, int64_t now, bool *applied, bool *retried)
{
	*applied = false;
	*retried = false;
	task_row t;
	int rc = store_task_get(e->w, task, &t);
	if (rc != 0)
		return rc;
	if (!(TS_BIT(t.status) & from_mask)) {
		task_row_release(&t);
		return 0;
	}
	task_row after = { 0 };
	task_update u = {
		.failure_reason = reason,
		.last_updated = touch_last_updated ? now : 0,
		.actor = e->actor,
		.after = &after,
	};
	char why[300];
	bool retry = dag_should_retry(e, &t, cause, now, &u);
	if (retry) {
		snprintf(why, sizeof(why), "attempt %d failed: %s", (int)t.attempt, reason);
		u.reason = why;
	} else {
		u.set_status = true;
		u.status = TS_FAILURE;
		u.ended_at = now;
	}
	task_row_release(&t);
	task_update_result res;
	rc = store_task_update(e->w, task, from_mask, &u, &res);
	if (rc != 0 || !res.applied)
		return rc;
	*applied = true;
	engine_wake_starts(e);    /* a claimed/running task left: rule slots freed */
	engine_metric_transition(e, res.prev, u.status);
	if (retry) {
		*retried = true;
		engine_count(e, "tasks_retried_total", NULL, 1);
		deadline_arm(e, after.next_retry_at, &deadline_retry_backoff, task);
		task_row_release(&after);
		return 0;
	}
	engine_metric_terminal(e, &after);
	rc = outbox_add_task_webhooks(e, task, &after, TRIGGER_END, COND_FAILURE, now);
	if (rc == 0)
		rc = dag_after_terminal(e, task, &after, TS_FAILURE, now);
	task_row_release(&after);
	return rc;
}
