/*
 * command.h — what a command family gives the engine: one engine_op per
 * kind of command. engine.c applies each queued command through its op
 * (inside the cycle's transaction, in a savepoint of its own) and answers
 * it after the commit; nothing else in the engine knows the families.
 *
 * Adding a command: a struct with `engine_cmd base` first and its payload
 * in the family's header, an init function that sets base.op, and the op
 * with its apply function in the family's .c file.
 */
#ifndef WEFT_ENGINE_COMMAND_H
#define WEFT_ENGINE_COMMAND_H

#include "engine/engine.h"

struct engine_op {
	const char *name;            /* "task.patch": logs */
	/* Applies the command at `now`: sets cmd->result (and noop,
	 * current_status) and returns 0; or returns an error, after which the
	 * engine rolls the command's savepoint back (WEFT_ERETRY: the command
	 * is applied again in the next cycle). */
	int (*apply)(engine *e, engine_cmd *cmd, int64_t now);
	/* Counter incremented when the command fails and nothing of it is kept. */
	const char *failure_metric;
};

#endif
