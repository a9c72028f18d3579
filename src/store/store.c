/*
 * store.c — opening a store (the driver chosen by URL), connections and
 * the reader pool, transactions and savepoints (with the batch-counter
 * bookkeeping they carry), and the release of what the store hands out.
 * The domain operations are in their own files (tasks.c, dag.c, ...).
 */
#include "util/common.h"

#include <strings.h>

#include "store/db.h"
#include "store/pg/pg.h"
#include "store/sqlite/sqlite.h"
#include "util/log.h"
#include "util/metrics.h"

#define SUBSYS "store"

/* When url starts with prefix (case-insensitive), returns the rest. */
static const char *strip_prefix(const char *url, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncasecmp(url, prefix, n) == 0 ? url + n : NULL;
}

/* Every statement execution is reported under the statement's name (a
 * fixed set, never SQL text). */
static void define_metrics(void)
{
	static const double buckets[] = { .001, .005, .01, .025, .05, .1, .25, .5, 1 };
	metrics_define_histogram_labeled("db_query_duration_seconds", "Duration of database statements, by statement",
	                         buckets, ARRAY_LEN(buckets));
	metrics_define_labeled("slow_queries_total", METRIC_COUNTER,
	               "Database statements slower than the slow-query threshold, by statement");
}

store *store_open(const char *url, const store_options *opt, char *err, size_t errlen)
{
	static const char *const pg_prefixes[] = { "postgres://", "postgresql://" };
	/* Longest first: "sqlite://x" must not leave "//x". */
	static const char *const sqlite_prefixes[] = { "sqlite://", "sqlite:", "file://", "file:" };

	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "empty database URL");
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(pg_prefixes); i++) {
		if (strip_prefix(url, pg_prefixes[i]) != NULL) {
			define_metrics();
			return pg_store_open(url, opt, err, errlen);
		}
	}
	const char *path = url;
	for (size_t i = 0; i < ARRAY_LEN(sqlite_prefixes); i++) {
		const char *rest = strip_prefix(url, sqlite_prefixes[i]);
		if (rest != NULL) {
			path = rest;
			break;
		}
	}
	if (path[0] == '\0') {
		snprintf(err, errlen, "database URL \"%s\" names no file", url);
		return NULL;
	}
	define_metrics();
	return sqlite_store_open(path, opt, err, errlen);
}

void store_close(store *s)
{
	if (s != NULL)
		s->drv->close(s);
}

const char *store_backend_name(const store *s) { return s->drv->name; }
store_conn *store_writer(store *s) { return s->writer; }

/* A reader slot not opened yet is opened here, outside the lock; a reader
 * whose connection broke is repaired by its driver before it is handed out
 * (if that fails, its calls answer WEFT_EUNAVAILABLE). */
store_conn *store_reader_acquire(store *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->nidle == 0 && s->nopen >= s->max_readers)
		pthread_cond_wait(&s->cv, &s->mu);
	store_conn *c;
	if (s->nidle > 0) {
		c = s->idle[--s->nidle];
		pthread_mutex_unlock(&s->mu);
		if (c->drv->conn_check != NULL)
			c->drv->conn_check(c);
		return c;
	}
	int slot = s->nopen++;
	pthread_mutex_unlock(&s->mu);
	c = s->drv->conn_open(s, DB_READER);
	pthread_mutex_lock(&s->mu);
	s->readers[slot] = c;
	pthread_mutex_unlock(&s->mu);
	return c;
}

void store_reader_release(store *s, store_conn *c)
{
	if (c == NULL)
		return;
	/* An open transaction would pin its snapshot (and hold its locks). */
	if (c->drv->in_transaction(c)) {
		log_warn(SUBSYS, "reader released inside a transaction; rolling it back");
		c->drv->rollback(c);
	}
	pthread_mutex_lock(&s->mu);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Slots not opened yet count as idle: acquiring one does not wait. */
void store_pool_stats(store *s, int *size, int *idle)
{
	pthread_mutex_lock(&s->mu);
	if (size != NULL)
		*size = s->max_readers;
	if (idle != NULL)
		*idle = s->nidle + (s->max_readers - s->nopen);
	pthread_mutex_unlock(&s->mu);
}

int store_ping(store_conn *c)
{
	static const db_sql ping = { "ping", "SELECT 1", NULL };
	if (c->drv->conn_check != NULL && c->drv->conn_check(c) != 0)
		return WEFT_EUNAVAILABLE;
	db_stmt *st;
	int64_t one;
	bool found;
	int err = db_prepare(c, &ping, &st);
	if (!err)
		err = db_query_int(st, &one, &found);
	return err ? err : found ? 0 : WEFT_ESTORE;
}

/* ---- transactions ---------------------------------------------------------------- */

int store_begin(store_conn *c)
{
	batch_remaining_reset(c);
	task_counts_reset(c);
	queue_stats_reset(c);
	task_changes_reset(c);
	c->sp_open = false;
	c->final_writes_done = false;
	return c->drv->begin(c);
}

/* The batch counters and the counts by status are written last, then
 * COMMIT. A transaction that failed only rolls back: there is nothing to
 * add to it. A failed counter write rolls the whole transaction back:
 * committing the rest would leave the counters wrong. */
int store_commit(store_conn *c)
{
	bool failed = c->drv->tx_failed(c);
	int err = failed ? 0 : queue_stats_flush(c, true);
	if (!err && !failed)
		err = batch_remaining_flush(c, true);
	if (!err && !failed)
		err = task_counts_flush(c, true);
	batch_remaining_reset(c);
	task_counts_reset(c);
	queue_stats_reset(c);
	c->sp_open = false;
	if (err) {
		c->drv->rollback(c);
		return err;
	}
	return c->drv->commit(c);
}

int store_commit_resolve(store_conn *c, bool *committed)
{
	*committed = false;
	return c->drv->commit_resolve != NULL ? c->drv->commit_resolve(c, committed) : WEFT_EINVALID;
}

int store_rollback(store_conn *c)
{
	batch_remaining_reset(c);
	task_counts_reset(c);
	queue_stats_reset(c);
	task_changes_reset(c);
	c->sp_open = false;
	return c->drv->rollback(c);
}

/* A savepoint set before the transaction wrote anything is the
 * transaction itself: nothing is sent for it, and its rollback is a
 * rollback and a new begin. The cycle's first step, which holds a whole
 * set of commands, then costs no SAVEPOINT and RELEASE: on SQLite it copies
 * no page it touches to a statement journal (a temporary file past
 * 64 KiB), and on PostgreSQL its rows carry the transaction's id rather
 * than a subtransaction's. Nothing was written before it, so the new
 * transaction starts where the old one stood: SQLite's writer is the only
 * one, and PostgreSQL's statements each see the latest commits anyway. */
int store_savepoint(store_conn *c)
{
	c->sp_is_tx = c->drv->tx_untouched != NULL && c->drv->tx_untouched(c);
	int err = c->sp_is_tx ? 0 : c->drv->savepoint(c);
	c->sp_open = err == 0;
	if (!err) {
		batch_remaining_savepoint(c);
		task_counts_savepoint(c);
		queue_stats_savepoint(c);
		task_changes_savepoint(c);
	}
	return err;
}

/* A release without a savepoint does nothing: on PostgreSQL it would abort
 * the whole transaction. */
int store_savepoint_release(store_conn *c)
{
	if (!c->sp_open)
		return 0;
	int err = !c->sp_is_tx ? c->drv->savepoint_release(c) : c->drv->sync_writes ? c->drv->sync_writes(c) : 0;
	if (!err)
		c->sp_open = false;
	return err;
}

int store_savepoint_rollback(store_conn *c)
{
	if (!c->sp_open)
		return WEFT_ESTORE;
	c->sp_open = false;
	batch_remaining_rollback(c);
	task_counts_rollback(c);
	queue_stats_rollback(c);
	task_changes_rollback(c);
	if (!c->sp_is_tx)
		return c->drv->savepoint_rollback(c);
	c->drv->rollback(c);
	return c->drv->begin(c);
}

/* ---- freeing (row release functions: model.c) ------------------------------------ */

void store_free_tasks(task_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		task_row_release(&rows[i]);
	free(rows);
}

void store_free_actions(action_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		action_row_release(&rows[i]);
	free(rows);
}

void store_free_batch_summaries(batch_summary *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rows[i].nkinds; k++)
			free(rows[i].kinds[k]);
		free(rows[i].kinds);
	}
	free(rows);
}

void store_free_outbox(outbox_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_row_release(&rows[i]);
	free(rows);
}

void store_free_events(task_event *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		task_event_release(&rows[i]);
	free(rows);
}

void store_free_kind_counts(kind_count *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].kind);
	free(rows);
}
