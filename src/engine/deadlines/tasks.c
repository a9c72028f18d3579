/*
 * deadlines/tasks.c — the deadlines of a task's status:
 *
 *   claim_stale   a claimed task whose start has not answered within
 *                 WORKER_CLAIM_TIMEOUT_SECS goes back to pending;
 *   run_timeout   a running task idle (no PATCH or PUT) for its `timeout`
 *                 seconds fails with reason "Timeout" (or is retried), and
 *                 its executor is told to stop it;
 *   retry_backoff a retrying task whose backoff is over becomes pending.
 *
 * Each handler re-reads the tasks (those of a set in one statement): a task
 * that left the status, or whose deadline moved (a heartbeat), is left
 * alone or armed again; the due ones move as one set.
 *
 * On a shared database one store query (store_timers_due) finds the due
 * rows of all three kinds; the first kind to ask in a cycle reads it and
 * the others take their rows from the same page (deadline_state.cache).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"

/* ---- handlers ------------------------------------------------------------------ */

/* The due ones among deadlines of tasks that should be in `status`: the
 * tasks read in one statement; a task that left the status is left alone,
 * one whose deadline moved is armed again. due_of gives a task's due time. */
static int due_tasks(engine *e, const deadline *d, size_t n, task_status status, const deadline_kind *kind,
                     int64_t (*due_of)(const engine *e, const task_row *t), int64_t now, task_row **rows,
                     size_t *nrows, const task_row ***due, size_t *ndue)
{
	weft_id *ids = xcalloc(n ? n : 1, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = d[i].object;
	int rc = store_tasks_read(e->w, ids, n, false, rows, nrows);
	free(ids);
	if (rc != 0)
		return rc;
	task_rows_sort(*rows, *nrows);
	*due = xcalloc(n ? n : 1, sizeof **due);
	*ndue = 0;
	for (size_t i = 0; i < n; i++) {
		const task_row *t = task_rows_find(*rows, *nrows, &d[i].object);
		if (t == NULL || t->status != status)
			continue;
		int64_t at = due_of(e, t);
		if (at > now)
			deadline_arm(e, at, kind, &d[i].object);
		else
			(*due)[(*ndue)++] = t;
	}
	return 0;
}

/* A guarded move of tasks from `from` to pending. */
static int back_to_pending(engine *e, const task_row *const *tasks, size_t n, task_status from, const char *reason,
                           int64_t now)
{
	weft_id *ids = xcalloc(n ? n : 1, sizeof *ids);
	task_update_result *res = xcalloc(n ? n : 1, sizeof *res);
	for (size_t i = 0; i < n; i++)
		ids[i] = tasks[i]->id;
	task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now, .actor = "system",
	                  .reason = reason };
	int rc = engine_update_tasks(e, ids, n, TS_BIT(from), &u, res, NULL);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!res[i].applied)
			continue;
		engine_metric_transition(e, from, TS_PENDING);
		engine_wake_starts(e);
	}
	free(res);
	free(ids);
	return rc;
}

static int64_t claim_due(const engine *e, const task_row *t) { return t->last_updated + e->cfg.claim_timeout_us; }
static int64_t retry_due(const engine *e, const task_row *t) { UNUSED(e); return t->next_retry_at; }
static int64_t run_due(const engine *e, const task_row *t)
{
	UNUSED(e);
	return t->last_updated + (int64_t)t->timeout_secs * 1000000;
}

/* Claimed and retrying tasks whose deadline passed go back to pending. */
static int requeue_many(engine *e, const deadline *d, size_t n, task_status status, const deadline_kind *kind,
                        int64_t (*due_of)(const engine *e, const task_row *t), const char *reason, int64_t now)
{
	task_row *rows = NULL;
	const task_row **due = NULL;
	size_t nrows = 0, ndue = 0;
	int rc = due_tasks(e, d, n, status, kind, due_of, now, &rows, &nrows, &due, &ndue);
	if (rc == 0)
		rc = back_to_pending(e, due, ndue, status, reason, now);
	free(due);
	store_free_tasks(rows, nrows);
	return rc;
}

static int fire_claim_stale_many(engine *e, const deadline *d, size_t n, int64_t now)
{
	return requeue_many(e, d, n, TS_CLAIMED, &deadline_claim_stale, claim_due,
	                    "claim went stale: no answer from on_start", now);
}

static int fire_retry_backoff_many(engine *e, const deadline *d, size_t n, int64_t now)
{
	return requeue_many(e, d, n, TS_RETRYING, &deadline_retry_backoff, retry_due, "retry backoff over", now);
}

/* Running tasks idle past their timeout fail ("Timeout", or are retried),
 * and their executors are told to stop them. */
static int fire_run_timeout_many(engine *e, const deadline *d, size_t n, int64_t now)
{
	task_row *rows = NULL;
	const task_row **due = NULL;
	size_t nrows = 0, ndue = 0;
	int rc = due_tasks(e, d, n, TS_RUNNING, &deadline_run_timeout, run_due, now, &rows, &nrows, &due, &ndue);
	fail_req *reqs = xcalloc(ndue ? ndue : 1, sizeof *reqs);
	for (size_t i = 0; i < ndue; i++)
		reqs[i] = (fail_req){ .id = due[i]->id, .from_mask = TS_BIT(TS_RUNNING), .reason = "Timeout",
		                      .cause = RETRY_ON_TIMEOUT };
	if (rc == 0)
		rc = dag_fail_tasks(e, reqs, ndue, true, now);
	/* The remote work is still going: tell it to stop. */
	task_row *stopped = xcalloc(ndue ? ndue : 1, sizeof *stopped);
	size_t nstopped = 0;
	for (size_t i = 0; i < ndue && rc == 0; i++)
		if (reqs[i].applied)
			stopped[nstopped++] = reqs[i].after;
	engine_count(e, "tasks_timed_out_total", NULL, nstopped);
	if (rc == 0)
		rc = engine_tasks_cancel_remote(e, stopped, nstopped, now);
	fail_reqs_release(reqs, ndue);
	free(stopped);
	free(reqs);
	free(due);
	store_free_tasks(rows, nrows);
	return rc;
}

static int fire_claim_stale(engine *e, const deadline *d, int64_t now) { return fire_claim_stale_many(e, d, 1, now); }
static int fire_retry_backoff(engine *e, const deadline *d, int64_t now) { return fire_retry_backoff_many(e, d, 1, now); }
static int fire_run_timeout(engine *e, const deadline *d, int64_t now) { return fire_run_timeout_many(e, d, 1, now); }

/* ---- recovery at start-up (single node) ------------------------------------------ */

static int recover_status(engine *e, task_status status, const deadline_kind *kind)
{
	deadline_row *rows = NULL;
	size_t n = 0;
	int rc = store_deadlines(e->w, status, &rows, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int64_t due = status == TS_CLAIMED  ? rows[i].last_updated + e->cfg.claim_timeout_us
		            : status == TS_RUNNING  ? rows[i].last_updated + (int64_t)rows[i].timeout_secs * 1000000
		                                    : rows[i].next_retry_at;
		deadline_arm(e, due, kind, &rows[i].id);
	}
	free(rows);
	if (n)
		log_info("engine", "recovered %zu %s tasks", n, task_status_name(status));
	return 0;
}

static int recover_claimed(engine *e, int64_t now) { UNUSED(now); return recover_status(e, TS_CLAIMED, &deadline_claim_stale); }
static int recover_running(engine *e, int64_t now) { UNUSED(now); return recover_status(e, TS_RUNNING, &deadline_run_timeout); }
static int recover_retrying(engine *e, int64_t now) { UNUSED(now); return recover_status(e, TS_RETRYING, &deadline_retry_backoff); }

/* ---- sources on a shared database ------------------------------------------------ */

typedef struct task_page {
	timer_due_row *rows;
	size_t n;
	bool full;
	bool has_next;
	int64_t next;
} task_page;

static void task_page_free(void *p)
{
	task_page *page = p;
	if (page)
		free(page->rows);
	free(page);
}

static task_page *cached_page(engine *e)
{
	deadline_state *s = &e->deadlines;
	if (s->cache_free != task_page_free) {
		if (s->cache_free)
			s->cache_free(s->cache);
		s->cache = xcalloc(1, sizeof(task_page));
		s->cache_free = task_page_free;
	}
	return s->cache;
}

int task_timers_due(engine *e, task_status status, bool lease, const deadline_kind *kind, int64_t now, size_t limit,
                    deadline **out, size_t *n, bool *more)
{
	*out = NULL;
	*n = 0;
	*more = false;
	deadline_state *s = &e->deadlines;
	bool fresh = s->cache_free != task_page_free;
	task_page *page = cached_page(e);
	if (fresh || page->rows == NULL) {
		free(page->rows);
		page->rows = NULL;
		page->n = 0;
		int rc = store_timers_due(e->w, now, e->cfg.claim_timeout_us, limit, &page->rows, &page->n);
		if (rc != 0) {
			s->cache_free(s->cache);
			s->cache = NULL;
			s->cache_free = NULL;
			return rc;
		}
		page->full = page->n == limit;
		if (page->rows == NULL)
			page->rows = xcalloc(1, sizeof(timer_due_row));   /* read, even when empty */
	}
	*out = xcalloc(page->n ? page->n : 1, sizeof(deadline));
	for (size_t i = 0; i < page->n; i++)
		if (page->rows[i].status == status && page->rows[i].lease == lease)
			(*out)[(*n)++] = (deadline){ .due = now, .kind = kind, .object = page->rows[i].id };
	*more = page->full;
	return 0;
}

int task_timers_next(engine *e, int64_t *due)
{
	task_page *page = cached_page(e);
	if (!page->has_next) {
		int rc = store_timers_next(e->w, e->cfg.claim_timeout_us, &page->next);
		if (rc != 0)
			return rc;
		page->has_next = true;
	}
	*due = page->next;
	return 0;
}

static int due_claimed(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return task_timers_due(e, TS_CLAIMED, false, &deadline_claim_stale, now, limit, out, n, more);
}

static int due_running(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return task_timers_due(e, TS_RUNNING, false, &deadline_run_timeout, now, limit, out, n, more);
}

static int due_retrying(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return task_timers_due(e, TS_RETRYING, false, &deadline_retry_backoff, now, limit, out, n, more);
}

const deadline_kind deadline_claim_stale = {
	.name = "claim_stale", .fire = fire_claim_stale, .fire_many = fire_claim_stale_many, .recover = recover_claimed,
	.due = due_claimed, .next = task_timers_next,
};

const deadline_kind deadline_run_timeout = {
	.name = "run_timeout", .fire = fire_run_timeout, .fire_many = fire_run_timeout_many, .recover = recover_running,
	.due = due_running, .next = task_timers_next,
};

const deadline_kind deadline_retry_backoff = {
	.name = "retry_backoff", .fire = fire_retry_backoff, .fire_many = fire_retry_backoff_many,
	.recover = recover_retrying,
	.due = due_retrying, .next = task_timers_next,
};
