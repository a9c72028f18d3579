/*
 * tasks.c — a submission's rows (batch, tasks, links, actions), and a task
 * by id with its actions; the actions of many tasks in one read.
 *
 * Inserts carry their COPY form: a driver may collect a transaction's rows
 * and send one COPY per table (pg/pg.h); otherwise each row is one prepared
 * INSERT. The guarded update is update.c's.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/clock.h"

/* ---- inserts ---------------------------------------------------------------------- */

#define BATCH_INSERT_COLS "id, created_at, scope, metadata, on_complete, namespace, name"
#define LINK_INSERT_COLS "parent_id, child_id, requires_success"
#define ACTION_INSERT_COLS "task_id, trigger, condition, params"

static const db_sql q_batch_insert = {
	"batch_insert", "INSERT INTO batch (" BATCH_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
	"COPY batch (" BATCH_INSERT_COLS ") FROM STDIN",
};
static const db_sql q_task_insert = {
	"task_insert",
	"INSERT INTO task (" TASK_COLS ", ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)",
	"COPY task (" TASK_COLS ", ref) FROM STDIN",
};
static const db_sql q_link_insert = {
	"link_insert", "INSERT INTO link (" LINK_INSERT_COLS ") VALUES ($1, $2, $3)",
	"COPY link (" LINK_INSERT_COLS ") FROM STDIN",
};
static const db_sql q_action_insert = {
	"action_insert", "INSERT INTO action (" ACTION_INSERT_COLS ") VALUES ($1, $2, $3, $4)",
	"COPY action (" ACTION_INSERT_COLS ") FROM STDIN",
};

int store_batch_insert(store_conn *c, const batch_row *b)
{
	db_stmt *st;
	int err = db_prepare(c, &q_batch_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &b->id);
	db_bind_int(st, b->created_at);
	db_bind_text(st, b->scope);
	db_bind_text(st, b->metadata);
	db_bind_text(st, b->on_complete);
	db_bind_text(st, b->namespace ? b->namespace : NAMESPACE_DEFAULT);
	db_bind_text(st, b->name);
	return db_send(st, NULL);
}

int store_task_insert(store_conn *c, const task_row *t) { return store_run_task_insert(c, t, NULL); }

int store_run_task_insert(store_conn *c, const task_row *t, const char *ref)
{
	db_stmt *st;
	int err = db_prepare(c, &q_task_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &t->id);
	db_bind_id(st, &t->batch_id);
	db_bind_text(st, t->name ? t->name : "");
	db_bind_text(st, t->kind ? t->kind : "");
	db_bind_text(st, task_status_name(t->status));
	db_bind_int(st, t->timeout_secs);
	db_bind_int(st, t->created_at);
	db_bind_ts(st, t->started_at);
	db_bind_ts(st, t->ended_at);
	db_bind_ts(st, t->last_updated);
	db_bind_text(st, t->metadata ? t->metadata : "null");
	db_bind_text(st, t->rules ? t->rules : "[]");
	db_bind_int(st, t->wait_success);
	db_bind_int(st, t->wait_finished);
	db_bind_int(st, t->success);
	db_bind_int(st, t->failures);
	db_bind_text(st, t->failure_reason);
	if (t->has_expected_count)
		db_bind_int(st, t->expected_count);
	else
		db_bind_null(st);
	db_bind_bool(st, t->dead_end_barrier);
	db_bind_int(st, t->priority);
	db_bind_int(st, t->attempt);
	db_bind_text(st, t->group_name);
	db_bind_ts(st, t->start_after);
	db_bind_text(st, t->retry_policy);
	db_bind_ts(st, t->next_retry_at);
	/* NOT NULL with a default: COPY would not apply the default. */
	db_bind_text(st, t->executor ? t->executor : "webhook");
	db_bind_text(st, t->namespace ? t->namespace : NAMESPACE_DEFAULT);
	db_bind_int(st, t->lease_token);
	db_bind_ts(st, t->lease_until);
	db_bind_text(st, t->worker_id);
	db_bind_ts(st, t->dead_at);
	db_bind_text(st, t->error_code);
	db_bind_int(st, t->retry_base);
	/* Only a job's shape is known exactly at its insert (batch.submit does
	 * not compute one yet): other tasks take every end path, and keep
	 * whether they are decisions. */
	bool job = t->executor != NULL && strcmp(t->executor, "queue") == 0;
	db_bind_int(st, job ? t->shape : TASK_SHAPE_ALL | (t->shape & TASK_SHAPE_DECISION));
	db_bind_text(st, ref);
	err = db_send(st, NULL);
	if (!err)
		task_changed_note(c, &t->id, t->status);
	return err ? err : task_count_add(c, t->status, 1);
}

int store_link_insert(store_conn *c, const link_row *l)
{
	db_stmt *st;
	int err = db_prepare(c, &q_link_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &l->parent_id);
	db_bind_id(st, &l->child_id);
	db_bind_bool(st, l->requires_success);
	return db_send(st, NULL);
}

int store_action_insert(store_conn *c, const weft_id *task_id, const action_row *a)
{
	db_stmt *st;
	int err = db_prepare(c, &q_action_insert, &st);
	if (err)
		return err;
	db_bind_id(st, task_id);
	db_bind_text(st, action_trigger_name(a->trigger));
	db_bind_text(st, action_condition_name(a->condition));
	db_bind_text(st, a->params ? a->params : "{}");
	return db_send(st, NULL);
}

/* ---- single task ------------------------------------------------------------------- */

/* The live row comes first when both tables hold the id (an archived task
 * restored by hand). Column TASK_NCOLS says which table answered. */
static const db_sql q_task_get = {
	"task_get",
	"SELECT " TASK_COLS ", 0 AS archived FROM task WHERE id = $1 "
	"UNION ALL SELECT " TASK_COLS ", 1 FROM task_archive WHERE id = $1 "
	"ORDER BY archived LIMIT 1",
	NULL,
};

int store_task_get(store_conn *c, const weft_id *id, task_row *out)
{
	db_stmt *st;
	memset(out, 0, sizeof *out);
	int err = db_prepare(c, &q_task_get, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	int rc = db_step(st);
	bool found = rc > 0;
	if (found) {
		if ((rc = db_read_task(st, 0, out)) == 0)
			out->archived = db_col_int(st, TASK_NCOLS) != 0;
		else
			task_row_release(out);
	}
	err = db_end(st, rc);
	return err ? err : found ? 0 : WEFT_ENOTFOUND;
}

/* With the delivery record: a start action shares its task's start ledger
 * row; an end or cancel action shows its newest outbox row. */
static const db_sql q_actions = {
	"task_actions",
	"SELECT a.id, a.trigger, a.condition, a.params, w.status, w.attempts, w.updated_at, "
	"w.last_http_status, w.last_error, "
	"o.status, o.attempts, o.last_http_status, o.last_error, o.last_attempt_at "
	"FROM action AS a "
	"LEFT JOIN webhook_execution AS w ON a.trigger = 'start' AND w.idempotency_key = a.task_id || ':start' "
	"LEFT JOIN outbox AS o ON a.trigger <> 'start' AND o.id = "
	"  (SELECT max(x.id) FROM outbox AS x WHERE x.task_id = a.task_id AND x.action_id = a.id) "
	"WHERE a.task_id = $1 ORDER BY a.id",
	NULL,
};

/* The actions of each query row (task, trigger, condition), in the
 * order of the queries, then of insertion; column 4 is the task. The
 * tasks' ids drive the plan: a planner guessing a set's size may
 * otherwise scan every action. */
static const db_sql q_actions_many = {
	"task_actions_for",
	"SELECT a.id, a.trigger, a.condition, a.params, a.task_id "
	"FROM {rows:$1,i bigint,task_id text,trigger text,condition text} AS q "
	"JOIN action AS a ON a.task_id = q.task_id AND a.trigger = q.trigger AND a.condition = q.condition "
	"WHERE {plan_ids:a.task_id,SELECT q2.task_id FROM {rows:$1,task_id text} AS q2} "
	"ORDER BY q.i, a.id",
	NULL,
};

/* The delivery record of a q_actions row (columns 4..13): the start
 * ledger's (4..8) for a start action, where a failed call shows as
 * retrying and one in flight as delivering; the outbox's (9..13) else. */
static int read_delivery(db_stmt *st, action_row *a)
{
	int col = a->trigger == TRIGGER_START ? 4 : 9;
	const char *s = db_col_text(st, col);
	if (s == NULL)
		return 0;
	if (a->trigger == TRIGGER_START) {
		a->delivery = strcmp(s, "success") == 0 ? DS_SUCCESS
		            : strcmp(s, "failure") == 0 ? DS_RETRYING
		                                        : DS_DELIVERING;
		a->attempts = (int32_t)db_col_int(st, 5);
		a->last_attempt_at = db_col_int(st, 6);
		a->last_http_status = (int32_t)db_col_int(st, 7);
		a->last_error = db_col_str(st, 8);
	} else {
		if (delivery_status_parse(s, &a->delivery) != 0)
			return WEFT_ESTORE;
		a->attempts = (int32_t)db_col_int(st, 10);
		a->last_http_status = (int32_t)db_col_int(st, 11);
		a->last_error = db_col_str(st, 12);
		a->last_attempt_at = db_col_int(st, 13);
	}
	a->has_delivery = true;
	return 0;
}

/* Columns (id, trigger, condition, params) of a row of actions. */
static int read_action(db_stmt *st, action_row *a)
{
	if (action_trigger_parse(db_col_text(st, 1), &a->trigger) != 0 ||
	    action_condition_parse(db_col_text(st, 2), &a->condition) != 0)
		return WEFT_ESTORE;
	a->id = db_col_int(st, 0);
	a->params = db_col_str_nn(st, 3, "{}");
	return 0;
}

/* ... then the delivery record, or the task. */
static int read_action_delivered(db_stmt *st, void *row)
{
	int rc = read_action(st, row);
	return rc ? rc : read_delivery(st, row);
}

static int read_action_of_task(db_stmt *st, void *row)
{
	action_row *a = row;
	db_col_id(st, 4, &a->task_id);
	return read_action(st, a);
}

static void release_action(void *row) { action_row_release(row); }

static int collect_actions(db_stmt *st, int (*read)(db_stmt *st, void *row), action_row **out, size_t *n)
{
	const db_row_kind kind = { sizeof(action_row), read, release_action };
	void *rows;
	int err = db_collect(st, &kind, &rows, n);
	*out = rows;
	return err;
}

int store_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	int err = db_prepare(c, &q_actions, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	return collect_actions(st, read_action_delivered, out, n);
}

static void action_query_set(db_set *rows, const action_query *q, size_t nq)
{
	db_set_init(rows);
	for (size_t i = 0; i < nq; i++) {
		db_set_row(rows);
		db_set_field_int(rows, "i", (int64_t)i);
		db_set_field_text(rows, "task_id", q[i].task_id.str);
		db_set_field_text(rows, "trigger", action_trigger_name(q[i].trigger));
		db_set_field_text(rows, "condition", action_condition_name(q[i].condition));
	}
}

int store_task_actions_many(store_conn *c, const action_query *q, size_t nq, action_row **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	if (nq == 0)
		return 0;
	int err = db_prepare(c, &q_actions_many, &st);
	if (err)
		return err;
	db_set rows;
	action_query_set(&rows, q, nq);
	db_bind_set(st, &rows);
	err = collect_actions(st, read_action_of_task, out, n);
	db_set_release(&rows);
	return err;
}

void store_task_actions_prefetch(store_conn *c, const action_query *q, size_t nq)
{
	db_stmt *st;
	if (nq == 0 || db_prepare(c, &q_actions_many, &st) != 0)
		return;
	db_set rows;
	action_query_set(&rows, q, nq);
	db_bind_set(st, &rows);
	db_prefetch(st);
	db_set_release(&rows);
}

int store_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig, action_condition cond,
                           action_row **out, size_t *n)
{
	action_query q = { .task_id = *id, .trigger = trig, .condition = cond };
	return store_task_actions_many(c, &q, 1, out, n);
}
