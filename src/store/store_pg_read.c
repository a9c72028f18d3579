/*
 * store_pg_read.c — the read operations of the PostgreSQL backend: single
 * tasks and their actions, the lookups the engine makes inside its
 * transactions (rule counts, deadlines, next due times), the listings of
 * the API and the database timers of shared stores. Connections, writes
 * and the primitives used here are store_pg.c's (store_pg_internal.h).
 *
 * A reader cannot tell whether its connection is inside a transaction, so
 * a read that the SQLite backend makes of several statements in one
 * snapshot (batch listing, DAG, audit trail, task by id with its archive
 * fallback) is one statement here: one snapshot, and one round trip.
 *
 * Statement names identify one SQL text each; statements whose text depends
 * on the filters given carry the filter bits after a '#' in their name.
 *
 * Index use: status literals are written into the SQL of the timer and
 * deadline lookups, since a partial index (WHERE status = '...') is only
 * considered when the planner can prove its predicate from the query text,
 * which a bound parameter never allows once the plan is generic.
 */
#include "util/common.h"

#include "store/store_pg_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

#define SUBSYS "store"

/* A statement name with its shape after '#' ("task_list#3f"): the shapes
 * of one operation share its metrics series (store_pg.c). */
#define PG_NAME_MAX 48

/* ---- helpers --------------------------------------------------------- */

static int64_t clamp_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

static int64_t sub_saturated(int64_t a, int64_t b)
{
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	return a - b;
}

/* Normalizes a page as the SQLite backend does: a negative offset is 0,
 * and limit + offset stays within int64. False when the page is empty for
 * sure. */
static bool page_clamp(int64_t *offset, int64_t *limit)
{
	if (*offset < 0)
		*offset = 0;
	if (*limit > INT64_MAX - *offset)
		*limit = INT64_MAX - *offset;
	return *limit > 0;
}

/* Reads a task status column; an unknown one is logged (a later version's
 * status, or damage) and fails the read. */
static int col_status(const PGresult *r, int row, int col, task_status *out)
{
	const char *s = pg_is_null(r, row, col) ? NULL : PQgetvalue(r, row, col);
	if (task_status_parse(s, out) != 0) {
		log_error(SUBSYS, "unknown task status \"%s\" in the database", s ? s : "(null)");
		return WEFT_ESTORE;
	}
	return 0;
}

/* A text[] literal of the statuses of a mask ("{pending,running}"), for
 * `status = ANY($n::text[])`: one statement serves every mask. Status names
 * need no quoting. */
#define STATUS_LIST_MAX 128
static void status_list(unsigned mask, char out[STATUS_LIST_MAX])
{
	size_t len = 0;
	out[len++] = '{';
	for (unsigned s = 0; s < TS__COUNT; s++) {
		if (!(mask & TS_BIT(s)))
			continue;
		int w = snprintf(out + len, STATUS_LIST_MAX - len, "%s%s", len > 1 ? "," : "",
		                 task_status_name((task_status)s));
		len += (size_t)w;
	}
	out[len++] = '}';
	out[len] = '\0';
}
_Static_assert(TS__COUNT * 10 + 3 <= STATUS_LIST_MAX, "every status fits in a status list");

/* ---- single task ----------------------------------------------------- */

/* The live row comes first when both tables hold the id (an archived task
 * restored by hand). Column PG_TASK_NCOLS says which table answered. */
static const char task_get_sql[] =
	"SELECT " PG_TASK_COLS ", false AS archived FROM task WHERE id = $1 "
	"UNION ALL SELECT " PG_TASK_COLS ", true FROM task_archive WHERE id = $1 "
	"ORDER BY archived LIMIT 1";

int pg_task_get(store_conn *c, const weft_id *id, task_row *out)
{
	memset(out, 0, sizeof *out);
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, id);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "task_get", task_get_sql, &a, &r);
	if (err)
		return err;
	if (PQntuples(r) == 0) {
		err = WEFT_ENOTFOUND;
	} else if ((err = pg_read_task(r, 0, 0, out)) != 0) {
		task_row_release(out);
		memset(out, 0, sizeof *out);
	} else {
		out->archived = pg_bool(r, 0, PG_TASK_NCOLS);
	}
	PQclear(r);
	return err;
}

/* Columns 4..13 of task_actions_sql: the delivery record of a start action
 * is its task's start ledger row (4..8), that of an end or cancel action
 * its newest outbox row (9..13). As in the SQLite backend, a failed start
 * call shows as "failure" (retrying) and one in flight as pending
 * (delivering). */
static int read_delivery(const PGresult *r, int row, action_row *a)
{
	if (a->trigger == TRIGGER_START) {
		if (pg_is_null(r, row, 4))
			return 0;
		const char *s = PQgetvalue(r, row, 4);
		if (strcmp(s, "success") == 0)
			a->delivery = DS_SUCCESS;
		else if (strcmp(s, "failure") == 0)
			a->delivery = DS_RETRYING;
		else
			a->delivery = DS_DELIVERING;
		a->has_delivery = true;
		a->attempts = (int32_t)pg_int(r, row, 5);
		a->last_attempt_at = pg_int(r, row, 6);
		a->last_http_status = (int32_t)pg_int(r, row, 7);
		a->last_error = pg_str(r, row, 8);
		return 0;
	}
	if (pg_is_null(r, row, 9))
		return 0;
	const char *s = PQgetvalue(r, row, 9);
	if (delivery_status_parse(s, &a->delivery) != 0) {
		log_error(SUBSYS, "unknown outbox status \"%s\" in the database", s);
		return WEFT_ESTORE;
	}
	a->has_delivery = true;
	a->attempts = (int32_t)pg_int(r, row, 10);
	a->last_http_status = (int32_t)pg_int(r, row, 11);
	a->last_error = pg_str(r, row, 12);
	a->last_attempt_at = pg_int(r, row, 13);
	return 0;
}

/* Rows of (id, trigger, condition, params[, delivery record]) into a new
 * array; nothing is returned on error. */
static int collect_actions(const PGresult *r, bool with_delivery, action_row **out, size_t *n)
{
	int rows = PQntuples(r);
	action_row *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	int err = 0;
	for (int i = 0; i < rows && !err; i++) {
		action_row *a = &v[i];
		const char *trig = pg_is_null(r, i, 1) ? NULL : PQgetvalue(r, i, 1);
		const char *cond = pg_is_null(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		if (action_trigger_parse(trig, &a->trigger) != 0 ||
		    action_condition_parse(cond, &a->condition) != 0) {
			log_error(SUBSYS, "unknown action trigger or condition in the database");
			err = WEFT_ESTORE;
			break;
		}
		a->id = pg_int(r, i, 0);
		a->params = pg_str_nn(r, i, 3, "{}");
		if (with_delivery)
			err = read_delivery(r, i, a);
	}
	if (err) {
		store_free_actions(v, (size_t)rows);
		return err;
	}
	*out = v;
	*n = (size_t)rows;
	return 0;
}

/* The outbox lookup is lateral, newest row first along outbox_task; its
 * trigger test sits inside so that start actions skip it. */
static const char task_actions_sql[] =
	"SELECT a.id, a.trigger, a.condition, a.params, w.status, w.attempts, w.updated_at, "
	"w.last_http_status, w.last_error, "
	"o.status, o.attempts, o.last_http_status, o.last_error, o.last_attempt_at "
	"FROM action AS a "
	"LEFT JOIN webhook_execution AS w "
	"  ON a.trigger = 'start' AND w.idempotency_key = a.task_id || ':start' "
	"LEFT JOIN LATERAL (SELECT x.status, x.attempts, x.last_http_status, x.last_error, "
	"  x.last_attempt_at FROM outbox AS x "
	"  WHERE a.trigger <> 'start' AND x.task_id = a.task_id AND x.action_id = a.id "
	"  ORDER BY x.id DESC LIMIT 1) AS o ON true "
	"WHERE a.task_id = $1 ORDER BY a.id";

int pg_task_actions(store_conn *c, const weft_id *id, action_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, id);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "task_actions", task_actions_sql, &a, &r);
	if (err)
		return err;
	err = collect_actions(r, true, out, n);
	PQclear(r);
	return err;
}

int pg_task_actions_for(store_conn *c, const weft_id *id, action_trigger trig, action_condition cond,
                        action_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, id);
	pg_arg_text(&a, action_trigger_name(trig));
	pg_arg_text(&a, action_condition_name(cond));
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "task_actions_for",
	                   "SELECT id, trigger, condition, params FROM action "
	                   "WHERE task_id = $1 AND trigger = $2 AND condition = $3 ORDER BY id",
	                   &a, &r);
	if (err)
		return err;
	err = collect_actions(r, false, out, n);
	PQclear(r);
	return err;
}

/* ---- starting tasks -------------------------------------------------- */

int pg_pending_next_start(store_conn *c, int64_t now, int64_t *due)
{
	*due = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, now);
	int64_t v = 0;
	int err = pg_query_int(pgc(c), "pending_next_start",
	                       "SELECT start_after FROM task "
	                       "WHERE status = 'pending' AND start_after > $1 "
	                       "ORDER BY start_after LIMIT 1",
	                       &a, &v, NULL);
	if (err == 0)
		*due = v;
	return err;
}

/* Containment as util/json.c's json_contains (and the SQLite backend's
 * weft_json_contains), which follow jsonb's @>: an object pattern,
 * "{}" included, matches only object metadata. */
#define META_CONTAINS(p) "metadata::jsonb @> " p "::jsonb"

int pg_count_matching(store_conn *c, const char *kind, unsigned status_mask, const char *pattern,
                      int64_t limit, int64_t *count)
{
	*count = 0;
	if (limit <= 0 || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	char statuses[STATUS_LIST_MAX];
	status_list(status_mask & TS_ALL_MASK, statuses);
	pg_args a;
	pg_args_init(&a);
	pg_arg_text(&a, kind);
	pg_arg_text(&a, statuses);
	pg_arg_text(&a, pattern ? pattern : "{}");
	pg_arg_int(&a, limit);
	/* Counting stops at the limit: a rule only needs to know whether it
	 * is reached. */
	return pg_query_int(pgc(c), "count_matching",
	                    "SELECT count(*) FROM (SELECT 1 FROM task "
	                    "WHERE kind = $1 AND status = ANY($2::text[]) AND " META_CONTAINS("$3") " "
	                    "LIMIT $4) AS m",
	                    &a, count, NULL);
}

int pg_capacity_sum(store_conn *c, const char *kind, const char *pattern, int64_t *sum)
{
	*sum = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_text(&a, kind);
	pg_arg_text(&a, pattern ? pattern : "{}");
	/* sum(bigint) is numeric: back to bigint for pg_query_int. */
	return pg_query_int(pgc(c), "capacity_sum",
	                    "SELECT coalesce(sum(greatest(coalesce(expected_count, 0) - success - failures, 0)), "
	                    "0)::bigint FROM task "
	                    "WHERE kind = $1 AND status IN ('claimed', 'running') AND " META_CONTAINS("$2"),
	                    &a, sum, NULL);
}

int pg_deadlines(store_conn *c, task_status status, deadline_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if ((unsigned)status >= TS__COUNT)
		return WEFT_ESTORE;
	const char *order = "last_updated", *extra = "";
	if (status == TS_RETRYING) {
		order = "next_retry_at";
	} else if (status == TS_PENDING) {
		order = "start_after";
		extra = " AND start_after IS NOT NULL";
	}
	const char *st = task_status_name(status);
	char name[PG_NAME_MAX], sql[256];
	snprintf(name, sizeof name, "deadlines#%s", st);
	snprintf(sql, sizeof sql,
	         "SELECT id, last_updated, timeout_secs, next_retry_at, start_after FROM task "
	         "WHERE status = '%s'%s ORDER BY %s",
	         st, extra, order);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), name, sql, NULL, &r);
	if (err)
		return err;
	int rows = PQntuples(r);
	deadline_row *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	for (int i = 0; i < rows; i++) {
		pg_id(r, i, 0, &v[i].id);
		v[i].last_updated = pg_int(r, i, 1);
		v[i].timeout_secs = (int32_t)pg_int(r, i, 2);
		v[i].next_retry_at = pg_int(r, i, 3);
		v[i].start_after = pg_int(r, i, 4);
	}
	PQclear(r);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

/* ---- batches and groups ---------------------------------------------- */

int pg_batch_task_count(store_conn *c, const weft_id *batch, int64_t *count)
{
	*count = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	return pg_query_int(pgc(c), "batch_task_count", "SELECT count(*) FROM task WHERE batch_id = $1",
	                    &a, count, NULL);
}

int pg_group_tasks(store_conn *c, const char *name, unsigned status_mask, weft_id **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (name == NULL || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	char statuses[STATUS_LIST_MAX];
	status_list(status_mask & TS_ALL_MASK, statuses);
	pg_args a;
	pg_args_init(&a);
	pg_arg_text(&a, name);
	pg_arg_text(&a, statuses);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "group_tasks",
	                   "SELECT id FROM task WHERE group_name = $1 AND status = ANY($2::text[]) "
	                   "ORDER BY created_at, id",
	                   &a, &r);
	if (err)
		return err;
	err = pg_collect_ids(r, 0, ids, n);
	PQclear(r);
	return err;
}

/* ---- outbox ---------------------------------------------------------- */

/* The status test is the predicate of the partial index outbox_due. */
#define UNDELIVERED "status IN ('pending', 'retrying', 'delivering')"

int pg_outbox_next_due(store_conn *c, int64_t *due)
{
	*due = 0;
	int64_t v = 0;
	int err = pg_query_int(pgc(c), "outbox_next_due",
	                       "SELECT next_attempt_at FROM outbox WHERE " UNDELIVERED " "
	                       "ORDER BY next_attempt_at LIMIT 1",
	                       NULL, &v, NULL);
	if (err == 0)
		*due = v;
	return err;
}

/* ---- task listing ---------------------------------------------------- */

int pg_task_list(store_conn *c, const task_filter *f, int64_t offset, int64_t limit, task_row **out,
                 size_t *n)
{
	/* Substrings by strpos: user input carries no LIKE wildcards. */
	static const char *const terms[TL__COUNT] = {
		[TL_NAME] = "strpos(name, $%d) > 0",
		[TL_KIND] = "strpos(kind, $%d) > 0",
		[TL_STATUS] = "status = ANY($%d::text[])",
		[TL_TIMEOUT] = "timeout_secs = $%d",
		[TL_BATCH] = "batch_id = $%d",
		[TL_METADATA] = META_CONTAINS("$%d"),
	};
	static const task_filter none = { 0 };
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!page_clamp(&offset, &limit))
		return 0;
	unsigned shape = task_list_shape(f);
	char statuses[STATUS_LIST_MAX];
	pg_args a;
	pg_args_init(&a);
	buf sql;
	buf_init(&sql);
	buf_puts(&sql, "SELECT " PG_TASK_COLS " FROM task");
	const char *sep = " WHERE ";
	for (unsigned i = 0; i < TL__COUNT; i++) {
		if (!(shape & (1u << i)))
			continue;
		buf_puts(&sql, sep);
		buf_printf(&sql, terms[i], a.n + 1);
		sep = " AND ";
		switch (i) {
		case TL_NAME: pg_arg_text(&a, f->name); break;
		case TL_KIND: pg_arg_text(&a, f->kind); break;
		case TL_STATUS:
			status_list(f->status_mask & TS_ALL_MASK, statuses);
			pg_arg_text(&a, statuses);
			break;
		case TL_TIMEOUT: pg_arg_int(&a, f->timeout); break;
		case TL_BATCH: pg_arg_id(&a, f->batch_id); break;
		default: pg_arg_text(&a, f->metadata); break;
		}
	}
	buf_printf(&sql, " ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d", a.n + 1, a.n + 2);
	pg_arg_int(&a, limit);
	pg_arg_int(&a, offset);
	char name[PG_NAME_MAX];
	snprintf(name, sizeof name, "task_list#%x", shape);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), name, sql.data, &a, &r);
	buf_release(&sql);
	if (err)
		return err;
	err = pg_collect_tasks(r, out, n);
	PQclear(r);
	return err;
}

/* ---- batch stats and listing ----------------------------------------- */

int pg_batch_stats(store_conn *c, const weft_id *batch, batch_stats *out)
{
	memset(out, 0, sizeof *out);
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "batch_stats",
	                   "SELECT status, count(*), coalesce(sum(success), 0)::bigint, "
	                   "coalesce(sum(failures), 0)::bigint, count(expected_count), "
	                   "coalesce(sum(expected_count), 0)::bigint "
	                   "FROM task WHERE batch_id = $1 GROUP BY status",
	                   &a, &r);
	if (err)
		return err;
	int64_t with_expected = 0;
	for (int i = 0, rows = PQntuples(r); i < rows && !err; i++) {
		task_status s;
		if ((err = col_status(r, i, 0, &s)) != 0)
			break;
		int64_t count = pg_int(r, i, 1);
		out->status_counts[s] = count;
		out->total_tasks += count;
		out->total_success += pg_int(r, i, 2);
		out->total_failures += pg_int(r, i, 3);
		with_expected += pg_int(r, i, 4);
		out->total_expected += pg_int(r, i, 5);
	}
	PQclear(r);
	if (err) {
		memset(out, 0, sizeof *out);
		return err;
	}
	out->has_total_expected = with_expected == out->total_tasks;
	if (!out->has_total_expected)
		out->total_expected = 0;
	return out->total_tasks == 0 ? WEFT_ENOTFOUND : 0;
}

/* The filter terms, on table alias t, parameters $1... in bit order. */
static void put_batch_terms(buf *sql, unsigned shape)
{
	static const char *const terms[BL__COUNT] = {
		[BL_KIND] = "strpos(t.kind, $%d) > 0",
		[BL_NAME] = "strpos(t.name, $%d) > 0",
		[BL_STATUS] = "t.status = ANY($%d::text[])",
		[BL_AFTER] = "t.created_at >= $%d",
		[BL_BEFORE] = "t.created_at <= $%d",
	};
	int p = 1;
	for (unsigned i = 0; i < BL__COUNT; i++) {
		if (shape & (1u << i)) {
			buf_puts(sql, " AND ");
			buf_printf(sql, terms[i], p++);
		}
	}
}

/* statuses: STATUS_LIST_MAX bytes that live until the statement has run. */
static void bind_batch_terms(pg_args *a, const batch_filter *f, unsigned shape, char *statuses)
{
	if (shape & (1u << BL_KIND))
		pg_arg_text(a, f->kind);
	if (shape & (1u << BL_NAME))
		pg_arg_text(a, f->name);
	if (shape & (1u << BL_STATUS)) {
		status_list(f->status_mask & TS_ALL_MASK, statuses);
		pg_arg_text(a, statuses);
	}
	if (shape & (1u << BL_AFTER))
		pg_arg_int(a, f->created_after);
	if (shape & (1u << BL_BEFORE))
		pg_arg_int(a, f->created_before);
}

/* One statement: the page of batches with a matching task, ordered by the
 * earliest created_at of their matching tasks, then the aggregates of all
 * the tasks of each, looked up per batch along task_batch (a join would be
 * planned for a page of unknown size: a scan of every task). Columns:
 * batch_id, count, min(created_at), max(last_updated), one count per status
 * in enum order, and the JSON array of the matching tasks' distinct kinds
 * in the order they first appear (created_at, then id: insertion order),
 * which is the order the SQLite backend gives. */
static void build_batch_list(buf *sql, unsigned shape, int nterms)
{
	buf_puts(sql, "WITH page AS (SELECT t.batch_id, min(t.created_at) AS first_at FROM task AS t "
	              "WHERE t.batch_id IS NOT NULL");
	put_batch_terms(sql, shape);
	buf_printf(sql, " GROUP BY t.batch_id ORDER BY first_at DESC, t.batch_id DESC "
	                "LIMIT $%d OFFSET $%d) "
	                "SELECT p.batch_id, s.*, k.kinds FROM page AS p CROSS JOIN LATERAL "
	                "(SELECT count(*), min(t.created_at), max(t.last_updated)",
	           nterms + 1, nterms + 2);
	for (unsigned s = 0; s < TS__COUNT; s++)
		buf_printf(sql, ", count(*) FILTER (WHERE t.status = '%s')", task_status_name((task_status)s));
	buf_puts(sql, " FROM task AS t WHERE t.batch_id = p.batch_id) AS s CROSS JOIN LATERAL "
	              "(SELECT json_agg(f.kind ORDER BY f.created_at, f.id) AS kinds FROM "
	              "(SELECT DISTINCT ON (t.kind) t.kind, t.created_at, t.id FROM task AS t "
	              "WHERE t.batch_id = p.batch_id");
	put_batch_terms(sql, shape);
	buf_puts(sql, " ORDER BY t.kind, t.created_at, t.id) AS f) AS k "
	              "ORDER BY p.first_at DESC, p.batch_id DESC");
}


int pg_batch_list(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit,
                  batch_summary **out, size_t *n)
{
	static const batch_filter none = { 0 };
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!page_clamp(&offset, &limit))
		return 0;
	unsigned shape = batch_list_shape(f);
	char statuses[STATUS_LIST_MAX];
	pg_args a;
	pg_args_init(&a);
	bind_batch_terms(&a, f, shape, statuses);
	int nterms = a.n;
	pg_arg_int(&a, limit);
	pg_arg_int(&a, offset);
	buf sql;
	buf_init(&sql);
	build_batch_list(&sql, shape, nterms);
	char name[PG_NAME_MAX];
	snprintf(name, sizeof name, "batch_list#%x", shape);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), name, sql.data, &a, &r);
	buf_release(&sql);
	if (err)
		return err;
	int rows = PQntuples(r);
	batch_summary *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	for (int i = 0; i < rows; i++) {
		batch_summary *bs = &v[i];
		pg_id(r, i, 0, &bs->batch_id);
		bs->total_tasks = pg_int(r, i, 1);
		bs->first_created_at = pg_int(r, i, 2);
		bs->latest_updated_at = pg_int(r, i, 3);
		for (int s = 0; s < TS__COUNT; s++)
			bs->status_counts[s] = pg_int(r, i, 4 + s);
		batch_summary_set_kinds(bs, pg_is_null(r, i, 4 + TS__COUNT) ? NULL : PQgetvalue(r, i, 4 + TS__COUNT));
	}
	PQclear(r);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

/* ---- DAG ------------------------------------------------------------- */

#define PG_TASK_NULLS                                                                          \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
_Static_assert(PG_TASK_NCOLS == 26, "PG_TASK_NULLS has one NULL per task column");

/* Tasks and links in one statement (one snapshot): task rows (created_at
 * ASC) carry the task columns, then link rows carry only the last three,
 * the links whose both ends are tasks of the batch. */
static const char dag_sql[] =
	"SELECT " PG_TASK_COLS ", NULL AS parent_id, NULL AS child_id, NULL AS requires_success "
	"FROM task WHERE batch_id = $1 "
	"UNION ALL SELECT " PG_TASK_NULLS ", l.parent_id, l.child_id, l.requires_success "
	"FROM link AS l JOIN task AS p ON p.id = l.parent_id JOIN task AS ch ON ch.id = l.child_id "
	"WHERE p.batch_id = $1 AND ch.batch_id = $1 "
	"ORDER BY created_at, id, parent_id, child_id";

int pg_dag(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks, link_row **links,
           size_t *nlinks)
{
	*tasks = NULL;
	*ntasks = 0;
	*links = NULL;
	*nlinks = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "dag", dag_sql, &a, &r);
	if (err)
		return err;
	int rows = PQntuples(r), nt = 0;
	while (nt < rows && !pg_is_null(r, nt, 0))
		nt++;
	task_row *tv = nt > 0 ? xcalloc((size_t)nt, sizeof *tv) : NULL;
	link_row *lv = rows > nt ? xcalloc((size_t)(rows - nt), sizeof *lv) : NULL;
	for (int i = 0; i < nt && !err; i++)
		err = pg_read_task(r, i, 0, &tv[i]);
	for (int i = nt; i < rows; i++) {
		link_row *l = &lv[i - nt];
		pg_id(r, i, PG_TASK_NCOLS, &l->parent_id);
		pg_id(r, i, PG_TASK_NCOLS + 1, &l->child_id);
		l->requires_success = pg_int(r, i, PG_TASK_NCOLS + 2) != 0;
	}
	PQclear(r);
	if (err) {
		store_free_tasks(tv, (size_t)nt);
		free(lv);
		return err;
	}
	*tasks = tv;
	*ntasks = (size_t)nt;
	*links = lv;
	*nlinks = (size_t)(rows - nt);
	return 0;
}

/* ---- audit trail ----------------------------------------------------- */

/* The creation entry is not stored: the first row (part 0) is the task's
 * created_at and status, live or archived; the recorded transitions follow
 * in insertion order. No part 0 row: the task exists nowhere. */
static const char task_events_sql[] =
	"SELECT 0 AS part, h.created_at AS at, NULL AS from_status, h.status AS to_status, "
	"NULL AS reason, NULL AS actor, 0 AS seq FROM "
	"(SELECT created_at, status FROM task WHERE id = $1 "
	" UNION ALL SELECT created_at, status FROM task_archive WHERE id = $1 LIMIT 1) AS h "
	"UNION ALL SELECT 1, e.at, e.from_status, e.to_status, e.reason, e.actor, e.id "
	"FROM task_event AS e WHERE e.task_id = $1 "
	"ORDER BY part, seq";

int pg_task_events(store_conn *c, const weft_id *id, task_event **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, id);
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "task_events", task_events_sql, &a, &r);
	if (err)
		return err;
	int rows = PQntuples(r);
	if (rows == 0 || pg_int(r, 0, 0) != 0) {
		PQclear(r);
		return WEFT_ENOTFOUND;
	}
	task_event *v = xcalloc((size_t)rows, sizeof *v);
	size_t len = 0;
	task_status current;
	if ((err = col_status(r, 0, 3, &current)) == 0) {
		v[0] = (task_event){ .at = pg_int(r, 0, 1), .has_from = false, .to = current,
		                     .reason = xstrdup("created"), .actor = xstrdup("api") };
		len = 1;
	}
	for (int i = 1; i < rows && !err; i++) {
		task_event *e = &v[len];
		e->at = pg_int(r, i, 1);
		e->has_from = !pg_is_null(r, i, 2);
		if ((e->has_from && (err = col_status(r, i, 2, &e->from)) != 0) ||
		    (err = col_status(r, i, 3, &e->to)) != 0)
			break;
		e->reason = pg_str(r, i, 4);
		e->actor = pg_str_nn(r, i, 5, "system");
		len++;
	}
	PQclear(r);
	if (err) {
		store_free_events(v, len);
		return err;
	}
	/* The creation entry shows the status the task was created in: the
	 * one its first transition left. */
	if (len > 1 && v[1].has_from)
		v[0].to = v[1].from;
	*out = v;
	*n = len;
	return 0;
}

/* ---- outbox listing and gauges --------------------------------------- */

/* Filters by the wire name of a delivery status. The status is written
 * into the SQL, so that the planner weighs it with the column's statistics:
 * a rare status is read along outbox_status, a common one backwards along
 * the primary key. */
int pg_outbox_list(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit, outbox_row **out,
                   size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!page_clamp(&offset, &limit))
		return 0;
	char statuses[96];
	size_t len = 0;
	statuses[len++] = '{';
	for (unsigned s = 0; s < DS__COUNT; s++)
		if (status_mask & (1u << s))
			len += (size_t)snprintf(statuses + len, sizeof statuses - len, "%s%s", len > 1 ? "," : "",
			                        delivery_status_name((delivery_status)s));
	snprintf(statuses + len, sizeof statuses - len, "}");
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, limit);
	pg_arg_int(&a, offset);
	PGresult *r = NULL;
	int err;
	if (status_mask == 0) {
		err = pg_query(pgc(c), "outbox_list",
		               "SELECT " PG_OUTBOX_COLS " FROM outbox ORDER BY id DESC LIMIT $1 OFFSET $2", &a, &r);
	} else {
		pg_arg_text(&a, statuses);
		err = pg_query(pgc(c), "outbox_list_status",
		               "SELECT " PG_OUTBOX_COLS " FROM outbox WHERE status = ANY ($3::text[]) "
		               "ORDER BY id DESC LIMIT $1 OFFSET $2", &a, &r);
	}
	if (err)
		return err;
	int rows = PQntuples(r);
	outbox_row *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	for (int i = 0; i < rows && !err; i++)
		err = pg_read_outbox(r, i, 0, &v[i]);
	PQclear(r);
	if (err) {
		store_free_outbox(v, (size_t)rows);
		return err;
	}
	*out = v;
	*n = (size_t)rows;
	return 0;
}

int pg_status_counts(store_conn *c, int64_t counts[TS__COUNT])
{
	for (int s = 0; s < TS__COUNT; s++)
		counts[s] = 0;
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "status_counts", "SELECT status, count(*) FROM task GROUP BY status",
	                   NULL, &r);
	if (err)
		return err;
	for (int i = 0, rows = PQntuples(r); i < rows; i++) {
		task_status s;
		/* A status this version does not know (a later one's) is left out. */
		if (!pg_is_null(r, i, 0) && task_status_parse(PQgetvalue(r, i, 0), &s) == 0)
			counts[s] = pg_int(r, i, 1);
	}
	PQclear(r);
	return 0;
}

int pg_running_by_kind(store_conn *c, kind_count **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	PGresult *r = NULL;
	/* Bytewise order, as SQLite's. */
	int err = pg_query(pgc(c), "running_by_kind",
	                   "SELECT kind, count(*) FROM task WHERE status = 'running' "
	                   "GROUP BY kind ORDER BY kind COLLATE \"C\"",
	                   NULL, &r);
	if (err)
		return err;
	int rows = PQntuples(r);
	kind_count *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	for (int i = 0; i < rows; i++) {
		v[i].kind = pg_str_nn(r, i, 0, "");
		v[i].count = pg_int(r, i, 1);
	}
	PQclear(r);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

/* ---- database timers (shared stores) --------------------------------- */

/* Each deadline kind has its own index, so each is an ordered index range
 * scan bounded by the page size; the union is merged by due time. The
 * running deadline is written exactly as the expression of its index. */
#define RUN_DUE "last_updated + timeout_secs * 1000000"

static const char timers_due_sql[] =
	"(SELECT id, status, last_updated + $2 AS due FROM task "
	" WHERE status = 'claimed' AND last_updated <= $3 ORDER BY last_updated LIMIT $4) "
	"UNION ALL (SELECT id, status, " RUN_DUE " FROM task "
	" WHERE status = 'running' AND " RUN_DUE " <= $1 ORDER BY " RUN_DUE " LIMIT $4) "
	"UNION ALL (SELECT id, status, next_retry_at FROM task "
	" WHERE status = 'retrying' AND next_retry_at <= $1 ORDER BY next_retry_at LIMIT $4) "
	"ORDER BY due LIMIT $4";

int pg_timers_due(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit, timer_due_row **out,
                  size_t *n)
{
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	/* A claim is stale when last_updated <= now - timeout: the bound is
	 * computed here so that the comparison is an index range. */
	int64_t cutoff = sub_saturated(now, claim_timeout_us);
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, now);
	pg_arg_int(&a, claim_timeout_us);
	pg_arg_int(&a, cutoff);
	pg_arg_int(&a, clamp_limit(limit));
	PGresult *r = NULL;
	int err = pg_query(pgc(c), "timers_due", timers_due_sql, &a, &r);
	if (err)
		return err;
	int rows = PQntuples(r);
	timer_due_row *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	for (int i = 0; i < rows && !err; i++) {
		pg_id(r, i, 0, &v[i].id);
		err = col_status(r, i, 1, &v[i].status);
	}
	PQclear(r);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = (size_t)rows;
	return 0;
}

/* min() over an indexed expression is planned as one index probe each. */
static const char timers_next_sql[] =
	"SELECT least((SELECT min(last_updated) FROM task WHERE status = 'claimed') + $1, "
	"(SELECT min(" RUN_DUE ") FROM task WHERE status = 'running'), "
	"(SELECT min(next_retry_at) FROM task WHERE status = 'retrying'))";

int pg_timers_next(store_conn *c, int64_t claim_timeout_us, int64_t *due)
{
	*due = 0;
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, claim_timeout_us);
	int64_t v = 0;
	bool is_null = false;
	int err = pg_query_int(pgc(c), "timers_next", timers_next_sql, &a, &v, &is_null);
	if (err)
		return err;
	if (is_null)
		return WEFT_ENOTFOUND;
	*due = v;
	return 0;
}
