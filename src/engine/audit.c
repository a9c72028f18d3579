/*
 * audit.c — writing audit log entries from inside a command's apply
 * (audit.h).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/audit.h"
#include "engine/engine_internal.h"
#include "store/audit.h"
#include "store/runs.h"

#define TOKEN_ACTOR_PREFIX "token:"

const char *audit_actor_name(const char *actor)
{
	if (actor == NULL || *actor == '\0')
		return "api";
	if (strncmp(actor, TOKEN_ACTOR_PREFIX, strlen(TOKEN_ACTOR_PREFIX)) == 0)
		return actor + strlen(TOKEN_ACTOR_PREFIX);
	return actor;
}

int audit_record_in(engine *e, const char *namespace, const char *actor, const char *action,
                    const char *object_kind, const char *object_id, const char *detail_json)
{
	const char *detail = detail_json != NULL ? detail_json : "{}";
	if (strlen(detail) > AUDIT_DETAIL_MAX)
		detail = "{\"truncated\":true}";
	char oid[AUDIT_OBJECT_ID_MAX + 1];
	snprintf(oid, sizeof oid, "%s", object_id != NULL ? object_id : "");
	audit_row r = {
		.at = e->cycle.now,
		.namespace = (char *)(namespace != NULL ? namespace : ""),
		.actor = (char *)audit_actor_name(actor),
		.action = (char *)action,
		.object_kind = (char *)object_kind,
		.object_id = oid,
		.detail = (char *)detail,
	};
	id_new_v7(&r.id);
	return store_audit_insert(e->w, &r);
}

int audit_record(engine *e, const char *actor, const char *action, const char *object_kind, const char *object_id,
                 const char *detail_json)
{
	return audit_record_in(e, NULL, actor, action, object_kind, object_id, detail_json);
}

int audit_record_obj(engine *e, const char *namespace, const char *actor, const char *action,
                     const char *object_kind, const char *object_id, json_t *detail)
{
	char *text = detail != NULL ? json_dump_compact(detail) : NULL;
	json_decref(detail);
	int rc = audit_record_in(e, namespace, actor, action, object_kind, object_id, text);
	free(text);
	return rc;
}

int audit_record_run(engine *e, const char *actor, const char *action, const weft_id *run, json_t *detail)
{
	run_row row = { 0 };
	int rc = store_run_get(e->w, run, &row);
	if (rc != 0 && rc != WEFT_ENOTFOUND) {
		json_decref(detail);
		return rc;
	}
	rc = audit_record_obj(e, rc == 0 ? row.namespace : NULL, actor, action, "run", run->str, detail);
	run_row_release(&row);
	return rc;
}
