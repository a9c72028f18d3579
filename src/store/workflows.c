/*
 * workflows.c — workflow runs, their memoized steps and signals (tables
 * workflow_run, workflow_step, workflow_signal; see workflows.h).
 */
#include "util/common.h"

#include "store/db.h"
#include "store/workflows.h"
#include "store/runs.h"
#include "util/alloc.h"

#define RUN_COLS_OF(p)                                                                                 \
	p "id, " p "namespace, " p "type, " p "queue, " p "status, " p "idempotency_key, " p "input, "      \
	p "output, " p "error_code, " p "error_message, " p "step_retry, " p "suspend_reason, "             \
	p "wait_signal, " p "wake_at, " p "suspended_token, " p "replays, " p "created_at, " p "updated_at, " \
	p "ended_at, " p "seen_token"
#define RUN_COLS RUN_COLS_OF("")
#define STEP_COLS                                                                                        \
	"run_id, kind, name, seq, status, output, error_code, error_message, attempts, next_attempt_at, " \
	"seen_token, started_at, ended_at"

/* ---- runs -------------------------------------------------------------------------------- */

void workflow_run_row_release(workflow_run_row *r)
{
	free(r->namespace);
	free(r->type);
	free(r->queue);
	free(r->status);
	free(r->idempotency_key);
	free(r->input);
	free(r->output);
	free(r->error_code);
	free(r->error_message);
	free(r->step_retry);
	free(r->suspend_reason);
	free(r->wait_signal);
	memset(r, 0, sizeof *r);
}

/* RUN_COLS from column c0 on. */
static void read_run_at(db_stmt *st, int c0, workflow_run_row *r)
{
	db_col_id(st, c0, &r->id);
	r->namespace = db_col_str_nn(st, c0 + 1, "");
	r->type = db_col_str_nn(st, c0 + 2, "");
	r->queue = db_col_str_nn(st, c0 + 3, "");
	r->status = db_col_str_nn(st, c0 + 4, "");
	r->idempotency_key = db_col_str(st, c0 + 5);
	r->input = db_col_str(st, c0 + 6);
	r->output = db_col_str(st, c0 + 7);
	r->error_code = db_col_str(st, c0 + 8);
	r->error_message = db_col_str(st, c0 + 9);
	r->step_retry = db_col_str_nn(st, c0 + 10, "");
	r->suspend_reason = db_col_str(st, c0 + 11);
	r->wait_signal = db_col_str(st, c0 + 12);
	r->wake_at = db_col_int(st, c0 + 13);
	r->suspended_token = db_col_int(st, c0 + 14);
	r->replays = db_col_int(st, c0 + 15);
	r->created_at = db_col_int(st, c0 + 16);
	r->updated_at = db_col_int(st, c0 + 17);
	r->ended_at = db_col_int(st, c0 + 18);
	r->seen_token = db_col_int(st, c0 + 19);
}

static int read_run(db_stmt *st, void *row)
{
	read_run_at(st, 0, row);
	return 0;
}

static void release_run(void *row)
{
	workflow_run_row_release(row);
}

static const db_row_kind run_kind = { sizeof(workflow_run_row), read_run, release_run };

/* The first row st answers (bound already), the others dropped: 0 or
 * WEFT_ENOTFOUND. */
static int first_row(db_stmt *st, const db_row_kind *k, void *out)
{
	void *rows = NULL;
	size_t n = 0;
	int err = db_collect(st, k, &rows, &n);
	if (err == 0 && n == 0)
		err = WEFT_ENOTFOUND;
	if (err == 0)
		memcpy(out, rows, k->size);
	for (size_t i = err == 0 ? 1 : 0; i < n; i++)
		k->release((char *)rows + i * k->size);
	free(rows);
	return err;
}

/* A key held by an active run makes the insert do nothing (the partial
 * unique index workflow_run_key is the arbiter, also between nodes). */
static const db_sql q_run_insert = {
	"workflow_run_insert",
	"INSERT INTO workflow_run (id, namespace, type, queue, status, idempotency_key, input, step_retry, "
	"created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_run_get = { "workflow_run_get", "SELECT " RUN_COLS " FROM workflow_run WHERE id = $1", NULL };
/* Active first (at most one), then the newest. */
static const db_sql q_run_by_key = {
	"workflow_run_by_key",
	"SELECT " RUN_COLS " FROM workflow_run WHERE namespace = $1 AND idempotency_key = $2 "
	"ORDER BY CASE WHEN status IN ('pending', 'running', 'suspended') THEN 0 ELSE 1 END, "
	"created_at DESC, id DESC LIMIT 1",
	NULL,
};

int store_workflow_run_insert(store_conn *c, const workflow_run_new *r, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_run_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &r->id);
	db_bind_text(st, r->namespace);
	db_bind_text(st, r->type);
	db_bind_text(st, r->queue);
	db_bind_text(st, r->idempotency_key);
	db_bind_text(st, r->input);
	db_bind_text(st, r->step_retry);
	db_bind_int(st, r->now);
	return db_run_changed(st, created);
}

int store_workflow_run_get(store_conn *c, const weft_id *id, workflow_run_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_run_get, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	return first_row(st, &run_kind, out);
}

/* Both rows locked, the job's first: on PostgreSQL a row updated by a
 * transaction this one waited for is read as that transaction left it,
 * whichever of the two it changed. */
static const db_sql q_run_locked = {
	"workflow_run_locked",
	"SELECT " TASK_COLS_OF("t.") ", " RUN_COLS_OF("w.") " FROM task AS t JOIN workflow_run AS w ON w.id = t.id "
	"WHERE t.id = $1{lock_in_order_of_both:t.id,t,w}",
	NULL,
};

int store_workflow_run_locked(store_conn *c, const weft_id *id, task_row **job, workflow_run_row *run)
{
	*job = NULL;
	memset(run, 0, sizeof *run);
	db_stmt *st;
	int err = db_prepare(c, &q_run_locked, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	int rc = db_step(st);
	bool found = rc > 0;
	task_row *t = NULL;
	if (found) {
		t = xcalloc(1, sizeof *t);
		rc = db_read_task(st, 0, t);     /* t released on error */
		if (rc == 0) {
			read_run_at(st, TASK_NCOLS, run);
			if ((rc = db_step(st)) > 0)
				rc = 0;          /* no second row: the id is the key of both */
		} else {
			free(t);
			t = NULL;
		}
	}
	err = db_end(st, rc);
	if (err == 0 && !found)
		err = WEFT_ENOTFOUND;
	if (err == 0) {
		*job = t;
	} else if (t != NULL) {
		store_free_tasks(t, 1);
		workflow_run_row_release(run);
	}
	return err;
}

int store_workflow_run_by_key(store_conn *c, const char *ns, const char *key, workflow_run_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_run_by_key, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, key);
	return first_row(st, &run_kind, out);
}

/* The job's end, from its row: a run still active in its own row whose
 * job ended (success, failure, canceled) takes the job's status, its
 * result as output on success, its error and its end time. */
#define JOB_OF_RUN(col) "(SELECT t." col " FROM task AS t WHERE t.id = workflow_run.id)"
static const db_sql q_run_take_job_end = {
	"workflow_run_take_job_end",
	"UPDATE workflow_run SET status = CASE " JOB_OF_RUN("status") " WHEN 'success' THEN 'completed' "
	"WHEN 'failure' THEN 'failed' ELSE 'canceled' END, "
	"output = CASE WHEN " JOB_OF_RUN("status") " = 'success' THEN " JOB_OF_RUN("result") " ELSE output END, "
	"error_code = coalesce(error_code, " JOB_OF_RUN("error_code") "), "
	"error_message = coalesce(error_message, " JOB_OF_RUN("failure_reason") "), "
	"suspend_reason = NULL, wake_at = NULL, wait_signal = NULL, "
	"ended_at = coalesce(ended_at, " JOB_OF_RUN("ended_at") ", $2), updated_at = $2 "
	"WHERE id = $1 AND status IN ('pending', 'running', 'suspended') "
	"AND " JOB_OF_RUN("status") " IN ('success', 'failure', 'canceled')",
	NULL,
};

int store_workflow_run_take_job_end(store_conn *c, const weft_id *id, int64_t now, bool *changed)
{
	*changed = false;
	db_stmt *st;
	int err = db_prepare(c, &q_run_take_job_end, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	db_bind_int(st, now);
	return db_run_changed(st, changed);
}

static const db_sql q_run_change = {
	"workflow_run_change",
	"UPDATE workflow_run SET status = $2, output = coalesce($3, output), error_code = $4, error_message = $5, "
	"suspend_reason = $6, wait_signal = $7, wake_at = $8, suspended_token = $9, replays = replays + $10, "
	"ended_at = $11, updated_at = $12, seen_token = CASE WHEN $14 = 0 THEN seen_token ELSE $14 END "
	"WHERE id = $1 AND ($13 = 0 OR status IN ('pending', 'running', 'suspended'))",
	NULL,
};

int store_workflow_run_change(store_conn *c, const weft_id *id, const workflow_run_change *ch, int64_t now,
                              bool *changed)
{
	*changed = false;
	db_stmt *st;
	int err = db_prepare(c, &q_run_change, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	db_bind_text(st, ch->to);
	db_bind_text(st, ch->output);
	db_bind_text(st, ch->error_code);
	db_bind_text(st, ch->error_message);
	db_bind_text(st, ch->suspend_reason);
	db_bind_text(st, ch->wait_signal);
	db_bind_int_or_null(st, ch->wake_at);
	db_bind_int_or_null(st, ch->suspended_token);
	db_bind_int(st, ch->replays_add);
	db_bind_int_or_null(st, ch->ended_at);
	db_bind_int(st, now);
	db_bind_int(st, ch->from_active ? 1 : 0);
	db_bind_int(st, ch->seen_token);
	return db_run_changed(st, changed);
}

/* What reads show of a run (store/workflows.h): while the row says it is
 * active, an ended job's end, or running while a worker holds the job. */
#define RUN_ACTIVE "w.status IN ('pending', 'running', 'suspended')"
#define JOB_ENDED "t.status IN ('success', 'failure', 'canceled')"
#define EFFECTIVE_STATUS                                                                   \
	"CASE WHEN " RUN_ACTIVE " AND t.status = 'success' THEN 'completed' "              \
	"WHEN " RUN_ACTIVE " AND t.status = 'failure' THEN 'failed' "                      \
	"WHEN " RUN_ACTIVE " AND t.status = 'canceled' THEN 'canceled' "                   \
	"WHEN w.status IN ('pending', 'suspended') AND t.status = 'running' THEN 'running' " \
	"ELSE w.status END"
#define RUN_VIEW_COLS                                                                                          \
	"w.id, w.namespace, w.type, w.queue, " EFFECTIVE_STATUS ", w.idempotency_key, w.input, "             \
	"CASE WHEN " RUN_ACTIVE " AND t.status = 'success' THEN t.result ELSE w.output END, "               \
	"w.error_code, w.error_message, w.step_retry, "                                                     \
	"CASE WHEN " RUN_ACTIVE " AND " JOB_ENDED " THEN NULL ELSE w.suspend_reason END, w.wait_signal, "    \
	"w.wake_at, w.suspended_token, w.replays, w.created_at, w.updated_at, "                             \
	"CASE WHEN " RUN_ACTIVE " AND " JOB_ENDED " THEN t.ended_at ELSE w.ended_at END, w.seen_token"

enum { WL_ID, WL_NAMESPACES, WL_STATUS, WL_TYPE, WL_QUEUE, WL_AFTER, WL_BEFORE, WL_CURSOR };

static void build_run_list(buf *sql, unsigned shape)
{
	int p = 1;
	buf_puts(sql, "SELECT " RUN_VIEW_COLS " FROM workflow_run AS w LEFT JOIN task AS t ON t.id = w.id WHERE true");
	if (shape & (1u << WL_ID))
		buf_printf(sql, " AND w.id = $%d", p++);
	if (shape & (1u << WL_NAMESPACES))
		buf_printf(sql, " AND {in:w.namespace,$%d}", p++);
	if (shape & (1u << WL_STATUS))
		buf_printf(sql, " AND " EFFECTIVE_STATUS " = $%d", p++);
	if (shape & (1u << WL_TYPE))
		buf_printf(sql, " AND w.type = $%d", p++);
	if (shape & (1u << WL_QUEUE))
		buf_printf(sql, " AND w.queue = $%d", p++);
	if (shape & (1u << WL_AFTER))
		buf_printf(sql, " AND w.created_at >= $%d", p++);
	if (shape & (1u << WL_BEFORE))
		buf_printf(sql, " AND w.created_at < $%d", p++);
	if (shape & (1u << WL_CURSOR)) {
		buf_printf(sql, " AND (w.created_at < $%d OR (w.created_at = $%d AND w.id < $%d))", p, p, p + 1);
		p += 2;
	}
	buf_printf(sql, " ORDER BY w.created_at DESC, w.id DESC LIMIT $%d", p);
}

static const db_dyn dyn_run_list = { "workflow_run_list", build_run_list };

int store_workflow_run_list(store_conn *c, const workflow_run_filter *f, size_t limit, workflow_run_row **out,
                            size_t *n)
{
	*out = NULL;
	*n = 0;
	unsigned shape = (unsigned)(f->id != NULL) << WL_ID | (unsigned)(f->namespaces != NULL) << WL_NAMESPACES |
	                 (unsigned)(f->status != NULL) << WL_STATUS | (unsigned)(f->type != NULL) << WL_TYPE |
	                 (unsigned)(f->queue != NULL) << WL_QUEUE | (unsigned)(f->created_after != 0) << WL_AFTER |
	                 (unsigned)(f->created_before != 0) << WL_BEFORE | (unsigned)f->has_cursor << WL_CURSOR;
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_run_list, shape, &st);
	if (err)
		return err;
	if (f->id != NULL)
		db_bind_id(st, f->id);
	db_set names;
	db_set_init(&names);
	if (f->namespaces != NULL) {
		for (size_t i = 0; i < f->nnamespaces; i++)
			db_set_text(&names, f->namespaces[i]);
		db_bind_set(st, &names);
	}
	if (f->status != NULL)
		db_bind_text(st, f->status);
	if (f->type != NULL)
		db_bind_text(st, f->type);
	if (f->queue != NULL)
		db_bind_text(st, f->queue);
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

void store_free_workflow_runs(workflow_run_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		workflow_run_row_release(&rows[i]);
	free(rows);
}

/* ---- steps ------------------------------------------------------------------------------- */

const char *workflow_step_kind_name(workflow_step_kind k)
{
	switch (k) {
	case WS_STEP: return "step";
	case WS_SLEEP: return "sleep";
	case WS_SIGNAL: return "signal";
	}
	return "step";
}

void workflow_step_row_release(workflow_step_row *s)
{
	free(s->kind);
	free(s->name);
	free(s->status);
	free(s->output);
	free(s->error_code);
	free(s->error_message);
	memset(s, 0, sizeof *s);
}

static int read_step(db_stmt *st, void *row)
{
	workflow_step_row *s = row;
	db_col_id(st, 0, &s->run_id);
	s->kind = db_col_str_nn(st, 1, "");
	s->name = db_col_str_nn(st, 2, "");
	s->seq = db_col_int(st, 3);
	s->status = db_col_str_nn(st, 4, "");
	s->output = db_col_str(st, 5);
	s->error_code = db_col_str(st, 6);
	s->error_message = db_col_str(st, 7);
	s->attempts = db_col_int(st, 8);
	s->next_attempt_at = db_col_int(st, 9);
	s->seen_token = db_col_int(st, 10);
	s->started_at = db_col_int(st, 11);
	s->ended_at = db_col_int(st, 12);
	return 0;
}

static void release_step(void *row)
{
	workflow_step_row_release(row);
}

static const db_row_kind step_kind = { sizeof(workflow_step_row), read_step, release_step };

/* A call repeated by the same attempt while its row is still running (an
 * answer lost on the way back, the request sent again) meets that row
 * again rather than the next iteration's. */
static const db_sql q_step_repeated = {
	"workflow_step_repeated",
	"SELECT " STEP_COLS " FROM workflow_step WHERE run_id = $1 AND kind = $2 AND name = $3 "
	"AND seen_token = $4 AND status = 'running' ORDER BY seq DESC LIMIT 1",
	NULL,
};
static const db_sql q_step_reach = {
	"workflow_step_reach",
	"UPDATE workflow_step SET seen_token = $4 WHERE run_id = $1 AND kind = $2 AND name = $3 AND seq = "
	"(SELECT min(seq) FROM workflow_step WHERE run_id = $1 AND kind = $2 AND name = $3 AND seen_token <> $4) "
	"RETURNING " STEP_COLS,
	NULL,
};
static const db_sql q_step_append = {
	"workflow_step_append",
	"INSERT INTO workflow_step (run_id, kind, name, seq, status, attempts, seen_token, started_at) "
	"SELECT $1, $2, $3, coalesce(max(seq), 0) + 1, $5, 0, $4, $6 FROM workflow_step "
	"WHERE run_id = $1 AND kind = $2 AND name = $3 RETURNING " STEP_COLS,
	NULL,
};

static const db_sql q_memo_count = {
	"workflow_memo_count",
	"UPDATE workflow_run SET memo_rows = memo_rows + 1 WHERE id = $1 AND memo_rows < $2",
	NULL,
};
/* The common case in one statement: a call meeting its name for the first
 * time in this attempt, with no row it could reach and no repeat of a
 * running one (the two queries above would both find nothing), on a run
 * below its memo's limit, appends its row. Nothing inserted: one of those
 * holds, and the queries above tell which. */
static const db_sql q_step_fresh = {
	"workflow_step_fresh",
	"INSERT INTO workflow_step (run_id, kind, name, seq, status, attempts, seen_token, started_at) "
	"SELECT $1, $2, $3, coalesce(s.top, 0) + 1, $5, 0, $4, $6 FROM "
	"(SELECT max(seq) AS top, count(CASE WHEN seen_token <> $4 OR status = 'running' THEN 1 END) AS open "
	"FROM workflow_step WHERE run_id = $1 AND kind = $2 AND name = $3) AS s "
	"WHERE s.open = 0 AND (SELECT memo_rows FROM workflow_run WHERE id = $1) < $7 RETURNING " STEP_COLS,
	NULL,
};
/* After q_step_fresh inserted, which checked the limit under the job's
 * lock: counted without waiting for the answer. */
static const db_sql q_memo_add = {
	"workflow_memo_add", "UPDATE workflow_run SET memo_rows = memo_rows + 1 WHERE id = $1", NULL,
};

static int step_query(store_conn *c, const db_sql *q, const weft_id *run, workflow_step_kind kind, const char *name,
                      int64_t token, const char *status, int64_t now, workflow_step_row *out)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, workflow_step_kind_name(kind));
	db_bind_text(st, name);
	db_bind_int(st, token);
	if (status != NULL) {
		db_bind_text(st, status);
		db_bind_int(st, now);
	}
	return first_row(st, &step_kind, out);
}

int store_workflow_step_reach(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                              int64_t token, const char *fresh_status, int64_t now, int64_t max_rows,
                              workflow_step_row *out, bool *fresh)
{
	memset(out, 0, sizeof *out);
	*fresh = false;
	db_stmt *st;
	int err = db_prepare(c, &q_step_fresh, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, workflow_step_kind_name(kind));
	db_bind_text(st, name);
	db_bind_int(st, token);
	db_bind_text(st, fresh_status);
	db_bind_int(st, now);
	db_bind_int(st, max_rows);
	err = first_row(st, &step_kind, out);
	if (err == 0) {
		if ((err = db_prepare(c, &q_memo_add, &st)) != 0)
			return err;
		db_bind_id(st, run);
		*fresh = true;
		return db_send(st, NULL);
	}
	if (err != WEFT_ENOTFOUND)
		return err;
	err = step_query(c, &q_step_repeated, run, kind, name, token, NULL, now, out);
	if (err != WEFT_ENOTFOUND)
		return err;
	err = step_query(c, &q_step_reach, run, kind, name, token, NULL, now, out);
	if (err != WEFT_ENOTFOUND)
		return err;
	/* A new row: counted on the run, which bounds them. */
	int64_t changes = 0;
	if ((err = db_prepare(c, &q_memo_count, &st)) != 0)
		return err;
	db_bind_id(st, run);
	db_bind_int(st, max_rows);
	if ((err = db_run(st, &changes)) != 0)
		return err;
	if (changes == 0)
		return WEFT_ETOOLARGE;
	err = step_query(c, &q_step_append, run, kind, name, token, fresh_status, now, out);
	*fresh = err == 0;
	return err;
}

static const db_sql q_steps_reopen = {
	"workflow_steps_reopen",
	"UPDATE workflow_step SET status = 'retrying', attempts = 0, next_attempt_at = NULL, ended_at = NULL "
	"WHERE run_id = $1 AND status = 'failed'",
	NULL,
};

int store_workflow_steps_reopen(store_conn *c, const weft_id *run)
{
	db_stmt *st;
	int err = db_prepare(c, &q_steps_reopen, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	return db_run(st, NULL);
}

static const db_sql q_step_get = {
	"workflow_step_get",
	"SELECT " STEP_COLS " FROM workflow_step WHERE run_id = $1 AND kind = $2 AND name = $3 AND seq = $4",
	NULL,
};

int store_workflow_step_get(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                            int64_t seq, workflow_step_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_step_get, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, workflow_step_kind_name(kind));
	db_bind_text(st, name);
	db_bind_int(st, seq);
	return first_row(st, &step_kind, out);
}

/* The memo in the order it was written: rows are only appended (a new
 * row starts after every row before it), so an offset names a position
 * that later rows never move. */
static const db_sql q_step_list = {
	"workflow_step_list",
	"SELECT " STEP_COLS " FROM workflow_step WHERE run_id = $1 "
	"ORDER BY started_at, kind, name, seq LIMIT $2 OFFSET $3",
	NULL,
};

int store_workflow_step_list(store_conn *c, const weft_id *run, int64_t offset, size_t limit,
                             workflow_step_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_step_list, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_int(st, (int64_t)limit);
	db_bind_int(st, offset);
	void *rows = NULL;
	err = db_collect(st, &step_kind, &rows, n);
	*out = rows;
	return err;
}

void store_free_workflow_steps(workflow_step_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		workflow_step_row_release(&rows[i]);
	free(rows);
}

static const db_sql q_step_change = {
	"workflow_step_change",
	"UPDATE workflow_step SET status = $6, output = $7, error_code = $8, error_message = $9, "
	"attempts = attempts + $10, next_attempt_at = $11, ended_at = $12 "
	"WHERE run_id = $1 AND kind = $2 AND name = $3 AND seq = $4 AND status = $5 "
	"AND ($13 = 0 OR seen_token = $13) RETURNING " STEP_COLS,
	NULL,
};

int store_workflow_step_change(store_conn *c, const weft_id *run, workflow_step_kind kind, const char *name,
                               int64_t seq, const workflow_step_change *ch, workflow_step_row *out,
                               bool *changed)
{
	*changed = false;
	if (out != NULL)
		memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_step_change, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, workflow_step_kind_name(kind));
	db_bind_text(st, name);
	db_bind_int(st, seq);
	db_bind_text(st, ch->from);
	db_bind_text(st, ch->to);
	db_bind_text(st, ch->output);
	db_bind_text(st, ch->error_code);
	db_bind_text(st, ch->error_message);
	db_bind_int(st, ch->attempts_add);
	db_bind_int_or_null(st, ch->next_attempt_at);
	db_bind_int_or_null(st, ch->ended_at);
	db_bind_int(st, ch->seen_token);
	workflow_step_row row;
	err = first_row(st, &step_kind, &row);
	*changed = err == 0;
	if (err == 0 && out != NULL)
		*out = row;
	else if (err == 0)
		workflow_step_row_release(&row);
	return err == WEFT_ENOTFOUND ? 0 : err;
}

/* ---- signals ----------------------------------------------------------------------------- */

static const db_sql q_signal_insert = {
	"workflow_signal_insert",
	"INSERT INTO workflow_signal (run_id, name, payload, sent_at) VALUES ($1, $2, $3, $4) RETURNING id",
	NULL,
};
static const db_sql q_signal_take = {
	"workflow_signal_take",
	"UPDATE workflow_signal SET consumed_at = $4, consumed_seq = $3 WHERE id = "
	"(SELECT min(id) FROM workflow_signal WHERE run_id = $1 AND name = $2 AND consumed_at IS NULL) "
	"RETURNING payload",
	NULL,
};

int store_workflow_signal_insert(store_conn *c, const weft_id *run, const char *name, const char *payload,
                                 int64_t now, int64_t *id)
{
	*id = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_signal_insert, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, name);
	db_bind_text(st, payload);
	db_bind_int(st, now);
	int rc = db_step(st);
	if (rc > 0) {
		*id = db_col_int(st, 0);
		rc = db_step(st);
	}
	err = db_end(st, rc);
	return err == 0 && *id == 0 ? WEFT_ESTORE : err;
}

static const db_sql q_signals_pending = {
	"workflow_signals_pending",
	"SELECT count(*) FROM workflow_signal WHERE run_id = $1 AND consumed_at IS NULL",
	NULL,
};

int store_workflow_signals_pending(store_conn *c, const weft_id *run, int64_t *n)
{
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_signals_pending, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	int rc = db_step(st);
	if (rc > 0) {
		*n = db_col_int(st, 0);
		rc = db_step(st);
	}
	return db_end(st, rc);
}

int store_workflow_signal_take(store_conn *c, const weft_id *run, const char *name, int64_t seq, int64_t now,
                               bool *found, char **payload)
{
	*found = false;
	*payload = NULL;
	db_stmt *st;
	int err = db_prepare(c, &q_signal_take, &st);
	if (err)
		return err;
	db_bind_id(st, run);
	db_bind_text(st, name);
	db_bind_int(st, seq);
	db_bind_int(st, now);
	int rc = db_step(st);
	if (rc > 0) {
		*found = true;
		*payload = db_col_str(st, 0);
		rc = db_step(st);
	}
	return db_end(st, rc);
}
