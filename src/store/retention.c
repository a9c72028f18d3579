/*
 * retention.c — moving terminal tasks that ended long ago into the archive
 * (task_archive), which reads by id and by batch fall back to.
 *
 * One pass picks up to `limit` of them, oldest first along task_created (a
 * task ends after it is created, so the walk stops at the cutoff), skipping
 * rows another transaction holds; copies them (replacing an id archived
 * before, restored by hand say, so that it cannot stop retention for good);
 * deletes what hangs off them — actions, links, ledger rows, log lines, delivered
 * outbox rows, a workflow run's memo and signals (its workflow_run row
 * stays, with the job's end), task_emit rows — and the tasks. Undelivered outbox rows stay (they carry
 * their rendered request), and so does the audit trail. Every statement
 * after the pick works on the picked ids, bound as one set. The counts by
 * status (counts.c) lose the archived tasks.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/clock.h"

static const db_sql q_pick = {
	"archive_pick",
	"SELECT id, status FROM task{index:task_created} WHERE created_at <= $1 AND ended_at <= $1 "
	"AND {noindex:status} IN ('success', 'failure', 'canceled', 'skipped') ORDER BY created_at LIMIT $2{lock_skip}",
	NULL,
};

/* In order; each takes the set of ids ($1), the copy also the time ($2). */
static const db_sql q_steps[] = {
	{ "archive_replace", "DELETE FROM task_archive WHERE {in:id,$1}", NULL },
	{ "archive_copy",
	  "INSERT INTO task_archive (" TASK_COLS ", " TASK_JOB_COLS ", archived_at) "
	  "SELECT " TASK_COLS ", " TASK_JOB_COLS ", CAST($2 AS BIGINT) FROM task WHERE {in:id,$1}",
	  NULL },
	{ "archive_actions", "DELETE FROM action WHERE {in:task_id,$1}", NULL },
	{ "archive_links_out", "DELETE FROM link WHERE {in:parent_id,$1}", NULL },
	{ "archive_links_in", "DELETE FROM link WHERE {in:child_id,$1}", NULL },
	{ "archive_ledger", "DELETE FROM webhook_execution WHERE {in:task_id,$1}", NULL },
	{ "archive_task_logs", "DELETE FROM task_log WHERE {in:task_id,$1}", NULL },
	{ "archive_outbox",
	  "DELETE FROM outbox WHERE {in:task_id,$1} AND {noindex:status} IN ('success', 'exhausted')", NULL },
	/* A workflow run outlives its job: a run the job ended without its
	 * own calls takes the job's end now (reads derived it from the job's
	 * row until here), and its memo and signals go. */
	{ "archive_workflow_runs",
	  "UPDATE workflow_run SET status = CASE (SELECT t.status FROM task AS t WHERE t.id = workflow_run.id) "
	  "WHEN 'success' THEN 'completed' WHEN 'failure' THEN 'failed' ELSE 'canceled' END, "
	  "suspend_reason = NULL, wake_at = NULL, wait_signal = NULL, "
	  "output = CASE WHEN (SELECT t.status FROM task AS t WHERE t.id = workflow_run.id) = 'success' "
	  "THEN (SELECT t.result FROM task AS t WHERE t.id = workflow_run.id) ELSE output END, "
	  "error_code = coalesce(error_code, (SELECT t.error_code FROM task AS t WHERE t.id = workflow_run.id)), "
	  "error_message = coalesce(error_message, "
	  "(SELECT t.failure_reason FROM task AS t WHERE t.id = workflow_run.id)), "
	  "ended_at = coalesce(ended_at, (SELECT t.ended_at FROM task AS t WHERE t.id = workflow_run.id)) "
	  "WHERE {in:id,$1} AND status IN ('pending', 'running', 'suspended')",
	  NULL },
	{ "archive_workflow_steps", "DELETE FROM workflow_step WHERE {in:run_id,$1}", NULL },
	{ "archive_workflow_signals", "DELETE FROM workflow_signal WHERE {in:run_id,$1}", NULL },
	/* An archived task ends no more: what it would publish then goes. */
	{ "archive_task_emits", "DELETE FROM task_emit WHERE {in:task_id,$1}", NULL },
	{ "archive_tasks", "DELETE FROM task WHERE {in:id,$1}", NULL },
};

static int archive_step(store_conn *c, size_t i, db_set *ids, int64_t now, int64_t *changes)
{
	db_stmt *st;
	int err = db_prepare(c, &q_steps[i], &st);
	if (err)
		return err;
	db_bind_set(st, ids);
	if (&q_steps[i] == &q_steps[1])
		db_bind_int(st, now);
	/* The last one is waited for: it reports the count. */
	return i + 1 < ARRAY_LEN(q_steps) ? db_send(st, NULL) : db_run(st, changes);
}

int store_archive_terminal(store_conn *c, int64_t ended_before, size_t limit, int64_t *archived)
{
	db_stmt *st;
	*archived = 0;
	if (limit == 0)
		return 0;
	bool own;
	int err = db_write_begin(c, &own);
	if (err)
		return err;
	db_set ids;
	db_set_init(&ids);
	if ((err = db_prepare(c, &q_pick, &st)) != 0)
		goto done;
	db_bind_int(st, ended_before);
	db_bind_int(st, db_clamp_limit(limit));
	int rc;
	int64_t by_status[TS__COUNT] = { 0 };
	while ((rc = db_step(st)) > 0) {
		weft_id id;
		task_status s;
		db_col_id(st, 0, &id);
		if ((rc = db_col_status(st, 1, &s)) != 0)
			break;
		db_set_id(&ids, &id);
		by_status[s]++;
	}
	if ((err = db_end(st, rc)) != 0 || ids.n == 0)
		goto done;
	int64_t now = clock_now_us();
	for (size_t i = 0; i < ARRAY_LEN(q_steps) && !err; i++)
		err = archive_step(c, i, &ids, now, archived);
	/* The picked rows are locked and ended: the delete took them all. */
	for (int s = 0; s < TS__COUNT && !err; s++)
		err = task_count_add(c, (task_status)s, -by_status[s]);
	if (!err && own)
		err = task_counts_flush(c, false);     /* db_own_end commits without store_commit */
done:
	db_set_release(&ids);
	err = db_own_end(c, own, err);
	if (own)
		task_counts_reset(c);
	if (err)
		*archived = 0;
	return err;
}
