/*
 * runs.h — the commands of runs beyond batch.submit (batches.h): a
 * webhook task's own report of its end, with its result; pausing and
 * resuming a whole run.
 *
 * A webhook task of a run starts by its on_start webhook, as every ArcRun
 * task; its service then reports the end with POST /v1/tasks/{id}/complete
 * (a result, which its children's claims carry as their parent's result)
 * or /fail (an error code and message). The report is unfenced and
 * guarded on claimed or running, as ArcRun's PATCH is: a service may
 * report before its answer to the on_start call has come back. A task in
 * any other status is a conflict (current_status says where it is). Jobs
 * never take this path: their reports are fenced (jobs.h).
 */
#ifndef WEFT_ENGINE_COMMANDS_RUNS_H
#define WEFT_ENGINE_COMMANDS_RUNS_H

#include "engine/engine.h"
#include "engine/commands/tasks.h"

/* The end of a running webhook task: the result (complete) or error code
 * (fail) is stored, then the task ends as ArcRun's PATCH ends it (end
 * webhooks, children released or failed, a failure retried under its
 * policy). base.result: 0, WEFT_ENOTFOUND (no such task, or a job),
 * WEFT_ECONFLICT (neither claimed nor running; current_status set). */
typedef struct cmd_task_report {
	engine_cmd base;
	weft_id id;
	bool fail;
	const char *result;         /* borrowed compact JSON (complete), NULL = null */
	const char *error_code;     /* borrowed (fail) */
	const char *message;        /* borrowed (fail), NULL = the code */
	cmd_patch patch;            /* engine-private: the end itself */
} cmd_task_report;
void cmd_task_report_init(cmd_task_report *c);

/* Pauses every pending or waiting task of a run (batch), or resumes
 * every paused one, as one set: a constant number of statements whatever
 * the run's size. Tasks in other statuses are left as they are and
 * counted as unchanged. base.result: 0 or WEFT_ENOTFOUND (no task in the
 * batch). The audit events carry base.actor and "operator: pause" or
 * "operator: resume". */
typedef struct cmd_run_pause {
	engine_cmd base;
	weft_id batch_id;
	bool resume;
	/* out */
	int64_t changed;            /* paused or resumed */
	int64_t unchanged;          /* the run's other tasks */
} cmd_run_pause;
void cmd_run_pause_init(cmd_run_pause *c, bool resume);

#endif
