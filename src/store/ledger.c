/*
 * ledger.c — the idempotency ledger of start webhooks (webhook_execution),
 * keyed "<task>:start" and so on: a key is claimed before its call and
 * finished with the call's outcome, so that a claim which went stale is
 * called again but one that succeeded never is.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

/* Insert, or re-claim a failed or stale pending row, in one statement for
 * a set of keys: two nodes claiming one key serialize on it (the second
 * waits for the first's commit, then sees its row). The keys returned
 * are those claimed. */
static const db_sql q_claim = {
	"ledger_claim",
	"INSERT INTO webhook_execution AS w "
	"(idempotency_key, task_id, trigger, condition, status, attempts, created_at, updated_at) "
	"SELECT r.key, r.task_id, CAST($2 AS TEXT), CAST($3 AS TEXT), 'pending', 1, CAST($4 AS BIGINT), "
	"CAST($4 AS BIGINT) FROM {rows:$1,key text,task_id text} AS r WHERE true "
	"ON CONFLICT (idempotency_key) DO UPDATE SET "
	"attempts = w.attempts + 1, status = 'pending', updated_at = excluded.updated_at "
	"WHERE w.status = 'failure' OR (w.status = 'pending' AND w.updated_at < $5) "
	"RETURNING idempotency_key",
	NULL,
};
static const db_sql q_status = {
	"ledger_status", "SELECT idempotency_key, status FROM webhook_execution WHERE {in:idempotency_key,$1}", NULL,
};
static const db_sql q_finish = {
	"ledger_finish",
	"UPDATE webhook_execution SET status = r.status, updated_at = $2, last_http_status = r.http, "
	"last_error = r.error FROM {rows:$1,key text,status text,http bigint,error text} AS r "
	"WHERE webhook_execution.idempotency_key = r.key "
	"AND {plan_ids:webhook_execution.idempotency_key,SELECT r2.key FROM {rows:$1,key text} AS r2}",
	NULL,
};

/* Claims sorted by key, equal keys in their order in the set. */
static int cmp_claim(const void *a, const void *b)
{
	const ledger_claim *x = *(ledger_claim *const *)a, *y = *(ledger_claim *const *)b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : (x > y) - (x < y);
}

static int cmp_claim_key(const void *key, const void *b)
{
	return strcmp(key, (*(ledger_claim *const *)b)->key);
}

/* The first claim of `key` in the set, NULL when none. */
static ledger_claim *find_claim(ledger_claim **sorted, size_t n, const char *key)
{
	if (key == NULL)
		return NULL;
	ledger_claim **hit = bsearch(key, sorted, n, sizeof *sorted, cmp_claim_key);
	while (hit != NULL && hit > sorted && strcmp(hit[-1]->key, key) == 0)
		hit--;
	return hit ? *hit : NULL;
}

/* Keys neither inserted nor re-claimed: they succeeded before, or are
 * pending and fresh. (A new statement sees a row another node committed
 * meanwhile.) */
static int read_unclaimed(store_conn *c, ledger_claim **sorted, size_t n)
{
	db_stmt *st;
	int err = db_prepare(c, &q_status, &st);
	if (err)
		return err;
	db_set keys;
	db_set_init(&keys);
	for (size_t i = 0; i < n; i++)
		if (sorted[i]->result != LEDGER_CLAIMED)
			db_set_text(&keys, sorted[i]->key);
	db_bind_set(st, &keys);
	int rc;
	while ((rc = db_step(st)) > 0) {
		ledger_claim *cl = find_claim(sorted, n, db_col_text(st, 0));
		const char *status = db_col_text(st, 1);
		if (cl != NULL && cl->result != LEDGER_CLAIMED && status != NULL && strcmp(status, "success") == 0)
			cl->result = LEDGER_DONE;
	}
	db_set_release(&keys);
	return db_end(st, rc);
}

int store_ledger_claim_many(store_conn *c, ledger_claim *claims, size_t n, action_trigger trig,
                            action_condition cond, int64_t now, int64_t stale_before)
{
	if (n == 0)
		return 0;
	/* A key given twice is claimed by its first claim; the second finds
	 * it pending and fresh, as it would one after the other. */
	ledger_claim **sorted = xmalloc(n * sizeof *sorted);
	for (size_t i = 0; i < n; i++) {
		claims[i].result = LEDGER_BUSY;
		sorted[i] = &claims[i];
	}
	qsort(sorted, n, sizeof *sorted, cmp_claim);
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i]->key, sorted[i - 1]->key) == 0)
			continue;
		db_set_row(&rows);
		db_set_field_text(&rows, "key", sorted[i]->key);
		db_set_field_text(&rows, "task_id", sorted[i]->task.str);
	}
	db_stmt *st;
	int err = db_prepare(c, &q_claim, &st);
	if (!err) {
		db_bind_set(st, &rows);
		db_bind_text(st, action_trigger_name(trig));
		db_bind_text(st, action_condition_name(cond));
		db_bind_int(st, now);
		db_bind_int(st, stale_before);
		int rc;
		size_t claimed = 0;
		while ((rc = db_step(st)) > 0) {
			ledger_claim *cl = find_claim(sorted, n, db_col_text(st, 0));
			if (cl != NULL && cl->result != LEDGER_CLAIMED) {
				cl->result = LEDGER_CLAIMED;
				claimed++;
			}
		}
		err = db_end(st, rc);
		if (!err && claimed < rows.n)
			err = read_unclaimed(c, sorted, n);
	}
	db_set_release(&rows);
	free(sorted);
	return err;
}

int store_ledger_claim(store_conn *c, const char *key, const weft_id *task, action_trigger trig,
                       action_condition cond, int64_t now, int64_t stale_before, ledger_claim_result *result)
{
	ledger_claim cl = { .key = key, .task = *task };
	int err = store_ledger_claim_many(c, &cl, 1, trig, cond, now, stale_before);
	*result = cl.result;
	return err;
}

static int cmp_outcome(const void *a, const void *b)
{
	const ledger_outcome *x = *(const ledger_outcome *const *)a, *y = *(const ledger_outcome *const *)b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : (x > y) - (x < y);
}

int store_ledger_finish_many(store_conn *c, const ledger_outcome *o, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	/* A key finished twice keeps its last outcome. */
	const ledger_outcome **sorted = xmalloc(n * sizeof *sorted);
	for (size_t i = 0; i < n; i++)
		sorted[i] = &o[i];
	qsort(sorted, n, sizeof *sorted, cmp_outcome);
	db_set rows;
	db_set_init(&rows);
	for (size_t i = 0; i < n; i++) {
		const ledger_outcome *x = sorted[i];
		if (i + 1 < n && strcmp(sorted[i + 1]->key, x->key) == 0)
			continue;
		db_set_row(&rows);
		db_set_field_text(&rows, "key", x->key);
		db_set_field_text(&rows, "status", x->ok ? "success" : "failure");
		if (x->http_status != 0)
			db_set_field_int(&rows, "http", x->http_status);
		db_set_field_text(&rows, "error", x->error);
	}
	free(sorted);
	db_stmt *st;
	int err = db_prepare(c, &q_finish, &st);
	if (!err) {
		db_bind_set(st, &rows);
		db_bind_int(st, now);
		err = db_send(st, NULL);
	}
	db_set_release(&rows);
	return err;
}

int store_ledger_finish(store_conn *c, const char *key, bool ok, int32_t http_status, const char *error,
                        int64_t now)
{
	ledger_outcome o = { .key = key, .ok = ok, .http_status = http_status, .error = error };
	return store_ledger_finish_many(c, &o, 1, now);
}

/* ---- a task's webhook calls, for reading ------------------------------------------------ */

/* Start calls (the ledger: trigger start; end and cancel calls of the
 * ledger are the start path's own) first, then the outbox's end and cancel
 * deliveries, each by creation. */
static const db_sql q_task_deliveries = {
	"task_deliveries",
	"SELECT 0 AS part, 'start' AS kind, status, attempts, last_http_status, last_error, created_at, "
	"CASE WHEN status = 'pending' THEN NULL ELSE updated_at END AS ended, 0 AS max_attempts, 0 AS id "
	"FROM webhook_execution WHERE task_id = $1 AND trigger = 'start' "
	"UNION ALL SELECT 1, event, status, attempts, last_http_status, last_error, created_at, "
	"CASE WHEN status IN ('success', 'exhausted') THEN last_attempt_at ELSE NULL END, max_attempts, id "
	"FROM outbox WHERE task_id = $1 "
	"ORDER BY part, created_at, id LIMIT $2",
	NULL,
};

int store_task_deliveries(store_conn *c, const weft_id *task, size_t limit, task_webhook_call **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_task_deliveries, &st);
	if (err)
		return err;
	db_bind_id(st, task);
	db_bind_int(st, (int64_t)limit);
	task_webhook_call *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		v = db_grow(v, len, &cap, sizeof *v);
		task_webhook_call *d = &v[len++];
		memset(d, 0, sizeof *d);
		snprintf(d->kind, sizeof d->kind, "%s", db_col_text(st, 1) ? db_col_text(st, 1) : "");
		snprintf(d->status, sizeof d->status, "%s", db_col_text(st, 2) ? db_col_text(st, 2) : "");
		d->attempts = (int32_t)db_col_int(st, 3);
		d->http_status = db_col_null(st, 4) ? 0 : (int32_t)db_col_int(st, 4);
		d->error = db_col_str(st, 5);
		d->created_at = db_col_int(st, 6);
		d->ended_at = db_col_int(st, 7);
		d->max_attempts = (int32_t)db_col_int(st, 8);
	}
	err = db_end(st, rc);
	if (err) {
		store_free_task_deliveries(v, len);
		return err;
	}
	*out = v;
	*n = len;
	return 0;
}

void store_free_task_deliveries(task_webhook_call *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].error);
	free(rows);
}
