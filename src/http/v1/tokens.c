/*
 * tokens.c — the /v1 token routes: listing, making, reading and revoking
 * bearer tokens (admin tokens only); and GET /v1/whoami, where any token
 * reads its own name, role and namespaces.
 *
 * The list and one token's read show every source: the configured tokens
 * (AUTH_TOKEN and WEFT_TOKENS: "env"; WEFT_TOKENS_FILE: "file") and those
 * made over the API ("api", in the database). Only the API's are made and
 * revoked here; a configured one is changed where it is configured (409).
 * A secret is made from the CSPRNG and answered once, by the creation:
 * only its SHA-256 is stored, so a creation is never replayed from an
 * Idempotency-Key (its name makes a second one a conflict instead).
 *
 * An admin token limited to some namespaces makes tokens only within
 * them (403 forbidden_namespace otherwise), and sees, reads and revokes
 * only the tokens limited to some of them: any other is unknown to it
 * (404), as another namespace's objects are. Without any configured token
 * nothing is authenticated, so a creation is refused (409 auth_disabled).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include <openssl/crypto.h>

#include "core/error.h"
#include "engine/commands/tokens.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/errors.h"
#include "http/wire.h"
#include "store/store.h"
#include "store/tokens.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"

/* 403 for a token that may not administer. */
static bool admin_or_refuse(http_request *r)
{
	if (http_admin(r))
		return true;
	v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "Only an admin token may do this.");
	return false;
}

/* ---- the Token shape ------------------------------------------------------------------ */

/* A token of any source, as answered. */
typedef struct token_view {
	const char *name;
	const http_token *configured;   /* a configured token's namespaces, or NULL */
	const char *namespaces;         /* an API token's: "*" or "a,b" */
	bool admin;
	token_source source;
	int64_t created_at, expires_at, revoked_at, last_used_at;
	const char *secret;             /* only when it was just made */
} token_view;

static token_view view_of_configured(const http_token *t)
{
	return (token_view){ .name = t->name, .configured = t, .admin = t->admin, .source = t->source };
}

static token_view view_of_row(const api_token_row *t)
{
	return (token_view){ .name = t->name, .namespaces = t->namespaces, .admin = t->admin, .source = TOKEN_FROM_API,
		             .created_at = t->created_at, .expires_at = t->expires_at, .revoked_at = t->revoked_at,
		             .last_used_at = t->last_used_at };
}

static void put_namespaces(buf *b, const token_view *v)
{
	buf_putc(b, '[');
	if (v->configured != NULL) {
		if (v->configured->all_namespaces)
			wire_str(b, "*");
		for (size_t i = 0; !v->configured->all_namespaces && i < v->configured->nnamespaces; i++) {
			if (i > 0)
				buf_putc(b, ',');
			wire_str(b, v->configured->namespaces[i]);
		}
	} else {
		const char *p = v->namespaces;
		for (bool first = true; p != NULL && *p != '\0'; first = false) {
			size_t n = strcspn(p, ",");
			char *one = xstrndup(p, n);
			if (!first)
				buf_putc(b, ',');
			wire_str(b, one);
			free(one);
			p += n + (p[n] == ',');
		}
	}
	buf_putc(b, ']');
}

/* Whether the request sees every namespace of the list "a,b" (not "*");
 * when not, the first it does not see is copied into unseen. */
static bool list_visible(const http_request *r, const char *list, char unseen[NAMESPACE_MAX + 1])
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");
		snprintf(unseen, NAMESPACE_MAX + 1, "%.*s", (int)n, p);
		if (!http_ns_visible(r, unseen))
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

/* Whether the request may see the token: a limited admin only the tokens
 * whose namespaces it sees all of. */
static bool token_visible(const http_request *r, const token_view *v)
{
	if (http_ns_all(r))
		return true;
	if (v->configured != NULL) {
		if (v->configured->all_namespaces)
			return false;
		for (size_t i = 0; i < v->configured->nnamespaces; i++)
			if (!http_ns_visible(r, v->configured->namespaces[i]))
				return false;
		return true;
	}
	char unseen[NAMESPACE_MAX + 1];
	return v->namespaces != NULL && strcmp(v->namespaces, "*") != 0 && list_visible(r, v->namespaces, unseen);
}

static void put_token(buf *b, const token_view *v)
{
	buf_puts(b, "{\"name\":");
	wire_str(b, v->name);
	buf_puts(b, ",\"namespaces\":");
	put_namespaces(b, v);
	buf_puts(b, ",\"role\":");
	wire_str(b, v->admin ? "admin" : "client");
	buf_puts(b, ",\"source\":");
	wire_str(b, token_source_name(v->source));
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, v->created_at);
	buf_puts(b, ",\"expires_at\":");
	wire_ts_ms(b, v->expires_at);
	buf_puts(b, ",\"revoked_at\":");
	wire_ts_ms(b, v->revoked_at);
	buf_puts(b, ",\"last_used_at\":");
	wire_ts_ms(b, v->last_used_at);
	if (v->secret != NULL) {
		buf_puts(b, ",\"secret\":");
		wire_str(b, v->secret);
	}
	buf_putc(b, '}');
}

static void answer_token(http_request *r, unsigned status, const token_view *v)
{
	buf b;
	buf_init(&b);
	put_token(&b, v);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* The token name of the path: NULL after answering 400. */
static const char *path_name(http_request *r)
{
	const char *name = http_param_text(r, 0);
	if (name == NULL || !token_name_valid(name)) {
		http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, NULL, "name: expected [a-z0-9_.-]{1,64}");
		http_fail(r, WEFT_EINVALID);
		return NULL;
	}
	return name;
}

static void fail_no_token(http_request *r, const char *name)
{
	v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No token named %s.", name);
}

/* ---- GET /v1/tokens -------------------------------------------------------------------- */

static int cmp_configured(const void *a, const void *b)
{
	return strcmp((*(const http_token *const *)a)->name, (*(const http_token *const *)b)->name);
}

void v1_list_tokens(http_request *r)
{
	if (!admin_or_refuse(r))
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	api_token_row *rows = NULL;
	size_t n = 0;
	int rc = store_api_token_list(c, TOKENS_MAX, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "token list");
		return;
	}
	/* The configured tokens and the API's, merged by name. */
	const token_table *t = http_tokens_current();
	size_t nconf = t != NULL ? t->n : 0;
	const http_token **conf = xcalloc(nconf ? nconf : 1, sizeof *conf);
	for (size_t i = 0; i < nconf; i++)
		conf[i] = &t->tokens[i];
	qsort(conf, nconf, sizeof *conf, cmp_configured);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"tokens\":[");
	size_t shown = 0;
	for (size_t i = 0, j = 0; i < nconf || j < n;) {
		token_view v;
		if (j == n || (i < nconf && strcmp(conf[i]->name, rows[j].name) <= 0))
			v = view_of_configured(conf[i++]);
		else
			v = view_of_row(&rows[j++]);
		if (!token_visible(r, &v))
			continue;
		if (shown++ > 0)
			buf_putc(&b, ',');
		put_token(&b, &v);
	}
	buf_puts(&b, "]}");
	free(conf);
	store_free_api_tokens(rows, n);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- GET /v1/tokens/{name} ---------------------------------------------------------------- */

/* The token `name` as the request may see it: true with *v (and *row,
 * to release, for an API token; row->name is NULL otherwise), or false
 * after answering 404 or a failure. */
static bool read_named(http_request *r, const char *name, token_view *v, api_token_row *row)
{
	memset(row, 0, sizeof *row);
	const http_token *conf = token_table_find(http_tokens_current(), name);
	if (conf != NULL) {
		*v = view_of_configured(conf);
	} else {
		store_conn *c = http_reader(r);
		if (c == NULL)
			return false;
		int rc = store_api_token_get(c, name, row);
		store_reader_release(http_store(r), c);
		if (rc == WEFT_ENOTFOUND) {
			fail_no_token(r, name);
			return false;
		}
		if (rc != 0) {
			http_fail_server(r, rc, "token read");
			return false;
		}
		*v = view_of_row(row);
	}
	if (!token_visible(r, v)) {
		api_token_row_release(row);
		fail_no_token(r, name);
		return false;
	}
	return true;
}

/* Answers the token `name` as it is now (status 200). */
static void answer_named(http_request *r, const char *name)
{
	token_view v;
	api_token_row row;
	if (!read_named(r, name, &v, &row))
		return;
	answer_token(r, 200, &v);
	api_token_row_release(&row);
}

void v1_get_token(http_request *r)
{
	const char *name = admin_or_refuse(r) ? path_name(r) : NULL;
	if (name != NULL)
		answer_named(r, name);
}

/* ---- POST /v1/tokens ------------------------------------------------------------------------ */

typedef struct create_state {
	cmd_token_create cmd;
	json_t *doc;                        /* name is borrowed from it */
	char *namespaces;                   /* "*" or "a,b" */
	char secret[API_TOKEN_SECRET_LEN + 1];
	char digest[2 * TOKEN_DIGEST_LEN + 1];
} create_state;

static void create_state_free(void *p)
{
	create_state *s = p;
	json_decref(s->doc);
	free(s->namespaces);
	OPENSSL_cleanse(s->secret, sizeof s->secret);
	free(s);
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	create_state *s = state;
	if (cmd->result == WEFT_ECONFLICT) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "A token named %s exists already (a revoked token keeps its name).",
		            s->cmd.row.name);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	token_view v = { .name = s->cmd.row.name, .namespaces = s->namespaces, .admin = s->cmd.row.admin,
		         .source = TOKEN_FROM_API, .created_at = s->cmd.row.created_at,
		         .expires_at = s->cmd.row.expires_at, .secret = s->secret };
	answer_token(r, 201, &v);
}

/* "namespaces": ["*"] or 1..TOKEN_NAMESPACES_MAX distinct names, joined
 * into s->namespaces. */
static void decode_namespaces(http_error *e, const json_t *body, create_state *s)
{
	json_t *list = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(e, body, "", "namespaces", DECODE_REQUIRED, &list, path) != 0)
		return;
	size_t n = json_array_size(list);
	if (n == 0 || n > TOKEN_NAMESPACES_MAX) {
		decode_problem(e, "", "namespaces", "must hold 1 to %d namespaces, or \"*\" alone", TOKEN_NAMESPACES_MAX);
		return;
	}
	buf b;
	buf_init(&b);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const char *ns = json_string_value(json_array_get(list, i));
		char at[DECODE_PATH_MAX];
		decode_path_index(at, "namespaces", i);
		bool all = ns != NULL && strcmp(ns, "*") == 0;
		if (ns == NULL || (!all && !namespace_valid(ns))) {
			decode_problem(e, at, NULL, "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}, or \"*\" alone");
			ok = false;
			continue;
		}
		if (all && n > 1) {
			decode_problem(e, at, NULL, "\"*\" (every namespace) stands alone");
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const char *other = json_string_value(json_array_get(list, j));
			if (other != NULL && strcmp(other, ns) == 0) {
				decode_problem(e, at, NULL, "%s is listed twice", ns);
				ok = false;
				break;
			}
		}
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, ns);
	}
	size_t len;
	char *text = buf_detach(&b, &len);
	if (ok)
		s->namespaces = text;
	else
		free(text);
}

static int decode_create(http_request *r, create_state *s)
{
	http_error *e = http_err(r);
	int rc = v1_body_object(r, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const known[] = { "name", "namespaces", "role", "expires_at", NULL };
	decode_unknown_members(e, s->doc, "", known);
	const char *name = NULL, *role = NULL, *expires = NULL;
	if (decode_str(e, s->doc, "", "name", DECODE_REQUIRED, &name) == 0 && !token_name_valid(name))
		decode_problem(e, "", "name", "expected 1 to 64 of [a-z0-9_.-]");
	decode_namespaces(e, s->doc, s);
	if (decode_str(e, s->doc, "", "role", DECODE_REQUIRED, &role) == 0 && strcmp(role, "admin") != 0 &&
	    strcmp(role, "client") != 0)
		decode_problem(e, "", "role", "expected admin or client");
	int64_t expires_at = 0;
	if (decode_str(e, s->doc, "", "expires_at", 0, &expires) == 0 && expires != NULL) {
		if (time_parse_rfc3339(expires, &expires_at) != 0)
			decode_problem(e, "", "expires_at", "expected an RFC 3339 time");
		else if (expires_at <= clock_now_us())
			decode_problem(e, "", "expires_at", "must be in the future");
	}
	if (e->details.len > 0)
		return WEFT_EINVALID;
	s->cmd.row.name = name;
	s->cmd.row.namespaces = s->namespaces;
	s->cmd.row.admin = strcmp(role, "admin") == 0;
	s->cmd.row.expires_at = expires_at;
	return 0;
}

/* Whether the request's token may give the new one its namespaces: a
 * limited admin only its own. Answers 403 when not. */
static bool within_own_namespaces(http_request *r, const char *namespaces)
{
	if (http_ns_all(r))
		return true;
	char unseen[NAMESPACE_MAX + 1] = "*";
	if (strcmp(namespaces, "*") != 0 && list_visible(r, namespaces, unseen))
		return true;
	v1_fail_namespace(r, unseen);
	return false;
}

void v1_create_token(http_request *r)
{
	if (!admin_or_refuse(r))
		return;
	if (http_tokens_current() == NULL) {
		v1_fail_msg(r, WEFT_ECONFLICT, V1_AUTH_DISABLED,
		            "authentication is off: start the server with AUTH_TOKEN or WEFT_TOKENS_FILE to administer "
		            "tokens");
		return;
	}
	/* The secret is never stored, so a replay could not answer it. */
	http_idempotency_ignore(r);
	create_state *s = xcalloc(1, sizeof *s);
	cmd_token_create_init(&s->cmd);
	int rc = decode_create(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		create_state_free(s);
		return;
	}
	if (!within_own_namespaces(r, s->namespaces)) {
		create_state_free(s);
		return;
	}
	const http_token *conf = token_table_find(http_tokens_current(), s->cmd.row.name);
	if (conf != NULL) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "A token named %s comes from %s already.", s->cmd.row.name,
		            conf->source == TOKEN_FROM_FILE ? "WEFT_TOKENS_FILE" : "AUTH_TOKEN or WEFT_TOKENS");
		create_state_free(s);
		return;
	}
	if (api_token_secret_new(s->secret, s->digest) != 0) {
		http_fail_server(r, WEFT_EINTERNAL, "token secret");
		create_state_free(s);
		return;
	}
	s->cmd.row.digest = s->digest;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_create, create_state_free);
}

/* ---- DELETE /v1/tokens/{name} ------------------------------------------------------------------ */

typedef struct revoke_state {
	cmd_token_revoke cmd;
	char name[TOKEN_NAME_MAX + 1];
} revoke_state;

static void finish_revoke(http_request *r, engine_cmd *cmd, void *state)
{
	revoke_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		fail_no_token(r, s->name);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	/* Refused on this node from now on; other nodes' caches age out. */
	http_api_token_forget(s->name);
	answer_named(r, s->name);
}

void v1_revoke_token(http_request *r)
{
	const char *name = admin_or_refuse(r) ? path_name(r) : NULL;
	if (name == NULL)
		return;
	token_view v;
	api_token_row row;
	if (!read_named(r, name, &v, &row))
		return;
	api_token_row_release(&row);
	const http_token *conf = v.configured;
	if (conf != NULL) {
		if (conf->source == TOKEN_FROM_FILE)
			v1_fail_msg(r, WEFT_ECONFLICT, NULL,
			            "Token %s comes from WEFT_TOKENS_FILE: remove it from the file and send the server SIGHUP.",
			            name);
		else
			v1_fail_msg(r, WEFT_ECONFLICT, NULL,
			            "Token %s comes from AUTH_TOKEN or WEFT_TOKENS: change the setting and restart the server.",
			            name);
		return;
	}
	revoke_state *s = xcalloc(1, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	cmd_token_revoke_init(&s->cmd);
	s->cmd.name = s->name;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_revoke, free);
}

/* ---- GET /v1/whoami ------------------------------------------------------------------------------ */

/* Who the request's token is, for any token: a client learns here what it
 * may see without asking the admin-only routes above. Without a token
 * (the server checks none) the answer is an admin seeing everything. */
void v1_whoami(http_request *r)
{
	const http_token *tok = http_token_of(r);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"token\":");
	if (tok != NULL)
		wire_str(&b, tok->name);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"admin\":");
	buf_puts(&b, http_admin(r) ? "true" : "false");
	buf_puts(&b, ",\"namespaces\":");
	if (tok != NULL) {
		token_view v = view_of_configured(tok);
		put_namespaces(&b, &v);
	} else {
		buf_puts(&b, "[\"*\"]");
	}
	buf_puts(&b, ",\"default_namespace\":");
	wire_str(&b, http_default_ns(r));
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}
