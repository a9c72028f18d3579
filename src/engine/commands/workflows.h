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
#include "store/workflows.h"
#include "store/runs.h"

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

/* The status reads show for a run that has not ended whose job is in
 * status s: the job's end (success, failure, canceled) when it ended
 * without the run's own calls, "running" while a worker holds it (a claim
 * does not touch the run's row); NULL otherwise (the row's status holds).
 * The run's row follows at the next call on it. */
const char *workflow_status_of_job(task_status s);

/* ---- ending a run from the client side -------------------------------------------------- */

typedef enum workflow_stop_kind { WF_CANCEL, WF_TERMINATE, WF_RETRY } workflow_stop_kind;

/* Cancel and terminate: a run that has not ended; its job is canceled as
 * by POST /v1/tasks/{id}/cancel (a worker holding it learns it at its
 * next heartbeat, and its next call answers workflow_ended) and the run's
 * row ends (canceled, terminated) in the same transaction.
 * Retry: a run that failed, was canceled or terminated; its job reopens
 * as the operator's reset does (pending at once, a fresh retry budget),
 * the run is pending again and replays from the top: completed steps stay
 * memoized, steps that failed for good get a fresh try.
 * base.result: 0, WEFT_ENOTFOUND (no such run, or not visible), or
 * WEFT_ECONFLICT when its status does not allow it (run_status). */
typedef struct cmd_workflow_stop {
	engine_cmd base;
	workflow_stop_kind kind;
	job_visibility visible;
	weft_id run_id;
	const char *reason;            /* borrowed, NULL = none */
	/* out */
	char run_status[WORKFLOW_STATUS_CHARS];
} cmd_workflow_stop;
void cmd_workflow_stop_init(cmd_workflow_stop *c, workflow_stop_kind kind);

/* The most signals a run holds that no wait has taken: a sender past it
 * is refused (full) rather than the table growing without bound. */
#define WORKFLOW_SIGNALS_PENDING_MAX 1000

/* Sends signal `name` to a run that has not ended. A run suspended waiting
 * for that name becomes claimable at once (its job pending, parked claims
 * woken); otherwise the signal waits for the run's next wait of that
 * name. base.result: 0 (id set), WEFT_ENOTFOUND, or WEFT_ECONFLICT when
 * the run had ended (run_status) or holds WORKFLOW_SIGNALS_PENDING_MAX
 * signals already (full). */
typedef struct cmd_workflow_signal {
	engine_cmd base;
	job_visibility visible;
	weft_id run_id;
	const char *name;              /* borrowed, 1..TASK_NAME_MAX bytes */
	const char *payload;           /* borrowed compact JSON, NULL = none */
	/* out */
	int64_t id;
	bool woke;                     /* the run was waiting for it */
	bool full;                     /* refused: too many signals not taken */
	char run_status[WORKFLOW_STATUS_CHARS];
} cmd_workflow_signal;
void cmd_workflow_signal_init(cmd_workflow_signal *c);

/* ---- a worker's calls on the run it holds ------------------------------------------------ */

/* The most rows a run's memo holds (steps, sleeps and waits, every
 * iteration): a call that would add one more answers too_many_steps. */
#define WORKFLOW_MEMO_ROWS_MAX 100000

typedef enum workflow_call_kind {
	WF_STEP_BEGIN,       /* name: the memo's row; a completed one answers memoized */
	WF_STEP_COMPLETE,    /* name, seq, output */
	WF_STEP_FAIL,        /* name, seq, error_code, error_message, retryable */
	WF_SLEEP,            /* name, duration_us */
	WF_RUN_COMPLETE,     /* output */
	WF_RUN_FAIL,         /* error_code, error_message, retryable */
	WF_WAIT_SIGNAL,      /* name, duration_us (the timeout; 0 = none) */
} workflow_call_kind;

typedef enum workflow_call_outcome {
	WFC_NONE = 0,        /* not applied (the command failed) */
	WFC_OK,              /* done; see the out fields */
	WFC_NOT_FOUND,       /* no such run, or of a namespace the caller may not see */
	WFC_STALE_LEASE,     /* the job is not running under lease_token (409 stale_lease) */
	WFC_RUN_ENDED,       /* the run ended (completed, failed, canceled, terminated): run_status */
	WFC_STEP_UNKNOWN,    /* complete/fail of a (name, seq) this attempt did not begin */
	WFC_STEP_ENDED,      /* complete/fail of a step that ended otherwise: step.status */
	WFC_STEP_FAILED,     /* begin of a step that failed for good: step has its error */
	WFC_TOO_MANY_STEPS,  /* the memo holds WORKFLOW_MEMO_ROWS_MAX rows: no new one */
} workflow_call_outcome;

/* One call of the worker holding the run's job, fenced by the lease token:
 * nothing changes unless the job is running under it. A call that
 * suspends the run (a sleep not yet due, a step failure that will retry)
 * ends the job's attempt: the job waits in `retrying` until wake_at (the
 * retry_backoff deadline makes it pending and wakes parked claims), and
 * every later call with the same token is stale. base.result: 0 with
 * `outcome` set. */
typedef struct cmd_workflow_call {
	engine_cmd base;
	workflow_call_kind kind;
	job_visibility visible;
	weft_id run_id;
	int64_t lease_token;
	const char *name;              /* borrowed: step and sleep names */
	int64_t seq;                   /* complete/fail: the seq begin answered */
	const char *output;            /* borrowed compact JSON; NULL = null */
	const char *error_code;        /* borrowed, job_error_code_valid() */
	const char *error_message;     /* borrowed, NULL = none */
	bool retryable;
	int64_t duration_us;           /* sleep; a signal wait's timeout (0 = none) */

	/* out */
	workflow_call_outcome outcome;
	char run_status[WORKFLOW_STATUS_CHARS];
	workflow_step_row step;        /* step calls and sleeps: the row (owned) */
	bool memoized;                 /* the step (or sleep) had ended before: nothing ran */
	bool suspended;                /* the run is suspended until wake_at: this attempt is over */
	int64_t wake_at;
	bool retried;                  /* fail: the step (or the run) will be tried again */
	bool timed_out;                /* wait: no signal came within the timeout */
} cmd_workflow_call;
void cmd_workflow_call_init(cmd_workflow_call *c, workflow_call_kind kind);
/* Frees the out row (after done()). */
void cmd_workflow_call_release(cmd_workflow_call *c);

#endif
