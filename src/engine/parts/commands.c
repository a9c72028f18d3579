/*
 * parts/commands.c — applies the commands taken from the queue, each in a
 * savepoint of its own through its family's op, and sorts them for
 * engine.c: to be answered after the commit, or put back at the head of the
 * queue after losing a lock conflict with another node's transaction.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"
#include "engine/commands/command.h"
#include "engine/idempotency.h"

static void push(engine_cmd ***arr, size_t *len, size_t *cap, engine_cmd *cmd)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[(*len)++] = cmd;
}

static int apply_step(engine *e, void *arg, int64_t now)
{
	engine_cmd *cmd = arg;
	e->actor = cmd->actor ? cmd->actor : "api";
	cmd->noop = false;
	cmd->replayed = false;
	int rc = cmd->idem_key != NULL ? idempotency_apply(e, cmd, now) : cmd->op->apply(e, cmd, now);
	if (rc != 0)
		cmd->result = rc;
	return rc;
}

static void commands_run(engine *e, int64_t now)
{
	cycle_state *c = &e->cycle;
	for (size_t i = 0; i < c->ncmds; i++) {
		engine_cmd *cmd = c->cmds[i];
		int rc = engine_step(e, apply_step, cmd, now);
		if (rc == WEFT_ERETRY && ++cmd->conflicts < ENGINE_MAX_CONFLICTS) {
			push(&c->retry, &c->nretry, &c->retry_cap, cmd);
			continue;
		}
		if (rc != 0) {
			/* Also when the step's own code succeeded and only its
			 * savepoint's release failed: nothing of it was kept. */
			cmd->result = rc == WEFT_EUNAVAILABLE ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
			cmd->noop = false;
			log_error("engine", "command %s failed; rolled back", engine_cmd_name(cmd));
			metrics_inc(cmd->op->failure_metric, NULL, 1);
		}
		push(&c->answer, &c->nanswer, &c->answer_cap, cmd);
	}
}

const cycle_part part_commands = {
	.name = "commands",
	.run = commands_run,
};
