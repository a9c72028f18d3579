/*
 * engine_internal.h — what the engine's source files share.
 *
 * engine.c owns the queue, the group commit, savepoints (engine_step) and
 * the answers. Everything a cycle does besides is a *cycle part* (cycle.h)
 * with its own file; commands come in *families* (commands/); deadlines
 * are {due, kind, object} with a handler per kind (deadline.h); work
 * handed out after a commit is a *job* (below), launched by an executor
 * (exec/executor.h) or by the outbox deliveries.
 *
 * Everything here is touched only by the engine thread, except the fields
 * marked "under mu".
 */
#ifndef WEFT_ENGINE_INTERNAL_H
#define WEFT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "engine/deadline.h"
#include "util/clock.h"
#include <pthread.h>
#include "store/jobs.h"

typedef struct id_set {
	weft_id *items;
	size_t len, cap;
} id_set;

void id_set_add(id_set *s, const weft_id *id);      /* no duplicates */
bool id_set_has(const id_set *s, const weft_id *id);
bool id_set_remove(id_set *s, const weft_id *id);
void id_set_release(id_set *s);

/* Ids remembered by hash (parts/start.c). */
typedef struct explained_set {
	weft_id *slots;
	size_t len, cap;
} explained_set;

/* ---- jobs -----------------------------------------------------------------
 * A job is work that must happen only once its cycle has committed (a start
 * webhook, an outbox delivery, a child process …). A step queues it with
 * engine_launch(); if the step or the cycle rolls back, the job is freed
 * unlaunched. After the commit the engine launches it; whoever runs it
 * reports back with engine_job_done() from any thread, and a later cycle
 * applies the outcome in a savepoint of its own. */

typedef struct engine_job engine_job;

/* How many jobs of one sort may be out at once: `limit`, and `ahead` more
 * while jobs come back quickly (their transport runs `limit` at once and
 * queues the rest, which then go out the moment a slot frees instead of a
 * cycle later). Jobs that are slow, or a window without a job back yet,
 * get no more than `limit`: a job handed over ahead would wait for one of
 * them, where another node could have run it. */
typedef struct engine_window {
	size_t limit, ahead;
	size_t queued;       /* launched by steps of the current cycle */
	size_t in_flight;    /* launched after earlier commits, not yet back */
	engine_job *oldest, *newest;   /* the jobs in flight, in launch order */
	int64_t back_us;     /* moving mean of launch-to-back times; INT64_MAX: none back yet */
} engine_window;

void engine_window_init(engine_window *w, size_t limit, size_t ahead);
/* now: clock_mono_us(). */
size_t engine_window_room(const engine_window *w, int64_t now);

typedef struct job_ops {
	const char *name;           /* logs */
	const char *actor;          /* audit trail actor while its outcome is applied */
	/* After the commit: hand the job over. Its outcome comes back through
	 * engine_job_done(). */
	void (*launch)(engine *e, engine_job *j);
	/* Back on the engine thread, before the cycle that applies it: it no
	 * longer holds its window's slot (set dirty flags here). May be NULL. */
	void (*landed)(engine *e, engine_job *j);
	/* In a cycle, in its own savepoint: record the outcome. WEFT_ERETRY
	 * puts it back for the next cycle. */
	int (*apply)(engine *e, engine_job *j, int64_t now);
	/* The same for every job of these ops that came back for a cycle, in
	 * one savepoint, as a set (NULL: one at a time). When it fails they
	 * are applied one at a time, or, after WEFT_ERETRY, all put back. */
	int (*apply_many)(engine *e, engine_job **jobs, size_t n, int64_t now);
	void (*free)(engine_job *j);
} job_ops;

struct engine_job {
	const job_ops *ops;
	engine_window *window;      /* the slot it holds while queued or out; NULL = none */
	/* A start: while it is out, the task's outbox deliveries wait, so that
	 * the service sees the start before the end. */
	bool holds_task;
	weft_id task_id;
	int conflicts;              /* times put back after a cross-node lock conflict */
	int64_t launched_us;        /* clock_mono_us() at launch */
	engine_job *out_prev, *out_next;   /* the window's jobs in flight */
};

/* Queues j (owned by the engine from here) to be launched after this
 * cycle's commit. */
void engine_launch(engine *e, engine_job *j);
/* A launched job finished: hands it back to the engine thread (any thread). */
void engine_job_done(engine *e, engine_job *j);

/* ---- metrics that count what committed -----------------------------------
 * Counters and histograms touched inside a cycle are recorded here and
 * applied after the commit; a step that rolls back drops its own, a cycle
 * that fails to commit drops all of them. `name` must be a string literal
 * (it is kept by pointer); labels are copied. */
void engine_count(engine *e, const char *name, const char *labels, uint64_t v);
void engine_observe(engine *e, const char *name, const char *labels, double v);
void engine_metric_transition(engine *e, task_status from, task_status to);
/* A task that reached a terminal status (row after the update): counts it,
 * and its deadlines leave the heap once the cycle commits. */
void engine_metric_terminal(engine *e, const task_row *t);

typedef struct metric_journal {
	struct metric_entry *items;
	size_t len, cap;
	char *labels;               /* the entries' label texts, back to back */
	size_t llen, lcap;
} metric_journal;

/* ---- steps ---------------------------------------------------------------- */

typedef int (*engine_step_fn)(engine *e, void *arg, int64_t now);
/* Runs fn in a savepoint of the cycle's transaction. On failure its writes,
 * the jobs it launched and the metrics it counted are undone. WEFT_ERETRY
 * (another node's transaction holds a lock it needs, or waits for one this
 * cycle holds) is not retried here: only the commit releases this cycle's
 * locks, so callers put the step back for the next cycle. */
int engine_step(engine *e, engine_step_fn fn, void *arg, int64_t now);

/* The retention pass's step for events and hook deliveries
 * (parts/trigger_retention.c). */
int retention_triggers_step(engine *e, void *arg, int64_t now);

/* Items of several kinds (commands of several ops, jobs of several ops,
 * deadlines of several kinds) applied a kind at a time: the items of one
 * kind (key) in one step by `many` when the kind has it (has_many of its
 * first item) and there is more than one, the kinds in the order of their
 * first item, each kind's items in their order. When that step fails with
 * WEFT_ERETRY (or WEFT_EUNAVAILABLE) every item of the kind gets that
 * outcome (a conflict's items are put back by the caller); when it fails
 * otherwise (an error, or WEFT_ECONFLICT: the set's outcome could depend
 * on its order), its items are applied one at a time by `one`, each in a
 * step of its own. `done` learns each item's outcome, once. */
typedef struct engine_group_ops {
	const void *(*key)(const void *item);
	bool (*has_many)(const void *item);
	int (*many)(engine *e, void **items, size_t n, int64_t now);
	int (*one)(engine *e, void *item, int64_t now);
	void (*done)(engine *e, void *item, int rc);
} engine_group_ops;
void engine_apply_groups(engine *e, void *const *items, size_t n, const engine_group_ops *ops, int64_t now);

/* Test-only fault injection (unit tests): the next `fail_commits` commits
 * are rolled back as if they had failed; a step of the part named
 * `fail_part` fails once with WEFT_ESTORE; with `doubt`, the next commit
 * commits (doubt_committed) or rolls back and is then reported in doubt
 * (WEFT_EINDOUBT), and its resolution finds the database out of reach
 * `doubt_unreachable` times before it learns the outcome. */
typedef struct engine_faults {
	int fail_commits;
	const char *fail_part;
	bool doubt;
	bool doubt_committed;
	int doubt_unreachable;
} engine_faults;

/* ---- the engine ----------------------------------------------------------- */

/* A command that keeps losing lock conflicts to other nodes fails after
 * this many cycles. */
#define ENGINE_MAX_CONFLICTS 50
/* The database was unreachable: wait this long before trying again unless
 * a request comes in (each request tries at once and gets its 503). */
#define ENGINE_UNAVAILABLE_BACKOFF_US (250 * 1000LL)

/* What one cycle works on, and what it leaves to engine.c. */
typedef struct cycle_state {
	uint64_t seq;               /* cycles run, this one included */
	int64_t now;
	unsigned remote;            /* STORE_WAKE_* bits heard since the last cycle */
	unsigned notify;            /* STORE_WAKE_* bits for the other nodes at commit */
	const char *part;           /* the part running (fault injection, logs) */
	engine_cmd **cmds;          /* taken from the queue */
	size_t ncmds;
	engine_cmd **answer;        /* applied or failed: answered after the cycle */
	size_t nanswer, answer_cap;
	engine_cmd **retry;         /* lost a conflict: back to the queue's head */
	size_t nretry, retry_cap;
	engine_job **jobs;          /* came back: applied by the results part */
	size_t njobs, jobs_cap;
	engine_cmd **abandoned;     /* whose callers went away: compared, never read */
	size_t nabandoned, abandoned_cap;
} cycle_state;

struct engine {
	engine_config cfg;
	store *st;
	store_conn *w;             /* the writer connection */
	dispatcher *disp;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	clock_waiter waiter;       /* the engine thread waits through the clock */
	engine_cmd **queue;        /* under mu */
	size_t qlen, qcap;         /* under mu */
	engine_job **done;         /* jobs back from their launch, under mu */
	size_t dlen, dcap;         /* under mu */
	bool stopping;             /* under mu */
	unsigned remote_wake;      /* STORE_WAKE_* bits from the listener, under mu */
	engine_cmd **abandoned;    /* engine_abandon(), under mu */
	size_t nabandoned, abandoned_cap;
	engine_faults faults_next; /* under mu: taken by the next cycle */
	bool faults_set;           /* under mu */
	engine_stats stats;        /* under mu */
	engine_commit_fn on_commit;   /* under commit_mu */
	void *on_commit_arg;
	pthread_mutex_t commit_mu;

	cycle_state cycle;
	engine_job **fx;           /* launched by this cycle's steps */
	size_t nfx, fxcap;
	metric_journal metrics;
	int64_t backoff_until;     /* the database was unreachable: no retries before */
	const char *actor;         /* who causes the current changes (audit trail) */
	engine_faults faults;

	/* Many nodes on one database (store_shared). */
	bool shared;
	bool leader;               /* this node runs the leader-only parts and deadlines */

	/* A cycle whose COMMIT's outcome is unknown, parked until it is known
	 * (in_doubt.c). While parked no cycle begins: the parts' state, the
	 * jobs to launch (fx), the metric journal and the cycle's commands
	 * (cycle) stay as the commit left them. */
	struct {
		bool parked;
		bool injected;             /* by the doubt fault: resolved from faults */
		int64_t since;             /* clock time it was parked */
		int64_t next_try;          /* no attempt to resolve it before */
		int attempts;
		engine_cmd **refused;      /* taken while parked: answered at once */
		size_t refused_cap;
	} doubt;

	/* Tasks whose start is in flight (jobs with holds_task). */
	id_set start_tasks;
	/* Per-engine state of each registered executor (executors.c). */
	void **exec_state;

	/* The parts' state; each is touched only by its own file. */
	struct {
		bool dirty;                /* something may have become startable */
		bool held;                 /* the last pass left pending tasks behind (rules, room) */
		int64_t retry_at;          /* another node held a rule lock: look again then */
		int64_t delayed_armed;     /* the delayed-start deadline in the heap, INT64_MAX = none */
		size_t started;            /* tasks claimed this cycle */
		explained_set explained;   /* tasks whose block was logged */
	} start;
	struct {
		bool dirty;                /* deliveries may be due: lease in this cycle */
		bool held;                 /* the last lease left due rows behind */
		int64_t next_due;          /* INT64_MAX = nothing undelivered */
		engine_window window;
	} outbox;
	struct {
		id_set touched;            /* batches with a task that ended */
		id_set checking;           /* checked by this cycle: kept until it commits */
		int64_t retry_at;          /* a check failed: the next one by then */
	} batches;
	struct {
		int64_t next_us;
	} sweep, retention, idempotency;
	struct {
		int64_t next_us;           /* the end of the current step */
		char node[WEFT_ID_LEN + 1];   /* this process's rows */
	} history;
	deadline_state deadlines;
	struct {
		struct cmd_job_claim **parked;   /* waiting for jobs, oldest first */
		size_t nparked, cap;
		struct cmd_job_claim **answered; /* taken off `parked` by this cycle */
		size_t nanswered, answered_cap;
		bool dirty;                /* jobs may have become claimable */
		int64_t due;               /* the earliest delayed job of their queues, INT64_MAX = none */
		/* Queues with limits (commands/queues.c): met by claims, and when
		 * their next token comes or a held lock is tried again. */
		struct engine_limited_queue *limited;
		size_t nlimited;
		int64_t limit_due;         /* INT64_MAX = none */
	} claims;
	/* Log lines waiting to be written (task_logs.c; its own lock). */
	struct task_logs_state *logs;
	struct engine_job **retry_jobs;   /* results put back after a conflict */
	size_t nretry_jobs, retry_jobs_cap;
};

/* ---- the end of a cycle, and a commit in doubt ---------------------------- */

/* After the commit (rc 0) or a failure (rc the error): launches the jobs
 * and applies the metrics, or drops them; tells every part; answers the
 * commands (with rc when it failed) and puts back those that lost a
 * conflict. */
void engine_cycle_end(engine *e, int rc);

/* in_doubt.c. The cycle's commit answered WEFT_EINDOUBT: park it. */
void in_doubt_park(engine *e, int64_t now);
/* Parked: one attempt to learn the outcome; when known (or given up:
 * `last`, or parked for too long), ends the parked cycle through
 * engine_cycle_end and returns true. */
bool in_doubt_try(engine *e, bool last);

/* ---- services of the parts to the rest of the engine --------------------- */

/* The wake-ups for a change this cycle writes also tell the other nodes
 * at commit (parts/notify.c).
 *
 * parts/start.c: something may have become startable (a task became
 * pending, rules changed). */
void engine_wake_starts(engine *e);
/* parts/start.c: a claimed or running task left, capacity was freed: the
 * tasks the last start pass held back, if any, may start now. */
void engine_wake_held_starts(engine *e);
/* parts/start.c: an executor has room again (a local matter): the tasks
 * the last start pass held back, if any, may start now. */
void engine_start_slot_freed(engine *e);
/* parts/deliveries.c: outbox rows may be due (a row was written). */
void engine_wake_deliveries(engine *e);
/* parts/deliveries.c: a start call or a delivery came back: the rows the
 * last lease left behind (held back by that start, or for lack of room),
 * if any, may be leased now. */
void engine_wake_held_deliveries(engine *e);
/* parts/deliveries.c: a delivery's retry is due at `at`. */
void engine_delivery_due(engine *e, int64_t at);
/* parts/deliveries.c: how many rows written now may be leased as they are
 * written (engine_delivery_launch): the window's room, or 0 while older
 * rows may be waiting for a lease (they go first). */
size_t engine_deliveries_room_now(const engine *e, int64_t now);
/* parts/deliveries.c: whether a row of task (or none) must wait: the
 * task's start is in flight, and the service must see it first. */
bool engine_delivery_held(const engine *e, const weft_id *task);
/* parts/deliveries.c: launches a leased row (borrowed) after the commit;
 * its outcome names it by id, or by key when the id is 0. */
void engine_delivery_launch(engine *e, const outbox_row *o);
/* parts/batches.c: a task of `batch` ended; check it at the end of the cycle. */
void engine_touch_batch(engine *e, const weft_id *batch);
/* parts/claims.c: jobs may have become claimable (an enqueue, a release,
 * a lost lease): parked claims look again in this cycle, and other nodes
 * hear STORE_WAKE_QUEUE. */
void engine_claims_wake(engine *e);
/* parts/claims.c: the worker (ns, worker_id) was told to drain: its
 * parked claims are answered after the commit, with no jobs and drain. */
void engine_claims_drain(engine *e, const char *ns, const char *worker_id);
/* parts/claims.c: a command applied with cmd->parked set (a claim that got
 * no job and may wait): kept until its part answers it. */
void engine_park_command(engine *e, engine_cmd *cmd);
/* parts/claims.c: how many claims are parked now. */
size_t engine_claims_parked(const engine *e);
/* engine.c: answers cmd after this cycle's commit, as the commands taken
 * by the cycle are (a parked command whose part is done with it). */
void engine_answer_later(engine *e, engine_cmd *cmd);

/* commands/queues.c: a queue with limits that claims met. */
typedef struct engine_limited_queue {
	char ns[NAMESPACE_MAX + 1];
	char queue[TASK_KIND_MAX + 1];
} engine_limited_queue;
/* commands/queues.c: claims one queue for the ranges: the plain claim, or
 * the limited one when the queue has limits (and is not paused). */
int job_claim_queue(engine *e, const char *ns, const char *q, int64_t now, const job_claim_range *r, size_t nr,
                    job_claimed_row **rows, size_t *n);
/* commands/queues.c: whether this cycle ended a job attempt of a limited
 * queue the engine met (a slot may have freed). */
bool engine_limited_slot_freed(engine *e);

/* commands/jobs.c: claims for a set of claim commands, oldest first
 * (their earlier jobs released first; a draining worker's claim takes
 * nothing): one claim statement per queue and round; their job_lease
 * deadlines armed. */
struct cmd_job_claim;
int job_claims_apply(engine *e, struct cmd_job_claim **claims, size_t n, int64_t now);
/* commands/jobs.c: how a failed attempt of job t goes on: *attempt and
 * *next_at for a retry (true), or false when it fails for good (not
 * retryable, its code non-retryable, or no retry left). retry_after_us
 * >= 0 replaces the computed delay, capped at the policy's maximum. */
bool job_retry_plan(const task_row *t, const char *code, bool retryable, int64_t retry_after_us, int64_t now,
                    int32_t *attempt, int64_t *next_at);
/* commands/jobs.c: Ends held attempts: each is read (locked), planned (retry or dead
 * letter) and changed by one fenced statement for the set; the attempts
 * go to the error history. Used by the fail command (cause: the worker's
 * error) and by the job_lease deadline (timeout, lost lease). */
struct job_visibility;
typedef struct attempt_end {
	weft_id id;
	int64_t token;
	const char *code;
	const char *message;
	const char *details;
	bool retryable;
	int64_t retry_after_us;
	job_attempt_outcome how;     /* failed, timed_out, lease_expired */
	bool requeue;                /* a lost lease with retries left: pending at once */
	const char *actor;
	const struct job_visibility *vis;   /* the namespaces the caller may touch (NULL: any) */
	/* out */
	bool applied;
	bool retried;                /* retrying (or pending again with requeue) */
	int64_t next_attempt_at;
} attempt_end;
int job_attempts_end(engine *e, attempt_end *a, size_t n, int64_t now);

/* outbox.c */
/* The webhooks of a task's (trigger, condition): one outbox delivery per
 * action, rendered from the task's metadata and enriched with its state.
 * `row` is the task as it is now (borrowed). */
typedef struct task_webhooks {
	const task_row *row;
	action_trigger trig;
	action_condition cond;
} task_webhooks;
/* Writes the deliveries of every request of the set, reading their
 * actions in one statement and inserting the rows in one more. */
int outbox_add_task_webhooks(engine *e, const task_webhooks *reqs, size_t n, int64_t now);
/* Writes the on_batch_complete deliveries of the batches that just
 * completed. */
int outbox_add_batch_webhooks(engine *e, const batch_completion *done, size_t n, int64_t now);
int64_t outbox_backoff_us(const engine *e, int32_t attempt);

/* commands/tasks.c: one task's cancel, pause and resume, shared with the
 * group commands. Each returns 0 (res says whether it applied and the
 * status before), WEFT_ENOTFOUND, or an error. */
int task_cancel_one(engine *e, const weft_id *id, const char *reason, int64_t now, task_update_result *res);
int task_pause_one(engine *e, const weft_id *id, task_update_result *res);
/* *now_status: the status the task has afterwards. */
int task_resume_one(engine *e, const weft_id *id, int64_t now, task_update_result *res, task_status *now_status);

/* What one round of a set of changes (store_each_round) works with: the
 * engine, the set's items (of the caller's type) and the time. */
typedef struct engine_round {
	engine *e;
	void *items;
	int64_t now;
} engine_round;

/* task_run.c */
/* The same guarded update u of every task of ids (u->after is not used):
 * res[i] (required) its outcome, after[i] (optional) its row afterwards
 * when applied. */
int engine_update_tasks(engine *e, const weft_id *ids, size_t n, unsigned from_mask, const task_update *u,
                        task_update_result *res, task_row *after);
/* claimed -> running for a set of tasks (applied[i] says whether ids[i]
 * was claimed), arming their inactivity timeouts. */
int engine_tasks_running(engine *e, const weft_id *ids, size_t n, int64_t now, bool *applied);
/* Running tasks stopped being wanted (canceled, timed out, dead ends):
 * their executors tell the remote side. `rows`: the tasks after their
 * transitions (borrowed). */
int engine_tasks_cancel_remote(engine *e, const task_row *rows, size_t n, int64_t now);
/* The same for one task, read when `row` is NULL. */
int engine_task_cancel_remote(engine *e, const weft_id *id, const task_row *row, int64_t now);

/* dag.c */
/* After the tasks `rows` (after their transitions, terminal; borrowed)
 * ended: propagate to their children (one failure cascade for all of
 * them, one release), queue the webhooks of cascade-failed children,
 * cancel dead-end ancestors level by level, and mark their batches for the
 * completion check. WEFT_ECONFLICT when the outcome of the set could
 * depend on the order of its members (two of them failed into the same
 * part of the graph while dead ends are canceled): the caller's step must
 * be rolled back and its members applied one at a time. */
int dag_after_terminal(engine *e, const task_row *rows, size_t n, int64_t now);
/* Claimed/running tasks failing for a cause. */
typedef struct fail_req {
	weft_id id;
	unsigned from_mask;
	const char *reason;         /* borrowed */
	unsigned cause;             /* a retry_cause bit, 0 = never retried */
	bool touch_last_updated;
	/* out */
	bool found;                 /* the task exists */
	bool applied;               /* its status was in from_mask */
	bool retried;               /* it went to retrying */
	task_row after;             /* when applied: the row afterwards (fail_reqs_release) */
} fail_req;
/* Each task with retries left under its policy goes to retrying;
 * otherwise to failure with its reason, its on_failure webhooks and
 * dag_after_terminal. A task given twice fails twice in order (the second
 * sees what the first left). With keep_after the rows afterwards stay in
 * the requests (fail_reqs_release). 0, WEFT_ECONFLICT as
 * dag_after_terminal, or an error. */
int dag_fail_tasks(engine *e, fail_req *reqs, size_t n, bool keep_after, int64_t now);
void fail_reqs_release(fail_req *reqs, size_t n);
/* Tasks that reached a terminal status (rows after, borrowed): the
 * decisions among them resolved (dag_decisions_resolve), their end
 * webhooks (on_success or on_failure by status), then
 * dag_after_terminal with the decisions' skip cascade. */
int dag_tasks_ended(engine *e, const task_row *rows, size_t n, int64_t now);

/* decisions.c */
/* The children the decisions did not choose: seeds[i] was not chosen by
 * deciders[i]. */
typedef struct decision_seeds {
	weft_id *seeds, *deciders;
	size_t len, cap;
} decision_seeds;
/* The rows that ended as the rest of their end sees them: `rows` itself
 * when no decision is among them, else a copy in which a decision whose
 * result is no decision has failed (owned[i]: its row is the view's). */
typedef struct decision_view {
	task_row *rows;
	bool *owned;
	size_t n;
	decision_seeds seeds;
} decision_view;
/* Every decision task of `rows` that succeeded: its result is checked
 * against its children; a valid one gives the children it did not choose
 * (still waiting or paused) as seeds, an invalid one fails the task with
 * error code invalid_decision (not retried). */
int dag_decisions_resolve(engine *e, const task_row *rows, size_t n, int64_t now, decision_view *v);
void dag_decisions_release(decision_view *v);
/* Rows sorted by id, and the row of an id among them (NULL: none). */
void task_rows_sort(task_row *rows, size_t n);
const task_row *task_rows_find(const task_row *rows, size_t n, const weft_id *id);
/* Whether a failure for `cause` should be retried; fills the retrying
 * update's fields (attempt, next_retry_at) when it should. */
bool dag_should_retry(engine *e, const task_row *t, unsigned cause, int64_t now, task_update *u);

/* deadlines/tasks.c: on a shared database, the due deadlines of one kind
 * from the page of due task timers read once per cycle (store_timers_due):
 * the rows in `status`, job leases or not; and the earliest of them all. */
int task_timers_due(engine *e, task_status status, bool lease, const deadline_kind *kind, int64_t now, size_t limit,
                    deadline **out, size_t *n, bool *more);
int task_timers_next(engine *e, int64_t *due);

/* engine_metrics.c: defines the engine's own metrics and every command
 * family's (commands/families.c). */
void engine_metrics_define(void);
void metric_journal_apply(metric_journal *j);
void metric_journal_truncate(metric_journal *j, size_t mark);
void metric_journal_release(metric_journal *j);

#endif
