/*
 * command.h — what a command family gives the engine: one engine_op per
 * kind of command, and the family's registration (its metrics). The
 * commands part applies the queued commands through their ops (inside the
 * cycle's transaction: the commands of one op as a set in one savepoint
 * when the op can, else each in a savepoint of its own) and engine.c
 * answers them after the commit; nothing else in the engine knows the
 * families.
 *
 * Adding a family: its header (the command structs, each with
 * `engine_cmd base` first, and their init functions that set base.op), its
 * .c file (the ops and their apply functions, and a command_family), and
 * one line in the table of commands/families.c.
 */
#ifndef WEFT_ENGINE_COMMAND_H
#define WEFT_ENGINE_COMMAND_H

#include "engine/engine.h"
#include "util/json.h"

struct engine_op {
	const char *name;            /* "task.patch": logs */
	/* Applies the command at `now`: sets cmd->result (and noop,
	 * current_status) and returns 0; or returns an error, after which the
	 * engine rolls the command's savepoint back (WEFT_ERETRY: the command
	 * is applied again in the next cycle). */
	int (*apply)(engine *e, engine_cmd *cmd, int64_t now);
	/* Optional: applies the n commands of this op taken from the queue
	 * for one cycle, as a set, in one savepoint: each command's outcome as
	 * applying them one after the other in that order would give it. An
	 * error rolls the set back and the engine applies them one at a time
	 * through apply (after WEFT_ERETRY: all again in the next cycle);
	 * WEFT_ECONFLICT says that the set's outcome could depend on its
	 * order, which applying them one at a time settles. An op without it
	 * (a command that must be applied alone) is applied one at a time. */
	int (*apply_many)(engine *e, engine_cmd **cmds, size_t n, int64_t now);
	/* Counter incremented when the command fails and nothing of it is kept. */
	const char *failure_metric;
	/* Optional: what a replay of the command needs beyond result, noop and
	 * current_status, for an Idempotency-Key's recorded outcome (see
	 * engine/idempotency.c). save writes the command's results into `out`;
	 * load reads them back into a command that is not applied (0, or
	 * WEFT_EINTERNAL when `in` does not fit the command). */
	void (*outcome_save)(const engine_cmd *cmd, json_t *out);
	int (*outcome_load)(engine_cmd *cmd, const json_t *in);
};

typedef struct command_family {
	const char *name;
	/* Defines the family's metrics (metrics_define…) when an engine is
	 * created. May be NULL. */
	void (*define_metrics)(void);
} command_family;

/* The registered families (commands/families.c). */
extern const command_family *const command_families[];
extern const size_t command_nfamilies;

extern const command_family family_tasks;     /* commands/tasks.c */
extern const command_family family_batches;   /* commands/batches.c */
extern const command_family family_groups;    /* commands/groups.c */
extern const command_family family_jobs;      /* commands/jobs.c */
extern const command_family family_operator;  /* commands/operator.c */
extern const command_family family_queues;    /* commands/queues.c */
extern const command_family family_tokens;    /* commands/tokens.c */
extern const command_family family_workflows; /* commands/workflows.c */
extern const command_family family_schedules; /* commands/schedules.c */
extern const command_family family_triggers;  /* commands/triggers.c */
extern const command_family family_templates; /* commands/templates.c */

#endif
