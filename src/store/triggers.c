/*
 * triggers.c — hooks, events and subscriptions (triggers.h, schema 0017).
 * The same SQL serves both dialects.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/triggers.h"
#include "util/alloc.h"

/* ---- rows ---------------------------------------------------------------------------------- */

void hook_row_release(hook_row *h)
{
	free(h->namespace);
	free(h->name);
	free(h->target_kind);
	free(h->target);
	free(h->scheme);
	free(h->secret);
	memset(h, 0, sizeof *h);
}

void store_free_hooks(hook_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hook_row_release(&rows[i]);
	free(rows);
}

void trigger_event_release(trigger_event *e)
{
	free(e->namespace);
	free(e->id);
	free(e->topic);
	free(e->payload);
	free(e->source);
	memset(e, 0, sizeof *e);
}

void store_free_trigger_events(trigger_event *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		trigger_event_release(&rows[i]);
	free(rows);
}

void subscription_row_release(subscription_row *s)
{
	free(s->namespace);
	free(s->name);
	free(s->topic);
	free(s->prefix);
	free(s->target_kind);
	free(s->target);
	memset(s, 0, sizeof *s);
}

void store_free_subscriptions(subscription_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		subscription_row_release(&rows[i]);
	free(rows);
}

static void event_delivery_release(event_delivery_row *d)
{
	free(d->subscription);
	free(d->target_kind);
	free(d->run_id);
	free(d->job_id);
	free(d->outcome);
}

void store_free_event_deliveries(event_delivery_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_delivery_release(&rows[i]);
	free(rows);
}

#define HOOK_COLS                                                                                             \
	"namespace, name, target_kind, target, scheme, secret, replay_window_secs, deliveries, last_delivery_at, " \
	"created_at, updated_at"

static int read_hook(db_stmt *st, void *row)
{
	hook_row *h = row;
	h->namespace = db_col_str_nn(st, 0, "");
	h->name = db_col_str_nn(st, 1, "");
	h->target_kind = db_col_str_nn(st, 2, "");
	h->target = db_col_str_nn(st, 3, "");
	h->scheme = db_col_str_nn(st, 4, "");
	h->secret = db_col_str_nn(st, 5, "");
	h->replay_window_secs = db_col_int(st, 6);
	h->deliveries = db_col_int(st, 7);
	h->last_delivery_at = db_col_int(st, 8);
	h->created_at = db_col_int(st, 9);
	h->updated_at = db_col_int(st, 10);
	return 0;
}
static void release_hook(void *row) { hook_row_release(row); }
static const db_row_kind hook_kind = { sizeof(hook_row), read_hook, release_hook };

#define EVENT_COLS "namespace, id, topic, payload, source, created_at"

static int read_trigger_event(db_stmt *st, void *row)
{
	trigger_event *e = row;
	e->namespace = db_col_str_nn(st, 0, "");
	e->id = db_col_str_nn(st, 1, "");
	e->topic = db_col_str_nn(st, 2, "");
	e->payload = db_col_str_nn(st, 3, "null");
	e->source = db_col_str_nn(st, 4, "");
	e->created_at = db_col_int(st, 5);
	return 0;
}
static void release_trigger_event(void *row) { trigger_event_release(row); }
static const db_row_kind trigger_event_kind = { sizeof(trigger_event), read_trigger_event, release_trigger_event };

#define SUBSCRIPTION_COLS "namespace, name, topic, prefix, target_kind, target, created_at"

static int read_subscription(db_stmt *st, void *row)
{
	subscription_row *s = row;
	s->namespace = db_col_str_nn(st, 0, "");
	s->name = db_col_str_nn(st, 1, "");
	s->topic = db_col_str_nn(st, 2, "");
	s->prefix = db_col_str(st, 3);
	s->target_kind = db_col_str_nn(st, 4, "");
	s->target = db_col_str_nn(st, 5, "");
	s->created_at = db_col_int(st, 6);
	return 0;
}
static void release_subscription(void *row) { subscription_row_release(row); }
static const db_row_kind subscription_kind = { sizeof(subscription_row), read_subscription, release_subscription };

static int read_event_delivery(db_stmt *st, void *row)
{
	event_delivery_row *d = row;
	d->subscription = db_col_str_nn(st, 0, "");
	d->target_kind = db_col_str_nn(st, 1, "");
	d->run_id = db_col_str(st, 2);
	d->job_id = db_col_str(st, 3);
	d->created_at = db_col_int(st, 4);
	d->outcome = db_col_str_nn(st, 5, "unknown");
	return 0;
}
static void release_event_delivery(void *row) { event_delivery_release(row); }
static const db_row_kind event_delivery_kind = { sizeof(event_delivery_row), read_event_delivery,
	                                         release_event_delivery };

/* The first row of st into out (a row of kind k), or WEFT_ENOTFOUND. */
static int get_one(db_stmt *st, const db_row_kind *k, void *out)
{
	void *rows = NULL;
	size_t n = 0;
	int err = db_collect(st, k, &rows, &n);
	if (err != 0)
		return err;
	if (n == 0) {
		free(rows);
		return WEFT_ENOTFOUND;
	}
	memcpy(out, rows, k->size);
	for (size_t i = 1; i < n; i++)
		k->release((char *)rows + i * k->size);
	free(rows);
	return 0;
}

/* The row of kind k that q, of (namespace, name or id) parameters,
 * reads, or WEFT_ENOTFOUND. */
static int get_by_key(store_conn *c, const db_sql *q, const db_row_kind *k, const char *namespace, const char *key,
                      void *out)
{
	memset(out, 0, k->size);
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, key);
	return get_one(st, k, out);
}

/* A page of rows of kind k in name order: q takes (namespace, the name
 * to start after, limit). */
static int list_after(store_conn *c, const db_sql *q, const db_row_kind *k, const char *namespace, const char *after,
                      size_t limit, void **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, after ? after : "");
	db_bind_int(st, (int64_t)limit);
	return db_collect(st, k, out, n);
}

/* ---- hooks --------------------------------------------------------------------------------- */

static const db_sql q_hook_insert = {
	"hook_insert",
	"INSERT INTO hook (namespace, name, target_kind, target, scheme, secret, replay_window_secs, created_at, "
	"updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_hook_get = { "hook_get", "SELECT " HOOK_COLS " FROM hook WHERE namespace = $1 AND name = $2",
	                           NULL };
static const db_sql q_hook_list = { "hook_list",
	                            "SELECT " HOOK_COLS " FROM hook WHERE namespace = $1 AND name > $2 "
	                            "ORDER BY name LIMIT $3",
	                            NULL };
static const db_sql q_hook_delete = { "hook_delete", "DELETE FROM hook WHERE namespace = $1 AND name = $2", NULL };
static const db_sql q_hook_forget = { "hook_forget_deliveries",
	                              "DELETE FROM hook_delivery WHERE namespace = $1 AND hook = $2", NULL };
static const db_sql q_hook_secret = {
	"hook_set_secret", "UPDATE hook SET secret = $3, updated_at = $4 WHERE namespace = $1 AND name = $2", NULL
};
static const db_sql q_hook_expire = {
	"hook_delivery_expire",
	"DELETE FROM hook_delivery WHERE namespace = $1 AND hook = $2 AND expires_at <= $3", NULL
};
static const db_sql q_hook_claim = {
	"hook_delivery_claim",
	"INSERT INTO hook_delivery (namespace, hook, delivery_id, received_at, expires_at) "
	"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_hook_seen = {
	"hook_delivery_seen",
	"SELECT run_id FROM hook_delivery WHERE namespace = $1 AND hook = $2 AND delivery_id = $3", NULL
};
static const db_sql q_hook_started = {
	"hook_delivery_started",
	"UPDATE hook_delivery SET run_id = $4, job_id = $5 WHERE namespace = $1 AND hook = $2 AND delivery_id = $3",
	NULL,
};
static const db_sql q_hook_unclaim = {
	"hook_delivery_unclaim",
	"DELETE FROM hook_delivery WHERE namespace = $1 AND hook = $2 AND delivery_id = $3 AND run_id IS NULL", NULL
};
static const db_sql q_hook_count = {
	"hook_delivered",
	"UPDATE hook SET deliveries = deliveries + 1, last_delivery_at = $3 WHERE namespace = $1 AND name = $2",
	NULL,
};

int store_hook_insert(store_conn *c, const hook_row *h, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_hook_insert, &st);
	if (err)
		return err;
	db_bind_text(st, h->namespace);
	db_bind_text(st, h->name);
	db_bind_text(st, h->target_kind);
	db_bind_text(st, h->target);
	db_bind_text(st, h->scheme);
	db_bind_text(st, h->secret);
	db_bind_int(st, h->replay_window_secs);
	db_bind_int(st, h->created_at);
	return db_run_changed(st, created);
}

int store_hook_get(store_conn *c, const char *namespace, const char *name, hook_row *out)
{
	return get_by_key(c, &q_hook_get, &hook_kind, namespace, name, out);
}

int store_hook_list(store_conn *c, const char *namespace, const char *after, size_t limit, hook_row **out,
                    size_t *n)
{
	void *rows = NULL;
	int err = list_after(c, &q_hook_list, &hook_kind, namespace, after, limit, &rows, n);
	*out = rows;
	return err;
}

/* A statement of (namespace, name) parameters that changes rows. */
static int by_name(store_conn *c, const db_sql *q, const char *namespace, const char *name, bool *changed)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	return db_run_changed(st, changed);
}

int store_hook_delete(store_conn *c, const char *namespace, const char *name, bool *found)
{
	bool forgot;
	int err = by_name(c, &q_hook_delete, namespace, name, found);
	return err != 0 ? err : by_name(c, &q_hook_forget, namespace, name, &forgot);
}

int store_hook_set_secret(store_conn *c, const char *namespace, const char *name, const char *secret, int64_t now,
                          bool *found)
{
	db_stmt *st;
	int err = db_prepare(c, &q_hook_secret, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_text(st, secret);
	db_bind_int(st, now);
	return db_run_changed(st, found);
}

int store_hook_delivery_claim(store_conn *c, const char *namespace, const char *hook, const char *delivery_id,
                              int64_t now, int64_t expires_at, bool *fresh, char **run_id)
{
	*fresh = false;
	*run_id = NULL;
	db_stmt *st;
	bool changed;
	int err = db_prepare(c, &q_hook_expire, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_int(st, now);
	if ((err = db_run_changed(st, &changed)) != 0)
		return err;
	if ((err = db_prepare(c, &q_hook_claim, &st)) != 0)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_text(st, delivery_id);
	db_bind_int(st, now);
	db_bind_int(st, expires_at);
	if ((err = db_run_changed(st, fresh)) != 0 || *fresh)
		return err;
	if ((err = db_prepare(c, &q_hook_seen, &st)) != 0)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_text(st, delivery_id);
	int rc = db_step(st);
	if (rc == 1)
		*run_id = db_col_str(st, 0);
	return db_end(st, rc < 0 ? rc : 0);
}

int store_hook_delivery_started(store_conn *c, const char *namespace, const char *hook, const char *delivery_id,
                                const char *run_id, const char *job_id, int64_t now)
{
	db_stmt *st;
	bool changed;
	int err = db_prepare(c, &q_hook_started, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_text(st, delivery_id);
	db_bind_text(st, run_id);
	db_bind_text(st, job_id);
	if ((err = db_run_changed(st, &changed)) != 0)
		return err;
	if ((err = db_prepare(c, &q_hook_count, &st)) != 0)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_int(st, now);
	return db_run_changed(st, &changed);
}

int store_hook_delivery_unclaim(store_conn *c, const char *namespace, const char *hook, const char *delivery_id)
{
	db_stmt *st;
	bool changed;
	int err = db_prepare(c, &q_hook_unclaim, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, hook);
	db_bind_text(st, delivery_id);
	return db_run_changed(st, &changed);
}

/* ---- events -------------------------------------------------------------------------------- */

static const db_sql q_event_insert = {
	"event_insert",
	"INSERT INTO event (namespace, id, topic, payload, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
	"ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_event_get = { "event_get",
	                            "SELECT " EVENT_COLS " FROM event WHERE namespace = $1 AND id = $2", NULL };
static const db_sql q_event_list = {
	"event_list",
	"SELECT " EVENT_COLS " FROM event WHERE namespace = $1 AND (CAST($2 AS TEXT) IS NULL OR topic = $2) "
	"AND (CAST($4 AS TEXT) IS NULL OR created_at < $3 OR (created_at = $3 AND id < $4)) "
	"ORDER BY created_at DESC, id DESC LIMIT $5",
	NULL,
};

int store_event_insert(store_conn *c, const trigger_event *ev, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_event_insert, &st);
	if (err)
		return err;
	db_bind_text(st, ev->namespace);
	db_bind_text(st, ev->id);
	db_bind_text(st, ev->topic);
	db_bind_text(st, ev->payload);
	db_bind_text(st, ev->source);
	db_bind_int(st, ev->created_at);
	return db_run_changed(st, created);
}

int store_event_get(store_conn *c, const char *namespace, const char *id, trigger_event *out)
{
	return get_by_key(c, &q_event_get, &trigger_event_kind, namespace, id, out);
}

int store_event_list(store_conn *c, const char *namespace, const char *topic, int64_t before_at,
                     const char *before_id, size_t limit, trigger_event **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_event_list, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, topic);
	db_bind_int(st, before_at);
	db_bind_text(st, before_id);
	db_bind_int(st, (int64_t)limit);
	void *rows = NULL;
	err = db_collect(st, &trigger_event_kind, &rows, n);
	*out = rows;
	return err;
}

/* ---- subscriptions ------------------------------------------------------------------------- */

static const db_sql q_sub_insert = {
	"subscription_insert",
	"INSERT INTO subscription (namespace, name, topic, prefix, target_kind, target, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_sub_get = { "subscription_get",
	                          "SELECT " SUBSCRIPTION_COLS " FROM subscription WHERE namespace = $1 AND name = $2",
	                          NULL };
static const db_sql q_sub_list = { "subscription_list",
	                           "SELECT " SUBSCRIPTION_COLS " FROM subscription WHERE namespace = $1 AND "
	                           "name > $2 ORDER BY name LIMIT $3",
	                           NULL };
static const db_sql q_sub_delete = { "subscription_delete",
	                             "DELETE FROM subscription WHERE namespace = $1 AND name = $2", NULL };
/* A prefix pattern matches the topics that start with its prefix and go
 * on past it: "orders.*" matches "orders.paid", not "orders." alone. */
static const db_sql q_sub_matching = {
	"subscriptions_matching",
	"SELECT " SUBSCRIPTION_COLS " FROM subscription WHERE namespace = $1 AND "
	"(topic = $2 OR (prefix IS NOT NULL AND length($2) > length(prefix) AND "
	"substr($2, 1, length(prefix)) = prefix)) ORDER BY name",
	NULL,
};

int store_subscription_insert(store_conn *c, const subscription_row *s, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_sub_insert, &st);
	if (err)
		return err;
	db_bind_text(st, s->namespace);
	db_bind_text(st, s->name);
	db_bind_text(st, s->topic);
	db_bind_text(st, s->prefix);
	db_bind_text(st, s->target_kind);
	db_bind_text(st, s->target);
	db_bind_int(st, s->created_at);
	return db_run_changed(st, created);
}

static const db_sql q_sub_count = { "subscription_count", "SELECT count(*) FROM subscription WHERE namespace = $1",
	                            NULL };

int store_subscription_count(store_conn *c, const char *namespace, int64_t *n)
{
	*n = 0;
	db_stmt *st;
	bool found;
	int err = db_prepare(c, &q_sub_count, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	return db_query_int(st, n, &found);
}

int store_subscription_get(store_conn *c, const char *namespace, const char *name, subscription_row *out)
{
	return get_by_key(c, &q_sub_get, &subscription_kind, namespace, name, out);
}

int store_subscription_list(store_conn *c, const char *namespace, const char *after, size_t limit,
                            subscription_row **out, size_t *n)
{
	void *rows = NULL;
	int err = list_after(c, &q_sub_list, &subscription_kind, namespace, after, limit, &rows, n);
	*out = rows;
	return err;
}

int store_subscription_delete(store_conn *c, const char *namespace, const char *name, bool *found)
{
	return by_name(c, &q_sub_delete, namespace, name, found);
}

int store_subscriptions_matching(store_conn *c, const char *namespace, const char *topic,
                                 subscription_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_sub_matching, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, topic);
	void *rows = NULL;
	err = db_collect(st, &subscription_kind, &rows, n);
	*out = rows;
	return err;
}

/* ---- event deliveries ---------------------------------------------------------------------- */

/* A delivery's outcome is its run's status now: a job's task, a
 * workflow run's row, a template run's tasks (running while one has not
 * ended, failure when one failed or was canceled). */
#define ENDED "('success', 'failure', 'canceled', 'skipped')"
static const db_sql q_deliveries = {
	"event_deliveries",
	"SELECT d.subscription, d.target_kind, d.run_id, d.job_id, d.created_at, "
	"CASE WHEN d.run_id IS NULL THEN 'not_started' "
	"WHEN d.target_kind = 'workflow' THEN (SELECT w.status FROM workflow_run w WHERE w.id = d.run_id) "
	"WHEN d.target_kind = 'template' THEN CASE "
	"  WHEN EXISTS (SELECT 1 FROM task t WHERE t.batch_id = d.run_id AND t.status NOT IN " ENDED ") "
	"  THEN 'running' "
	"  WHEN EXISTS (SELECT 1 FROM task t WHERE t.batch_id = d.run_id AND t.status IN ('failure', 'canceled')) "
	"  THEN 'failure' "
	"  WHEN EXISTS (SELECT 1 FROM task t WHERE t.batch_id = d.run_id) THEN 'success' END "
	"ELSE (SELECT t.status FROM task t WHERE t.id = d.job_id) END "
	"FROM event_delivery d WHERE d.namespace = $1 AND d.event_id = $2 ORDER BY d.subscription",
	NULL,
};

static const db_sql q_deliveries_insert = {
	"event_deliveries_insert",
	"INSERT INTO event_delivery (namespace, event_id, subscription, target_kind, run_id, job_id, created_at) "
	"SELECT $1, $2, d.subscription, d.target_kind, d.run_id, d.job_id, $4 "
	"FROM {rows:$3,subscription text,target_kind text,run_id text,job_id text} AS d WHERE true "
	"ON CONFLICT DO NOTHING",
	NULL,
};

int store_event_deliveries_insert(store_conn *c, const char *namespace, const char *event_id,
                                  const event_delivery_new *d, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	db_stmt *st;
	bool changed;
	int err = db_prepare(c, &q_deliveries_insert, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	for (size_t i = 0; i < n; i++) {
		db_set_row(&set);
		db_set_field_text(&set, "subscription", d[i].subscription);
		db_set_field_text(&set, "target_kind", d[i].target_kind);
		db_set_field_text(&set, "run_id", d[i].run_id);
		db_set_field_text(&set, "job_id", d[i].job_id);
	}
	db_bind_text(st, namespace);
	db_bind_text(st, event_id);
	db_bind_set(st, &set);
	db_bind_int(st, now);
	err = db_run_changed(st, &changed);
	db_set_release(&set);
	return err;
}

int store_event_deliveries(store_conn *c, const char *namespace, const char *event_id,
                           event_delivery_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_deliveries, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, event_id);
	void *rows = NULL;
	err = db_collect(st, &event_delivery_kind, &rows, n);
	*out = rows;
	return err;
}

/* ---- a task's emit ------------------------------------------------------------------------- */

void store_free_task_emits(task_emit_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].namespace);
		free(rows[i].topic);
		free(rows[i].on_end);
		free(rows[i].result);
	}
	free(rows);
}

static int read_task_emit(db_stmt *st, void *row)
{
	task_emit_row *t = row;
	db_col_id(st, 0, &t->task_id);
	t->namespace = db_col_str_nn(st, 1, "");
	t->topic = db_col_str_nn(st, 2, "");
	t->on_end = db_col_str_nn(st, 3, "end");
	t->result = db_col_str(st, 4);
	return 0;
}
static void release_task_emit(void *row)
{
	task_emit_row *t = row;
	free(t->namespace);
	free(t->topic);
	free(t->on_end);
	free(t->result);
}
static const db_row_kind task_emit_kind = { sizeof(task_emit_row), read_task_emit, release_task_emit };

static const db_sql q_emit_insert = {
	"task_emit_insert", "INSERT INTO task_emit (task_id, namespace, topic, on_end) VALUES ($1, $2, $3, $4)", NULL
};
static const db_sql q_emits = { "task_emits",
	                        "SELECT e.task_id, e.namespace, e.topic, e.on_end, t.result FROM task_emit AS e "
	                        "LEFT JOIN task AS t ON t.id = e.task_id WHERE {in:e.task_id,$1}",
	                        NULL };

int store_task_emit_insert(store_conn *c, const weft_id *task_id, const char *namespace, const char *topic,
                           const char *on_end)
{
	db_stmt *st;
	bool changed;
	int err = db_prepare(c, &q_emit_insert, &st);
	if (err)
		return err;
	db_bind_id(st, task_id);
	db_bind_text(st, namespace);
	db_bind_text(st, topic);
	db_bind_text(st, on_end);
	return db_run_changed(st, &changed);
}

int store_task_emits(store_conn *c, const weft_id *ids, size_t n, task_emit_row **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	db_stmt *st;
	int err = db_prepare(c, &q_emits, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, ids, n);
	db_bind_set(st, &set);
	void *rows = NULL;
	err = db_collect(st, &task_emit_kind, &rows, nout);
	db_set_release(&set);
	*out = rows;
	return err;
}
