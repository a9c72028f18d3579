/*
 * runs.c — runs (POST /v1/runs): the queue tasks of a submitted run, the
 * result a webhook task's service reports, and the reads of runs: one run,
 * the counts of its tasks by status, a page of its tasks with their
 * results, and the runs of namespaces newest first.
 *
 * A run is a batch row; its tasks carry its id in batch_id. Its status is
 * derived, never stored: active while batch.remaining (the counter of
 * unfinished tasks, batches.c) is above 0, else failure when a task
 * failed, canceled when one was canceled, success otherwise (tasks a
 * decision skipped count as successes).
 */
#include "util/common.h"

#include "store/db.h"
#include "store/runs.h"
#include "util/alloc.h"

/* ---- a run's queue tasks ------------------------------------------------------------- */

#define RUN_JOB_COLS                                                                                 \
	"id, batch_id, name, kind, status, executor, timeout_secs, created_at, last_updated, metadata, " \
	"rules, priority, attempt, start_after, retry_policy, namespace, input, concurrency_key, "        \
	"rate_key, shape, wait_success, wait_finished, ref"

static const db_sql q_run_job_insert = {
	"run_job_insert",
	"INSERT INTO task (" RUN_JOB_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"$14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
	"COPY task (" RUN_JOB_COLS ") FROM STDIN",
};

int store_run_job_insert(store_conn *c, const run_job_new *r)
{
	const job_new *j = &r->job;
	db_stmt *st;
	int err = db_prepare(c, &q_run_job_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &j->id);
	db_bind_id(st, &r->batch_id);
	db_bind_text(st, j->name ? j->name : j->queue);
	db_bind_text(st, j->queue);
	db_bind_text(st, task_status_name(r->status));
	db_bind_text(st, "queue");
	db_bind_int(st, j->timeout_secs);
	db_bind_int(st, j->created_at);
	db_bind_int(st, j->created_at);
	db_bind_text(st, j->metadata ? j->metadata : "null");
	db_bind_text(st, "[]");
	db_bind_int(st, j->priority);
	db_bind_int(st, 1);
	db_bind_int(st, j->start_after);
	db_bind_text(st, j->retry_policy);
	db_bind_text(st, j->namespace ? j->namespace : NAMESPACE_DEFAULT);
	db_bind_text(st, j->input ? j->input : "null");
	db_bind_text(st, j->concurrency_key);
	db_bind_text(st, j->rate_key);
	db_bind_int(st, r->shape);
	db_bind_int(st, r->wait_success);
	db_bind_int(st, r->wait_finished);
	db_bind_text(st, r->ref);
	err = db_send(st, NULL);
	if (!err)
		task_changed_note(c, &j->id, r->status);
	return err ? err : task_count_add(c, r->status, 1);
}

/* ---- a webhook task's report ------------------------------------------------------------ */

static const db_sql q_report = {
	"webhook_task_report",
	"UPDATE task SET result = $2, error_code = $3 WHERE id = $1 AND status IN ('claimed', 'running') AND executor <> 'queue' "
	"RETURNING shape",
	NULL,
};

int store_webhook_task_report(store_conn *c, const weft_id *id, const char *result, const char *error_code,
                              bool *applied, int32_t *shape)
{
	db_stmt *st;
	*applied = false;
	*shape = 0;
	int err = db_prepare(c, &q_report, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	db_bind_text(st, result);
	db_bind_text(st, error_code);
	int64_t v = 0;
	err = db_query_int(st, &v, applied);
	*shape = (int32_t)v;
	return err;
}

/* ---- runs ------------------------------------------------------------------------------ */

#define RUN_COLS "b.id, b.namespace, b.name, b.metadata, b.created_at, b.completed_at, b.remaining"

static int read_run(db_stmt *st, void *row)
{
	run_row *r = row;
	db_col_id(st, 0, &r->id);
	r->namespace = db_col_str_nn(st, 1, NAMESPACE_DEFAULT);
	r->name = db_col_str(st, 2);
	r->metadata = db_col_str_nn(st, 3, "null");
	r->created_at = db_col_int(st, 4);
	r->completed_at = db_col_int(st, 5);
	r->remaining = db_col_int(st, 6);
	return 0;
}

static void release_run(void *row)
{
	run_row_release(row);
}

void run_row_release(run_row *r)
{
	free(r->namespace);
	free(r->name);
	free(r->metadata);
	memset(r, 0, sizeof(*r));
}

void store_free_runs(run_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_row_release(&rows[i]);
	free(rows);
}

static const db_row_kind run_kind = { sizeof(run_row), read_run, release_run };

static const db_sql q_run_get = { "run_get", "SELECT " RUN_COLS " FROM batch AS b WHERE b.id = $1", NULL };

int store_run_get(store_conn *c, const weft_id *id, run_row *out)
{
	memset(out, 0, sizeof(*out));
	db_stmt *st;
	int err = db_prepare(c, &q_run_get, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	void *rows = NULL;
	size_t n = 0;
	if ((err = db_collect(st, &run_kind, &rows, &n)) != 0)
		return err;
	if (n == 0) {
		free(rows);
		return WEFT_ENOTFOUND;
	}
	*out = *(run_row *)rows;
	for (size_t i = 1; i < n; i++)
		run_row_release(&((run_row *)rows)[i]);
	free(rows);
	return 0;
}

/* The list's optional terms, in parameter order. */
enum { RL_NAMESPACES, RL_AFTER, RL_BEFORE, RL_CURSOR, RL__COUNT };

#define RUN_HAS(status) "EXISTS (SELECT 1 FROM task AS t WHERE t.batch_id = b.id AND t.status = '" status "')"

static void build_run_list(buf *sql, unsigned shape)
{
	int p = 1;
	buf_puts(sql, "SELECT " RUN_COLS " FROM batch AS b WHERE true");
	if (shape & (1u << RL_NAMESPACES))
		buf_printf(sql, " AND {in:b.namespace,$%d}", p++);
	if (shape & (1u << RL_AFTER))
		buf_printf(sql, " AND b.created_at >= $%d", p++);
	if (shape & (1u << RL_BEFORE))
		buf_printf(sql, " AND b.created_at < $%d", p++);
	if (shape & (1u << RL_CURSOR)) {
		buf_printf(sql, " AND (b.created_at < $%d OR (b.created_at = $%d AND b.id < $%d))", p, p, p + 1);
		p += 2;
	}
	switch ((run_status)(shape >> RL__COUNT)) {
	case RUN_ACTIVE:
		buf_puts(sql, " AND b.remaining > 0");
		break;
	case RUN_SUCCESS:
		buf_puts(sql, " AND b.remaining <= 0 AND NOT EXISTS (SELECT 1 FROM task AS t "
		              "WHERE t.batch_id = b.id AND t.status NOT IN ('success', 'skipped'))");
		break;
	case RUN_FAILURE:
		buf_puts(sql, " AND b.remaining <= 0 AND " RUN_HAS("failure"));
		break;
	case RUN_CANCELED:
		buf_puts(sql, " AND b.remaining <= 0 AND " RUN_HAS("canceled") " AND NOT " RUN_HAS("failure"));
		break;
	default:
		break;
	}
	buf_printf(sql, " ORDER BY b.created_at DESC, b.id DESC LIMIT $%d", p);
}

static const db_dyn dyn_run_list = { "run_list", build_run_list };

int store_run_list(store_conn *c, const run_filter *f, size_t limit, run_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	unsigned shape = 0;
	shape |= (unsigned)(f->namespaces != NULL) << RL_NAMESPACES;
	shape |= (unsigned)(f->created_after != 0) << RL_AFTER;
	shape |= (unsigned)(f->created_before != 0) << RL_BEFORE;
	shape |= (unsigned)(f->has_cursor) << RL_CURSOR;
	shape |= (f->has_status ? (unsigned)f->status : RUN__ANY) << RL__COUNT;
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_run_list, shape, &st);
	if (err)
		return err;
	db_set names;
	db_set_init(&names);
	for (size_t i = 0; f->namespaces != NULL && i < f->nnamespaces; i++)
		db_set_text(&names, f->namespaces[i]);
	if (f->namespaces != NULL)
		db_bind_set(st, &names);
	if (f->created_after != 0)
		db_bind_int(st, f->created_after);
	if (f->created_before != 0)
		db_bind_int(st, f->created_before);
	if (f->has_cursor) {
		db_bind_int(st, f->cursor_at);
		db_bind_id(st, &f->cursor_id);
	}
	db_bind_int(st, (int64_t)limit);
	void *rows = NULL;
	err = db_collect(st, &run_kind, &rows, n);
	*out = rows;
	db_set_release(&names);
	return err;
}

/* ---- the counts and tasks of runs ------------------------------------------------------- */

static const db_sql q_run_counts = {
	"run_counts",
	"SELECT batch_id, status, count(*) FROM task WHERE {in:batch_id,$1} GROUP BY batch_id, status",
	NULL,
};

int store_run_counts(store_conn *c, run_row *runs, size_t n)
{
	if (n == 0)
		return 0;
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n; i++) {
		memset(runs[i].counts, 0, sizeof(runs[i].counts));
		db_set_id(&ids, &runs[i].id);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_run_counts, &st);
	if (err == 0) {
		db_bind_set(st, &ids);
		int rc;
		while ((rc = db_step(st)) > 0) {
			weft_id b;
			task_status s;
			db_col_id(st, 0, &b);
			if ((rc = db_col_status(st, 1, &s)) != 0)
				break;
			for (size_t i = 0; i < n; i++)
				if (id_eq(&runs[i].id, &b))
					runs[i].counts[s] += db_col_int(st, 2);
		}
		err = db_end(st, rc);
	}
	db_set_release(&ids);
	return err;
}

run_status run_status_of(const int64_t counts[TS__COUNT])
{
	int64_t active = 0;
	for (int s = 0; s < TS__COUNT; s++)
		if (!task_status_terminal((task_status)s))
			active += counts[s];
	if (active > 0)
		return RUN_ACTIVE;
	if (counts[TS_FAILURE] > 0)
		return RUN_FAILURE;
	if (counts[TS_CANCELED] > 0)
		return RUN_CANCELED;
	return RUN_SUCCESS;
}

const char *run_status_name(run_status s)
{
	switch (s) {
	case RUN_ACTIVE: return "active";
	case RUN_SUCCESS: return "success";
	case RUN_FAILURE: return "failure";
	case RUN_CANCELED: return "canceled";
	default: return "unknown";
	}
}

int run_status_parse(const char *s, run_status *out)
{
	for (run_status r = RUN_ACTIVE; r < RUN__ANY; r++)
		if (strcmp(s, run_status_name(r)) == 0) {
			*out = r;
			return 0;
		}
	return -1;
}

static const db_sql q_run_tasks = {
	"run_tasks",
	"SELECT " TASK_COLS ", result FROM task WHERE batch_id = $1 "
	"AND (created_at > $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at, id LIMIT $4",
	NULL,
};

static int read_run_task(db_stmt *st, void *row)
{
	run_task_row *r = row;
	int err = db_read_task(st, 0, &r->task);
	if (err)
		return err;
	r->result = db_col_str(st, TASK_NCOLS);
	return 0;
}

static void release_run_task(void *row)
{
	run_task_row *r = row;
	task_row_release(&r->task);
	free(r->result);
}

void store_free_run_tasks(run_task_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_run_task(&rows[i]);
	free(rows);
}

int store_run_tasks(store_conn *c, const weft_id *run, int64_t after_at, const weft_id *after_id, size_t limit,
                    run_task_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_run_tasks, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_int(st, after_at);
	db_bind_text(st, after_id != NULL && id_is_set(after_id) ? after_id->str : "");
	db_bind_int(st, (int64_t)limit);
	static const db_row_kind kind = { sizeof(run_task_row), read_run_task, release_run_task };
	void *rows = NULL;
	err = db_collect(st, &kind, &rows, n);
	*out = rows;
	return err;
}
