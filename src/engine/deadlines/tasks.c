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
 * Each handler re-reads the task: a task that left the status, or whose
 * deadline moved (a heartbeat), is left alone or armed again.
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

/* Reads the task; *found false when it is gone or not in `status`. */
static int read_task(engine *e, const deadline *d, task_status status, task_row *row, bool *found)
{
	*found = false;
	int rc = store_task_get(e->w, &d->object, row);
	if (rc == WEFT_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (row->status != status) {
		task_row_release(row);
		return 0;
	}
	*found = true;
	return 0;
}

/* A guarded move of a task from `from` to pending. */
static int back_to_pending(engine *e, const weft_id *id, task_status from, const char *reason, int64_t now)
{
	task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now, .actor = "system",
	                  .reason = reason };
	task_update_result res;
	int rc = store_task_update(e->w, id, TS_BIT(from), &u, &res);
	if (rc == 0 && res.applied) {
		engine_metric_transition(e, from, TS_PENDING);
		engine_wake_starts(e);
	}
	return rc == WEFT_ENOTFOUND ? 0 : rc;
}

static int fire_claim_stale(engine *e, const deadline *d, int64_t now)
{
	task_row row;
	bool found;
	int rc = read_task(e, d, TS_CLAIMED, &row, &found);
	if (rc != 0 || !found)
		return rc;
	int64_t due = row.last_updated + e->cfg.claim_timeout_us;
	task_row_release(&row);
	if (due > now) {
		deadline_arm(e, due, &deadline_claim_stale, &d->object);
		return 0;
	}
	return back_to_pending(e, &d->object, TS_CLAIMED, "claim went stale: no answer from on_start", now);
}

static int fire_retry_backoff(engine *e, const deadline *d, int64_t now)
{
	task_row row;
	bool found;
	int rc = read_task(e, d, TS_RETRYING, &row, &found);
	if (rc != 0 || !found)
		return rc;
	int64_t due = row.next_retry_at;
	task_row_release(&row);
	if (due > now) {
		deadline_arm(e, due, &deadline_retry_backoff, &d->object);
		return 0;
	}
	return back_to_pending(e, &d->object, TS_RETRYING, "retry backoff over", now);
}

static int fire_run_timeout(engine *e, const deadline *d, int64_t now)
{
	task_row row;
	bool found;
	int rc = read_task(e, d, TS_RUNNING, &row, &found);
	if (rc != 0 || !found)
		return rc;
	int64_t due = row.last_updated + (int64_t)row.timeout_secs * 1000000;
	task_row_release(&row);
	if (due > now) {
		deadline_arm(e, due, &deadline_run_timeout, &d->object);
		return 0;
	}
	bool applied, retried;
	rc = dag_fail_task(e, &d->object, TS_BIT(TS_RUNNING), "Timeout", RETRY_ON_TIMEOUT, false, now, &applied,
	                   &retried);
	if (rc == 0 && applied) {
		engine_count(e, "tasks_timed_out_total", NULL, 1);
		/* The remote work is still going: tell it to stop. */
		rc = engine_task_cancel_remote(e, &d->object, NULL, now);
	}
	return rc == WEFT_ENOTFOUND ? 0 : rc;
}

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

static int due_of(engine *e, task_status status, const deadline_kind *kind, int64_t now, size_t limit,
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
		if (page->rows[i].status == status)
			(*out)[(*n)++] = (deadline){ .due = now, .kind = kind, .object = page->rows[i].id };
	*more = page->full;
	return 0;
}

static int next_of(engine *e, int64_t *due)
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
	return due_of(e, TS_CLAIMED, &deadline_claim_stale, now, limit, out, n, more);
}

static int due_running(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return due_of(e, TS_RUNNING, &deadline_run_timeout, now, limit, out, n, more);
}

static int due_retrying(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return due_of(e, TS_RETRYING, &deadline_retry_backoff, now, limit, out, n, more);
}

const deadline_kind deadline_claim_stale = {
	.name = "claim_stale", .fire = fire_claim_stale, .recover = recover_claimed,
	.due = due_claimed, .next = next_of,
};

const deadline_kind deadline_run_timeout = {
	.name = "run_timeout", .fire = fire_run_timeout, .recover = recover_running,
	.due = due_running, .next = next_of,
};

const deadline_kind deadline_retry_backoff = {
	.name = "retry_backoff", .fire = fire_retry_backoff, .recover = recover_retrying,
	.due = due_retrying, .next = next_of,
};
