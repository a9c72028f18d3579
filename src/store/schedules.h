/*
 * schedules.h — cron schedules in the store (schema 0010, table schedule).
 *
 * A schedule is keyed by (namespace, name). Its cron text and zone are
 * checked before they reach here (core/cron.h, core/tz.h); the store keeps
 * them as text with the next fire time they give, so the `schedule`
 * deadline kind reads due rows from an index instead of evaluating cron.
 * Writes come from the engine; reads from any connection.
 */
#ifndef WEFT_STORE_SCHEDULES_H
#define WEFT_STORE_SCHEDULES_H

#include "store/store.h"

typedef struct schedule_row {
	char *namespace, *name;
	char *cron, *timezone;
	char *target_kind;       /* "job", "workflow" or "template" */
	char *target;            /* canonical JSON of what a firing starts */
	char *catchup;           /* "none", "one" or "all" */
	int64_t catchup_max;     /* with "all": most missed times fired, >= 1 */
	char *overlap;           /* "skip", "queue" or "cancel_previous" */
	bool paused;
	int64_t next_fire_at;    /* µs; 0 = never fires again */
	int64_t last_fire_at;    /* µs; 0 = never fired */
	char *last_job_id;       /* the job the last firing started; NULL: none (or a template run) */
	char *last_run_id;       /* the run it started: a job's or workflow run's id, a template run's */
	int64_t fires;
	int64_t skipped_fires;   /* due times that started nothing: the previous run had not ended */
	int64_t last_skipped_at; /* µs; 0 = never */
	int64_t created_at, updated_at;
	/* Read, not stored: the last run has not ended (its job, or a task of
	 * its template run, is not terminal). Overlap skip and cancel_previous
	 * judge on it, so the due rows come with it in one query. */
	bool previous_active;
} schedule_row;
void schedule_row_release(schedule_row *s);
void store_free_schedules(schedule_row *rows, size_t n);

/* Inserts s (all fields read; last_* and fires ignored). *created is
 * false when the name is taken in its namespace: the row there stays. */
int store_schedule_insert(store_conn *c, const schedule_row *s, bool *created);

/* The schedule, or WEFT_ENOTFOUND. */
int store_schedule_get(store_conn *c, const char *namespace, const char *name, schedule_row *out);

/* At most limit schedules of namespace by name, those after `after` (a
 * name; NULL or "" from the first). */
int store_schedule_list(store_conn *c, const char *namespace, const char *after, size_t limit,
                        schedule_row **out, size_t *n);

/* Deletes the schedule; *found says whether there was one. */
int store_schedule_delete(store_conn *c, const char *namespace, const char *name, bool *found);

/* Pauses or resumes. next_fire_at (0: none) replaces the stored one, so a
 * resumed schedule fires next at the cron's next time after now, not at
 * the times it missed while paused. *found as above. */
int store_schedule_set_paused(store_conn *c, const char *namespace, const char *name, bool paused,
                              int64_t next_fire_at, int64_t now, bool *found);

/* Records a firing: last_fire_at, last_job_id (NULL: none), last_run_id,
 * fires + 1 and the next fire time (0: none). */
int store_schedule_fired(store_conn *c, const char *namespace, const char *name, int64_t fired_at,
                         const char *job_id, const char *run_id, int64_t next_fire_at);

/* Records `count` due times that started nothing (overlap skip):
 * skipped_fires + count, last_skipped_at, and the next fire time. */
int store_schedule_skipped(store_conn *c, const char *namespace, const char *name, int64_t at, int64_t count,
                           int64_t next_fire_at);

/* The unpaused schedules due at now (next_fire_at <= now), soonest first,
 * at most limit. */
int store_schedules_due(store_conn *c, int64_t now, size_t limit, schedule_row **out, size_t *n);

/* The earliest next fire time of the unpaused schedules in *due;
 * INT64_MAX when none fires. */
int store_schedules_next(store_conn *c, int64_t *due);

#endif
