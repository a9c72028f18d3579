/*
 * workflows.h — the commands of durable workflows
 * (docs/internals/workflows.md).
 *
 * A workflow run is a job (commands/jobs.h) with a workflow_run row of the
 * same id (store/workflows.h): workers claim it with POST /v1/jobs/claim,
 * and its lease, heartbeats and recovery are the job's.
 *
 * Ownership as in jobs.h: what the caller fills is borrowed until done();
 * results are written into the fields marked "out".
 */
#ifndef WEFT_ENGINE_COMMANDS_WORKFLOWS_H
#define WEFT_ENGINE_COMMANDS_WORKFLOWS_H

#include "engine/commands/jobs.h"

/* The longest workflow_run.status name with its NUL ("terminated"). */
#define WORKFLOW_STATUS_CHARS 16

/* Starts a run: its job (queue, input, retry policy, timeout, priority,
 * start time as a job spec; the spec's name is the workflow type) and its
 * workflow_run row, in one transaction. The spec's retry policy is also
 * the policy of the run's steps. With an idempotency key that an active
 * run of the namespace holds, nothing is written and that run answers:
 * created false. A key taken by another node in the same instant makes
 * the command apply again in the next cycle, where it finds that run.
 * base.result: 0 (created or not). */
typedef struct cmd_workflow_start {
	engine_cmd base;
	const char *namespace;         /* borrowed, namespace_valid() */
	const char *type;              /* borrowed, 1..TASK_NAME_MAX bytes */
	const char *idempotency_key;   /* borrowed, NULL = none, ≤ JOB_KEY_MAX bytes */
	job_spec *job;                 /* borrowed; no dedup (the key is the run's) */

	/* out */
	weft_id id;
	bool created;
	char status[WORKFLOW_STATUS_CHARS];
} cmd_workflow_start;
void cmd_workflow_start_init(cmd_workflow_start *c);

#endif
