/*
 * status.h — the states and kinds every layer shares, with their canonical
 * names: lowercase, as stored in the database, written in logs and shown
 * in the ArcRun API's additive fields ("state", "current_state").
 * Front doors with spellings of their own (the ArcRun API) translate at
 * their edge; nothing below them knows those spellings.
 *
 * Task state machine:
 *
 *   (new) --no deps--> pending        (new) --deps--> waiting
 *   waiting --all parents resolved--> pending
 *   waiting --required parent failed/canceled--> failure (cascade)
 *   pending --claim (rules pass)--> claimed --executor started it--> running
 *   claimed --start failed--> failure
 *   claimed --claim stale--> pending
 *   running|claimed --completed--> success | failure
 *   running --inactivity timeout--> failure
 *   waiting|pending|paused|claimed|running|retrying --cancel--> canceled
 *   waiting|pending --pause--> paused --resume--> waiting|pending
 *   non-terminal parent, all children terminal --dead end--> canceled
 *   claimed|running --failed, attempts left--> retrying --backoff--> pending
 *   decision running --success, result {"next": [refs]}--> success, and
 *       its waiting|paused children not named --> skipped
 *   decision running --success, result not such--> failure (invalid_decision)
 *   waiting|paused, every parent skipped --skip cascade--> skipped
 *
 * Terminal: success, failure, canceled, skipped. A skipped parent
 * satisfies its children as a successful one does; a task whose parents
 * are all skipped is skipped (a dead branch is pruned, a join with one
 * parent that ran runs). A retrying task runs again; its children see
 * only its final outcome.
 */
#ifndef WEFT_CORE_STATUS_H
#define WEFT_CORE_STATUS_H

#include "util/common.h"

typedef enum task_status {
	TS_WAITING = 0,
	TS_PENDING,
	TS_CLAIMED,
	TS_RUNNING,
	TS_PAUSED,
	TS_RETRYING,
	TS_SUCCESS,
	TS_FAILURE,
	TS_CANCELED,
	TS_SKIPPED,
	TS__COUNT
} task_status;

#define TS_BIT(s) (1u << (s))
#define TS_TERMINAL_MASK (TS_BIT(TS_SUCCESS) | TS_BIT(TS_FAILURE) | TS_BIT(TS_CANCELED) | TS_BIT(TS_SKIPPED))
/* The outcomes a child sees as its parent's success (a skipped parent
 * satisfies its children as a successful one does). */
#define TS_SATISFIED_MASK (TS_BIT(TS_SUCCESS) | TS_BIT(TS_SKIPPED))
#define TS_ALL_MASK ((1u << TS__COUNT) - 1)
#define TS_ACTIVE_MASK (TS_ALL_MASK & ~TS_TERMINAL_MASK)

static inline bool task_status_terminal(task_status s) { return (TS_BIT(s) & TS_TERMINAL_MASK) != 0; }
static inline bool task_status_satisfies(task_status s) { return (TS_BIT(s) & TS_SATISFIED_MASK) != 0; }

/* "waiting", "pending", … ("unknown" out of range). */
const char *task_status_name(task_status s);
/* 0, or WEFT_EINVALID when s is not a canonical name. */
int task_status_parse(const char *s, task_status *out);
/* The name in PascalCase ("Waiting", …; "RetryPending" for retrying), the
 * form of metric label values and of the statuses inside stored rule and
 * dedup matchers. */
const char *task_status_label(task_status s);
int task_status_from_label(const char *s, task_status *out);

/* When a task's webhook fires, and on which outcome. */
typedef enum action_trigger { TRIGGER_START = 0, TRIGGER_END, TRIGGER_CANCEL } action_trigger;
typedef enum action_condition { COND_SUCCESS = 0, COND_FAILURE } action_condition;
const char *action_trigger_name(action_trigger t);      /* "start" "end" "cancel" */
int action_trigger_parse(const char *s, action_trigger *out);
const char *action_condition_name(action_condition c);  /* "success" "failure" */
int action_condition_parse(const char *s, action_condition *out);

/* The state of one outgoing webhook in the outbox. */
typedef enum delivery_status {
	DS_PENDING = 0,              /* not tried yet */
	DS_DELIVERING,               /* leased to a dispatcher until next_attempt_at */
	DS_RETRYING,                 /* failed; tried again at next_attempt_at */
	DS_SUCCESS,
	DS_EXHAUSTED,                /* failed max_attempts times; given up */
	DS__COUNT
} delivery_status;
const char *delivery_status_name(delivery_status s);
int delivery_status_parse(const char *s, delivery_status *out);

/* What caused an outbox delivery. */
typedef enum delivery_event {
	DELIVERY_END_SUCCESS = 0,
	DELIVERY_END_FAILURE,
	DELIVERY_CANCEL,
	DELIVERY_BATCH_COMPLETE,
} delivery_event;
const char *delivery_event_name(delivery_event e);    /* "end_success" "end_failure" "cancel" "batch_complete" */
int delivery_event_parse(const char *s, delivery_event *out);

#endif
