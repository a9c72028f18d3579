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
 *   claimed|running --failed, attempts left--> retrying --backoff--> pending
 *
 * Terminal: success, failure, canceled. A task with a retry policy that
 * fails for a reason in its retry_on list waits in retrying (ArcRun JSON:
 * "RetryPending") and runs again; its children see only its final outcome.
 * Later steps add sleeping and skipped (see SPEC §2).
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
	TS_RETRYING,                 /* wire "RetryPending" */
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
	int32_t attempt;             /* retries done so far: 0 on the first run */
	char *group_name;            /* NULL = none */
	int64_t start_after;         /* not started before this time (µs); 0 = none */
	char *retry_policy;          /* canonical JSON (see engine/retry.h) or NULL */
	int64_t next_retry_at;       /* while retrying: when it becomes pending again */
	bool archived;               /* read from the archive (retention) */
} task_row;

void task_row_release(task_row *t);

/* A webhook attached to a task. */
typedef enum delivery_status {
	DS_PENDING = 0,              /* not tried yet */
	DS_DELIVERING,               /* leased to a dispatcher until next_attempt_at */
	DS_RETRYING,                 /* failed, will be tried again (wire "failure") */
	DS_SUCCESS,
	DS_EXHAUSTED,                /* failed max_attempts times; given up */
	DS__COUNT
} delivery_status;
const char *delivery_status_db(delivery_status s);    /* "pending" "delivering" "retrying" "success" "exhausted" */
const char *delivery_status_wire(delivery_status s);  /* "pending" "pending" "failure" "success" "exhausted" */
int delivery_status_from_db(const char *s, delivery_status *out);

typedef enum delivery_event {
	DELIVERY_END_SUCCESS = 0,
	DELIVERY_END_FAILURE,
	DELIVERY_CANCEL,
	DELIVERY_BATCH_COMPLETE,
} delivery_event;
const char *delivery_event_name(delivery_event e);    /* "end_success" "end_failure" "cancel" "batch_complete" */
int delivery_event_from_name(const char *s, delivery_event *out);

/* A webhook attached to a task, with the record of its last delivery. */
typedef struct action_row {
	int64_t id;
	action_trigger trigger;
	action_condition condition;
	char *params;                /* compact JSON text of WebhookParams, owned */
	/* Delivery record (reads only): for start actions from the start ledger,
	 * for end/cancel actions from the outbox. has_delivery false = never fired. */
	bool has_delivery;
	delivery_status delivery;
	int32_t attempts;
	int32_t last_http_status;    /* 0 = no HTTP answer */
	char *last_error;            /* owned, NULL = none */
	int64_t last_attempt_at;
} action_row;

/* One outgoing webhook in the outbox: written in the transaction of the
 * state change that causes it, delivered at least once. */
typedef struct outbox_row {
	int64_t id;                  /* assigned by the store */
	char key[160];               /* Idempotency-Key, unique */
	delivery_event event;
	weft_id task_id;             /* empty for batch_complete */
	weft_id batch_id;            /* empty when none */
	int64_t action_id;           /* 0 for batch_complete */
	char *params;                /* owned: rendered WebhookParams JSON, exactly what is sent */
	bool add_handle;             /* append ?handle=<HOST_URL>/task/<id> */
	delivery_status status;
	int32_t attempts, max_attempts;
	int64_t next_attempt_at;     /* due time, or lease expiry while delivering */
	int64_t last_attempt_at, created_at, updated_at;
	int32_t last_http_status;
	char *last_error;            /* owned */
} outbox_row;

void outbox_row_release(outbox_row *o);

/* One entry of a task's audit trail. */
typedef struct task_event {
	int64_t at;
	bool has_from;               /* false for the creation entry */
	task_status from, to;
	char *reason;                /* owned, may be NULL */
	char *actor;                 /* owned: "api", "system", "webhook", "operator" */
} task_event;

void task_event_release(task_event *e);

void action_row_release(action_row *a);

typedef struct link_row {
	weft_id parent_id;
	weft_id child_id;
	bool requires_success;
} link_row;

#endif
