/*
 * parts/history.c — the metrics history's clock (engine/history.h): at the
 * end of every HISTORY_STEP_US step (on the wall clock, so that the steps
 * of every node line up) it closes the step with the queue depth and the
 * running tasks counted now, and when that ends a minute it writes the
 * minute's row, in a step of the cycle. Every node runs it, for its own
 * counts; the retention pass deletes the rows after METRICS_HISTORY_DAYS.
 */
#include "util/common.h"
#include "engine/cycle.h"
#include "engine/history.h"
#include "store/metrics_history.h"
#include "util/log.h"

static int64_t step_end(int64_t now)
{
	return now - now % HISTORY_STEP_US + HISTORY_STEP_US;
}

static void history_init(engine *e)
{
	e->history.next_us = INT64_MAX;
	weft_id node;
	id_new_v4(&node);
	snprintf(e->history.node, sizeof e->history.node, "%s", node.str);
}

static int history_start(engine *e, int64_t now)
{
	e->history.next_us = step_end(now);
	return 0;
}

static int write_minute(engine *e, void *arg, int64_t now)
{
	UNUSED(now);
	return store_metrics_history_add(e->w, e->history.node, arg);
}

static void history_run(engine *e, int64_t now)
{
	if (now < e->history.next_us)
		return;
	int64_t counts[TS__COUNT] = { 0 };
	if (store_status_counts(e->w, counts) != 0)
		log_warn("engine", "metrics history: the status counts could not be read");
	/* Steps the clock jumped over (a pause, a test clock) close empty. */
	while (e->history.next_us <= now) {
		metrics_sample minute;
		bool closed;
		history_close_step(e->history.next_us - HISTORY_STEP_US, counts[TS_PENDING],
		                   counts[TS_RUNNING] + counts[TS_CLAIMED], &minute, &closed);
		if (closed && engine_step(e, write_minute, &minute, now) != 0)
			log_warn("engine", "metrics history: the minute's row could not be written");
		e->history.next_us += HISTORY_STEP_US;
		if (now - e->history.next_us > HISTORY_MINUTE_US)
			e->history.next_us = step_end(now - HISTORY_STEP_US);
	}
}

static int64_t history_next_wake(const engine *e)
{
	return e->history.next_us;
}

const cycle_part part_history = {
	.name = "history",
	.init = history_init,
	.start = history_start,
	.run = history_run,
	.next_wake = history_next_wake,
};
