/*
 * queues.h — operator commands on a queue: pause, resume, and its limits
 * (a total concurrency limit, a per-key concurrency limit, a token-bucket
 * rate limit per rate key).
 *
 * A paused queue gives no jobs to claims: a claim that may wait stays
 * parked, and resume answers it at once (resume wakes the parked claims,
 * here and, through STORE_WAKE_QUEUE, on the other nodes). A change of
 * limits wakes them too (a raised limit may free slots).
 *
 * A queue without a row yet (no job was enqueued) is created by its first
 * change, so that limits can be set before the first job. Each change is
 * recorded with its actor in the queue's trail (table queue_event; the
 * queue row keeps the last actor as updated_by). An Idempotency-Key is
 * honoured (the recorded result is replayed; the answer shows the queue
 * as it is then).
 */
#ifndef WEFT_ENGINE_COMMANDS_QUEUES_H
#define WEFT_ENGINE_COMMANDS_QUEUES_H

#include "engine/engine.h"
#include "store/store.h"
#include "store/queues.h"

typedef enum queue_action { QUEUE_PAUSE, QUEUE_RESUME, QUEUE_CONFIGURE } queue_action;

typedef struct cmd_queue {
	engine_cmd base;
	queue_action action;
	const char *namespace;      /* borrowed, checked by the front door */
	const char *name;           /* borrowed, queue_name_valid() */
	/* QUEUE_CONFIGURE: the limits named by `set` (QUEUE_SET_*); 0 removes
	 * one. rate_limit with rate_period_ms and rate_burst, or 0. */
	queue_limits limits;
	unsigned set;
	const char *detail;         /* borrowed JSON text of the request, for the trail; NULL = none */
} cmd_queue;
void cmd_queue_init(cmd_queue *c, queue_action action);

#endif
