/*
 * parts/notify.c — on a shared database, a cycle whose changes may give
 * other nodes work tells them (store_notify: delivered at commit) what
 * kind of work: the STORE_WAKE_* bits its steps set as they woke their own
 * parts (tasks startable, capacity freed, deliveries not leased, deadlines
 * armed). A node that hears them wakes those parts only: a cycle of plain
 * completions says only "capacity freed", which costs another node a
 * statement only when its last start pass held tasks back. Last in the
 * cycle, so that it knows every bit.
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
	if (e->shared && e->cycle.notify != 0 && store_notify(e->w, e->cycle.notify) != 0)
		log_error("engine", "could not notify the other nodes");
}

const cycle_part part_notify = {
	.name = "notify",
	.run = notify_run,
};
