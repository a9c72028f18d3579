/*
 * parts/sweep.c — the slow safety sweep (WORKER_LOOP_INTERVAL_MS): every
 * interval the start pass and the deliveries look again, whether or not
 * anything told them to. No latency depends on it; it only bounds how long
 * a missed wake-up could leave work waiting.
 */
#include "util/common.h"
#include "engine/cycle.h"

static void sweep_init(engine *e)
{
	e->sweep.next_us = INT64_MAX;
}

static int sweep_start(engine *e, int64_t now)
{
	if (e->cfg.sweep_interval_us > 0)
		e->sweep.next_us = now + e->cfg.sweep_interval_us;
	return 0;
}

static void sweep_run(engine *e, int64_t now)
{
	if (e->cfg.sweep_interval_us <= 0 || now < e->sweep.next_us)
		return;
	e->start.dirty = true;     /* a local look: nothing to tell the other nodes */
	e->outbox.dirty = true;
	e->claims.dirty = true;    /* parked job claims look again (a no-op without any) */
	e->sweep.next_us = now + e->cfg.sweep_interval_us;
}

static int64_t sweep_next_wake(const engine *e)
{
	return e->sweep.next_us;
}

const cycle_part part_sweep = {
	.name = "sweep",
	.init = sweep_init,
	.start = sweep_start,
	.run = sweep_run,
	.next_wake = sweep_next_wake,
};
