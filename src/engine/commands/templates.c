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
#include "engine/audit.h"

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
	/* A re-registration of the same body changes nothing: not recorded. */
	char object[AUDIT_OBJECT_ID_MAX + 1];
	snprintf(object, sizeof object, "%s@%s", c->row.name, c->row.version);
	rc = audit_record_obj(e, c->row.namespace, cmd->actor, "template.register", "template", object,
	                      json_pack("{s:s}", "body_hash", c->row.body_hash));
	if (rc != 0)
		return rc;
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

/* ---- replays (Idempotency-Key) ----------------------------------------------
 * A registration's replay answers whether it created the version (and the
 * hash it conflicted with); a run's, the run and, when it created one,
 * what the submission created (batch.submit's own outcome). */

static void put_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_template_put *c = engine_cmd_of(cmd, cmd_template_put);
	json_object_set_new(out, "created", json_boolean(c->created));
	json_object_set_new(out, "existing_hash", json_string(c->existing_hash));
}

static int put_load(engine_cmd *cmd, const json_t *in)
{
	cmd_template_put *c = engine_cmd_of(cmd, cmd_template_put);
	const char *hash = json_string_value(json_object_get(in, "existing_hash"));
	if (hash == NULL || !json_is_boolean(json_object_get(in, "created")))
		return WEFT_EINTERNAL;
	c->created = json_is_true(json_object_get(in, "created"));
	snprintf(c->existing_hash, sizeof c->existing_hash, "%s", hash);
	return 0;
}

static void run_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_template_run *c = engine_cmd_of(cmd, cmd_template_run);
	json_object_set_new(out, "run_id", json_string(c->run_id.str));
	json_object_set_new(out, "created", json_boolean(c->created));
	if (c->created) {
		json_t *submit = json_object();
		c->submit.base.op->outcome_save(&c->submit.base, submit);
		json_object_set_new(out, "submit", submit);
	}
}

static int run_load(engine_cmd *cmd, const json_t *in)
{
	cmd_template_run *c = engine_cmd_of(cmd, cmd_template_run);
	if (id_parse(json_string_value(json_object_get(in, "run_id")), &c->run_id) != 0 ||
	    !json_is_boolean(json_object_get(in, "created")))
		return WEFT_EINTERNAL;
	c->created = json_is_true(json_object_get(in, "created"));
	if (c->created)
		return c->submit.base.op->outcome_load(&c->submit.base, json_object_get(in, "submit"));
	return 0;
}

static const engine_op op_put = { .name = "template.put", .apply = apply_put,
	                          .failure_metric = "tasks_db_save_failures_total",
	                          .outcome_save = put_save, .outcome_load = put_load };
static const engine_op op_run = { .name = "template.run", .apply = apply_run,
	                          .failure_metric = "tasks_db_save_failures_total",
	                          .outcome_save = run_save, .outcome_load = run_load };

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
