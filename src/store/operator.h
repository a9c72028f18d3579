/*
 * operator.h — operator actions on tasks, dead letters and the worker
 * registry in the store (operator.c). Part of the store's interface
 * (store.h states its conventions).
 */
#ifndef WEFT_STORE_OPERATOR_H
#define WEFT_STORE_OPERATOR_H

#include "store/store.h"

/* ---- operator actions, dead letters, workers (store/operator.c) -------- */
/* Whether some task depends on `id` (a link from it). */
int store_task_has_children(store_conn *c, const weft_id *id, bool *has);
/* The columns an operator action sets beside its guarded status change
 * (store_task_update), on a row it just changed. Each flag leaves its
 * column as it is when false (0). */
typedef struct task_operator_fields {
	bool reopen;                 /* ended_at, ended_by NULL: the task is no longer ended */
	bool clear_dead;             /* dead_at NULL: no longer a dead letter */
	bool set_retry_base;         /* retry_base = retry_base (a fresh retry budget) */
	int32_t retry_base;
	int64_t start_after;         /* non-zero: startable (claimable) from then */
	bool clear_next_retry;       /* next_retry_at NULL */
	const char *result;          /* non-NULL: result (compact JSON) */
	bool clear_lease;            /* lease_until, worker_id NULL: the holder lost it */
} task_operator_fields;
int store_task_operator_fields(store_conn *c, const weft_id *id, const task_operator_fields *f);
/* An audit entry (from -> to) for an action that changed no status (a
 * pending task made startable now). */
int store_task_event_add(store_conn *c, const weft_id *id, int64_t at, task_status from, task_status to,
                         const char *reason, const char *actor);

/* Dead letters (jobs with dead_at set), newest first along (dead_at, id),
 * strictly after (after_dead_at, after_id) when after_dead_at is set. */
typedef struct dead_letter_filter {
	const char *namespace;       /* exact; NULL = those in visible */
	const char *const *visible;  /* NULL with namespace NULL: every namespace */
	size_t nvisible;
	const char *queue;           /* exact; NULL = any */
	int64_t after_dead_at;
	weft_id after_id;
	size_t limit;
} dead_letter_filter;
int store_dead_letters(store_conn *c, const dead_letter_filter *f, task_row **out, size_t *n);

/* A worker as the registry knows it. Strings owned (store_free_workers). */
typedef struct worker_row {
	char namespace[NAMESPACE_MAX + 1];
	char *id;
	char *hostname;              /* NULL = unknown */
	char *queues;                /* JSON array text of the queues it last claimed from */
	int64_t first_seen_at, last_seen_at;
	bool draining;
	int64_t in_flight;           /* jobs running under its leases now */
} worker_row;
/* Workers in (namespace, id) order, after (after_namespace, after_id)
 * when set; or the one worker `id`. */
typedef struct worker_filter {
	const char *namespace;       /* exact; NULL = those in visible */
	const char *const *visible;  /* NULL with namespace NULL: every namespace */
	size_t nvisible;
	const char *id;              /* one worker; NULL = a page */
	const char *after_namespace, *after_id;
	size_t limit;
} worker_filter;
int store_workers(store_conn *c, const worker_filter *f, worker_row **out, size_t *n);
void store_free_workers(worker_row *rows, size_t n);
/* Marks a worker as told to drain: its next claim gets no job and every
 * claim and heartbeat answers drain. *found false when no such worker. */
int store_worker_drain(store_conn *c, const char *ns, const char *id, bool *found);

#endif
