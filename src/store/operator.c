/*
 * operator.c — the rows behind operator actions on tasks, dead letters and
 * the worker registry: the task columns an operator action sets beside
 * its guarded status change (store_task_update), whether a task has
 * children, the dead-letter listing (newest first along (dead_at, id)),
 * and worker rows with their jobs in flight.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/operator.h"
#include "util/alloc.h"

/* ---- operator actions ----------------------------------------------------------------- */

static const db_sql q_has_children = {
	"task_has_children", "SELECT count(*) FROM (SELECT 1 FROM link WHERE parent_id = $1 LIMIT 1) AS l", NULL,
};

int store_task_has_children(store_conn *c, const weft_id *id, bool *has)
{
	db_stmt *st;
	*has = false;
	int err = db_prepare(c, &q_has_children, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	int64_t n = 0;
	bool found = false;
	err = db_query_int(st, &n, &found);
	*has = err == 0 && found && n > 0;
	return err;
}

/* Each column keeps its value unless its flag says otherwise; the flags
 * are bound as integers so that one statement serves every action. */
static const db_sql q_operator_fields = {
	"task_operator_fields",
	"UPDATE task SET "
	"ended_at = CASE WHEN $2 <> 0 THEN NULL ELSE ended_at END, "
	"ended_by = CASE WHEN $2 <> 0 THEN NULL ELSE ended_by END, "
	"dead_at = CASE WHEN $3 <> 0 THEN NULL ELSE dead_at END, "
	"retry_base = CASE WHEN $4 <> 0 THEN $5 ELSE retry_base END, "
	"start_after = CASE WHEN $6 <> 0 THEN $7 ELSE start_after END, "
	"next_retry_at = CASE WHEN $8 <> 0 THEN NULL ELSE next_retry_at END, "
	"result = CASE WHEN $9 <> 0 THEN $10 ELSE result END, "
	"lease_until = CASE WHEN $11 <> 0 THEN NULL ELSE lease_until END, "
	"worker_id = CASE WHEN $11 <> 0 THEN NULL ELSE worker_id END "
	"WHERE id = $1",
	NULL,
};

int store_task_operator_fields(store_conn *c, const weft_id *id, const task_operator_fields *f)
{
	db_stmt *st;
	int err = db_prepare(c, &q_operator_fields, &st);
	if (err)
		return err;
	db_bind_id(st, id);
	db_bind_int(st, f->reopen);
	db_bind_int(st, f->clear_dead);
	db_bind_int(st, f->set_retry_base);
	db_bind_int(st, f->retry_base);
	db_bind_int(st, f->start_after != 0);
	db_bind_int(st, f->start_after);
	db_bind_int(st, f->clear_next_retry);
	db_bind_int(st, f->result != NULL);
	db_bind_text(st, f->result);
	db_bind_int(st, f->clear_lease);
	return db_send(st, NULL);
}

/* ---- dead letters --------------------------------------------------------------------- */

/* A dead letter is a job whose dead_at is set (task_dead). The keyset
 * bound is strict, newest first: a page goes on right after the last row
 * it gave, whatever came or went meanwhile. */
static void build_dead_list(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT " TASK_COLS " FROM task{index:task_dead} WHERE dead_at IS NOT NULL");
	if ((shape & 3) == 1)
		buf_puts(sql, " AND namespace = $1");
	else if ((shape & 3) == 2)
		buf_puts(sql, " AND {in:namespace,$1}");
	else
		buf_puts(sql, " AND $1 = ''");
	/* With a queue, (namespace, kind) lead task_dead, read backwards. */
	buf_puts(sql, (shape & 4) ? " AND kind = $2" : " AND $2 = ''");
	buf_puts(sql, " AND (dead_at < $3 OR (dead_at = $3 AND id < $4) OR $3 = 0)"
	              " ORDER BY dead_at DESC, id DESC LIMIT $5");
}

static const db_dyn dyn_dead_list = { "dead_letters_list", build_dead_list };

int store_dead_letters(store_conn *c, const dead_letter_filter *f, task_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	unsigned shape = db_ns_filter_shape(f->namespace, f->visible) | (f->queue != NULL ? 4u : 0u);
	int err = db_prepare_dyn(c, &dyn_dead_list, shape, &st);
	if (err)
		return err;
	db_set ns;
	db_set_init(&ns);
	db_bind_ns_filter(st, &ns, f->namespace, f->visible, f->nvisible);
	db_bind_text(st, f->queue != NULL ? f->queue : "");
	db_bind_int(st, f->after_dead_at);
	db_bind_text(st, f->after_dead_at != 0 ? f->after_id.str : "");
	db_bind_int(st, db_clamp_limit(f->limit));
	err = db_collect_tasks(st, out, n);
	db_set_release(&ns);
	return err;
}

/* ---- workers -------------------------------------------------------------------------- */

#define WORKER_COLS "w.namespace, w.id, w.hostname, w.queues, w.first_seen_at, w.last_seen_at, w.draining"

static void build_workers(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT " WORKER_COLS " FROM worker AS w WHERE ");
	if ((shape & 3) == 1)
		buf_puts(sql, "w.namespace = $1");
	else if ((shape & 3) == 2)
		buf_puts(sql, "{in:w.namespace,$1}");
	else
		buf_puts(sql, "$1 = ''");
	if (shape & 4)
		buf_puts(sql, " AND w.id = $2 AND $3 = ''");
	else
		buf_puts(sql, " AND ($2 = '' OR w.namespace > $2 OR (w.namespace = $2 AND w.id > $3))");
	buf_puts(sql, " ORDER BY w.namespace, w.id LIMIT $4");
}

static const db_dyn dyn_workers = { "workers_list", build_workers };

/* Jobs in flight: running rows held by the page's workers, along
 * task_timed on SQLite (whose WHERE is repeated, as the index has it, so
 * that SQLite may use it) and task_lease (running jobs) on PostgreSQL. */
static const db_sql q_in_flight = {
	"workers_in_flight",
	"SELECT namespace, worker_id, count(*) FROM task{index:task_timed} /* PostgreSQL: task_lease */ "
	"WHERE (status = 'claimed' OR status = 'running' OR status = 'retrying') AND status = 'running' "
	"AND executor = 'queue' AND {in:worker_id,$1} GROUP BY namespace, worker_id",
	NULL,
};

static int read_worker(db_stmt *st, void *row)
{
	worker_row *w = row;
	snprintf(w->namespace, sizeof w->namespace, "%s", db_col_text(st, 0) ? db_col_text(st, 0) : "");
	w->id = xstrdup(db_col_text(st, 1) ? db_col_text(st, 1) : "");
	w->hostname = db_col_text(st, 2) ? xstrdup(db_col_text(st, 2)) : NULL;
	w->queues = xstrdup(db_col_text(st, 3) ? db_col_text(st, 3) : "[]");
	w->first_seen_at = db_col_int(st, 4);
	w->last_seen_at = db_col_int(st, 5);
	w->draining = db_col_int(st, 6) != 0;
	return 0;
}

static void release_worker(void *row)
{
	worker_row *w = row;
	free(w->id);
	free(w->hostname);
	free(w->queues);
}

static int count_in_flight(store_conn *c, worker_row *rows, size_t n)
{
	if (n == 0)
		return 0;
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n; i++)
		db_set_text(&ids, rows[i].id);
	db_stmt *st;
	int err = db_prepare(c, &q_in_flight, &st);
	if (err == 0) {
		db_bind_set(st, &ids);
		int rc;
		while ((rc = db_step(st)) > 0) {
			const char *ns = db_col_text(st, 0), *id = db_col_text(st, 1);
			for (size_t i = 0; i < n && ns != NULL && id != NULL; i++)
				if (strcmp(rows[i].namespace, ns) == 0 && strcmp(rows[i].id, id) == 0)
					rows[i].in_flight = db_col_int(st, 2);
		}
		err = db_end(st, rc);
	}
	db_set_release(&ids);
	return err;
}

int store_workers(store_conn *c, const worker_filter *f, worker_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	unsigned shape = db_ns_filter_shape(f->namespace, f->visible) | (f->id != NULL ? 4u : 0u);
	db_stmt *st;
	db_set ns;
	db_set_init(&ns);
	if ((err = db_prepare_dyn(c, &dyn_workers, shape, &st)) == 0) {
		db_bind_ns_filter(st, &ns, f->namespace, f->visible, f->nvisible);
		if (f->id != NULL) {
			db_bind_text(st, f->id);
			db_bind_text(st, "");
		} else {
			db_bind_text(st, f->after_namespace ? f->after_namespace : "");
			db_bind_text(st, f->after_id ? f->after_id : "");
		}
		db_bind_int(st, db_clamp_limit(f->limit));
		static const db_row_kind kind = { sizeof(worker_row), read_worker, release_worker };
		void *rows = NULL;
		err = db_collect(st, &kind, &rows, n);
		*out = rows;
	}
	db_set_release(&ns);
	if (err == 0)
		err = count_in_flight(c, *out, *n);
	err = db_own_end(c, own, err);
	if (err != 0) {
		store_free_workers(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

void store_free_workers(worker_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_worker(&rows[i]);
	free(rows);
}

static const db_sql q_worker_drain = {
	"worker_drain", "UPDATE worker SET draining = 1 WHERE namespace = $1 AND id = $2", NULL,
};

int store_worker_drain(store_conn *c, const char *ns, const char *id, bool *found)
{
	db_stmt *st;
	*found = false;
	int err = db_prepare(c, &q_worker_drain, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, id);
	return db_run_changed(st, found);
}

/* ---- an audit entry without a status change ------------------------------------------- */

int store_task_event_add(store_conn *c, const weft_id *id, int64_t at, task_status from, task_status to,
                         const char *reason, const char *actor)
{
	db_set rows;
	db_set_init(&rows);
	event_row(&rows, id, at, task_status_name(from), task_status_name(to), reason, actor ? actor : "api");
	int err = event_add_rows(c, &rows);
	db_set_release(&rows);
	return err;
}
