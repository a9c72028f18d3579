/*
 * exec_tasks.c — the rows the exec executor (exec/process_executor.c)
 * keeps about its children: which node runs a task, and which tasks a
 * node was running when it stopped.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/runs.h"

static const db_sql q_exec_mark = {
	"exec_tasks_mark",
	"UPDATE task SET worker_id = $2 WHERE {in:id,$1} AND executor = 'exec'",
	NULL,
};

int store_exec_tasks_mark(store_conn *c, const weft_id *ids, size_t n, const char *node)
{
	if (n == 0)
		return 0;
	db_stmt *st;
	int err = db_prepare(c, &q_exec_mark, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, ids, n);
	db_bind_set(st, &set);
	db_bind_text(st, node);
	err = db_send(st, NULL);     /* nothing read back: it may go without waiting */
	db_set_release(&set);
	return err;
}

/* Read at every start: the status is spelled as the OR of task_timed's
 * partial-index predicate (claimed or running), which SQLite then proves
 * and walks; spelled IN (...) it scanned the whole task table. */
static const db_sql q_exec_orphans = {
	"exec_tasks_orphaned",
	"SELECT id FROM task WHERE (status = 'claimed' OR status = 'running') AND executor = 'exec' AND worker_id = $1 "
	"AND last_updated < $2 ORDER BY id LIMIT $3",
	NULL,
};
static const db_sql q_exec_orphans_any = {
	"exec_tasks_orphaned_any",
	"SELECT id FROM task WHERE (status = 'claimed' OR status = 'running') AND executor = 'exec' AND $1 = $1 "
	"AND last_updated < $2 ORDER BY id LIMIT $3",
	NULL,
};

int store_exec_tasks_orphaned(store_conn *c, const char *node, int64_t before, size_t limit, weft_id **out,
                              size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, node != NULL ? &q_exec_orphans : &q_exec_orphans_any, &st);
	if (err)
		return err;
	db_bind_text(st, node != NULL ? node : "");
	db_bind_int(st, before);
	db_bind_int(st, (int64_t)limit);
	return db_collect_ids(st, out, n);
}

static const db_sql q_exec_report = {
	"exec_tasks_report",
	"UPDATE task SET result = r.result, error_code = r.error_code "
	"FROM {rows:$1,id text,result text,error_code text} AS r WHERE task.id = r.id "
	"AND task.status IN ('claimed', 'running') AND task.executor = 'exec' RETURNING task.id",
	NULL,
};

int store_exec_tasks_report(store_conn *c, const exec_report *r, size_t n, weft_id **applied, size_t *napplied)
{
	*applied = NULL;
	*napplied = 0;
	if (n == 0)
		return 0;
	db_set set;
	db_set_init(&set);
	for (size_t i = 0; i < n; i++) {
		db_set_row(&set);
		db_set_field_text(&set, "id", r[i].id.str);
		db_set_field_text(&set, "result", r[i].result);
		db_set_field_text(&set, "error_code", r[i].error_code);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_exec_report, &st);
	if (err == 0) {
		db_bind_set(st, &set);
		err = db_collect_ids(st, applied, napplied);
	}
	db_set_release(&set);
	return err;
}
