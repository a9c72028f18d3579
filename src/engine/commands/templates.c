/*
 * templates.c — registering template versions and starting their runs
 * (templates.h). Rare commands, each applied alone.
 *
 * Both are decided by a unique index when two nodes of a shared database
 * race: the insert that loses writes nothing and its command is applied
 * again in the next cycle (WEFT_ERETRY rolls its savepoint back, the
 * submitted run with it), where it finds the winner's row.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/templates.h"

ENGINE_CMD_BASE_FIRST(cmd_template_put);
ENGINE_CMD_BASE_FIRST(cmd_template_run);

static int apply_put(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_template_put *c = engine_cmd_of(cmd, cmd_template_put);
	template_row old;
	int rc = store_template_get(e->w, c->row.namespace, c->row.name, c->row.version, &old);
	if (rc == 0) {
		c->created = false;
		bool same = strcmp(old.body_hash, c->row.body_hash) == 0;
		if (!same)
			snprintf(c->existing_hash, sizeof c->existing_hash, "%s", old.body_hash);
		cmd->result = same ? 0 : WEFT_ECONFLICT;
		cmd->noop = same;
		template_row_release(&old);
		return 0;
	}
	if (rc != WEFT_ENOTFOUND)
		return rc;
	c->row.created_at = now;
	bool created = false;
	if ((rc = store_template_insert(e->w, &c->row, &created)) != 0)
		return rc;
	if (!created)
		return WEFT_ERETRY;   /* another node stored the version: compared with it next cycle */
	c->created = true;
	cmd->result = 0;
	log_info("engine", "template %s@%s registered in %s by %s", c->row.name, c->row.version, c->row.namespace,
	         cmd->actor ? cmd->actor : "api");
	engine_count(e, "templates_registered_total", NULL, 1);
	return 0;
}

static int apply_run(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_template_run *c = engine_cmd_of(cmd, cmd_template_run);
	c->created = false;
	if (c->identity != NULL) {
		template_run_row old;
		int rc = store_template_run_by_identity(e->w, c->namespace, c->name, c->version, c->identity, &old);
		if (rc == 0) {
			c->run_id = old.run_id;
			template_run_row_release(&old);
			cmd->result = 0;
			cmd->noop = true;
			return 0;
		}
		if (rc != WEFT_ENOTFOUND)
			return rc;
	}
	c->submit.base.actor = cmd->actor;
	int rc = c->submit.base.op->apply(e, &c->submit.base, now);
	if (rc != 0)
		return rc;
	if (c->submit.base.result != 0) {
		cmd->result = c->submit.base.result;
		return 0;
	}
	template_run_row row = { .run_id = c->submit.batch_id, .namespace = (char *)c->namespace,
		                 .template_name = (char *)c->name, .template_version = (char *)c->version,
		                 .identity = (char *)c->identity, .context = (char *)c->context, .created_at = now };
	bool created = false;
	if ((rc = store_template_run_insert(e->w, &row, &created)) != 0)
		return rc;
	if (!created)
		return WEFT_ERETRY;   /* another node's run took the identity: answered with it next cycle */
	c->run_id = c->submit.batch_id;
	c->created = true;
	cmd->result = 0;
	engine_count(e, "template_runs_started_total", NULL, 1);
	return 0;
}

static const engine_op op_put = { .name = "template.put", .apply = apply_put,
	                          .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_run = { .name = "template.run", .apply = apply_run,
	                          .failure_metric = "tasks_db_save_failures_total" };

void cmd_template_put_init(cmd_template_put *c) { *c = (cmd_template_put){ .base.op = &op_put }; }

void cmd_template_run_init(cmd_template_run *c)
{
	*c = (cmd_template_run){ .base.op = &op_run };
	cmd_submit_init(&c->submit);
}

static void define_metrics(void)
{
	metrics_define("templates_registered_total", METRIC_COUNTER, "Template versions registered");
	metrics_define("template_runs_started_total", METRIC_COUNTER, "Runs started from templates");
}

const command_family family_templates = { .name = "templates", .define_metrics = define_metrics };
