/*
 * engine.c — the single writer's loop: queue, group commit, start pass,
 * timers and start-webhook results.
 *
 * One cycle:
 *   take every queued command and every finished start call (under mu);
 *   BEGIN IMMEDIATE;
 *     apply each command in its own savepoint;
 *     apply each start result (claimed -> running, or failure);
 *     fire due timers (stale claims back to pending, inactivity timeouts);
 *     if something may have become startable: the start pass claims
 *       pending tasks in priority order, checking their rules, up to the
 *       window of start calls allowed in flight;
 *   COMMIT (one fsync for all of it);
 *   then submit the queued webhook calls and answer every command.
 * The thread sleeps on a condition variable until a command, a start
 * result or the earliest timer is due; nothing polls.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/rules.h"
#include <errno.h>
#include <time.h>

#define START_SCAN_PAGE 256
#define MAX_WAIT_US (60 * 1000000LL)

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
	metrics_define("worker_loop_iterations_total", METRIC_COUNTER, "Engine cycles (one transaction each)");
	metrics_define_histogram("worker_loop_duration_seconds", "Duration of one engine cycle", loop_buckets, ARRAY_LEN(loop_buckets));
	metrics_define_histogram("tasks_processed_per_loop", "Tasks started per engine cycle", per_loop_buckets, ARRAY_LEN(per_loop_buckets));
	metrics_define_histogram("engine_commands_per_commit", "Commands applied in one group commit", group_buckets, ARRAY_LEN(group_buckets));
	metrics_define("engine_commit_failures_total", METRIC_COUNTER, "Engine transactions that failed to commit");
}

void engine_metric_transition(task_status from, task_status to)
{
	char labels[96];
	snprintf(labels, sizeof(labels), "from_status=\"%s\",to_status=\"%s\"", task_status_wire(from),
	         task_status_wire(to));
	metrics_inc("task_status_transitions_total", labels, 1);
}

/* ---- effects ------------------------------------------------------------- */

void effects_add_call(effects *fx, webhook_call *call, bool is_start)
{
	if (fx->len == fx->cap) {
		fx->cap = fx->cap ? fx->cap * 2 : 64;
		fx->calls = xrealloc(fx->calls, fx->cap * sizeof(*fx->calls));
	}
	fx->calls[fx->len++] = call;
	fx->starts += is_start;
}

/* Drops the effects queued after `mark` (their command was rolled back). */
static void effects_truncate(effects *fx, size_t mark)
{
	while (fx->len > mark) {
		webhook_call *c = fx->calls[--fx->len];
		if (c->trigger == TRIGGER_START)
			fx->starts--;
		webhook_call_free(c);
	}
}

static void webhook_key(char *out, size_t n, const weft_id *task, action_trigger trig, action_condition cond)
{
	if (trig == TRIGGER_END)
		snprintf(out, n, "%s:end:%s", task->str, action_condition_db(cond));
	else
		snprintf(out, n, "%s:%s", task->str, action_trigger_db(trig));
}

static webhook_call *call_for_actions(const weft_id *task, action_trigger trig, action_condition cond,
                                      const action_row *actions, size_t n)
{
	char key[128];
	webhook_key(key, sizeof(key), task, trig, cond);
	const char **params = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		params[i] = actions[i].params;
	webhook_call *call = webhook_call_new(task, trig, cond, key, params, n);
	free(params);
	return call;
}

int effects_add_task_webhooks(engine *e, const weft_id *task, action_trigger trig, action_condition cond)
{
	action_row *actions = NULL;
	size_t n = 0;
	int rc = store_task_actions_for(e->w, task, trig, cond, &actions, &n);
	if (rc != 0)
		return rc;
	if (n > 0)
		effects_add_call(&e->fx, call_for_actions(task, trig, cond, actions, n), false);
	store_free_actions(actions, n);
	return 0;
}

/* ---- start pass ---------------------------------------------------------- */

static void on_start_done(webhook_call *call, void *arg)
{
	engine *e = arg;
	pthread_mutex_lock(&e->mu);
	if (e->rlen == e->rcap) {
		e->rcap = e->rcap ? e->rcap * 2 : 64;
		e->results = xrealloc(e->results, e->rcap * sizeof(*e->results));
	}
	e->results[e->rlen++] = call;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static int mark_running(engine *e, const weft_id *id, int32_t timeout_secs, int64_t now, bool *applied)
{
	task_update u = { .set_status = true, .status = TS_RUNNING, .started_at = now, .last_updated = now };
	int rc = store_task_update(e->w, id, TS_BIT(TS_CLAIMED), &u, NULL);
	*applied = rc == 0;
	if (rc < 0)
		return rc;
	if (rc == 0) {
		engine_metric_transition(TS_CLAIMED, TS_RUNNING);
		timers_push(&e->timers, now + (int64_t)timeout_secs * 1000000, TIMER_RUN_TIMEOUT, id);
	}
	return 0;
}

/* Claims one pending task that passed its rules and queues its start. */
static int start_task(engine *e, const task_row *t, int64_t now)
{
	task_update claim = { .set_status = true, .status = TS_CLAIMED, .last_updated = now };
	int rc = store_task_update(e->w, &t->id, TS_BIT(TS_PENDING), &claim, NULL);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	engine_metric_transition(TS_PENDING, TS_CLAIMED);
	e->started_this_cycle++;

	char key[128];
	webhook_key(key, sizeof(key), &t->id, TRIGGER_START, COND_SUCCESS);
	ledger_claim_result lr;
	rc = store_ledger_claim(e->w, key, &t->id, TRIGGER_START, COND_SUCCESS, now,
	                        now - e->cfg.claim_timeout_us, &lr);
	if (rc != 0)
		return rc;
	if (lr != LEDGER_CLAIMED) {
		/* Its start webhook already went out (a claim that went stale and
		 * was requeued): do not call it twice. */
		metrics_inc("webhook_idempotent_skips_total", "trigger=\"start\"", 1);
		bool applied;
		return mark_running(e, &t->id, t->timeout_secs, now, &applied);
	}
	action_row *actions = NULL;
	size_t n = 0;
	if ((rc = store_task_actions_for(e->w, &t->id, TRIGGER_START, COND_SUCCESS, &actions, &n)) != 0)
		return rc;
	webhook_call *call = call_for_actions(&t->id, TRIGGER_START, COND_SUCCESS, actions, n);
	store_free_actions(actions, n);
	call->done = on_start_done;
	call->arg = e;
	effects_add_call(&e->fx, call, true);
	timers_push(&e->timers, now + e->cfg.claim_timeout_us, TIMER_CLAIM_STALE, &t->id);
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
		rc = store_pending_scan(e->w, have_cursor ? &cursor : NULL, START_SCAN_PAGE, &rows, &n);
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
					rc = STORE_ERR;
					break;
				}
				if (v == RULES_BLOCKED)
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
		task_row row;
		rc = store_task_get(e->w, &call->task_id, &row);
		if (rc == STORE_NOT_FOUND)
			return 0;
		if (rc != 0)
			return rc;
		bool applied = false;
		rc = mark_running(e, &call->task_id, row.timeout_secs, now, &applied);
		task_row_release(&row);
		if (rc == 0 && applied && call->cancel_action)
			register_cancel_action(e, call);
		if (rc == 0)
			rc = store_ledger_finish(e->w, call->key, true, now);
		return rc;
	}
	if ((rc = store_ledger_finish(e->w, call->key, false, now)) != 0)
		return rc;
	rc = dag_fail_task(e, &call->task_id, TS_BIT(TS_CLAIMED),
	                   call->error ? call->error : "on_start webhook failed", true, now, NULL);
	return rc > 0 ? 0 : rc;
}

static int fire_timer(engine *e, const timer_entry *t, int64_t now)
{
	task_row row;
	int rc = store_task_get(e->w, &t->task_id, &row);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	task_status status = row.status;
	int64_t last = row.last_updated;
	int64_t timeout_us = (int64_t)row.timeout_secs * 1000000;
	task_row_release(&row);

	if (t->kind == TIMER_CLAIM_STALE && status == TS_CLAIMED) {
		int64_t due = last + e->cfg.claim_timeout_us;
		if (due > now) {
			timers_push(&e->timers, due, TIMER_CLAIM_STALE, &t->task_id);
			return 0;
		}
		task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now };
		rc = store_task_update(e->w, &t->task_id, TS_BIT(TS_CLAIMED), &u, NULL);
		if (rc == 0) {
			engine_metric_transition(TS_CLAIMED, TS_PENDING);
			e->start_dirty = true;
		}
		return rc < 0 ? rc : 0;
	}
	if (t->kind == TIMER_RUN_TIMEOUT && status == TS_RUNNING) {
		int64_t due = last + timeout_us;
		if (due > now) {
			timers_push(&e->timers, due, TIMER_RUN_TIMEOUT, &t->task_id);
			return 0;
		}
		rc = dag_fail_task(e, &t->task_id, TS_BIT(TS_RUNNING), "Timeout", false, now, NULL);
		if (rc == 0) {
			metrics_inc("tasks_timed_out_total", NULL, 1);
			/* The remote work is still going: tell it to stop. */
			rc = effects_add_task_webhooks(e, &t->task_id, TRIGGER_CANCEL, COND_SUCCESS);
		}
		return rc < 0 ? rc : 0;
	}
	return 0;
}

/* ---- the cycle ----------------------------------------------------------- */

typedef int (*isolated_fn)(engine *e, void *arg, int64_t now);

/* Runs fn inside a savepoint; on failure undoes its writes and effects. */
static int run_isolated(engine *e, isolated_fn fn, void *arg, int64_t now)
{
	size_t mark = e->fx.len;
	int rc = store_savepoint(e->w);
	if (rc != 0)
		return rc;
	rc = fn(e, arg, now);
	if (rc != 0) {
		store_savepoint_rollback(e->w);
		effects_truncate(&e->fx, mark);
	}
	store_savepoint_release(e->w);
	return rc;
}

static int iso_command(engine *e, void *arg, int64_t now) { return engine_apply_command(e, arg, now); }
static int iso_result(engine *e, void *arg, int64_t now) { return apply_start_result(e, arg, now); }
static int iso_timer(engine *e, void *arg, int64_t now) { return fire_timer(e, arg, now); }
static int iso_start(engine *e, void *arg, int64_t now) { UNUSED(arg); return start_pass(e, now); }

static void answer(engine_cmd *cmd)
{
	if (cmd->done)
		cmd->done(cmd, cmd->arg);
}

static void run_cycle(engine *e, engine_cmd **cmds, size_t ncmds, webhook_call **results, size_t nresults)
{
	int64_t t0 = clock_mono_us();
	int64_t now = clock_now_us();
	e->started_this_cycle = 0;

	/* A finished call is no longer in flight, whatever this cycle's fate:
	 * if the cycle fails its task stays claimed and the claim timer
	 * requeues it. */
	e->starts_in_flight -= MIN(e->starts_in_flight, nresults);
	if (nresults)
		e->start_dirty = true;

	int rc = store_begin(e->w);
	if (rc == 0) {
		for (size_t i = 0; i < ncmds; i++)
			if (run_isolated(e, iso_command, cmds[i], now) != 0)
				log_error("engine", "command %d failed; rolled back", (int)cmds[i]->type);
		for (size_t i = 0; i < nresults; i++)
			if (run_isolated(e, iso_result, results[i], now) != 0)
				log_error("engine", "start result of task %s not applied", results[i]->task_id.str);
		timer_entry te;
		while (timers_pop_due(&e->timers, now, &te))
			if (run_isolated(e, iso_timer, &te, now) != 0)
				log_error("engine", "timer of task %s failed", te.task_id.str);
		if (e->cfg.sweep_interval_us > 0 && now >= e->next_sweep_us) {
			e->start_dirty = true;
			e->next_sweep_us = now + e->cfg.sweep_interval_us;
		}
		if (e->start_dirty && start_room(e) > 0 && run_isolated(e, iso_start, NULL, now) != 0)
			log_error("engine", "start pass failed; will retry");
		rc = store_commit(e->w);
		if (rc != 0) {
			store_rollback(e->w);
			metrics_inc("engine_commit_failures_total", NULL, 1);
		}
	}

	if (rc != 0) {
		log_error("engine", "transaction failed (%d): %zu commands answered with an error", rc, ncmds);
		effects_truncate(&e->fx, 0);
		engine_status st = rc == STORE_UNAVAILABLE ? ENGINE_UNAVAILABLE : ENGINE_ERROR;
		for (size_t i = 0; i < ncmds; i++)
			cmds[i]->status = st;
		e->start_dirty = true;
	} else {
		for (size_t i = 0; i < e->fx.len; i++)
			dispatcher_submit(e->disp, e->fx.calls[i]);
		e->starts_in_flight += e->fx.starts;
		e->fx.len = 0;
		e->fx.starts = 0;
	}
	for (size_t i = 0; i < nresults; i++)
		webhook_call_free(results[i]);
	for (size_t i = 0; i < ncmds; i++)
		answer(cmds[i]);

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
	int64_t due = timers_next_due(&e->timers);
	if (e->cfg.sweep_interval_us > 0)
		due = MIN(due, e->next_sweep_us);
	return due;
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
			if (e->qlen || e->rlen)
				break;
			if (e->stopping) {
				pthread_mutex_unlock(&e->mu);
				goto out;
			}
			if (e->start_dirty && start_room(e) > 0)
				break;
			int64_t now = clock_now_us(), due = next_wake_us(e);
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
		e->qlen = e->rlen = 0;
		e->stats.queue_len = 0;
		pthread_mutex_unlock(&e->mu);

		run_cycle(e, cmds, ncmds, results, nres);
	}
out:
	free(cmds);
	free(results);
	return NULL;
}

/* ---- public API ----------------------------------------------------------- */

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
	define_metrics();
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
		timers_push(&e->timers, rows[i].last_updated + e->cfg.claim_timeout_us, TIMER_CLAIM_STALE, &rows[i].id);
	free(rows);
	size_t nclaimed = n;
	rows = NULL;
	if ((rc = store_deadlines(e->w, TS_RUNNING, &rows, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		timers_push(&e->timers, rows[i].last_updated + (int64_t)rows[i].timeout_secs * 1000000,
		            TIMER_RUN_TIMEOUT, &rows[i].id);
	free(rows);
	if (nclaimed || n)
		log_info("engine", "recovered %zu claimed and %zu running tasks", nclaimed, n);
	return 0;
}

int engine_start(engine *e)
{
	int rc = recover_timers(e);
	if (rc != 0)
		return rc;
	e->start_dirty = true;
	e->next_sweep_us = clock_now_us() + e->cfg.sweep_interval_us;
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
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

void engine_submit(engine *e, engine_cmd *cmd)
{
	pthread_mutex_lock(&e->mu);
	if (e->stopping) {
		pthread_mutex_unlock(&e->mu);
		cmd->status = ENGINE_UNAVAILABLE;
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

void engine_get_stats(engine *e, engine_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->stats;
	pthread_mutex_unlock(&e->mu);
}

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
	for (size_t i = 0; i < t->non_failure; i++)
		free(t->on_failure[i]);
	free(t->on_failure);
	memset(t, 0, sizeof(*t));
}
