/*
 * dag.c — what happens when tasks become terminal (ArcRun's dependency
 * rules), inside the engine's transaction, for a set of tasks at once:
 *
 *  1. propagation: the failure cascade of every task of the set that failed
 *     or was canceled — every waiting/paused task reached through
 *     requires_success links, at any depth, fails ("Required parent task
 *     <id> failed") — then the skip cascade of the children decisions of
 *     the set did not choose (decisions.c): they, and every task below
 *     them whose parents are all skipped, are skipped — then one release
 *     of the children of every task that ended (the set and both
 *     cascades): counters decremented (a finished optional parent counts
 *     as resolved, a skipped parent as a successful one), a waiting child
 *     whose counters reach 0 becomes pending;
 *  2. the on_failure webhooks of every cascade-failed task are queued;
 *  3. dead-end cancellation (DEAD_END_CANCEL_ENABLED): ancestors whose
 *     children are all terminal are canceled ("All child tasks already
 *     terminated"), a level at a time upwards, stopping at
 *     dead_end_barrier tasks; each gets its executor's cancel if it was
 *     running, then its on_failure.
 *
 * Each step is a constant number of statements for the whole set, so a
 * 10,000-deep chain failing at its root, or a completion of a thousand
 * parents, is a few statements. Applying a set at once gives what applying
 * its members one after the other gives, except when two of them failed
 * into the same part of the graph while dead ends are canceled: which of
 * them ends first could then decide whether the other is canceled as a
 * dead end. That case (a task the follow-ups ended having two parents
 * among the tasks that ended) answers WEFT_ECONFLICT, and the caller
 * applies the members one at a time.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/commands/triggers.h"

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

/* The set's own tasks and both cascades: their children released. A
 * skipped parent satisfies its children as a successful one does. */
static int release(engine *e, const task_row *rows, size_t n, const task_row *failed, size_t nfailed,
                   const task_row *skipped, size_t nskipped)
{
	parent_outcome *p = xmalloc((n + nfailed + nskipped + 1) * sizeof *p);
	size_t np = 0;
	uint64_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		bool satisfied = task_status_satisfies(rows[i].status);
		p[np++] = (parent_outcome){ .id = rows[i].id, .succeeded = satisfied };
		ok += satisfied;
	}
	for (size_t i = 0; i < nfailed; i++)
		p[np++] = (parent_outcome){ .id = failed[i].id, .succeeded = false };
	for (size_t i = 0; i < nskipped; i++)
		p[np++] = (parent_outcome){ .id = skipped[i].id, .succeeded = true };
	ok += nskipped;
	engine_count(e, "dependency_propagations_total", "parent_outcome=\"success\"", ok);
	engine_count(e, "dependency_propagations_total", "parent_outcome=\"failure\"", np - ok);
	weft_id *ready = NULL;
	size_t nready = 0;
	int rc = store_release_children_many(e->w, p, np, &ready, &nready);
	if (rc == 0 && nready > 0) {
		engine_count(e, "tasks_unblocked_total", NULL, nready);
		engine_count(e, "task_status_transitions_total", "from_status=\"Waiting\",to_status=\"Pending\"", nready);
		engine_wake_starts(e);
	}
	free(ready);
	free(p);
	return rc;
}

/* One level of dead ends: the non-terminal parents of `check` whose
 * children are all terminal are canceled; those that are no barrier are
 * the next level's `check`, and every one canceled goes to `ended`. */
static int cancel_dead_end_level(engine *e, id_list *check, id_list *ended, int64_t now)
{
	weft_id *parents = NULL;
	size_t n = 0;
	int rc = store_dead_end_parents(e->w, check->items, check->len, &parents, &n);
	check->len = 0;
	if (rc != 0 || n == 0) {
		free(parents);
		return rc;
	}
	task_update_result *res = xcalloc(n, sizeof *res);
	task_row *rows = xcalloc(n, sizeof *rows);
	task_update u = { .set_status = true, .status = TS_CANCELED, .failure_reason = "All child tasks already terminated",
	                  .ended_at = now, .last_updated = now, .actor = "system" };
	rc = engine_update_tasks(e, parents, n, TS_ACTIVE_MASK, &u, res, rows);
	task_webhooks *hooks = xcalloc(n, sizeof *hooks);
	task_row *running = xcalloc(n, sizeof *running);
	size_t nhooks = 0, nrunning = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!res[i].applied)
			continue;
		task_status prev = res[i].prev;
		engine_count(e, "tasks_canceled_dead_end_total", NULL, 1);
		engine_metric_transition(e, prev, TS_CANCELED);
		engine_metric_terminal(e, &rows[i]);
		if (prev == TS_RUNNING)
			running[nrunning++] = rows[i];
		if (prev == TS_CLAIMED || prev == TS_RUNNING)
			engine_wake_held_starts(e);
		hooks[nhooks++] = (task_webhooks){ &rows[i], TRIGGER_END, COND_FAILURE };
		id_list_push(ended, &parents[i]);
		if (!rows[i].dead_end_barrier)
			id_list_push(check, &parents[i]);
	}
	if (rc == 0)
		rc = engine_tasks_cancel_remote(e, running, nrunning, now);
	if (rc == 0)
		rc = outbox_add_task_webhooks(e, hooks, nhooks, now);
	for (size_t i = 0; i < n; i++)
		if (res[i].applied)
			task_row_release(&rows[i]);
	free(running);
	free(hooks);
	free(rows);
	free(res);
	free(parents);
	return rc;
}

/* Whether the set's outcome could depend on its order: see the top. */
static int order_matters(engine *e, const task_row *rows, size_t n, const id_list *followed, bool *matters)
{
	*matters = false;
	id_list among = { 0 };
	for (size_t i = 0; i < n; i++)
		if (!task_status_satisfies(rows[i].status))
			id_list_push(&among, &rows[i].id);
	int rc = 0;
	if (among.len >= 2 && followed->len > 0) {
		for (size_t i = 0; i < followed->len; i++)
			id_list_push(&among, &followed->items[i]);
		rc = store_two_parents_among(e->w, followed->items, followed->len, among.items, among.len, matters);
	}
	free(among.items);
	return rc;
}

/* The skip cascade from the seeds: the tasks skipped (owned rows). */
static int skip_cascade(engine *e, const decision_seeds *seeds, int64_t now, task_row **skipped, size_t *nskipped)
{
	*skipped = NULL;
	*nskipped = 0;
	if (seeds == NULL || seeds->len == 0)
		return 0;
	int rc = store_skip_cascade(e->w, seeds->seeds, seeds->deciders, seeds->len, now, skipped, nskipped);
	if (rc != 0)
		return rc;
	engine_count(e, "tasks_skipped_total", NULL, *nskipped);
	for (size_t i = 0; i < *nskipped; i++) {
		engine_metric_terminal(e, &(*skipped)[i]);
		if (id_is_set(&(*skipped)[i].batch_id))
			engine_touch_batch(e, &(*skipped)[i].batch_id);
	}
	return 0;
}

static int after_terminal(engine *e, const task_row *rows, size_t n, const decision_seeds *seeds, int64_t now)
{
	if (n == 0)
		return 0;
	/* Links stay inside a batch: the tasks' batches are the only ones
	 * whose completion this can change. */
	id_list failed = { 0 }, check = { 0 }, followed = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (id_is_set(&rows[i].batch_id))
			engine_touch_batch(e, &rows[i].batch_id);
		if (!task_status_satisfies(rows[i].status))
			id_list_push(&failed, &rows[i].id);
		/* A task whose parents have all finished (one that was pending
		 * or started) has none to cancel. */
		if (rows[i].wait_finished > 0)
			id_list_push(&check, &rows[i].id);
	}
	task_row *cascade = NULL, *skipped = NULL;
	weft_id *because = NULL;
	size_t ncascade = 0, nskipped = 0;
	int rc = store_fail_cascade(e->w, failed.items, failed.len, now, &cascade, &because, &ncascade);
	if (rc == 0) {
		engine_count(e, "tasks_failed_by_dependency_total", NULL, ncascade);
		rc = skip_cascade(e, seeds, now, &skipped, &nskipped);
	}
	if (rc == 0)
		rc = release(e, rows, n, cascade, ncascade, skipped, nskipped);
	/* Tasks that publish an event on their end: those that ended, and
	 * those the cascade failed or skipped. */
	if (rc == 0)
		rc = trigger_emit_ended(e, rows, n, now);
	if (rc == 0)
		rc = trigger_emit_ended(e, cascade, ncascade, now);
	if (rc == 0)
		rc = trigger_emit_ended(e, skipped, nskipped, now);
	/* A skipped task is terminal: its parents may now be dead ends. */
	for (size_t i = 0; i < nskipped; i++) {
		if (skipped[i].wait_finished > 0)
			id_list_push(&check, &skipped[i].id);
		id_list_push(&followed, &skipped[i].id);
	}
	task_webhooks *hooks = xcalloc(ncascade ? ncascade : 1, sizeof *hooks);
	for (size_t i = 0; i < ncascade; i++) {
		hooks[i] = (task_webhooks){ &cascade[i], TRIGGER_END, COND_FAILURE };
		if (cascade[i].wait_finished > 0)
			id_list_push(&check, &cascade[i].id);
		id_list_push(&followed, &cascade[i].id);
	}
	if (rc == 0)
		rc = outbox_add_task_webhooks(e, hooks, ncascade, now);
	while (rc == 0 && e->cfg.dead_end_cancel && check.len > 0)
		rc = cancel_dead_end_level(e, &check, &followed, now);
	bool matters = false;
	if (rc == 0 && e->cfg.dead_end_cancel && (rc = order_matters(e, rows, n, &followed, &matters)) == 0 && matters)
		rc = WEFT_ECONFLICT;
	free(hooks);
	store_free_tasks(cascade, ncascade);
	store_free_tasks(skipped, nskipped);
	free(because);
	free(followed.items);
	free(check.items);
	free(failed.items);
	return rc;
}

int dag_after_terminal(engine *e, const task_row *rows, size_t n, int64_t now)
{
	return after_terminal(e, rows, n, NULL, now);
}

bool dag_should_retry(engine *e, const task_row *t, unsigned cause, int64_t now, task_update *u)
{
	retry_policy p;
	if (cause == 0 || t->retry_policy == NULL || retry_policy_parse(t->retry_policy, &p) != 0)
		return false;
	/* attempt counts tries from 1: attempt - 1 retries are done, less
	 * those before an operator reset (retry_base). max_retries -1: forever. */
	int32_t retries_done = MAX(MAX(t->attempt, 1) - 1 - t->retry_base, 0);
	if (!(p.retry_on & cause) || (p.max_retries >= 0 && retries_done >= p.max_retries))
		return false;
	UNUSED(e);
	u->set_status = true;
	u->status = TS_RETRYING;
	u->set_attempt = true;
	u->attempt = MAX(t->attempt, 1) + 1;
	u->next_retry_at = now + retry_delay_us(&p, retries_done);
	return true;
}

/* ---- failing a set of tasks ---------------------------------------------------------- */

static int cmp_row_id(const void *a, const void *b)
{
	return strncmp(((const task_row *)a)->id.str, ((const task_row *)b)->id.str, WEFT_ID_LEN);
}

void task_rows_sort(task_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof *rows, cmp_row_id);
}

const task_row *task_rows_find(const task_row *rows, size_t n, const weft_id *id)
{
	task_row key;
	key.id = *id;
	return n ? bsearch(&key, rows, n, sizeof *rows, cmp_row_id) : NULL;
}

/* The requests reqs[idx[0..m-1]], one per task: read (locked), decided
 * (retry or failure) and updated. */
static int fail_round(void *ctx, const size_t *idx, size_t m)
{
	const engine_round *er = ctx;
	engine *e = er->e;
	fail_req *reqs = er->items;
	int64_t now = er->now;
	weft_id *ids = xmalloc(m * sizeof *ids);
	for (size_t k = 0; k < m; k++)
		ids[k] = reqs[idx[k]].id;
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(e->w, ids, m, true, &rows, &nrows);
	task_rows_sort(rows, nrows);
	task_change *ch = xcalloc(m, sizeof *ch);
	task_update_result *res = xcalloc(m, sizeof *res);
	char (*why)[300] = xcalloc(m, sizeof *why);
	size_t nch = 0;
	size_t *which = xmalloc(m * sizeof *which);
	for (size_t k = 0; k < m && rc == 0; k++) {
		fail_req *r = &reqs[idx[k]];
		const task_row *t = task_rows_find(rows, nrows, &r->id);
		r->found = t != NULL;
		if (t == NULL || !(TS_BIT(t->status) & r->from_mask))
			continue;
		task_update u = { .failure_reason = r->reason, .last_updated = r->touch_last_updated ? now : 0,
		                  .actor = e->actor, .after = &r->after };
		r->retried = dag_should_retry(e, t, r->cause, now, &u);
		if (r->retried) {
			snprintf(why[nch], sizeof why[nch], "attempt %d failed: %s", (int)t->attempt, r->reason);
			u.reason = why[nch];
		} else {
			u.set_status = true;
			u.status = TS_FAILURE;
			u.ended_at = now;
		}
		which[nch] = idx[k];
		ch[nch++] = (task_change){ .id = r->id, .from_mask = r->from_mask, .u = u };
	}
	if (rc == 0)
		rc = store_task_update_many(e->w, ch, nch, res);
	for (size_t k = 0; k < nch && rc == 0; k++) {
		fail_req *r = &reqs[which[k]];
		r->applied = res[k].applied;
		if (!r->applied)
			continue;
		engine_wake_held_starts(e);    /* a claimed/running task left: rule slots freed */
		engine_metric_transition(e, res[k].prev, r->retried ? TS_RETRYING : TS_FAILURE);
		if (r->retried) {
			engine_count(e, "tasks_retried_total", NULL, 1);
			deadline_arm(e, r->after.next_retry_at, &deadline_retry_backoff, &r->id);
		} else {
			engine_metric_terminal(e, &r->after);
		}
	}
	free(which);
	free(why);
	free(res);
	free(ch);
	store_free_tasks(rows, nrows);
	free(ids);
	return rc;
}

int dag_fail_tasks(engine *e, fail_req *reqs, size_t n, bool keep_after, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i].found = reqs[i].applied = reqs[i].retried = false;
		memset(&reqs[i].after, 0, sizeof reqs[i].after);
	}
	if (n == 0)
		return 0;
	const weft_id **ids = xmalloc(n * sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = &reqs[i].id;
	engine_round er = { e, reqs, now };
	int rc = store_each_round(ids, n, fail_round, &er);
	/* What follows the failures, for the whole set. */
	task_row *ended = xcalloc(n, sizeof *ended);
	size_t nended = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (reqs[i].applied && !reqs[i].retried)
			ended[nended++] = reqs[i].after;
	if (rc == 0)
		rc = dag_tasks_ended(e, ended, nended, now);
	free(ended);
	free(ids);
	if (rc != 0 || !keep_after)
		fail_reqs_release(reqs, n);
	return rc;
}

int dag_tasks_ended(engine *e, const task_row *rows, size_t n, int64_t now)
{
	decision_view v;
	int rc = dag_decisions_resolve(e, rows, n, now, &v);
	task_webhooks *hooks = xcalloc(n ? n : 1, sizeof *hooks);
	for (size_t i = 0; i < n; i++)
		hooks[i] = (task_webhooks){ &v.rows[i], TRIGGER_END,
		                            v.rows[i].status == TS_SUCCESS ? COND_SUCCESS : COND_FAILURE };
	if (rc == 0)
		rc = outbox_add_task_webhooks(e, hooks, n, now);
	if (rc == 0)
		rc = after_terminal(e, v.rows, n, &v.seeds, now);
	free(hooks);
	dag_decisions_release(&v);
	return rc;
}

void fail_reqs_release(fail_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].applied)
			task_row_release(&reqs[i].after);
		reqs[i].applied = false;
	}
}
