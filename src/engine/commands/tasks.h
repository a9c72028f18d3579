/*
 * tasks.h — the commands on one task: completing or updating it (PATCH),
 * adding to its counters (PUT), canceling, pausing and resuming it.
 */
#ifndef WEFT_ENGINE_COMMANDS_TASKS_H
#define WEFT_ENGINE_COMMANDS_TASKS_H

#include "engine/engine.h"

/* Updates a claimed or running task; with a status, completes it. The same
 * final status sent again is a no-op (noop); another state a conflict; an
 * increment past TASK_COUNTER_MAX is invalid. */
typedef struct cmd_patch {
	engine_cmd base;
	weft_id id;
	bool has_status;
	task_status status;         /* TS_SUCCESS or TS_FAILURE */
	int64_t new_success, new_failures;
	const char *metadata;       /* borrowed, NULL = keep */
	const char *failure_reason; /* borrowed */
	bool has_expected_count;
	int64_t expected_count;
	bool has_priority;
	int32_t priority;
	/* With WEFT_EINVALID: the counter ("success" or "failures") that the
	 * increment would have pushed past TASK_COUNTER_MAX; nothing was
	 * written. */
	const char *over_limit;
} cmd_patch;
void cmd_patch_init(cmd_patch *c);

/* Adds to a task's counters, whatever its status (a report racing the
 * task's completion is not lost), and refreshes its inactivity timer. An
 * increment past TASK_COUNTER_MAX is invalid (WEFT_EINVALID). */
typedef struct cmd_counters {
	engine_cmd base;
	weft_id id;
	int64_t success, failures;
	const char *over_limit;     /* as cmd_patch's */
} cmd_counters;
void cmd_counters_init(cmd_counters *c);

typedef enum task_action { TASK_CANCEL, TASK_PAUSE, TASK_RESUME } task_action;

/* Cancels (any unfinished status), pauses (waiting or pending) or resumes
 * (paused) one task; current_status is the status it reached, or with
 * WEFT_ECONFLICT the one that did not allow it. */
typedef struct cmd_task {
	engine_cmd base;
	weft_id id;
} cmd_task;
void cmd_task_init(cmd_task *c, task_action what);

#endif
