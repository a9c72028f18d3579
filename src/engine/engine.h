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
 * Deadlines (stale claims, inactivity timeouts, retry backoffs, delayed
 * starts) sit in a heap on a single node; on a database shared by several
 * nodes they are read from the task rows by the elected leader
 * (deadline.h). The queue is bounded: past engine_config.queue_max a
 * command is answered at once with WEFT_EOVERLOADED.
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
/* Builds template runs (engine/commands/templates.h). */
typedef struct template_expander template_expander;

typedef struct engine_config {
	int64_t claim_timeout_us;        /* WORKER_CLAIM_TIMEOUT_SECS: claimed -> pending */
	int64_t sweep_interval_us;       /* WORKER_LOOP_INTERVAL_MS: safety sweep only */
	int start_window;                /* start calls the dispatcher runs at once (its start lane) */
	bool dead_end_cancel;            /* DEAD_END_CANCEL_ENABLED */
	const ssrf_policy *ssrf;         /* for cancel actions returned by on_start */
	/* outbox */
	int delivery_window;             /* deliveries the dispatcher runs at once (its delivery lane) */
	int max_attempts;                /* WEBHOOK_MAX_ATTEMPTS */
	int64_t backoff_base_us;         /* WEBHOOK_RETRY_BACKOFF_BASE_SECS: first retry delay */
	int64_t backoff_cap_us;          /* WEBHOOK_RETRY_BACKOFF_CAP_SECS */
	int64_t lease_us;                /* WEBHOOK_DELIVERY_LEASE_SECS */
	/* retention: 0 = keep forever */
	int64_t archive_after_us;        /* RETENTION_ARCHIVE_DAYS (or _AFTER_SECS) */
	int64_t audit_retention_us;      /* AUDIT_RETENTION_DAYS (or _AFTER_SECS): audit entries deleted */
	int64_t event_retention_us;      /* EVENT_RETENTION_DAYS (or _AFTER_SECS): events deleted; 0 = kept */
	int64_t workflow_retention_us;   /* RETENTION_WORKFLOW_DAYS (or _AFTER_SECS): ended runs deleted */
	int64_t retention_interval_us;   /* RETENTION_CLEANUP_INTERVAL_SECS */
	int retention_batch;             /* RETENTION_BATCH_SIZE */
	int queue_max;                   /* ENGINE_QUEUE_MAX: commands waiting; <= 0 = 10,000 */
	int64_t idempotency_ttl_us;      /* IDEMPOTENCY_TTL_SECS: how long a key is remembered */
	int log_buffer_lines;            /* LOG_BUFFER_LINES: an execution's lines waiting; <= 0 = 10,000 */
	int64_t log_buffer_bytes;        /* LOG_BUFFER_BYTES: their bytes; <= 0 = 8 MiB */
	int64_t log_retention_us;        /* LOG_RETENTION_DAYS: lines older are deleted; 0 = keep */
	int64_t metrics_history_us;      /* METRICS_HISTORY_DAYS: metrics history rows deleted; 0 = keep */
	/* Borrowed, outlives the engine; NULL: a schedule's template target
	 * starts nothing (its firings count as skipped). */
	const template_expander *template_runs;
	/* The exec executor (exec/process_executor.c): off unless allow_exec. */
	bool allow_exec;                 /* --allow-exec */
	int exec_concurrency;            /* EXEC_CONCURRENCY: children at once */
	int64_t exec_kill_grace_us;      /* EXEC_KILL_GRACE_MS */
	const char *node_id;             /* borrowed: WEFT_NODE_ID, in the worker_id of its exec tasks */
} engine_config;

/* store and dispatcher are borrowed and must outlive the engine. */
engine *engine_new(const engine_config *cfg, store *st, dispatcher *disp);
/* After each commit that changed tasks, fn(arg, changes) on the engine
 * thread (changes borrowed for the call): it must only copy them and
 * return. NULL unsets it; once set or unset, no call is under way with
 * the previous one. Any thread. */
typedef void (*engine_commit_fn)(void *arg, const store_changes *changes);
void engine_on_commit(engine *e, engine_commit_fn fn, void *arg);
int engine_start(engine *e);          /* recovers deadlines, starts the thread */
void engine_stop(engine *e);          /* drains queued commands, then joins */
void engine_free(engine *e);

/* ---- commands ----------------------------------------------------------
 * A command is a struct of its family (engine/commands/<family>.h) whose
 * first member is an engine_cmd named `base`; the family's init function
 * sets `op`, which says what the engine does with it. The caller fills the
 * payload, sets done/arg/actor and submits &x.base; done() gets the same
 * pointer back, and engine_cmd_of() turns it into the family's struct. */

typedef struct engine_op engine_op;     /* defined by each command family */
typedef struct engine_cmd engine_cmd;
typedef void (*engine_done_fn)(engine_cmd *cmd, void *arg);

struct engine_cmd {
	const engine_op *op;        /* set by the family's init function */
	engine_done_fn done;        /* NULL for engine_call() */
	void *arg;

	/* Who asked, for the audit trail ("api" when NULL). Borrowed. */
	const char *actor;

	/* Outcome, set before done(): 0, WEFT_ENOTFOUND, WEFT_ECONFLICT (the
	 * state does not allow it: see current_status), or a failure that
	 * wrote nothing (WEFT_ESTORE, WEFT_EUNAVAILABLE when the database is
	 * unreachable or the engine is stopping, WEFT_EOVERLOADED when the
	 * queue is full). */
	int result;
	bool noop;                  /* succeeded without changing anything (PATCH re-sending the final status) */
	task_status current_status; /* with WEFT_ECONFLICT and noop */

	/* Idempotency-Key (optional; borrowed until done): a command that
	 * carries a key is applied at most once while the key is remembered
	 * (IDEMPOTENCY_TTL_SECS). A later command with the same key and the
	 * same fingerprint (of its request) is not applied: it gets the first
	 * one's outcome, with `replayed` set. With another fingerprint its
	 * result is WEFT_EREUSED. */
	const char *idem_key;
	const char *idem_fingerprint;
	bool replayed;

	int conflicts;              /* engine: times put back after a cross-node lock conflict */
	/* engine: applied, but answered later (a claim waiting for jobs:
	 * parts/claims.c); set by the op, never by the caller. */
	bool parked;
};

/* The family struct `type` whose base is `cmd`. */
#define engine_cmd_of(cmd, type) ((type *)(void *)(cmd))
/* Asserts that a family struct starts with its engine_cmd. */
#define ENGINE_CMD_BASE_FIRST(type) _Static_assert(offsetof(type, base) == 0, #type ": base comes first")

/* The command's name, e.g. "task.patch" (logs). */
const char *engine_cmd_name(const engine_cmd *cmd);

/* Queues cmd (borrowed until done). Never blocks on the database. With the
 * queue full (or the engine stopping) done() runs at once, on the caller's
 * thread, with WEFT_EOVERLOADED (WEFT_EUNAVAILABLE). */
void engine_submit(engine *e, engine_cmd *cmd);
/* The caller no longer wants cmd's answer: its client went away while the
 * command waited. A command the engine holds parked (a claim waiting for
 * jobs) is answered soon with nothing (no jobs), so that no job is handed
 * to a client that is gone; any other command is unaffected. May be
 * called from any thread, with cmd not yet answered; cmd is only compared,
 * never read, so a call that crosses the answer is harmless. */
void engine_abandon(engine *e, engine_cmd *cmd);
/* Queues cmd and waits for its outcome (cmd->done must be NULL). */
void engine_call(engine *e, engine_cmd *cmd);
/* Returns once a whole cycle that began after the call has committed
 * (or failed): whatever was due at the clock's time of the call has been
 * done. 0 or the cycle's error. Tests advance the clock, then sync. */
int engine_sync(engine *e);
/* Tests only: the next `fail_commits` commits fail, and one step of the
 * cycle part named `fail_part` (a static string; NULL = none) fails. */
void engine_test_faults(engine *e, int fail_commits, const char *fail_part);
/* Tests only: the next commit commits (or, !committed, rolls back) and is
 * reported in doubt, as when the connection is lost during COMMIT; the
 * attempts to learn its outcome find the database out of reach
 * `unreachable` times first. */
void engine_test_doubt(engine *e, bool committed, int unreachable);

/* Counts for /health and tests. */
typedef struct engine_stats {
	uint64_t cycles, commands, commits;
	size_t queue_len, starts_in_flight;
	size_t deadlines;           /* entries in the deadline heap after the last cycle */
	bool commit_in_doubt;       /* a cycle waits to learn whether it committed */
} engine_stats;
void engine_get_stats(engine *e, engine_stats *out);

#endif
