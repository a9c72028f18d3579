/*
 * engine.h — the single writer.
 *
 * Every mutation is a command put on the engine's queue. The engine thread
 * takes all waiting commands, applies them in one transaction (each inside
 * its own savepoint, so one failing command does not undo the others),
 * starts whatever became startable, commits once, and only then answers
 * each command through its done callback. State transitions are therefore
 * ordered, guarded and exactly-once, and one fsync serves many requests.
 *
 * Starting tasks is driven by wake-ups: any commit that can make a task
 * startable (a new pending task, a running task ending, a rule change,
 * capacity freed by progress) triggers a start pass in the same cycle.
 * Deadlines (stale claims, inactivity timeouts, retry backoffs) sit in a
 * timer heap on a single node; on a database shared by several nodes they
 * are read from the task rows by the elected leader (engine.c).
 *
 * Threading: engine_submit() and engine_call() may be called from any
 * thread. done callbacks run on the engine thread after commit and must not
 * block (typically they resume a suspended HTTP connection).
 */
#ifndef WEFT_ENGINE_H
#define WEFT_ENGINE_H

#include "../util/common.h"
#include "../store/store.h"
#include "../exec/webhook.h"

typedef struct engine engine;

typedef struct engine_config {
	int64_t claim_timeout_us;        /* WORKER_CLAIM_TIMEOUT_SECS: claimed -> pending */
	int64_t sweep_interval_us;       /* WORKER_LOOP_INTERVAL_MS: safety sweep only */
	int start_window;                /* max start webhooks in flight (from concurrency) */
	bool dead_end_cancel;            /* DEAD_END_CANCEL_ENABLED */
	const ssrf_policy *ssrf;         /* for cancel actions returned by on_start */
	/* outbox */
	int delivery_window;             /* WEBHOOK_DELIVERY_CONCURRENCY: deliveries in flight */
	int max_attempts;                /* WEBHOOK_MAX_ATTEMPTS */
	int64_t backoff_base_us;         /* WEBHOOK_RETRY_BACKOFF_BASE_SECS: first retry delay */
	int64_t backoff_cap_us;          /* WEBHOOK_RETRY_BACKOFF_CAP_SECS */
	int64_t lease_us;                /* WEBHOOK_DELIVERY_LEASE_SECS */
	/* retention: 0 = keep forever */
	int64_t archive_after_us;        /* RETENTION_ARCHIVE_DAYS (or _AFTER_SECS) */
	int64_t retention_interval_us;   /* RETENTION_CLEANUP_INTERVAL_SECS */
	int retention_batch;             /* RETENTION_BATCH_SIZE */
} engine_config;

/* store and dispatcher are borrowed and must outlive the engine. */
engine *engine_new(const engine_config *cfg, store *st, dispatcher *disp);
int engine_start(engine *e);          /* recovers timers, starts the thread */
void engine_stop(engine *e);          /* drains queued commands, then joins */
void engine_free(engine *e);

/* ---- commands -------------------------------------------------------- */

typedef enum engine_cmd_type {
	CMD_SUBMIT_BATCH,
	CMD_PATCH_TASK,
	CMD_ADD_COUNTERS,
	CMD_CANCEL_TASK,
	CMD_PAUSE_TASK,
	CMD_RESUME_TASK,
	CMD_STOP_BATCH,
	CMD_SET_BATCH_RULES,
	CMD_GROUP_CANCEL,
	CMD_GROUP_PAUSE,
	CMD_GROUP_RESUME,
} engine_cmd_type;

/* Outcome of a command, set before done(). */
typedef enum engine_status {
	ENGINE_OK = 0,
	ENGINE_NOOP,          /* PATCH: same final status re-sent, nothing changed */
	ENGINE_NOT_FOUND,
	ENGINE_CONFLICT,      /* status does not allow it; see current_status */
	ENGINE_ERROR,         /* storage failure; nothing was written */
	ENGINE_UNAVAILABLE,   /* database unreachable / engine stopping */
} engine_status;

typedef struct new_dependency {
	size_t parent_index;        /* index into the batch's tasks (validated: earlier) */
	bool requires_success;
} new_dependency;

typedef struct new_matcher {
	char *kind;                 /* owned */
	task_status status;
	char **fields;              /* owned */
	size_t nfields;
} new_matcher;

/* One task of a submitted batch, already validated by the HTTP layer. */
typedef struct new_task {
	char *name, *kind;          /* owned */
	int32_t timeout_secs;
	char *metadata;             /* owned compact JSON, "null" when absent */
	char *rules;                /* owned compact JSON array, "[]" when absent */
	new_matcher *dedupe;        /* owned */
	size_t ndedupe;
	new_dependency *deps;       /* owned */
	size_t ndeps;
	bool has_expected_count;
	int64_t expected_count;
	bool dead_end_barrier;
	int32_t priority;
	char *on_start;             /* owned compact JSON of the start WebhookParams */
	char **on_success;          /* owned params JSON texts */
	size_t non_success;
	char **on_failure;
	size_t non_failure;
	char *group;                /* owned, NULL = none */
	int64_t start_after;        /* µs, 0 = start when ready */
	char *retry_policy;         /* owned canonical JSON (retry.h), NULL = no retries */
	/* results */
	bool created;               /* false when dedup skipped it */
	weft_id id;
	task_status status;
	int64_t created_at;
} new_task;

typedef struct engine_cmd engine_cmd;
typedef void (*engine_done_fn)(engine_cmd *cmd, void *arg);

struct engine_cmd {
	engine_cmd_type type;
	engine_done_fn done;        /* NULL for engine_call() */
	void *arg;

	/* Who asked, for the audit trail ("api" when NULL). Borrowed. */
	const char *actor;

	/* results */
	engine_status status;
	task_status current_status; /* with ENGINE_CONFLICT / ENGINE_NOOP */

	int conflicts;              /* engine: times put back after a cross-node lock conflict */

	union {
		struct cmd_submit {     /* CMD_SUBMIT_BATCH */
			weft_id batch_id;           /* set by the caller */
			new_task *tasks;            /* owned by the caller */
			size_t ntasks;
			char *scope;                /* borrowed, may be NULL */
			char *metadata;             /* borrowed JSON text, may be NULL */
			char *on_complete;          /* borrowed JSON array text, may be NULL */
			size_t created;             /* result */
		} submit;
		struct cmd_patch {      /* CMD_PATCH_TASK */
			weft_id id;
			bool has_status;
			task_status status;         /* TS_SUCCESS or TS_FAILURE */
			int64_t new_success, new_failures;
			const char *metadata;       /* borrowed, NULL = keep */
			const char *failure_reason; /* borrowed */
			bool has_expected_count;
			int64_t expected_count;
			bool has_priority;
			int32_t priority;
		} patch;
		struct {                /* CMD_ADD_COUNTERS (PUT) */
			weft_id id;
			int64_t success, failures;
		} counters;
		struct {                /* CMD_CANCEL_TASK, CMD_PAUSE_TASK, CMD_RESUME_TASK */
			weft_id id;
		} task;
		struct {                /* CMD_STOP_BATCH */
			weft_id batch_id;
			batch_cancel_counts counts; /* result */
		} stop;
		struct {                /* CMD_SET_BATCH_RULES */
			weft_id batch_id;
			const char *kind;           /* borrowed */
			const char *rules;          /* borrowed JSON array text */
			int64_t updated;            /* result */
		} rules;
		struct {                /* CMD_GROUP_CANCEL, CMD_GROUP_PAUSE, CMD_GROUP_RESUME */
			const char *name;           /* borrowed */
			int64_t count;              /* result: tasks canceled / paused / resumed */
		} group;
	} u;
};

/* Queues cmd (borrowed until done). Never blocks on the database. */
void engine_submit(engine *e, engine_cmd *cmd);
/* Queues cmd and waits for its outcome (cmd->done must be NULL). */
void engine_call(engine *e, engine_cmd *cmd);

/* Frees what a new_task owns (not the struct itself). */
void new_task_release(new_task *t);

/* Counts for /health and tests. */
typedef struct engine_stats {
	uint64_t cycles, commands, commits;
	size_t queue_len, starts_in_flight;
} engine_stats;
void engine_get_stats(engine *e, engine_stats *out);

#endif
