/*
 * executor.h — what the engine needs to run a claimed task somewhere and
 * hear back.
 *
 * A task names its executor (the task's `executor`, "webhook" by default).
 * The engine's start pass claims pending tasks (pending -> claimed, rules
 * checked in the same transaction) and hands each executor its claimed
 * tasks as one set through start(); what the executor launches comes back
 * as jobs (engine_internal.h) whose outcomes its result() applies, as a
 * set, in a later cycle; when running tasks stop being wanted (canceled,
 * timed out, dead ends) its cancel() tells the remote side. Sets keep the
 * statements per cycle constant: an executor reads and writes what it
 * needs for all of its tasks at once.
 *
 * Executors talk to the engine, never to the store behind its back: every
 * function here runs on the engine thread inside the cycle's transaction
 * and writes only through the engine's writer connection (engine->w) and
 * the engine's services (engine_launch, engine_tasks_running,
 * dag_fail_tasks, deadline_arm, outbox_add_task_webhooks …). Side effects
 * happen only after the commit, as launched jobs.
 *
 * The exec executor (exec/process_executor.c) runs tasks as local child
 * processes when the server allows it (--allow-exec).
 *
 * The default executor, webhook (exec/webhook_executor.c): start =
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
	/* Starts the n tasks `tasks` that the pass has just claimed, as a set
	 * (the rows as they were before the claim, borrowed; never more than
	 * its room). NULL: the engine never starts this executor's tasks (they
	 * are claimed by workers' commands). */
	int (*start)(engine *e, const task_row *tasks, size_t n, int64_t now);
	/* Applies what launched starts reported: the jobs of this executor
	 * that came back for a cycle, as a set (their ops->apply_many). */
	int (*result)(engine *e, engine_job **jobs, size_t n, int64_t now);
	/* The running tasks `rows` stopped being wanted (the tasks after their
	 * transitions, borrowed). */
	int (*cancel)(engine *e, const task_row *rows, size_t n, int64_t now);
} executor;

/* The registered executors (engine/executors.c). */
extern const executor executor_webhook;    /* exec/webhook_executor.c */
extern const executor executor_queue;      /* exec/queue_executor.c */
extern const executor executor_exec;       /* exec/process_executor.c */

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
