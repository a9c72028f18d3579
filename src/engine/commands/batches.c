/*
 * batches.c — the commands on a batch (batches.h).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/commands/batches.h"
#include "engine/audit.h"
#include "engine/commands/jobs.h"
#include "engine/commands/command.h"
#include "store/triggers.h"
#include "store/jobs.h"
#include "store/runs.h"

ENGINE_CMD_BASE_FIRST(cmd_submit);
ENGINE_CMD_BASE_FIRST(cmd_stop_batch);
ENGINE_CMD_BASE_FIRST(cmd_batch_rules);

/* ---- submit -------------------------------------------------------------- */

/* ArcRun's dedupe: a task is skipped when any matcher finds an existing task of
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

/* A queue task of a run: a job row in the batch, claimable once its
 * parents have ended (waiting until then). Its shape always has the
 * children and actions bits: its end must take the path that checks its
 * batch's completion, which only a shaped end takes; the parents bit is
 * exact, as a claim reads parents only for rows that have it. */
static int insert_run_job(engine *e, const cmd_submit *s, new_task *t, int64_t wait_success,
                          int64_t wait_finished, int64_t now)
{
	const job_spec *j = t->job;
	char *policy = retry_policy_job_json(j->max_attempts, j->backoff_initial_us, j->backoff_coefficient,
	                                     j->backoff_max_us, j->backoff_jitter, j->non_retryable,
	                                     j->nnon_retryable);
	const char *ns = s->namespace ? s->namespace : NAMESPACE_DEFAULT;
	run_job_new r = {
		.job = { .id = t->id, .namespace = ns, .queue = j->queue, .name = j->name, .input = j->input,
		         .metadata = j->metadata, .retry_policy = policy, .concurrency_key = j->concurrency_key,
		         .rate_key = j->rate_key, .priority = j->priority, .timeout_secs = j->timeout_secs,
		         .created_at = now,
		         .start_after = j->run_at_us ? j->run_at_us : now + MAX(j->delay_us, 0) },
		.batch_id = s->batch_id,
		.status = t->status,
		.wait_success = wait_success,
		.wait_finished = wait_finished,
		.shape = TASK_SHAPE_CHILDREN | TASK_SHAPE_ACTIONS | (wait_finished > 0 ? TASK_SHAPE_PARENTS : 0) |
		         (t->decision ? TASK_SHAPE_DECISION : 0) | (t->emit_topic != NULL ? TASK_SHAPE_EMIT : 0),
		.ref = t->ref,
	};
	int rc = store_run_job_insert(e->w, &r);
	free(policy);
	if (rc == 0) {
		engine_count(e, "jobs_enqueued_total", NULL, 1);
		if (t->status == TS_PENDING)
			engine_claims_wake(e);
	}
	return rc;
}

/* A task run by an executor that is started (a webhook task: ArcRun's). */
static int insert_task(engine *e, const cmd_submit *s, const new_task *t, int64_t wait_success,
                       int64_t wait_finished, int64_t now)
{
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
		.attempt = t->attempt,
		.executor = t->executor,
		.namespace = (char *)s->namespace,     /* borrowed for the insert */
		.shape = TASK_SHAPE_ALL | (t->decision ? TASK_SHAPE_DECISION : 0) |
		         (t->emit_topic != NULL ? TASK_SHAPE_EMIT : 0),
	};
	return store_run_task_insert(e->w, &row, t->ref);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The queue rows of a run's queue tasks, in one statement. */
static int ensure_run_queues(engine *e, const cmd_submit *s, int64_t now)
{
	const char **names = xcalloc(s->ntasks ? s->ntasks : 1, sizeof *names);
	size_t n = 0;
	for (size_t i = 0; i < s->ntasks; i++)
		if (s->tasks[i].job != NULL)
			names[n++] = s->tasks[i].job->queue;
	qsort(names, n, sizeof *names, cmp_str);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(names[m - 1], names[i]) != 0)
			names[m++] = names[i];
	int rc = store_queues_ensure(e->w, s->namespace ? s->namespace : NAMESPACE_DEFAULT, names, m, now);
	free(names);
	return rc;
}

static int submit_batch(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_submit *s = engine_cmd_of(cmd, cmd_submit);
	batch_row b = {
		.id = s->batch_id,
		.created_at = now,
		.scope = s->scope,
		.metadata = s->metadata,
		.on_complete = s->on_complete,
		.namespace = s->namespace,
		.name = s->name,
	};
	int rc = store_batch_insert(e->w, &b);
	if (rc == 0)
		rc = ensure_run_queues(e, s, now);
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
			if (!p->created)      /* parent deduplicated: its edge is dropped */
				continue;
			wait_finished++;
			wait_success += t->deps[d].requires_success;
		}
		id_new_v7(&t->id);
		t->status = wait_finished > 0 ? TS_WAITING : TS_PENDING;
		t->created_at = now;
		t->attempt = 1;
		rc = t->job != NULL ? insert_run_job(e, s, t, wait_success, wait_finished, now)
		                    : insert_task(e, s, t, wait_success, wait_finished, now);
		if (rc != 0)
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
		if (t->emit_topic != NULL &&
		    (rc = store_task_emit_insert(e->w, &t->id, s->namespace ? s->namespace : NAMESPACE_DEFAULT,
		                                 t->emit_topic, t->emit_on != NULL ? t->emit_on : "end")) != 0)
			return rc;
		char *start[1] = { t->on_start };
		bool webhooks = t->job == NULL;     /* a queue task has none */
		if (webhooks &&
		    ((rc = insert_actions(e, &t->id, TRIGGER_START, COND_SUCCESS, start, 1)) != 0 ||
		     (rc = insert_actions(e, &t->id, TRIGGER_END, COND_FAILURE, t->on_failure, t->non_failure)) != 0 ||
		     (rc = insert_actions(e, &t->id, TRIGGER_END, COND_SUCCESS, t->on_success, t->non_success)) != 0))
			return rc;
		t->created = true;
		s->created++;
		if (wait_finished > 0)
			engine_count(e, "tasks_with_dependencies_total", NULL, 1);
		else if (t->job == NULL)
			engine_wake_starts(e);
	}
	if (s->created && (rc = store_batch_add_remaining(e->w, &s->batch_id, (int64_t)s->created)) != 0)
		return rc;
	engine_count(e, "tasks_created_total", NULL, s->created);
	cmd->result = 0;
	return 0;
}

/* ---- stop and rules -------------------------------------------------------- */

/* Every link is inside the batch, so canceling all of its
 * non-terminal tasks needs no propagation and no dead-end walk. */
static int stop_batch(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_stop_batch *c_ = engine_cmd_of(cmd, cmd_stop_batch);
	int64_t count = 0;
	int rc = store_batch_task_count(e->w, &c_->batch_id, &count);
	if (rc != 0)
		return rc;
	if (count == 0) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	weft_id *running = NULL;
	size_t nrunning = 0;
	batch_cancel_counts *c = &c_->counts;
	memset(c, 0, sizeof(*c));
	rc = store_batch_cancel(e->w, &c_->batch_id, "Batch stopped", now, c, &running, &nrunning);
	if (rc != 0)
		return rc;
	int64_t total = 0;
	for (int s = 0; s < TS__COUNT; s++) {
		total += c->canceled[s];
		if (c->canceled[s])
			engine_count(e, "task_status_transitions_total",
			            s == TS_WAITING   ? "from_status=\"Waiting\",to_status=\"Canceled\"" :
			            s == TS_PENDING   ? "from_status=\"Pending\",to_status=\"Canceled\"" :
			            s == TS_CLAIMED   ? "from_status=\"Claimed\",to_status=\"Canceled\"" :
			            s == TS_RUNNING   ? "from_status=\"Running\",to_status=\"Canceled\"" :
			                                "from_status=\"Paused\",to_status=\"Canceled\"",
			            (uint64_t)c->canceled[s]);
	}
	engine_count(e, "tasks_cancelled_total", NULL, (uint64_t)total);
	rc = audit_record_run(e, cmd->actor, "run.cancel", &c_->batch_id, json_pack("{s:I}", "canceled", (json_int_t)total));
	if (rc != 0)
		return rc;
	/* A running task's timeout may be far off (claims and backoffs are
	 * short): its entry leaves the heap now. */
	for (size_t i = 0; i < nrunning; i++)
		deadline_forget(e, &running[i]);
	task_row *rows = NULL;
	size_t nrows = 0;
	rc = store_tasks_read(e->w, running, nrunning, false, &rows, &nrows);
	if (rc == 0)
		rc = engine_tasks_cancel_remote(e, rows, nrows, now);
	store_free_tasks(rows, nrows);
	free(running);
	if (total)
		engine_touch_batch(e, &c_->batch_id);
	if (c->canceled[TS_CLAIMED] || c->canceled[TS_RUNNING])
		engine_wake_held_starts(e);
	cmd->result = 0;
	return rc;
}

static int set_batch_rules(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_batch_rules *r = engine_cmd_of(cmd, cmd_batch_rules);
	int64_t count = 0;
	int rc = store_batch_task_count(e->w, &r->batch_id, &count);
	if (rc != 0)
		return rc;
	if (count == 0) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	rc = store_batch_set_rules(e->w, &r->batch_id, r->kind, r->rules, now,
	                           &r->updated);
	if (rc != 0)
		return rc;
	engine_wake_starts(e);
	cmd->result = 0;
	return 0;
}

/* ---- replays (Idempotency-Key) ------------------------------------------------
 * A submission's replay answers with what the first one created: its batch
 * id, and for each task of the request whether it was created, its id,
 * status, creation time and attempt ([created, id, status, created_at,
 * attempt]). The replayed request has the same body, so the rest of each
 * task's answer comes from decoding it again. */

static void submit_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_submit *s = engine_cmd_of(cmd, cmd_submit);
	json_t *tasks = json_array();
	for (size_t i = 0; i < s->ntasks; i++) {
		const new_task *t = &s->tasks[i];
		json_t *row = json_array();
		json_array_append_new(row, json_boolean(t->created));
		json_array_append_new(row, json_string(t->created ? t->id.str : ""));
		json_array_append_new(row, json_string(task_status_name(t->status)));
		json_array_append_new(row, json_integer(t->created_at));
		json_array_append_new(row, json_integer(t->attempt));
		json_array_append_new(tasks, row);
	}
	json_object_set_new(out, "batch_id", json_string(s->batch_id.str));
	json_object_set_new(out, "created", json_integer((json_int_t)s->created));
	json_object_set_new(out, "tasks", tasks);
}

static int submit_load(engine_cmd *cmd, const json_t *in)
{
	cmd_submit *s = engine_cmd_of(cmd, cmd_submit);
	const json_t *tasks = json_object_get(in, "tasks");
	weft_id batch;
	if (id_parse(json_string_value(json_object_get(in, "batch_id")), &batch) != 0 ||
	    json_array_size(tasks) != s->ntasks || !json_is_integer(json_object_get(in, "created")))
		return WEFT_EINTERNAL;
	for (size_t i = 0; i < s->ntasks; i++) {
		const json_t *row = json_array_get(tasks, i);
		new_task *t = &s->tasks[i];
		t->created = json_is_true(json_array_get(row, 0));
		if (t->created && id_parse(json_string_value(json_array_get(row, 1)), &t->id) != 0)
			return WEFT_EINTERNAL;
		if (task_status_parse(json_string_value(json_array_get(row, 2)), &t->status) != 0)
			return WEFT_EINTERNAL;
		t->created_at = json_integer_value(json_array_get(row, 3));
		t->attempt = (int32_t)json_integer_value(json_array_get(row, 4));
	}
	s->batch_id = batch;
	s->created = (size_t)json_integer_value(json_object_get(in, "created"));
	return 0;
}

static void rules_save(const engine_cmd *cmd, json_t *out)
{
	json_object_set_new(out, "updated", json_integer(engine_cmd_of(cmd, cmd_batch_rules)->updated));
}

static int rules_load(engine_cmd *cmd, const json_t *in)
{
	const json_t *v = json_object_get(in, "updated");
	if (!json_is_integer(v))
		return WEFT_EINTERNAL;
	engine_cmd_of(cmd, cmd_batch_rules)->updated = json_integer_value(v);
	return 0;
}

/* Submissions of one cycle in one savepoint, in queue order: a dedup
 * check sees the tasks of the submissions before it. */
static int submit_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = submit_batch(e, cmds[i], now);
	return rc;
}

static const engine_op op_submit = { .name = "batch.submit", .apply = submit_batch, .apply_many = submit_many,
                                     .failure_metric = "tasks_db_save_failures_total",
                                     .outcome_save = submit_save, .outcome_load = submit_load };
static const engine_op op_stop = { .name = "batch.stop", .apply = stop_batch,
                                   .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_rules = { .name = "batch.rules", .apply = set_batch_rules,
                                    .failure_metric = "tasks_db_save_failures_total",
                                    .outcome_save = rules_save, .outcome_load = rules_load };

void cmd_submit_init(cmd_submit *c) { *c = (cmd_submit){ .base.op = &op_submit }; }
void cmd_stop_batch_init(cmd_stop_batch *c) { *c = (cmd_stop_batch){ .base.op = &op_stop }; }
void cmd_batch_rules_init(cmd_batch_rules *c) { *c = (cmd_batch_rules){ .base.op = &op_rules }; }

static void define_metrics(void)
{
	metrics_define("tasks_created_total", METRIC_COUNTER, "Tasks created");
	metrics_define("tasks_with_dependencies_total", METRIC_COUNTER, "Tasks created with at least one dependency");
}

const command_family family_batches = { .name = "batches", .define_metrics = define_metrics };

void new_task_release(new_task *t)
{
	free(t->name);
	free(t->kind);
	free(t->metadata);
	free(t->rules);
	for (size_t i = 0; i < t->ndedupe; i++) {
		free(t->dedupe[i].kind);
		for (size_t f = 0; f < t->dedupe[i].nfields; f++)
			free(t->dedupe[i].fields[f]);
		free(t->dedupe[i].fields);
	}
	free(t->dedupe);
	free(t->deps);
	free(t->on_start);
	for (size_t i = 0; i < t->non_success; i++)
		free(t->on_success[i]);
	free(t->on_success);
	free(t->emit_topic);
	for (size_t i = 0; i < t->non_failure; i++)
		free(t->on_failure[i]);
	free(t->on_failure);
	free(t->group);
	free(t->retry_policy);
	free(t->executor);
	memset(t, 0, sizeof(*t));
}
