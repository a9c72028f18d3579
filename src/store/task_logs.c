/*
 * task_logs.c — the lines executions printed (task_logs.h): the engine's
 * batched insert, a task's lines in order, the search across executions,
 * and their expiry by age.
 *
 * A batch of lines is one INSERT ... SELECT over the lines bound as one
 * set ({rows}), joined to the task for the columns the search reads, so
 * that a batch costs one statement whatever its size. A line whose key is
 * taken fails the statement rather than being skipped: on a shared
 * database two nodes may number lines of one execution (a worker's
 * requests reaching both), and the engine then reads the largest seq
 * again and writes the lines after it, where skipping would lose them.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/task_logs.h"
#include "util/alloc.h"

static const db_sql q_insert = {
	"task_logs_insert",
	"INSERT INTO task_log (task_id, attempt, seq, stream, level, at, namespace, run_id, queue, text) "
	"SELECT r.task_id, CAST(r.attempt AS BIGINT), CAST(r.seq AS BIGINT), r.stream, r.level, CAST(r.at AS BIGINT), "
	"t.namespace, coalesce(t.batch_id, t.id), t.kind, r.text "
	"FROM {rows:$1,task_id text,attempt bigint,seq bigint,stream text,level text,at bigint,text text} AS r "
	"JOIN task AS t ON t.id = r.task_id",
	NULL,
};

static const db_sql q_max_seq = {
	"task_logs_max_seq",
	"SELECT max(seq) FROM task_log WHERE task_id = $1 AND attempt = $2",
	NULL,
};

static const db_sql q_expire = {
	"task_logs_expire",
	"DELETE FROM task_log WHERE (task_id, attempt, seq) IN "
	"(SELECT task_id, attempt, seq FROM task_log WHERE at < $1 ORDER BY at LIMIT $2)",
	NULL,
};

#define LOG_COLS "task_id, attempt, seq, stream, level, at, namespace, run_id, queue, text"

int store_task_logs_insert(store_conn *c, const task_log_put *lines, size_t n, int64_t *written)
{
	if (written != NULL)
		*written = 0;
	if (n == 0)
		return 0;
	db_set rows;
	db_set_init(&rows);
	buf text;
	buf_init(&text);
	for (size_t i = 0; i < n; i++) {
		const task_log_put *l = &lines[i];
		db_set_row(&rows);
		db_set_field_text(&rows, "task_id", l->task_id.str);
		db_set_field_int(&rows, "attempt", l->attempt);
		db_set_field_int(&rows, "seq", l->seq);
		db_set_field_text(&rows, "stream", l->stream);
		db_set_field_text(&rows, "level", l->level);
		db_set_field_int(&rows, "at", l->at);
		/* The line is not NUL-bounded: a copy bounded here. */
		buf_reset(&text);
		buf_append(&text, l->text, l->len);
		db_set_field_text(&rows, "text", text.data);
	}
	buf_release(&text);
	db_stmt *st;
	int err = db_prepare(c, &q_insert, &st);
	if (!err) {
		db_bind_set(st, &rows);
		err = db_run(st, written);
	}
	db_set_release(&rows);
	return err;
}

int store_task_logs_max_seq(store_conn *c, const weft_id *task, int32_t attempt, int64_t *seq)
{
	*seq = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_max_seq, &st);
	if (err)
		return err;
	db_bind_id(st, task);
	db_bind_int(st, attempt);
	bool found;
	return db_query_int(st, seq, &found);
}

int store_task_logs_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed)
{
	*removed = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_expire, &st);
	if (err)
		return err;
	db_bind_int(st, before);
	db_bind_int(st, (int64_t)limit);
	return db_run(st, removed);
}

void store_free_task_logs(task_log_entry *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].namespace);
		free(rows[i].run_id);
		free(rows[i].queue);
		free(rows[i].text);
	}
	free(rows);
}

static int collect(db_stmt *st, task_log_entry **out, size_t *n)
{
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		task_log_entry *r = &(*out)[(*n)++];
		memset(r, 0, sizeof *r);
		db_col_id(st, 0, &r->task_id);
		r->attempt = (int32_t)db_col_int(st, 1);
		r->seq = db_col_int(st, 2);
		snprintf(r->stream, sizeof r->stream, "%s", db_col_text(st, 3) ? db_col_text(st, 3) : "");
		snprintf(r->level, sizeof r->level, "%s", db_col_text(st, 4) ? db_col_text(st, 4) : "");
		r->at = db_col_int(st, 5);
		r->namespace = db_col_str(st, 6);
		r->run_id = db_col_str(st, 7);
		r->queue = db_col_str(st, 8);
		r->text = db_col_str_nn(st, 9, "");
	}
	rc = db_end(st, rc);
	if (rc) {
		store_free_task_logs(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- a task's lines ----------------------------------------------------------------------- */

enum { LIST_ATTEMPT = 1, LIST_STREAM = 2 };

static void build_list(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT " LOG_COLS " FROM task_log WHERE task_id = $1");
	buf_puts(sql, (shape & LIST_ATTEMPT) ? " AND attempt = $2" : " AND $2 = 0");
	buf_puts(sql, (shape & LIST_STREAM) ? " AND stream = $3" : " AND $3 = ''");
	/* A row value: both databases walk the key's index from it. */
	buf_puts(sql, " AND (attempt, seq) > ($4, $5) ORDER BY attempt, seq LIMIT $6");
}

static const db_dyn dyn_list = { "task_logs_list", build_list };

int store_task_logs_list(store_conn *c, const weft_id *task, int32_t attempt, const char *stream,
                         int32_t after_attempt, int64_t after_seq, size_t limit, task_log_entry **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	unsigned shape = (attempt > 0 ? LIST_ATTEMPT : 0u) | (stream != NULL ? LIST_STREAM : 0u);
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_list, shape, &st);
	if (err)
		return err;
	db_bind_id(st, task);
	db_bind_int(st, attempt > 0 ? attempt : 0);
	db_bind_text(st, stream != NULL ? stream : "");
	db_bind_int(st, after_attempt);
	db_bind_int(st, after_seq);
	db_bind_int(st, (int64_t)limit);
	return collect(st, out, n);
}

/* ---- the search ---------------------------------------------------------------------------- */

enum {
	S_NS = 1u << 0,
	S_TASK = 1u << 1,
	S_RUN = 1u << 2,
	S_QUEUE = 1u << 3,
	S_STREAM = 1u << 4,
	S_LEVEL = 1u << 5,
	S_TEXT = 1u << 6,
	S_AFTER = 1u << 7,
};

/* Parameters: $1 namespaces (set), $2 task, $3 run, $4 queue, $5 stream,
 * $6 level, $7 text, $8 since, $9 until, $10..$13 the cursor's key
 * (at, task, attempt, seq), $14 limit. An absent filter keeps its
 * parameter with a condition that always holds. */
static void build_search(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT " LOG_COLS " FROM task_log WHERE ");
	buf_puts(sql, (shape & S_NS) ? "{in:namespace,$1}" : "$1 = ''");
	buf_puts(sql, (shape & S_TASK) ? " AND task_id = $2" : " AND $2 = ''");
	buf_puts(sql, (shape & S_RUN) ? " AND run_id = $3" : " AND $3 = ''");
	buf_puts(sql, (shape & S_QUEUE) ? " AND queue = $4" : " AND $4 = ''");
	buf_puts(sql, (shape & S_STREAM) ? " AND stream = $5" : " AND $5 = ''");
	buf_puts(sql, (shape & S_LEVEL) ? " AND level = $6" : " AND $6 = ''");
	buf_puts(sql, (shape & S_TEXT) ? " AND {strpos:lower(text),lower($7)} > 0" : " AND $7 = ''");
	buf_puts(sql, " AND at >= $8 AND at < $9");
	if (shape & S_AFTER)
		buf_puts(sql, " AND (at, task_id, attempt, seq) < ($10, $11, $12, $13)");
	else
		buf_puts(sql, " AND $10 = 0 AND $11 = '' AND $12 = 0 AND $13 = 0");
	buf_puts(sql, " ORDER BY at DESC, task_id DESC, attempt DESC, seq DESC LIMIT $14");
}

static const db_dyn dyn_search = { "task_logs_search", build_search };

int store_task_logs_search(store_conn *c, const task_log_query *q, task_log_entry **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	unsigned shape = (q->namespaces != NULL ? S_NS : 0u) | (q->task_id != NULL ? S_TASK : 0u) |
	                 (q->run_id != NULL ? S_RUN : 0u) | (q->queue != NULL ? S_QUEUE : 0u) |
	                 (q->stream != NULL ? S_STREAM : 0u) | (q->level != NULL ? S_LEVEL : 0u) |
	                 (q->text != NULL ? S_TEXT : 0u) | (q->has_after ? S_AFTER : 0u);
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_search, shape, &st);
	if (err)
		return err;
	db_set ns;
	db_set_init(&ns);
	if (q->namespaces != NULL) {
		for (size_t i = 0; i < q->nnamespaces; i++)
			db_set_text(&ns, q->namespaces[i]);
		db_bind_set(st, &ns);
	} else {
		db_bind_text(st, "");
	}
	db_bind_text(st, q->task_id != NULL ? q->task_id->str : "");
	db_bind_text(st, q->run_id != NULL ? q->run_id : "");
	db_bind_text(st, q->queue != NULL ? q->queue : "");
	db_bind_text(st, q->stream != NULL ? q->stream : "");
	db_bind_text(st, q->level != NULL ? q->level : "");
	db_bind_text(st, q->text != NULL ? q->text : "");
	db_bind_int(st, q->since);
	db_bind_int(st, q->until > 0 ? q->until : INT64_MAX);
	db_bind_int(st, q->has_after ? q->after_at : 0);
	db_bind_text(st, q->has_after ? q->after_task.str : "");
	db_bind_int(st, q->has_after ? q->after_attempt : 0);
	db_bind_int(st, q->has_after ? q->after_seq : 0);
	db_bind_int(st, (int64_t)q->limit);
	err = collect(st, out, n);
	db_set_release(&ns);
	return err;
}
