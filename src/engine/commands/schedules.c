/*
 * schedules.c — creating, deleting, pausing and resuming cron schedules
 * (schedules.h). Rare commands, each applied alone.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/metrics.h"
#include "core/cron.h"
#include "core/tz.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/schedules.h"
#include "engine/audit.h"

ENGINE_CMD_BASE_FIRST(cmd_schedule_create);
ENGINE_CMD_BASE_FIRST(cmd_schedule_delete);
ENGINE_CMD_BASE_FIRST(cmd_schedule_pause);
ENGINE_CMD_BASE_FIRST(cmd_schedule_trigger);

int64_t schedule_next_fire(const char *cron, const char *timezone, int64_t after)
{
	cron_expr e;
	const tz_zone *z;
	int64_t next = 0;
	if (cron_parse(cron, strlen(cron), &e, NULL, 0) != 0 || tz_load(timezone, &z, NULL, 0) != 0 ||
	    cron_next(&e, z, after, &next) != 0)
		return 0;
	return next;
}

static int apply_create(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_schedule_create *c = engine_cmd_of(cmd, cmd_schedule_create);
	c->row.created_at = now;
	c->row.next_fire_at = c->row.paused ? 0 : schedule_next_fire(c->row.cron, c->row.timezone, now);
	bool created = false;
	int rc = store_schedule_insert(e->w, &c->row, &created);
	if (rc != 0)
		return rc;
	cmd->result = created ? 0 : WEFT_ECONFLICT;
	if (!created)
		return 0;
	schedule_arm(e, c->row.next_fire_at);
	json_t *detail = json_pack("{s:s,s:s,s:s,s:b}", "cron", c->row.cron, "timezone", c->row.timezone, "target_kind",
	                           c->row.target_kind, "paused", c->row.paused);
	rc = audit_record_obj(e, c->row.namespace, cmd->actor, "schedule.create", "schedule", c->row.name, detail);
	if (rc != 0)
		return rc;
	log_info("engine", "schedule %s/%s (%s, %s) created by %s", c->row.namespace, c->row.name, c->row.cron,
		         c->row.timezone, cmd->actor ? cmd->actor : "api");
	return 0;
}

static int apply_delete(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(now);
	cmd_schedule_delete *c = engine_cmd_of(cmd, cmd_schedule_delete);
	bool found = false;
	int rc = store_schedule_delete(e->w, c->namespace, c->name, &found);
	if (rc != 0)
		return rc;
	cmd->result = found ? 0 : WEFT_ENOTFOUND;
	return found ? audit_record_in(e, c->namespace, cmd->actor, "schedule.delete", "schedule", c->name, NULL) : 0;
}

static int apply_pause(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_schedule_pause *c = engine_cmd_of(cmd, cmd_schedule_pause);
	schedule_row s;
	int rc = store_schedule_get(e->w, c->namespace, c->name, &s);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	int64_t next = s.next_fire_at;
	if (s.paused && !c->paused) {
		next = schedule_next_fire(s.cron, s.timezone, now);
		schedule_arm(e, next);
	}
	bool found = false;
	if (s.paused != c->paused)
		rc = store_schedule_set_paused(e->w, c->namespace, c->name, c->paused, next, now, &found);
	bool changed = s.paused != c->paused;
	schedule_row_release(&s);
	if (rc == 0)
		rc = audit_record_obj(e, c->namespace, cmd->actor, c->paused ? "schedule.pause" : "schedule.resume",
		                      "schedule", c->name, json_pack("{s:b}", "changed", changed));
	if (rc == 0)
		cmd->result = 0;
	return rc;
}

static int apply_trigger(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_schedule_trigger *c = engine_cmd_of(cmd, cmd_schedule_trigger);
	schedule_row s;
	int rc = store_schedule_get(e->w, c->namespace, c->name, &s);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	size_t started = 0;
	rc = schedule_fire(e, &s, 1, now, s.next_fire_at, true, &started);
	if (rc == 0)
		rc = audit_record_obj(e, c->namespace, cmd->actor, "schedule.trigger", "schedule", c->name,
		                      json_pack("{s:I}", "started", (json_int_t)started));
	if (rc == 0) {
		cmd->result = 0;
		engine_count(e, "schedule_jobs_started_total", NULL, started);
	}
	schedule_row_release(&s);
	return rc;
}

static const engine_op op_trigger = { .name = "schedule.trigger", .apply = apply_trigger,
	                              .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_create = { .name = "schedule.create", .apply = apply_create,
	                             .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_delete = { .name = "schedule.delete", .apply = apply_delete,
	                             .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_pause = { .name = "schedule.pause", .apply = apply_pause,
	                            .failure_metric = "tasks_db_save_failures_total" };

void cmd_schedule_create_init(cmd_schedule_create *c) { *c = (cmd_schedule_create){ .base.op = &op_create }; }
void cmd_schedule_delete_init(cmd_schedule_delete *c) { *c = (cmd_schedule_delete){ .base.op = &op_delete }; }
void cmd_schedule_pause_init(cmd_schedule_pause *c) { *c = (cmd_schedule_pause){ .base.op = &op_pause }; }
void cmd_schedule_trigger_init(cmd_schedule_trigger *c) { *c = (cmd_schedule_trigger){ .base.op = &op_trigger }; }

static void define_metrics(void)
{
	metrics_define("schedule_jobs_started_total", METRIC_COUNTER,
	               "Runs (jobs, workflow runs, template runs) started by cron schedules");
}

const command_family family_schedules = { .name = "schedules", .define_metrics = define_metrics };
