/*
 * parts/notify.c — on a shared database, a cycle that changed anything
 * tells the other nodes (store_notify: delivered at commit), which wakes
 * their engines as a local command would. Last in the cycle, so that it
 * knows whether anything changed.
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/cycle.h"

static int notify_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	UNUSED(now);
	return store_notify(e->w);
}

static void notify_run(engine *e, int64_t now)
{
	if (e->shared && e->cycle.changed && engine_step(e, notify_step, NULL, now) != 0)
		log_error("engine", "could not notify the other nodes");
}

const cycle_part part_notify = {
	.name = "notify",
	.run = notify_run,
};
