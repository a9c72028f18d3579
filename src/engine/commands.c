/*
 * commands.c — one handler per engine command. Each runs inside the
 * cycle's transaction (within its own savepoint), decides the outcome
 * (cmd->status), and queues side effects; nothing here is visible outside
 * until the cycle commits.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"

static engine_status from_store(int rc)
{
	return rc == STORE_UNAVAILABLE ? ENGINE_UNAVAILABLE : ENGINE_ERROR;
}

/* ---- POST /task ---------------------------------------------------------- */

/* ArcRun §8: a task is skipped when any matcher finds an existing task of
 * matcher.kind in exactly matcher.status whose metadata holds the new
 * task's values of matcher.fields. A matcher with fields is ignored when
 * the new task has no metadata or lacks one of the fields. */
static int is_duplicate(engine *e, const new_task *t, bool *dup)
{
	*dup = false;
	json_t *meta = NULL;
	int rc = 0;
	for (size_t m = 0; m < t->ndedupe && !*dup; m++) {
		const new_matcher *mt = &t->dedupe[m];
		json_t *pattern = json_object();
		bool usable = true;
		if (mt->nfields > 0) {
			if (!meta)
				meta = json_parse_text(t->metadata);
			for (size_t f = 0; f < mt->nfields && usable; f++) {
				json_t *v = json_is_object(meta) ? json_object_get(meta, mt->fields[f]) : NULL;
				if (!v)
					usable = false;
				else
					json_object_set(pattern, mt->fields[f], v);
			}
		}
		if (usable) {
			char *text = json_dump_compact(pattern);
			int64_t count = 0;
			/* Another node may be inserting the duplicate right now: wait
			 * for its transaction, then count. */
			rc = store_rules_lock_wait(e->w, mt->kind);
			if (rc == 0)
				rc = store_count_matching(e->w, mt->kind, TS_BIT(mt->status), text, 1, &count);
			free(text);
			if (rc == 0 && count > 0)
				*dup = true;
		}
		json_decref(pattern);
		if (rc != 0)
			break;
	}
	json_decref(meta);
	return rc;
}

static int insert_actions(engine *e, const weft_id *id, action_trigger trig, action_condition cond,
                          char *const *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		action_row a = { .trigger = trig, .condition = cond, .params = params[i] };
		int rc = store_action_insert(e->w, id, &a);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int submit_batch(engine *e, engine_cmd *cmd, int64_t now)
{
	struct cmd_submit *s = &cmd->u.submit;
	batch_row b = {
		.id = s->batch_id,
		.created_at = now,
		.scope = s->scope,
		.metadata = s->metadata,
		.on_complete = s->on_complete,
	};
	int rc = store_batch_insert(e->w, &b);
	if (rc != 0)
		return rc;
	s->created = 0;
	for (size_t i = 0; i < s->ntasks; i++) {
		new_task *t = &s->tasks[i];
		t->created = false;
		bool dup = false;
		if (t->ndedupe && (rc = is_duplicate(e, t, &dup)) != 0)
			return rc;
		if (dup)
			continue;

		int64_t wait_finished = 0, wait_success = 0;
		for (size_t d = 0; d < t->ndeps; d++) {
			const new_task *p = &s->tasks[t->deps[d].parent_index];
			if (!p->created)      /* parent deduplicated: the edge is dropped (ArcRun §8) */
				continue;
			wait_finished++;
			wait_success += t->deps[d].requires_success;
		}
		id_new_v7(&t->id);
		t->status = wait_finished > 0 ? TS_WAITING : TS_PENDING;
		t->created_at = now;
		task_row row = {
			.id = t->id,
			.batch_id = s->batch_id,
			.name = t->name,
			.kind = t->kind,
			.status = t->status,
			.timeout_secs = t->timeout_secs,
			.created_at = now,
			.last_updated = now,
			.metadata = t->metadata,
			.rules = t->rules,
			.wait_success = wait_success,
			.wait_finished = wait_finished,
			.has_expected_count = t->has_expected_count,
			.expected_count = t->expected_count,
			.dead_end_barrier = t->dead_end_barrier,
			.priority = t->priority,
			.group_name = t->group,
			.start_after = t->start_after,
			.retry_policy = t->retry_policy,
		};
		if ((rc = store_task_insert(e->w, &row)) != 0)
			return rc;
		for (size_t d = 0; d < t->ndeps; d++) {
			const new_task *p = &s->tasks[t->deps[d].parent_index];
			if (!p->created)
				continue;
			link_row l = { .parent_id = p->id, .child_id = t->id,
			               .requires_success = t->deps[d].requires_success };
			if ((rc = store_link_insert(e->w, &l)) != 0)
				return rc;
		}
		char *start[1] = { t->on_start };
		if ((rc = insert_actions(e, &t->id, TRIGGER_START, COND_SUCCESS, start, 1)) != 0 ||
		    (rc = insert_actions(e, &t->id, TRIGGER_END, COND_FAILURE, t->on_failure, t->non_failure)) != 0 ||
		    (rc = insert_actions(e, &t->id, TRIGGER_END, COND_SUCCESS, t->on_success, t->non_success)) != 0)
			return rc;
		t->created = true;
		s->created++;
		if (wait_finished > 0)
			metrics_inc("tasks_with_dependencies_total", NULL, 1);
		else
			e->start_dirty = true;
	}
	if (s->created && (rc = store_batch_add_remaining(e->w, &s->batch_id, (int64_t)s->created)) != 0)
		return rc;
	metrics_inc("tasks_created_total", NULL, s->created);
	cmd->status = ENGINE_OK;
	return 0;
}

/* ---- PATCH /task/{id} ---------------------------------------------------- */

static int patch_task(engine *e, engine_cmd *cmd, int64_t now)
{
	struct cmd_patch *p = &cmd->u.patch;
	task_update u = {
		.add_success = p->new_success,
		.add_failures = p->new_failures,
		.metadata = p->metadata,
		.set_expected_count = p->has_expected_count,
		.expected_count = p->expected_count,
		.set_priority = p->has_priority,
		.priority = p->priority,
		.last_updated = now,
	};
	task_row after = { 0 };
	u.actor = e->actor;
	u.after = &after;
	bool retry = false;
	if (p->has_status && p->status == TS_FAILURE) {
		/* An explicit failure may be retried under the task's policy. */
		task_row t;
		int r = store_task_get(e->w, &p->id, &t);
		if (r < 0)
			return r;
		if (r == 0) {
			if (TS_BIT(t.status) & (TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED)))
				retry = dag_should_retry(e, &t, RETRY_ON_EXPLICIT, now, &u);
			task_row_release(&t);
		}
	}
	if (retry) {
		u.failure_reason = p->failure_reason;
		u.reason = "explicit failure: retry scheduled";
	} else if (p->has_status) {
		u.set_status = true;
		u.status = p->status;
		u.failure_reason = p->failure_reason;
		u.ended_at = now;
	}
	task_status prev = TS_PENDING;
	int rc = store_task_update(e->w, &p->id, TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED), &u, &prev);
	if (rc == STORE_NOT_FOUND) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	if (rc == STORE_GUARD) {
		cmd->current_status = prev;
		cmd->status = p->has_status && prev == p->status ? ENGINE_NOOP : ENGINE_CONFLICT;
		return 0;
	}
	if (rc != 0)
		return rc;
	cmd->status = ENGINE_OK;
	cmd->current_status = after.status;
	if (p->new_success || p->new_failures || p->has_expected_count)
		e->start_dirty = true;     /* capacity may have been freed */
	if (!p->has_status) {
		task_row_release(&after);
		return 0;
	}
	engine_metric_transition(prev, after.status);
	e->start_dirty = true;
	if (retry) {
		metrics_inc("tasks_retried_total", NULL, 1);
		engine_arm_timer(e, after.next_retry_at, TIMER_RETRY, &p->id);
		task_row_release(&after);
		return 0;
	}
	engine_metric_terminal(&after);
	rc = outbox_add_task_webhooks(e, &p->id, &after, TRIGGER_END,
	                              p->status == TS_SUCCESS ? COND_SUCCESS : COND_FAILURE, now);
	if (rc == 0)
		rc = dag_after_terminal(e, &p->id, &after, p->status, now);
	task_row_release(&after);
	return rc;
}

/* ---- PUT /task/{id} ------------------------------------------------------ */

/* Counters land whatever the status, terminal included: a report racing
 * the task's completion must not be lost (ArcRun's tested behaviour). They
 * also refresh last_updated, which is the running task's heartbeat. */
static int add_counters(engine *e, engine_cmd *cmd, int64_t now)
{
	task_update u = {
		.add_success = cmd->u.counters.success,
		.add_failures = cmd->u.counters.failures,
		.last_updated = now,
		.actor = e->actor,
	};
	int rc = store_task_update(e->w, &cmd->u.counters.id, TS_ALL_MASK, &u, NULL);
	if (rc == STORE_NOT_FOUND) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	e->start_dirty = true;   /* progress lowers capacity sums */
	cmd->status = ENGINE_OK;
	return 0;
}

/* ---- DELETE /task/{id} --------------------------------------------------- */

/* Cancels one task: 0 applied, STORE_NOT_FOUND / STORE_GUARD (*prev =
 * current status), <0 error. */
static int cancel_one(engine *e, const weft_id *id, const char *reason, int64_t now, task_status *prev)
{
	task_row after = { 0 };
	task_update u = { .set_status = true, .status = TS_CANCELED, .ended_at = now, .last_updated = now,
	                  .actor = e->actor, .reason = reason, .after = &after };
	int rc = store_task_update(e->w, id, TS_ACTIVE_MASK, &u, prev);
	if (rc != 0)
		return rc;
	metrics_inc("tasks_cancelled_total", NULL, 1);
	engine_metric_transition(*prev, TS_CANCELED);
	engine_metric_terminal(&after);
	if (*prev == TS_CLAIMED || *prev == TS_RUNNING)
		e->start_dirty = true;
	/* The canceled task's own on_failure does not fire; its cancel action
	 * (registered by its on_start answer) does when it was running. */
	if (*prev == TS_RUNNING)
		rc = outbox_add_task_webhooks(e, id, &after, TRIGGER_CANCEL, COND_SUCCESS, now);
	if (rc == 0)
		rc = dag_after_terminal(e, id, &after, TS_CANCELED, now);
	task_row_release(&after);
	return rc;
}

/* A single-task operation's store result as the command's outcome:
 * `current` is the task's status when the guard refused, `reached` the one
 * it has when the operation applied. */
static int task_outcome(engine_cmd *cmd, int rc, task_status current, task_status reached)
{
	if (rc == STORE_NOT_FOUND) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	if (rc == STORE_GUARD) {
		cmd->status = ENGINE_CONFLICT;
		cmd->current_status = current;
		return 0;
	}
	if (rc != 0)
		return rc;
	cmd->status = ENGINE_OK;
	cmd->current_status = reached;
	return 0;
}

static int cancel_task(engine *e, engine_cmd *cmd, int64_t now)
{
	task_status prev = TS_PENDING;
	int rc = cancel_one(e, &cmd->u.task.id, "canceled by request", now, &prev);
	return task_outcome(cmd, rc, prev, TS_CANCELED);
}

/* ---- pause / resume ------------------------------------------------------ */

static int pause_one(engine *e, const weft_id *id, task_status *prev)
{
	task_update u = { .set_status = true, .status = TS_PAUSED, .actor = e->actor, .reason = "paused by request" };
	int rc = store_task_update(e->w, id, TS_BIT(TS_PENDING) | TS_BIT(TS_WAITING), &u, prev);
	if (rc == 0)
		engine_metric_transition(*prev, TS_PAUSED);
	return rc;
}

static int pause_task(engine *e, engine_cmd *cmd)
{
	task_status prev = TS_PENDING;
	int rc = pause_one(e, &cmd->u.task.id, &prev);
	return task_outcome(cmd, rc, prev, TS_PAUSED);
}

/* Resumes a paused task to waiting or pending by its counters: 0 applied
 * (*now_status set), STORE_NOT_FOUND, STORE_GUARD (*now_status = current). */
static int resume_one(engine *e, const weft_id *id, int64_t now, task_status *now_status)
{
	task_row row;
	int rc = store_task_get(e->w, id, &row);
	if (rc != 0)
		return rc;
	task_status to = row.wait_finished > 0 ? TS_WAITING : TS_PENDING;
	task_status current = row.status;
	bool archived = row.archived;
	task_row_release(&row);
	if (current != TS_PAUSED || archived) {
		*now_status = current;
		return STORE_GUARD;
	}
	task_update u = { .set_status = true, .status = to, .last_updated = now, .actor = e->actor,
	                  .reason = "resumed by request" };
	if ((rc = store_task_update(e->w, id, TS_BIT(TS_PAUSED), &u, NULL)) != 0)
		return rc < 0 ? rc : STORE_ERR;
	engine_metric_transition(TS_PAUSED, to);
	if (to == TS_PENDING)
		e->start_dirty = true;
	*now_status = to;
	return 0;
}

static int resume_task(engine *e, engine_cmd *cmd, int64_t now)
{
	task_status st = TS_PENDING;
	int rc = resume_one(e, &cmd->u.task.id, now, &st);
	return task_outcome(cmd, rc, st, st);
}

/* ---- batches --------------------------------------------------------------- */

/* ArcRun §4.11: every link is inside the batch, so canceling all of its
 * non-terminal tasks needs no propagation and no dead-end walk. */
static int stop_batch(engine *e, engine_cmd *cmd, int64_t now)
{
	int64_t count = 0;
	int rc = store_batch_task_count(e->w, &cmd->u.stop.batch_id, &count);
	if (rc != 0)
		return rc;
	if (count == 0) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	weft_id *running = NULL;
	size_t nrunning = 0;
	batch_cancel_counts *c = &cmd->u.stop.counts;
	memset(c, 0, sizeof(*c));
	rc = store_batch_cancel(e->w, &cmd->u.stop.batch_id, "Batch stopped", now, c, &running, &nrunning);
	if (rc != 0)
		return rc;
	int64_t total = 0;
	for (int s = 0; s < TS__COUNT; s++) {
		total += c->canceled[s];
		if (c->canceled[s])
			metrics_inc("task_status_transitions_total",
			            s == TS_WAITING   ? "from_status=\"Waiting\",to_status=\"Canceled\"" :
			            s == TS_PENDING   ? "from_status=\"Pending\",to_status=\"Canceled\"" :
			            s == TS_CLAIMED   ? "from_status=\"Claimed\",to_status=\"Canceled\"" :
			            s == TS_RUNNING   ? "from_status=\"Running\",to_status=\"Canceled\"" :
			                                "from_status=\"Paused\",to_status=\"Canceled\"",
			            (uint64_t)c->canceled[s]);
	}
	metrics_inc("tasks_cancelled_total", NULL, (uint64_t)total);
	for (size_t i = 0; i < nrunning && rc == 0; i++)
		rc = outbox_add_task_webhooks(e, &running[i], NULL, TRIGGER_CANCEL, COND_SUCCESS, now);
	free(running);
	if (total)
		id_set_add(&e->touched_batches, &cmd->u.stop.batch_id);
	if (c->canceled[TS_CLAIMED] || c->canceled[TS_RUNNING])
		e->start_dirty = true;
	cmd->status = ENGINE_OK;
	return rc;
}

static int set_batch_rules(engine *e, engine_cmd *cmd, int64_t now)
{
	int64_t count = 0;
	int rc = store_batch_task_count(e->w, &cmd->u.rules.batch_id, &count);
	if (rc != 0)
		return rc;
	if (count == 0) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	rc = store_batch_set_rules(e->w, &cmd->u.rules.batch_id, cmd->u.rules.kind, cmd->u.rules.rules, now,
	                           &cmd->u.rules.updated);
	if (rc != 0)
		return rc;
	e->start_dirty = true;
	cmd->status = ENGINE_OK;
	return 0;
}

/* ---- groups ---------------------------------------------------------------- */

/* Applies cancel, pause or resume to every task of a group that the
 * action applies to; the answer counts the tasks changed. */
static int group_command(engine *e, engine_cmd *cmd, int64_t now)
{
	unsigned mask = cmd->type == CMD_GROUP_CANCEL  ? TS_ACTIVE_MASK
	              : cmd->type == CMD_GROUP_PAUSE   ? TS_BIT(TS_PENDING) | TS_BIT(TS_WAITING)
	                                               : TS_BIT(TS_PAUSED);
	weft_id *all = NULL, *ids = NULL;
	size_t nall = 0, n = 0;
	int rc = store_group_tasks(e->w, cmd->u.group.name, TS_ALL_MASK, &all, &nall);
	if (rc != 0)
		return rc;
	free(all);
	if (nall == 0) {
		cmd->status = ENGINE_NOT_FOUND;
		return 0;
	}
	if ((rc = store_group_tasks(e->w, cmd->u.group.name, mask, &ids, &n)) != 0)
		return rc;
	char reason[320];
	snprintf(reason, sizeof(reason), "group %s canceled", cmd->u.group.name);
	int64_t count = 0;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		task_status st = TS_PENDING;
		/* An earlier cancel's cascade may already have ended this one: a
		 * guard miss is not an error. */
		if (cmd->type == CMD_GROUP_CANCEL)
			rc = cancel_one(e, &ids[i], reason, now, &st);
		else if (cmd->type == CMD_GROUP_PAUSE)
			rc = pause_one(e, &ids[i], &st);
		else
			rc = resume_one(e, &ids[i], now, &st);
		if (rc == 0)
			count++;
	}
	free(ids);
	if (rc < 0)
		return rc;
	cmd->u.group.count = count;
	cmd->status = ENGINE_OK;
	return 0;
}

int engine_apply_command(engine *e, engine_cmd *cmd, int64_t now)
{
	int rc;
	switch (cmd->type) {
	case CMD_SUBMIT_BATCH: rc = submit_batch(e, cmd, now); break;
	case CMD_PATCH_TASK: rc = patch_task(e, cmd, now); break;
	case CMD_ADD_COUNTERS: rc = add_counters(e, cmd, now); break;
	case CMD_CANCEL_TASK: rc = cancel_task(e, cmd, now); break;
	case CMD_PAUSE_TASK: rc = pause_task(e, cmd); break;
	case CMD_RESUME_TASK: rc = resume_task(e, cmd, now); break;
	case CMD_STOP_BATCH: rc = stop_batch(e, cmd, now); break;
	case CMD_SET_BATCH_RULES: rc = set_batch_rules(e, cmd, now); break;
	case CMD_GROUP_CANCEL:
	case CMD_GROUP_PAUSE:
	case CMD_GROUP_RESUME: rc = group_command(e, cmd, now); break;
	default: rc = STORE_ERR; break;
	}
	if (rc != 0)
		cmd->status = from_store(rc);
	return rc;
}
