/*
 * audit_cmd.c — `weft audit`: the server's audit log (GET /v1/audit),
 * newest first, filtered by time, actor, action and object (an admin
 * token is needed).
 */
#include "cli/families.h"

#define OBJECT_MAX 400   /* "KIND:ID" as typed: the API bounds each part */

static const cli_column AUDIT_COLUMNS[] = {
	{ "AT", "at", COL_TIME },
	{ "ACTOR", "actor", COL_TEXT },
	{ "ACTION", "action", COL_TEXT },
	{ "KIND", "object_kind", COL_TEXT },
	{ "OBJECT", "object_id", COL_TEXT },
	{ "NAMESPACE", "namespace", COL_TEXT },
	{ 0 },
};

static const cli_opt AUDIT_OPTS[] = {
	{ "--since", "TIME", "since", "entries recorded at or after TIME (RFC 3339)" },
	{ "--until", "TIME", "until", "entries recorded before TIME (RFC 3339)" },
	{ "--actor", "NAME", "actor", "entries of this actor: a token's name, or system, schedule" },
	{ "--action", "ACTION", "action", "entries of this action, e.g. token.create, queue.pause, task.retry" },
	{ "--object", "KIND[:ID]", NULL, "entries about objects of KIND (queue, task, token, schedule...), or one of them" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static int list_audit(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	buf_puts(&path, "/v1/audit");
	const char *object = cli_val(c, "--object");
	if (object != NULL) {
		size_t kind_len = strcspn(object, ":");
		if (kind_len == 0 || strlen(object) > OBJECT_MAX || (object[kind_len] == ':' && object[kind_len + 1] == '\0')) {
			cli_fail(c, "--object: expected KIND or KIND:ID, e.g. queue:emails");
			buf_release(&path);
			return CLI_EXIT_USAGE;
		}
		char kind[OBJECT_MAX + 1];
		snprintf(kind, sizeof kind, "%.*s", (int)kind_len, object);
		buf_puts(&path, "?object_kind=");
		cli_escape(&path, kind);
		if (object[kind_len] == ':') {
			buf_puts(&path, "&object_id=");
			cli_escape(&path, object + kind_len + 1);
		}
	}
	int rc = cli_list(c, path.data, true, "entries", AUDIT_COLUMNS);
	buf_release(&path);
	return rc;
}

const cli_family CLI_AUDIT = {
	"audit",
	"the audit log: who changed what, newest first (admin)",
	(const cli_cmd[]){
		{ NULL, NULL, 0, 0, "list audit entries, newest first, with the API's filters", NULL, AUDIT_OPTS, list_audit,
		  NULL },
		{ 0 },
	},
};
