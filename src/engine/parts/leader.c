/*
 * parts/leader.c — on a shared database, whether this node is the leader
 * (store_is_leader): the leader runs the leader-only parts and reads the
 * deadlines from the database. First in the cycle, so that every later
 * part sees this cycle's answer. On SQLite the node is always the leader.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"

static void leader_init(engine *e)
{
	metrics_gauge_set("weft_leader", NULL, e->leader);
}

static void leader_run(engine *e, int64_t now)
{
	UNUSED(now);
	if (!e->shared)
		return;
	bool leader = store_is_leader(e->st);
	if (leader == e->leader)
		return;
	log_info("engine", "%s the leader: %s deadlines and retention", leader ? "became" : "is no longer",
	         leader ? "running" : "leaving");
	e->leader = leader;
	e->deadlines.dirty = true;
	metrics_gauge_set("weft_leader", NULL, leader);
}

const cycle_part part_leader = {
	.name = "leader",
	.init = leader_init,
	.run = leader_run,
};
