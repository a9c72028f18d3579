/*
 * metrics_history.c — the minute rows of metrics_history.h.
 */
#include "util/common.h"
#include "store/metrics_history.h"

#include "store/db.h"

static const db_sql q_add = {
	"metrics_history_add",
	"INSERT INTO metrics_history (at, node, created, completed, failed, retried, latency_p50_ms, latency_p95_ms, "
	"latency_p99_ms, queue_depth, running) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
	"ON CONFLICT (at, node) DO NOTHING",
	NULL,
};

static void bind_latency(db_stmt *st, int64_t ms)
{
	if (ms < 0)
		db_bind_null(st);
	else
		db_bind_int(st, ms);
}

int store_metrics_history_add(store_conn *c, const char *node, const metrics_sample *s)
{
	db_stmt *st;
	int err = db_prepare(c, &q_add, &st);
	if (err)
		return err;
	db_bind_int(st, s->at);
	db_bind_text(st, node);
	db_bind_int(st, s->created);
	db_bind_int(st, s->completed);
	db_bind_int(st, s->failed);
	db_bind_int(st, s->retried);
	bind_latency(st, s->latency_p50_ms);
	bind_latency(st, s->latency_p95_ms);
	bind_latency(st, s->latency_p99_ms);
	db_bind_int(st, s->queue_depth);
	db_bind_int(st, s->running);
	return db_send(st, NULL);
}

static const db_sql q_list = {
	"metrics_history_list",
	"SELECT at, CAST(sum(created) AS BIGINT), CAST(sum(completed) AS BIGINT), CAST(sum(failed) AS BIGINT), "
	"CAST(sum(retried) AS BIGINT), max(latency_p50_ms), max(latency_p95_ms), max(latency_p99_ms), "
	"max(queue_depth), max(running) FROM metrics_history WHERE at >= $1 AND at < $2 "
	"GROUP BY at ORDER BY at LIMIT $3",
	NULL,
};

static int64_t col_or(db_stmt *st, int i, int64_t none)
{
	return db_col_null(st, i) ? none : db_col_int(st, i);
}

int store_metrics_history_list(store_conn *c, int64_t since, int64_t until, size_t limit, metrics_sample **out,
                               size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_list, &st);
	if (err)
		return err;
	db_bind_int(st, since);
	db_bind_int(st, until);
	db_bind_int(st, (int64_t)limit);
	metrics_sample *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		v = db_grow(v, len, &cap, sizeof *v);
		metrics_sample *s = &v[len++];
		s->at = db_col_int(st, 0);
		s->created = db_col_int(st, 1);
		s->completed = db_col_int(st, 2);
		s->failed = db_col_int(st, 3);
		s->retried = db_col_int(st, 4);
		s->latency_p50_ms = col_or(st, 5, -1);
		s->latency_p95_ms = col_or(st, 6, -1);
		s->latency_p99_ms = col_or(st, 7, -1);
		s->queue_depth = db_col_int(st, 8);
		s->running = db_col_int(st, 9);
	}
	err = db_end(st, rc);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = len;
	return 0;
}

static const db_sql q_expire = {
	"metrics_history_expire",
	"DELETE FROM metrics_history WHERE at IN (SELECT at FROM metrics_history WHERE at < $1 ORDER BY at LIMIT $2)",
	NULL,
};

int store_metrics_history_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed)
{
	db_stmt *st;
	*removed = 0;
	int err = db_prepare(c, &q_expire, &st);
	if (err)
		return err;
	db_bind_int(st, before);
	db_bind_int(st, (int64_t)limit);
	return db_run(st, removed);
}
