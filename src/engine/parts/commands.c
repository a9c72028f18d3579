/*
 * parts/commands.c — applies the commands taken from the queue through
 * their family's ops, and sorts them for engine.c: to be answered after
 * the commit, or put back at the head of the queue after losing a lock
 * conflict with another node's transaction.
 *
 * The commands of one op are applied together, as a set, when the op has
 * apply_many: in one savepoint, with a constant number of statements
 * whatever their number. Commands that are all waiting in the queue at
 * once are concurrent requests, so any order of them is a valid one: the
 * groups go in the order of their first command, each group in queue
 * order, and each command is answered exactly as applying them one after
 * the other in that order would answer it. A group that fails is rolled
 * back and its commands are applied one at a time, each in its own
 * savepoint, so that one bad command never fails the others; one that
 * lost a lock conflict goes back to the queue whole, for the next cycle.
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

static void begin_command(engine *e, engine_cmd *cmd)
{
	e->actor = cmd->actor ? cmd->actor : "api";
	cmd->parked = false;
	cmd->noop = false;
	cmd->replayed = false;
	cmd->result = 0;
}

static int apply_one(engine *e, void *item, int64_t now)
{
	engine_cmd *cmd = item;
	begin_command(e, cmd);
	int rc = cmd->idem_key != NULL ? idempotency_apply(e, cmd, now) : cmd->op->apply(e, cmd, now);
	if (rc != 0)
		cmd->result = rc;
	return rc;
}

static int apply_many(engine *e, void **items, size_t n, int64_t now)
{
	engine_cmd **cmds = (engine_cmd **)items;
	for (size_t i = n; i-- > 0;)
		begin_command(e, cmds[i]);     /* e->actor: the first one's */
	return cmds[0]->op->apply_many(e, cmds, n, now);
}

static void command_done(engine *e, void *item, int rc)
{
	cycle_state *c = &e->cycle;
	engine_cmd *cmd = item;
	if (rc == 0 && cmd->parked) {
		engine_park_command(e, cmd);      /* answered later by its part */
		return;
	}
	cmd->parked = false;
	if (rc == WEFT_ERETRY && ++cmd->conflicts < ENGINE_MAX_CONFLICTS) {
		push(&c->retry, &c->nretry, &c->retry_cap, cmd);
		return;
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

/* Commands with an Idempotency-Key form a group of their own, applied one
 * at a time: each first looks up its key, and its outcome is recorded with
 * it (idempotency.c). */
static const char keyed_alone;

static const void *op_of(const void *item)
{
	const engine_cmd *cmd = item;
	return cmd->idem_key != NULL ? (const void *)&keyed_alone : (const void *)cmd->op;
}

static bool op_has_many(const void *item)
{
	const engine_cmd *cmd = item;
	return cmd->idem_key == NULL && cmd->op->apply_many != NULL;
}

static const engine_group_ops command_groups = {
	.key = op_of, .has_many = op_has_many, .many = apply_many, .one = apply_one, .done = command_done,
};

static void commands_run(engine *e, int64_t now)
{
	engine_apply_groups(e, (void *const *)e->cycle.cmds, e->cycle.ncmds, &command_groups, now);
}

const cycle_part part_commands = {
	.name = "commands",
	.run = commands_run,
};
