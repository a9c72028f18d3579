/*
 * events.c — the audit trail: one task_event row per status change,
 * written in the transaction of the change (a set of them by one
 * statement; the releases and the batch cancel write theirs with a
 * statement of their own), and a task's trail read back.
 *
 * The creation entry is not stored: a 100,000-task submission would write
 * 100,000 more rows. It is made when the trail is read, from the task's
 * created_at (live or archived) and the status its first recorded
 * transition left.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

static const db_sql q_event_rows = {
	"event_insert",
	"INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
	"SELECT e.id, e.at, e.from_status, e.to_status, e.reason, e.actor "
	"FROM {rows:$1,id text,at bigint,from_status text,to_status text,reason text,actor text} AS e",
	NULL,
};

void event_row(db_set *s, const weft_id *task, int64_t at, const char *from, const char *to, const char *reason,
               const char *actor)
{
	db_set_row(s);
	db_set_field_text(s, "id", task->str);
	db_set_field_int(s, "at", at);
	db_set_field_text(s, "from_status", from);
	db_set_field_text(s, "to_status", to);
	db_set_field_text(s, "reason", reason);
	db_set_field_text(s, "actor", actor);
}

int event_add_rows(store_conn *c, db_set *rows)
{
	db_stmt *st;
	int err = db_prepare(c, &q_event_rows, &st);
	if (err)
		return err;
	db_bind_set(st, rows);
	return db_send(st, NULL);
}

/* One statement, one snapshot: the first row (part 0) is the task's
 * created_at and status, live or archived, with what a job's derived
 * entries need; the recorded transitions follow in insertion order. No
 * part 0 row: the task exists nowhere. */
static const db_sql q_task_events = {
	"task_events",
	"SELECT 0 AS part, h.created_at AS at, NULL AS from_status, h.status AS to_status, "
	"NULL AS reason, NULL AS actor, 0 AS seq, h.executor, h.started_at, h.lease_token, h.claimed_by, "
	"h.ended_at, h.ended_by, h.worker_id FROM "
	"(SELECT created_at, status, executor, started_at, lease_token, claimed_by, ended_at, ended_by, worker_id "
	" FROM task WHERE id = $1 "
	" UNION ALL SELECT created_at, status, executor, started_at, lease_token, claimed_by, ended_at, ended_by, "
	" worker_id FROM task_archive WHERE id = $1 LIMIT 1) AS h "
	"UNION ALL SELECT 1, e.at, e.from_status, e.to_status, e.reason, e.actor, e.id, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM task_event AS e WHERE e.task_id = $1 "
	"ORDER BY part, seq",
	NULL,
};
/* A job's attempts that did not succeed: each was a claim. */
static const db_sql q_attempt_claims = {
	"job_attempt_claims",
	"SELECT lease_token, started_at, claimed_by, worker_id FROM job_attempt WHERE task_id = $1 ORDER BY lease_token",
	NULL,
};

static int read_event(db_stmt *st, task_event *e)
{
	e->at = db_col_int(st, 1);
	e->has_from = !db_col_null(st, 2);
	if ((e->has_from && db_col_status(st, 2, &e->from) != 0) || db_col_status(st, 3, &e->to) != 0)
		return WEFT_ESTORE;
	e->reason = db_col_str(st, 4);
	e->actor = db_col_str_nn(st, 5, "system");
	return 0;
}

/* What a job's trail derives: claims and successes write no event
 * (jobs.c), so they are made from the row and its error history. */
typedef struct job_trail {
	bool job;
	task_status status;
	int64_t started_at, lease_token, ended_at;
	char *claimed_by, *ended_by, *worker_id;
} job_trail;

/* An entry with its place: by time; at one time a change into pending
 * comes before a claim, which comes before the claim's end. */
typedef struct placed_event {
	task_event e;
	int rank;
	size_t seq;
} placed_event;

static int cmp_placed(const void *a, const void *b)
{
	const placed_event *x = a, *y = b;
	if (x->e.at != y->e.at)
		return x->e.at < y->e.at ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static task_event derived(int64_t at, task_status from, task_status to, const char *reason, const char *actor)
{
	return (task_event){ .at = at, .has_from = true, .from = from, .to = to,
	                     .reason = reason ? xstrdup(reason) : NULL, .actor = xstrdup(actor ? actor : "api") };
}

static void push_placed(placed_event **v, size_t *len, size_t *cap, task_event e, int rank)
{
	*v = db_grow(*v, *len, cap, sizeof **v);
	(*v)[*len] = (placed_event){ e, rank, *len };
	(*len)++;
}

/* The trail of a job: the recorded entries (rows[1..n-1]), a claim per
 * attempt (the error history's, then the current one's) and its success. */
static int job_events(store_conn *c, const weft_id *id, const job_trail *j, task_event **rows, size_t *n)
{
	placed_event *v = NULL;
	size_t len = 0, cap = 0;
	for (size_t i = 1; i < *n; i++)
		push_placed(&v, &len, &cap, (*rows)[i], (*rows)[i].to == TS_PENDING ? 0 : 2);
	db_stmt *st;
	int err = db_prepare(c, &q_attempt_claims, &st);
	int rc = 0;
	bool current_seen = false;
	if (err == 0) {
		db_bind_id(st, id);
		while ((rc = db_step(st)) > 0) {
			current_seen |= db_col_int(st, 0) == j->lease_token;
			char reason[200];
			snprintf(reason, sizeof reason, "claimed by worker %s", db_col_text(st, 3) ? db_col_text(st, 3) : "?");
			push_placed(&v, &len, &cap,
			            derived(db_col_int(st, 1), TS_PENDING, TS_RUNNING, reason, db_col_text(st, 2)), 1);
		}
		err = db_end(st, rc);
	}
	if (err == 0 && j->lease_token > 0 && j->started_at > 0 && !current_seen) {
		char reason[200];
		snprintf(reason, sizeof reason, "claimed by worker %s", j->worker_id ? j->worker_id : "?");
		if (j->status == TS_RUNNING || j->status == TS_SUCCESS || j->status == TS_CANCELED ||
		    j->status == TS_FAILURE)
			push_placed(&v, &len, &cap, derived(j->started_at, TS_PENDING, TS_RUNNING, reason, j->claimed_by), 1);
		if (j->status == TS_SUCCESS && j->ended_by != NULL)
			push_placed(&v, &len, &cap, derived(j->ended_at, TS_RUNNING, TS_SUCCESS, "completed", j->ended_by), 3);
	}
	if (err != 0) {
		for (size_t i = *n - 1; i < len; i++)
			task_event_release(&v[i].e);
		free(v);
		return err;
	}
	if (len > 1)
		qsort(v, len, sizeof *v, cmp_placed);
	*rows = xrealloc(*rows, (len + 1) * sizeof **rows);
	for (size_t i = 0; i < len; i++)
		(*rows)[i + 1] = v[i].e;
	*n = len + 1;
	free(v);
	return 0;
}

int store_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	if ((err = db_prepare(c, &q_task_events, &st)) != 0)
		return db_own_end(c, own, err);
	db_bind_id(st, id);
	task_event *rows = NULL;
	size_t len = 0, cap = 0;
	job_trail j = { 0 };
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (len == 0 && db_col_int(st, 0) != 0)
			break;          /* transitions of a task that exists nowhere */
		rows = db_grow(rows, len, &cap, sizeof *rows);
		task_event *e = &rows[len++];
		memset(e, 0, sizeof *e);
		if (len == 1) {
			e->at = db_col_int(st, 1);
			e->reason = xstrdup("created");
			e->actor = xstrdup("api");
			rc = db_col_status(st, 3, &e->to);
			const char *executor = db_col_text(st, 7);
			j.job = executor != NULL && strcmp(executor, "queue") == 0;
			j.status = e->to;
			j.started_at = db_col_int(st, 8);
			j.lease_token = db_col_int(st, 9);
			j.claimed_by = db_col_str(st, 10);
			j.ended_at = db_col_int(st, 11);
			j.ended_by = db_col_str(st, 12);
			j.worker_id = db_col_str(st, 13);
		} else {
			rc = read_event(st, e);
		}
		if (rc != 0)
			break;
	}
	err = db_end(st, rc);
	if (!err && len == 0)
		err = WEFT_ENOTFOUND;
	/* The creation entry shows the status the task was created in: the
	 * one its first transition left. */
	if (!err && len > 1 && rows[1].has_from)
		rows[0].to = rows[1].from;
	if (!err && j.job) {
		/* A job's claims are not recorded: its first recorded change may
		 * start from running. It was created waiting (parents) or pending. */
		rows[0].to = len > 1 && rows[1].has_from && rows[1].from == TS_WAITING ? TS_WAITING : TS_PENDING;
		err = job_events(c, id, &j, &rows, &len);
	}
	free(j.claimed_by);
	free(j.ended_by);
	free(j.worker_id);
	err = db_own_end(c, own, err);
	if (err) {
		store_free_events(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* ---- the trail as a feed (other nodes' changes) ------------------------------------------ */

static const db_sql q_events_after = {
	"task_events_after",
	"SELECT id, task_id FROM task_event WHERE id > $1 ORDER BY id LIMIT $2",
	NULL,
};
static const db_sql q_events_last = {
	"task_events_last", "SELECT CAST(coalesce(max(id), 0) AS BIGINT) FROM task_event", NULL,
};

int store_task_events_after(store_conn *c, int64_t *after, size_t limit, weft_id **ids, size_t *n)
{
	db_stmt *st;
	*ids = NULL;
	*n = 0;
	int err = db_prepare(c, after[0] < 0 ? &q_events_last : &q_events_after, &st);
	if (err)
		return err;
	if (after[0] < 0) {
		bool found;
		err = db_query_int(st, after, &found);
		if (!err && !found)
			after[0] = 0;
		return err;
	}
	db_bind_int(st, *after);
	db_bind_int(st, (int64_t)limit);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		*ids = db_grow(*ids, *n, &cap, sizeof **ids);
		*after = db_col_int(st, 0);
		db_col_id(st, 1, &(*ids)[(*n)++]);
	}
	err = db_end(st, rc);
	if (err) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return err;
}
