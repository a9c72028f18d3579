/*
 * groups.c — the commands on a group of tasks (groups.h).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/groups.h"

ENGINE_CMD_BASE_FIRST(cmd_group);

/* Applies cancel, pause or resume to every task of a group that the
 * action applies to; the answer counts the tasks changed. */
static int group_command(engine *e, engine_cmd *cmd, group_action what, int64_t now)
{
	cmd_group *g = engine_cmd_of(cmd, cmd_group);
	unsigned mask = what == GROUP_CANCEL  ? TS_ACTIVE_MASK
	              : what == GROUP_PAUSE   ? TS_BIT(TS_PENDING) | TS_BIT(TS_WAITING)
	                                      : TS_BIT(TS_PAUSED);
	weft_id *all = NULL, *ids = NULL;
	size_t nall = 0, n = 0;
	int rc = store_group_tasks(e->w, g->name, TS_ALL_MASK, &all, &nall);
	if (rc != 0)
		return rc;
	free(all);
	if (nall == 0) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if ((rc = store_group_tasks(e->w, g->name, mask, &ids, &n)) != 0)
		return rc;
	char reason[320];
	snprintf(reason, sizeof(reason), "group %s canceled", g->name);
	int64_t count = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		task_update_result res;
		task_status st = TS_PENDING;
		/* An earlier cancel's cascade may already have ended this one: a
		 * guard miss is not an error. */
		if (what == GROUP_CANCEL)
			rc = task_cancel_one(e, &ids[i], reason, now, &res);
		else if (what == GROUP_PAUSE)
			rc = task_pause_one(e, &ids[i], &res);
		else
			rc = task_resume_one(e, &ids[i], now, &res, &st);
		if (rc == WEFT_ENOTFOUND)
			rc = 0;
		else if (rc == 0 && res.applied)
			count++;
	}
	free(ids);
	if (rc != 0)
		return rc;
	g->count = count;
	cmd->result = 0;
	return 0;
}

static int group_cancel(engine *e, engine_cmd *cmd, int64_t now) { return group_command(e, cmd, GROUP_CANCEL, now); }
static int group_pause(engine *e, engine_cmd *cmd, int64_t now) { return group_command(e, cmd, GROUP_PAUSE, now); }
static int group_resume(engine *e, engine_cmd *cmd, int64_t now) { return group_command(e, cmd, GROUP_RESUME, now); }

/* A replay (Idempotency-Key) answers with the first one's count. */
static void group_save(const engine_cmd *cmd, json_t *out)
{
	json_object_set_new(out, "count", json_integer(engine_cmd_of(cmd, cmd_group)->count));
}

static int group_load(engine_cmd *cmd, const json_t *in)
{
	const json_t *v = json_object_get(in, "count");
	if (!json_is_integer(v))
		return WEFT_EINTERNAL;
	engine_cmd_of(cmd, cmd_group)->count = json_integer_value(v);
	return 0;
}

#define GROUP_OP(what, fn) { .name = "group." what, .apply = fn, .failure_metric = "tasks_db_save_failures_total", \
                             .outcome_save = group_save, .outcome_load = group_load }
static const engine_op op_group[] = {
	[GROUP_CANCEL] = GROUP_OP("cancel", group_cancel),
	[GROUP_PAUSE] = GROUP_OP("pause", group_pause),
	[GROUP_RESUME] = GROUP_OP("resume", group_resume),
};

void cmd_group_init(cmd_group *c, group_action what) { *c = (cmd_group){ .base.op = &op_group[what] }; }

const command_family family_groups = { .name = "groups", .define_metrics = NULL };
