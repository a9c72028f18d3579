/*
 * executor.h — what the engine needs to run a claimed task somewhere and
 * hear back.
 *
 * A task names its executor (the task's `executor`, "webhook" by default).
 * The engine's start pass claims a pending task (pending -> claimed, its
 * rules checked in the same transaction) and calls its executor's start();
 * what the executor launches comes back as a job (engine_internal.h) whose
 * outcome its result() applies in the cycle that receives it; when a
 * running task stops being wanted (canceled, timed out, a dead end) its
 * cancel() tells the remote side.
 *
 * Executors talk to the engine, never to the store behind its back: every
 * function here runs on the engine thread inside the cycle's transaction
 * and writes only through the engine's writer connection (engine->w) and
 * the engine's services (engine_launch, engine_task_running, dag_fail_task,
 * deadline_arm, outbox_add_task_webhooks …). Side effects happen only
 * after the commit, as launched jobs.
 *
 * The one registered executor, webhook (exec/webhook_executor.c): start =
 * claim the start ledger, render the start actions, launch the call;
 * result = claimed -> running, or failure/retry; cancel = the cancel
 * webhooks via the outbox. An executor with start == NULL is never asked
 * to start a task: the start pass leaves its tasks to commands that claim
 * them, and their outcomes come as commands too.
 *
 * Adding an executor: its file, and one line in the table of
 * engine/executors.c.
 */
#ifndef WEFT_EXECUTOR_H
#define WEFT_EXECUTOR_H

#include "../util/common.h"
#include "../store/model.h"

typedef struct engine engine;
typedef struct engine_job engine_job;

typedef struct executor {
	const char *name;            /* the task's executor value */
	/* Per-engine state: created by engine_new, freed by engine_free; the
	 * executor reaches it with executor_state(). May be NULL. */
	void *(*attach)(engine *e);
	void (*detach)(void *state);
	/* How many more starts it takes now (its window). */
	size_t (*room)(const engine *e);
	/* Starts the task `t` that the pass has just claimed (t as it was
	 * before the claim, borrowed). NULL: the engine never starts this
	 * executor's tasks (they are claimed by workers' commands). */
	int (*start)(engine *e, const task_row *t, int64_t now);
	/* Applies what a launched start reported: one of its jobs, back from
	 * its launch (the job's ops->apply). */
	int (*result)(engine *e, engine_job *job, int64_t now);
	/* The running task `id` stopped being wanted. `row`: the task after its
	 * transition (borrowed), or NULL when the caller does not have it. */
	int (*cancel)(engine *e, const weft_id *id, const task_row *row, int64_t now);
} executor;

/* The registered executors (engine/executors.c). */
extern const executor executor_webhook;    /* exec/webhook_executor.c */

/* The executor named `name`, NULL when none is. */
const executor *executor_find(const char *name);
/* The executor of a task (t->executor, NULL = webhook); NULL when no
 * registered executor has its name. */
const executor *executor_of_task(const task_row *t);
/* Room summed over the executors the engine starts tasks for. */
size_t executors_room(const engine *e);
/* The executor's per-engine state (from attach). */
void *executor_state(const engine *e, const executor *ex);
/* engine_new / engine_free. */
void executors_attach(engine *e);
void executors_detach(engine *e);

#endif
