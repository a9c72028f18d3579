/*
 * queues.h — queues in the store: configuration, figures and the claim of
 * a limited queue (queues.c, queue_limits.c). Part of the store's interface
 * (store.h states its conventions).
 */
#ifndef WEFT_STORE_QUEUES_H
#define WEFT_STORE_QUEUES_H

#include "store/jobs.h"

/* ---- queues: configuration, figures and limits (store/queues.c, queue_limits.c) ---- */

/* A queue's limits; 0 = none. */
typedef struct queue_limits {
	int64_t concurrency;         /* jobs of the queue running at once */
	int64_t key_concurrency;     /* jobs of one concurrency_key running at once */
	int64_t rate_limit;          /* claims per rate_period_ms, per rate key (a token bucket) */
	int64_t rate_period_ms;
	int64_t rate_burst;          /* the bucket's size */
} queue_limits;
bool queue_limits_any(const queue_limits *l);

/* A queue row. Strings owned (queue_row_release). */
typedef struct queue_row {
	char *namespace, *name;
	bool paused;
	queue_limits limits;
	int64_t created_at, updated_at;
	char *updated_by;            /* the actor of the last change of configuration; NULL = none */
} queue_row;
void queue_row_release(queue_row *q);
void store_free_queues(queue_row *rows, size_t n);

/* One queue: WEFT_ENOTFOUND when it has no row (no job was ever enqueued
 * and it was never configured). */
int store_queue_get(store_conn *c, const char *ns, const char *name, queue_row *out);
/* Queues of the namespaces ns[0..nns-1] (ns NULL: all), in (namespace,
 * name) byte order, after (after_ns, after_name) ("" for the first page). */
int store_queue_list(store_conn *c, const char *const *ns, size_t nns, const char *after_ns, const char *after_name,
                     size_t limit, queue_row **out, size_t *n);

/* A change of a queue's configuration, recorded in queue_event with its
 * actor. The row is created when missing. */
enum { QUEUE_SET_CONCURRENCY = 1, QUEUE_SET_KEY_CONCURRENCY = 2, QUEUE_SET_RATE = 4 };
typedef struct queue_update {
	const char *ns, *name;
	int paused;                  /* 1 pause, 0 resume, -1 keep */
	queue_limits limits;         /* the fields named by `set`; 0 removes a limit */
	unsigned set;                /* QUEUE_SET_* */
	const char *actor, *action;  /* "token:<name>"; "pause", "resume", "configure" */
	const char *detail;          /* JSON text of what changed, NULL = none */
} queue_update;
int store_queue_update(store_conn *c, const queue_update *u, int64_t now);

/* The trail of a queue's configuration, newest first. Owned strings. */
typedef struct queue_event {
	int64_t at;
	char *actor, *action, *detail;
} queue_event;
int store_queue_events(store_conn *c, const char *ns, const char *name, size_t limit, queue_event **out, size_t *n);
void store_free_queue_events(queue_event *ev, size_t n);

/* Figures of a queue at `now`. Windows: the last 1, 5 and 15 minutes, in
 * whole minutes (the current one and those before it). `paused` is left 0:
 * the ready jobs of a paused queue are its paused ones (the caller, who
 * has the queue row, moves them). */
#define QUEUE_WINDOWS 3
typedef struct queue_stats {
	int64_t ready, scheduled, running, retrying, paused, dead;
	int64_t oldest_ready_at;     /* start_after of the oldest ready job; 0 = none */
	int64_t completed[QUEUE_WINDOWS], failed[QUEUE_WINDOWS], dead_lettered[QUEUE_WINDOWS];
} queue_stats;
int store_queue_stats(store_conn *c, const char *ns, const char *name, int64_t now, queue_stats *out);
int queue_stats_window_minutes(int w);
/* Drops throughput rows older than any window reads (leader's retention). */
int store_queue_stats_expire(store_conn *c, int64_t now);
/* Whether the writer's transaction ended an attempt of a job of (ns,
 * queue) so far: a slot of a limited queue may have freed. */
bool queue_stats_noted(const store_conn *c, const char *ns, const char *queue);

/* The claim of a limited queue: up to the ranges' demand, in claim order,
 * as far as the limits allow. Call with the queue's lock held
 * (store_queue_lock). With info->clock set, the claims' time (started_at,
 * and the buckets') is read from it after the running counts, never before
 * now: a claim that took a slot another node freed then starts after that
 * node's end, also by the timestamps. */
typedef struct limited_claim_info {
	int64_t (*clock)(void);      /* in: NULL = `now` */
	bool blocked;                /* a limit held rows back */
	int64_t next_token_at;       /* when a held-back bucket has a token; INT64_MAX = none */
} limited_claim_info;
int store_jobs_claim_limited(store_conn *c, const char *ns, const char *queue, const queue_limits *l, int64_t now,
                             const job_claim_range *r, size_t nr, job_claimed_row **out, size_t *n,
                             limited_claim_info *info);
/* The queue's lock for the rest of the transaction, tried (PostgreSQL);
 * always granted with one writer (SQLite). */
int store_queue_lock(store_conn *c, const char *ns, const char *queue, bool *got);

#endif
