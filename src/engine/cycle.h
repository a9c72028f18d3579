/*
 * cycle.h — the parts of an engine cycle.
 *
 * A cycle is one transaction. engine.c opens it, runs every part in the
 * order of the table in cycle.c, commits, then launches the jobs the parts
 * queued and answers the commands. Each part lives in its own file and
 * says what it runs and when it next needs to run; the engine thread sleeps
 * until the earliest of those times, a new command, a job coming back, or
 * a wake-up from another node.
 *
 * Order matters: commands first (their callers wait), then what came back,
 * deadlines, the start pass (which sees everything the steps before freed),
 * and batch rows last, after every task row, so that two nodes' cycles
 * never wait for each other in a circle over a batch.
 */
#ifndef WEFT_ENGINE_CYCLE_H
#define WEFT_ENGINE_CYCLE_H

#include "engine/engine_internal.h"

typedef struct cycle_part {
	const char *name;
	/* Runs only on the node that holds the leadership (always on SQLite). */
	bool leader_only;
	/* engine_new(): initial state. May be NULL. */
	void (*init)(engine *e);
	/* engine_start(), before the thread runs: state recovered from the
	 * database at `now`. May be NULL. */
	int (*start)(engine *e, int64_t now);
	/* Inside the cycle's transaction: does its work, each unit of it in a
	 * step (engine_step), if it has any. */
	void (*run)(engine *e, int64_t now);
	/* The earliest time it needs a cycle without new input: <= now for at
	 * once (a dirty flag), INT64_MAX for only on new input. May be NULL. */
	int64_t (*next_wake)(const engine *e);
	/* After the cycle: committed or rolled back. May be NULL. */
	void (*finish)(engine *e, bool committed);
	/* engine_stop(), after the thread was joined: answers what it still
	 * holds (parked commands). May be NULL. */
	void (*stop)(engine *e);
	/* engine_free(). May be NULL. */
	void (*release)(engine *e);
} cycle_part;

/* The parts, in cycle order (cycle.c). */
extern const cycle_part *const cycle_parts[];
extern const size_t cycle_nparts;

extern const cycle_part part_leader;      /* parts/leader.c */
extern const cycle_part part_commands;    /* parts/commands.c */
extern const cycle_part part_results;     /* parts/results.c */
extern const cycle_part part_deadlines;   /* deadline.c */
extern const cycle_part part_sweep;       /* parts/sweep.c */
extern const cycle_part part_claims;      /* parts/claims.c */
extern const cycle_part part_start;       /* parts/start.c */
extern const cycle_part part_retention;   /* parts/retention.c */
extern const cycle_part part_idempotency; /* parts/idempotency.c */
extern const cycle_part part_batches;     /* parts/batches.c */
extern const cycle_part part_deliveries;  /* parts/deliveries.c */
extern const cycle_part part_notify;      /* parts/notify.c */
extern const cycle_part part_task_logs;   /* task_logs.c */
extern const cycle_part part_history;     /* parts/history.c */

#endif
