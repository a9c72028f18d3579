/*
 * dag.c — DAG propagation and the DAG read: the cascade of a parent's
 * failure to its required children, the release of children whose parents
 * resolved, the parents left without an active child (dead ends), and a
 * batch's tasks with the links between them.
 *
 * Each propagation step is a constant number of set-based statements
 * whatever the fan-out: a parent with 100,000 children is a few
 * statements, not 100,000 round trips. The children are locked in id order
 * (where other nodes write), so that cascades over shared children wait for
 * each other instead of deadlocking, and their audit events are written by
 * one INSERT ... SELECT.
 *
 * Children are reached as "id in (the parent's child ids)" ({in_query}),
 * or through the link join with that as a plan hint only ({plan_ids}: the
 * join already says it, and SQLite needs no telling): with statistics
 * missing or stale (a batch is often submitted and cascaded before
 * anything was analyzed) a planner may otherwise scan every waiting task
 * for each child. Status tests are written {noindex} where the ids drive
 * the plan.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/clock.h"

#define ACTIVE_IN "('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying')"
#define REQUIRED_CHILDREN "SELECT child_id FROM link WHERE parent_id = $1 AND requires_success <> 0"

/* The events first: they lock the children and read the status each
 * leaves. */
static const db_sql q_fail_events = {
	"fail_children_events",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT id, CAST($3 AS BIGINT), status, 'failure', CAST($2 AS TEXT), 'system' FROM task "
	"WHERE {in_query:id," REQUIRED_CHILDREN "} AND {noindex:status} IN ('waiting', 'paused') "
	"{lock_in_order:id}",
	NULL,
};
static const db_sql q_fail = {
	"fail_children",
	"UPDATE task SET status = 'failure', failure_reason = $2, ended_at = $3 "
	"WHERE {in_query:id," REQUIRED_CHILDREN "} AND {noindex:status} IN ('waiting', 'paused') "
	"RETURNING id, batch_id",
	NULL,
};

int store_fail_required_children(store_conn *c, const weft_id *parent, const char *reason, int64_t now,
                                 weft_id **changed, size_t *n)
{
	db_stmt *st;
	*changed = NULL;
	*n = 0;
	int64_t events = 0;
	int err = db_prepare(c, &q_fail_events, &st);
	if (err)
		return err;
	db_bind_id(st, parent);
	db_bind_text(st, reason);
	db_bind_int(st, now);
	if ((err = db_send(st, &events)) != 0 || events == 0)
		return err;     /* nothing to fail (known when the events were waited for) */
	if ((err = db_prepare(c, &q_fail, &st)) != 0)
		return err;
	db_bind_id(st, parent);
	db_bind_text(st, reason);
	db_bind_ts(st, now);
	/* The counters move once the statement is done: outside a
	 * transaction each change is written at once. */
	weft_id *ids = NULL, *batches = NULL;
	size_t len = 0, cap = 0, bcap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		ids = db_grow(ids, len, &cap, sizeof *ids);
		batches = db_grow(batches, len, &bcap, sizeof *batches);
		db_col_id(st, 0, &ids[len]);
		db_col_id(st, 1, &batches[len++]);
	}
	err = db_end(st, rc);
	for (size_t i = 0; i < len && !err; i++)
		err = batch_remaining_add(c, &batches[i], -1);
	free(batches);
	if (err) {
		free(ids);
		return err;
	}
	*changed = ids;
	*n = len;
	return 0;
}

/* One pass: SET expressions see the old values, so the new counters are
 * recomputed in the status test, and only waiting or paused children are
 * touched: a 'pending' returned is a task that has just become ready (a
 * paused one stays paused). $2: the parent succeeded (1) or not (0). */
static const db_sql q_release = {
	"release_children",
	"UPDATE task SET wait_finished = task.wait_finished - 1, wait_success = task.wait_success - ch.s, "
	"status = CASE WHEN task.status = 'waiting' AND task.wait_finished - 1 <= 0 "
	"  AND task.wait_success - ch.s <= 0 THEN 'pending' ELSE task.status END "
	"FROM (SELECT t.id, CASE WHEN $2 <> 0 AND l.requires_success <> 0 THEN 1 ELSE 0 END AS s "
	"  FROM task AS t JOIN link AS l ON l.parent_id = $1 AND l.child_id = t.id "
	"  WHERE {plan_ids:t.id,SELECT child_id FROM link WHERE parent_id = $1} "
	"  AND {noindex:t.status} IN ('waiting', 'paused') {lock_in_order_of:t.id,t}) AS ch "
	"WHERE task.id = ch.id AND {noindex:task.status} IN ('waiting', 'paused') "
	"RETURNING task.id, CASE WHEN task.status = 'pending' THEN 1 ELSE 0 END",
	NULL,
};
static const db_sql q_release_events = {
	"release_children_events",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT value, CAST($2 AS BIGINT), 'waiting', 'pending', 'dependencies resolved', 'system' "
	"FROM {each:$1} AS e",
	NULL,
};

int store_release_children(store_conn *c, const weft_id *parent, bool parent_succeeded, weft_id **became_pending,
                           size_t *n)
{
	db_stmt *st;
	*became_pending = NULL;
	*n = 0;
	int err = db_prepare(c, &q_release, &st);
	if (err)
		return err;
	db_bind_id(st, parent);
	db_bind_bool(st, parent_succeeded);
	weft_id *ids = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (db_col_int(st, 1) == 0)
			continue;
		ids = db_grow(ids, len, &cap, sizeof *ids);
		db_col_id(st, 0, &ids[len++]);
	}
	err = db_end(st, rc);
	if (!err && len > 0 && (err = db_prepare(c, &q_release_events, &st)) == 0) {
		db_set set;
		db_set_init(&set);
		db_set_ids(&set, ids, len);
		db_bind_set(st, &set);
		db_bind_int(st, clock_now_us());
		err = db_send(st, NULL);
		db_set_release(&set);
	}
	if (err) {
		free(ids);
		return err;
	}
	*became_pending = ids;
	*n = len;
	return 0;
}

/* Distinct parents first, so each is checked once however many of its
 * children are in the list. */
static const db_sql q_dead_end = {
	"dead_end_parents",
	"SELECT p.id FROM task AS p "
	"WHERE {in_query:p.id,SELECT DISTINCT l.parent_id FROM link AS l WHERE {in:l.child_id,$1}} "
	"AND {noindex:p.status} IN " ACTIVE_IN " "
	"AND NOT EXISTS (SELECT 1 FROM task AS c "
	"  WHERE {in_query:c.id,SELECT l2.child_id FROM link AS l2 WHERE l2.parent_id = p.id} "
	"  AND {noindex:c.status} IN " ACTIVE_IN ")",
	NULL,
};

int store_dead_end_parents(store_conn *c, const weft_id *tasks, size_t ntasks, weft_id **parents, size_t *n)
{
	db_stmt *st;
	*parents = NULL;
	*n = 0;
	if (ntasks == 0)
		return 0;
	int err = db_prepare(c, &q_dead_end, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, tasks, ntasks);
	db_bind_set(st, &set);
	err = db_collect_ids(st, parents, n);
	db_set_release(&set);
	return err;
}

/* Tasks and links in one statement (one snapshot): the task rows (part 0,
 * created_at, id) carry the task columns, then the link rows (part 1) only
 * the last three: the links whose both ends are tasks of the batch. */
#define TASK_NULLS                                                                               \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
_Static_assert(TASK_NCOLS == 26, "TASK_NULLS has one NULL per task column");

static const db_sql q_dag = {
	"dag",
	"SELECT 0 AS part, " TASK_COLS ", NULL AS parent_id, NULL AS child_id, NULL AS requires_success "
	"FROM task WHERE batch_id = $1 "
	"UNION ALL SELECT 1, " TASK_NULLS ", l.parent_id, l.child_id, l.requires_success "
	"FROM link AS l JOIN task AS p ON p.id = l.parent_id JOIN task AS ch ON ch.id = l.child_id "
	"WHERE p.batch_id = $1 AND ch.batch_id = $1 "
	"ORDER BY part, created_at, id, parent_id, child_id",
	NULL,
};

int store_dag(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks, link_row **links,
              size_t *nlinks)
{
	db_stmt *st;
	*tasks = NULL;
	*ntasks = 0;
	*links = NULL;
	*nlinks = 0;
	int err = db_prepare(c, &q_dag, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	task_row *tv = NULL;
	link_row *lv = NULL;
	size_t nt = 0, tcap = 0, nl = 0, lcap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (db_col_int(st, 0) == 0) {
			tv = db_grow(tv, nt, &tcap, sizeof *tv);
			if ((rc = db_read_task(st, 1, &tv[nt])) != 0)
				break;
			nt++;
			continue;
		}
		lv = db_grow(lv, nl, &lcap, sizeof *lv);
		link_row *l = &lv[nl++];
		db_col_id(st, 1 + TASK_NCOLS, &l->parent_id);
		db_col_id(st, 2 + TASK_NCOLS, &l->child_id);
		l->requires_success = db_col_int(st, 3 + TASK_NCOLS) != 0;
	}
	if ((err = db_end(st, rc)) != 0) {
		store_free_tasks(tv, nt);
		free(lv);
		return err;
	}
	*tasks = tv;
	*ntasks = nt;
	*links = lv;
	*nlinks = nl;
	return 0;
}
