/*
 * timers.h — the engine's deadlines: a binary min-heap ordered by due time.
 *
 * Entries are hints, not truth: when one falls due the engine re-reads the
 * task and either acts or re-arms it with the current deadline. So a task's
 * deadline never has to be updated in the heap when its last_updated moves
 * (PATCH, PUT heartbeat); the stale entry is simply re-armed when popped.
 * Owned by the engine thread; not thread-safe.
 */
#ifndef WEFT_TIMERS_H
#define WEFT_TIMERS_H

#include "../util/common.h"
#include "core/id.h"

typedef enum timer_kind {
	TIMER_CLAIM_STALE,     /* a claimed task whose start has not answered */
	TIMER_RUN_TIMEOUT,     /* a running task's inactivity timeout */
	TIMER_RETRY,           /* a retrying task's backoff is over */
} timer_kind;

typedef struct timer_entry {
	int64_t due_us;        /* wall clock µs */
	timer_kind kind;
	weft_id task_id;
} timer_entry;

typedef struct timer_heap {
	timer_entry *items;
	size_t len, cap;
} timer_heap;

void timers_init(timer_heap *h);
void timers_release(timer_heap *h);
void timers_push(timer_heap *h, int64_t due_us, timer_kind kind, const weft_id *task);
/* Earliest due time, or INT64_MAX when empty. */
int64_t timers_next_due(const timer_heap *h);
/* Pops the earliest entry if it is due at `now`; returns false otherwise. */
bool timers_pop_due(timer_heap *h, int64_t now, timer_entry *out);

#endif
