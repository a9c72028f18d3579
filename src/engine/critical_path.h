/*
 * critical_path.h — the longest paths through a batch's DAG (the ArcRun
 * issue "critical-path analysis endpoint"). Pure: no store, no clock.
 *
 * Two paths are computed over the tasks and links that store_dag() returns:
 *   by_depth     the path with the most tasks;
 *   by_duration  the path with the largest sum of task durations, where a
 *                task's duration is ended_at - started_at when it ended,
 *                now - started_at while it is claimed or running, and 0
 *                when it never started.
 * Every path starts at a root (a task without parents in the batch) and
 * follows links parent -> child.
 *
 * Ties are broken deterministically: the path whose root was created
 * first, then the root with the lower id; then (same root) the path whose
 * last differing task was created first / has the lower id. by_duration
 * prefers, among equal sums, the path with more tasks first.
 *
 * Linear time: a Kahn topological sort over the links, then one dynamic
 * programming pass. The links may come in any order; links naming a task
 * that is not in the list are ignored, and so are tasks on a cycle (there
 * are none in a valid DAG).
 */
#ifndef WEFT_CRITICAL_PATH_H
#define WEFT_CRITICAL_PATH_H

#include "util/common.h"
#include "store/model.h"

typedef struct critical_path {
	size_t *by_depth;          /* indices into the tasks array, root first; owned */
	size_t ndepth;
	size_t *by_duration;       /* same */
	size_t nduration;
	int64_t duration_us;       /* sum of the durations along by_duration */
} critical_path;

/* A task's duration in µs as defined above (never negative). */
int64_t critical_path_task_duration(const task_row *t, int64_t now);

/* Fills *out (released with critical_path_release). With no task the
 * paths are empty. Returns 0. */
int critical_path_compute(const task_row *tasks, size_t ntasks, const link_row *links, size_t nlinks,
                          int64_t now, critical_path *out);
void critical_path_release(critical_path *cp);

#endif
