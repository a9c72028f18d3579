/*
 * jobs.c — the rows of job queues: inserting jobs, dedup keys, queue and
 * worker rows, the claim statement and the parents of claimed jobs; the
 * reports on held jobs are job_reports.c's.
 *
 * A job is a task row with executor 'queue' and kind = its queue; its
 * ready rows sit in the partial index task_queue_ready, in claim order
 * (priority DESC, start_after, id). A cycle's claims cost one statement
 * per claim and queue; the other statements take a set bound as one
 * parameter.
 * Claims write no audit rows: the trail derives them (events.c).
 */
#include "util/common.h"

#include "store/db.h"
#include "store/jobs.h"
#include "util/alloc.h"

/* ---- inserting jobs ------------------------------------------------------------------ */

#define JOB_INSERT_COLS                                                                              \
	"id, name, kind, status, executor, timeout_secs, created_at, last_updated, metadata, rules, "   \
	"priority, attempt, start_after, retry_policy, namespace, input, concurrency_key, rate_key, shape"

static const db_sql q_job_insert = {
	"job_insert",
	"INSERT INTO task (" JOB_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"$14, $15, $16, $17, $18, $19)",
	"COPY task (" JOB_INSERT_COLS ") FROM STDIN",
};

/* The same insert without its COPY form, for a few rows: on PostgreSQL a
 * COPY costs two round trips of its own and first waits for the answers
 * of the statements queued before it, while a few INSERTs go out with the
 * rest of the transaction. */
static const db_sql q_job_insert_few = {
	"job_insert",
	"INSERT INTO task (" JOB_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"$14, $15, $16, $17, $18, $19)",
	NULL,
};
/* Up to this many rows, an insert is sent as INSERTs rather than COPY. */
#define JOB_INSERT_FEW 16

int store_jobs_insert(store_conn *c, const job_new *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const job_new *j = &jobs[i];
		db_stmt *st;
		int err = db_prepare(c, n <= JOB_INSERT_FEW ? &q_job_insert_few : &q_job_insert, &st);
		if (err)
			return err;
		db_bind_id(st, &j->id);
		db_bind_text(st, j->name ? j->name : j->queue);
		db_bind_text(st, j->queue);
		db_bind_text(st, "pending");
		db_bind_text(st, "queue");
		db_bind_int(st, j->timeout_secs);
		db_bind_int(st, j->created_at);
		db_bind_int(st, j->created_at);
		db_bind_text(st, j->metadata ? j->metadata : "null");
		db_bind_text(st, "[]");
		db_bind_int(st, j->priority);
		db_bind_int(st, 1);
		db_bind_int(st, j->start_after);
		db_bind_text(st, j->retry_policy);
		db_bind_text(st, j->namespace ? j->namespace : NAMESPACE_DEFAULT);
		db_bind_text(st, j->input ? j->input : "null");
		db_bind_text(st, j->concurrency_key);
		db_bind_text(st, j->rate_key);
		db_bind_int(st, 0);         /* a lone job: no parents, children or webhooks */
		if ((err = db_send(st, NULL)) != 0)
			return err;
	}
	for (size_t i = 0; i < n; i++)
		task_changed_note(c, &jobs[i].id, TS_PENDING);
	return n ? task_count_add(c, TS_PENDING, (int64_t)n) : 0;
}

/* ---- queues and workers ---------------------------------------------------------------- */

static const db_sql q_queues_ensure = {
	"queues_ensure",
	"INSERT INTO queue (id, namespace, name, created_at, updated_at) "
	"SELECT $1 || '/' || q.value, $1, q.value, $2, $2 FROM {each:$3} AS q WHERE true "
	"ON CONFLICT DO NOTHING",
	NULL,
};

int store_queues_ensure(store_conn *c, const char *ns, const char *const *names, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	db_set set;
	db_set_init(&set);
	for (size_t i = 0; i < n; i++)
		db_set_text(&set, names[i]);
	db_stmt *st;
	int err = db_prepare(c, &q_queues_ensure, &st);
	if (err == 0) {
		db_bind_text(st, ns);
		db_bind_int(st, now);
		db_bind_set(st, &set);
		err = db_send(st, NULL);
	}
	db_set_release(&set);
	return err;
}

static const db_sql q_workers_seen = {
	"workers_seen",
	"UPDATE worker SET last_seen_at = $2 WHERE {in:id,$1} RETURNING namespace, id, draining",
	NULL,
};

int store_workers_seen(store_conn *c, worker_seen *w, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n; i++) {
		w[i].draining = false;
		db_set_text(&ids, w[i].id);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_workers_seen, &st);
	if (err == 0) {
		db_bind_set(st, &ids);
		db_bind_int(st, now);
		int rc;
		while ((rc = db_step(st)) > 0) {
			const char *ns = db_col_text(st, 0), *id = db_col_text(st, 1);
			bool draining = db_col_int(st, 2) != 0;
			for (size_t i = 0; i < n && ns != NULL && id != NULL; i++)
				if (strcmp(w[i].id, id) == 0 && (w[i].ns == NULL || strcmp(w[i].ns, ns) == 0))
					w[i].draining |= draining;
		}
		err = db_end(st, rc);
	}
	db_set_release(&ids);
	return err;
}

static const db_sql q_workers_touch = {
	"workers_touch",
	"INSERT INTO worker (namespace, id, hostname, queues, first_seen_at, last_seen_at) "
	"SELECT r.ns, r.id, r.hostname, r.queues, $2, $2 "
	"FROM {rows:$1,ns text,id text,hostname text,queues text} AS r WHERE true "
	"ON CONFLICT (namespace, id) DO UPDATE SET hostname = coalesce(excluded.hostname, worker.hostname), "
	"queues = excluded.queues, last_seen_at = excluded.last_seen_at "
	"RETURNING namespace, id, draining",
	NULL,
};

static bool same_worker(const worker_seen *x, const worker_seen *y)
{
	return strcmp(x->ns, y->ns) == 0 && strcmp(x->id, y->id) == 0;
}

/* By namespace, id, then position (the last entry of a worker last). */
static int cmp_worker(const void *a, const void *b)
{
	const worker_seen *x = *(const worker_seen *const *)a, *y = *(const worker_seen *const *)b;
	int c = strcmp(x->ns, y->ns);
	if (c == 0)
		c = strcmp(x->id, y->id);
	return c != 0 ? c : (x > y) - (x < y);
}

int store_workers_touch(store_conn *c, worker_seen *w, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	/* Rows in (namespace, id) order, so that two nodes touching the same
	 * workers lock them in the same order; one row per worker (an upsert
	 * may not change a row twice). */
	worker_seen **order = xmalloc(n * sizeof *order);
	for (size_t i = 0; i < n; i++) {
		w[i].draining = false;
		order[i] = &w[i];
	}
	qsort(order, n, sizeof *order, cmp_worker);
	db_set rows;
	db_set_init(&rows);
	for (size_t k = 0; k < n; k++) {
		if (k + 1 < n && same_worker(order[k], order[k + 1]))
			continue;          /* the last of a worker's entries stands for it */
		size_t i = (size_t)(order[k] - w);
		db_set_row(&rows);
		db_set_field_text(&rows, "ns", w[i].ns);
		db_set_field_text(&rows, "id", w[i].id);
		db_set_field_text(&rows, "hostname", w[i].hostname);
		db_set_field_text(&rows, "queues", w[i].queues_json ? w[i].queues_json : "[]");
	}
	db_stmt *st;
	int err = db_prepare(c, &q_workers_touch, &st);
	if (err == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		int rc;
		while ((rc = db_step(st)) > 0) {
			const char *ns = db_col_text(st, 0), *id = db_col_text(st, 1);
			bool draining = db_col_int(st, 2) != 0;
			for (size_t i = 0; i < n && ns != NULL && id != NULL; i++)
				if (strcmp(w[i].ns, ns) == 0 && strcmp(w[i].id, id) == 0)
					w[i].draining = draining;
		}
		err = db_end(st, rc);
	}
	db_set_release(&rows);
	free(order);
	return err;
}

/* ---- dedup keys ------------------------------------------------------------------------ */

/* A key is taken when it has no row, or its row may be replaced: its
 * window is over, or it lived while its job was active and the job ended. */
static const db_sql q_dedup_take = {
	"job_dedup_take",
	"INSERT INTO job_dedup (namespace, queue, key, task_id, expires_at) "
	"SELECT $1, r.queue, r.key, r.task_id, r.expires_at "
	"FROM {rows:$2,queue text,key text,task_id text,expires_at bigint} AS r WHERE true "
	"ON CONFLICT (namespace, queue, key) DO UPDATE SET task_id = excluded.task_id, expires_at = excluded.expires_at "
	"WHERE job_dedup.expires_at <= $3 OR (job_dedup.expires_at IS NULL AND NOT EXISTS "
	"  (SELECT 1 FROM task AS t WHERE t.id = job_dedup.task_id "
	"   AND t.status IN ('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying'))) "
	"RETURNING queue, key, task_id",
	NULL,
};
static const db_sql q_dedup_owners = {
	"job_dedup_owners",
	"SELECT d.queue, d.key, d.task_id, t.status FROM {rows:$2,queue text,key text} AS r "
	"JOIN job_dedup AS d ON d.namespace = $1 AND d.queue = r.queue AND d.key = r.key "
	"LEFT JOIN task AS t ON t.id = d.task_id",
	NULL,
};

static const db_sql q_dedup_expire = {
	"job_dedup_expire",
	"DELETE FROM job_dedup WHERE (namespace, queue, key) IN (SELECT d.namespace, d.queue, d.key "
	"FROM job_dedup AS d WHERE d.expires_at <= $1 OR (d.expires_at IS NULL AND NOT EXISTS "
	"  (SELECT 1 FROM task AS t WHERE t.id = d.task_id "
	"   AND t.status IN ('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying'))) LIMIT $2)",
	NULL,
};

int store_jobs_dedup_expire(store_conn *c, int64_t now, size_t limit, int64_t *removed)
{
	db_stmt *st;
	*removed = 0;
	int err = db_prepare(c, &q_dedup_expire, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	db_bind_int(st, db_clamp_limit(limit));
	return db_run(st, removed);
}

static job_dedup_req *dedup_find(job_dedup_req *reqs, size_t n, const char *queue, const char *key)
{
	for (size_t i = 0; i < n; i++)      /* sets are at most JOBS_PER_REQUEST_MAX per command */
		if (strcmp(reqs[i].queue, queue) == 0 && strcmp(reqs[i].key, key) == 0)
			return &reqs[i];
	return NULL;
}

int store_jobs_dedup(store_conn *c, const char *ns, job_dedup_req *reqs, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n; i++) {
		reqs[i].taken = false;
		memset(&reqs[i].owner, 0, sizeof reqs[i].owner);
		db_set_row(&rows);
		db_set_field_text(&rows, "queue", reqs[i].queue);
		db_set_field_text(&rows, "key", reqs[i].key);
		db_set_field_text(&rows, "task_id", reqs[i].task_id.str);
		if (reqs[i].expires_at)
			db_set_field_int(&rows, "expires_at", reqs[i].expires_at);
		else
			db_set_field_text(&rows, "expires_at", NULL);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_dedup_take, &st);
	int rc = 0;
	size_t ntaken = 0;
	if (err == 0) {
		db_bind_text(st, ns);
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		while ((rc = db_step(st)) > 0) {
			job_dedup_req *r = dedup_find(reqs, n, db_col_text(st, 0), db_col_text(st, 1));
			weft_id owner;
			db_col_id(st, 2, &owner);
			if (r != NULL && id_eq(&owner, &r->task_id)) {
				r->taken = true;
				ntaken++;
			}
		}
		err = db_end(st, rc);
	}
	if (err == 0 && ntaken < n && (err = db_prepare(c, &q_dedup_owners, &st)) == 0) {
		db_bind_text(st, ns);
		db_bind_set(st, &rows);
		while ((rc = db_step(st)) > 0) {
			job_dedup_req *r = dedup_find(reqs, n, db_col_text(st, 0), db_col_text(st, 1));
			if (r == NULL || r->taken)
				continue;
			db_col_id(st, 2, &r->owner);
			if (db_col_null(st, 3) || db_col_status(st, 3, &r->owner_status) != 0)
				r->owner_status = TS_SUCCESS;      /* archived: it ended */
		}
		err = db_end(st, rc);
	}
	db_set_release(&rows);
	return err;
}

/* ---- claims ------------------------------------------------------------------------------ */

/* A queue the plain claim leaves alone: paused, or limited (claimed by
 * store_jobs_claim_limited, queue_limits.c). */
#define QUEUE_NOT_PLAIN                                                                             \
	"(q.paused <> 0 OR q.concurrency_limit IS NOT NULL OR q.key_concurrency_limit IS NOT NULL OR " \
	"q.rate_limit IS NOT NULL)"

/* One claim's rows: the queue's first ready rows (locked, skipping rows
 * another node is claiming), picked in a WITH, which runs once. The
 * claims of a cycle on one queue run it once each, in turn: ranking the
 * rows of all of them in one statement with a window function cost 40%
 * more per row on SQLite and 2.5 times as much on PostgreSQL. The rows are
 * found again by their physical key ({rowkey}: rowid, ctid; a locked row
 * keeps it), which spares a lookup of the primary key per row. */
static const db_sql q_claim_one = {
	"job_claim",
	"WITH next AS (SELECT {rowkey} AS rk FROM task{index:task_queue_ready} "
	"  WHERE status = 'pending' AND executor = 'queue' AND namespace = $1 AND kind = $2 "
	"  AND start_after <= $3 AND NOT EXISTS (SELECT 1 FROM queue AS q "
	"    WHERE q.namespace = $1 AND q.name = $2 AND " QUEUE_NOT_PLAIN ") "
	"  ORDER BY priority DESC, start_after, id LIMIT $4{lock_skip}) "
	"UPDATE task SET status = 'running', started_at = $3, last_updated = $3, "
	"lease_token = task.lease_token + 1, worker_id = $5, claimed_by = $6, "
	"lease_until = {least:$3 + $7,$3 + task.timeout_secs * 1000000} "
	"WHERE {in_query:task.{rowkey},SELECT rk FROM next} "
	"RETURNING task.id, task.priority, task.start_after, task.attempt, task.lease_token, task.lease_until, "
	"task.name, task.input, task.metadata, task.retry_policy, task.timeout_secs, task.shape, task.batch_id, "
	"task.started_at",
	NULL,
};

static int cmp_claimed(const void *a, const void *b)
{
	const job_claimed_row *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->start_after != y->start_after)
		return x->start_after < y->start_after ? -1 : 1;
	return strncmp(x->id.str, y->id.str, WEFT_ID_LEN);
}

static int read_claimed(db_stmt *st, void *row)
{
	job_claimed_row *r = row;
	db_col_id(st, 0, &r->id);
	r->priority = (int32_t)db_col_int(st, 1);
	r->start_after = db_col_int(st, 2);
	r->attempt = (int32_t)db_col_int(st, 3);
	r->lease_token = db_col_int(st, 4);
	r->lease_until = db_col_int(st, 5);
	r->name = db_col_str_nn(st, 6, "");
	r->input = db_col_str_nn(st, 7, "null");
	r->metadata = db_col_str_nn(st, 8, "null");
	r->retry_policy = db_col_str(st, 9);
	r->timeout_secs = (int32_t)db_col_int(st, 10);
	r->shape = (int32_t)db_col_int(st, 11);
	db_col_id(st, 12, &r->batch_id);
	r->started_at = db_col_int(st, 13);
	return 0;
}

static void release_claimed(void *row)
{
	job_claimed_row *r = row;
	free(r->name);
	free(r->input);
	free(r->metadata);
	free(r->retry_policy);
}

const db_row_kind *store_claimed_row_kind(void)
{
	static const db_row_kind kind = { sizeof(job_claimed_row), read_claimed, release_claimed };
	return &kind;
}

void store_free_claimed(job_claimed_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_claimed(&rows[i]);
	free(rows);
}

/* One range's rows by q_claim_one (ranks lo..hi of what is left after
 * the ranges before it), appended to *rows. */
static int claim_range(store_conn *c, const char *ns, const char *queue, int64_t now, const job_claim_range *r,
                       size_t range, job_claimed_row **rows, size_t *n)
{
	db_stmt *st;
	int err = db_prepare(c, &q_claim_one, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, queue);
	db_bind_int(st, now);
	db_bind_int(st, r->hi - r->lo + 1);
	db_bind_text(st, r->worker_id);
	db_bind_text(st, r->actor);
	db_bind_int(st, r->lease_us);
	static const db_row_kind kind = { sizeof(job_claimed_row), read_claimed, release_claimed };
	void *got = NULL;
	size_t ngot = 0;
	if ((err = db_collect(st, &kind, &got, &ngot)) != 0 || ngot == 0) {
		free(got);
		return err;
	}
	job_claimed_row *g = got;
	qsort(g, ngot, sizeof *g, cmp_claimed);
	*rows = xrealloc(*rows, (*n + ngot) * sizeof **rows);
	for (size_t i = 0; i < ngot; i++) {
		g[i].range = range;
		(*rows)[(*n)++] = g[i];
	}
	free(got);
	return 0;
}

int store_jobs_claim(store_conn *c, const char *ns, const char *queue, int64_t now, const job_claim_range *r,
                     size_t nr, job_claimed_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int err = 0;
	for (size_t i = 0; i < nr && err == 0; i++) {
		if (r[i].hi < r[i].lo)
			continue;
		size_t before = *n;
		err = claim_range(c, ns, queue, now, &r[i], i, out, n);
		if (err == 0 && *n - before < (size_t)(r[i].hi - r[i].lo + 1))
			break;          /* the queue ran dry: the later ranges would get nothing */
	}
	if (err != 0) {
		store_free_claimed(*out, *n);
		*out = NULL;
		*n = 0;
	}
	if (err != 0 || *n == 0)
		return err;
	for (size_t i = 0; i < *n; i++)
		task_changed_note(c, &(*out)[i].id, TS_RUNNING);
	err = task_count_add(c, TS_PENDING, -(int64_t)*n);
	return err ? err : task_count_add(c, TS_RUNNING, (int64_t)*n);
}

static const db_sql q_parents = {
	"job_parents",
	"SELECT l.child_id, p.id, p.name, p.status, p.result FROM link AS l JOIN task AS p ON p.id = l.parent_id "
	"WHERE {in:l.child_id,$1} "
	"AND {plan_ids:p.id,SELECT l2.parent_id FROM link AS l2 WHERE {in:l2.child_id,$1}} "
	"ORDER BY l.child_id, p.created_at, p.id",
	NULL,
};

static int read_parent(db_stmt *st, void *row)
{
	job_parent_row *p = row;
	db_col_id(st, 0, &p->child);
	db_col_id(st, 1, &p->id);
	p->name = db_col_str_nn(st, 2, "");
	p->result = db_col_str_nn(st, 4, "null");
	return db_col_status(st, 3, &p->status);
}

static void release_parent(void *row)
{
	job_parent_row *p = row;
	free(p->name);
	free(p->result);
}

int store_job_parents(store_conn *c, const weft_id *children, size_t n, job_parent_row **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	db_set ids;
	db_set_init(&ids);
	db_set_ids(&ids, children, n);
	db_stmt *st;
	int err = db_prepare(c, &q_parents, &st);
	if (err == 0) {
		db_bind_set(st, &ids);
		static const db_row_kind kind = { sizeof(job_parent_row), read_parent, release_parent };
		void *rows = NULL;
		err = db_collect(st, &kind, &rows, nout);
		*out = rows;
	}
	db_set_release(&ids);
	return err;
}

void store_free_parents(job_parent_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_parent(&rows[i]);
	free(rows);
}

static const db_sql q_next_ready = {
	"job_next_ready",
	"SELECT min(start_after) FROM task{index:task_queue_ready} "
	"WHERE status = 'pending' AND executor = 'queue' AND namespace = $1 AND kind = $2 AND start_after > $3",
	NULL,
};

int store_jobs_next_ready(store_conn *c, const char *ns, const char *queue, int64_t now, int64_t *due)
{
	db_stmt *st;
	bool found;
	*due = INT64_MAX;
	int err = db_prepare(c, &q_next_ready, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, queue);
	db_bind_int(st, now);
	if ((err = db_query_int(st, due, &found)) == 0 && !found)
		*due = INT64_MAX;
	return err;
}

