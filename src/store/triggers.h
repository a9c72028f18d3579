/*
 * triggers.h — incoming webhooks, events and subscriptions in the store
 * (schema 0017: tables hook, hook_delivery, event, subscription,
 * event_delivery). Writes come from the engine, in the transaction of the
 * command that starts a run, so a delivery and the run it started are
 * recorded together; reads from any connection.
 */
#ifndef WEFT_STORE_TRIGGERS_H
#define WEFT_STORE_TRIGGERS_H

#include "store/store.h"

typedef struct hook_row {
	char *namespace, *name;
	char *target_kind;        /* "job", "workflow" or "template" */
	char *target;             /* canonical JSON of what a delivery starts */
	char *scheme;             /* "weft" or "github" */
	char *secret;
	int64_t replay_window_secs;
	int64_t deliveries;
	int64_t last_delivery_at; /* µs; 0 = never */
	int64_t created_at, updated_at;
} hook_row;
void hook_row_release(hook_row *h);
void store_free_hooks(hook_row *rows, size_t n);

/* *created false when the name is taken in its namespace. */
int store_hook_insert(store_conn *c, const hook_row *h, bool *created);
/* The hook, or WEFT_ENOTFOUND. */
int store_hook_get(store_conn *c, const char *namespace, const char *name, hook_row *out);
/* At most limit hooks of namespace by name, after `after` (NULL: first). */
int store_hook_list(store_conn *c, const char *namespace, const char *after, size_t limit, hook_row **out,
                    size_t *n);
/* Deletes the hook and the deliveries it remembers. */
int store_hook_delete(store_conn *c, const char *namespace, const char *name, bool *found);
int store_hook_set_secret(store_conn *c, const char *namespace, const char *name, const char *secret, int64_t now,
                          bool *found);

/* Claims delivery_id of a hook at now, kept until expires_at (the
 * deliveries of the hook that expired are forgotten first). *fresh false:
 * it was seen within the window, *run_id (owned, may be NULL) the run it
 * started. */
int store_hook_delivery_claim(store_conn *c, const char *namespace, const char *hook, const char *delivery_id,
                              int64_t now, int64_t expires_at, bool *fresh, char **run_id);
/* Records the run a claimed delivery started, and counts it on the hook. */
int store_hook_delivery_started(store_conn *c, const char *namespace, const char *hook, const char *delivery_id,
                                const char *run_id, const char *job_id, int64_t now);
/* Gives up a claimed delivery that started nothing, so that the id sent
 * again (once the target can start) is a fresh delivery. */
int store_hook_delivery_unclaim(store_conn *c, const char *namespace, const char *hook, const char *delivery_id);

/* Retention (trigger_retention.c): deletes up to limit events published
 * before `before`, with their deliveries (*events, *deliveries: how many
 * rows of each); and up to limit hook delivery ids expired at now. */
int store_events_expire(store_conn *c, int64_t before, size_t limit, int64_t *events, int64_t *deliveries);
int store_hook_deliveries_expire(store_conn *c, int64_t now, size_t limit, int64_t *deleted);

typedef struct trigger_event {
	char *namespace, *id, *topic;
	char *payload;            /* JSON text */
	char *source;             /* "api", or "task:<id>" for a task's emit */
	int64_t created_at;
} trigger_event;
void trigger_event_release(trigger_event *e);
void store_free_trigger_events(trigger_event *rows, size_t n);

/* *created false when the id is taken in its namespace (the event was
 * published already: nothing is written). */
int store_event_insert(store_conn *c, const trigger_event *ev, bool *created);
int store_event_get(store_conn *c, const char *namespace, const char *id, trigger_event *out);
/* Events of namespace, newest first, those before (before_at, before_id)
 * when before_id is not NULL; topic (NULL: any) filters exactly. */
int store_event_list(store_conn *c, const char *namespace, const char *topic, int64_t before_at,
                     const char *before_id, size_t limit, trigger_event **out, size_t *n);

typedef struct subscription_row {
	char *namespace, *name;
	char *topic;              /* as given: exact, or a prefix pattern ending in ".*" */
	char *prefix;             /* the pattern without its "*"; NULL: exact */
	char *target_kind, *target;
	int64_t created_at;
} subscription_row;
void subscription_row_release(subscription_row *s);
void store_free_subscriptions(subscription_row *rows, size_t n);

int store_subscription_insert(store_conn *c, const subscription_row *s, bool *created);
/* How many subscriptions namespace has. */
int store_subscription_count(store_conn *c, const char *namespace, int64_t *n);
int store_subscription_get(store_conn *c, const char *namespace, const char *name, subscription_row *out);
int store_subscription_list(store_conn *c, const char *namespace, const char *after, size_t limit,
                            subscription_row **out, size_t *n);
int store_subscription_delete(store_conn *c, const char *namespace, const char *name, bool *found);
/* The subscriptions of namespace whose pattern matches topic, by name. */
int store_subscriptions_matching(store_conn *c, const char *namespace, const char *topic,
                                 subscription_row **out, size_t *n);

typedef struct event_delivery_row {
	char *subscription, *target_kind;
	char *run_id, *job_id;    /* NULL: the target could not be started */
	char *outcome;            /* the run's status now, read from its row; "unknown" when gone */
	int64_t created_at;
} event_delivery_row;
void store_free_event_deliveries(event_delivery_row *rows, size_t n);

/* One delivery of an event as recorded: the run it started (NULL: none). */
typedef struct event_delivery_new {
	const char *subscription, *target_kind;
	const char *run_id, *job_id;
} event_delivery_new;
/* Records the n deliveries of a new event in one statement (a delivery
 * already there stays as it is). */
int store_event_deliveries_insert(store_conn *c, const char *namespace, const char *event_id,
                                  const event_delivery_new *d, size_t n, int64_t now);

/* The deliveries of an event, by subscription, each with its run's outcome. */
int store_event_deliveries(store_conn *c, const char *namespace, const char *event_id,
                           event_delivery_row **out, size_t *n);

/* A task's emit (TASK_SHAPE_EMIT): the event it publishes when it ends. */
typedef struct task_emit_row {
	weft_id task_id;
	char *namespace, *topic;
	char *on_end;             /* "success", "failure" or "end" */
	char *result;             /* the task's result (compact JSON), NULL = none */
} task_emit_row;
void store_free_task_emits(task_emit_row *rows, size_t n);

int store_task_emit_insert(store_conn *c, const weft_id *task_id, const char *namespace, const char *topic,
                           const char *on_end);
/* The emits of the tasks ids (those that have one), with their results. */
int store_task_emits(store_conn *c, const weft_id *ids, size_t n, task_emit_row **out, size_t *nout);

#endif
