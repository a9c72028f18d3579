/*
 * jobs.c — the rows of job queues: inserting jobs, dedup keys, queue and
 * worker rows, the claim statement, fenced transitions and heartbeats of
 * held jobs, and the error history.
 *
 * A job is a task row with executor 'queue' and kind = its queue; its
 * ready rows sit in the partial index task_queue_ready, in claim order
 * (priority DESC, start_after, id). Every statement here takes a set bound
 * as one parameter, so a cycle's claims cost one statement per queue and
 * its completions one statement in all. Statements that change a held job
 * are fenced: they match only a row still running under the caller's
 * lease_token, so a report from a worker whose lease was lost changes
 * nothing. Where other nodes write (PostgreSQL), the rows a fenced
 * statement changes are locked first in id order, so that two nodes'
 * sets never deadlock.
 *
 * Claims and successes write no audit rows: the trail derives them from
 * the row (started_at, claimed_by, ended_at, ended_by) and the error
 * history (job_attempt). The rarer transitions (fail, release, lease lost)
 * record events as every status change does.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/json.h"

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

int store_jobs_insert(store_conn *c, const job_new *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const job_new *j = &jobs[i];
		db_stmt *st;
		int err = db_prepare(c, &q_job_insert, &st);
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

static const db_sql q_worker_touch = {
	"worker_touch",
	"INSERT INTO worker (namespace, id, hostname, queues, first_seen_at, last_seen_at) "
	"VALUES ($1, $2, $3, $4, $5, $5) "
	"ON CONFLICT (namespace, id) DO UPDATE SET hostname = coalesce(excluded.hostname, worker.hostname), "
	"queues = excluded.queues, last_seen_at = excluded.last_seen_at "
	"RETURNING draining",
	NULL,
};
static const db_sql q_worker_seen = {
	"worker_seen",
	"UPDATE worker SET last_seen_at = $2 WHERE id = $1 RETURNING draining",
	NULL,
};

int store_worker_touch(store_conn *c, const char *ns, const char *worker_id, const char *hostname,
                       const char *queues_json, int64_t now, bool *draining)
{
	db_stmt *st;
	*draining = false;
	int err = db_prepare(c, ns ? &q_worker_touch : &q_worker_seen, &st);
	if (err)
		return err;
	if (ns) {
		db_bind_text(st, ns);
		db_bind_text(st, worker_id);
		db_bind_text(st, hostname);
		db_bind_text(st, queues_json ? queues_json : "[]");
		db_bind_int(st, now);
	} else {
		db_bind_text(st, worker_id);
		db_bind_int(st, now);
	}
	int rc;
	while ((rc = db_step(st)) > 0)
		*draining |= db_col_int(st, 0) != 0;
	return db_end(st, rc);
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

/* The queue's first ready rows (locked, skipping rows another node is
 * claiming) ranked in claim order; each range takes its ranks. The lock
 * sits one level below the window function, which PostgreSQL does not
 * allow beside FOR UPDATE. SQLite's RETURNING names only the updated
 * table, so the rows come back with their order keys and the caller's
 * side ranks them again. */
static const db_sql q_claim = {
	"job_claim",
	"UPDATE task SET status = 'running', started_at = $3, last_updated = $3, "
	"lease_token = task.lease_token + 1, worker_id = s.worker, claimed_by = s.actor, "
	"lease_until = {least:$3 + s.lease_us,$3 + task.timeout_secs * 1000000} "
	"FROM (SELECT c.id, r.worker, r.actor, r.lease_us FROM "
	"  (SELECT l.id, row_number() OVER (ORDER BY l.priority DESC, l.start_after, l.id) AS rn FROM "
	"    (SELECT id, priority, start_after FROM task{index:task_queue_ready} "
	"     WHERE status = 'pending' AND executor = 'queue' AND namespace = $1 AND kind = $2 "
	"     AND start_after <= $3 AND NOT EXISTS (SELECT 1 FROM queue AS q "
	"       WHERE q.namespace = $1 AND q.name = $2 AND q.paused <> 0) "
	"     ORDER BY priority DESC, start_after, id LIMIT $4{lock_skip}) AS l) AS c "
	"  JOIN {rows:$5,lo bigint,hi bigint,worker text,actor text,lease_us bigint} AS r "
	"  ON c.rn BETWEEN r.lo AND r.hi) AS s "
	"WHERE task.id = s.id "
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

void store_free_claimed(job_claimed_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_claimed(&rows[i]);
	free(rows);
}

int store_jobs_claim(store_conn *c, const char *ns, const char *queue, int64_t now, const job_claim_range *r,
                     size_t nr, job_claimed_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int64_t total = 0;
	db_set ranges;
	db_set_init(&ranges);
	for (size_t i = 0; i < nr; i++) {
		db_set_row(&ranges);
		db_set_field_int(&ranges, "lo", r[i].lo);
		db_set_field_int(&ranges, "hi", r[i].hi);
		db_set_field_text(&ranges, "worker", r[i].worker_id);
		db_set_field_text(&ranges, "actor", r[i].actor);
		db_set_field_int(&ranges, "lease_us", r[i].lease_us);
		total = MAX(total, r[i].hi);
	}
	db_stmt *st;
	int err = total > 0 ? db_prepare(c, &q_claim, &st) : 0;
	if (err == 0 && total > 0) {
		db_bind_text(st, ns);
		db_bind_text(st, queue);
		db_bind_int(st, now);
		db_bind_int(st, total);
		db_bind_set(st, &ranges);
		static const db_row_kind kind = { sizeof(job_claimed_row), read_claimed, release_claimed };
		void *rows = NULL;
		err = db_collect(st, &kind, &rows, n);
		*out = rows;
	}
	db_set_release(&ranges);
	if (err != 0 || *n == 0)
		return err;
	/* Rank k (from 1) in claim order belongs to the range holding k;
	 * ranks past the rows that were ready were not taken. */
	qsort(*out, *n, sizeof **out, cmp_claimed);
	for (size_t i = 0; i < *n; i++) {
		int64_t rank = (int64_t)i + 1;
		for (size_t j = 0; j < nr; j++)
			if (rank >= r[j].lo && rank <= r[j].hi)
				(*out)[i].range = j;
	}
	err = task_count_add(c, TS_PENDING, -(int64_t)*n);
	return err ? err : task_count_add(c, TS_RUNNING, (int64_t)*n);
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

/* ---- the state of reported jobs ------------------------------------------------------------ */

static const db_sql q_state = {
	"job_state",
	"SELECT id, status, lease_token, executor, namespace FROM task WHERE {in:id,$1}",
	NULL,
};
static const db_sql q_failed_tokens = {
	"job_failed_tokens",
	"SELECT task_id, lease_token FROM job_attempt WHERE {in:task_id,$1} AND outcome = 'failed'",
	NULL,
};

static bool ns_visible(const char *ns, const char *const *visible, size_t nvisible)
{
	if (visible == NULL)
		return true;
	for (size_t i = 0; i < nvisible; i++)
		if (ns != NULL && strcmp(ns, visible[i]) == 0)
			return true;
	return false;
}

static int cmp_pos(const void *a, const void *b)
{
	const id_pos *x = a, *y = b;
	int c = strncmp(x->id->str, y->id->str, WEFT_ID_LEN);
	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

/* The positions of ids, sorted, for lookups by id. */
static id_pos *index_ids(const weft_id *ids, size_t n)
{
	id_pos *v = xmalloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (id_pos){ &ids[i], i };
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_pos);
	return v;
}

/* Calls fn for every position of id. */
static void each_pos(const id_pos *v, size_t n, const weft_id *id, void (*fn)(size_t i, void *arg), void *arg)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strncmp(v[mid].id->str, id->str, WEFT_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < n && id_eq(v[k].id, id); k++)
		fn(v[k].i, arg);
}

typedef struct state_fill {
	job_state *out;
	task_status status;
	int64_t token;
	bool found;
	const int64_t *tokens;
	int64_t failed_token;
} state_fill;

static void fill_state(size_t i, void *arg)
{
	state_fill *f = arg;
	f->out[i].found = f->found;
	f->out[i].status = f->status;
	f->out[i].lease_token = f->token;
}

static void fill_failed(size_t i, void *arg)
{
	state_fill *f = arg;
	if (f->tokens[i] == f->failed_token)
		f->out[i].failed_with_token = true;
}

int store_jobs_state(store_conn *c, const weft_id *ids, const int64_t *tokens, size_t n,
                     const char *const *visible, size_t nvisible, job_state *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (job_state){ .id = ids[i] };
	if (n == 0)
		return 0;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, ids, n);
	id_pos *v = index_ids(ids, n);
	db_stmt *st;
	int rc = 0, err = db_prepare(c, &q_state, &st);
	if (err == 0) {
		db_bind_set(st, &set);
		while ((rc = db_step(st)) > 0) {
			weft_id id;
			db_col_id(st, 0, &id);
			const char *executor = db_col_text(st, 3);
			state_fill f = { .out = out, .token = db_col_int(st, 2) };
			if ((rc = db_col_status(st, 1, &f.status)) != 0)
				break;
			f.found = executor != NULL && strcmp(executor, "queue") == 0 &&
			          ns_visible(db_col_text(st, 4), visible, nvisible);
			each_pos(v, n, &id, fill_state, &f);
		}
		err = db_end(st, rc);
	}
	if (err == 0 && tokens != NULL && (err = db_prepare(c, &q_failed_tokens, &st)) == 0) {
		db_bind_set(st, &set);
		while ((rc = db_step(st)) > 0) {
			weft_id id;
			db_col_id(st, 0, &id);
			state_fill f = { .out = out, .tokens = tokens, .failed_token = db_col_int(st, 1) };
			each_pos(v, n, &id, fill_failed, &f);
		}
		err = db_end(st, rc);
	}
	free(v);
	db_set_release(&set);
	return err;
}

/* ---- fenced transitions -------------------------------------------------------------------- */

/* Rows of the set locked in id order before a fenced statement changes
 * them, where other nodes write (see the top). */
static const db_sql q_lock = {
	"job_lock", "SELECT id FROM task WHERE {in:id,$1}{lock_in_order:id}", NULL,
};

static int lock_rows(store_conn *c, db_set *ids)
{
	if (!c->drv->shared)
		return 0;
	db_stmt *st;
	int err = db_prepare(c, &q_lock, &st);
	if (err)
		return err;
	db_bind_set(st, ids);
	return db_run(st, NULL);
}

/* The shape of a change statement: which columns its rows give. Only those
 * are assigned (SQLite rewrites the index entries of every assigned
 * column). */
enum {
	CH_RESULT = 1u << 0,
	CH_ERROR = 1u << 1,
	CH_ATTEMPT = 1u << 2,
	CH_RETRY_AT = 1u << 3,
	CH_DEAD = 1u << 4,
	CH_ENDED = 1u << 5,
	CH_ROWS = 1u << 6,
	CH_VISIBLE = 1u << 7,
};

static void build_change(buf *sql, unsigned shape)
{
	buf_puts(sql, "UPDATE task SET status = r.status, last_updated = $2, lease_until = NULL");
	if (shape & CH_RESULT)
		buf_puts(sql, ", result = r.result");
	if (shape & CH_ERROR)
		buf_puts(sql, ", error_code = coalesce(r.error_code, task.error_code), "
		              "failure_reason = coalesce(r.failure_reason, task.failure_reason)");
	if (shape & CH_ATTEMPT)
		buf_puts(sql, ", attempt = coalesce(r.attempt, task.attempt)");
	if (shape & CH_RETRY_AT)
		buf_puts(sql, ", next_retry_at = coalesce(r.next_retry_at, task.next_retry_at)");
	if (shape & CH_DEAD)
		buf_puts(sql, ", dead_at = CASE WHEN r.dead <> 0 THEN $2 ELSE task.dead_at END");
	if (shape & CH_ENDED)
		buf_puts(sql, ", ended_at = CASE WHEN r.ended <> 0 THEN $2 ELSE task.ended_at END, "
		              "ended_by = CASE WHEN r.ended <> 0 THEN r.actor ELSE task.ended_by END");
	buf_puts(sql, " FROM {rows:$1,id text,token bigint,status text,result text,error_code text,"
	              "failure_reason text,attempt bigint,next_retry_at bigint,dead bigint,ended bigint,actor text} AS r "
	              "WHERE task.id = r.id AND task.status = 'running' AND task.executor = 'queue' "
	              "AND task.lease_token = r.token");
	if (shape & CH_VISIBLE)
		buf_puts(sql, " AND {in:task.namespace,$3}");
	if (shape & CH_ROWS)
		buf_puts(sql, " RETURNING " TASK_COLS_OF("task."));
	else
		buf_puts(sql, " RETURNING task.id, task.batch_id, task.status, task.shape");
}

static const db_dyn dyn_change = { "job_change", build_change };

static void set_visible(db_set *s, const char *const *visible, size_t nvisible)
{
	db_set_init(s);
	for (size_t i = 0; i < nvisible; i++)
		db_set_text(s, visible[i]);
}

typedef struct change_hit {
	job_change *ch;
	task_row *row;       /* NULL: the statement returned no full row */
	weft_id batch;
	task_status to;
	int32_t shape;
} change_hit;

static void mark_change(size_t i, void *arg)
{
	change_hit *h = arg;
	job_change *x = &h->ch[i];
	if (x->applied)
		return;
	x->applied = true;
	x->shape = h->shape;
	if (h->row != NULL) {
		x->after = *h->row;
		h->row = NULL;          /* moved: one owner */
	}
}

int store_jobs_change(store_conn *c, job_change *ch, size_t n, int64_t now, const char *const *visible,
                      size_t nvisible, bool want_rows)
{
	unsigned shape = want_rows ? CH_ROWS : 0;
	if (visible != NULL)
		shape |= CH_VISIBLE;
	db_set rows, ids, vis;
	db_set_init(&rows);
	db_set_init(&ids);
	set_visible(&vis, visible, nvisible);
	weft_id *idv = xmalloc((n ? n : 1) * sizeof *idv);
	for (size_t i = 0; i < n; i++) {
		job_change *x = &ch[i];
		x->applied = false;
		memset(&x->after, 0, sizeof x->after);
		idv[i] = x->id;
		db_set_id(&ids, &x->id);
		db_set_row(&rows);
		db_set_field_text(&rows, "id", x->id.str);
		db_set_field_int(&rows, "token", x->token);
		db_set_field_text(&rows, "status", task_status_name(x->to));
		if (x->result) {
			shape |= CH_RESULT;
			db_set_field_text(&rows, "result", x->result);
		}
		if (x->error_code || x->failure_reason) {
			shape |= CH_ERROR;
			db_set_field_text(&rows, "error_code", x->error_code);
			db_set_field_text(&rows, "failure_reason", x->failure_reason);
		}
		if (x->attempt) {
			shape |= CH_ATTEMPT;
			db_set_field_int(&rows, "attempt", x->attempt);
		}
		if (x->next_retry_at) {
			shape |= CH_RETRY_AT;
			db_set_field_int(&rows, "next_retry_at", x->next_retry_at);
		}
		if (x->dead)
			shape |= CH_DEAD;
		db_set_field_int(&rows, "dead", x->dead);
		if (x->ended)
			shape |= CH_ENDED;
		db_set_field_int(&rows, "ended", x->ended);
		db_set_field_text(&rows, "actor", x->actor ? x->actor : "api");
	}
	id_pos *v = index_ids(idv, n);
	int err = n ? lock_rows(c, &ids) : 0;
	db_stmt *st;
	if (err == 0 && n > 0 && (err = db_prepare_dyn(c, &dyn_change, shape, &st)) == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		if (visible != NULL)
			db_bind_set(st, &vis);
		int rc;
		while ((rc = db_step(st)) > 0) {
			change_hit h = { .ch = ch };
			task_row row;
			weft_id id;
			if (want_rows) {
				if ((rc = db_read_task(st, 0, &row)) != 0)
					break;
				id = row.id;
				h.batch = row.batch_id;
				h.to = row.status;
				h.shape = row.shape;
				h.row = &row;
			} else {
				db_col_id(st, 0, &id);
				db_col_id(st, 1, &h.batch);
				if ((rc = db_col_status(st, 2, &h.to)) != 0)
					break;
				h.shape = (int32_t)db_col_int(st, 3);
			}
			each_pos(v, n, &id, mark_change, &h);
			if (h.row != NULL)
				task_row_release(h.row);
			if ((rc = task_count_move(c, TS_RUNNING, h.to)) != 0)
				break;
			if (id_is_set(&h.batch) && (rc = batch_remaining_move(c, &h.batch, TS_RUNNING, h.to)) != 0)
				break;
		}
		err = db_end(st, rc);
	}
	/* The audit events of the transitions that record one. */
	db_set events;
	db_set_init(&events);
	size_t nevents = 0;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!ch[i].applied || ch[i].reason == NULL)
			continue;
		event_row(&events, &ch[i].id, now, "running", task_status_name(ch[i].to), ch[i].reason,
		          ch[i].actor ? ch[i].actor : "api");
		nevents++;
	}
	if (err == 0 && nevents > 0)
		err = event_add_rows(c, &events);
	db_set_release(&events);
	free(v);
	free(idv);
	db_set_release(&vis);
	db_set_release(&ids);
	db_set_release(&rows);
	if (err != 0)
		for (size_t i = 0; i < n; i++)
			if (ch[i].applied && want_rows)
				task_row_release(&ch[i].after);
	return err;
}

/* ---- heartbeats -------------------------------------------------------------------------- */

static void build_heartbeat(buf *sql, unsigned shape)
{
	buf_puts(sql, "UPDATE task SET lease_until = {least:$2 + r.lease_us,task.started_at + task.timeout_secs * 1000000}, "
	              "progress = coalesce(r.progress, task.progress) "
	              "FROM {rows:$1,id text,token bigint,lease_us bigint,progress text} AS r "
	              "WHERE task.id = r.id AND task.status = 'running' AND task.executor = 'queue' "
	              "AND task.lease_token = r.token");
	if (shape & CH_VISIBLE)
		buf_puts(sql, " AND {in:task.namespace,$3}");
	buf_puts(sql, " RETURNING task.id, task.lease_until");
}

static const db_dyn dyn_heartbeat = { "job_heartbeat", build_heartbeat };

typedef struct beat_hit {
	job_beat *beats;
	int64_t until;
} beat_hit;

static void mark_beat(size_t i, void *arg)
{
	beat_hit *h = arg;
	h->beats[i].held = true;
	h->beats[i].lease_until = h->until;
}

int store_jobs_heartbeat(store_conn *c, job_beat *beats, size_t n, int64_t now, const char *const *visible,
                         size_t nvisible)
{
	if (n == 0)
		return 0;
	db_set rows, ids, vis;
	db_set_init(&rows);
	db_set_init(&ids);
	set_visible(&vis, visible, nvisible);
	weft_id *idv = xmalloc(n * sizeof *idv);
	for (size_t i = 0; i < n; i++) {
		beats[i].held = false;
		beats[i].lease_until = 0;
		idv[i] = beats[i].id;
		db_set_id(&ids, &beats[i].id);
		db_set_row(&rows);
		db_set_field_text(&rows, "id", beats[i].id.str);
		db_set_field_int(&rows, "token", beats[i].token);
		db_set_field_int(&rows, "lease_us", beats[i].lease_us);
		db_set_field_text(&rows, "progress", beats[i].progress);
	}
	id_pos *v = index_ids(idv, n);
	int err = lock_rows(c, &ids);
	db_stmt *st;
	if (err == 0 && (err = db_prepare_dyn(c, &dyn_heartbeat, visible ? CH_VISIBLE : 0, &st)) == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		if (visible != NULL)
			db_bind_set(st, &vis);
		int rc;
		while ((rc = db_step(st)) > 0) {
			weft_id id;
			db_col_id(st, 0, &id);
			beat_hit h = { beats, db_col_int(st, 1) };
			each_pos(v, n, &id, mark_beat, &h);
		}
		err = db_end(st, rc);
	}
	free(v);
	free(idv);
	db_set_release(&vis);
	db_set_release(&ids);
	db_set_release(&rows);
	return err;
}

/* ---- the error history --------------------------------------------------------------------- */

static const db_sql q_attempts_insert = {
	"job_attempt_insert",
	"INSERT INTO job_attempt (task_id, lease_token, attempt, worker_id, claimed_by, started_at, ended_at, "
	"outcome, error_code, error_message, error_details, retryable) "
	"SELECT r.task_id, r.lease_token, r.attempt, r.worker_id, r.claimed_by, r.started_at, r.ended_at, "
	"r.outcome, r.error_code, r.error_message, r.error_details, r.retryable "
	"FROM {rows:$1,task_id text,lease_token bigint,attempt bigint,worker_id text,claimed_by text,"
	"started_at bigint,ended_at bigint,outcome text,error_code text,error_message text,error_details text,"
	"retryable bigint} AS r WHERE true "
	"ON CONFLICT (task_id, lease_token) DO NOTHING",
	NULL,
};

int store_job_attempts_insert(store_conn *c, const job_attempt_row *rows, size_t n)
{
	if (n == 0)
		return 0;
	db_set set;
	db_set_init(&set);
	for (size_t i = 0; i < n; i++) {
		const job_attempt_row *a = &rows[i];
		db_set_row(&set);
		db_set_field_text(&set, "task_id", a->task_id.str);
		db_set_field_int(&set, "lease_token", a->lease_token);
		db_set_field_int(&set, "attempt", a->attempt);
		db_set_field_text(&set, "worker_id", a->worker_id);
		db_set_field_text(&set, "claimed_by", a->claimed_by);
		db_set_field_int(&set, "started_at", a->started_at);
		db_set_field_int(&set, "ended_at", a->ended_at);
		db_set_field_text(&set, "outcome", job_attempt_outcome_name(a->outcome));
		db_set_field_text(&set, "error_code", a->error_code);
		db_set_field_text(&set, "error_message", a->error_message);
		db_set_field_text(&set, "error_details", a->error_details);
		db_set_field_int(&set, "retryable", a->retryable);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_attempts_insert, &st);
	if (err == 0) {
		db_bind_set(st, &set);
		err = db_send(st, NULL);
	}
	db_set_release(&set);
	return err;
}

/* ---- a job for the API ---------------------------------------------------------------------- */

#define JOB_READ_COLS TASK_COLS ", input, result, progress, claimed_by, ended_by"

static const db_sql q_job_get = {
	"job_get",
	"SELECT " JOB_READ_COLS ", 0 AS archived FROM task WHERE id = $1 "
	"UNION ALL SELECT " JOB_READ_COLS ", 1 FROM task_archive WHERE id = $1 "
	"ORDER BY archived LIMIT 1",
	NULL,
};
static const db_sql q_job_attempts = {
	"job_attempts",
	"SELECT task_id, lease_token, attempt, worker_id, claimed_by, started_at, ended_at, outcome, error_code, "
	"error_message, error_details, retryable FROM job_attempt WHERE task_id = $1 ORDER BY lease_token",
	NULL,
};

static int read_attempt(db_stmt *st, void *row)
{
	job_attempt_row *a = row;
	db_col_id(st, 0, &a->task_id);
	a->lease_token = db_col_int(st, 1);
	a->attempt = (int32_t)db_col_int(st, 2);
	a->worker_id = db_col_str(st, 3);
	a->claimed_by = db_col_str(st, 4);
	a->started_at = db_col_int(st, 5);
	a->ended_at = db_col_int(st, 6);
	const char *o = db_col_text(st, 7);
	if (o == NULL || job_attempt_outcome_parse(o, &a->outcome) != 0)
		return WEFT_ESTORE;
	a->error_code = db_col_str(st, 8);
	a->error_message = db_col_str(st, 9);
	a->error_details = db_col_str(st, 10);
	a->retryable = db_col_int(st, 11) != 0;
	return 0;
}

static void release_attempt(void *row) { job_attempt_row_release(row); }

/* max_retries + 1 of a canonical retry policy; -1 forever, 1 without one. */
static int32_t max_attempts_of(const char *policy)
{
	json_t *root = policy ? json_parse_text(policy) : NULL;
	json_t *v = root ? json_object_get(root, "max_retries") : NULL;
	int32_t n = 1;
	if (json_is_integer(v))
		n = json_integer_value(v) < 0 ? -1 : (int32_t)json_integer_value(v) + 1;
	json_decref(root);
	return n;
}

int store_job_get(store_conn *c, const weft_id *id, const char *const *visible, size_t nvisible,
                  job_detail *out)
{
	memset(out, 0, sizeof *out);
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	db_stmt *st;
	bool found = false;
	if ((err = db_prepare(c, &q_job_get, &st)) == 0) {
		db_bind_id(st, id);
		int rc = db_step(st);
		if (rc > 0 && (rc = db_read_task(st, 0, &out->task)) == 0) {
			found = true;
			out->input = db_col_str_nn(st, TASK_NCOLS, "null");
			out->result = db_col_str(st, TASK_NCOLS + 1);
			out->progress = db_col_str(st, TASK_NCOLS + 2);
			out->claimed_by = db_col_str(st, TASK_NCOLS + 3);
			out->ended_by = db_col_str(st, TASK_NCOLS + 4);
			out->task.archived = db_col_int(st, TASK_NCOLS + 5) != 0;
			out->max_attempts = max_attempts_of(out->task.retry_policy);
		}
		err = db_end(st, rc < 0 ? rc : 0);
	}
	if (err == 0 && found && !ns_visible(out->task.namespace, visible, nvisible))
		found = false;
	if (err == 0 && found && (err = db_prepare(c, &q_job_attempts, &st)) == 0) {
		db_bind_id(st, id);
		static const db_row_kind kind = { sizeof(job_attempt_row), read_attempt, release_attempt };
		void *rows = NULL;
		err = db_collect(st, &kind, &rows, &out->nattempts);
		out->attempts = rows;
	}
	err = db_own_end(c, own, err);
	if (err == 0 && !found)
		err = WEFT_ENOTFOUND;
	if (err != 0)
		job_detail_release(out);
	return err;
}

void job_detail_release(job_detail *d)
{
	if (d == NULL)
		return;
	task_row_release(&d->task);
	free(d->input);
	free(d->result);
	free(d->progress);
	free(d->claimed_by);
	free(d->ended_by);
	for (size_t i = 0; i < d->nattempts; i++)
		job_attempt_row_release(&d->attempts[i]);
	free(d->attempts);
	memset(d, 0, sizeof *d);
}
