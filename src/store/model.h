/*
 * model.h — the rows the store reads and writes: tasks, their actions and
 * links, outbox deliveries and audit events. Timestamps are int64 µs since
 * the epoch (0 = null); JSON-valued columns travel as compact JSON text.
 * The states these rows carry, and their names, are core/status.h's.
 */
#ifndef WEFT_MODEL_H
#define WEFT_MODEL_H

#include "util/common.h"
#include "core/id.h"
#include "core/status.h"

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
	int32_t attempt;             /* which try this is: 1 on the first run */
	char *group_name;            /* NULL = none */
	int64_t start_after;         /* not started before this time (µs); 0 = none */
	char *retry_policy;          /* canonical JSON (see engine/retry.h) or NULL */
	int64_t next_retry_at;       /* while retrying: when it becomes pending again */
	bool archived;               /* read from the archive (retention) */
	char *executor;              /* what runs it (exec/executor.h); NULL = the default, "webhook" */
	/* Job queues (executor "queue"; defaults elsewhere) */
	char *namespace;             /* "default" unless set */
	int64_t lease_token;         /* fencing token: + 1 by every claim, never reset */
	int64_t lease_until;         /* µs while a job is running; 0 = none */
	char *worker_id;             /* the worker holding the lease, NULL = none */
	int64_t dead_at;             /* µs: failed for good by its own attempts (dead letter); 0 = not */
	char *error_code;            /* the last failure's code, NULL = none */
	int32_t retry_base;          /* attempts before an operator reset: retries used = attempt − 1 − retry_base */
	int32_t shape;               /* TASK_SHAPE_* bits: what its end must look at */
} task_row;

/* task.shape: what a task's end must look at. A plain job (0) skips the
 * DAG and outbox statements when it ends; rows written before the column
 * existed read as TASK_SHAPE_ALL. */
#define TASK_SHAPE_PARENTS 1         /* it has parents */
#define TASK_SHAPE_CHILDREN 2        /* it has children */
#define TASK_SHAPE_ACTIONS 4         /* it has end or cancel webhooks */
#define TASK_SHAPE_ALL 7
/* A decision task of a run: its success names the children that run
 * (engine/decisions.c). Not part of TASK_SHAPE_ALL: older rows are no
 * decisions. */
#define TASK_SHAPE_DECISION 8
/* A run's task that publishes an event when it ends (store/triggers.h,
 * task_emit). Not part of TASK_SHAPE_ALL: older rows emit nothing. */
#define TASK_SHAPE_EMIT 16

/* One attempt of a job that did not succeed: its error history. */
typedef enum job_attempt_outcome {
	JA_FAILED = 0, JA_TIMED_OUT, JA_LEASE_EXPIRED, JA_RELEASED, JA_CANCELED, JA__COUNT
} job_attempt_outcome;
/* "failed", "timed_out", "lease_expired", "released", "canceled". */
const char *job_attempt_outcome_name(job_attempt_outcome o);
int job_attempt_outcome_parse(const char *s, job_attempt_outcome *out);

typedef struct job_attempt_row {
	weft_id task_id;
	int64_t lease_token;
	int32_t attempt;
	char *worker_id;             /* owned, NULL = none */
	char *claimed_by;            /* owned, NULL = none */
	int64_t started_at, ended_at;
	job_attempt_outcome outcome;
	char *error_code;            /* owned, NULL = none */
	char *error_message;         /* owned, NULL = none */
	char *error_details;         /* owned JSON text, NULL = none */
	bool retryable;
} job_attempt_row;

void job_attempt_row_release(job_attempt_row *a);

void task_row_release(task_row *t);

/* A webhook attached to a task, with the record of its last delivery. */
typedef struct action_row {
	int64_t id;
	weft_id task_id;             /* set by store_task_actions_many only */
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
