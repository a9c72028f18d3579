/*
 * queues.c — queues as objects: their configuration (pause, limits), the
 * figures operators read (depth by status, the oldest ready job,
 * throughput), and the claim of a queue with limits.
 *
 * Throughput. Each job attempt that ends (completed, failed, dead-lettered)
 * is noted in memory on the writer's connection (store_jobs_change calls
 * queue_stats_note), summed per (namespace, queue, minute), and the sums
 * are written by one upsert into queue_stat just before COMMIT: one
 * statement per transaction, however many jobs ended in it. A savepoint
 * remembers how many entries there were, and its rollback drops the later
 * ones (an entry from before the savepoint is never added to afterwards).
 * Each connection writes its own slot, so that nodes rarely wait on the
 * same row.
 *
 * Limits (store_jobs_claim_limited, queue_limits.c). A queue with a
 * concurrency limit, a per-key concurrency limit or a rate limit is
 * claimed from under a lock per queue: on PostgreSQL its row, locked with
 * SKIP LOCKED (tried, never waited for) until the transaction ends; on
 * SQLite the single writer is the lock. Under it, the running counts
 * and the token buckets are read, a page of candidates is walked in claim
 * order in C, and the chosen rows and touched buckets are written before
 * the transaction (and the lock) ends. Every claim of a limited queue, on
 * every node, thus sees every claim committed before it. Ends of jobs take
 * no lock: they only lower counts, so a race can hold a slot back for an
 * instant, never let a limit be passed.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/queues.h"
#include "util/alloc.h"

#define MINUTE_US (60 * 1000000LL)
#define TOKEN_MICRO 1000000LL

bool queue_limits_any(const queue_limits *l)
{
	return l->concurrency > 0 || l->key_concurrency > 0 || l->rate_limit > 0;
}

void queue_row_release(queue_row *q)
{
	free(q->namespace);
	free(q->name);
	free(q->updated_by);
	memset(q, 0, sizeof *q);
}

void store_free_queues(queue_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_row_release(&rows[i]);
	free(rows);
}

/* ---- configuration ----------------------------------------------------------------- */

#define QUEUE_COLS                                                                                   \
	"namespace, name, paused, concurrency_limit, key_concurrency_limit, rate_limit, rate_period_ms, " \
	"rate_burst, created_at, updated_at, updated_by"

static int read_queue(db_stmt *st, void *row)
{
	queue_row *q = row;
	q->namespace = db_col_str_nn(st, 0, "");
	q->name = db_col_str_nn(st, 1, "");
	q->paused = db_col_int(st, 2) != 0;
	q->limits = (queue_limits){ .concurrency = db_col_int(st, 3), .key_concurrency = db_col_int(st, 4),
	                            .rate_limit = db_col_int(st, 5), .rate_period_ms = db_col_int(st, 6),
	                            .rate_burst = db_col_int(st, 7) };
	q->created_at = db_col_int(st, 8);
	q->updated_at = db_col_int(st, 9);
	q->updated_by = db_col_str(st, 10);
	return 0;
}

static void release_queue(void *row)
{
	queue_row_release(row);
}

static const db_row_kind queue_kind = { sizeof(queue_row), read_queue, release_queue };

static const db_sql q_queue_get = {
	"queue_get", "SELECT " QUEUE_COLS " FROM queue WHERE namespace = $1 AND name = $2", NULL,
};

int store_queue_get(store_conn *c, const char *ns, const char *name, queue_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_queue_get, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, name);
	void *rows = NULL;
	size_t n = 0;
	if ((err = db_collect(st, &queue_kind, &rows, &n)) != 0)
		return err;
	if (n == 0) {
		free(rows);
		return WEFT_ENOTFOUND;
	}
	*out = *(queue_row *)rows;
	for (size_t i = 1; i < n; i++)
		queue_row_release((queue_row *)rows + i);
	free(rows);
	return 0;
}

/* Keyset pages along (namespace, name), in byte order on both backends. */
static const db_sql q_queue_list = {
	"queue_list",
	"SELECT " QUEUE_COLS " FROM queue WHERE {in:namespace,$1} "
	"AND (namespace > $2 OR (namespace = $2 AND name > $3)) ORDER BY namespace, name LIMIT $4",
	NULL,
};
static const db_sql q_queue_list_all = {
	"queue_list_all",
	"SELECT " QUEUE_COLS " FROM queue WHERE $1 = 0 "
	"AND (namespace > $2 OR (namespace = $2 AND name > $3)) ORDER BY namespace, name LIMIT $4",
	NULL,
};

int store_queue_list(store_conn *c, const char *const *ns, size_t nns, const char *after_ns, const char *after_name,
                     size_t limit, queue_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_set set;
	db_set_init(&set);
	for (size_t i = 0; i < nns; i++)
		db_set_text(&set, ns[i]);
	db_stmt *st;
	int err = db_prepare(c, ns != NULL ? &q_queue_list : &q_queue_list_all, &st);
	if (err == 0) {
		if (ns != NULL)
			db_bind_set(st, &set);
		else
			db_bind_int(st, 0);
		db_bind_text(st, after_ns ? after_ns : "");
		db_bind_text(st, after_name ? after_name : "");
		db_bind_int(st, db_clamp_limit(limit));
		void *rows = NULL;
		err = db_collect(st, &queue_kind, &rows, n);
		*out = rows;
	}
	db_set_release(&set);
	return err;
}

/* A change of configuration creates the queue when it has no row yet, so
 * that limits can be set before the first job. Each field is changed only
 * when its bit is set. */
static const db_sql q_queue_update = {
	"queue_update",
	"INSERT INTO queue (id, namespace, name, paused, concurrency_limit, key_concurrency_limit, rate_limit, "
	"rate_period_ms, rate_burst, created_at, updated_at, updated_by) "
	"VALUES ($1 || '/' || $2, $1, $2, CASE WHEN $3 < 0 THEN 0 ELSE $3 END, $4, $5, $6, $7, $8, $9, $9, $10) "
	"ON CONFLICT (namespace, name) DO UPDATE SET "
	"paused = CASE WHEN $3 < 0 THEN queue.paused ELSE $3 END, "
	"concurrency_limit = CASE WHEN $11 & 1 <> 0 THEN $4 ELSE queue.concurrency_limit END, "
	"key_concurrency_limit = CASE WHEN $11 & 2 <> 0 THEN $5 ELSE queue.key_concurrency_limit END, "
	"rate_limit = CASE WHEN $11 & 4 <> 0 THEN $6 ELSE queue.rate_limit END, "
	"rate_period_ms = CASE WHEN $11 & 4 <> 0 THEN $7 ELSE queue.rate_period_ms END, "
	"rate_burst = CASE WHEN $11 & 4 <> 0 THEN $8 ELSE queue.rate_burst END, "
	"updated_at = $9, updated_by = $10",
	NULL,
};
static const db_sql q_queue_event = {
	"queue_event_insert",
	"INSERT INTO queue_event (namespace, queue, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
	NULL,
};

int store_queue_update(store_conn *c, const queue_update *u, int64_t now)
{
	db_stmt *st;
	int err = db_prepare(c, &q_queue_update, &st);
	if (err)
		return err;
	db_bind_text(st, u->ns);
	db_bind_text(st, u->name);
	db_bind_int(st, u->paused);
	db_bind_int_or_null(st, u->limits.concurrency);
	db_bind_int_or_null(st, u->limits.key_concurrency);
	db_bind_int_or_null(st, u->limits.rate_limit);
	db_bind_int_or_null(st, u->limits.rate_limit ? u->limits.rate_period_ms : 0);
	db_bind_int_or_null(st, u->limits.rate_limit ? u->limits.rate_burst : 0);
	db_bind_int(st, now);
	db_bind_text(st, u->actor);
	db_bind_int(st, u->set);
	if ((err = db_run(st, NULL)) != 0)
		return err;
	if ((err = db_prepare(c, &q_queue_event, &st)) != 0)
		return err;
	db_bind_text(st, u->ns);
	db_bind_text(st, u->name);
	db_bind_int(st, now);
	db_bind_text(st, u->actor);
	db_bind_text(st, u->action);
	db_bind_text(st, u->detail);
	return db_run(st, NULL);
}

static const db_sql q_queue_events = {
	"queue_events",
	"SELECT at, actor, action, detail FROM queue_event WHERE namespace = $1 AND queue = $2 "
	"ORDER BY at DESC, id DESC LIMIT $3",
	NULL,
};

static int read_queue_event(db_stmt *st, void *row)
{
	queue_event *ev = row;
	ev->at = db_col_int(st, 0);
	ev->actor = db_col_str_nn(st, 1, "");
	ev->action = db_col_str_nn(st, 2, "");
	ev->detail = db_col_str(st, 3);
	return 0;
}

static void release_queue_event(void *row)
{
	queue_event *ev = row;
	free(ev->actor);
	free(ev->action);
	free(ev->detail);
}

int store_queue_events(store_conn *c, const char *ns, const char *name, size_t limit, queue_event **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_queue_events, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, name);
	db_bind_int(st, db_clamp_limit(limit));
	static const db_row_kind kind = { sizeof(queue_event), read_queue_event, release_queue_event };
	void *rows = NULL;
	err = db_collect(st, &kind, &rows, n);
	*out = rows;
	return err;
}

void store_free_queue_events(queue_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_queue_event(&ev[i]);
	free(ev);
}

/* ---- figures ------------------------------------------------------------------------ */

/* Each count runs along an index that holds only its rows: the ready and
 * delayed ones (task_queue_ready), those in flight (task_timed), the dead
 * letters (task_dead). Jobs paused one by one (ArcRun's pause) are not
 * counted: an index for them would cost every insert and status change a
 * predicate, for a figure the task list gives (status=paused). */
static const db_sql q_queue_depth = {
	"queue_depth",
	"SELECT "
	"(SELECT count(*) FROM task{index:task_queue_ready} WHERE status = 'pending' AND executor = 'queue' "
	"  AND namespace = $1 AND kind = $2 AND start_after <= $3), "
	"(SELECT count(*) FROM task{index:task_queue_ready} WHERE status = 'pending' AND executor = 'queue' "
	"  AND namespace = $1 AND kind = $2 AND start_after > $3), "
	"(SELECT min(start_after) FROM task{index:task_queue_ready} WHERE status = 'pending' "
	"  AND executor = 'queue' AND namespace = $1 AND kind = $2 AND start_after <= $3), "
	"(SELECT count(*) FROM task WHERE status = 'running' AND executor = 'queue' AND namespace = $1 AND kind = $2), "
	"(SELECT count(*) FROM task WHERE status = 'retrying' AND executor = 'queue' AND namespace = $1 "
	"  AND kind = $2), "
	"(SELECT count(*) FROM task{index:task_dead} WHERE dead_at IS NOT NULL AND namespace = $1 AND kind = $2)",
	NULL,
};
static const db_sql q_queue_throughput = {
	"queue_throughput",
	"SELECT minute, CAST(sum(completed) AS BIGINT), CAST(sum(failed) AS BIGINT), CAST(sum(dead) AS BIGINT) "
	"FROM queue_stat WHERE namespace = $1 AND queue = $2 AND minute > $3 GROUP BY minute",
	NULL,
};

static const int windows[QUEUE_WINDOWS] = { 1, 5, 15 };

int store_queue_stats(store_conn *c, const char *ns, const char *name, int64_t now, queue_stats *out)
{
	memset(out, 0, sizeof *out);
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	db_stmt *st;
	if ((err = db_prepare(c, &q_queue_depth, &st)) == 0) {
		db_bind_text(st, ns);
		db_bind_text(st, name);
		db_bind_int(st, now);
		int rc = db_step(st);
		if (rc > 0) {
			out->ready = db_col_int(st, 0);
			out->scheduled = db_col_int(st, 1);
			out->oldest_ready_at = db_col_null(st, 2) ? 0 : db_col_int(st, 2);
			out->running = db_col_int(st, 3);
			out->retrying = db_col_int(st, 4);
			out->dead = db_col_int(st, 5);
		}
		err = db_end(st, rc < 0 ? rc : 0);
	}
	int64_t minute = now / MINUTE_US;
	if (err == 0 && (err = db_prepare(c, &q_queue_throughput, &st)) == 0) {
		db_bind_text(st, ns);
		db_bind_text(st, name);
		db_bind_int(st, minute - windows[QUEUE_WINDOWS - 1]);
		int rc;
		while ((rc = db_step(st)) > 0) {
			int64_t m = db_col_int(st, 0);
			for (int w = 0; w < QUEUE_WINDOWS; w++) {
				if (m <= minute - windows[w] || m > minute)
					continue;
				out->completed[w] += db_col_int(st, 1);
				out->failed[w] += db_col_int(st, 2);
				out->dead_lettered[w] += db_col_int(st, 3);
			}
		}
		err = db_end(st, rc);
	}
	return db_own_end(c, own, err);
}

int queue_stats_window_minutes(int w)
{
	return w >= 0 && w < QUEUE_WINDOWS ? windows[w] : 0;
}

/* ---- throughput notes, written at commit ------------------------------------------------ */

struct queue_stat_entry {
	char ns[NAMESPACE_MAX + 1];
	char queue[TASK_KIND_MAX + 1];
	int64_t minute;
	int64_t completed, failed, dead;
};

void queue_stats_note(store_conn *c, const char *ns, const char *queue, int64_t now, task_status to, bool dead,
                      bool attempt_failed)
{
	bool completed = to == TS_SUCCESS;
	if (!completed && !attempt_failed)
		return;                 /* a release: the attempt did not end */
	db_qstats *q = &c->qstats;
	int64_t minute = now / MINUTE_US;
	struct queue_stat_entry *e = q->n > q->sp_n ? &q->v[q->n - 1] : NULL;
	if (e == NULL || e->minute != minute || strcmp(e->ns, ns) != 0 || strcmp(e->queue, queue) != 0) {
		q->v = db_grow(q->v, q->n, &q->cap, sizeof *q->v);
		e = &q->v[q->n++];
		memset(e, 0, sizeof *e);
		snprintf(e->ns, sizeof e->ns, "%s", ns);
		snprintf(e->queue, sizeof e->queue, "%s", queue);
		e->minute = minute;
	}
	e->completed += completed;
	e->failed += attempt_failed;
	e->dead += dead;
}

bool queue_stats_noted(const store_conn *c, const char *ns, const char *queue)
{
	for (size_t i = 0; i < c->qstats.n; i++)
		if (strcmp(c->qstats.v[i].ns, ns) == 0 && strcmp(c->qstats.v[i].queue, queue) == 0)
			return true;
	return false;
}

void queue_stats_savepoint(store_conn *c)
{
	c->qstats.sp_n = c->qstats.n;
}

void queue_stats_rollback(store_conn *c)
{
	c->qstats.n = MIN(c->qstats.n, c->qstats.sp_n);
}

void queue_stats_reset(store_conn *c)
{
	c->qstats.n = c->qstats.sp_n = 0;
}

void queue_stats_release(store_conn *c)
{
	free(c->qstats.v);
	memset(&c->qstats, 0, sizeof c->qstats);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct queue_stat_entry *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);
	if (r == 0)
		r = strcmp(x->queue, y->queue);
	return r != 0 ? r : (x->minute > y->minute) - (x->minute < y->minute);
}

static const db_sql q_stat_add = {
	"queue_stat_add",
	"INSERT INTO queue_stat (namespace, queue, minute, slot, completed, failed, dead) "
	"SELECT r.ns, r.queue, r.minute, $2, r.completed, r.failed, r.dead "
	"FROM {rows:$1,ns text,queue text,minute bigint,completed bigint,failed bigint,dead bigint} AS r WHERE true "
	"ON CONFLICT (namespace, queue, minute, slot) DO UPDATE SET completed = queue_stat.completed + "
	"excluded.completed, failed = queue_stat.failed + excluded.failed, dead = queue_stat.dead + excluded.dead",
	NULL,
};

#define STAT_SLOTS 16

int queue_stats_flush(store_conn *c, bool at_commit)
{
	db_qstats *q = &c->qstats;
	if (q->n == 0)
		return 0;
	int err = 0;
	if (at_commit && !c->final_writes_done && c->drv->final_writes != NULL)
		err = c->drv->final_writes(c);
	c->final_writes_done |= at_commit && !err;
	if (err)
		return err;
	/* One row per key (an upsert may not change a row twice), in key
	 * order (two nodes lock rows in the same order). */
	qsort(q->v, q->n, sizeof *q->v, cmp_entry);
	size_t k = 0;
	for (size_t i = 0; i < q->n; i++) {
		if (k > 0 && cmp_entry(&q->v[k - 1], &q->v[i]) == 0) {
			q->v[k - 1].completed += q->v[i].completed;
			q->v[k - 1].failed += q->v[i].failed;
			q->v[k - 1].dead += q->v[i].dead;
		} else {
			q->v[k++] = q->v[i];
		}
	}
	q->n = k;
	if (q->slot == 0) {
		weft_id r;
		id_new_v4(&r);
		q->slot = 1 + (int)((unsigned char)r.str[0] + (unsigned char)r.str[1]) % STAT_SLOTS;
	}
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < q->n; i++) {
		db_set_row(&rows);
		db_set_field_text(&rows, "ns", q->v[i].ns);
		db_set_field_text(&rows, "queue", q->v[i].queue);
		db_set_field_int(&rows, "minute", q->v[i].minute);
		db_set_field_int(&rows, "completed", q->v[i].completed);
		db_set_field_int(&rows, "failed", q->v[i].failed);
		db_set_field_int(&rows, "dead", q->v[i].dead);
	}
	db_stmt *st;
	if ((err = db_prepare(c, &q_stat_add, &st)) == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, q->slot);
		err = db_run(st, NULL);
	}
	db_set_release(&rows);
	if (err == 0)
		q->n = q->sp_n = 0;
	return err;
}

static const db_sql q_stat_expire = {
	"queue_stat_expire", "DELETE FROM queue_stat WHERE minute < $1", NULL,
};

int store_queue_stats_expire(store_conn *c, int64_t now)
{
	db_stmt *st;
	int err = db_prepare(c, &q_stat_expire, &st);
	if (err)
		return err;
	db_bind_int(st, now / MINUTE_US - 2 * windows[QUEUE_WINDOWS - 1]);
	return db_run(st, NULL);
}
