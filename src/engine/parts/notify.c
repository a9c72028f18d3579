/*
 * parts/notify.c — on a shared database, a cycle that changed anything
 * tells the other nodes (store_notify: delivered at commit), which wakes
 * their engines as a local command would. Last in the cycle, so that it
 * knows whether anything changed.
 *
 * It is no step of its own: the notification goes with the COMMIT (one
 * round trip), and one that fails fails the commit, as a lost connection
 * would.
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/cycle.h"

static void notify_run(engine *e, int64_t now)
{
	UNUSED(now);
	if (e->shared && e->cycle.changed && store_notify(e->w) != 0)
		log_error("engine", "could not notify the other nodes");
}

const cycle_part part_notify = {
	.name = "notify",
	.run = notify_run,
};
