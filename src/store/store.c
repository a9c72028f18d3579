/*
 * store.c — backend selection by URL, and the public store_* functions,
 * which dispatch through the backend's store_ops (store_impl.h).
 */
#include "util/common.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "store/store_pg.h"
#include "store/store_sqlite.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/metrics.h"

/* When url starts with prefix (case-insensitive), returns the rest. */
static const char *strip_prefix(const char *url, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncasecmp(url, prefix, n) == 0 ? url + n : NULL;
}

/* Every backend reports each statement execution under the statement's
 * name (a fixed set per backend, never SQL text). */
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
			return store_pg_open(url, opt, err, errlen);
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
	return store_sqlite_open(path, opt, err, errlen);
}

void store_close(store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *store_backend_name(const store *s) { return s->ops->name; }
store_conn *store_writer(store *s) { return s->ops->writer(s); }
store_conn *store_reader_acquire(store *s) { return s->ops->reader_acquire(s); }
void store_reader_release(store *s, store_conn *c) { s->ops->reader_release(s, c); }
void store_pool_stats(store *s, int *size, int *idle) { s->ops->pool_stats(s, size, idle); }
int store_ping(store_conn *c) { return c->ops->ping(c); }

int store_begin(store_conn *c) { return c->ops->begin(c); }
int store_commit(store_conn *c) { return c->ops->commit(c); }
int store_rollback(store_conn *c) { return c->ops->rollback(c); }
int store_savepoint(store_conn *c) { return c->ops->savepoint(c); }
int store_savepoint_release(store_conn *c) { return c->ops->savepoint_release(c); }
int store_savepoint_rollback(store_conn *c) { return c->ops->savepoint_rollback(c); }

int store_batch_insert(store_conn *c, const batch_row *b) { return c->ops->batch_insert(c, b); }
int store_task_insert(store_conn *c, const task_row *t) { return c->ops->task_insert(c, t); }
int store_link_insert(store_conn *c, const link_row *l) { return c->ops->link_insert(c, l); }

int store_action_insert(store_conn *c, const weft_id *task_id, const action_row *a)
{
	return c->ops->action_insert(c, task_id, a);
}

int store_task_get(store_conn *c, const weft_id *id, task_row *out)
{
	return c->ops->task_get(c, id, out);
}

int store_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n)
{
	return c->ops->task_actions(c, id, out, n);
}

int store_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig,
                           action_condition cond, action_row **out, size_t *n)
{
	return c->ops->task_actions_for(c, id, trig, cond, out, n);
}

int store_task_update(store_conn *c, const weft_id *id, unsigned from_mask,
                      const task_update *u, task_update_result *res)
{
	*res = (task_update_result){ .applied = false, .prev = TS_WAITING };
	return c->ops->task_update(c, id, from_mask, u, res);
}

int store_fail_required_children(store_conn *c, const weft_id *parent, const char *reason,
                                 int64_t now, weft_id **changed, size_t *n)
{
	return c->ops->fail_required_children(c, parent, reason, now, changed, n);
}

int store_release_children(store_conn *c, const weft_id *parent, bool parent_succeeded,
                           weft_id **became_pending, size_t *n)
{
	return c->ops->release_children(c, parent, parent_succeeded, became_pending, n);
}

int store_dead_end_parents(store_conn *c, const weft_id *tasks, size_t ntasks,
                           weft_id **parents, size_t *n)
{
	return c->ops->dead_end_parents(c, tasks, ntasks, parents, n);
}

int store_pending_scan(store_conn *c, const pending_cursor *after, size_t limit, int64_t now,
                       task_row **out, size_t *n)
{
	return c->ops->pending_scan(c, after, limit, now, out, n);
}

/* "None" from a backend's lookup of the next due time, as INT64_MAX. */
static int due_or_never(int rc, int64_t *due)
{
	if (rc == WEFT_ENOTFOUND) {
		*due = INT64_MAX;
		return 0;
	}
	return rc;
}

int store_pending_next_start(store_conn *c, int64_t now, int64_t *due)
{
	return due_or_never(c->ops->pending_next_start(c, now, due), due);
}

int store_count_matching(store_conn *c, const char *kind, unsigned status_mask,
                         const char *pattern, int64_t limit, int64_t *count)
{
	return c->ops->count_matching(c, kind, status_mask, pattern, limit, count);
}

int store_capacity_sum(store_conn *c, const char *kind, const char *pattern, int64_t *sum)
{
	return c->ops->capacity_sum(c, kind, pattern, sum);
}

int store_ledger_claim(store_conn *c, const char *key, const weft_id *task, action_trigger trig,
                       action_condition cond, int64_t now, int64_t stale_before,
                       ledger_claim_result *result)
{
	return c->ops->ledger_claim(c, key, task, trig, cond, now, stale_before, result);
}

int store_ledger_finish(store_conn *c, const char *key, bool ok, int32_t http_status, const char *error,
                        int64_t now)
{
	return c->ops->ledger_finish(c, key, ok, http_status, error, now);
}

int store_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n)
{
	return c->ops->deadlines(c, status, out, n);
}

int store_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count)
{
	return c->ops->batch_task_count(c, batch, count);
}

int store_batch_add_remaining(store_conn *c, const weft_id *batch, int64_t delta)
{
	return c->ops->batch_add_remaining(c, batch, delta);
}

int store_batch_complete(store_conn *c, const weft_id *batch, int64_t now, bool *completed,
                         char **on_complete, batch_outcome *counts)
{
	*completed = false;
	*on_complete = NULL;
	int rc = c->ops->batch_complete(c, batch, now, on_complete, counts);
	if (rc == WEFT_ENOTFOUND)
		return 0;
	*completed = rc == 0;
	return rc;
}

int store_batch_cancel(store_conn *c, const weft_id *batch, const char *reason, int64_t now,
                       batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning)
{
	return c->ops->batch_cancel(c, batch, reason, now, counts, was_running, nrunning);
}

int store_batch_set_rules(store_conn *c, const weft_id *batch, const char *kind,
                          const char *rules_json, int64_t now, int64_t *updated)
{
	return c->ops->batch_set_rules(c, batch, kind, rules_json, now, updated);
}

int store_group_tasks(store_conn *c, const char *name, unsigned status_mask, weft_id **ids, size_t *n)
{
	return c->ops->group_tasks(c, name, status_mask, ids, n);
}

int store_outbox_insert(store_conn *c, outbox_row *o) { return c->ops->outbox_insert(c, o); }

int store_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit,
                       const weft_id *skip, size_t nskip, outbox_row **out, size_t *n)
{
	return c->ops->outbox_lease(c, now, lease_until, limit, skip, nskip, out, n);
}

int store_outbox_finish(store_conn *c, int64_t id, bool ok, int32_t http_status, const char *error,
                        int64_t now, int64_t retry_at)
{
	return c->ops->outbox_finish(c, id, ok, http_status, error, now, retry_at);
}

int store_outbox_next_due(store_conn *c, int64_t *due)
{
	return due_or_never(c->ops->outbox_next_due(c, due), due);
}
int store_outbox_recover(store_conn *c, int64_t now) { return c->ops->outbox_recover(c, now); }

int store_archive_terminal(store_conn *c, int64_t ended_before, size_t limit, int64_t *archived)
{
	return c->ops->archive_terminal(c, ended_before, limit, archived);
}

int store_task_list(store_conn *c, const task_filter *f, int64_t offset, int64_t limit,
                    task_row **out, size_t *n)
{
	return c->ops->task_list(c, f, offset, limit, out, n);
}

int store_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out)
{
	return c->ops->batch_stats(c, batch, out);
}

int store_batch_list(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit,
                     batch_summary **out, size_t *n)
{
	return c->ops->batch_list(c, f, offset, limit, out, n);
}

int store_dag(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks,
              link_row **links, size_t *nlinks)
{
	return c->ops->dag(c, batch, tasks, ntasks, links, nlinks);
}

int store_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n)
{
	return c->ops->task_events(c, id, out, n);
}

int store_outbox_list(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit,
                      outbox_row **out, size_t *n)
{
	return c->ops->outbox_list(c, status_mask, offset, limit, out, n);
}

int store_status_counts(store_conn *c, int64_t counts[TS__COUNT])
{
	return c->ops->status_counts(c, counts);
}

int store_running_by_kind(store_conn *c, kind_count **out, size_t *n)
{
	return c->ops->running_by_kind(c, out, n);
}

/* ---- helpers shared by the backends ----------------------------------------- */

const task_update_column task_update_columns[TU__COUNT] = {
	[TU_STATUS] = { "status", false },
	[TU_SUCCESS] = { "success", true },
	[TU_FAILURES] = { "failures", true },
	[TU_METADATA] = { "metadata", false },
	[TU_REASON] = { "failure_reason", false },
	[TU_RULES] = { "rules", false },
	[TU_EXPECTED] = { "expected_count", false },
	[TU_PRIORITY] = { "priority", false },
	[TU_STARTED] = { "started_at", false },
	[TU_ENDED] = { "ended_at", false },
	[TU_UPDATED] = { "last_updated", false },
	[TU_ATTEMPT] = { "attempt", false },
	[TU_NEXT_RETRY] = { "next_retry_at", false },
};

unsigned task_update_shape(const task_update *u)
{
	unsigned shape = 0;
	shape |= (unsigned)u->set_status << TU_STATUS;
	shape |= (unsigned)(u->add_success != 0) << TU_SUCCESS;
	shape |= (unsigned)(u->add_failures != 0) << TU_FAILURES;
	shape |= (unsigned)(u->metadata != NULL) << TU_METADATA;
	shape |= (unsigned)(u->failure_reason != NULL) << TU_REASON;
	shape |= (unsigned)(u->rules != NULL) << TU_RULES;
	shape |= (unsigned)u->set_expected_count << TU_EXPECTED;
	shape |= (unsigned)u->set_priority << TU_PRIORITY;
	shape |= (unsigned)(u->started_at != 0) << TU_STARTED;
	shape |= (unsigned)(u->ended_at != 0) << TU_ENDED;
	shape |= (unsigned)(u->last_updated != 0) << TU_UPDATED;
	shape |= (unsigned)u->set_attempt << TU_ATTEMPT;
	shape |= (unsigned)(u->next_retry_at != 0) << TU_NEXT_RETRY;
	return shape;
}

unsigned task_list_shape(const task_filter *f)
{
	unsigned shape = 0;
	shape |= (unsigned)(f->name != NULL && f->name[0] != '\0') << TL_NAME;
	shape |= (unsigned)(f->kind != NULL && f->kind[0] != '\0') << TL_KIND;
	shape |= (unsigned)((f->status_mask & TS_ALL_MASK) != 0) << TL_STATUS;
	shape |= (unsigned)f->has_timeout << TL_TIMEOUT;
	shape |= (unsigned)(f->batch_id != NULL) << TL_BATCH;
	shape |= (unsigned)(f->metadata != NULL) << TL_METADATA;
	return shape;
}

unsigned batch_list_shape(const batch_filter *f)
{
	unsigned shape = 0;
	shape |= (unsigned)(f->kind != NULL && f->kind[0] != '\0') << BL_KIND;
	shape |= (unsigned)(f->name != NULL && f->name[0] != '\0') << BL_NAME;
	shape |= (unsigned)((f->status_mask & TS_ALL_MASK) != 0) << BL_STATUS;
	shape |= (unsigned)(f->created_after != 0) << BL_AFTER;
	shape |= (unsigned)(f->created_before != 0) << BL_BEFORE;
	return shape;
}

void batch_summary_set_kinds(batch_summary *bs, const char *json_array)
{
	json_t *arr = json_array ? json_parse_text(json_array) : NULL;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	bs->kinds = n ? xcalloc(n, sizeof *bs->kinds) : NULL;
	bs->nkinds = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = json_string_value(json_array_get(arr, i));
		if (k != NULL)
			bs->kinds[bs->nkinds++] = xstrdup(k);
	}
	json_decref(arr);
}

/* ---- many nodes ------------------------------------------------------------ */

bool store_shared(const store *s) { return s->ops->notify != NULL; }

void store_set_wakeup(store *s, void (*wake)(void *arg, unsigned what), void *arg)
{
	if (s->ops->set_wakeup)
		s->ops->set_wakeup(s, wake, arg);
}

bool store_is_leader(store *s) { return s->ops->is_leader ? s->ops->is_leader(s) : true; }

int store_notify(store_conn *c) { return c->ops->notify ? c->ops->notify(c) : 0; }

int store_rules_lock(store_conn *c, const char *kind, bool *got)
{
	if (!c->ops->rules_lock) {
		*got = true;
		return 0;
	}
	return c->ops->rules_lock(c, kind, false, got);
}

int store_rules_lock_wait(store_conn *c, const char *kind)
{
	bool got = true;
	return c->ops->rules_lock ? c->ops->rules_lock(c, kind, true, &got) : 0;
}

int store_timers_due(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit,
                     timer_due_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return c->ops->timers_due ? c->ops->timers_due(c, now, claim_timeout_us, limit, out, n) : WEFT_ESTORE;
}

int store_timers_next(store_conn *c, int64_t claim_timeout_us, int64_t *due)
{
	return c->ops->timers_next ? due_or_never(c->ops->timers_next(c, claim_timeout_us, due), due) : WEFT_ESTORE;
}

/* ---- freeing (row release functions: model.c) -------------------------- */

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
