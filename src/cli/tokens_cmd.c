/*
 * tokens_cmd.c — `weft tokens [ls|show|create|revoke]`: administering the
 * server's scoped tokens on /v1/tokens (an admin token is needed); and
 * `weft whoami`: the token in use, as the server knows it (any token).
 */
#include "cli/families.h"
#include "util/alloc.h"

#include <time.h>

#define EXPIRY_MAX_DAYS (100 * 366)

static const cli_column TOKEN_COLUMNS[] = {
	{ "NAME", "name", COL_TEXT },
	{ "ROLE", "role", COL_TEXT },
	{ "NAMESPACES", "namespaces", COL_LIST },
	{ "SOURCE", "source", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ "EXPIRES", "expires_at", COL_TIME },
	{ "LAST_USED", "last_used_at", COL_TIME },
	{ "REVOKED", "revoked_at", COL_TIME },
	{ 0 },
};

static const cli_column TOKEN_FIELDS[] = {
	{ "Name", "name", COL_TEXT },
	{ "Role", "role", COL_TEXT },
	{ "Namespaces", "namespaces", COL_LIST },
	{ "Source", "source", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ "Expires", "expires_at", COL_TIME },
	{ "Last used", "last_used_at", COL_TIME },
	{ "Revoked", "revoked_at", COL_TIME },
	{ 0 },
};

static int list_tokens(cli_ctx *c)
{
	return cli_list(c, "/v1/tokens", false, "tokens", TOKEN_COLUMNS);
}

static int show_token(cli_ctx *c)
{
	return cli_show(c, "/v1/tokens/", false, TOKEN_FIELDS);
}

/* --expires: an RFC 3339 time as it is, or a duration from now ("30d",
 * "12h", "90m") made into one. NULL after a message. */
static json_t *expiry(cli_ctx *c, const char *s)
{
	int64_t ms;
	if (out_parse_time(s, &ms) == 0)
		return json_string(s);
	int64_t secs = 0;
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == 'd') {
		char *days = xstrndup(s, n - 1);
		int64_t d;
		int rc = cli_parse_i64(c->prog, "--expires DAYS", days, 1, EXPIRY_MAX_DAYS, &d);
		free(days);
		if (rc != 0)
			return NULL;
		secs = d * 86400;
	} else {
		int64_t us;
		if (cli_parse_duration(c->prog, "--expires", s, 60 * INT64_C(1000000), INT64_C(86400) * 1000000 * 366, &us))
			return NULL;
		secs = us / 1000000;
	}
	time_t at = time(NULL) + (time_t)secs;
	struct tm tm;
	char text[32];
	gmtime_r(&at, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}

static int create_token(cli_ctx *c)
{
	const char *namespaces = cli_val(c, "--namespaces"), *role = cli_val(c, "--role"),
	           *expires = cli_val(c, "--expires");
	if (!namespaces || !role) {
		cli_fail(c, "give --namespaces (a,b or *) and --role (admin or client)");
		return CLI_EXIT_USAGE;
	}
	json_t *body = json_pack("{ss s[] ss}", "name", c->args[0], "namespaces", "role", role);
	char *list = xstrdup(namespaces), *save = NULL;
	for (char *ns = strtok_r(list, ",", &save); ns; ns = strtok_r(NULL, ",", &save))
		json_array_append_new(json_object_get(body, "namespaces"), json_string(ns));
	free(list);
	int rc = CLI_EXIT_OK;
	if (expires) {
		json_t *at = expiry(c, expires);
		if (at)
			json_object_set_new(body, "expires_at", at);
		else
			rc = CLI_EXIT_USAGE;
	}
	json_t *answer = NULL;
	if (rc == CLI_EXIT_OK)
		rc = cli_call(c, "POST", "/v1/tokens", body, &answer);
	if (rc == CLI_EXIT_OK) {
		cli_print_one(c, answer, TOKEN_COLUMNS);
		if (!c->json)
			printf("\nsecret: %s\n", json_string_value(json_object_get(answer, "secret")));
		fprintf(stderr, "%s: store the secret now: it is not shown again (the server keeps only its hash)\n",
		        c->prog);
	}
	json_decref(answer);
	json_decref(body);
	return rc;
}

static const cli_opt CREATE_OPTS[] = {
	{ "--namespaces", "NS[,NS...]|*", NULL, "the namespaces the token may use; * for all" },
	{ "--role", "admin|client", NULL, "admin may also administer tokens and queues" },
	{ "--expires", "TIME|DURATION", NULL, "when it stops working: RFC 3339, or from now (30d, 12h)" },
	{ 0 },
};

static const cli_action REVOKE = { "DELETE", "/v1/tokens/", NULL, false, TOKEN_COLUMNS };

const cli_family CLI_TOKENS = {
	"tokens",
	"list, show, create and revoke scoped tokens (admin)",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list every token (never their secrets)", NULL, NULL, list_tokens, NULL },
		{ "show", "NAME", 1, 1, "show a token", NULL, NULL, show_token, NULL },
		{ "create", "NAME", 1, 1, "create a token and print its secret, once",
		  "NAME is 1 to 64 of a-z, 0-9, '_', '.' and '-'. The secret (wft_...) is shown only\n"
		  "now: store it at once. With --json it is the answer's \"secret\" member.\n",
		  CREATE_OPTS, create_token, NULL },
		{ "revoke", "NAME", 1, 1, "revoke a token created through the API (at once)", NULL, NULL, cli_run_action,
		  &REVOKE },
		{ 0 },
	},
};

/* ---- weft whoami ---------------------------------------------------------- */

static const cli_column WHOAMI_FIELDS[] = {
	{ "Token", "token", COL_TEXT },
	{ "Admin", "admin", COL_TEXT },
	{ "Namespaces", "namespaces", COL_LIST },
	{ "Default namespace", "default_namespace", COL_TEXT },
	{ 0 },
};

static int whoami(cli_ctx *c)
{
	json_t *answer = NULL;
	int rc = cli_call(c, "GET", "/v1/whoami", NULL, &answer);
	if (rc == CLI_EXIT_OK && c->json)
		out_json(stdout, answer);
	else if (rc == CLI_EXIT_OK)
		cli_print_fields(answer, WHOAMI_FIELDS);
	json_decref(answer);
	return rc;
}

const cli_family CLI_WHOAMI = {
	"whoami",
	"the token in use: its name, whether it is an admin, its namespaces",
	(const cli_cmd[]){
		{ NULL, NULL, 0, 0, "show the token in use as the server knows it (no token: the server checks none)",
		  NULL, NULL, whoami, NULL },
		{ 0 },
	},
};
