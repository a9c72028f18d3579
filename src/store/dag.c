/*
 * dag.c — DAG propagation and the DAG read: the failure cascade of a set of
 * failed tasks through their required links at any depth, the release of
 * the children of a set of parents that resolved, the parents left without
 * an active child (dead ends), and a batch's tasks with the links between
 * them.
 *
 * Each is a constant number of set-based statements whatever the fan-out,
 * the depth or the number of parents: a parent with 100,000 children is a
 * few statements, and so is a 10,000-deep chain failing at its root (one
 * recursive query finds every task the cascade reaches). The tasks changed
 * are locked in id order (where other nodes write), so that propagations
 * over shared children wait for each other instead of deadlocking, and
 * their audit events are written by one INSERT.
 *
 * Children are reached through the link join, with "id in (the parents'
 * child ids)" as a plan hint ({plan_ids}: the join already says it, and
 * SQLite needs no telling): with statistics missing or stale (a batch is
 * often submitted and propagated before anything was analyzed) a planner
 * may otherwise scan every waiting task for each child. Status tests are
 * written {noindex} where the ids drive the plan.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/clock.h"

#define ACTIVE_IN "('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying')"

/* ---- the failure cascade --------------------------------------------------------------- */

/* Every waiting or paused task reached from the failed ones ($1) through
 * requires_success links, at any depth, with the least of its parents
 * through which it was reached, locked in id order. The recursion starts
 * from the failed tasks' own rows (seeded as their own parents, and
 * terminal, so never picked), which also gives both columns the type and
 * collation of the ids it follows. Each step goes from the tasks found
 * to their links, and reads a child's status by its id (a subquery the
 * planner cannot turn around): joined, a planner may walk every waiting
 * task at each of a deep chain's levels. */
static const db_sql q_cascade_pick = {
	"fail_children",
	"WITH RECURSIVE f(id, parent) AS ("
	"  SELECT t.id, t.id FROM task AS t WHERE {in:t.id,$1} "
	"  UNION "
	"  SELECT l.child_id, l.parent_id FROM f JOIN link AS l ON l.parent_id = f.id "
	"  WHERE l.requires_success <> 0 "
	"  AND (SELECT c.status FROM task AS c WHERE c.id = l.child_id) IN ('waiting', 'paused')) "
	"SELECT " TASK_COLS_OF("t.") ", p.parent FROM task AS t "
	"JOIN (SELECT id, min(parent) AS parent FROM f GROUP BY id) AS p ON p.id = t.id "
	"WHERE {noindex:t.status} IN ('waiting', 'paused'){lock_in_order_of:t.id,t}",
	NULL,
};
static const db_sql q_cascade_fail = {
	"fail_children_update",
	"UPDATE task SET status = 'failure', failure_reason = r.reason, ended_at = $2 "
	"FROM {rows:$1,id text,reason text} AS r WHERE task.id = r.id AND {noindex:task.status} IN ('waiting', 'paused') "
	"AND {plan_ids:task.id,SELECT r2.id FROM {rows:$1,id text} AS r2}",
	NULL,
};

static int cascade_pick(store_conn *c, const weft_id *failed, size_t n, task_row **rows, weft_id **parents,
                        size_t *len)
{
	db_stmt *st;
	int err = db_prepare(c, &q_cascade_pick, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, failed, n);
	db_bind_set(st, &set);
	size_t cap = 0, pcap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		*rows = db_grow(*rows, *len, &cap, sizeof **rows);
		*parents = db_grow(*parents, *len, &pcap, sizeof **parents);
		if ((rc = db_read_task(st, 0, &(*rows)[*len])) != 0)
			break;
		db_col_id(st, TASK_NCOLS, &(*parents)[(*len)++]);
	}
	db_set_release(&set);
	return db_end(st, rc);
}

int store_fail_cascade(store_conn *c, const weft_id *failed, size_t n, int64_t now, task_row **out,
                       weft_id **parents, size_t *nout)
{
	task_row *rows = NULL;
	weft_id *par = NULL;
	size_t len = 0;
	*out = NULL;
	*parents = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	int err = cascade_pick(c, failed, n, &rows, &par, &len);
	db_set upd, events;
	db_set_init(&upd);
	db_set_init(&events);
	for (size_t i = 0; i < len && !err; i++) {
		task_row *t = &rows[i];
		char reason[96];
		snprintf(reason, sizeof reason, "Required parent task %s failed", par[i].str);
		db_set_row(&upd);
		db_set_field_text(&upd, "id", t->id.str);
		db_set_field_text(&upd, "reason", reason);
		event_row(&events, &t->id, now, task_status_name(t->status), "failure", reason, "system");
		task_changed_note(c, &t->id, TS_FAILURE);
		err = batch_remaining_move(c, &t->batch_id, t->status, TS_FAILURE);
		/* The row as the update leaves it. */
		t->status = TS_FAILURE;
		free(t->failure_reason);
		t->failure_reason = xstrdup(reason);
		t->ended_at = now;
	}
	db_stmt *st;
	if (!err && len > 0 && (err = event_add_rows(c, &events)) == 0 &&
	    (err = db_prepare(c, &q_cascade_fail, &st)) == 0) {
		db_bind_set(st, &upd);
		db_bind_int(st, now);
		err = db_send(st, NULL);
	}
	db_set_release(&upd);
	db_set_release(&events);
	if (err) {
		store_free_tasks(rows, len);
		free(par);
		return err;
	}
	*out = rows;
	*parents = par;
	*nout = len;
	return 0;
}

/* ---- releases ------------------------------------------------------------------------- */

/* The children of the parents ($1) still waiting or paused, locked in id
 * order where other nodes write (the update below locks in no order); one
 * row back, whatever their number. */
static const db_sql q_release_lock = {
	"release_children_lock",
	"SELECT count(*) FROM (SELECT t.id FROM task AS t "
	"WHERE {in_query:t.id,SELECT l.child_id FROM link AS l WHERE {in:l.parent_id,$1}} "
	"AND {noindex:t.status} IN ('waiting', 'paused'){lock_in_order:t.id}) AS x",
	NULL,
};
/* One pass for every parent of the set ($1; $2: those that succeeded):
 * per child, the links from those parents are counted (f) and those that
 * require success from a parent that succeeded (s). The links are found
 * through their index from the parents' ids ({in}) whatever the planner
 * guesses of a set's size, and the children by theirs from the counts
 * (a join of the children with the counts, planned for the ten rows a
 * planner guesses, compared every child with every count). SET
 * expressions see the old values, so the new counters are recomputed in
 * the status test, and only waiting or paused children are touched: a
 * 'pending' returned is a task that has just become ready (a paused one
 * stays paused). */
static const db_sql q_release = {
	"release_children",
	"UPDATE task SET wait_finished = task.wait_finished - n.f, wait_success = task.wait_success - n.s, "
	"status = CASE WHEN task.status = 'waiting' AND task.wait_finished - n.f <= 0 "
	"  AND task.wait_success - n.s <= 0 THEN 'pending' ELSE task.status END "
	"FROM (SELECT l.child_id AS id, count(*) AS f, "
	"  sum(CASE WHEN l.requires_success <> 0 AND ok.value IS NOT NULL THEN 1 ELSE 0 END) AS s "
	"  FROM link AS l LEFT JOIN {each:$2} AS ok ON ok.value = l.parent_id "
	"  WHERE {in:l.parent_id,$1} GROUP BY l.child_id) AS n "
	"WHERE task.id = n.id AND {noindex:task.status} IN ('waiting', 'paused') "
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

int store_release_children_many(store_conn *c, const parent_outcome *parents, size_t n, weft_id **became_pending,
                                size_t *np)
{
	db_stmt *st;
	*became_pending = NULL;
	*np = 0;
	if (n == 0)
		return 0;
	db_set all, ok;
	db_set_init(&all);
	db_set_init(&ok);
	for (size_t i = 0; i < n; i++) {
		db_set_id(&all, &parents[i].id);
		if (parents[i].succeeded)
			db_set_id(&ok, &parents[i].id);
	}
	int err = db_prepare(c, &q_release_lock, &st);
	if (!err) {
		db_bind_set(st, &all);
		err = db_send(st, NULL);
	}
	if (!err)
		err = db_prepare(c, &q_release, &st);
	if (err) {
		db_set_release(&all);
		db_set_release(&ok);
		return err;
	}
	db_bind_set(st, &all);
	db_bind_set(st, &ok);
	weft_id *out = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (db_col_int(st, 1) == 0)
			continue;
		out = db_grow(out, len, &cap, sizeof *out);
		db_col_id(st, 0, &out[len++]);
		task_changed_note(c, &out[len - 1], TS_PENDING);
	}
	err = db_end(st, rc);
	db_set_release(&all);
	db_set_release(&ok);
	if (!err && len > 0 && (err = db_prepare(c, &q_release_events, &st)) == 0) {
		db_set set;
		db_set_init(&set);
		db_set_ids(&set, out, len);
		db_bind_set(st, &set);
		db_bind_int(st, clock_now_us());
		err = db_send(st, NULL);
		db_set_release(&set);
	}
	if (err) {
		free(out);
		return err;
	}
	*became_pending = out;
	*np = len;
	return 0;
}

int store_release_children(store_conn *c, const weft_id *parent, bool parent_succeeded, weft_id **became_pending,
                           size_t *n)
{
	parent_outcome p = { .id = *parent, .succeeded = parent_succeeded };
	return store_release_children_many(c, &p, 1, became_pending, n);
}

/* ---- dead ends -------------------------------------------------------------------------- */

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

/* A task of $1 with two of its parents in $2 (joined: both sets may be a
 * whole cascade). */
static const db_sql q_two_parents = {
	"two_parents",
	"SELECT 1 FROM link AS l JOIN {each:$2} AS p ON p.value = l.parent_id WHERE {in:l.child_id,$1} "
	"GROUP BY l.child_id HAVING count(*) >= 2 LIMIT 1",
	NULL,
};

int store_two_parents_among(store_conn *c, const weft_id *children, size_t nc, const weft_id *parents, size_t np,
                            bool *found)
{
	db_stmt *st;
	*found = false;
	if (nc == 0 || np < 2)
		return 0;
	int err = db_prepare(c, &q_two_parents, &st);
	if (err)
		return err;
	db_set a, b;
	db_set_init(&a);
	db_set_init(&b);
	db_set_ids(&a, children, nc);
	db_set_ids(&b, parents, np);
	db_bind_set(st, &a);
	db_bind_set(st, &b);
	int64_t one;
	err = db_query_int(st, &one, found);
	db_set_release(&a);
	db_set_release(&b);
	return err;
}

/* ---- the DAG read ------------------------------------------------------------------------- */

/* Tasks and links in one statement (one snapshot): the task rows (part 0,
 * created_at, id) carry the task columns, then the link rows (part 1) only
 * the last three: the links whose both ends are tasks of the batch. */

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

/* ---- the links into a set of tasks (a page of a run's graph) ---------------------------- */

static const db_sql q_links_to = {
	"links_to",
	"SELECT parent_id, child_id, requires_success FROM link WHERE {in:child_id,$1} ORDER BY child_id, parent_id",
	NULL,
};

int store_links_to(store_conn *c, const weft_id *children, size_t n, link_row **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	db_stmt *st;
	int err = db_prepare(c, &q_links_to, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, children, n);
	db_bind_set(st, &set);
	link_row *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		v = db_grow(v, len, &cap, sizeof *v);
		link_row *l = &v[len++];
		db_col_id(st, 0, &l->parent_id);
		db_col_id(st, 1, &l->child_id);
		l->requires_success = db_col_int(st, 2) != 0;
	}
	err = db_end(st, rc);
	db_set_release(&set);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = len;
	return 0;
}
