/*
 * engine_internal.h — state shared by the engine's source files
 * (engine.c: the loop and group commit; commands.c: one handler per
 * command; dag.c: task completion, propagation and dead-end cancellation).
 * Everything here is touched only by the engine thread, except the fields
 * marked "under mu".
 */
#ifndef WEFT_ENGINE_INTERNAL_H
#define WEFT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "engine/timers.h"
#include <pthread.h>

/* Side effects of a cycle, carried out only after its commit succeeds. */
typedef struct effects {
	webhook_call **calls;      /* owned until submitted */
	size_t len, cap;
	size_t starts;             /* how many of the calls are start calls */
} effects;

struct engine {
	engine_config cfg;
	store *st;
	store_conn *w;             /* the writer connection */
	dispatcher *disp;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	engine_cmd **queue;        /* under mu */
	size_t qlen, qcap;         /* under mu */
	webhook_call **results;    /* finished start calls, under mu */
	size_t rlen, rcap;         /* under mu */
	bool stopping;             /* under mu */
	engine_stats stats;        /* under mu */

	timer_heap timers;
	size_t starts_in_flight;
	bool start_dirty;          /* something may have become startable */
	int64_t next_sweep_us;
	effects fx;
	size_t started_this_cycle;
};

/* effects */
void effects_add_call(effects *fx, webhook_call *call, bool is_start);
/* Queues the webhooks of (task, trigger, condition) if it has any. */
int effects_add_task_webhooks(engine *e, const weft_id *task, action_trigger trig, action_condition cond);

/* commands.c */
int engine_apply_command(engine *e, engine_cmd *cmd, int64_t now);

/* dag.c */
/* After `task` reached a terminal status: propagate to children, queue the
 * webhooks of cascade-failed children, cancel dead-end ancestors. */
int dag_after_terminal(engine *e, const weft_id *task, task_status final, int64_t now);
/* Moves a claimed/running task to failure with `reason` and runs
 * dag_after_terminal plus its on_failure webhooks. 0 applied, STORE_GUARD /
 * STORE_NOT_FOUND when the guard did not match, <0 error. */
int dag_fail_task(engine *e, const weft_id *task, unsigned from_mask, const char *reason,
                  bool touch_last_updated, int64_t now, task_status *prev);

/* metrics helpers */
void engine_metric_transition(task_status from, task_status to);

#endif
