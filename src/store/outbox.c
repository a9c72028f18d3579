/*
 * outbox.c — outgoing webhooks, written in the transaction of the state
 * change that causes them and delivered at least once: insert, lease the
 * due ones, record an attempt's outcome, the next due time, recovery at
 * start-up, and the listing.
 *
 * Statuses are pending, delivering (leased: next_attempt_at is then the
 * lease's end), retrying, and the final success and exhausted. The due
 * lookups spell the undelivered statuses exactly as the predicate of the
 * partial index outbox_due, so that it applies.
 *
 * The lease, written once: the due ids in due order, then one UPDATE ...
 * RETURNING over them; RETURNING gives no order, and once leased every row
 * has the same next_attempt_at, so the due order is restored in C. A
 * driver where rows must be skipped rather than waited for (other nodes
 * lease too) replaces it (pg/pg.h).
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

#define UNDELIVERED "(status = 'pending' OR status = 'retrying' OR status = 'delivering')"

/* A set of rows; a key present already (in the table or earlier in the
 * set) is skipped. The single insert returns the id. */
#define INSERT_ROWS                                                                                        \
	"INSERT INTO outbox (idempotency_key, event, task_id, batch_id, action_id, params, add_handle, status, " \
	"attempts, max_attempts, next_attempt_at, last_attempt_at, created_at, updated_at, last_http_status, "   \
	"last_error) SELECT r.key, r.event, r.task_id, r.batch_id, r.action_id, r.params, r.add_handle, "        \
	"r.status, r.attempts, r.max_attempts, r.next_attempt_at, r.last_attempt_at, r.created_at, "             \
	"r.updated_at, r.last_http_status, r.last_error FROM {rows:$1,key text,event text,task_id text,"         \
	"batch_id text,action_id bigint,params text,add_handle bigint,status text,attempts bigint,"              \
	"max_attempts bigint,next_attempt_at bigint,last_attempt_at bigint,created_at bigint,updated_at bigint," \
	"last_http_status bigint,last_error text} AS r WHERE true ON CONFLICT (idempotency_key) DO NOTHING"

static const db_sql q_insert_many = { "outbox_insert", INSERT_ROWS, NULL };
static const db_sql q_insert = { "outbox_insert", INSERT_ROWS " RETURNING id", NULL };

static void outbox_set_row(db_set *rows, const outbox_row *o)
{
	db_set_row(rows);
	db_set_field_text(rows, "key", o->key);
	db_set_field_text(rows, "event", delivery_event_name(o->event));
	if (id_is_set(&o->task_id))
		db_set_field_text(rows, "task_id", o->task_id.str);
	if (id_is_set(&o->batch_id))
		db_set_field_text(rows, "batch_id", o->batch_id.str);
	if (o->action_id != 0)
		db_set_field_int(rows, "action_id", o->action_id);
	db_set_field_text(rows, "params", o->params ? o->params : "{}");
	db_set_field_int(rows, "add_handle", o->add_handle ? 1 : 0);
	db_set_field_text(rows, "status", delivery_status_name(o->status));
	db_set_field_int(rows, "attempts", o->attempts);
	db_set_field_int(rows, "max_attempts", o->max_attempts);
	db_set_field_int(rows, "next_attempt_at", o->next_attempt_at);
	if (o->last_attempt_at != 0)
		db_set_field_int(rows, "last_attempt_at", o->last_attempt_at);
	db_set_field_int(rows, "created_at", o->created_at);
	db_set_field_int(rows, "updated_at", o->updated_at != 0 ? o->updated_at : o->created_at);
	if (o->last_http_status != 0)
		db_set_field_int(rows, "last_http_status", o->last_http_status);
	db_set_field_text(rows, "last_error", o->last_error);
}

int store_outbox_insert(store_conn *c, outbox_row *o)
{
	db_stmt *st;
	int err = db_prepare(c, &q_insert, &st);
	if (err)
		return err;
	db_set rows;
	db_set_init(&rows);
	outbox_set_row(&rows, o);
	db_bind_set(st, &rows);
	int rc = db_step(st);
	o->id = rc > 0 ? db_col_int(st, 0) : 0;
	err = db_end(st, rc);
	db_set_release(&rows);
	return err;
}

int store_outbox_insert_many(store_conn *c, const outbox_row *o, size_t n)
{
	db_stmt *st;
	if (n == 0)
		return 0;
	int err = db_prepare(c, &q_insert_many, &st);
	if (err)
		return err;
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n; i++)
		outbox_set_row(&rows, &o[i]);
	db_bind_set(st, &rows);
	err = db_send(st, NULL);
	db_set_release(&rows);
	return err;
}

/* ---- leases ------------------------------------------------------------------------ */

/* A NULL task_id (batch_complete) is never skipped. Rows another writer
 * holds are passed over. */
static const db_sql q_due = {
	"outbox_due",
	"SELECT id FROM outbox{index:outbox_due} WHERE " UNDELIVERED " AND next_attempt_at <= $1 "
	"AND (task_id IS NULL OR NOT {in:task_id,$2}) ORDER BY next_attempt_at, id LIMIT $3{lock_skip}",
	NULL,
};
static const db_sql q_lease = {
	"outbox_lease",
	"UPDATE outbox SET status = 'delivering', next_attempt_at = $2, attempts = attempts + 1, "
	"last_attempt_at = $3, updated_at = $3 WHERE {in_int:id,$1} RETURNING " OUTBOX_COLS,
	NULL,
};

typedef struct id_rank {
	int64_t id;
	size_t rank;
} id_rank;

static int cmp_id_rank(const void *a, const void *b)
{
	int64_t x = ((const id_rank *)a)->id, y = ((const id_rank *)b)->id;
	return (x > y) - (x < y);
}

size_t outbox_order_by_ids(outbox_row *rows, size_t n, const int64_t *ids, size_t nids)
{
	id_rank *ranks = xcalloc(nids ? nids : 1, sizeof *ranks);
	for (size_t i = 0; i < nids; i++)
		ranks[i] = (id_rank){ ids[i], i };
	qsort(ranks, nids, sizeof *ranks, cmp_id_rank);
	outbox_row *sorted = xcalloc(nids ? nids : 1, sizeof *sorted);
	bool *used = xcalloc(nids ? nids : 1, sizeof *used);
	for (size_t i = 0; i < n; i++) {
		id_rank key = { rows[i].id, 0 };
		id_rank *r = bsearch(&key, ranks, nids, sizeof *ranks, cmp_id_rank);
		if (r != NULL && !used[r->rank]) {
			sorted[r->rank] = rows[i];
			used[r->rank] = true;
		} else {
			outbox_row_release(&rows[i]);   /* cannot happen: the update was on these ids */
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < nids; i++)
		if (used[i])
			rows[k++] = sorted[i];
	free(used);
	free(sorted);
	free(ranks);
	return k;
}

/* The ids of the due rows, oldest due first. */
static int due_ids(store_conn *c, int64_t now, size_t limit, const weft_id *skip, size_t nskip, int64_t **ids,
                   size_t *nids)
{
	db_stmt *st;
	int err = db_prepare(c, &q_due, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, skip, nskip);
	db_bind_int(st, now);
	db_bind_set(st, &set);
	db_bind_int(st, db_clamp_limit(limit));
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		*ids = db_grow(*ids, *nids, &cap, sizeof **ids);
		(*ids)[(*nids)++] = db_col_int(st, 0);
	}
	db_set_release(&set);
	return db_end(st, rc);
}

int store_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit, const weft_id *skip,
                       size_t nskip, outbox_row **out, size_t *n, int64_t *next_due)
{
	int64_t unused;
	*out = NULL;
	*n = 0;
	if (next_due == NULL)
		next_due = &unused;
	if (limit == 0)
		return store_outbox_next_due(c, next_due);
	if (c->drv->outbox_lease != NULL)
		return c->drv->outbox_lease(c, now, lease_until, limit, skip, nskip, out, n, next_due);
	int64_t *ids = NULL;
	size_t nids = 0;
	int err = due_ids(c, now, limit, skip, nskip, &ids, &nids);
	if (err || nids == 0) {
		free(ids);
		return err ? err : store_outbox_next_due(c, next_due);
	}
	db_stmt *st;
	outbox_row *rows = NULL;
	size_t len = 0;
	if ((err = db_prepare(c, &q_lease, &st)) == 0) {
		db_set set;
		db_set_init(&set);
		for (size_t i = 0; i < nids; i++)
			db_set_int(&set, ids[i]);
		db_bind_set(st, &set);
		db_bind_int(st, lease_until);
		db_bind_int(st, now);
		err = db_collect_outbox(st, &rows, &len);
		db_set_release(&set);
	}
	if (!err)
		len = outbox_order_by_ids(rows, len, ids, nids);
	free(ids);
	if (!err)
		err = store_outbox_next_due(c, next_due);
	if (err) {
		store_free_outbox(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* ---- outcomes and due times ----------------------------------------------------------- */

/* Per row: delivered (ok <> 0) or not, and when to retry (0 = never
 * again). A row named that does not exist (nothing to record) is no
 * error. Rows are named by id, or by key (rows leased as they were
 * written, whose ids the writer never read). */
#define FINISH_SET                                                                                              \
	"UPDATE outbox SET "                                                                                   \
	"status = CASE WHEN r.ok <> 0 THEN 'success' WHEN r.retry_at = 0 THEN 'exhausted' ELSE 'retrying' END, "    \
	"next_attempt_at = CASE WHEN r.ok <> 0 OR r.retry_at = 0 THEN outbox.next_attempt_at ELSE r.retry_at END, " \
	"last_http_status = r.http, last_error = r.error, updated_at = $2 "
static const db_sql q_finish = {
	"outbox_finish",
	FINISH_SET "FROM {rows:$1,id bigint,ok bigint,retry_at bigint,http bigint,error text} AS r "
	"WHERE outbox.id = r.id AND {plan_ids:outbox.id,SELECT r2.id FROM {rows:$1,id bigint} AS r2}",
	NULL,
};
static const db_sql q_finish_by_key = {
	"outbox_finish",
	FINISH_SET "FROM {rows:$1,key text,ok bigint,retry_at bigint,http bigint,error text} AS r "
	"WHERE outbox.idempotency_key = r.key "
	"AND {plan_ids:outbox.idempotency_key,SELECT r2.key FROM {rows:$1,key text} AS r2}",
	NULL,
};

/* The outcomes named by id (by_key false) or by key, in one statement. */
static int finish_set(store_conn *c, const outbox_outcome *o, size_t n, bool by_key, int64_t now)
{
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n; i++) {
		if ((o[i].id == 0) != by_key)
			continue;
		db_set_row(&rows);
		if (by_key)
			db_set_field_text(&rows, "key", o[i].key);
		else
			db_set_field_int(&rows, "id", o[i].id);
		db_set_field_int(&rows, "ok", o[i].ok ? 1 : 0);
		db_set_field_int(&rows, "retry_at", o[i].retry_at);
		if (o[i].http_status != 0)
			db_set_field_int(&rows, "http", o[i].http_status);
		db_set_field_text(&rows, "error", o[i].error);
	}
	db_stmt *st;
	int err = rows.n == 0 ? 0 : db_prepare(c, by_key ? &q_finish_by_key : &q_finish, &st);
	if (!err && rows.n > 0) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		err = db_send(st, NULL);
	}
	db_set_release(&rows);
	return err;
}

int store_outbox_finish_many(store_conn *c, const outbox_outcome *o, size_t n, int64_t now)
{
	int err = finish_set(c, o, n, false, now);
	return err ? err : finish_set(c, o, n, true, now);
}

int store_outbox_finish(store_conn *c, int64_t id, bool ok, int32_t http_status, const char *error, int64_t now,
                        int64_t retry_at)
{
	outbox_outcome o = { .id = id, .ok = ok, .http_status = http_status, .error = error, .retry_at = retry_at };
	return store_outbox_finish_many(c, &o, 1, now);
}

static const db_sql q_next_due = {
	"outbox_next_due",
	"SELECT next_attempt_at FROM outbox{index:outbox_due} WHERE " UNDELIVERED " "
	"ORDER BY next_attempt_at LIMIT 1",
	NULL,
};

int store_outbox_next_due(store_conn *c, int64_t *due)
{
	db_stmt *st;
	bool found;
	*due = INT64_MAX;
	int err = db_prepare(c, &q_next_due, &st);
	if (!err && (err = db_query_int(st, due, &found)) == 0 && !found)
		*due = INT64_MAX;
	return err;
}

/* The lease of a row left delivering belonged to a process that is gone:
 * it expires now. (A node sharing the database does not call this: the
 * other nodes' leases are theirs.) */
static const db_sql q_recover = {
	"outbox_recover",
	"UPDATE outbox SET next_attempt_at = $1, updated_at = $1 "
	"WHERE status = 'delivering' AND next_attempt_at > $1",
	NULL,
};

int store_outbox_recover(store_conn *c, int64_t now)
{
	db_stmt *st;
	int err = db_prepare(c, &q_recover, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	return db_run(st, NULL);
}

/* ---- listing ------------------------------------------------------------------------ */

static const db_sql q_list = {
	"outbox_list", "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id DESC LIMIT $1 OFFSET $2", NULL,
};
static const db_sql q_list_status = {
	"outbox_list_status",
	"SELECT " OUTBOX_COLS " FROM outbox WHERE {in:status,$3} ORDER BY id DESC LIMIT $1 OFFSET $2",
	NULL,
};

int store_outbox_list(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit, outbox_row **out,
                      size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	if (!db_page_clamp(&offset, &limit))
		return 0;
	int err = db_prepare(c, status_mask ? &q_list_status : &q_list, &st);
	if (err)
		return err;
	db_set statuses;
	db_set_init(&statuses);
	for (unsigned s = 0; s < DS__COUNT; s++)
		if (status_mask & (1u << s))
			db_set_text(&statuses, delivery_status_name((delivery_status)s));
	db_bind_int(st, limit);
	db_bind_int(st, offset);
	if (status_mask)
		db_bind_set(st, &statuses);
	err = db_collect_outbox(st, out, n);
	db_set_release(&statuses);
	return err;
}
