/*
 * cycle.c — the table of cycle parts, in the order a cycle runs them
 * (see cycle.h for why the order is what it is).
 */
#include "engine/cycle.h"

const cycle_part *const cycle_parts[] = {
	&part_leader,       /* shared database: who runs the leader-only parts */
	&part_commands,     /* queued commands, each in its own savepoint */
	&part_results,      /* jobs that came back: start results, deliveries */
	&part_deadlines,    /* due deadlines, from the heap or the database */
	&part_sweep,        /* the slow safety sweep */
	&part_claims,       /* parked job claims: answered when jobs are ready or their wait ends */
	&part_start,        /* claim startable tasks, hand them to their executors */
	&part_retention,    /* archive old terminal tasks (leader) */
	&part_idempotency,  /* forget expired Idempotency-Keys (leader) */
	&part_batches,      /* on_batch_complete: batch rows locked last */
	&part_deliveries,   /* lease due outbox rows */
	&part_task_logs,    /* write the log lines queued since the last cycle */
	&part_history,      /* the metrics history's steps and minute rows */
	&part_notify,       /* shared database: tell the other nodes at commit */
};
const size_t cycle_nparts = ARRAY_LEN(cycle_parts);
