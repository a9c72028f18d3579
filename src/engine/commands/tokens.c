/*
 * tokens.c — creating and revoking bearer tokens (tokens.h). Rare
 * commands, each applied alone.
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/tokens.h"
#include "engine/audit.h"
#include "store/tokens.h"

ENGINE_CMD_BASE_FIRST(cmd_token_create);
ENGINE_CMD_BASE_FIRST(cmd_token_revoke);
ENGINE_CMD_BASE_FIRST(cmd_token_used);

static int apply_create(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_token_create *c = engine_cmd_of(cmd, cmd_token_create);
	c->row.created_at = now;
	c->row.created_by = cmd->actor ? cmd->actor : "api";
	bool created = false;
	int rc = store_api_token_insert(e->w, &c->row, &created);
	if (rc != 0)
		return rc;
	cmd->result = created ? 0 : WEFT_ECONFLICT;
	if (!created)
		return 0;
	/* What the token may do; never its secret nor its digest. */
	json_t *detail = json_pack("{s:b,s:s}", "admin", c->row.admin, "namespaces", c->row.namespaces);
	if (c->row.expires_at > 0)
		json_object_set_new(detail, "expires_at", json_integer(c->row.expires_at));
	rc = audit_record_obj(e, NULL, cmd->actor, "token.create", "token", c->row.name, detail);
	if (rc != 0)
		return rc;
	log_info("engine", "token %s (%s, namespaces %s) created by %s", c->row.name,
		         c->row.admin ? "admin" : "client", c->row.namespaces, c->row.created_by);
	return 0;
}

static int apply_revoke(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_token_revoke *c = engine_cmd_of(cmd, cmd_token_revoke);
	const char *actor = cmd->actor ? cmd->actor : "api";
	bool found = false;
	int rc = store_api_token_revoke(e->w, c->name, now, actor, &found);
	if (rc != 0)
		return rc;
	cmd->result = found ? 0 : WEFT_ENOTFOUND;
	if (!found)
		return 0;
	log_info("engine", "token %s revoked by %s", c->name, actor);
	return audit_record(e, cmd->actor, "token.revoke", "token", c->name, NULL);
}

/* Several uses in one cycle are one savepoint: each is its own
 * statement, whose outcome does not depend on the others. */
static int apply_used_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	UNUSED(now);
	for (size_t i = 0; i < n; i++) {
		cmd_token_used *c = engine_cmd_of(cmds[i], cmd_token_used);
		int rc = store_api_token_used(e->w, c->name, c->at);
		if (rc != 0)
			return rc;
		cmds[i]->result = 0;
	}
	return 0;
}

static int apply_used(engine *e, engine_cmd *cmd, int64_t now)
{
	return apply_used_many(e, &cmd, 1, now);
}

static const engine_op op_create = { .name = "token.create", .apply = apply_create,
	                             .failure_metric = "tasks_db_save_failures_total" };
static const engine_op op_revoke = { .name = "token.revoke", .apply = apply_revoke,
	                             .failure_metric = "tasks_db_save_failures_total" };

static const engine_op op_used = { .name = "token.used", .apply = apply_used, .apply_many = apply_used_many,
	                           .failure_metric = "tasks_db_save_failures_total" };

void cmd_token_used_init(cmd_token_used *c) { *c = (cmd_token_used){ .base.op = &op_used }; }
void cmd_token_create_init(cmd_token_create *c) { *c = (cmd_token_create){ .base.op = &op_create }; }
void cmd_token_revoke_init(cmd_token_revoke *c) { *c = (cmd_token_revoke){ .base.op = &op_revoke }; }

const command_family family_tokens = { .name = "tokens" };
