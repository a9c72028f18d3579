/*
 * metrics_history.h — the rows of what the server counted, one a minute
 * per node (table metrics_history, migration 0020).
 */
#ifndef WEFT_STORE_METRICS_HISTORY_H
#define WEFT_STORE_METRICS_HISTORY_H

#include "store/store.h"

typedef struct metrics_sample {
	int64_t at;                  /* µs: the start of the step */
	int64_t created, completed, failed, retried;
	int64_t latency_p50_ms, latency_p95_ms, latency_p99_ms;   /* -1: nothing started */
	int64_t queue_depth, running;
} metrics_sample;

int store_metrics_history_add(store_conn *c, const char *node, const metrics_sample *s);
/* Minutes in [since, until), oldest first, at most limit: the nodes' rows
 * of a minute summed (queue depth and running: the largest, as every node
 * sees the same). */
int store_metrics_history_list(store_conn *c, int64_t since, int64_t until, size_t limit, metrics_sample **out,
                               size_t *n);
/* Deletes at most limit rows older than before. */
int store_metrics_history_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed);

#endif
