/*
 * workflow_retention.c — deleting workflow runs that ended long ago
 * (RETENTION_WORKFLOW_DAYS; docs/internals/workflows.md, "Retention").
 *
 * A run has ended when its row says so (completed, failed, canceled,
 * terminated: ended_at set), or when its row is still active but its job
 * ended without the run's own calls (a lost last lease, a cancel of the
 * task: reads show the job's end, from the task row). One pass deletes up
 * to `limit` such runs whose end is at or before the cutoff, with their
 * memo and signals. Their jobs are tasks like any other, left to the task
 * archive (store/retention.c).
 *
 * The delete states the condition again, so that a run reopened (retried)
 * between the pick and the delete is kept: only the ids it returns lose
 * their memo.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/workflows.h"

#define RUN_EXPIRED                                                                                          \
	"((workflow_run.status IN ('completed', 'failed', 'canceled', 'terminated') "                         \
	"AND workflow_run.ended_at <= $1) OR (workflow_run.status IN ('pending', 'running', 'suspended') "  \
	"AND EXISTS (SELECT 1 FROM task AS t WHERE t.id = workflow_run.id "                                   \
	"AND t.status IN ('success', 'failure', 'canceled') AND t.ended_at <= $1)))"

static const db_sql q_runs_expire = {
	"workflow_runs_expire",
	"DELETE FROM workflow_run WHERE id IN (SELECT id FROM workflow_run WHERE " RUN_EXPIRED " LIMIT $2) "
	"AND " RUN_EXPIRED " RETURNING id",
	NULL,
};

static const db_sql q_expired_steps = {
	"workflow_expired_steps", "DELETE FROM workflow_step WHERE {in:run_id,$1}", NULL,
};
static const db_sql q_expired_signals = {
	"workflow_expired_signals", "DELETE FROM workflow_signal WHERE {in:run_id,$1}", NULL,
};

static int delete_by_run(store_conn *c, const db_sql *q, db_set *ids)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_set(st, ids);
	return db_run(st, NULL);
}

int store_workflow_runs_expire(store_conn *c, int64_t ended_before, size_t limit, int64_t *deleted)
{
	*deleted = 0;
	if (limit == 0)
		return 0;
	bool own;
	int err = db_write_begin(c, &own);
	if (err)
		return err;
	db_set ids;
	db_set_init(&ids);
	db_stmt *st;
	if ((err = db_prepare(c, &q_runs_expire, &st)) != 0)
		goto done;
	db_bind_int(st, ended_before);
	db_bind_int(st, db_clamp_limit(limit));
	int rc;
	while ((rc = db_step(st)) > 0) {
		weft_id id;
		db_col_id(st, 0, &id);
		db_set_id(&ids, &id);
	}
	if ((err = db_end(st, rc)) != 0 || ids.n == 0)
		goto done;
	if ((err = delete_by_run(c, &q_expired_steps, &ids)) == 0)
		err = delete_by_run(c, &q_expired_signals, &ids);
	if (err == 0)
		*deleted = (int64_t)ids.n;
done:
	db_set_release(&ids);
	return db_own_end(c, own, err);
}
