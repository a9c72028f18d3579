/*
 * reads.c — the listings and statistics of the API: tasks by filter,
 * batches by the filter of their tasks, the tasks of a group, and the
 * gauges of /metrics. Any connection may run them (readers mostly).
 *
 * A listing is one statement per shape (the set of filters given), built
 * here once and prepared once per shape. Substrings are matched as such
 * ({strpos}), never as LIKE patterns: user input carries no wildcards.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"
#include "util/json.h"

/* ---- tasks -------------------------------------------------------------------------- */

/* One shape bit per filter, in this order. */
enum { TL_NAME, TL_KIND, TL_STATUS, TL_TIMEOUT, TL_BATCH, TL_METADATA, TL__COUNT };

static unsigned task_list_shape(const task_filter *f)
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

/* Parameters in bit order, then limit and offset. */
static void build_task_list(buf *sql, unsigned shape)
{
	static const char *const terms[TL__COUNT] = {
		[TL_NAME] = "{strpos:name,$%d} > 0",
		[TL_KIND] = "{strpos:kind,$%d} > 0",
		[TL_STATUS] = "{in:status,$%d}",
		[TL_TIMEOUT] = "timeout_secs = $%d",
		/* a lone job is its own run, with no batch */
		[TL_BATCH] = "(batch_id = $%1$d OR (batch_id IS NULL AND id = $%1$d))",
		[TL_METADATA] = "{contains:metadata,$%d}",
	};
	int p = 1;
	buf_puts(sql, "SELECT " TASK_COLS " FROM task");
	for (unsigned i = 0; i < TL__COUNT; i++) {
		if (!(shape & (1u << i)))
			continue;
		buf_puts(sql, p == 1 ? " WHERE " : " AND ");
		buf_printf(sql, terms[i], p++);
	}
	buf_printf(sql, " ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d", p, p + 1);
}

static const db_dyn dyn_task_list = { "task_list", build_task_list };

int store_task_list(store_conn *c, const task_filter *f, int64_t offset, int64_t limit, task_row **out,
                    size_t *n)
{
	static const task_filter none = { 0 };
	db_stmt *st;
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!db_page_clamp(&offset, &limit))
		return 0;
	unsigned shape = task_list_shape(f);
	int err = db_prepare_dyn(c, &dyn_task_list, shape, &st);
	if (err)
		return err;
	db_set statuses;
	db_set_init(&statuses);
	db_set_statuses(&statuses, f->status_mask & TS_ALL_MASK);
	if (shape & (1u << TL_NAME))
		db_bind_text(st, f->name);
	if (shape & (1u << TL_KIND))
		db_bind_text(st, f->kind);
	if (shape & (1u << TL_STATUS))
		db_bind_set(st, &statuses);
	if (shape & (1u << TL_TIMEOUT))
		db_bind_int(st, f->timeout);
	if (shape & (1u << TL_BATCH))
		db_bind_id(st, f->batch_id);
	if (shape & (1u << TL_METADATA))
		db_bind_text(st, f->metadata);
	db_bind_int(st, limit);
	db_bind_int(st, offset);
	err = db_collect_tasks(st, out, n);
	db_set_release(&statuses);
	return err;
}

/* ---- batches ---------------------------------------------------------------------------
 * One statement pages the batches that have a matching task, newest first
 * (a batch and its tasks share their created_at, so this is the order of
 * their tasks' creation): it walks the batch table along batch_created and
 * tests each batch for a matching task, so a page costs the batches it
 * looks at, not every task. One more aggregates all the tasks of the
 * page's batches (the kinds: of the matching tasks only). Both run in one
 * snapshot and take the filter's parameters first. */

enum { BL_KIND, BL_NAME, BL_STATUS, BL_AFTER, BL_BEFORE, BL__COUNT };

static unsigned batch_list_shape(const batch_filter *f)
{
	unsigned shape = 0;
	shape |= (unsigned)(f->kind != NULL && f->kind[0] != '\0') << BL_KIND;
	shape |= (unsigned)(f->name != NULL && f->name[0] != '\0') << BL_NAME;
	shape |= (unsigned)((f->status_mask & TS_ALL_MASK) != 0) << BL_STATUS;
	shape |= (unsigned)(f->created_after != 0) << BL_AFTER;
	shape |= (unsigned)(f->created_before != 0) << BL_BEFORE;
	return shape;
}

/* " AND <term>" per filter, parameters $1...; returns the next parameter. */
static int put_batch_terms(buf *sql, unsigned shape)
{
	static const char *const terms[BL__COUNT] = {
		[BL_KIND] = "{strpos:kind,$%d} > 0",
		[BL_NAME] = "{strpos:name,$%d} > 0",
		[BL_STATUS] = "{in:status,$%d}",
		[BL_AFTER] = "created_at >= $%d",
		[BL_BEFORE] = "created_at <= $%d",
	};
	int p = 1;
	for (unsigned i = 0; i < BL__COUNT; i++) {
		if (shape & (1u << i)) {
			buf_puts(sql, " AND ");
			buf_printf(sql, terms[i], p++);
		}
	}
	return p;
}

/* statuses: the filter's status set, bound when it has one; the caller
 * releases it after the statement. */
static void bind_batch_terms(db_stmt *st, const batch_filter *f, unsigned shape, db_set *statuses)
{
	if (shape & (1u << BL_KIND))
		db_bind_text(st, f->kind);
	if (shape & (1u << BL_NAME))
		db_bind_text(st, f->name);
	if (shape & (1u << BL_STATUS)) {
		db_set_statuses(statuses, f->status_mask & TS_ALL_MASK);
		db_bind_set(st, statuses);
	}
	if (shape & (1u << BL_AFTER))
		db_bind_int(st, f->created_after);
	if (shape & (1u << BL_BEFORE))
		db_bind_int(st, f->created_before);
}

static void build_batch_page(buf *sql, unsigned shape)
{
	static const char *const terms[BL__COUNT] = {
		[BL_KIND] = " AND {strpos:t.kind,$%d} > 0",
		[BL_NAME] = " AND {strpos:t.name,$%d} > 0",
		[BL_STATUS] = " AND {in:t.status,$%d}",
		[BL_AFTER] = "b.created_at >= $%d AND ",
		[BL_BEFORE] = "b.created_at <= $%d AND ",
	};
	/* The range bounds the walk over batch_created; the other filters
	 * decide whether a batch has a matching task. */
	buf exists;
	buf_init(&exists);
	buf_puts(sql, "SELECT b.id FROM batch AS b{index:batch_created} WHERE ");
	buf_puts(&exists, "EXISTS (SELECT 1 FROM task AS t WHERE t.batch_id = b.id");
	int p = 1;
	for (unsigned i = 0; i < BL__COUNT; i++)
		if (shape & (1u << i))
			buf_printf(i == BL_AFTER || i == BL_BEFORE ? sql : &exists, terms[i], p++);
	buf_puts(sql, exists.data);
	buf_release(&exists);
	buf_printf(sql, ") ORDER BY b.created_at DESC, b.id DESC LIMIT $%d OFFSET $%d", p, p + 1);
}

/* Columns: batch_id, count, min(created_at), max(last_updated), one count
 * per status in enum order, then the JSON array of the matching kinds. */
static void build_batch_agg(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT batch_id, count(*), min(created_at), max(last_updated)");
	for (unsigned s = 0; s < TS__COUNT; s++)
		buf_printf(sql, ", count(*) FILTER (WHERE status = '%s')", task_status_name((task_status)s));
	buf_puts(sql, ", {json_agg:DISTINCT kind} FILTER (WHERE 1 = 1");
	int p = put_batch_terms(sql, shape);
	buf_printf(sql, ") FROM task WHERE {in:batch_id,$%d} GROUP BY batch_id", p);
}

static const db_dyn dyn_batch_page = { "batch_page", build_batch_page };
static const db_dyn dyn_batch_agg = { "batch_aggregate", build_batch_agg };

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The kinds from a JSON array of strings (NULL or not an array: none), in
 * bytewise order whichever order the database aggregated them in. */
static void set_kinds(batch_summary *bs, const char *json_array)
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
	qsort(bs->kinds, bs->nkinds, sizeof *bs->kinds, cmp_str);
}

static int batch_page(store_conn *c, const batch_filter *f, unsigned shape, int64_t offset, int64_t limit,
                      batch_summary **out, size_t *n)
{
	db_stmt *st;
	weft_id *ids = NULL;
	int err = db_prepare_dyn(c, &dyn_batch_page, shape, &st);
	if (err)
		return err;
	db_set statuses;
	db_set_init(&statuses);
	bind_batch_terms(st, f, shape, &statuses);
	db_bind_int(st, limit);
	db_bind_int(st, offset);
	err = db_collect_ids(st, &ids, n);
	db_set_release(&statuses);
	if (err)
		return err;
	*out = *n ? xcalloc(*n, sizeof **out) : NULL;
	for (size_t i = 0; i < *n; i++)
		(*out)[i].batch_id = ids[i];
	free(ids);
	return 0;
}

static int batch_aggregate(store_conn *c, const batch_filter *f, unsigned shape, batch_summary *rows, size_t n)
{
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_batch_agg, shape, &st);
	if (err)
		return err;
	db_set ids;
	db_set_init(&ids);
	for (size_t i = 0; i < n; i++)
		db_set_id(&ids, &rows[i].batch_id);
	db_set statuses;
	db_set_init(&statuses);
	bind_batch_terms(st, f, shape, &statuses);
	db_bind_set(st, &ids);
	int rc;
	while ((rc = db_step(st)) > 0) {
		weft_id id;
		db_col_id(st, 0, &id);
		batch_summary *bs = NULL;
		for (size_t i = 0; i < n && bs == NULL; i++)
			if (id_eq(&rows[i].batch_id, &id))
				bs = &rows[i];
		if (bs == NULL)
			continue;
		bs->total_tasks = db_col_int(st, 1);
		bs->first_created_at = db_col_int(st, 2);
		bs->latest_updated_at = db_col_int(st, 3);
		for (int s = 0; s < TS__COUNT; s++)
			bs->status_counts[s] = db_col_int(st, 4 + s);
		set_kinds(bs, db_col_text(st, 4 + TS__COUNT));
	}
	rc = db_end(st, rc);
	db_set_release(&ids);
	db_set_release(&statuses);
	return rc;
}

int store_batch_list(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit, batch_summary **out,
                     size_t *n)
{
	static const batch_filter none = { 0 };
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!db_page_clamp(&offset, &limit))
		return 0;
	unsigned shape = batch_list_shape(f);
	bool own;
	int err = db_snapshot_begin(c, &own);
	if (err)
		return err;
	batch_summary *rows = NULL;
	size_t len = 0;
	err = batch_page(c, f, shape, offset, limit, &rows, &len);
	if (!err && len > 0)
		err = batch_aggregate(c, f, shape, rows, len);
	if ((err = db_own_end(c, own, err)) != 0) {
		store_free_batch_summaries(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* ---- groups ------------------------------------------------------------------------------ */

static const db_sql q_group_tasks = {
	"group_tasks",
	"SELECT id FROM task WHERE group_name = $1 AND {in:{noindex:status},$2} ORDER BY created_at, id",
	NULL,
};

int store_group_tasks(store_conn *c, const char *name, unsigned status_mask, weft_id **ids, size_t *n)
{
	db_stmt *st;
	*ids = NULL;
	*n = 0;
	if (name == NULL || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	int err = db_prepare(c, &q_group_tasks, &st);
	if (err)
		return err;
	db_set statuses;
	db_set_init(&statuses);
	db_set_statuses(&statuses, status_mask & TS_ALL_MASK);
	db_bind_text(st, name);
	db_bind_set(st, &statuses);
	err = db_collect_ids(st, ids, n);
	db_set_release(&statuses);
	return err;
}

/* ---- gauges (the counts by status: counts.c) ---------------------------------------------- */

/* Kinds are bytewise-ordered text on both databases. */
static const db_sql q_running_by_kind = {
	"running_by_kind", "SELECT kind, count(*) FROM task WHERE status = 'running' GROUP BY kind ORDER BY kind", NULL,
};

int store_running_by_kind(store_conn *c, kind_count **out, size_t *n)
{
	db_stmt *st;
	*out = NULL;
	*n = 0;
	int err = db_prepare(c, &q_running_by_kind, &st);
	if (err)
		return err;
	kind_count *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		rows = db_grow(rows, len, &cap, sizeof *rows);
		rows[len].kind = db_col_str_nn(st, 0, "");
		rows[len].count = db_col_int(st, 1);
		len++;
	}
	if ((err = db_end(st, rc)) != 0) {
		store_free_kind_counts(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}
