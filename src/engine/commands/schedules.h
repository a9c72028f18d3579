/*
 * schedules.h — the commands on cron schedules (store/schedules.h):
 * creating one, deleting one, pausing and resuming one. The front door
 * checks the cron text, the zone and the target; the engine computes the
 * next fire time at the commit's time (the injected clock in tests), so
 * that the time a schedule is armed for agrees with the clock that fires
 * it.
 */
#ifndef WEFT_ENGINE_COMMANDS_SCHEDULES_H
#define WEFT_ENGINE_COMMANDS_SCHEDULES_H

#include "engine/engine.h"
#include "store/schedules.h"
#include "util/json.h"

/* base.result: 0, or WEFT_ECONFLICT when the name is taken in its
 * namespace. row: every field but the times given (borrowed; the cron
 * text and zone already checked); next_fire_at and created_at are set by
 * the engine (out). */
typedef struct cmd_schedule_create {
	engine_cmd base;
	schedule_row row;
} cmd_schedule_create;
void cmd_schedule_create_init(cmd_schedule_create *c);

/* base.result: 0, or WEFT_ENOTFOUND. */
typedef struct cmd_schedule_delete {
	engine_cmd base;
	const char *namespace, *name;   /* borrowed */
} cmd_schedule_delete;
void cmd_schedule_delete_init(cmd_schedule_delete *c);

/* Pauses, or resumes from the commit's time on: a resumed schedule's next
 * fire time is the cron's first after now, so what it missed while
 * paused is not fired. base.result: 0 (also when it was so already), or
 * WEFT_ENOTFOUND. */
typedef struct cmd_schedule_pause {
	engine_cmd base;
	const char *namespace, *name;   /* borrowed */
	bool paused;
} cmd_schedule_pause;
void cmd_schedule_pause_init(cmd_schedule_pause *c);

/* The first fire time of `cron` in zone `timezone` strictly after `after`
 * (µs), or 0 when it fires no more (or the text or zone no longer load). */
int64_t schedule_next_fire(const char *cron, const char *timezone, int64_t after);

/* Fires schedule s (read with previous_active) now for n due times
 * (n >= 1), in the caller's transaction (schedule_fire.c). Overlap, when
 * the previous run has not ended: skip starts nothing and counts the n
 * times as skipped; cancel_previous cancels that run through its cancel
 * path first; queue starts regardless. queue starts n runs, the others
 * one (the rest of the n count as skipped). The firing is recorded with
 * next_fire_at = next (0: none); *started is the runs started. triggered:
 * fired by cmd_schedule_trigger rather than at its due time
 * (s->next_fire_at), which a template run's identity is made from. */
int schedule_fire(engine *e, const schedule_row *s, int64_t n, int64_t now, int64_t next, bool triggered,
                  size_t *started);

/* One due schedule of a cycle: n due times (>= 1), its next fire time. */
typedef struct schedule_firing {
	const schedule_row *s;
	int64_t n;
	int64_t next;
} schedule_firing;

/* Whether s must fire through schedule_fire: its target is not a job, or
 * its previous run has not ended and its overlap policy is not queue. */
bool schedule_fires_alone(const schedule_row *s);

/* Fires schedules that need not fire alone as one set: their jobs are
 * enqueued in one command set (one insert), then each firing is recorded
 * as schedule_fire records it. *started: the jobs started. */
int schedule_fire_jobs(engine *e, const schedule_firing *f, size_t n, int64_t now, size_t *started);

/* Fires the schedule now, once, whatever its cron and pause say (its
 * overlap policy applies); its next fire time stays. base.result: 0, or
 * WEFT_ENOTFOUND. */
typedef struct cmd_schedule_trigger {
	engine_cmd base;
	const char *namespace, *name;   /* borrowed */
} cmd_schedule_trigger;
void cmd_schedule_trigger_init(cmd_schedule_trigger *c);

#endif
