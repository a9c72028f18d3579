/*
 * batches.c — batches: their counter of unfinished tasks (batch.remaining)
 * and completion, cancel, rules, and the statistics of their tasks.
 *
 * The counter. Every terminal transition moves its batch's `remaining`.
 * Written as they happen, a cascade or a cycle finishing thousands of
 * tasks of one batch would update one batch row thousands of times in one
 * transaction (on PostgreSQL each update also walks the versions the
 * transaction left before: a 5,000-task cascade took seconds). The changes
 * are therefore summed per batch in memory and written by one set-based
 * statement before COMMIT, or before a completion check reads the counter
 * (outside a transaction, at once). That also keeps a batch row, which
 * every node finishing tasks of the batch must lock, locked only from
 * then to the commit, the rows locked in id order so that nodes cannot
 * deadlock on them. A savepoint remembers where the changes stood; its
 * rollback drops the later ones (and those written since are undone by the
 * database). Nothing else reads the counter.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

#define ACTIVE_IN "('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying')"
#define TERMINAL_IN "('success', 'failure', 'canceled', 'skipped')"

/* ---- the counter of unfinished tasks ----------------------------------------------- */

#define REMAINING_UPDATE                                                                           \
	"UPDATE batch SET remaining = batch.remaining + d.delta FROM "                                 \
	"(SELECT b.id, x.delta FROM {rows:$1,id text,delta bigint} AS x JOIN batch AS b ON b.id = x.id " \
	"{lock_in_order_of:b.id,b}) AS d "                                                             \
	"WHERE batch.id = d.id"

static const db_sql q_remaining = { "batch_remaining", REMAINING_UPDATE, NULL };
/* The same, saying which batches may have completed. */
#define REMAINING_RETURNING " RETURNING batch.id, batch.remaining, batch.completed_at"
static const db_sql q_remaining_read = { "batch_remaining", REMAINING_UPDATE REMAINING_RETURNING, NULL };
/* On PostgreSQL, both also write the counts by status (counts.c), $2 and $3. */
#define WITH_COUNTS "WITH counted AS (" TASK_COUNT_ADD_SQL("$2", "$3") ") "
static const db_sql q_remaining_counts = { "batch_remaining", WITH_COUNTS REMAINING_UPDATE, NULL };
static const db_sql q_remaining_read_counts = {
	"batch_remaining", WITH_COUNTS REMAINING_UPDATE REMAINING_RETURNING, NULL,
};

static int cmp_delta(const void *a, const void *b)
{
	return strncmp(((const batch_delta *)a)->batch.str, ((const batch_delta *)b)->batch.str, WEFT_ID_LEN);
}

/* The rows of q_remaining_read: every batch written, its delta 1 when it
 * may have completed, 0 when not. */
static int read_open(db_stmt *st, batch_delta **out, size_t *n)
{
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		*out = db_grow(*out, *n, &cap, sizeof **out);
		batch_delta *b = &(*out)[(*n)++];
		db_col_id(st, 0, &b->batch);
		b->delta = db_col_int(st, 1) <= 0 && db_col_null(st, 2);
	}
	return db_end(st, rc);
}

int batch_remaining_add(store_conn *c, const weft_id *batch, int64_t delta)
{
	db_deltas *d = &c->deltas;
	if (delta == 0 || batch == NULL || !id_is_set(batch))
		return 0;
	/* Added to an entry of the same batch when that entry is neither
	 * written yet nor older than the savepoint (a rollback drops the
	 * entries after it). */
	size_t floor = MAX(d->flushed, c->sp_open ? d->sp_n : 0);
	bool merged = false;
	for (size_t i = d->n; i > floor && !merged; i--) {
		if (id_eq(&d->v[i - 1].batch, batch)) {
			d->v[i - 1].delta += delta;
			merged = true;
		}
	}
	if (!merged) {
		d->v = db_grow(d->v, d->n, &d->cap, sizeof *d->v);
		d->v[d->n++] = (batch_delta){ *batch, delta };
	}
	return c->drv->in_transaction(c) ? 0 : batch_remaining_flush(c, false);
}

int batch_remaining_move(store_conn *c, const weft_id *batch, task_status from, task_status to)
{
	bool was_done = task_status_terminal(from), done = task_status_terminal(to);
	int err = task_count_move(c, from, to);
	return err || was_done == done ? err : batch_remaining_add(c, batch, done ? -1 : 1);
}

/* Writes the deltas not written yet; with `open`, the batches written and
 * whether each may have completed (remaining <= 0, completed_at null) go
 * to open (sorted by id, owned). */
static int flush(store_conn *c, bool at_commit, batch_delta **open, size_t *nopen)
{
	db_deltas *d = &c->deltas;
	if (d->flushed >= d->n)
		return 0;
	size_t n = d->n - d->flushed;
	batch_delta *v = xmalloc(n * sizeof *v);
	memcpy(v, d->v + d->flushed, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_delta);
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n;) {
		int64_t sum = 0;
		size_t j = i;
		for (; j < n && id_eq(&v[j].batch, &v[i].batch); j++)
			sum += v[j].delta;
		if (sum != 0) {
			db_set_row(&rows);
			db_set_field_text(&rows, "id", v[i].batch.str);
			db_set_field_int(&rows, "delta", sum);
		}
		i = j;
	}
	int err = 0;
	/* SQLite runs no INSERT in a WITH; it writes the counts on its own. */
	bool counts = c->drv->shared && task_counts_dirty(c);
	db_set count_rows;
	db_set_init(&count_rows);
	if (rows.n > 0) {
		db_stmt *st;
		if (at_commit && !c->final_writes_done && c->drv->final_writes != NULL)
			err = c->drv->final_writes(c);
		c->final_writes_done |= at_commit && !err;
		const db_sql *q = open ? (counts ? &q_remaining_read_counts : &q_remaining_read)
		                       : (counts ? &q_remaining_counts : &q_remaining);
		if (!err && (err = db_prepare(c, q, &st)) == 0) {
			db_bind_set(st, &rows);
			if (counts)
				task_counts_bind(c, st, &count_rows);
			err = open ? read_open(st, open, nopen) : db_send(st, NULL);
			if (!err && counts)
				task_counts_written(c);
		}
	}
	db_set_release(&count_rows);
	db_set_release(&rows);
	free(v);
	if (!err)
		d->flushed = d->n;
	return err;
}

int batch_remaining_flush(store_conn *c, bool at_commit)
{
	return flush(c, at_commit, NULL, NULL);
}

void batch_remaining_reset(store_conn *c)
{
	db_deltas *d = &c->deltas;
	d->n = d->flushed = d->sp_n = d->sp_flushed = 0;
}

void batch_remaining_savepoint(store_conn *c)
{
	c->deltas.sp_n = c->deltas.n;
	c->deltas.sp_flushed = c->deltas.flushed;
}

void batch_remaining_rollback(store_conn *c)
{
	c->deltas.n = c->deltas.sp_n;
	c->deltas.flushed = c->deltas.sp_flushed;
}

int store_batch_add_remaining(store_conn *c, const weft_id *batch, int64_t delta)
{
	return batch_remaining_add(c, batch, delta);
}

/* ---- completion --------------------------------------------------------------------- */

/* One guarded UPDATE for the set: of two nodes finishing a batch's last
 * tasks, the second waits for the first's row lock and then finds
 * completed_at set. The rows are locked in id order. A counter that went
 * below 0 (a task counted twice) still completes once. */
static const db_sql q_complete = {
	"batch_complete",
	"UPDATE batch SET completed_at = $2 FROM (SELECT b.id FROM batch AS b WHERE {in:b.id,$1} "
	"AND b.remaining <= 0 AND b.completed_at IS NULL{lock_in_order_of:b.id,b}) AS d "
	"WHERE batch.id = d.id AND batch.remaining <= 0 AND batch.completed_at IS NULL "
	"RETURNING batch.id, batch.on_complete",
	NULL,
};

static const db_sql q_outcome = {
	"batch_outcome",
	"SELECT s.batch_id, count(*) FILTER (WHERE s.status IN ('success', 'skipped')), "
	"count(*) FILTER (WHERE s.status = 'failure'), count(*) FILTER (WHERE s.status = 'canceled') FROM "
	"(SELECT batch_id, status FROM task WHERE {in:batch_id,$1} "
	" UNION ALL SELECT batch_id, status FROM task_archive WHERE {in:batch_id,$1}) AS s GROUP BY s.batch_id",
	NULL,
};

static int cmp_completion(const void *a, const void *b)
{
	return strncmp(((const batch_completion *)a)->batch.str, ((const batch_completion *)b)->batch.str,
	               WEFT_ID_LEN);
}

/* The counts of the completed batches (rows sorted by batch). */
static int outcomes_of(store_conn *c, batch_completion *rows, size_t n)
{
	db_stmt *st;
	int err = db_prepare(c, &q_outcome, &st);
	if (err)
		return err;
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n; i++)
		db_set_id(&ids, &rows[i].batch);
	db_bind_set(st, &ids);
	int rc;
	while ((rc = db_step(st)) > 0) {
		batch_completion key;
		db_col_id(st, 0, &key.batch);
		batch_completion *r = bsearch(&key, rows, n, sizeof *rows, cmp_completion);
		if (r == NULL)
			continue;
		r->counts.success = db_col_int(st, 1);
		r->counts.failure = db_col_int(st, 2);
		r->counts.canceled = db_col_int(st, 3);
	}
	db_set_release(&ids);
	return db_end(st, rc);
}

static int read_completion(db_stmt *st, void *row)
{
	batch_completion *r = row;
	db_col_id(st, 0, &r->batch);
	r->on_complete = db_col_str(st, 1);
	return 0;
}

static void release_completion(void *row)
{
	free(((batch_completion *)row)->on_complete);
}

int store_batch_complete_many(store_conn *c, const weft_id *batches, size_t n, int64_t now,
                              batch_completion **out, size_t *nout)
{
	db_stmt *st;
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	/* The counters are written first, and say which batches may have
	 * completed: those and the batches without a change to write are
	 * checked, by one more statement when there are any. */
	batch_delta *written = NULL;
	size_t nwritten = 0;
	int err = flush(c, false, &written, &nwritten);
	if (!err && nwritten > 1)
		qsort(written, nwritten, sizeof *written, cmp_delta);
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n && !err; i++) {
		batch_delta key = { .batch = batches[i] };
		batch_delta *w = nwritten > 0 ? bsearch(&key, written, nwritten, sizeof *written, cmp_delta) : NULL;
		if (w == NULL || w->delta != 0)
			db_set_id(&ids, &batches[i]);
	}
	free(written);
	if (!err && ids.n > 0)
		err = db_prepare(c, &q_complete, &st);
	if (err || ids.n == 0) {
		db_set_release(&ids);
		return err;
	}
	db_bind_set(st, &ids);
	db_bind_int(st, now);
	static const db_row_kind completions = { sizeof(batch_completion), read_completion, release_completion };
	void *got;
	size_t len;
	err = db_collect(st, &completions, &got, &len);
	batch_completion *rows = got;
	db_set_release(&ids);
	if (!err && len > 0) {
		qsort(rows, len, sizeof *rows, cmp_completion);
		err = outcomes_of(c, rows, len);
	}
	if (err) {
		store_free_completions(rows, len);
		return err;
	}
	*out = rows;
	*nout = len;
	return 0;
}

void store_free_completions(batch_completion *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].on_complete);
	free(rows);
}

int store_batch_complete(store_conn *c, const weft_id *batch, int64_t now, bool *completed, char **on_complete,
                         batch_outcome *counts)
{
	batch_completion *rows;
	size_t n;
	*completed = false;
	*on_complete = NULL;
	memset(counts, 0, sizeof *counts);
	int err = store_batch_complete_many(c, batch, 1, now, &rows, &n);
	if (!err && n == 1) {
		*completed = true;
		*on_complete = rows[0].on_complete;
		*counts = rows[0].counts;
		rows[0].on_complete = NULL;
	}
	if (!err)
		store_free_completions(rows, n);
	return err;
}

/* ---- cancel, rules, counts ---------------------------------------------------------- */

static const db_sql q_count_terminal = {
	"batch_terminal",
	"SELECT count(*) FROM task WHERE batch_id = $1 AND {noindex:status} IN " TERMINAL_IN, NULL,
};
/* The tasks to cancel, locked in id order: a concurrent cascade over the
 * same tasks waits instead of deadlocking. */
static const db_sql q_cancel_pick = {
	"batch_cancel_pick",
	"SELECT id, status FROM task WHERE batch_id = $1 AND {noindex:status} IN " ACTIVE_IN "{lock_in_order:id}",
	NULL,
};
/* Before the update: the events read the status each task leaves. */
static const db_sql q_cancel_events = {
	"batch_cancel_events",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT id, CAST($3 AS BIGINT), status, 'canceled', CAST($2 AS TEXT), 'api' FROM task "
	"WHERE batch_id = $1 AND {noindex:status} IN " ACTIVE_IN,
	NULL,
};
static const db_sql q_cancel = {
	"batch_cancel",
	"UPDATE task SET status = 'canceled', failure_reason = $2, ended_at = $3, last_updated = $3 "
	"WHERE batch_id = $1 AND {noindex:status} IN " ACTIVE_IN,
	NULL,
};

/* The tasks q_cancel_pick returns: counted by status, the running ones' ids kept. */
static int pick_to_cancel(store_conn *c, const weft_id *batch, batch_cancel_counts *counts, weft_id **running,
                          size_t *nrunning, int64_t *total)
{
	db_stmt *st;
	int err = db_prepare(c, &q_cancel_pick, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		task_status s;
		if ((rc = db_col_status(st, 1, &s)) != 0)
			break;
		counts->canceled[s]++;
		(*total)++;
		if (s != TS_RUNNING)
			continue;
		*running = db_grow(*running, *nrunning, &cap, sizeof **running);
		db_col_id(st, 0, &(*running)[(*nrunning)++]);
	}
	return db_end(st, rc);
}

/* Runs one of the cancel writes: batch $1, reason $2, now $3. */
static int cancel_write(store_conn *c, const db_sql *q, const weft_id *batch, const char *reason, int64_t now)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	db_bind_text(st, reason);
	db_bind_int(st, now);
	return db_send(st, NULL);
}

int store_batch_cancel(store_conn *c, const weft_id *batch, const char *reason, int64_t now,
                       batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning)
{
	db_stmt *st;
	memset(counts, 0, sizeof *counts);
	*was_running = NULL;
	*nrunning = 0;
	int64_t total = 0;
	int err = db_prepare(c, &q_count_terminal, &st);
	if (!err) {
		db_bind_id(st, batch);
		err = db_query_int(st, &counts->already_terminal, NULL);
	}
	if (!err)
		err = pick_to_cancel(c, batch, counts, was_running, nrunning, &total);
	if (!err && total > 0) {
		err = cancel_write(c, &q_cancel_events, batch, reason, now);
		if (!err)
			err = cancel_write(c, &q_cancel, batch, reason, now);
		if (!err)
			task_changed_note_run(c, batch);
		if (!err)
			err = batch_remaining_add(c, batch, -total);
		for (int s = 0; s < TS__COUNT && !err; s++)
			err = task_count_add(c, (task_status)s, -counts->canceled[s]);
		if (!err)
			err = task_count_add(c, TS_CANCELED, total);
	}
	if (err) {
		free(*was_running);
		*was_running = NULL;
		*nrunning = 0;
		memset(counts, 0, sizeof *counts);
	}
	return err;
}

/* ---- pause and resume ------------------------------------------------------------- */

/* Pause: pending and waiting tasks become paused. Resume: paused tasks
 * become waiting while their parents have not all finished, else pending.
 * $1 batch, $2 now, and for the events $3 actor, $4 reason. */
#define PAUSE_FROM "('pending', 'waiting')"
#define RESUME_TO "CASE WHEN wait_finished > 0 THEN 'waiting' ELSE 'pending' END"
static const db_sql q_pause_pick = {
	"batch_pause_pick",
	"SELECT status, count(*) FROM task WHERE batch_id = $1 AND {noindex:status} IN " PAUSE_FROM " GROUP BY status",
	NULL,
};
static const db_sql q_resume_pick = {
	"batch_resume_pick",
	"SELECT " RESUME_TO ", count(*) FROM task WHERE batch_id = $1 AND {noindex:status} = 'paused' "
	"GROUP BY " RESUME_TO,
	NULL,
};
/* The rows are locked in id order before the events read them. */
static const db_sql q_pause_lock = {
	"batch_pause_lock",
	"SELECT id FROM task WHERE batch_id = $1 AND {noindex:status} IN " PAUSE_FROM "{lock_in_order:id}", NULL,
};
static const db_sql q_resume_lock = {
	"batch_resume_lock",
	"SELECT id FROM task WHERE batch_id = $1 AND {noindex:status} = 'paused'{lock_in_order:id}", NULL,
};
static const db_sql q_pause_events = {
	"batch_pause_events",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT id, CAST($2 AS BIGINT), status, 'paused', CAST($4 AS TEXT), CAST($3 AS TEXT) FROM task "
	"WHERE batch_id = $1 AND {noindex:status} IN " PAUSE_FROM,
	NULL,
};
static const db_sql q_resume_events = {
	"batch_resume_events",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT id, CAST($2 AS BIGINT), 'paused', " RESUME_TO ", CAST($4 AS TEXT), CAST($3 AS TEXT) FROM task "
	"WHERE batch_id = $1 AND {noindex:status} = 'paused'",
	NULL,
};
static const db_sql q_pause = {
	"batch_pause",
	"UPDATE task SET status = 'paused', last_updated = $2 WHERE batch_id = $1 AND {noindex:status} IN " PAUSE_FROM
	,
	NULL,
};
static const db_sql q_resume = {
	"batch_resume",
	"UPDATE task SET status = " RESUME_TO ", last_updated = $2 WHERE batch_id = $1 AND {noindex:status} = 'paused'"
	,
	NULL,
};

/* One of the writes: the events with actor and reason, the update without. */
static int pause_write(store_conn *c, const db_sql *q, const weft_id *batch, int64_t now, const char *actor,
                       const char *reason)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	db_bind_int(st, now);
	if (actor != NULL) {
		db_bind_text(st, actor);
		db_bind_text(st, reason);
	}
	return db_send(st, NULL);
}

/* Counts the tasks the change applies to, by the status they leave
 * (pause) or reach (resume), after locking them. */
static int pause_pick(store_conn *c, const weft_id *batch, bool resume, int64_t counts[TS__COUNT])
{
	db_stmt *st;
	int err = db_prepare(c, resume ? &q_resume_lock : &q_pause_lock, &st);
	if (!err) {
		db_bind_id(st, batch);
		err = db_run(st, NULL);
	}
	if (!err)
		err = db_prepare(c, resume ? &q_resume_pick : &q_pause_pick, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	int rc;
	while ((rc = db_step(st)) > 0) {
		task_status s;
		if ((rc = db_col_status(st, 0, &s)) != 0)
			break;
		counts[s] += db_col_int(st, 1);
	}
	return db_end(st, rc);
}

int store_batch_pause(store_conn *c, const weft_id *batch, bool resume, int64_t now, const char *actor,
                      const char *reason, int64_t counts[TS__COUNT])
{
	memset(counts, 0, TS__COUNT * sizeof counts[0]);
	int err = pause_pick(c, batch, resume, counts);
	int64_t total = 0;
	for (int s = 0; s < TS__COUNT; s++)
		total += counts[s];
	if (err || total == 0)
		return err;
	err = pause_write(c, resume ? &q_resume_events : &q_pause_events, batch, now, actor, reason);
	if (!err)
		err = pause_write(c, resume ? &q_resume : &q_pause, batch, now, NULL, NULL);
	if (!err)
		task_changed_note_run(c, batch);
	for (int s = 0; s < TS__COUNT && !err; s++)
		err = task_count_add(c, (task_status)s, resume ? counts[s] : -counts[s]);
	if (!err)
		err = task_count_add(c, TS_PAUSED, resume ? -total : total);
	if (err)
		memset(counts, 0, TS__COUNT * sizeof counts[0]);
	return err;
}

static const db_sql q_rules = {
	"batch_rules",
	"UPDATE task SET rules = $3, last_updated = $4 "
	"WHERE batch_id = $1 AND kind = $2 AND {noindex:status} IN " ACTIVE_IN,
	NULL,
};

int store_batch_set_rules(store_conn *c, const weft_id *batch, const char *kind, const char *rules_json,
                          int64_t now, int64_t *updated)
{
	db_stmt *st;
	*updated = 0;
	int err = db_prepare(c, &q_rules, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	db_bind_text(st, kind);
	db_bind_text(st, rules_json ? rules_json : "[]");
	db_bind_ts(st, now);
	return db_run(st, updated);
}

static const db_sql q_task_count = {
	"batch_task_count", "SELECT count(*) FROM task WHERE batch_id = $1", NULL,
};

int store_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count)
{
	db_stmt *st;
	*count = 0;
	int err = db_prepare(c, &q_task_count, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	return db_query_int(st, count, NULL);
}

/* The counters' sums saturate at INT64_MAX (DB_SUM_PARTS). */
static const db_sql q_stats = {
	"batch_stats",
	"SELECT status, count(*), " DB_SUM_PARTS("success") ", " DB_SUM_PARTS("failures") ", count(expected_count), "
	DB_SUM_PARTS("expected_count") " FROM task WHERE batch_id = $1 GROUP BY status",
	NULL,
};

int store_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out)
{
	db_stmt *st;
	memset(out, 0, sizeof *out);
	int err = db_prepare(c, &q_stats, &st);
	if (err)
		return err;
	db_bind_id(st, batch);
	int64_t with_expected = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		task_status s;
		if ((rc = db_col_status(st, 0, &s)) != 0)
			break;
		int64_t count = db_col_int(st, 1);
		out->status_counts[s] = count;
		out->total_tasks += count;
		out->total_success = counter_add_sat(out->total_success, db_col_sum(st, 2));
		out->total_failures = counter_add_sat(out->total_failures, db_col_sum(st, 4));
		with_expected += db_col_int(st, 6);
		out->total_expected = counter_add_sat(out->total_expected, db_col_sum(st, 7));
	}
	if ((err = db_end(st, rc)) != 0) {
		memset(out, 0, sizeof *out);
		return err;
	}
	out->has_total_expected = with_expected == out->total_tasks;
	if (!out->has_total_expected)
		out->total_expected = 0;
	return out->total_tasks == 0 ? WEFT_ENOTFOUND : 0;
}
