/*
 * events.c — the audit trail: one task_event row per status change,
 * written in the transaction of the change (a set of them by one
 * statement; the releases and the batch cancel write theirs with a
 * statement of their own), and a task's trail read back.
 *
 * The creation entry is not stored: a 100,000-task submission would write
 * 100,000 more rows. It is made when the trail is read, from the task's
 * created_at (live or archived) and the status its first recorded
 * transition left.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

static const db_sql q_event_rows = {
	"event_insert",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT e.id, e.at, e.from_status, e.to_status, e.reason, e.actor "
	"FROM {rows:$1,id text,at bigint,from_status text,to_status text,reason text,actor text} AS e",
	NULL,
};

void event_row(db_set *s, const weft_id *task, int64_t at, const char *from, const char *to, const char *reason,
               const char *actor)
{
	db_set_row(s);
	db_set_field_text(s, "id", task->str);
	db_set_field_int(s, "at", at);
	db_set_field_text(s, "from_status", from);
	db_set_field_text(s, "to_status", to);
	db_set_field_text(s, "reason", reason);
	db_set_field_text(s, "actor", actor);
}

int event_add_rows(store_conn *c, db_set *rows)
{
	db_stmt *st;
	int err = db_prepare(c, &q_event_rows, &st);
	if (err)
		return err;
	db_bind_set(st, rows);
	return db_send(st, NULL);
}

/* One statement, one snapshot: the first row (part 0) is the task's
 * created_at and status, live or archived; the recorded transitions follow
 * in insertion order. No part 0 row: the task exists nowhere. */
static const db_sql q_task_events = {
	"task_events",
	"SELECT 0 AS part, h.created_at AS at, NULL AS from_status, h.status AS to_status, "
	"NULL AS reason, NULL AS actor, 0 AS seq FROM "
	"(SELECT created_at, status FROM task WHERE id = $1 "
	" UNION ALL SELECT created_at, status FROM task_archive WHERE id = $1 LIMIT 1) AS h "
	"UNION ALL SELECT 1, e.at, e.from_status, e.to_status, e.reason, e.actor, e.id "
	"FROM task_event AS e WHERE e.task_id = $1 "
	"ORDER BY part, seq",
	NULL,
};

static int read_event(db_stmt *st, task_event *e)
{
	e->at = db_col_int(st, 1);
	e->has_from = !db_col_null(st, 2);
	if ((e->has_from && db_col_status(st, 2, &e->from) != 0) || db_col_status(st, 3, &e->to) != 0)
		return WEFT_ESTORE;
	e->reason = db_col_str(st, 4);
	e->actor = db_col_str_nn(st, 5, "system");
	return 0;
}

int store_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	int err = db_prepare(c, &q_task_events, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	task_event *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (len == 0 && db_col_int(st, 0) != 0)
			break;          /* transitions of a task that exists nowhere */
		rows = db_grow(rows, len, &cap, sizeof *rows);
		task_event *e = &rows[len++];
		memset(e, 0, sizeof *e);
		if (len == 1) {
			e->at = db_col_int(st, 1);
			e->reason = xstrdup("created");
			e->actor = xstrdup("api");
			rc = db_col_status(st, 3, &e->to);
		} else {
			rc = read_event(st, e);
		}
		if (rc != 0)
			break;
	}
	err = db_end(st, rc);
	if (!err && len == 0)
		err = WEFT_ENOTFOUND;
	if (err) {
		store_free_events(rows, len);
		return err;
	}
	/* The creation entry shows the status the task was created in: the
	 * one its first transition left. */
	if (len > 1 && rows[1].has_from)
		rows[0].to = rows[1].from;
	*out = rows;
	*n = len;
	return 0;
}
