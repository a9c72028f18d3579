/*
 * counts.c — the number of tasks in each status, kept in the table
 * task_count so that the status gauges of GET /metrics read a few rows
 * instead of counting every task.
 *
 * Every status change of the store passes here: an insert, the guarded
 * updates and the cascade (through batch_remaining_move), a batch's cancel
 * and the archiving of ended tasks. As with batch.remaining (batches.c),
 * the changes are summed per status in memory and written by one statement
 * before COMMIT (none when they sum to nothing); a savepoint remembers
 * them and its rollback restores them; outside a transaction a change is
 * written at once. On PostgreSQL the batch counters' statement carries
 * them when both have changes (batches.c), which spares the statement in
 * the cycles that end tasks.
 *
 * The active statuses but paused share one row, 'active': a task moving
 * among them (a dependency's release, a claim, a start, a retry and its
 * backoff) changes no count, so the cycles that only start tasks write
 * nothing here, and a release, which reports no statuses, needs no hook.
 * When read, the pending, claimed, running and retrying tasks are counted
 * along their partial indexes (task_pending, task_timed: as many as the
 * backlog and the tasks in flight, not the whole table), and the waiting
 * ones are the rest of 'active'.
 *
 * On PostgreSQL several nodes write the counts: each connection adds to
 * one of COUNT_SLOTS rows per status, picked at random, so that nodes
 * rarely queue on one row; a read sums the rows of each status. The rows
 * are written in status order, after the batch rows, and then the
 * transaction commits, so two writers cannot wait for each other in a
 * circle.
 */
#include "util/common.h"

#include "store/db.h"

#define COUNT_SLOTS 16
#define SHARED_ROW "active"

/* Whether s shares the row 'active' (kept in delta[TS_WAITING]). */
static bool shared(task_status s)
{
	return s == TS_WAITING || s == TS_PENDING || s == TS_CLAIMED || s == TS_RUNNING || s == TS_RETRYING;
}

static task_status key_of(task_status s)
{
	return shared(s) ? TS_WAITING : s;
}

/* The row a status is counted in. */
static const char *row_of(task_status s)
{
	return shared(s) ? SHARED_ROW : task_status_name(s);
}

static const db_sql q_count_add = { "task_count_add", TASK_COUNT_ADD_SQL("$1", "$2"), NULL };

static int pick_slot(void)
{
	weft_id r;
	id_new_v4(&r);
	const char h = r.str[0];
	return (h >= 'a' ? h - 'a' + 10 : h - '0') % COUNT_SLOTS;
}

bool task_counts_dirty(const store_conn *c)
{
	for (int s = 0; s < TS__COUNT; s++)
		if (c->counts.delta[s] != 0)
			return true;
	return false;
}

void task_counts_bind(store_conn *c, db_stmt *st, db_set *rows)
{
	db_counts *k = &c->counts;
	for (int s = 0; s < TS__COUNT; s++) {
		if (k->delta[s] == 0)
			continue;
		db_set_row(rows);
		db_set_field_text(rows, "status", row_of((task_status)s));
		db_set_field_int(rows, "delta", k->delta[s]);
	}
	if (k->slot < 0)
		k->slot = pick_slot();
	db_bind_set(st, rows);
	db_bind_int(st, k->slot);
}

/* Written: a rollback to a savepoint set before restores the changes as
 * they stood then, and the database undoes this write, so a flush may
 * come anywhere in the transaction. */
void task_counts_written(store_conn *c)
{
	memset(c->counts.delta, 0, sizeof c->counts.delta);
}

int task_counts_flush(store_conn *c, bool at_commit)
{
	if (!task_counts_dirty(c))
		return 0;
	db_stmt *st;
	int err = 0;
	if (at_commit && !c->final_writes_done && c->drv->final_writes != NULL)
		err = c->drv->final_writes(c);
	c->final_writes_done |= at_commit && !err;
	if (!err)
		err = db_prepare(c, &q_count_add, &st);
	if (err)
		return err;
	db_set rows;
	db_set_init(&rows);
	task_counts_bind(c, st, &rows);
	err = db_run(st, NULL);
	db_set_release(&rows);
	if (!err)
		task_counts_written(c);
	return err;
}

int task_count_add(store_conn *c, task_status s, int64_t n)
{
	if (n == 0)
		return 0;
	c->counts.delta[key_of(s)] += n;
	return c->drv->in_transaction(c) ? 0 : task_counts_flush(c, false);
}

int task_count_move(store_conn *c, task_status from, task_status to)
{
	if (key_of(from) == key_of(to))
		return 0;
	c->counts.delta[key_of(from)]--;
	c->counts.delta[key_of(to)]++;
	return c->drv->in_transaction(c) ? 0 : task_counts_flush(c, false);
}

void task_counts_reset(store_conn *c)
{
	memset(c->counts.delta, 0, sizeof c->counts.delta);
	memset(c->counts.sp_delta, 0, sizeof c->counts.sp_delta);
}

void task_counts_savepoint(store_conn *c)
{
	memcpy(c->counts.sp_delta, c->counts.delta, sizeof c->counts.delta);
}

void task_counts_rollback(store_conn *c)
{
	memcpy(c->counts.delta, c->counts.sp_delta, sizeof c->counts.delta);
}

/* ---- reading them ----------------------------------------------------------------------- */

static const db_sql q_counts = {
	"status_counts", "SELECT status, CAST(sum(n) AS BIGINT) FROM task_count GROUP BY status", NULL,
};
static const db_sql q_pending = {
	"pending_count",
	"SELECT (SELECT count(*) FROM task{index:task_pending} WHERE status = 'pending' AND executor <> 'queue') + "
	"(SELECT count(*) FROM task{index:task_queue_ready} WHERE status = 'pending' AND executor = 'queue')",
	NULL,
};
/* The WHERE of task_timed, as the index has it. */
static const db_sql q_timed = {
	"timed_counts",
	"SELECT status, count(*) FROM task{index:task_timed} "
	"WHERE status = 'claimed' OR status = 'running' OR status = 'retrying' GROUP BY status",
	NULL,
};

static int read_counts(store_conn *c, int64_t counts[TS__COUNT])
{
	db_stmt *st;
	int err = db_prepare(c, &q_counts, &st);
	if (err)
		return err;
	int rc;
	while ((rc = db_step(st)) > 0) {
		const char *name = db_col_text(st, 0);
		task_status s;
		if (name != NULL && strcmp(name, SHARED_ROW) == 0)
			counts[TS_WAITING] = db_col_int(st, 1);
		else if (name != NULL && task_status_parse(name, &s) == 0)   /* a status this version does not know is left out */
			counts[s] = db_col_int(st, 1);
	}
	if ((err = db_end(st, rc)) != 0)
		return err;
	int64_t pending = 0;
	if ((err = db_prepare(c, &q_pending, &st)) != 0 || (err = db_query_int(st, &pending, NULL)) != 0)
		return err;
	counts[TS_PENDING] = pending;
	counts[TS_WAITING] -= pending;
	if ((err = db_prepare(c, &q_timed, &st)) != 0)
		return err;
	while ((rc = db_step(st)) > 0) {
		task_status s;
		if ((rc = db_col_status(st, 0, &s)) != 0)
			break;
		counts[s] = db_col_int(st, 1);
		counts[TS_WAITING] -= counts[s];
	}
	return db_end(st, rc);
}

int store_status_counts(store_conn *c, int64_t counts[TS__COUNT])
{
	for (int s = 0; s < TS__COUNT; s++)
		counts[s] = 0;
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	err = db_own_end(c, own, read_counts(c, counts));
	if (err)
		for (int s = 0; s < TS__COUNT; s++)
			counts[s] = 0;
	return err;
}
