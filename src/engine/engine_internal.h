/*
 * engine_internal.h — state shared by the engine's source files
 * (engine.c: the loop and group commit; commands/: the command families;
 * dag.c: task completion, propagation and dead-end cancellation).
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
	size_t deliveries;         /* how many are outbox deliveries */
} effects;

typedef struct id_set {
	weft_id *items;
	size_t len, cap;
} id_set;

void id_set_add(id_set *s, const weft_id *id);      /* no duplicates */
bool id_set_remove(id_set *s, const weft_id *id);
void id_set_release(id_set *s);

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
	webhook_call **results;    /* finished start calls and deliveries, under mu */
	size_t rlen, rcap;         /* under mu */
	bool stopping;             /* under mu */
	engine_stats stats;        /* under mu */

	timer_heap timers;         /* single node: every deadline of the database */
	size_t starts_in_flight;
	id_set start_tasks;        /* tasks whose start call is in flight */
	bool start_dirty;          /* something may have become startable */
	int64_t next_sweep_us;
	int64_t next_delayed_start;   /* earliest start_after still ahead, INT64_MAX = none */
	effects fx;
	size_t started_this_cycle;

	size_t deliveries_in_flight;
	bool outbox_dirty;         /* deliveries may be due: lease in this cycle */
	int64_t outbox_next_due;   /* INT64_MAX = nothing undelivered */
	id_set touched_batches;    /* batches with a task that ended this cycle */
	int64_t next_retention_us;

	const char *actor;         /* who causes the current changes (audit trail) */

	/* Many nodes on one database (store_shared). Deadlines then live in the
	 * database: the leader asks it for due ones instead of keeping a heap. */
	bool shared;
	unsigned remote_wake;      /* STORE_WAKE_* bits from the listener, under mu */
	bool leader;               /* this node runs timers and retention */
	bool timers_dirty;         /* shared: re-read the earliest deadline */
	int64_t db_timer_next;     /* shared: earliest known deadline, INT64_MAX = none */
	int64_t start_retry_at;    /* another node held a rule lock: try those tasks again */
	int64_t backoff_until;     /* the database was unreachable: no retries before */
	bool cycle_changed;        /* this cycle wrote something other nodes should see */
	/* Steps that lost a lock conflict with another node: applied again in
	 * the next cycle, after this one's commit has released its locks. */
	engine_cmd **retry_cmds;
	size_t nretry_cmds, retry_cmds_cap;
	webhook_call **retry_results;
	size_t nretry_results, retry_results_cap;
};

/* Arms a deadline of `task`: in the heap on a single node; on a shared
 * database only as a hint for the next wake-up (the row itself is the
 * deadline, and the other nodes hear of it through the commit's notify). */
void engine_arm_timer(engine *e, int64_t due_us, timer_kind kind, const weft_id *task);

/* effects */
void effects_add_call(effects *fx, webhook_call *call);
/* Hands a finished call to the engine thread (any thread). */
void engine_push_result(engine *e, webhook_call *call);

/* outbox.c */
/* Writes one outbox delivery per action of (task, trigger, condition),
 * rendered from the task's metadata and enriched with its state. `row` is
 * the task as it is now when the caller has it (borrowed), NULL to read it. */
int outbox_add_task_webhooks(engine *e, const weft_id *task, const task_row *row, action_trigger trig,
                             action_condition cond, int64_t now);
/* Fires on_batch_complete for every touched batch that just finished. */
int outbox_complete_batches(engine *e, int64_t now);
/* Leases due deliveries into the cycle's effects, up to the window. */
int outbox_lease(engine *e, int64_t now);
/* Records a finished delivery (retry with backoff or exhausted). */
int outbox_apply_result(engine *e, webhook_call *call, int64_t now);
int64_t outbox_backoff_us(const engine *e, int32_t attempt);

/* commands/tasks.c: one task's cancel, pause and resume, shared with the
 * group commands. Each returns 0 (res says whether it applied and the
 * status before), WEFT_ENOTFOUND, or an error. */
int task_cancel_one(engine *e, const weft_id *id, const char *reason, int64_t now, task_update_result *res);
int task_pause_one(engine *e, const weft_id *id, task_update_result *res);
/* *now_status: the status the task has afterwards. */
int task_resume_one(engine *e, const weft_id *id, int64_t now, task_update_result *res, task_status *now_status);

/* dag.c */
/* After `task` reached a terminal status: propagate to children, queue the
 * webhooks of cascade-failed children, cancel dead-end ancestors, and mark
 * its batch for the completion check. `row`: the task after its transition
 * (borrowed), or NULL to read it. */
int dag_after_terminal(engine *e, const weft_id *task, const task_row *row, task_status final, int64_t now);
/* A claimed/running task failed for `cause` (a retry_cause bit, 0 = never
 * retried): with retries left under its policy it goes to retrying;
 * otherwise to failure with `reason`, its on_failure webhooks and
 * dag_after_terminal. 0 (*applied: the status was in from_mask; *retried
 * tells which way it went), WEFT_ENOTFOUND, or an error. */
int dag_fail_task(engine *e, const weft_id *task, unsigned from_mask, const char *reason, unsigned cause,
                  bool touch_last_updated, int64_t now, bool *applied, bool *retried);
/* Whether a failure for `cause` should be retried; fills the retrying
 * update's fields (attempt, next_retry_at) when it should. */
bool dag_should_retry(engine *e, const task_row *t, unsigned cause, int64_t now, task_update *u);

/* metrics of a task that reached a terminal status (row after update) */
void engine_metric_terminal(const task_row *t);

/* metrics helpers */
void engine_metric_transition(task_status from, task_status to);

#endif
