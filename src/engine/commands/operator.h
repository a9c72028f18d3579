/*
 * operator.h — what an operator does to tasks of any executor (jobs and
 * webhook tasks): retry now, reset for retry, resolve manually with a
 * result, cancel; requeueing dead letters (a reset of each); and telling
 * a worker to drain.
 *
 * Operator action state machine (core/status.h has the task's own):
 *
 *   retrying, or pending with a future start --retry--> pending, startable now
 *   failure|canceled, no children --retry--> pending, attempt + 1, retry budget kept
 *   failure|canceled, no children --reset--> pending, attempt + 1, a fresh retry budget
 *   any non-terminal, or failure without children --resolve(result)--> success
 *   (success, canceled and skipped are refused: a skipped task's children
 *   saw it end already)
 *   any non-terminal --cancel--> canceled
 *   pending|waiting --pause--> paused (a job is not claimed while paused)
 *   paused --resume--> waiting while parents are unfinished, else pending
 *
 * A reopened task is no longer ended nor a dead letter and holds no lease;
 * `attempt` only grows, so a reopened webhook task never reuses a start
 * key. A terminal task with children is never reopened or resolved
 * (WEFT_ECONFLICT with has_dependents): its outcome has already reached
 * them (they failed by cascade, ran, or were counted down), and undoing
 * that is not offered. A task whose parents did not all finish (failed by
 * a parent's cascade) is not reopened either (WEFT_ECONFLICT).
 *
 * Resolving releases the task's children as a success does; a running
 * job loses its lease (its holder's next heartbeat answers lost); a
 * running webhook task gets its cancel webhooks, as an ArcRun cancel.
 *
 * Every action writes an audit event by base.actor ("token:<name>") with
 * the reason "operator: <action>[: <reason>]". Commands are applied one
 * at a time (operator actions are rare, and each reads its task first).
 *
 * Ownership: as commands/jobs.h (the caller's strings are borrowed until
 * done(); results are written into the structs).
 */
#ifndef WEFT_ENGINE_COMMANDS_OPERATOR_H
#define WEFT_ENGINE_COMMANDS_OPERATOR_H

#include "engine/commands/jobs.h"

/* The longest reason an operator may give (bytes). */
#define OPERATOR_REASON_MAX 1024
/* Dead letters requeued by one selection ({"namespace","queue","limit"}). */
#define REQUEUE_LIMIT_MAX JOBS_PER_REQUEST_MAX

typedef enum operator_action {
	OPERATOR_RETRY = 0,
	OPERATOR_RESET,
	OPERATOR_RESOLVE,
	OPERATOR_CANCEL,
	OPERATOR_PAUSE,
	OPERATOR_RESUME,
	OPERATOR__COUNT
} operator_action;
/* "retry", "reset", "resolve", "cancel", "pause", "resume". */
const char *operator_action_name(operator_action a);

/* base.result: 0 (current_status: the status reached), WEFT_ENOTFOUND
 * (no such task, or not in a visible namespace), WEFT_ECONFLICT
 * (current_status: the status that does not allow it; has_dependents
 * when it is terminal with children). */
typedef struct cmd_operator {
	engine_cmd base;
	job_visibility visible;
	weft_id id;
	const char *reason;         /* borrowed, ≤ OPERATOR_REASON_MAX bytes; NULL = none */
	const char *result;         /* resolve: compact JSON ≤ JOB_PAYLOAD_MAX_BYTES; NULL = "null" */
	/* A command that applies this one inside its own (a workflow's
	 * cancel, terminate or retry) records the change itself, once: set
	 * to leave the task's audit entry out. */
	bool audited_by_caller;
	/* out */
	bool has_dependents;
} cmd_operator;
void cmd_operator_init(cmd_operator *c, operator_action a);

/* ---- dead letters ------------------------------------------------------------ */

typedef enum requeue_outcome {
	REQUEUE_NONE = 0,           /* not applied (the command failed) */
	REQUEUED,                   /* pending at once, attempt + 1, a full retry budget */
	REQUEUE_NOT_FOUND,          /* no such task, or not visible */
	REQUEUE_NOT_DEAD,           /* not a dead letter (any more) */
	REQUEUE_HAS_DEPENDENTS,     /* a dead letter with children (a run's task) */
} requeue_outcome;
/* "requeued", "not_found", "not_dead_letter", "has_dependents". */
const char *requeue_outcome_name(requeue_outcome o);

typedef struct requeue_item {
	weft_id id;
	requeue_outcome outcome;    /* out */
} requeue_item;

/* Requeues dead letters: the ids given (items, 1..REQUEUE_LIMIT_MAX,
 * borrowed), or with nitems 0 the newest `limit` dead letters of
 * `namespace` (and `queue`, NULL = any), which the engine picks in its
 * transaction (items then owned by the command: cmd_requeue_release).
 * Each is an operator reset, with its audit event. */
typedef struct cmd_requeue {
	engine_cmd base;
	job_visibility visible;
	const char *reason;         /* borrowed, NULL = none */
	requeue_item *items;
	size_t nitems;
	const char *namespace;      /* selection: borrowed */
	const char *queue;
	int32_t limit;              /* selection: 1..REQUEUE_LIMIT_MAX */
	bool owns_items;            /* engine-private */
} cmd_requeue;
void cmd_requeue_init(cmd_requeue *c);
void cmd_requeue_release(cmd_requeue *c);

/* ---- workers ----------------------------------------------------------------- */

/* Tells the worker (namespace, worker_id) to drain: its claims get no job
 * and answer drain, and so do its heartbeats. base.result 0 or
 * WEFT_ENOTFOUND. */
typedef struct cmd_worker_drain {
	engine_cmd base;
	const char *namespace;      /* borrowed */
	const char *worker_id;      /* borrowed */
} cmd_worker_drain;
void cmd_worker_drain_init(cmd_worker_drain *c);

#endif
