/*
 * triggers.h — the commands of incoming webhooks, events and
 * subscriptions (store/triggers.h). Each start of a target goes through
 * engine/targets.h in the command's transaction, with the row that makes
 * it happen once: a hook's delivery id, an event's (event, subscription)
 * delivery.
 */
#ifndef WEFT_ENGINE_COMMANDS_TRIGGERS_H
#define WEFT_ENGINE_COMMANDS_TRIGGERS_H

#include "engine/engine.h"
#include "store/triggers.h"

/* base.result: 0, or WEFT_ECONFLICT when the name is taken. row: every
 * field but the times (borrowed). */
typedef struct cmd_hook_create {
	engine_cmd base;
	hook_row row;
} cmd_hook_create;
void cmd_hook_create_init(cmd_hook_create *c);

/* Deletes a hook (secret NULL), or replaces its secret. base.result: 0 or
 * WEFT_ENOTFOUND. */
typedef struct cmd_hook_change {
	engine_cmd base;
	const char *namespace, *name;   /* borrowed */
	const char *secret;             /* rotate: the new secret; NULL: delete */
} cmd_hook_change;
void cmd_hook_delete_init(cmd_hook_change *c);
void cmd_hook_rotate_init(cmd_hook_change *c);

/* A verified delivery of a hook: starts its target with input, once per
 * delivery_id within the hook's replay window. base.result: 0,
 * WEFT_ENOTFOUND (the hook is gone), WEFT_EINVALID (its target cannot be
 * started). duplicate: the delivery was seen, run_id is the run the first
 * one started. */
typedef struct cmd_hook_deliver {
	engine_cmd base;
	const char *namespace, *name, *delivery_id, *input;   /* borrowed */
	char run_id[40];                                       /* out; "" when none */
	bool duplicate;                                        /* out */
} cmd_hook_deliver;
void cmd_hook_deliver_init(cmd_hook_deliver *c);

/* The most subscriptions a namespace has: one event's fan-out starts at
 * most this many runs in its transaction. */
#define SUBSCRIPTIONS_PER_NAMESPACE_MAX 1000

/* base.result: 0, WEFT_ECONFLICT when the name is taken, WEFT_ETOOLARGE
 * when the namespace has SUBSCRIPTIONS_PER_NAMESPACE_MAX already. */
typedef struct cmd_subscription_create {
	engine_cmd base;
	subscription_row row;           /* borrowed; created_at set by the engine */
} cmd_subscription_create;
void cmd_subscription_create_init(cmd_subscription_create *c);

/* base.result: 0 or WEFT_ENOTFOUND. */
typedef struct cmd_subscription_delete {
	engine_cmd base;
	const char *namespace, *name;
} cmd_subscription_delete;
void cmd_subscription_delete_init(cmd_subscription_delete *c);

/* Records the event (every event, with a subscriber or not) and starts
 * the target of each matching subscription once. An id published already
 * records nothing and starts nothing: created is false. */
typedef struct cmd_event_publish {
	engine_cmd base;
	trigger_event ev;                   /* borrowed; created_at set by the engine */
	bool created;                   /* out */
	size_t started;                 /* out: runs started */
} cmd_event_publish;
void cmd_event_publish_init(cmd_event_publish *c);

/* Publishes ev inside the caller's transaction (a task's emit on its
 * end): as cmd_event_publish. */
int trigger_publish(engine *e, const trigger_event *ev, int64_t now, bool *created, size_t *started);

/* The emits of the tasks `rows` that ended (terminal; those whose shape
 * has TASK_SHAPE_EMIT are looked up) whose condition their status meets:
 * each publishes its event, in the caller's transaction, its id
 * "task:<id>:<attempt>" (an end applied again publishes nothing more),
 * its payload the task's result (success) or {"status", "code",
 * "message"} (otherwise). */
struct task_row;
int trigger_emit_ended(engine *e, const struct task_row *rows, size_t n, int64_t now);

#endif
