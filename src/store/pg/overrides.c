/*
 * overrides.c — the two operations the PostgreSQL driver does its own way
 * (pg.h says why): the guarded task update in one statement, and the
 * outbox lease with SKIP LOCKED. Both have exactly the contracts of their
 * store.h functions and reuse the written-once pieces (the SET list and
 * bindings of an update, the outbox row reader).
 */
#include "util/common.h"

#include "store/pg/pg.h"
#include "util/alloc.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS
/* How often a node looks for deliveries leased by nodes that are gone. */
#define ORPHAN_SWEEP_MS 1000

/* ---- the guarded task update ------------------------------------------------------------ */

/* The optional parts of the statement, after the field bits. */
enum {
	U_EVENT = TU__COUNT,    /* records the transition */
	U_AFTER,                /* returns the row */
};

/* One statement, one round trip: lock the row and read its status (cur),
 * the UPDATE guarded on that status being one of the allowed ones (upd),
 * and when the status is set, the audit event of an actual change (ev).
 * The answer is one row per existing task: its status before, its batch,
 * then the updated row (all NULL when the guard did not match).
 * Parameters: the fields in shape order, then id, the allowed statuses (a
 * set), then (U_EVENT) time, reason, actor. */
static void build_update(buf *sql, unsigned shape)
{
	int p = __builtin_popcount(shape & ((1u << TU__COUNT) - 1));
	int id = ++p, allowed = ++p;
	buf_printf(sql,
	           "WITH cur AS (SELECT id AS cur_id, status AS cur_status, batch_id AS cur_batch FROM task "
	           "WHERE id = $%d FOR NO KEY UPDATE), "
	           "upd AS (UPDATE task SET ",
	           id);
	task_update_sets(sql, shape, 1);
	buf_printf(sql, " FROM cur WHERE task.id = cur.cur_id AND {in:cur.cur_status,$%d} RETURNING %s)", allowed,
	           shape & (1u << U_AFTER) ? TASK_COLS_OF("task.") : "task.id, task.status");
	if (shape & (1u << U_EVENT)) {
		int at = ++p, reason = ++p, actor = ++p;
		buf_printf(sql,
		           ", ev AS (INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
		           "SELECT upd.id, CAST($%d AS BIGINT), cur.cur_status, upd.status, CAST($%d AS TEXT), "
		           "CAST($%d AS TEXT) FROM upd, cur WHERE upd.status <> cur.cur_status)",
		           at, reason, actor);
	}
	buf_puts(sql, " SELECT cur.cur_status, cur.cur_batch, upd.* FROM cur LEFT JOIN upd ON true");
}

static const db_dyn dyn_update = { "task_update", build_update };

/* The row is locked first: a node updating the same task concurrently
 * waits for this transaction, then reads the status it left. */
int pg_task_update(store_conn *c, const weft_id *id, unsigned from_mask, const task_update *u,
                   task_update_result *res)
{
	unsigned fields = task_update_shape(u);
	if (fields == 0) {
		/* Nothing to write: the guard, and the row as it is. */
		task_row row;
		int err = store_task_get(c, id, &row);
		if (err == 0 && row.archived) {
			task_row_release(&row);
			err = WEFT_ENOTFOUND;
		}
		if (err)
			return err;
		res->prev = row.status;
		res->applied = (from_mask & TS_BIT(row.status)) != 0;
		if (res->applied && u->after != NULL)
			*u->after = row;
		else
			task_row_release(&row);
		return 0;
	}
	unsigned shape = fields | (unsigned)u->set_status << U_EVENT | (unsigned)(u->after != NULL) << U_AFTER;
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_update, shape, &st);
	if (err)
		return err;
	db_set allowed;
	db_set_init(&allowed);
	db_set_statuses(&allowed, from_mask);
	task_update_bind(st, u, fields);
	db_bind_id(st, id);
	db_bind_set(st, &allowed);
	if (u->set_status) {
		db_bind_int(st, task_update_time(u));
		db_bind_text(st, task_update_reason(u));
		db_bind_text(st, task_update_actor(u));
	}
	task_status cur = TS_WAITING;
	weft_id batch = { 0 };
	int rc = db_step(st);
	bool found = rc > 0;
	if (found && (rc = db_col_status(st, 0, &cur)) == 0) {
		db_col_id(st, 1, &batch);
		res->prev = cur;
		res->applied = !db_col_null(st, 2);
		if (res->applied && u->after != NULL && (rc = db_read_task(st, 2, u->after)) != 0)
			task_row_release(u->after);
	}
	err = db_end(st, rc);
	db_set_release(&allowed);
	if (!err && !found)
		err = WEFT_ENOTFOUND;
	if (!err && res->applied && u->set_status && u->status != cur)
		err = batch_remaining_move(c, &batch, cur, u->status);
	return err;
}

/* ---- the outbox lease --------------------------------------------------------------------- */

/* Deliveries leased by a node whose writer session is gone (no session
 * holds the lock of its name) will never be answered: they become due now
 * instead of when their lease expires. Checked at most every
 * ORPHAN_SWEEP_MS, the first time at a node's first lease, along
 * outbox_status (`+ 0` keeps the planner off outbox_due, whose range would
 * cover every delivery waiting for a retry). */
static const db_sql q_orphans = {
	"outbox_orphans",
	"UPDATE outbox SET next_attempt_at = $1, updated_at = $1 "
	"WHERE status = 'delivering' AND (next_attempt_at + 0) > $1 AND leased_by IS DISTINCT FROM $2 "
	"AND (leased_by IS NULL OR hashtext(leased_by)::oid NOT IN "
	"  (SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
	"   AND classid = " PG_NODE_LOCK_K1 " "
	"   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))",
	NULL,
};

static int lease_orphans(store_conn *c, int64_t now)
{
	pg_store *s = pgc(c)->store;
	int64_t t = pg_mono_ms();
	if (s->orphan_sweep_ms != 0 && t - s->orphan_sweep_ms < ORPHAN_SWEEP_MS)
		return 0;
	db_stmt *st;
	int64_t taken = 0;
	int err = db_prepare(c, &q_orphans, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	db_bind_text(st, s->node_id);
	if ((err = db_run(st, &taken)) != 0)
		return err;
	s->orphan_sweep_ms = t;
	if (taken > 0)
		log_info(SUBSYS, "took over %" PRId64 " deliveries leased by nodes that are gone", taken);
	return 0;
}

/* Due rows are locked with SKIP LOCKED, so each delivery attempt belongs to
 * one node. Left out: the rows of the tasks in the skip list (this node's
 * start calls in flight) and those of a task whose start ledger row is
 * pending and younger than a lease (another node's start call may be in
 * flight: the service must see the start before the end). A NULL task_id
 * (batch_complete) is never skipped. The rows come back oldest due first,
 * ordered by their due time before the lease. */
static const db_sql q_lease = {
	"outbox_lease",
	"WITH due AS (SELECT o.id, o.next_attempt_at AS due FROM outbox AS o "
	"  WHERE o.status IN ('pending', 'retrying', 'delivering') AND o.next_attempt_at <= $1 "
	"  AND (o.task_id IS NULL OR (NOT {in:o.task_id,$3} "
	"    AND NOT EXISTS (SELECT 1 FROM webhook_execution AS w WHERE w.task_id = o.task_id "
	"      AND w.trigger = 'start' AND w.status = 'pending' AND w.updated_at > $4))) "
	"  ORDER BY o.next_attempt_at, o.id LIMIT $5 FOR UPDATE SKIP LOCKED), "
	"upd AS (UPDATE outbox SET status = 'delivering', next_attempt_at = $2, "
	"  attempts = outbox.attempts + 1, last_attempt_at = $1, updated_at = $1, leased_by = $6 "
	"  FROM due WHERE outbox.id = due.id RETURNING " OUTBOX_COLS_OF("outbox.") ", due.due) "
	"SELECT * FROM upd ORDER BY due, id",
	NULL,
};

int pg_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit, const weft_id *skip,
                    size_t nskip, outbox_row **out, size_t *n)
{
	db_stmt *st;
	int err = lease_orphans(c, now);
	if (!err)
		err = db_prepare(c, &q_lease, &st);
	if (err)
		return err;
	db_set skipped;
	db_set_init(&skipped);
	db_set_ids(&skipped, skip, nskip);
	db_bind_int(st, now);
	db_bind_int(st, lease_until);
	db_bind_set(st, &skipped);
	db_bind_int(st, now - (lease_until - now));
	db_bind_int(st, db_clamp_limit(limit));
	db_bind_text(st, pgc(c)->store->node_id);
	err = db_collect_outbox(st, out, n);
	db_set_release(&skipped);
	return err;
}
