/*
 * deadlines/jobs.c — job_lease: a running job's lease_until has passed.
 *
 * A job's lease ends at min(claim or heartbeat + lease, started_at +
 * timeout), so one deadline serves both: when it fires, the job is read
 * again (locked). A job no longer running, or whose lease moved on (a
 * heartbeat), is left alone or armed again at its new end. Otherwise:
 *  - past its attempt's timeout: the attempt failed with code "timeout"
 *    (retried after the backoff when the policy allows, else a dead
 *    letter);
 *  - else its worker is gone: with retries left the job is pending again
 *    at once (attempt + 1: the lost attempt counts), claimable by any
 *    worker; else a dead letter with code "lease_expired".
 * Either way the attempt goes to the error history, and the fence (the
 * lease token) makes a late report from the old holder change nothing.
 *
 * On a shared database the leader reads due leases from the rows (a part
 * of store_timers_due, on the task_lease index).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/engine_internal.h"

#define SEC 1000000LL

static int fire_lease_many(engine *e, const deadline *d, size_t n, int64_t now)
{
	weft_id *ids = xcalloc(n ? n : 1, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = d[i].object;
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(e->w, ids, n, false, &rows, &nrows);
	attempt_end *a = xcalloc(nrows ? nrows : 1, sizeof *a);
	size_t na = 0, lost = 0;
	for (size_t i = 0; i < nrows && rc == 0; i++) {
		const task_row *t = &rows[i];
		if (t->status != TS_RUNNING || t->executor == NULL || strcmp(t->executor, "queue") != 0)
			continue;
		if (t->lease_until > now) {
			deadline_arm(e, t->lease_until, &deadline_job_lease, &t->id);
			continue;
		}
		bool timed_out = now >= t->started_at + (int64_t)t->timeout_secs * SEC;
		a[na++] = (attempt_end){
			.id = t->id, .token = t->lease_token, .code = timed_out ? "timeout" : "lease_expired",
			.message = timed_out ? "the attempt ran past its timeout" : "lease expired: no heartbeat from the worker",
			.retryable = true, .retry_after_us = timed_out ? -1 : 0, .how = timed_out ? JA_TIMED_OUT : JA_LEASE_EXPIRED,
			.requeue = !timed_out, .actor = "system",
		};
		lost += !timed_out;
	}
	if (rc == 0)
		rc = job_attempts_end(e, a, na, NULL, now);
	if (rc == 0)
		engine_count(e, "jobs_lease_expired_total", NULL, lost);
	free(a);
	store_free_tasks(rows, nrows);
	free(ids);
	return rc;
}

static int fire_lease(engine *e, const deadline *d, int64_t now)
{
	return fire_lease_many(e, d, 1, now);
}

static int recover_leases(engine *e, int64_t now)
{
	UNUSED(now);
	deadline_row *rows = NULL;
	size_t n = 0;
	int rc = store_job_leases(e->w, &rows, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		deadline_arm(e, rows[i].lease_until, &deadline_job_lease, &rows[i].id);
	free(rows);
	if (n)
		log_info("engine", "recovered %zu running jobs", n);
	return 0;
}

static int due_leases(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	return task_timers_due(e, TS_RUNNING, true, &deadline_job_lease, now, limit, out, n, more);
}

const deadline_kind deadline_job_lease = {
	.name = "job_lease", .fire = fire_lease, .fire_many = fire_lease_many, .recover = recover_leases,
	.due = due_leases, .next = task_timers_next,
};
