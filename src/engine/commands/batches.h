/*
 * batches.h — the commands on a batch (a run): submitting one, stopping
 * it, replacing the rules of its tasks of one kind.
 */
#ifndef WEFT_ENGINE_COMMANDS_BATCHES_H
#define WEFT_ENGINE_COMMANDS_BATCHES_H

#include "engine/engine.h"

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

/* One task of a submitted batch, already validated by the front door. */
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
	char *executor;             /* owned: what runs it (exec/executor.h), NULL = the default */
	/* A queue task of a run (POST /v1/runs): its job fields, borrowed
	 * (commands/jobs.h; dedup is not used). NULL for a webhook task. Only
	 * name, metadata, priority, timeout_secs and deps above apply to it. */
	const struct job_spec *job;
	/* A run's task: its ref (borrowed; NULL elsewhere), and whether it is
	 * a decision (its success chooses which of its children run). */
	const char *ref;
	bool decision;
	/* A run's task that publishes an event when it ends: its topic
	 * (owned; NULL: none) and when ("success", "failure", "end"; static). */
	char *emit_topic;
	const char *emit_on;
	/* results */
	bool created;               /* false when dedup skipped it */
	weft_id id;
	task_status status;
	int64_t created_at;
	int32_t attempt;            /* 1: the first try */
} new_task;

/* Frees what a new_task owns (not the struct itself). */
void new_task_release(new_task *t);

/* Creates a batch and its tasks, links and actions. Tasks whose dedup
 * matchers find an existing task are skipped (their edges dropped). */
typedef struct cmd_submit {
	engine_cmd base;
	weft_id batch_id;           /* set by the caller */
	new_task *tasks;            /* owned by the caller; results written into them */
	size_t ntasks;
	const char *scope;          /* borrowed, may be NULL */
	const char *metadata;       /* borrowed JSON text, may be NULL */
	const char *on_complete;    /* borrowed JSON array text, may be NULL */
	const char *namespace;      /* borrowed: the run's and its tasks', NULL = "default" */
	const char *name;           /* borrowed: the run's name, NULL = none */
	size_t created;             /* result */
} cmd_submit;
void cmd_submit_init(cmd_submit *c);

/* Cancels every unfinished task of a batch. WEFT_ENOTFOUND: no task. */
typedef struct cmd_stop_batch {
	engine_cmd base;
	weft_id batch_id;
	batch_cancel_counts counts; /* result */
} cmd_stop_batch;
void cmd_stop_batch_init(cmd_stop_batch *c);

/* Replaces the rules of the batch's unfinished tasks of one kind. */
typedef struct cmd_batch_rules {
	engine_cmd base;
	weft_id batch_id;
	const char *kind;           /* borrowed */
	const char *rules;          /* borrowed JSON array text */
	int64_t updated;            /* result */
} cmd_batch_rules;
void cmd_batch_rules_init(cmd_batch_rules *c);

#endif
