/*
 * tasks.c — a submission's rows (batch, tasks, links, actions), a task by
 * id with its actions, and the guarded task update.
 *
 * Inserts carry their COPY form: a driver may collect a transaction's rows
 * and send one COPY per table (pg/pg.h); otherwise each row is one prepared
 * INSERT.
 *
 * The guarded update, written once here: read the task's status (locking
 * the row where other nodes write), and when it is one of the allowed
 * ones, one UPDATE guarded on exactly that status (returning the row when
 * the caller wants it), then the audit event of a status change and the
 * batch counter. The statement is built per shape (the set of fields
 * given) and prepared once per shape. A driver may replace the whole by a
 * strategy of its own (pg/pg.h: one statement for the three steps), built
 * from the same SET list and bindings (task_update_sets, task_update_bind).
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/clock.h"

/* ---- inserts ---------------------------------------------------------------------- */

#define BATCH_INSERT_COLS "id, created_at, scope, metadata, on_complete"
#define LINK_INSERT_COLS "parent_id, child_id, requires_success"
#define ACTION_INSERT_COLS "task_id, trigger, condition, params"

static const db_sql q_batch_insert = {
	"batch_insert", "INSERT INTO batch (" BATCH_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5)",
	"COPY batch (" BATCH_INSERT_COLS ") FROM STDIN",
};
static const db_sql q_task_insert = {
	"task_insert",
	"INSERT INTO task (" TASK_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
	"COPY task (" TASK_COLS ") FROM STDIN",
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
	return db_send(st, NULL);
}

int store_task_insert(store_conn *c, const task_row *t)
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
	return db_send(st, NULL);
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

static const db_sql q_actions_for = {
	"task_actions_for",
	"SELECT id, trigger, condition, params FROM action "
	"WHERE task_id = $1 AND trigger = $2 AND condition = $3 ORDER BY id",
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

/* Rows of (id, trigger, condition, params[, delivery record]). */
static int collect_actions(db_stmt *st, bool with_delivery, action_row **out, size_t *n)
{
	action_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		rows = db_grow(rows, len, &cap, sizeof *rows);
		action_row *a = &rows[len++];
		memset(a, 0, sizeof *a);
		if (action_trigger_parse(db_col_text(st, 1), &a->trigger) != 0 ||
		    action_condition_parse(db_col_text(st, 2), &a->condition) != 0) {
			rc = WEFT_ESTORE;
			break;
		}
		a->id = db_col_int(st, 0);
		a->params = db_col_str_nn(st, 3, "{}");
		if (with_delivery && (rc = read_delivery(st, a)) != 0)
			break;
	}
	int err = db_end(st, rc);
	if (err) {
		store_free_actions(rows, len);
		rows = NULL;
		len = 0;
	}
	*out = rows;
	*n = len;
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
	return collect_actions(st, true, out, n);
}

int store_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig, action_condition cond,
                           action_row **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	int err = db_prepare(c, &q_actions_for, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	db_bind_text(st, action_trigger_name(trig));
	db_bind_text(st, action_condition_name(cond));
	return collect_actions(st, false, out, n);
}

/* ---- the guarded update ------------------------------------------------------------- */

const task_update_column task_update_columns[TU__COUNT] = {
	[TU_STATUS] = { "status", false },
	[TU_SUCCESS] = { "success", true },
	[TU_FAILURES] = { "failures", true },
	[TU_METADATA] = { "metadata", false },
	[TU_REASON] = { "failure_reason", false },
	[TU_RULES] = { "rules", false },
	[TU_EXPECTED] = { "expected_count", false },
	[TU_PRIORITY] = { "priority", false },
	[TU_STARTED] = { "started_at", false },
	[TU_ENDED] = { "ended_at", false },
	[TU_UPDATED] = { "last_updated", false },
	[TU_ATTEMPT] = { "attempt", false },
	[TU_NEXT_RETRY] = { "next_retry_at", false },
};

unsigned task_update_shape(const task_update *u)
{
	unsigned shape = 0;
	shape |= (unsigned)u->set_status << TU_STATUS;
	shape |= (unsigned)(u->add_success != 0) << TU_SUCCESS;
	shape |= (unsigned)(u->add_failures != 0) << TU_FAILURES;
	shape |= (unsigned)(u->metadata != NULL) << TU_METADATA;
	shape |= (unsigned)(u->failure_reason != NULL) << TU_REASON;
	shape |= (unsigned)(u->rules != NULL) << TU_RULES;
	shape |= (unsigned)u->set_expected_count << TU_EXPECTED;
	shape |= (unsigned)u->set_priority << TU_PRIORITY;
	shape |= (unsigned)(u->started_at != 0) << TU_STARTED;
	shape |= (unsigned)(u->ended_at != 0) << TU_ENDED;
	shape |= (unsigned)(u->last_updated != 0) << TU_UPDATED;
	shape |= (unsigned)u->set_attempt << TU_ATTEMPT;
	shape |= (unsigned)(u->next_retry_at != 0) << TU_NEXT_RETRY;
	return shape;
}

void task_update_sets(buf *sql, unsigned shape, int first)
{
	const char *sep = "";
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (!(shape & (1u << f)))
			continue;
		const task_update_column *col = &task_update_columns[f];
		if (col->add)
			buf_printf(sql, "%s%s = %s + $%d", sep, col->name, col->name, first++);
		else
			buf_printf(sql, "%s%s = $%d", sep, col->name, first++);
		sep = ", ";
	}
}

void task_update_bind(db_stmt *st, const task_update *u, unsigned shape)
{
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (!(shape & (1u << f)))
			continue;
		switch (f) {
		case TU_STATUS: db_bind_text(st, task_status_name(u->status)); break;
		case TU_SUCCESS: db_bind_int(st, u->add_success); break;
		case TU_FAILURES: db_bind_int(st, u->add_failures); break;
		case TU_METADATA: db_bind_text(st, u->metadata); break;
		case TU_REASON: db_bind_text(st, u->failure_reason); break;
		case TU_RULES: db_bind_text(st, u->rules); break;
		case TU_EXPECTED: db_bind_int(st, u->expected_count); break;
		case TU_PRIORITY: db_bind_int(st, u->priority); break;
		case TU_STARTED: db_bind_int(st, u->started_at); break;
		case TU_ENDED: db_bind_int(st, u->ended_at); break;
		case TU_UPDATED: db_bind_int(st, u->last_updated); break;
		case TU_ATTEMPT: db_bind_int(st, u->attempt); break;
		case TU_NEXT_RETRY: db_bind_int(st, u->next_retry_at); break;
		default: break;
		}
	}
}

int64_t task_update_time(const task_update *u)
{
	if (u->last_updated != 0)
		return u->last_updated;
	if (u->ended_at != 0)
		return u->ended_at;
	if (u->started_at != 0)
		return u->started_at;
	return clock_now_us();
}

const char *task_update_reason(const task_update *u) { return u->reason ? u->reason : u->failure_reason; }
const char *task_update_actor(const task_update *u) { return u->actor ? u->actor : "api"; }

/* The shape bit asking for the updated row back. */
#define TU_RETURNING TU__COUNT

/* UPDATE ... WHERE id = $n AND status = $n+1 [RETURNING the row]. */
static void build_update(buf *sql, unsigned shape)
{
	int nfields = __builtin_popcount(shape & ((1u << TU__COUNT) - 1));
	buf_puts(sql, "UPDATE task SET ");
	task_update_sets(sql, shape, 1);
	buf_printf(sql, " WHERE id = $%d AND status = $%d", nfields + 1, nfields + 2);
	if (shape & (1u << TU_RETURNING))
		buf_puts(sql, " RETURNING " TASK_COLS);
}

static const db_dyn dyn_update = { "task_update", build_update };

static const db_sql q_task_status = {
	"task_status", "SELECT status, batch_id FROM task WHERE id = $1{lock}", NULL,
};

/* The status and batch of a task (its row locked where that matters). */
static int read_status(store_conn *c, const weft_id *id, task_status *cur, weft_id *batch)
{
	db_stmt *st;
	int err = db_prepare(c, &q_task_status, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	int rc = db_step(st);
	bool found = rc > 0;
	if (found) {
		rc = db_col_status(st, 0, cur);
		db_col_id(st, 1, batch);
	}
	err = db_end(st, rc);
	return err ? err : found ? 0 : WEFT_ENOTFOUND;
}

/* The guarded UPDATE; *applied false when the status had moved on. */
static int write_update(store_conn *c, const weft_id *id, task_status cur, const task_update *u, unsigned shape,
                        bool *applied)
{
	db_stmt *st;
	bool returning = u->after != NULL;
	int err = db_prepare_dyn(c, &dyn_update, shape | (unsigned)returning << TU_RETURNING, &st);
	if (err)
		return err;
	task_update_bind(st, u, shape);
	db_bind_id(st, id);
	db_bind_text(st, task_status_name(cur));
	if (!returning) {
		int64_t changes;
		err = db_run(st, &changes);
		*applied = changes == 1;
		return err;
	}
	int rc = db_step(st);
	*applied = rc > 0;
	if (rc > 0 && (rc = db_read_task(st, 0, u->after)) != 0)
		task_row_release(u->after);
	return db_end(st, rc);
}

int store_task_update(store_conn *c, const weft_id *id, unsigned from_mask, const task_update *u,
                      task_update_result *res)
{
	*res = (task_update_result){ .applied = false, .prev = TS_WAITING };
	if (u->after != NULL)
		memset(u->after, 0, sizeof *u->after);
	if (c->drv->task_update != NULL)
		return c->drv->task_update(c, id, from_mask, u, res);

	task_status cur;
	weft_id batch = { 0 };
	int err = read_status(c, id, &cur, &batch);
	if (err)
		return err;
	res->prev = cur;
	if (!(from_mask & TS_BIT(cur)))
		return 0;
	unsigned shape = task_update_shape(u);
	if (shape == 0) {
		/* Nothing to write: the guard, and the row as it is. */
		res->applied = true;
		if (u->after == NULL)
			return 0;
		err = store_task_get(c, id, u->after);
		return err == WEFT_ENOTFOUND ? WEFT_ESTORE : err;
	}
	bool applied = false;
	if ((err = write_update(c, id, cur, u, shape, &applied)) != 0 || !applied)
		return err;
	res->applied = true;
	if (u->set_status && u->status != cur) {
		err = event_add(c, id, task_update_time(u), &cur, u->status, task_update_reason(u),
		                task_update_actor(u));
		if (!err)
			err = batch_remaining_move(c, &batch, cur, u->status);
	}
	return err;
}
