/*
 * schedules.c — cron schedules (schedules.h, table schedule of schema
 * 0010). The same SQL serves both dialects: paused is 0 or 1 on both.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/schedules.h"
#include "util/alloc.h"

/* A run has not ended while its job, or a task of its template run (a
 * batch), is not terminal; an archived task has ended. */
#define ACTIVE_TASK "t.status NOT IN ('success', 'failure', 'canceled', 'skipped')"
#define SCHEDULE_COLS \
	"s.namespace, s.name, s.cron, s.timezone, s.target_kind, s.target, s.catchup, s.catchup_max, s.overlap, " \
	"s.paused, s.next_fire_at, s.last_fire_at, s.last_job_id, s.fires, s.created_at, s.updated_at, " \
	"s.last_run_id, s.skipped_fires, s.last_skipped_at, " \
	"CASE WHEN EXISTS (SELECT 1 FROM task t WHERE t.id = s.last_job_id AND " ACTIVE_TASK ") " \
	"OR (s.target_kind = 'template' AND EXISTS (SELECT 1 FROM task t WHERE t.batch_id = s.last_run_id AND " \
	ACTIVE_TASK ")) THEN 1 ELSE 0 END"

void schedule_row_release(schedule_row *s)
{
	free(s->namespace);
	free(s->name);
	free(s->cron);
	free(s->timezone);
	free(s->target_kind);
	free(s->target);
	free(s->catchup);
	free(s->overlap);
	free(s->last_job_id);
	free(s->last_run_id);
	memset(s, 0, sizeof *s);
}

void store_free_schedules(schedule_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		schedule_row_release(&rows[i]);
	free(rows);
}

static int read_schedule(db_stmt *st, void *row)
{
	schedule_row *s = row;
	s->namespace = db_col_str_nn(st, 0, "");
	s->name = db_col_str_nn(st, 1, "");
	s->cron = db_col_str_nn(st, 2, "");
	s->timezone = db_col_str_nn(st, 3, "");
	s->target_kind = db_col_str_nn(st, 4, "");
	s->target = db_col_str_nn(st, 5, "");
	s->catchup = db_col_str_nn(st, 6, "");
	s->catchup_max = db_col_int(st, 7);
	s->overlap = db_col_str_nn(st, 8, "");
	s->paused = db_col_int(st, 9) != 0;
	s->next_fire_at = db_col_int(st, 10);
	s->last_fire_at = db_col_int(st, 11);
	s->last_job_id = db_col_str(st, 12);
	s->fires = db_col_int(st, 13);
	s->created_at = db_col_int(st, 14);
	s->updated_at = db_col_int(st, 15);
	s->last_run_id = db_col_str(st, 16);
	s->skipped_fires = db_col_int(st, 17);
	s->last_skipped_at = db_col_int(st, 18);
	s->previous_active = db_col_int(st, 19) != 0;
	return 0;
}

static void release_schedule(void *row)
{
	schedule_row_release(row);
}

static const db_row_kind schedule_kind = { sizeof(schedule_row), read_schedule, release_schedule };

static int collect(db_stmt *st, schedule_row **out, size_t *n)
{
	void *rows = NULL;
	int err = db_collect(st, &schedule_kind, &rows, n);
	*out = rows;
	return err;
}

static const db_sql q_insert = {
	"schedule_insert",
	"INSERT INTO schedule (namespace, name, cron, timezone, target_kind, target, catchup, catchup_max, "
	"overlap, paused, next_fire_at, created_at, updated_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_get = { "schedule_get",
	                      "SELECT " SCHEDULE_COLS " FROM schedule s WHERE s.namespace = $1 AND s.name = $2", NULL };
static const db_sql q_list = { "schedule_list",
	                       "SELECT " SCHEDULE_COLS " FROM schedule s WHERE s.namespace = $1 AND s.name > $2 "
	                       "ORDER BY s.name LIMIT $3",
	                       NULL };
static const db_sql q_delete = { "schedule_delete", "DELETE FROM schedule WHERE namespace = $1 AND name = $2",
	                         NULL };
static const db_sql q_set_paused = {
	"schedule_set_paused",
	"UPDATE schedule SET paused = $3, next_fire_at = $4, updated_at = $5 WHERE namespace = $1 AND name = $2",
	NULL,
};
static const db_sql q_fired = {
	"schedule_fired",
	"UPDATE schedule SET last_fire_at = $3, last_job_id = $4, last_run_id = $5, next_fire_at = $6, "
	"fires = fires + 1, updated_at = $3 WHERE namespace = $1 AND name = $2",
	NULL,
};
static const db_sql q_skipped = {
	"schedule_skipped",
	"UPDATE schedule SET skipped_fires = skipped_fires + $4, last_skipped_at = $3, next_fire_at = $5, "
	"updated_at = $3 WHERE namespace = $1 AND name = $2",
	NULL,
};
static const db_sql q_due = { "schedule_due",
	                      "SELECT " SCHEDULE_COLS " FROM schedule s WHERE s.paused = 0 AND s.next_fire_at <= $1 "
	                      "ORDER BY s.next_fire_at LIMIT $2",
	                      NULL };

int store_schedule_insert(store_conn *c, const schedule_row *s, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_insert, &st);
	if (err)
		return err;
	db_bind_text(st, s->namespace);
	db_bind_text(st, s->name);
	db_bind_text(st, s->cron);
	db_bind_text(st, s->timezone);
	db_bind_text(st, s->target_kind);
	db_bind_text(st, s->target);
	db_bind_text(st, s->catchup);
	db_bind_int(st, s->catchup_max);
	db_bind_text(st, s->overlap);
	db_bind_int(st, s->paused ? 1 : 0);
	db_bind_int_or_null(st, s->next_fire_at);
	db_bind_int(st, s->created_at);
	return db_run_changed(st, created);
}

int store_schedule_get(store_conn *c, const char *namespace, const char *name, schedule_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_get, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	schedule_row *rows = NULL;
	size_t n = 0;
	if ((err = collect(st, &rows, &n)) != 0)
		return err;
	if (n == 0) {
		free(rows);
		return WEFT_ENOTFOUND;
	}
	*out = rows[0];
	for (size_t i = 1; i < n; i++)
		schedule_row_release(&rows[i]);
	free(rows);
	return 0;
}

int store_schedule_list(store_conn *c, const char *namespace, const char *after, size_t limit,
                        schedule_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_list, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, after ? after : "");
	db_bind_int(st, (int64_t)limit);
	return collect(st, out, n);
}

/* A statement changing one schedule by key: *found when a row changed. */
static int change_one(db_stmt *st, bool *found)
{
	return db_run_changed(st, found);
}

int store_schedule_delete(store_conn *c, const char *namespace, const char *name, bool *found)
{
	*found = false;
	db_stmt *st;
	int err = db_prepare(c, &q_delete, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	return change_one(st, found);
}

int store_schedule_set_paused(store_conn *c, const char *namespace, const char *name, bool paused,
                              int64_t next_fire_at, int64_t now, bool *found)
{
	*found = false;
	db_stmt *st;
	int err = db_prepare(c, &q_set_paused, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_int(st, paused ? 1 : 0);
	db_bind_int_or_null(st, next_fire_at);
	db_bind_int(st, now);
	return change_one(st, found);
}

int store_schedule_fired(store_conn *c, const char *namespace, const char *name, int64_t fired_at,
                         const char *job_id, const char *run_id, int64_t next_fire_at)
{
	db_stmt *st;
	int err = db_prepare(c, &q_fired, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_int(st, fired_at);
	if (job_id)
		db_bind_text(st, job_id);
	else
		db_bind_null(st);
	if (run_id)
		db_bind_text(st, run_id);
	else
		db_bind_null(st);
	db_bind_int_or_null(st, next_fire_at);
	return db_run(st, NULL);
}

int store_schedule_skipped(store_conn *c, const char *namespace, const char *name, int64_t at, int64_t count,
                           int64_t next_fire_at)
{
	db_stmt *st;
	int err = db_prepare(c, &q_skipped, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_int(st, at);
	db_bind_int(st, count);
	db_bind_int_or_null(st, next_fire_at);
	return db_run(st, NULL);
}

int store_schedules_due(store_conn *c, int64_t now, size_t limit, schedule_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_due, &st);
	if (err)
		return err;
	db_bind_int(st, now);
	db_bind_int(st, (int64_t)limit);
	return collect(st, out, n);
}

static const db_sql q_next = { "schedule_next",
	                       "SELECT min(next_fire_at) FROM schedule WHERE paused = 0 AND next_fire_at IS NOT NULL",
	                       NULL };

int store_schedules_next(store_conn *c, int64_t *due)
{
	*due = INT64_MAX;
	db_stmt *st;
	int err = db_prepare(c, &q_next, &st);
	if (err)
		return err;
	int64_t v = 0;
	bool found = false;
	err = db_query_int(st, &v, &found);
	if (err == 0 && found && v > 0)
		*due = v;
	return err;
}
