/*
 * decisions.c — what a decision task's success reads and writes: its
 * result and its children (by ref), the mark of a result that is no
 * decision, and the skip cascade.
 *
 * The skip cascade is the failure cascade's counterpart (dag.c): from the
 * children a decision did not choose, one recursive query finds every
 * waiting or paused task below them, and among those the ones still live
 * (a parent outside the dead part that is not skipped, or a live parent):
 * the others are skipped, whatever the depth, in a constant number of
 * statements. A live task stays waiting: its release (dag.c) counts a
 * skipped parent as a successful one.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

/* ---- a decision's result and children ------------------------------------------------ */

static const db_sql q_decision_result = {
	"decision_result", "SELECT result FROM task WHERE id = $1", NULL,
};
static const db_sql q_decision_children = {
	"decision_children",
	"SELECT c.id, c.ref, c.status FROM link AS l JOIN task AS c ON c.id = l.child_id "
	"WHERE l.parent_id = $1 ORDER BY c.id",
	NULL,
};

void decision_children_free(decision_child *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].ref);
	free(v);
}

int store_decision_read(store_conn *c, const weft_id *id, char **result, decision_child **children, size_t *n)
{
	*result = NULL;
	*children = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_decision_result, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	int rc = db_step(st);
	if (rc > 0)
		*result = db_col_str(st, 0);
	if ((err = db_end(st, rc)) != 0 || (err = db_prepare(c, &q_decision_children, &st)) != 0) {
		free(*result);
		*result = NULL;
		return err;
	}
	db_bind_id(st, id);
	decision_child *v = NULL;
	size_t len = 0, cap = 0;
	while ((rc = db_step(st)) > 0) {
		v = db_grow(v, len, &cap, sizeof *v);
		decision_child *ch = &v[len++];
		db_col_id(st, 0, &ch->id);
		ch->ref = db_col_str(st, 1);
		if ((rc = db_col_status(st, 2, &ch->status)) != 0)
			break;
	}
	if ((err = db_end(st, rc)) != 0) {
		decision_children_free(v, len);
		free(*result);
		*result = NULL;
		return err;
	}
	*children = v;
	*n = len;
	return 0;
}

static const db_sql q_decision_invalid = {
	"decision_invalid", "UPDATE task SET error_code = 'invalid_decision' WHERE id = $1", NULL,
};

int store_decision_mark_invalid(store_conn *c, const weft_id *id)
{
	db_stmt *st;
	int err = db_prepare(c, &q_decision_invalid, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	return db_send(st, NULL);
}

/* ---- the skip cascade ------------------------------------------------------------------ */

/* r: the seeds ($1) still waiting or paused, and every waiting or paused
 * task below them. live: the tasks of r (seeds excepted) with a parent
 * outside r that is not skipped — it ran, runs or may run, so they may
 * too — and, from them, their children in r. What r holds beyond live is
 * skipped. As in the failure cascade, a child's status is read by its id
 * in a subquery, so that a deep chain is not a walk over every waiting
 * task at each level; membership in r and live is tested by EXISTS,
 * which both planners turn into a hashed (anti-)join whatever r's size. */
static const db_sql q_skip_pick = {
	"skip_children",
	"WITH RECURSIVE r(id) AS ("
	"  SELECT t.id FROM task AS t WHERE {in:t.id,$1} AND {noindex:t.status} IN ('waiting', 'paused') "
	"  UNION "
	"  SELECT l.child_id FROM r JOIN link AS l ON l.parent_id = r.id "
	"  WHERE (SELECT c.status FROM task AS c WHERE c.id = l.child_id) IN ('waiting', 'paused')), "
	"live(id) AS ("
	"  SELECT l.child_id FROM r JOIN link AS l ON l.child_id = r.id JOIN task AS p ON p.id = l.parent_id "
	"  WHERE p.status <> 'skipped' AND NOT EXISTS (SELECT 1 FROM r AS r2 WHERE r2.id = l.parent_id) "
	"  AND NOT {in:l.child_id,$1} "
	"  UNION "
	"  SELECT l.child_id FROM live JOIN link AS l ON l.parent_id = live.id "
	"  WHERE EXISTS (SELECT 1 FROM r AS r2 WHERE r2.id = l.child_id) AND NOT {in:l.child_id,$1}) "
	"SELECT " TASK_COLS_OF("t.") " FROM r JOIN task AS t ON t.id = r.id "
	"WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.id = t.id) "
	"AND {noindex:t.status} IN ('waiting', 'paused'){lock_in_order_of:t.id,t}",
	NULL,
};
static const db_sql q_skip = {
	"skip_children_update",
	"UPDATE task SET status = 'skipped', ended_at = $2 "
	"FROM {rows:$1,id text} AS r WHERE task.id = r.id AND {noindex:task.status} IN ('waiting', 'paused') "
	"AND {plan_ids:task.id,SELECT r2.id FROM {rows:$1,id text} AS r2}",
	NULL,
};

static int skip_pick(store_conn *c, const weft_id *seeds, size_t n, task_row **rows, size_t *len)
{
	db_stmt *st;
	int err = db_prepare(c, &q_skip_pick, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, seeds, n);
	db_bind_set(st, &set);
	err = db_collect_tasks(st, rows, len);
	db_set_release(&set);
	return err;
}

/* The decision that did not choose seed id, or NULL when it is no seed. */
static const weft_id *decided_by(const weft_id *seeds, const weft_id *deciders, size_t n, const weft_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(&seeds[i], id))
			return &deciders[i];
	return NULL;
}

int store_skip_cascade(store_conn *c, const weft_id *seeds, const weft_id *deciders, size_t n, int64_t now,
                       task_row **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	task_row *rows = NULL;
	size_t len = 0;
	int err = skip_pick(c, seeds, n, &rows, &len);
	db_set upd, events;
	db_set_init(&upd);
	db_set_init(&events);
	for (size_t i = 0; i < len && !err; i++) {
		task_row *t = &rows[i];
		char reason[96];
		const weft_id *by = decided_by(seeds, deciders, n, &t->id);
		if (by != NULL)
			snprintf(reason, sizeof reason, "Not chosen by decision task %s", by->str);
		else
			snprintf(reason, sizeof reason, "Every parent task skipped");
		db_set_row(&upd);
		db_set_field_text(&upd, "id", t->id.str);
		event_row(&events, &t->id, now, task_status_name(t->status), "skipped", reason, "system");
		task_changed_note(c, &t->id, TS_SKIPPED);
		err = batch_remaining_move(c, &t->batch_id, t->status, TS_SKIPPED);
		t->status = TS_SKIPPED;    /* the row as the update leaves it */
		t->ended_at = now;
	}
	db_stmt *st;
	if (!err && len > 0 && (err = event_add_rows(c, &events)) == 0 && (err = db_prepare(c, &q_skip, &st)) == 0) {
		db_bind_set(st, &upd);
		db_bind_int(st, now);
		err = db_send(st, NULL);
	}
	db_set_release(&upd);
	db_set_release(&events);
	if (err) {
		store_free_tasks(rows, len);
		return err;
	}
	*out = rows;
	*nout = len;
	return 0;
}
