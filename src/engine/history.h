/*
 * history.h — the metrics history the server keeps (GET
 * /v1/metrics/history): every HISTORY_STEP_US the counts of the step
 * (tasks created, completed, failed, retried), the start latency's
 * percentiles and the queue depth and running tasks at its end; the last
 * hour of steps in memory, and a row a minute written to the database
 * (store/metrics_history.h) by the engine's history part, deleted after
 * METRICS_HISTORY_DAYS by the retention pass.
 *
 * The counts are what this process committed: metric_journal_apply hands
 * every counter and observation to history_note after the commit.
 * Completed and failed are the transitions to Success and Failure (every
 * kind of task reports them), retried tasks_retried_total, the latency
 * task_wait_seconds (creation to running) and job_claim_wait_seconds (a
 * job's claim). history_note_* and history_close_step are called on the
 * engine thread only; history_recent from any thread. On a shared database
 * each node writes its own rows; a minute's answer sums them.
 */
#ifndef WEFT_ENGINE_HISTORY_H
#define WEFT_ENGINE_HISTORY_H

#include "util/common.h"
#include "store/metrics_history.h"

#define HISTORY_STEP_US (10 * 1000000LL)
#define HISTORY_MINUTE_US (60 * 1000000LL)
#define HISTORY_MEMORY_STEPS 360      /* an hour */
/* Start latencies kept for a minute's percentiles (a uniform sample past it). */
#define HISTORY_LATENCY_SAMPLES 4096

/* Any thread: a committed counter (name, labels, by) or observation. */
void history_note_count(const char *name, const char *labels, uint64_t by);
void history_note_observe(const char *name, double value);

/* The engine's history part: closes the step that began at step_at with
 * the depth and running counts of now; *minute filled (true) when that
 * closed a minute. */
void history_close_step(int64_t step_at, int64_t queue_depth, int64_t running, metrics_sample *minute,
                        bool *closed_minute);

/* The steps kept in memory in [since, until), oldest first, at most max. */
size_t history_recent(int64_t since, int64_t until, metrics_sample *out, size_t max);

#endif
