/*
 * scan.c — what the start pass reads: pending tasks in start order, and
 * the counts its concurrency, capacity and dedup rules compare with.
 *
 * The pending scan locks the rows it reads, skipping those another node
 * holds ({lock_skip}): nodes scanning together each get rows nobody else is
 * claiming, and a row claimed and committed meanwhile is re-checked (no
 * longer pending: left out). After a cursor the scan is two index ranges
 * (the rest of the cursor's priority, then the lower priorities), each its
 * own statement so that each starts where it should in task_pending; the
 * second runs only when the first did not fill the page.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"


/* The first page (part 1) comes with the next delayed start (part 0, its
 * last column), which a pass needs as well: one round trip for both. */
static const db_sql q_pending_first = {
	"pending_scan",
	"SELECT 1 AS part, p.*, NULL AS next_start FROM (SELECT " TASK_COLS " FROM task{index:task_pending} "
	"WHERE status = 'pending' AND executor <> 'queue' AND (start_after IS NULL OR start_after <= $2) "
	"ORDER BY priority DESC, created_at, id LIMIT $1{lock_skip}) AS p "
	"UNION ALL SELECT 0, " TASK_NULLS ", (SELECT start_after FROM task{index:task_delayed} "
	"WHERE status = 'pending' AND executor <> 'queue' AND start_after IS NOT NULL AND start_after > $2 "
	"ORDER BY start_after LIMIT 1) "
	"ORDER BY part, priority DESC, created_at, id",
	NULL,
};
static const db_sql q_pending_same = {
	"pending_scan_after",
	"SELECT " TASK_COLS " FROM task{index:task_pending} "
	"WHERE status = 'pending' AND executor <> 'queue' AND priority = $1 AND (created_at, id) > ($2, $3) "
	"AND (start_after IS NULL OR start_after <= $5) AND NOT {in:executor,$6} "
	"ORDER BY priority DESC, created_at, id LIMIT $4{lock_skip}",
	NULL,
};
static const db_sql q_pending_lower = {
	"pending_scan_lower",
	"SELECT " TASK_COLS " FROM task{index:task_pending} "
	"WHERE status = 'pending' AND executor <> 'queue' AND priority < $1 AND (start_after IS NULL OR start_after <= $3) "
	"AND NOT {in:executor,$4} "
	"ORDER BY priority DESC, created_at, id LIMIT $2{lock_skip}",
	NULL,
};

/* The rows of the first page, and the next delayed start. */
static int first_page(db_stmt *st, task_row **rows, size_t *len, int64_t *next_start)
{
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		if (db_col_int(st, 0) == 0) {
			*next_start = db_col_null(st, 1 + TASK_NCOLS) ? INT64_MAX : db_col_int(st, 1 + TASK_NCOLS);
			continue;
		}
		*rows = db_grow(*rows, *len, &cap, sizeof **rows);
		if ((rc = db_read_task(st, 1, &(*rows)[*len])) != 0)
			break;
		(*len)++;
	}
	return db_end(st, rc);
}

/* Appends the rows of st to *rows (count *len). */
static int append_tasks(db_stmt *st, task_row **rows, size_t *len)
{
	task_row *more;
	size_t n;
	int err = db_collect_tasks(st, &more, &n);
	if (err || n == 0)
		return err;
	*rows = xrealloc(*rows, (*len + n) * sizeof **rows);
	memcpy(*rows + *len, more, n * sizeof *more);
	*len += n;
	free(more);
	return 0;
}

int store_pending_scan(store_conn *c, const pending_cursor *after, size_t limit, int64_t now, task_row **out,
                       size_t *n, int64_t *next_start)
{
	db_stmt *st;
	task_row *rows = NULL;
	size_t len = 0;
	int64_t unused;
	*out = NULL;
	*n = 0;
	if (next_start == NULL)
		next_start = &unused;
	*next_start = INT64_MAX;
	if (limit == 0)
		return 0;
	int err = db_prepare(c, after ? &q_pending_same : &q_pending_first, &st);
	if (err)
		return err;
	db_set skip;
	db_set_init(&skip);
	for (size_t i = 0; after != NULL && i < after->nskip; i++)
		db_set_text(&skip, after->skip[i]);
	if (after == NULL) {
		db_bind_int(st, db_clamp_limit(limit));
		db_bind_int(st, now);
	} else {
		db_bind_int(st, after->priority);
		db_bind_int(st, after->created_at);
		db_bind_id(st, &after->id);
		db_bind_int(st, db_clamp_limit(limit));
		db_bind_int(st, now);
		db_bind_set(st, &skip);
	}
	err = after == NULL ? first_page(st, &rows, &len, next_start) : append_tasks(st, &rows, &len);
	if (!err && after != NULL && len < limit && (err = db_prepare(c, &q_pending_lower, &st)) == 0) {
		db_bind_int(st, after->priority);
		db_bind_int(st, db_clamp_limit(limit - len));
		db_bind_int(st, now);
		db_bind_set(st, &skip);
		err = append_tasks(st, &rows, &len);
	}
	db_set_release(&skip);
	if (err) {
		store_free_tasks(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* Counting stops at the limit: a rule only needs to know whether it is
 * reached. Containment follows jsonb's @>: an object pattern, "{}"
 * included, matches only object metadata. */
static const db_sql q_count_matching = {
	"count_matching",
	"SELECT count(*) FROM (SELECT 1 FROM task WHERE kind = $1 AND {in:status,$2} AND executor <> 'queue' "
	"AND {contains:metadata,$3} LIMIT $4) AS m",
	NULL,
};

int store_count_matching(store_conn *c, const char *kind, unsigned status_mask, const char *pattern,
                         int64_t limit, int64_t *count)
{
	db_stmt *st;
	*count = 0;
	if (limit <= 0 || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	int err = db_prepare(c, &q_count_matching, &st);
	if (err)
		return err;
	db_set statuses;
	db_set_init(&statuses);
	db_set_statuses(&statuses, status_mask & TS_ALL_MASK);
	db_bind_text(st, kind);
	db_bind_set(st, &statuses);
	db_bind_text(st, pattern ? pattern : "{}");
	db_bind_int(st, limit);
	err = db_query_int(st, count, NULL);
	db_set_release(&statuses);
	return err;
}

#define REMAINING "coalesce(expected_count, 0) - success - failures"

/* The sum saturates at INT64_MAX (DB_SUM_PARTS). */
static const db_sql q_capacity = {
	"capacity_sum",
	"SELECT " DB_SUM_PARTS("CASE WHEN " REMAINING " > 0 THEN " REMAINING " ELSE 0 END") " "
	"FROM task WHERE kind = $1 AND status IN ('claimed', 'running') AND executor <> 'queue' "
	"AND {contains:metadata,$2}",
	NULL,
};

int store_capacity_sum(store_conn *c, const char *kind, const char *pattern, int64_t *sum)
{
	db_stmt *st;
	*sum = 0;
	int err = db_prepare(c, &q_capacity, &st);
	if (err)
		return err;
	db_bind_text(st, kind);
	db_bind_text(st, pattern ? pattern : "{}");
	int rc = db_step(st);
	if (rc > 0)
		*sum = db_col_sum(st, 0);
	return db_end(st, rc);
}
