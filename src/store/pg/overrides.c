/*
 * overrides.c — the two operations the PostgreSQL driver does its own way
 * (pg.h says why): a round of guarded task updates in one statement, and
 * the outbox lease with SKIP LOCKED. Both have exactly the contracts of
 * their db.h slots and reuse the written-once pieces (the SET list and the
 * rows of a change, the outbox row reader).
 */
#include "util/common.h"

#include "core/limits.h"
#include "store/pg/pg.h"
#include "util/alloc.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS
/* How often a node looks for deliveries leased by nodes that are gone. */
#define ORPHAN_SWEEP_MS 1000

/* ---- a round of guarded task updates ------------------------------------------------------ */

/* One statement, one round trip, for the whole round: the rows of its
 * tasks locked in id order (cur), each change checked against its allowed
 * statuses (a list ",a,b,") and the counter limit ($2) (chk), the UPDATE of
 * those that pass (upd), and the audit events of the status changes (ev).
 * The answer is one row per change: its index, the status and batch
 * before (NULL: no such task), whether a counter would pass the limit,
 * and the updated row (NULL when not applied). */
#define ROUND_SQL(returning)                                                                            \
	"WITH r AS (SELECT * FROM json_to_recordset($1::json) AS r (i bigint, id text, allowed text, "      \
	TASK_CHANGE_COLS ", at bigint, reason text, actor text, not_jobs bigint)), "                        \
	"cur AS (SELECT t.id, t.status, t.batch_id, t.success, t.failures, t.executor FROM task AS t "      \
	"  WHERE t.id = ANY (ARRAY(SELECT r.id FROM r)) ORDER BY t.id FOR NO KEY UPDATE), "                 \
	"chk AS (SELECT r.*, cur.status AS prev, cur.batch_id AS batch, "                                   \
	"  strpos(r.allowed, ',' || cur.status || ',') > 0 "                                                \
	"  AND (r.not_jobs IS NULL OR cur.executor <> 'queue') AS allowed_ok, "                             \
	"  coalesce(r.add_success, 0) > 0 AND r.add_success > $2 - cur.success AS over_success, "          \
	"  coalesce(r.add_failures, 0) > 0 AND r.add_failures > $2 - cur.failures AS over_failures "       \
	"  FROM r JOIN cur ON cur.id = r.id), "                                                             \
	"upd AS (UPDATE task SET " TASK_CHANGE_SET("chk") " FROM chk WHERE task.id = chk.id "               \
	"  AND chk.allowed_ok AND NOT chk.over_success AND NOT chk.over_failures "                          \
	"  RETURNING task.id AS upd_id" returning "), "                                                      \
	"ev AS (INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "               \
	"  SELECT chk.id, chk.at, chk.prev, chk.status, chk.reason, chk.actor FROM chk "                    \
	"  JOIN upd ON upd.upd_id = chk.id WHERE chk.status IS NOT NULL AND chk.status <> chk.prev) "       \
	"SELECT r.i, chk.prev, chk.batch, "                                                                 \
	"  CASE WHEN NOT chk.allowed_ok THEN 0 WHEN chk.over_success THEN 1 WHEN chk.over_failures THEN 2 "   \
	"  ELSE 0 END, upd.* "                                                                         \
	"FROM r LEFT JOIN chk ON chk.i = r.i LEFT JOIN upd ON upd.upd_id = r.id"

static const db_sql q_round = { "task_update", ROUND_SQL(""), NULL };
static const db_sql q_round_after = { "task_update", ROUND_SQL(", " TASK_COLS_OF("task.")), NULL };

/* The row of one change: its index in the round, its task and guard, its
 * fields, and what its event records. */
static void round_row(db_set *rows, size_t k, const task_change *ch)
{
	const task_update *u = &ch->u;
	db_set_row(rows);
	db_set_field_int(rows, "i", (int64_t)k);
	db_set_field_text(rows, "id", ch->id.str);
	buf allowed;
	buf_init(&allowed);
	buf_putc(&allowed, ',');
	for (unsigned s = 0; s < TS__COUNT; s++)
		if (ch->from_mask & TS_BIT(s))
			buf_printf(&allowed, "%s,", task_status_name((task_status)s));
	db_set_field_text(rows, "allowed", allowed.data);
	buf_release(&allowed);
	if (u->not_jobs)
		db_set_field_int(rows, "not_jobs", 1);
	task_change_fields(rows, u);
	if (u->set_status) {
		db_set_field_int(rows, "at", task_update_time(u));
		db_set_field_text(rows, "reason", task_update_reason(u));
		db_set_field_text(rows, "actor", task_update_actor(u));
	}
}

/* Reads one answer row into the change it is about. */
static int round_answer(db_stmt *st, const task_change *ch, const size_t *idx, size_t n, task_update_result *res,
                        weft_id *batch)
{
	int64_t k = db_col_int(st, 0);
	if (k < 0 || (size_t)k >= n || db_col_null(st, 1))
		return 0;       /* no such task */
	size_t i = idx[k];
	int rc = db_col_status(st, 1, &res[i].prev);
	if (rc != 0)
		return rc;
	res[i].found = true;
	db_col_id(st, 2, &batch[i]);
	int64_t over = db_col_int(st, 3);
	res[i].applied = !db_col_null(st, 4);
	if (!res[i].applied && (ch[i].from_mask & TS_BIT(res[i].prev)))
		res[i].over_limit = over == 1 ? "success" : over == 2 ? "failures" : NULL;
	if (res[i].applied && ch[i].u.after != NULL && (rc = db_read_task(st, 5, ch[i].u.after)) != 0)
		task_row_release(ch[i].u.after);
	return rc;
}

int pg_task_update_round(store_conn *c, const task_change *ch, const size_t *idx, size_t n,
                         task_update_result *res, weft_id *batch)
{
	bool after = false;
	db_set rows;
	db_set_init(&rows);
	for (size_t k = 0; k < n; k++) {
		round_row(&rows, k, &ch[idx[k]]);
		after |= ch[idx[k]].u.after != NULL;
	}
	db_stmt *st;
	int err = db_prepare(c, after ? &q_round_after : &q_round, &st);
	if (!err) {
		db_bind_set(st, &rows);
		db_bind_int(st, TASK_COUNTER_MAX);
		int rc;
		while ((rc = db_step(st)) > 0)
			if ((rc = round_answer(st, ch, idx, n, res, batch)) != 0)
				break;
		err = db_end(st, rc);
	}
	db_set_release(&rows);
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

/* One NULL per column of a leased row (OUTBOX_COLS and its due time) but
 * the first. */
#define OUTBOX_NULLS                                                                              \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"NULL"

/* Due rows are locked with SKIP LOCKED, so each delivery attempt belongs to
 * one node. Left out: the rows of the tasks in the skip list (this node's
 * start calls in flight) and those of a task whose start ledger row is
 * pending and younger than a lease (another node's start call may be in
 * flight: the service must see the start before the end), looked up per
 * due row (a lateral join: as NOT EXISTS, PostgreSQL hashes every pending
 * ledger row, a scan of the whole ledger per lease). A NULL task_id
 * (batch_complete) is never skipped. The rows come back oldest due first,
 * ordered by their due time before the lease, after one row (part 0)
 * whose first column is the next due time afterwards. */
static const db_sql q_lease = {
	"outbox_lease",
	"WITH due AS (SELECT o.id, o.next_attempt_at AS due FROM outbox AS o "
	"  LEFT JOIN LATERAL (SELECT 1 AS busy FROM webhook_execution AS w WHERE w.task_id = o.task_id "
	"    AND w.trigger = 'start' AND w.status = 'pending' AND w.updated_at > $4 LIMIT 1) AS b ON true "
	"  WHERE o.status IN ('pending', 'retrying', 'delivering') AND o.next_attempt_at <= $1 "
	"  AND (o.task_id IS NULL OR (NOT {in:o.task_id,$3} AND b.busy IS NULL)) "
	"  ORDER BY o.next_attempt_at, o.id LIMIT $5 FOR UPDATE OF o SKIP LOCKED), "
	"upd AS (UPDATE outbox SET status = 'delivering', next_attempt_at = $2, "
	"  attempts = outbox.attempts + 1, last_attempt_at = $1, updated_at = $1, leased_by = $6 "
	"  FROM due WHERE outbox.id = due.id RETURNING " OUTBOX_COLS_OF("outbox.") ", due.due) "
	"SELECT 1 AS part, upd.* FROM upd "
	/* The next due time after the lease: the statement sees the rows as
	 * they were, so the leased ones count with their new due time. */
	"UNION ALL SELECT 0, least((SELECT x.next_attempt_at FROM outbox AS x "
	"  WHERE x.status IN ('pending', 'retrying', 'delivering') AND x.id NOT IN (SELECT id FROM due) "
	"  ORDER BY x.next_attempt_at LIMIT 1), (SELECT max($2) FROM due)), "
	"  " OUTBOX_NULLS " "
	"ORDER BY part, due, id",
	NULL,
};

int pg_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit, const weft_id *skip,
                    size_t nskip, outbox_row **out, size_t *n, int64_t *next_due)
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
	outbox_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	*next_due = INT64_MAX;
	while ((rc = db_step(st)) > 0) {
		if (db_col_int(st, 0) == 0) {
			*next_due = db_col_null(st, 1) ? INT64_MAX : db_col_int(st, 1);
			continue;
		}
		rows = db_grow(rows, len, &cap, sizeof *rows);
		if ((rc = db_read_outbox(st, 1, &rows[len])) != 0)
			break;
		len++;
	}
	err = db_end(st, rc);
	db_set_release(&skipped);
	if (err) {
		store_free_outbox(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}
