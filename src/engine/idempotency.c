/*
 * idempotency.c — commands that carry an Idempotency-Key (engine.h).
 *
 * In the command's own step (savepoint): the key is taken in the store
 * first, so that a second command with the same key — in the same cycle,
 * in a later one, or on another node — runs after the first has committed
 * or rolled back and finds what it left. A fresh key: the command is
 * applied and its outcome recorded with the key, in the same step, so the
 * two commit or roll back together. A known key with the same fingerprint:
 * the command is not applied; its result, noop, current_status and what
 * its family saves (an op's outcome_save, e.g. the ids a submission
 * created) come from the record, and it is marked replayed. A known key
 * with another fingerprint: WEFT_EREUSED, nothing applied. A command that
 * fails (an error rolls its step back) leaves no key behind, so its client
 * may retry.
 *
 * The record: {"result": <weft_errname>, "noop": bool, "current_status":
 * <name>, "family": {...}}.
 */
#include "util/common.h"
#include "util/json.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/idempotency.h"
#include "engine/commands/command.h"

static char *outcome_text(const engine_cmd *cmd)
{
	json_t *o = json_object();
	json_object_set_new(o, "result", json_string(weft_errname(cmd->result)));
	json_object_set_new(o, "noop", json_boolean(cmd->noop));
	json_object_set_new(o, "current_status", json_string(task_status_name(cmd->current_status)));
	if (cmd->op->outcome_save != NULL) {
		json_t *family = json_object();
		cmd->op->outcome_save(cmd, family);
		json_object_set_new(o, "family", family);
	}
	char *text = json_dump_compact(o);
	json_decref(o);
	return text;
}

/* A recorded outcome into cmd: 0, or WEFT_EINTERNAL when it cannot be read. */
static int outcome_load(engine_cmd *cmd, const char *text)
{
	json_t *o = text ? json_parse_text(text) : NULL;
	const char *result = json_string_value(json_object_get(o, "result"));
	const char *status = json_string_value(json_object_get(o, "current_status"));
	int code, rc = WEFT_EINTERNAL;
	task_status st;
	if (weft_errcode(result, &code) == 0 && task_status_parse(status, &st) == 0) {
		cmd->result = code;
		cmd->noop = json_is_true(json_object_get(o, "noop"));
		cmd->current_status = st;
		rc = 0;
		if (cmd->op->outcome_load != NULL)
			rc = cmd->op->outcome_load(cmd, json_object_get(o, "family"));
	}
	json_decref(o);
	return rc;
}

int idempotency_apply(engine *e, engine_cmd *cmd, int64_t now)
{
	bool fresh;
	char *fingerprint = NULL, *outcome = NULL;
	int rc = store_idempotency_begin(e->w, cmd->idem_key, cmd->idem_fingerprint, now, &fresh, &fingerprint,
	                                 &outcome);
	if (rc != 0)
		return rc;
	if (!fresh) {
		if (strcmp(fingerprint, cmd->idem_fingerprint) != 0) {
			cmd->result = WEFT_EREUSED;
		} else if (outcome_load(cmd, outcome) == 0) {
			cmd->replayed = true;
		} else {
			log_error("engine", "idempotency key %s: its recorded outcome cannot be read", cmd->idem_key);
			cmd->result = WEFT_EINTERNAL;
		}
		free(fingerprint);
		free(outcome);
		return 0;
	}
	rc = cmd->op->apply(e, cmd, now);
	if (rc != 0)
		return rc;
	char *text = outcome_text(cmd);
	rc = store_idempotency_finish(e->w, cmd->idem_key, text);
	free(text);
	return rc;
}
