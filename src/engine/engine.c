/*
 * engine.c — the single writer's loop: queue, group commit, start pass,
 * timers and start-webhook results.
 *
 * One cycle:
 *   take every queued command and every finished start call (under mu);
 *   BEGIN IMMEDIATE;
 *     apply each command in its own savepoint;
 *     apply each start result (claimed -> running, or failure);
 *     apply each finished outbox delivery (success, retry or exhausted);
 *     fire due timers (stale claims back to pending, inactivity timeouts,
 *       retry backoffs);
 *     if something may have become startable: the start pass claims
 *       pending tasks in priority order, checking their rules, up to the
 *       window of start calls allowed in flight;
 *     fire on_batch_complete for batches that just finished;
 *     lease due outbox deliveries up to their window;
 *     archive old terminal tasks when retention is due;
 *   COMMIT (one fsync for all of it);
 *   then submit the queued webhook calls and answer every command.
 * The thread sleeps on a condition variable until a command, a webhook
 * result or the earliest deadline (timer, delivery, delayed start,
 * retention) is due; nothing polls.
 *
 * On a shared database (PostgreSQL, several nodes) each node runs this loop
 * on its own connection. What keeps them correct is in the database: the
 * start scan skips rows another node has locked, every transition is a
 * guarded update, and rule checks hold a per-kind advisory lock until
 * commit. A cycle that changed something notifies the other nodes at
 * commit, which wakes their loops as a local command would. Deadlines are
 * read from the database by the elected leader only (timers and retention
 * are its duties); the heap is not used.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/retry.h"
#include "engine/rules.h"
#include "exec/template.h"
#include <errno.h>
#include <time.h>

#define START_SCAN_PAGE 256
#define TIMER_PAGE 256
#define MAX_WAIT_US (60 * 1000000LL)
/* Another node held the lock of a rule's kind: look at its tasks again after this. */
#define RULE_LOCK_RETRY_US (20 * 1000LL)
/* The database was unreachable: wait this long before trying again unless
 * a request comes in (each request tries at once and gets its 503). */
#define UNAVAILABLE_BACKOFF_US (250 * 1000LL)

/* ---- metrics ------------------------------------------------------------- */

static void define_metrics(void)
{
	static const double loop_buckets[] = { .001, .005, .01, .05, .1, .25, .5, 1 };
	static const double per_loop_buckets[] = { 0, 1, 5, 10, 25, 50, 100 };
	static const double group_buckets[] = { 1, 2, 5, 10, 25, 50, 100, 250, 1000 };
	metrics_define("tasks_created_total", METRIC_COUNTER, "Tasks created");
	metrics_define("task_status_transitions_total", METRIC_COUNTER, "Task status transitions");
	metrics_define("tasks_cancelled_total", METRIC_COUNTER, "Tasks canceled by DELETE /task or DELETE /batch");
	metrics_define("tasks_timed_out_total", METRIC_COUNTER, "Running tasks failed by their inactivity timeout");
	metrics_define("tasks_with_dependencies_total", METRIC_COUNTER, "Tasks created with at least one dependency");
	metrics_define("dependency_propagations_total", METRIC_COUNTER, "Parent outcomes propagated to children");
	metrics_define("tasks_unblocked_total", METRIC_COUNTER, "Waiting tasks that became pending");
	metrics_define("tasks_failed_by_dependency_total", METRIC_COUNTER, "Tasks failed because a required parent failed");
	metrics_define("tasks_canceled_dead_end_total", METRIC_COUNTER, "Ancestors canceled because all their children ended");
	metrics_define("tasks_blocked_by_concurrency_total", METRIC_COUNTER, "Start attempts blocked by a concurrency rule");
	metrics_define("webhook_idempotent_skips_total", METRIC_COUNTER, "Webhooks skipped because their idempotency key was already used");
	metrics_define("webhook_idempotent_conflicts_total", METRIC_COUNTER, "Start calls held back because the same attempt's call is still in flight");
	metrics_define("worker_loop_iterations_total", METRIC_COUNTER, "Engine cycles (one transaction each)");
	metrics_define_histogram("worker_loop_duration_seconds", "Duration of one engine cycle", loop_buckets, ARRAY_LEN(loop_buckets));
	metrics_define_histogram("tasks_processed_per_loop", "Tasks started per engine cycle", per_loop_buckets, ARRAY_LEN(per_loop_buckets));
	metrics_define_histogram("engine_commands_per_commit", "Commands applied in one group commit", group_buckets, ARRAY_LEN(group_buckets));
	metrics_define("engine_commit_failures_total", METRIC_COUNTER, "Engine transactions that failed to commit");
	metrics_define("engine_conflict_retries_total", METRIC_COUNTER,
	               "Engine steps re-run after a conflict with another node's transaction");
	metrics_define("weft_leader", METRIC_GAUGE,
	               "1 when this node runs the singleton duties (timers, retention), else 0");
	static const double duration_buckets[] = { 1, 5, 10, 30, 60, 300, 600, 1800, 3600 };
	static const double wait_buckets[] = { .1, .5, 1, 2, 5, 10, 30, 60, 300 };
	static const double retention_buckets[] = { .1, .5, 1, 5, 10, 30, 60 };
	metrics_define("tasks_completed_total", METRIC_COUNTER,
	               "Tasks that reached a terminal status by PATCH, cancel, start failure, timeout or dead end");
	metrics_define_histogram("task_duration_seconds", "Run time of tasks that ended (started_at to ended_at)",
	                         duration_buckets, ARRAY_LEN(duration_buckets));
	metrics_define_histogram("task_wait_seconds", "Time from creation to running", wait_buckets,
	                         ARRAY_LEN(wait_buckets));
	metrics_define("tasks_db_save_failures_total", METRIC_COUNTER, "Commands not applied because of a storage error");
	metrics_define("batch_update_failures_total", METRIC_COUNTER, "PUT counter updates not applied because of a storage error");
	metrics_define("tasks_retried_total", METRIC_COUNTER, "Failed attempts that were retried (status RetryPending)");
	metrics_define("webhook_deliveries_total", METRIC_COUNTER, "Outbox delivery attempts by outcome (success, retry, exhausted)");
	metrics_define("batches_completed_total", METRIC_COUNTER, "Batches whose tasks all reached a terminal status");
	metrics_define("retention_tasks_cleaned_total", METRIC_COUNTER, "Terminal tasks moved to the archive");
	metrics_define("retention_cleanup_runs_total", METRIC_COUNTER, "Archiving passes by outcome");
	metrics_define_histogram("retention_cleanup_duration_seconds", "Duration of one archiving pass",
	                         retention_buckets, ARRAY_LEN(retention_buckets));
}

void engine_metric_terminal(const task_row *t)
{
	char outcome[16];
	snprintf(outcome, sizeof(outcome), "%s", task_status_name(t->status));
	char *labels = xasprintf("outcome=\"%s\",kind=\"%s\"", outcome, t->kind);
	metrics_inc("tasks_completed_total", labels, 1);
	if (t->started_at && t->ended_at >= t->started_at)
		metrics_observe("task_duration_seconds", labels, (double)(t->ended_at - t->started_at) / 1e6);
	free(labels);
}

void engine_metric_transition(task_status from, task_status to)
{
	char labels[96];
	snprintf(labels, sizeof(labels), "from_status=\"%s\",to_status=\"%s\"", task_status_label(from),
	         task_status_label(to));
	metrics_inc("task_status_transitions_total", labels, 1);
}

/* ---- effects ------------------------------------------------------------- */

static bool is_start_call(const webhook_call *c)
{
	return c->delivery_id == 0 && c->trigger == TRIGGER_START;
}

void effects_add_call(effects *fx, webhook_call *call)
{
	if (fx->len == fx->cap) {
		fx->cap = fx->cap ? fx->cap * 2 : 64;
		fx->calls = xrealloc(fx->calls, fx->cap * sizeof(*fx->calls));
	}
	fx->calls[fx->len++] = call;
	fx->starts += is_start_call(call);
	fx->deliveries += call->delivery_id != 0;
}

void id_set_add(id_set *s, const weft_id *id)
{
	for (size_t i = 0; i < s->len; i++)
		if (id_eq(&s->items[i], id))
			return;
	if (s->len == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->items = xrealloc(s->items, s->cap * sizeof(weft_id));
	}
	s->items[s->len++] = *id;
}

bool id_set_remove(id_set *s, const weft_id *id)
{
	for (size_t i = 0; i < s->len; i++) {
		if (id_eq(&s->items[i], id)) {
			s->items[i] = s->items[--s->len];
			return true;
		}
	}
	return false;
}

void id_set_release(id_set *s)
{
	free(s->items);
	s->items = NULL;
	s->len = s->cap = 0;
}

/* Drops the effects queued after `mark` (their command was rolled back). */
static void effects_truncate(effects *fx, size_t mark)
{
	while (fx->len > mark) {
		webhook_call *c = fx->calls[--fx->len];
		fx->starts -= is_start_call(c);
		fx->deliveries -= c->delivery_id != 0;
		webhook_call_free(c);
	}
}

/* "<task>:start" for the first attempt, "<task>:start:<n>" for retry n. */
static void start_key(char *out, size_t n, const weft_id *task, int32_t attempt)
{
	if (attempt > 0)
		snprintf(out, n, "%s:start:%d", task->str, (int)attempt);
	else
		snprintf(out, n, "%s:start", task->str);
}

/* The start call of a task: its start actions rendered with its metadata. */
static webhook_call *start_call(const task_row *t, const char *key, const action_row *actions, size_t n)
{
	char **rendered = xcalloc(n ? n : 1, sizeof(char *));
	const char **params = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (template_has_placeholders(actions[i].params))
			rendered[i] = template_render_params(actions[i].params, t->metadata);
		params[i] = rendered[i] ? rendered[i] : actions[i].params;
	}
	webhook_call *call = webhook_call_new(&t->id, TRIGGER_START, COND_SUCCESS, key, params, n);
	for (size_t i = 0; i < n; i++)
		free(rendered[i]);
	free(rendered);
	free(params);
	return call;
}

/* ---- start pass ---------------------------------------------------------- */

void engine_push_result(engine *e, webhook_call *call)
{
	pthread_mutex_lock(&e->mu);
	if (e->rlen == e->rcap) {
		e->rcap = e->rcap ? e->rcap * 2 : 64;
		e->results = xrealloc(e->results, e->rcap * sizeof(*e->results));
	}
	e->results[e->rlen++] = call;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void on_start_done(webhook_call *call, void *arg)
{
	engine_push_result(arg, call);
}

static int mark_running(engine *e, const weft_id *id, int64_t now, bool *applied)
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
		engine_metric_transition(TS_CLAIMED, TS_RUNNING);
		engine_arm_timer(e, now + (int64_t)after.timeout_secs * 1000000, TIMER_RUN_TIMEOUT, id);
		char *labels = xasprintf("kind=\"%s\"", after.kind ? after.kind : "");
		metrics_observe("task_wait_seconds", labels, (double)(now - after.created_at) / 1e6);
		free(labels);
		task_row_release(&after);
	}
	return 0;
}

/* Claims one pending task that passed its rules and queues its start. */
static int start_task(engine *e, const task_row *t, int64_t now)
{
	task_update claim = { .set_status = true, .status = TS_CLAIMED, .last_updated = now,
	                      .actor = "system", .reason = "claimed for start" };
	task_update_result res;
	int rc = store_task_update(e->w, &t->id, TS_BIT(TS_PENDING), &claim, &res);
	if (rc == WEFT_ENOTFOUND || (rc == 0 && !res.applied))
		return 0;
	if (rc != 0)
		return rc;
	engine_metric_transition(TS_PENDING, TS_CLAIMED);
	e->started_this_cycle++;

	char key[128];
	start_key(key, sizeof(key), &t->id, t->attempt);
	/* A call older than the claim timeout is stale, boundary included: the
	 * requeue of a stale claim and its next claim can share a cycle. */
	ledger_claim_result lr;
	rc = store_ledger_claim(e->w, key, &t->id, TRIGGER_START, COND_SUCCESS, now,
	                        now - e->cfg.claim_timeout_us + 1, &lr);
	if (rc != 0)
		return rc;
	if (lr == LEDGER_DONE) {
		/* This attempt's start webhook already succeeded (its answer was
		 * recorded but the task was requeued): do not call it twice. */
		metrics_inc("webhook_idempotent_skips_total", "trigger=\"start\"", 1);
		bool applied;
		return mark_running(e, &t->id, now, &applied);
	}
	if (lr == LEDGER_BUSY) {
		/* A call for this attempt is still within its claim window: stay
		 * claimed; the claim timer requeues the task if it never answers. */
		metrics_inc("webhook_idempotent_conflicts_total", NULL, 1);
		engine_arm_timer(e, now + e->cfg.claim_timeout_us, TIMER_CLAIM_STALE, &t->id);
		return 0;
	}
	action_row *actions = NULL;
	size_t n = 0;
	if ((rc = store_task_actions_for(e->w, &t->id, TRIGGER_START, COND_SUCCESS, &actions, &n)) != 0)
		return rc;
	webhook_call *call = start_call(t, key, actions, n);
	store_free_actions(actions, n);
	call->done = on_start_done;
	call->arg = e;
	effects_add_call(&e->fx, call);
	engine_arm_timer(e, now + e->cfg.claim_timeout_us, TIMER_CLAIM_STALE, &t->id);
	return 0;
}

static size_t start_room(const engine *e)
{
	size_t busy = e->starts_in_flight + e->fx.starts;
	return busy >= (size_t)e->cfg.start_window ? 0 : (size_t)e->cfg.start_window - busy;
}

static int start_pass(engine *e, int64_t now)
{
	rule_blocked_set blocked;
	rule_blocked_set_init(&blocked);
	pending_cursor cursor;
	bool have_cursor = false, scanned_all = false;
	int rc = 0;

	while (rc == 0 && start_room(e) > 0) {
		task_row *rows = NULL;
		size_t n = 0;
		rc = store_pending_scan(e->w, have_cursor ? &cursor : NULL, START_SCAN_PAGE, now, &rows, &n);
		if (rc != 0)
			break;
		size_t i = 0;
		for (; i < n && rc == 0 && start_room(e) > 0; i++) {
			const task_row *t = &rows[i];
			cursor = (pending_cursor){ .priority = t->priority, .created_at = t->created_at, .id = t->id };
			have_cursor = true;
			if (strcmp(t->rules, "[]") != 0) {
				rule *rules = NULL;
				size_t nrules = 0;
				if (rules_parse(t->rules, &rules, &nrules) != 0) {
					log_error("engine", "task %s has unreadable rules; left pending", t->id.str);
					continue;
				}
				rule_verdict v = rules_check(e->w, t, rules, nrules, &blocked);
				rules_free(rules, nrules);
				if (v == RULES_ERROR) {
					rc = WEFT_ESTORE;
					break;
				}
				if (v == RULES_CONTENDED)
					e->start_retry_at = MIN(e->start_retry_at, now + RULE_LOCK_RETRY_US);
				if (v != RULES_PASS)
					continue;
			}
			rc = start_task(e, t, now);
		}
		if (i == n && n < START_SCAN_PAGE)
			scanned_all = true;
		store_free_tasks(rows, n);
		if (scanned_all)
			break;
	}
	rule_blocked_set_release(&blocked);
	if (rc == 0 && scanned_all)
		e->start_dirty = false;
	/* Delayed tasks were skipped: wake up for the earliest of them. */
	int64_t due = INT64_MAX;
	if (rc == 0) {
		rc = store_pending_next_start(e->w, now, &due);
	}
	e->next_delayed_start = due;
	return rc;
}

/* ---- start results and timers ------------------------------------------- */

static void register_cancel_action(engine *e, const webhook_call *call)
{
	json_t *obj = json_parse_text(call->cancel_action);
	const json_t *params = json_object_get(obj, "params");
	char err[256];
	if (!json_is_object(params) || webhook_params_check(params, e->cfg.ssrf, err, sizeof(err)) != 0) {
		log_warn("engine", "task %s: cancel action returned by on_start ignored: %s", call->task_id.str,
		         json_is_object(params) ? err : "no params object");
	} else {
		char *text = json_dump_compact(params);
		action_row a = { .trigger = TRIGGER_CANCEL, .condition = COND_SUCCESS, .params = text };
		if (store_action_insert(e->w, &call->task_id, &a) != 0)
			log_error("engine", "task %s: could not save its cancel action", call->task_id.str);
		free(text);
	}
	json_decref(obj);
}

static int apply_start_result(engine *e, webhook_call *call, int64_t now)
{
	int rc;
	if (call->ok) {
		bool applied = false;
		rc = mark_running(e, &call->task_id, now, &applied);
		if (rc == 0 && applied && call->cancel_action)
			register_cancel_action(e, call);
		if (rc == 0)
			rc = store_ledger_finish(e->w, call->key, true, call->http_status, NULL, now);
		return rc;
	}
	if ((rc = store_ledger_finish(e->w, call->key, false, call->http_status, call->error, now)) != 0)
		return rc;
	bool applied, retried;
	rc = dag_fail_task(e, &call->task_id, TS_BIT(TS_CLAIMED), call->error ? call->error : "on_start webhook failed",
	                   RETRY_ON_WEBHOOK_FAILURE, true, now, &applied, &retried);
	return rc == WEFT_ENOTFOUND ? 0 : rc;
}

static int fire_timer(engine *e, const timer_entry *t, int64_t now)
{
	task_row row;
	int rc = store_task_get(e->w, &t->task_id, &row);
	if (rc == WEFT_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	task_status status = row.status;
	int64_t last = row.last_updated;
	int64_t timeout_us = (int64_t)row.timeout_secs * 1000000;
	int64_t retry_at = row.next_retry_at;
	task_row_release(&row);
	e->actor = "system";

	if (t->kind == TIMER_CLAIM_STALE && status == TS_CLAIMED) {
		int64_t due = last + e->cfg.claim_timeout_us;
		if (due > now) {
			engine_arm_timer(e, due, TIMER_CLAIM_STALE, &t->task_id);
			return 0;
		}
		task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now, .actor = "system",
		                  .reason = "claim went stale: no answer from on_start" };
		task_update_result res;
		rc = store_task_update(e->w, &t->task_id, TS_BIT(TS_CLAIMED), &u, &res);
		if (rc == 0 && res.applied) {
			engine_metric_transition(TS_CLAIMED, TS_PENDING);
			e->start_dirty = true;
		}
		return rc == WEFT_ENOTFOUND ? 0 : rc;
	}
	if (t->kind == TIMER_RETRY && status == TS_RETRYING) {
		if (retry_at > now) {
			engine_arm_timer(e, retry_at, TIMER_RETRY, &t->task_id);
			return 0;
		}
		task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now, .actor = "system",
		                  .reason = "retry backoff over" };
		task_update_result res;
		rc = store_task_update(e->w, &t->task_id, TS_BIT(TS_RETRYING), &u, &res);
		if (rc == 0 && res.applied) {
			engine_metric_transition(TS_RETRYING, TS_PENDING);
			e->start_dirty = true;
		}
		return rc == WEFT_ENOTFOUND ? 0 : rc;
	}
	if (t->kind == TIMER_RUN_TIMEOUT && status == TS_RUNNING) {
		int64_t due = last + timeout_us;
		if (due > now) {
			engine_arm_timer(e, due, TIMER_RUN_TIMEOUT, &t->task_id);
			return 0;
		}
		bool applied, retried;
		rc = dag_fail_task(e, &t->task_id, TS_BIT(TS_RUNNING), "Timeout", RETRY_ON_TIMEOUT, false, now, &applied,
		                   &retried);
		if (rc == 0 && applied) {
			metrics_inc("tasks_timed_out_total", NULL, 1);
			/* The remote work is still going: tell it to stop. */
			rc = outbox_add_task_webhooks(e, &t->task_id, NULL, TRIGGER_CANCEL, COND_SUCCESS, now);
		}
		return rc == WEFT_ENOTFOUND ? 0 : rc;
	}
	return 0;
}

void engine_arm_timer(engine *e, int64_t due_us, timer_kind kind, const weft_id *task)
{
	if (e->shared)
		e->db_timer_next = MIN(e->db_timer_next, due_us);
	else
		timers_push(&e->timers, due_us, kind, task);
}

static timer_kind timer_kind_of(task_status st)
{
	return st == TS_CLAIMED ? TIMER_CLAIM_STALE : st == TS_RUNNING ? TIMER_RUN_TIMEOUT : TIMER_RETRY;
}

/* ---- the cycle ----------------------------------------------------------- */

typedef int (*isolated_fn)(engine *e, void *arg, int64_t now);

/* A command that keeps losing lock conflicts to other nodes fails after
 * this many cycles. */
#define MAX_CONFLICTS 50

/* Runs fn inside a savepoint; on failure undoes its writes and effects.
 * WEFT_ERETRY (another node's transaction waits for a lock this cycle
 * holds, or holds one this step needs) is not retried here: the lock in
 * the way may have been taken by an earlier step of this cycle, so only
 * the commit releases it. Callers put the step back for the next cycle;
 * handlers only write through the store and queue effects, so running one
 * again after its rollback is safe. */
static int run_isolated(engine *e, isolated_fn fn, void *arg, int64_t now)
{
	size_t mark = e->fx.len;
	int rc = store_savepoint(e->w);
	if (rc != 0)
		return rc;
	rc = fn(e, arg, now);
	/* The release can fail too: a backend may send writes without waiting
	 * and learn of their failure only there. */
	if (rc == 0)
		rc = store_savepoint_release(e->w);
	if (rc != 0) {
		store_savepoint_rollback(e->w);     /* also releases it */
		effects_truncate(&e->fx, mark);
	}
	if (rc == WEFT_ERETRY)
		metrics_inc("engine_conflict_retries_total", NULL, 1);
	return rc;
}

static void push_ptr(void ***arr, size_t *len, size_t *cap, void *item)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = xrealloc(*arr, *cap * sizeof(void *));
	}
	(*arr)[(*len)++] = item;
}

static int iso_command(engine *e, void *arg, int64_t now)
{
	engine_cmd *cmd = arg;
	e->actor = cmd->actor ? cmd->actor : "api";
	cmd->noop = false;
	int rc = cmd->op->apply(e, cmd, now);
	if (rc != 0)
		cmd->result = rc;
	return rc;
}

static int iso_result(engine *e, void *arg, int64_t now)
{
	webhook_call *call = arg;
	e->actor = "webhook";
	return call->delivery_id ? outbox_apply_result(e, call, now) : apply_start_result(e, call, now);
}

static int iso_timer(engine *e, void *arg, int64_t now) { return fire_timer(e, arg, now); }

/* Shared database, leader only: the due deadlines, then the next one. */
typedef struct due_page {
	timer_due_row *rows;
	size_t n;
} due_page;

static int iso_timers_due(engine *e, void *arg, int64_t now)
{
	due_page *p = arg;
	return store_timers_due(e->w, now, e->cfg.claim_timeout_us, TIMER_PAGE, &p->rows, &p->n);
}

static int iso_timers_next(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	UNUSED(now);
	int64_t due = INT64_MAX;
	int rc = store_timers_next(e->w, e->cfg.claim_timeout_us, &due);
	if (rc != 0)
		return rc;
	e->db_timer_next = due;
	return 0;
}

static int iso_notify(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	UNUSED(now);
	return store_notify(e->w);
}

static void fire_db_timers(engine *e, int64_t now)
{
	due_page page = { 0 };
	if (run_isolated(e, iso_timers_due, &page, now) != 0) {
		log_error("engine", "reading due deadlines failed; will retry");
		return;
	}
	bool again = false;
	for (size_t i = 0; i < page.n; i++) {
		timer_entry te = { .due_us = now, .kind = timer_kind_of(page.rows[i].status), .task_id = page.rows[i].id };
		int r = run_isolated(e, iso_timer, &te, now);
		if (r == WEFT_ERETRY)
			again = true;      /* still due: read again next cycle */
		else if (r != 0)
			log_error("engine", "timer of task %s failed", te.task_id.str);
	}
	e->cycle_changed |= page.n > 0;
	bool more = page.n == TIMER_PAGE || again;
	free(page.rows);
	if (more) {
		e->db_timer_next = now;      /* a full page: the rest in the next cycle */
		return;
	}
	e->timers_dirty = false;
	if (run_isolated(e, iso_timers_next, NULL, now) != 0) {
		log_error("engine", "reading the next deadline failed; will retry");
		e->timers_dirty = true;
	}
}
static int iso_start(engine *e, void *arg, int64_t now) { UNUSED(arg); return start_pass(e, now); }
static int iso_batches(engine *e, void *arg, int64_t now) { UNUSED(arg); return outbox_complete_batches(e, now); }
static int iso_lease(engine *e, void *arg, int64_t now) { UNUSED(arg); return outbox_lease(e, now); }

/* Moves terminal tasks older than the retention period to the archive, a
 * bounded number of transactions' worth per pass. */
static int iso_retention(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t t0 = clock_mono_us(), total = 0, moved = 0;
	int rc = 0;
	for (int pass = 0; pass < 50; pass++) {
		rc = store_archive_terminal(e->w, now - e->cfg.archive_after_us, (size_t)e->cfg.retention_batch, &moved);
		if (rc != 0)
			break;
		total += moved;
		if (moved < e->cfg.retention_batch)
			break;
	}
	metrics_inc("retention_cleanup_runs_total", rc == 0 ? "outcome=\"success\"" : "outcome=\"error\"", 1);
	metrics_inc("retention_tasks_cleaned_total", NULL, (uint64_t)total);
	metrics_observe("retention_cleanup_duration_seconds", NULL, (double)(clock_mono_us() - t0) / 1e6);
	if (total)
		log_info("engine", "archived %" PRId64 " terminal tasks", total);
	return rc;
}

static size_t delivery_room(const engine *e)
{
	size_t busy = e->deliveries_in_flight + e->fx.deliveries;
	size_t window = (size_t)MAX(e->cfg.delivery_window, 1);
	return busy >= window ? 0 : window - busy;
}

static void answer(engine_cmd *cmd)
{
	if (cmd->done)
		cmd->done(cmd, cmd->arg);
}

static void update_leadership(engine *e)
{
	bool leader = store_is_leader(e->st);
	if (leader != e->leader) {
		log_info("engine", "%s the leader: %s timers and retention", leader ? "became" : "is no longer",
		         leader ? "running" : "leaving");
		e->leader = leader;
		e->timers_dirty = true;
		metrics_gauge_set("weft_leader", NULL, leader);
	}
}

static void run_cycle(engine *e, engine_cmd **cmds, size_t ncmds, webhook_call **results, size_t nresults,
                      unsigned remote)
{
	int64_t t0 = clock_mono_us();
	int64_t now = clock_now_us();
	e->started_this_cycle = 0;
	e->cycle_changed = ncmds > 0 || nresults > 0;
	if (remote & STORE_WAKE_WORK) {
		/* Another node changed something: tasks may be startable,
		 * deliveries due, or a deadline earlier than the one known. */
		e->start_dirty = true;
		e->outbox_dirty = true;
		e->timers_dirty = true;
	}
	if (e->shared)
		update_leadership(e);
	if (now >= e->start_retry_at) {
		e->start_retry_at = INT64_MAX;
		e->start_dirty = true;
	}

	/* A finished call is no longer in flight, whatever this cycle's fate:
	 * if the cycle fails, a start's task stays claimed (the claim timer
	 * requeues it) and a delivery's lease expires (it is tried again). */
	for (size_t i = 0; i < nresults; i++) {
		if (results[i]->delivery_id) {
			e->deliveries_in_flight -= MIN(e->deliveries_in_flight, 1);
		} else {
			e->starts_in_flight -= MIN(e->starts_in_flight, 1);
			id_set_remove(&e->start_tasks, &results[i]->task_id);
			e->start_dirty = true;
		}
		e->outbox_dirty = true;   /* a slot freed, or a start no longer holds back deliveries */
	}

	/* Results put back by the last cycle: no longer in flight already. */
	webhook_call **again = e->retry_results;
	size_t nagain = e->nretry_results;
	e->retry_results = NULL;
	e->nretry_results = e->retry_results_cap = 0;
	size_t nanswer = 0;       /* cmds[0..nanswer) are answered after this cycle */

	int rc = store_begin(e->w);
	if (rc != 0)
		nanswer = ncmds;
	if (rc == 0) {
		for (size_t i = 0; i < ncmds; i++) {
			int r = run_isolated(e, iso_command, cmds[i], now);
			if (r == WEFT_ERETRY && ++cmds[i]->conflicts < MAX_CONFLICTS) {
				push_ptr((void ***)&e->retry_cmds, &e->nretry_cmds, &e->retry_cmds_cap, cmds[i]);
				continue;
			}
			cmds[nanswer++] = cmds[i];
			if (r != 0) {
				/* Also when the step's own code succeeded and only its
				 * savepoint's release failed: nothing of it was kept. */
				cmds[i]->result = r == WEFT_EUNAVAILABLE ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
				cmds[i]->noop = false;
				log_error("engine", "command %s failed; rolled back", engine_cmd_name(cmds[i]));
				metrics_inc(cmds[i]->op->failure_metric, NULL, 1);
			}
		}
		for (size_t k = 0; k < nagain + nresults; k++) {
			webhook_call *call = k < nagain ? again[k] : results[k - nagain];
			int r = run_isolated(e, iso_result, call, now);
			if (r == WEFT_ERETRY) {
				push_ptr((void ***)&e->retry_results, &e->nretry_results, &e->retry_results_cap, call);
				if (k < nagain)
					again[k] = NULL;
				else
					results[k - nagain] = NULL;
			} else if (r != 0) {
				log_error("engine", "result of %s not applied", call->key);
			}
		}
		if (!e->shared) {
			timer_entry te;
			while (timers_pop_due(&e->timers, now, &te))
				if (run_isolated(e, iso_timer, &te, now) != 0)
					log_error("engine", "timer of task %s failed", te.task_id.str);
		} else if (e->leader && (e->timers_dirty || now >= e->db_timer_next)) {
			fire_db_timers(e, now);
		}
		if (e->cfg.sweep_interval_us > 0 && now >= e->next_sweep_us) {
			e->start_dirty = true;
			e->outbox_dirty = true;
			e->next_sweep_us = now + e->cfg.sweep_interval_us;
		}
		if (now >= e->next_delayed_start)
			e->start_dirty = true;
		e->actor = "system";
		if (e->start_dirty && start_room(e) > 0 && run_isolated(e, iso_start, NULL, now) != 0)
			log_error("engine", "start pass failed; will retry");
		if (e->cfg.archive_after_us > 0 && e->leader && now >= e->next_retention_us) {
			e->next_retention_us = now + e->cfg.retention_interval_us;
			if (run_isolated(e, iso_retention, NULL, now) != 0)
				log_error("engine", "archiving pass failed");
		}
		/* Batch rows are locked last, in id order (outbox_complete_batches),
		 * after every task row of the cycle: two nodes' cycles then never
		 * wait for each other in a circle over a batch. */
		if (e->touched_batches.len) {
			int r = run_isolated(e, iso_batches, NULL, now);
			if (r != 0 && r != WEFT_ERETRY) {
				log_error("engine", "batch completion check failed");
				e->touched_batches.len = 0;
			}
			/* After a conflict the batches are checked again next cycle. */
		}
		if ((e->outbox_dirty || now >= e->outbox_next_due) && delivery_room(e) > 0 &&
		    run_isolated(e, iso_lease, NULL, now) != 0)
			log_error("engine", "leasing outbox deliveries failed; will retry");
		e->cycle_changed |= e->started_this_cycle > 0;
		if (e->shared && e->cycle_changed && run_isolated(e, iso_notify, NULL, now) != 0)
			log_error("engine", "could not notify the other nodes");
		rc = store_commit(e->w);
		if (rc != 0) {
			store_rollback(e->w);
			metrics_inc("engine_commit_failures_total", NULL, 1);
		}
	}

	if (rc != 0) {
		log_error("engine", "transaction failed (%d): %zu commands answered with an error", rc, ncmds);
		effects_truncate(&e->fx, 0);
		e->start_dirty = true;
		e->outbox_dirty = true;
		e->timers_dirty = true;
		if (rc == WEFT_EUNAVAILABLE)
			e->backoff_until = now + UNAVAILABLE_BACKOFF_US;
	} else {
		e->backoff_until = 0;
		for (size_t i = 0; i < e->fx.len; i++) {
			webhook_call *c = e->fx.calls[i];
			if (is_start_call(c))
				id_set_add(&e->start_tasks, &c->task_id);
			dispatcher_submit(e->disp, c);
		}
		e->starts_in_flight += e->fx.starts;
		e->deliveries_in_flight += e->fx.deliveries;
		e->fx.len = 0;
		e->fx.starts = 0;
		e->fx.deliveries = 0;
	}
	if (rc != 0) {
		/* Nothing of the cycle was written: steps put back for the next
		 * one are answered with the cycle's error instead. */
		for (size_t i = 0; i < e->nretry_cmds; i++)
			cmds[nanswer++] = e->retry_cmds[i];
		e->nretry_cmds = 0;
		for (size_t i = 0; i < nanswer; i++)
			cmds[i]->result = rc == WEFT_EUNAVAILABLE ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
		for (size_t i = 0; i < e->nretry_results; i++)
			webhook_call_free(e->retry_results[i]);
		e->nretry_results = 0;
	}
	for (size_t i = 0; i < nagain; i++)
		webhook_call_free(again[i]);
	free(again);
	for (size_t i = 0; i < nresults; i++)
		webhook_call_free(results[i]);
	for (size_t i = 0; i < nanswer; i++)
		answer(cmds[i]);
	if (e->nretry_cmds) {
		/* Back at the head of the queue, in their order. */
		pthread_mutex_lock(&e->mu);
		size_t need = e->qlen + e->nretry_cmds;
		if (need > e->qcap) {
			e->qcap = need;
			e->queue = xrealloc(e->queue, e->qcap * sizeof(*e->queue));
		}
		memmove(e->queue + e->nretry_cmds, e->queue, e->qlen * sizeof(*e->queue));
		memcpy(e->queue, e->retry_cmds, e->nretry_cmds * sizeof(*e->queue));
		e->qlen = need;
		e->stats.queue_len = e->qlen;
		pthread_mutex_unlock(&e->mu);
		e->nretry_cmds = 0;
	}

	metrics_inc("worker_loop_iterations_total", NULL, 1);
	metrics_observe("worker_loop_duration_seconds", NULL, (double)(clock_mono_us() - t0) / 1e6);
	metrics_observe("tasks_processed_per_loop", NULL, (double)e->started_this_cycle);
	if (ncmds)
		metrics_observe("engine_commands_per_commit", NULL, (double)ncmds);
	pthread_mutex_lock(&e->mu);
	e->stats.cycles++;
	e->stats.commands += ncmds;
	e->stats.commits += rc == 0;
	e->stats.starts_in_flight = e->starts_in_flight;
	pthread_mutex_unlock(&e->mu);
}

/* Whether the loop has work at `now` without new input (engine thread). */
static int64_t next_wake_us(const engine *e)
{
	int64_t due = MIN(e->next_delayed_start, e->start_retry_at);
	if (!e->shared)
		due = MIN(due, timers_next_due(&e->timers));
	else if (e->leader)
		due = MIN(due, e->db_timer_next);
	if (e->cfg.sweep_interval_us > 0)
		due = MIN(due, e->next_sweep_us);
	if (delivery_room(e) > 0)
		due = MIN(due, e->outbox_next_due);
	if (e->cfg.archive_after_us > 0 && e->leader)
		due = MIN(due, e->next_retention_us);
	return MAX(due, e->backoff_until);
}

static void *engine_main(void *arg)
{
	engine *e = arg;
	engine_cmd **cmds = NULL;
	size_t ccap = 0;
	webhook_call **results = NULL;
	size_t rescap = 0;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		for (;;) {
			if (e->qlen || e->rlen || e->remote_wake || e->nretry_results)
				break;
			if (e->stopping) {
				pthread_mutex_unlock(&e->mu);
				goto out;
			}
			int64_t now = clock_now_us();
			bool held = now < e->backoff_until;
			if (!held && e->start_dirty && start_room(e) > 0)
				break;
			if (!held && e->outbox_dirty && delivery_room(e) > 0)
				break;
			int64_t due = next_wake_us(e);
			if (due <= now)
				break;
			int64_t wait_us = MIN(due - now, MAX_WAIT_US);
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t ns = ts.tv_nsec + (wait_us % 1000000) * 1000;
			ts.tv_sec += wait_us / 1000000 + ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&e->cv, &e->mu, &ts);
		}
		/* Swap the queues out so producers never wait for a transaction. */
		size_t ncmds = e->qlen, nres = e->rlen;
		if (ncmds > ccap) {
			ccap = ncmds;
			cmds = xrealloc(cmds, ccap * sizeof(*cmds));
		}
		if (nres > rescap) {
			rescap = nres;
			results = xrealloc(results, rescap * sizeof(*results));
		}
		if (ncmds)
			memcpy(cmds, e->queue, ncmds * sizeof(*cmds));
		if (nres)
			memcpy(results, e->results, nres * sizeof(*results));
		unsigned remote = e->remote_wake;
		e->qlen = e->rlen = 0;
		e->remote_wake = 0;
		e->stats.queue_len = 0;
		pthread_mutex_unlock(&e->mu);

		run_cycle(e, cmds, ncmds, results, nres, remote);
	}
out:
	free(cmds);
	free(results);
	return NULL;
}

/* ---- public API ----------------------------------------------------------- */

/* The store's listener thread: another node committed, or leadership moved. */
static void engine_wake_remote(void *arg, unsigned what)
{
	engine *e = arg;
	pthread_mutex_lock(&e->mu);
	e->remote_wake |= what;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

engine *engine_new(const engine_config *cfg, store *st, dispatcher *disp)
{
	engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.start_window <= 0)
		e->cfg.start_window = 1;
	e->st = st;
	e->w = store_writer(st);
	e->disp = disp;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&e->mu, NULL);
	timers_init(&e->timers);
	e->outbox_next_due = INT64_MAX;
	e->next_delayed_start = INT64_MAX;
	e->start_retry_at = INT64_MAX;
	e->db_timer_next = INT64_MAX;
	e->shared = store_shared(st);
	e->leader = !e->shared;
	e->timers_dirty = true;
	e->actor = "system";
	define_metrics();
	metrics_gauge_set("weft_leader", NULL, e->leader);
	store_set_wakeup(st, engine_wake_remote, e);
	return e;
}

/* Re-arms the deadlines of tasks that were claimed or running when the
 * process last stopped. */
static int recover_timers(engine *e)
{
	deadline_row *rows = NULL;
	size_t n = 0;
	int rc = store_deadlines(e->w, TS_CLAIMED, &rows, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		engine_arm_timer(e, rows[i].last_updated + e->cfg.claim_timeout_us, TIMER_CLAIM_STALE, &rows[i].id);
	free(rows);
	size_t nclaimed = n;
	rows = NULL;
	if ((rc = store_deadlines(e->w, TS_RUNNING, &rows, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		engine_arm_timer(e, rows[i].last_updated + (int64_t)rows[i].timeout_secs * 1000000,
		            TIMER_RUN_TIMEOUT, &rows[i].id);
	free(rows);
	size_t nrunning = n;
	rows = NULL;
	if ((rc = store_deadlines(e->w, TS_RETRYING, &rows, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		engine_arm_timer(e, rows[i].next_retry_at, TIMER_RETRY, &rows[i].id);
	free(rows);
	if (nclaimed || nrunning || n)
		log_info("engine", "recovered %zu claimed, %zu running and %zu retrying tasks", nclaimed, nrunning, n);

	/* This node is the only writer: deliveries it had in flight when it
	 * stopped were never answered, so they are due again now. */
	int64_t now = clock_now_us();
	if ((rc = store_outbox_recover(e->w, now)) != 0)
		return rc;
	e->outbox_dirty = true;
	e->outbox_next_due = now;
	e->next_delayed_start = now;    /* the first start pass finds the real one */
	return 0;
}

int engine_start(engine *e)
{
	/* On a shared database the deadlines are read from it by the leader,
	 * and other nodes' deliveries in flight are theirs: their leases
	 * expire by themselves if those nodes died. */
	int rc = e->shared ? 0 : recover_timers(e);
	if (rc != 0)
		return rc;
	if (e->shared) {
		e->outbox_dirty = true;
		e->next_delayed_start = clock_now_us();
	}
	e->start_dirty = true;
	e->next_sweep_us = clock_now_us() + e->cfg.sweep_interval_us;
	e->next_retention_us = clock_now_us();
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0)
		return -1;
	e->thread_started = true;
	return 0;
}

void engine_stop(engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->thread_started) {
		pthread_join(e->thread, NULL);
		e->thread_started = false;
	}
}

void engine_free(engine *e)
{
	if (!e)
		return;
	engine_stop(e);
	/* Start calls that finished after the stop: their tasks stay claimed
	 * and are requeued by the claim timer at the next start. */
	for (size_t i = 0; i < e->rlen; i++)
		webhook_call_free(e->results[i]);
	effects_truncate(&e->fx, 0);
	free(e->fx.calls);
	free(e->results);
	free(e->queue);
	timers_release(&e->timers);
	for (size_t i = 0; i < e->nretry_results; i++)
		webhook_call_free(e->retry_results[i]);
	free(e->retry_results);
	free(e->retry_cmds);
	id_set_release(&e->start_tasks);
	id_set_release(&e->touched_batches);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

void engine_submit(engine *e, engine_cmd *cmd)
{
	pthread_mutex_lock(&e->mu);
	if (e->stopping) {
		pthread_mutex_unlock(&e->mu);
		cmd->result = WEFT_EUNAVAILABLE;
		answer(cmd);
		return;
	}
	if (e->qlen == e->qcap) {
		e->qcap = e->qcap ? e->qcap * 2 : 256;
		e->queue = xrealloc(e->queue, e->qcap * sizeof(*e->queue));
	}
	e->queue[e->qlen++] = cmd;
	e->stats.queue_len = e->qlen;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

typedef struct call_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
} call_waiter;

static void call_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	call_waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void engine_call(engine *e, engine_cmd *cmd)
{
	call_waiter w = { .done = false };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	cmd->done = call_done;
	cmd->arg = &w;
	engine_submit(e, cmd);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	cmd->done = NULL;
}

const char *engine_cmd_name(const engine_cmd *cmd)
{
	return cmd->op ? cmd->op->name : "unknown";
}

void engine_get_stats(engine *e, engine_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->stats;
	pthread_mutex_unlock(&e->mu);
}
