/*
 * model.h — weft's data model: the vocabulary shared by store, engine and
 * the HTTP layer.
 *
 * A *batch* (a run) groups the tasks submitted together. A *task* is a node
 * of the batch's DAG; *links* are its edges; *actions* are the webhooks
 * attached to a task. Timestamps are int64 µs since the epoch (0 = null).
 * JSON-valued columns travel as compact JSON text.
 *
 * Task state machine (ArcRun semantics, reference/arcrun.md §5):
 *
 *   (new) --no deps--> pending        (new) --deps--> waiting
 *   waiting --all parents resolved--> pending
 *   waiting --required parent failed/canceled--> failure (cascade)
 *   pending --claim (rules pass)--> claimed --on_start 2xx--> running
 *   claimed --on_start failed--> failure
 *   claimed --claim stale--> pending
 *   running|claimed --PATCH--> success | failure
 *   running --inactivity timeout--> failure
 *   waiting|pending|paused|claimed|running --DELETE--> canceled
 *   waiting|pending --pause--> paused --resume--> waiting|pending
 *   non-terminal parent, all children terminal --dead end--> canceled
 *
 * Terminal: success, failure, canceled. Later steps add retrying, sleeping,
 * skipped (see SPEC §2); the enum keeps room for them.
 */
#ifndef WEFT_MODEL_H
#define WEFT_MODEL_H

#include "../util/common.h"
#include "../util/uuid.h"

typedef enum task_status {
	TS_WAITING = 0,
	TS_PENDING,
	TS_CLAIMED,
	TS_RUNNING,
	TS_PAUSED,
	TS_SUCCESS,
	TS_FAILURE,
	TS_CANCELED,
	TS__COUNT
} task_status;

#define TS_BIT(s) (1u << (s))
#define TS_TERMINAL_MASK (TS_BIT(TS_SUCCESS) | TS_BIT(TS_FAILURE) | TS_BIT(TS_CANCELED))
#define TS_ALL_MASK ((1u << TS__COUNT) - 1)
#define TS_ACTIVE_MASK (TS_ALL_MASK & ~TS_TERMINAL_MASK)

static inline bool task_status_terminal(task_status s) { return (TS_BIT(s) & TS_TERMINAL_MASK) != 0; }
const char *task_status_db(task_status s);     /* "waiting" … (stored form) */
const char *task_status_wire(task_status s);   /* "Waiting" … (ArcRun JSON) */
int task_status_from_db(const char *s, task_status *out);    /* 0 / -1 */
int task_status_from_wire(const char *s, task_status *out);  /* 0 / -1, case-sensitive */

typedef enum action_trigger { TRIGGER_START = 0, TRIGGER_END, TRIGGER_CANCEL } action_trigger;
typedef enum action_condition { COND_SUCCESS = 0, COND_FAILURE } action_condition;
const char *action_trigger_db(action_trigger t);    /* "start" "end" "cancel" */
const char *action_trigger_wire(action_trigger t);  /* "Start" "End" "Cancel" */
int action_trigger_from_db(const char *s, action_trigger *out);
const char *action_condition_db(action_condition c);  /* "success" "failure" */
int action_condition_from_db(const char *s, action_condition *out);

/* Limits (ArcRun §12) */
#define TASK_NAME_MAX 255
#define TASK_KIND_MAX 100
#define TASK_TIMEOUT_MIN 1
#define TASK_TIMEOUT_MAX 86400
#define TASK_TIMEOUT_DEFAULT 60
#define TASK_METADATA_MAX 65536
#define TASK_PRIORITY_MIN (-1000)
#define TASK_PRIORITY_MAX 1000

/* One task as stored. Strings are owned by the row; task_row_release()
 * frees them. */
typedef struct task_row {
	weft_id id;
	weft_id batch_id;            /* empty when none */
	char *name;
	char *kind;
	task_status status;
	int32_t timeout_secs;
	int64_t created_at, started_at, ended_at, last_updated;   /* µs, 0 = null */
	char *metadata;              /* compact JSON text; "null" when none */
	char *rules;                 /* compact JSON array text, "[]" when none */
	int64_t wait_success, wait_finished;
	int64_t success, failures;
	char *failure_reason;        /* NULL = null */
	bool has_expected_count;
	int64_t expected_count;
	bool dead_end_barrier;
	int32_t priority;
	int32_t attempt;             /* 0 until retries exist (step 2) */
} task_row;

void task_row_release(task_row *t);

/* A webhook attached to a task. */
typedef struct action_row {
	action_trigger trigger;
	action_condition condition;
	char *params;                /* compact JSON text of WebhookParams, owned */
} action_row;

void action_row_release(action_row *a);

typedef struct link_row {
	weft_id parent_id;
	weft_id child_id;
	bool requires_success;
} link_row;

#endif
