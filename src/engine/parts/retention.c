/*
 * parts/retention.c — with RETENTION_ARCHIVE_DAYS (or _AFTER_SECS) set, the
 * leader moves terminal tasks older than that to the archive every
 * RETENTION_CLEANUP_INTERVAL_SECS, at most RETENTION_BATCH_SIZE per store
 * call and a bounded number of calls per pass. With RETENTION_WORKFLOW_DAYS
 * (or _AFTER_SECS) set, the same pass deletes the workflow runs that ended
 * longer ago than that, in the same batches. With AUDIT_RETENTION_DAYS (or
 * _AFTER_SECS; 90 days unless set) the pass deletes the audit log entries
 * recorded longer ago than that, in the same batches. Archiving a task
 * deletes its log lines; with LOG_RETENTION_DAYS (or _AFTER_SECS) set, lines
 * older than that go sooner, ten batches' worth per store call. The metrics
 * history's rows go after METRICS_HISTORY_DAYS (7 unless set). Events and
 * hook delivery ids: parts/trigger_retention.c.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"
#include "store/audit.h"
#include "store/metrics_history.h"
#include "store/task_logs.h"
#include "store/workflows.h"

#define MAX_CALLS_PER_PASS 50

/* A store call that removes at most `limit` rows older than `before`. */
typedef int (*expire_fn)(store_conn *c, int64_t before, size_t limit, int64_t *removed);

/* Calls expire with `batch` rows at a time until a call removes fewer (the
 * backlog is gone), fails, or MAX_CALLS_PER_PASS calls have run, so one
 * pass cannot hold the writer for long. *total gets the rows removed. */
static int expire_in_batches(engine *e, expire_fn expire, int64_t before, int64_t batch, int64_t *total)
{
	int64_t removed = 0;
	int rc = 0;
	*total = 0;
	for (int pass = 0; pass < MAX_CALLS_PER_PASS; pass++) {
		rc = expire(e->w, before, (size_t)batch, &removed);
		if (rc != 0)
			break;
		*total += removed;
		if (removed < batch)
			break;
	}
	return rc;
}

static int archive_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t t0 = clock_mono_us(), total = 0;
	int rc = 0;
	if (e->cfg.archive_after_us > 0)
		rc = expire_in_batches(e, store_archive_terminal, now - e->cfg.archive_after_us, e->cfg.retention_batch,
		                       &total);
	engine_count(e, "retention_tasks_cleaned_total", NULL, (uint64_t)total);
	engine_observe(e, "retention_cleanup_duration_seconds", NULL, (double)(clock_mono_us() - t0) / 1e6);
	if (total)
		log_info("engine", "archived %" PRId64 " terminal tasks", total);
	return rc;
}

static int expire_workflows_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t total;
	int rc = expire_in_batches(e, store_workflow_runs_expire, now - e->cfg.workflow_retention_us,
	                           e->cfg.retention_batch, &total);
	engine_count(e, "retention_workflow_runs_deleted_total", NULL, (uint64_t)total);
	if (total)
		log_info("engine", "deleted %" PRId64 " workflow runs that ended long ago", total);
	return rc;
}

static int expire_audit_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t total;
	int rc = expire_in_batches(e, store_audit_expire, now - e->cfg.audit_retention_us, e->cfg.retention_batch,
	                           &total);
	engine_count(e, "retention_audit_entries_deleted_total", NULL, (uint64_t)total);
	if (total)
		log_info("engine", "deleted %" PRId64 " audit log entries recorded long ago", total);
	return rc;
}

static int expire_logs_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t total;
	int rc = expire_in_batches(e, store_task_logs_expire, now - e->cfg.log_retention_us,
	                           (int64_t)e->cfg.retention_batch * 10, &total);
	if (total)
		log_info("engine", "deleted %" PRId64 " log lines older than LOG_RETENTION_DAYS", total);
	return rc;
}

static int expire_history_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int64_t total;
	return expire_in_batches(e, store_metrics_history_expire, now - e->cfg.metrics_history_us,
	                         e->cfg.retention_batch, &total);
}

static bool retention_on(const engine *e)
{
	return e->cfg.archive_after_us > 0 || e->cfg.workflow_retention_us > 0 || e->cfg.audit_retention_us > 0 ||
	       e->cfg.event_retention_us > 0 || e->cfg.log_retention_us > 0 || e->cfg.metrics_history_us > 0;
}

static int retention_start(engine *e, int64_t now)
{
	e->retention.next_us = retention_on(e) ? now : INT64_MAX;
	return 0;
}

static void retention_run(engine *e, int64_t now)
{
	if (!retention_on(e) || now < e->retention.next_us)
		return;
	e->retention.next_us = now + e->cfg.retention_interval_us;
	int rc = engine_step(e, archive_step, NULL, now);
	/* After the archive: a run whose job it just took has taken the job's end. */
	if (rc == 0 && e->cfg.workflow_retention_us > 0)
		rc = engine_step(e, expire_workflows_step, NULL, now);
	if (rc == 0 && e->cfg.audit_retention_us > 0)
		rc = engine_step(e, expire_audit_step, NULL, now);
	if (rc == 0)
		rc = engine_step(e, retention_triggers_step, NULL, now);
	if (rc == 0 && e->cfg.log_retention_us > 0)
		rc = engine_step(e, expire_logs_step, NULL, now);
	if (rc == 0 && e->cfg.metrics_history_us > 0)
		rc = engine_step(e, expire_history_step, NULL, now);
	metrics_inc("retention_cleanup_runs_total", rc == 0 ? "outcome=\"success\"" : "outcome=\"error\"", 1);
	if (rc != 0)
		log_error("engine", "archiving pass failed");
}

static int64_t retention_next_wake(const engine *e)
{
	return e->retention.next_us;
}

const cycle_part part_retention = {
	.name = "retention",
	.leader_only = true,
	.start = retention_start,
	.run = retention_run,
	.next_wake = retention_next_wake,
};
