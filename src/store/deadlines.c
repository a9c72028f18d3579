/*
 * deadlines.c — the times the engine waits for, read from the rows: the
 * next delayed start, the tasks whose timers it arms at start-up, and on a
 * shared database the deadlines themselves (the leader asks for the due
 * ones and sleeps until the earliest).
 *
 * Status literals are written into these statements (one cached statement
 * per status where the status varies): a partial index (WHERE status =
 * '...') is only used when its predicate can be proved from the text,
 * which a bound parameter never allows once a plan is generic.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

static const db_sql q_next_start = {
	"pending_next_start",
	"SELECT start_after FROM task{index:task_delayed} "
	"WHERE status = 'pending' AND executor <> 'queue' AND start_after IS NOT NULL AND start_after > $1 "
	"ORDER BY start_after LIMIT 1",
	NULL,
};

int store_pending_next_start(store_conn *c, int64_t now, int64_t *due)
{
	db_stmt *st;
	bool found;
	*due = INT64_MAX;
	int err = db_prepare(c, &q_next_start, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	if ((err = db_query_int(st, due, &found)) == 0 && !found)
		*due = INT64_MAX;
	return err;
}

/* The order of each status's deadline; a pending task has one only when
 * it was given a start_after. Jobs have deadlines of their own: shape
 * DEADLINES_JOB_LEASES reads running jobs by lease_until, and the
 * statuses' shapes leave them out (a job's start_after is its place in
 * its queue, not a start to wake up for; a running job's timer is its
 * lease). Retrying jobs keep the retry backoff as any task. */
#define DEADLINES_JOB_LEASES TS__COUNT

static void build_deadlines(buf *sql, unsigned status)
{
	if (status == DEADLINES_JOB_LEASES) {
		buf_puts(sql, "SELECT id, last_updated, timeout_secs, next_retry_at, start_after, lease_until FROM task "
		              "WHERE status = 'running' AND executor = 'queue' ORDER BY lease_until");
		return;
	}
	const char *order = "last_updated", *extra = "";
	if (status == TS_RETRYING) {
		order = "next_retry_at";
	} else if (status == TS_PENDING) {
		order = "start_after";
		extra = " AND start_after IS NOT NULL AND executor <> 'queue'";
	} else if (status == TS_RUNNING) {
		extra = " AND executor <> 'queue'";
	}
	buf_printf(sql, "SELECT id, last_updated, timeout_secs, next_retry_at, start_after, lease_until FROM task "
	                "WHERE status = '%s'%s ORDER BY %s",
	           task_status_name((task_status)status), extra, order);
}

static const db_dyn dyn_deadlines = { "deadlines", build_deadlines };

static int read_deadlines(store_conn *c, unsigned shape, deadline_row **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	int err = db_prepare_dyn(c, &dyn_deadlines, shape, &st);
	if (err)
		return err;
	deadline_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		rows = db_grow(rows, len, &cap, sizeof *rows);
		deadline_row *d = &rows[len++];
		db_col_id(st, 0, &d->id);
		d->last_updated = db_col_int(st, 1);
		d->timeout_secs = (int32_t)db_col_int(st, 2);
		d->next_retry_at = db_col_int(st, 3);
		d->start_after = db_col_int(st, 4);
		d->lease_until = db_col_int(st, 5);
	}
	if ((err = db_end(st, rc)) != 0) {
		free(rows);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

int store_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n)
{
	if ((unsigned)status >= TS__COUNT) {
		*out = NULL;
		*n = 0;
		return WEFT_ESTORE;
	}
	return read_deadlines(c, (unsigned)status, out, n);
}

int store_job_leases(store_conn *c, deadline_row **out, size_t *n)
{
	return read_deadlines(c, DEADLINES_JOB_LEASES, out, n);
}

/* ---- deadlines kept in the database (shared stores) ------------------------------------- */

/* Each kind has its own index, so each part is an ordered index range scan
 * bounded by the page size, and the union is merged by due time. The
 * running deadline is written exactly as the expression of its index. */
#define RUN_DUE "last_updated + timeout_secs * 1000000"

static const db_sql q_timers_due = {
	"timers_due",
	"SELECT * FROM (SELECT id, status, last_updated + $2 AS due, 0 AS lease FROM task "
	"  WHERE status = 'claimed' AND last_updated <= $3 ORDER BY last_updated LIMIT $4) AS a "
	"UNION ALL SELECT * FROM (SELECT id, status, " RUN_DUE ", 0 FROM task "
	"  WHERE status = 'running' AND executor <> 'queue' AND " RUN_DUE " <= $1 ORDER BY " RUN_DUE " LIMIT $4) AS b "
	"UNION ALL SELECT * FROM (SELECT id, status, next_retry_at, 0 FROM task "
	"  WHERE status = 'retrying' AND next_retry_at <= $1 ORDER BY next_retry_at LIMIT $4) AS r "
	"UNION ALL SELECT * FROM (SELECT id, status, lease_until, 1 FROM task "
	"  WHERE status = 'running' AND executor = 'queue' AND lease_until <= $1 ORDER BY lease_until LIMIT $4) AS j "
	"ORDER BY due LIMIT $4",
	NULL,
};

static int64_t sub_saturated(int64_t a, int64_t b)
{
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	return a - b;
}

int store_timers_due(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit, timer_due_row **out,
                     size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	if (!c->drv->shared)
		return WEFT_ESTORE;
	if (limit == 0)
		return 0;
	int err = db_prepare(c, &q_timers_due, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	db_bind_int(st, claim_timeout_us);
	/* A claim is stale when last_updated <= now - timeout: the bound is
	 * computed here so that the comparison is an index range. */
	db_bind_int(st, sub_saturated(now, claim_timeout_us));
	db_bind_int(st, db_clamp_limit(limit));
	timer_due_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		rows = db_grow(rows, len, &cap, sizeof *rows);
		db_col_id(st, 0, &rows[len].id);
		if ((rc = db_col_status(st, 1, &rows[len].status)) != 0)
			break;
		rows[len].lease = db_col_int(st, 3) != 0;
		len++;
	}
	if ((err = db_end(st, rc)) != 0) {
		free(rows);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* min() over an indexed expression is planned as one index probe each. */
static const db_sql q_timers_next = {
	"timers_next",
	"SELECT (SELECT min(last_updated) FROM task WHERE status = 'claimed'), "
	"(SELECT min(" RUN_DUE ") FROM task WHERE status = 'running' AND executor <> 'queue'), "
	"(SELECT min(next_retry_at) FROM task WHERE status = 'retrying'), "
	"(SELECT min(lease_until) FROM task WHERE status = 'running' AND executor = 'queue')",
	NULL,
};

int store_timers_next(store_conn *c, int64_t claim_timeout_us, int64_t *due)
{
	db_stmt *st;
	*due = INT64_MAX;
	if (!c->drv->shared)
		return WEFT_ESTORE;
	int err = db_prepare(c, &q_timers_next, &st);
	if (err)
		return err;
	int rc = db_step(st);
	if (rc > 0) {
		if (!db_col_null(st, 0))
			*due = MIN(*due, db_col_int(st, 0) + claim_timeout_us);
		for (int i = 1; i <= 3; i++)
			if (!db_col_null(st, i))
				*due = MIN(*due, db_col_int(st, i));
	}
	return db_end(st, rc);
}
