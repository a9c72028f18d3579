/*
 * job_reports.c — what a worker's reports on held jobs read and write:
 * the jobs' state (to tell why a report did not apply), the fenced
 * transitions and heartbeats, the error history (job_attempt), and a job
 * as the API reads it.
 *
 * A fenced statement matches only a row still running under the report's
 * lease token (and in a namespace the caller may see), so a report from a
 * worker whose lease was lost changes nothing. Where other nodes write
 * (PostgreSQL), its rows are locked first in id order, so that two nodes'
 * sets never deadlock. Claims and successes write no audit rows (events.c
 * derives them); fails, releases and lost leases record theirs.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/jobs.h"
#include "util/alloc.h"
#include "util/json.h"

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
	const char *ns;
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
	snprintf(f->out[i].ns, sizeof f->out[i].ns, "%s", f->ns ? f->ns : "");
	f->out[i].status = f->status;
	f->out[i].lease_token = f->token;
}

static void fill_failed(size_t i, void *arg)
{
	state_fill *f = arg;
	if (f->tokens[i] == f->failed_token)
		f->out[i].failed_with_token = true;
}

int store_jobs_state(store_conn *c, const weft_id *ids, const int64_t *tokens, size_t n, job_state *out)
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
			f.found = executor != NULL && strcmp(executor, "queue") == 0;
			f.ns = db_col_text(st, 4);
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
	return db_send(st, NULL);     /* goes out with the statement that follows it: no round trip of its own */
}

/* The shape of a change statement: which columns its rows give. Only those
 * are assigned (SQLite rewrites the index entries of every assigned
 * column). The status is compared outside its indexes ({noindex}): the
 * rows are found by id from the set, never by scanning the running ones.
 * What every row of the set shares (its new status, that it ends or dies,
 * its actor) is a parameter rather than a field: each reference to a
 * field reads it out of its row's JSON again (SQLite), and a completion
 * set then reads three fields per row instead of seven. */
enum {
	CH_RESULT = 1u << 0,
	CH_ERROR = 1u << 1,
	CH_ATTEMPT = 1u << 2,
	CH_RETRY_AT = 1u << 3,
	CH_DEAD = 1u << 4,          /* some rows die */
	CH_ENDED = 1u << 5,         /* some rows end */
	CH_ROWS = 1u << 6,
	CH_VISIBLE = 1u << 7,
	CH_ONE_STATUS = 1u << 8,    /* one new status for all: $3 */
	CH_ALL_DEAD = 1u << 9,      /* with CH_DEAD: every row */
	CH_ALL_ENDED = 1u << 10,    /* with CH_ENDED: every row */
	CH_ONE_ACTOR = 1u << 11,    /* with CH_ENDED: one actor for all, the parameter after $3 (or $3) */
};

static void build_change(buf *sql, unsigned shape)
{
	int param = 3;
	int p_status = shape & CH_ONE_STATUS ? param++ : 0;
	int p_actor = shape & CH_ONE_ACTOR ? param++ : 0;
	char actor[32];
	if (p_actor)
		snprintf(actor, sizeof actor, "CAST($%d AS TEXT)", p_actor);
	else
		snprintf(actor, sizeof actor, "r.actor");
	if (p_status)
		buf_printf(sql, "UPDATE task SET status = $%d", p_status);
	else
		buf_puts(sql, "UPDATE task SET status = r.status");
	buf_puts(sql, ", last_updated = $2, lease_until = NULL");
	if (shape & CH_RESULT)
		buf_puts(sql, ", result = r.result");
	if (shape & CH_ERROR)
		buf_puts(sql, ", error_code = coalesce(r.error_code, task.error_code), "
		              "failure_reason = coalesce(r.failure_reason, task.failure_reason)");
	if (shape & CH_ATTEMPT)
		buf_puts(sql, ", attempt = coalesce(r.attempt, task.attempt)");
	if (shape & CH_RETRY_AT)
		buf_puts(sql, ", next_retry_at = coalesce(r.next_retry_at, task.next_retry_at)");
	if (shape & CH_ALL_DEAD)
		buf_puts(sql, ", dead_at = $2");
	else if (shape & CH_DEAD)
		buf_puts(sql, ", dead_at = CASE WHEN r.dead <> 0 THEN $2 ELSE task.dead_at END");
	if (shape & CH_ALL_ENDED)
		buf_printf(sql, ", ended_at = $2, ended_by = %s", actor);
	else if (shape & CH_ENDED)
		buf_printf(sql, ", ended_at = CASE WHEN r.ended <> 0 THEN $2 ELSE task.ended_at END, "
		                "ended_by = CASE WHEN r.ended <> 0 THEN %s ELSE task.ended_by END", actor);
	/* The set's rows carry only the fields of the shape (each one is read
	 * out of its row's JSON per row). */
	buf_puts(sql, " FROM {rows:$1,id text,token bigint");
	if (!p_status)
		buf_puts(sql, ",status text");
	if (shape & CH_RESULT)
		buf_puts(sql, ",result text");
	if (shape & CH_ERROR)
		buf_puts(sql, ",error_code text,failure_reason text");
	if (shape & CH_ATTEMPT)
		buf_puts(sql, ",attempt bigint");
	if (shape & CH_RETRY_AT)
		buf_puts(sql, ",next_retry_at bigint");
	if ((shape & CH_DEAD) && !(shape & CH_ALL_DEAD))
		buf_puts(sql, ",dead bigint");
	if ((shape & CH_ENDED) && !(shape & CH_ALL_ENDED))
		buf_puts(sql, ",ended bigint");
	if ((shape & CH_ENDED) && !p_actor)
		buf_puts(sql, ",actor text");
	if (shape & CH_VISIBLE)
		buf_puts(sql, ",vis text");
	buf_puts(sql, "} AS r "
	              "WHERE task.id = r.id AND {noindex:task.status} = 'running' AND task.executor = 'queue' "
	              "AND task.lease_token = r.token AND {plan_ids:task.id,SELECT r2.id FROM {rows:$1,id text} AS r2}");
	if (shape & CH_VISIBLE)
		buf_puts(sql, " AND (r.vis IS NULL OR {in:task.namespace,r.vis})");
	if (shape & CH_ROWS)
		buf_puts(sql, " RETURNING " TASK_COLS_OF("task."));
	else
		buf_puts(sql, " RETURNING task.id, task.batch_id, task.status, task.shape, task.namespace, task.kind");
}

static const db_dyn dyn_change = { "job_change", build_change };

/* A row's namespaces as the JSON array text of its "vis" field (NULL:
 * any); *shape gets CH_VISIBLE when it limits them. */
static void row_visible(db_set *rows, const char *const *visible, size_t nvisible, unsigned *shape)
{
	if (visible == NULL)
		return;
	*shape |= CH_VISIBLE;
	db_set vis;
	db_set_init(&vis);
	for (size_t i = 0; i < nvisible; i++)
		db_set_text(&vis, visible[i]);
	buf_putc(&vis.json, ']');       /* closed by hand: the text goes into the row, not to a statement */
	db_set_field_text(rows, "vis", vis.json.data);
	db_set_release(&vis);
}

typedef struct change_hit {
	job_change *ch;
	task_row *row;       /* NULL: the statement returned no full row */
	weft_id batch;
	task_status to;
	int32_t shape;
	const job_change *last;   /* the change applied to the row */
} change_hit;

static void mark_change(size_t i, void *arg)
{
	change_hit *h = arg;
	job_change *x = &h->ch[i];
	if (x->applied)
		return;
	x->applied = true;
	x->shape = h->shape;
	h->last = x;
	if (h->row != NULL) {
		x->after = *h->row;
		h->row = NULL;          /* moved: one owner */
	}
}

/* The shape bits of a set of changes: what its rows carry and share. */
static unsigned change_shape(const job_change *ch, size_t n, bool want_rows)
{
	unsigned shape = want_rows ? CH_ROWS : 0;
	bool one_status = true, all_dead = true, all_ended = true, one_actor = true;
	for (size_t i = 0; i < n; i++) {
		const job_change *x = &ch[i];
		const char *actor = x->actor ? x->actor : "api", *first = ch[0].actor ? ch[0].actor : "api";
		one_status &= x->to == ch[0].to;
		one_actor &= strcmp(actor, first) == 0;
		if (x->result)
			shape |= CH_RESULT;
		if (x->error_code || x->failure_reason)
			shape |= CH_ERROR;
		if (x->attempt)
			shape |= CH_ATTEMPT;
		if (x->next_retry_at)
			shape |= CH_RETRY_AT;
		if (x->dead)
			shape |= CH_DEAD;
		all_dead &= x->dead;
		if (x->ended)
			shape |= CH_ENDED;
		all_ended &= x->ended;
		if (x->visible != NULL)
			shape |= CH_VISIBLE;
	}
	if (n > 0 && one_status)
		shape |= CH_ONE_STATUS;
	if ((shape & CH_DEAD) && all_dead)
		shape |= CH_ALL_DEAD;
	if ((shape & CH_ENDED) && all_ended)
		shape |= CH_ALL_ENDED;
	if ((shape & CH_ENDED) && n > 0 && one_actor)
		shape |= CH_ONE_ACTOR;
	return shape;
}

int store_jobs_change(store_conn *c, job_change *ch, size_t n, int64_t now, bool want_rows)
{
	unsigned shape = change_shape(ch, n, want_rows);
	db_set rows, ids;
	db_set_init(&rows);
	db_set_init(&ids);
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
		if (!(shape & CH_ONE_STATUS))
			db_set_field_text(&rows, "status", task_status_name(x->to));
		if (x->result)
			db_set_field_text(&rows, "result", x->result);
		if (shape & CH_ERROR) {
			db_set_field_text(&rows, "error_code", x->error_code);
			db_set_field_text(&rows, "failure_reason", x->failure_reason);
		}
		if (x->attempt)
			db_set_field_int(&rows, "attempt", x->attempt);
		if (x->next_retry_at)
			db_set_field_int(&rows, "next_retry_at", x->next_retry_at);
		if ((shape & CH_DEAD) && !(shape & CH_ALL_DEAD))
			db_set_field_int(&rows, "dead", x->dead);
		if ((shape & CH_ENDED) && !(shape & CH_ALL_ENDED))
			db_set_field_int(&rows, "ended", x->ended);
		if ((shape & CH_ENDED) && !(shape & CH_ONE_ACTOR))
			db_set_field_text(&rows, "actor", x->actor ? x->actor : "api");
		if (x->visible != NULL)
			row_visible(&rows, x->visible, x->nvisible, &shape);
	}
	id_pos *v = index_ids(idv, n);
	int err = n ? lock_rows(c, &ids) : 0;
	db_stmt *st;
	if (err == 0 && n > 0 && (err = db_prepare_dyn(c, &dyn_change, shape, &st)) == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		if (shape & CH_ONE_STATUS)
			db_bind_text(st, task_status_name(ch[0].to));
		if (shape & CH_ONE_ACTOR)
			db_bind_text(st, ch[0].actor ? ch[0].actor : "api");
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
			const char *ns = want_rows ? row.namespace : db_col_text(st, 4);
			const char *queue = want_rows ? row.kind : db_col_text(st, 5);
			each_pos(v, n, &id, mark_change, &h);
			/* The queue's throughput (one statement at commit). */
			if (h.last != NULL && ns != NULL && queue != NULL)
				queue_stats_note(c, ns, queue, now, h.to, h.last->dead,
				                 h.to != TS_SUCCESS && h.last->error_code != NULL);
			if (h.row != NULL)
				task_row_release(h.row);
			/* The status counts, and the batch's counter of a job of a run
			 * (batch_remaining_move moves both; a lone job has no batch). */
			task_changed_note(c, &id, h.to);
			if ((rc = batch_remaining_move(c, &h.batch, TS_RUNNING, h.to)) != 0)
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
	              "FROM {rows:$1,id text,token bigint,lease_us bigint,progress text,vis text} AS r "
	              "WHERE task.id = r.id AND {noindex:task.status} = 'running' AND task.executor = 'queue' "
	              "AND task.lease_token = r.token AND {plan_ids:task.id,SELECT r2.id FROM {rows:$1,id text} AS r2}");
	if (shape & CH_VISIBLE)
		buf_puts(sql, " AND (r.vis IS NULL OR {in:task.namespace,r.vis})");
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

int store_jobs_heartbeat(store_conn *c, job_beat *beats, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	unsigned shape = 0;
	db_set rows, ids;
	db_set_init(&rows);
	db_set_init(&ids);
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
		row_visible(&rows, beats[i].visible, beats[i].nvisible, &shape);
	}
	id_pos *v = index_ids(idv, n);
	int err = lock_rows(c, &ids);
	db_stmt *st;
	if (err == 0 && (err = db_prepare_dyn(c, &dyn_heartbeat, shape, &st)) == 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
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
	db_set_release(&ids);
	db_set_release(&rows);
	return err;
}

/* ---- the error history --------------------------------------------------------------------- */

static const db_sql q_attempts_insert = {
	"job_attempt_insert",
	"INSERT INTO job_attempt (task_id, lease_token, attempt, worker_id, claimed_by, started_at, ended_at, "
	"outcome, error_code, error_message, error_details, retryable) "
	"SELECT r.task_id, r.lease_token, r.attempt, r.worker_id, "
	"coalesce(r.claimed_by, (SELECT t.claimed_by FROM task AS t WHERE t.id = r.task_id)), r.started_at, r.ended_at, "
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
