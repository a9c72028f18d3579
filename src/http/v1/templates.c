/*
 * templates.c — the /v1 template routes: named, versioned DAGs of steps,
 * and the runs started from them.
 *
 *   POST /v1/templates                          register {namespace?, name, version, description?, steps}:
 *                                               201 new, 200 the same body again, 409 another body
 *   GET  /v1/templates                          versions, newest first (?namespace=, ?name=, cursor, limit)
 *   GET  /v1/templates/{name}/{version}         one version, with its body
 *   POST /v1/templates/{name}/{version}/runs    start a run {namespace?, context?, idempotency_key?,
 *                                               identity?}: 201 new, 200 the run of the same identity
 *
 * A step is a task of POST /v1/runs, checked by that route's decoder, so
 * a template takes every executor option and limit a run takes and its
 * errors name the step ("steps[2].parents[0].ref: …"). A version never
 * changes: its body is kept as canonical JSON (keys sorted) with its
 * SHA-256, which tells a repeated registration from a conflicting one.
 *
 * A run of a version is an ordinary run (GET /v1/runs/{id}), named
 * "<name>@<version>", submitted as POST /v1/runs submits one; each queue
 * step's input is {"context": <the request's context>, "config": <the
 * step's own input, or null>}. Its identity makes a repeated request
 * answer the same run: "context" (the SHA-256 of the canonical context),
 * "key" (idempotency_key) or "none". Routes with {name} take the
 * namespace from ?namespace= (the token's default otherwise).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include <openssl/evp.h>

#include "core/error.h"
#include "core/limits.h"
#include "engine/commands/templates.h"
#include "http/decode.h"
#include "http/v1/cursor.h"
#include "http/v1/decode_run.h"
#include "http/v1/errors.h"
#include "http/v1/task_list.h"
#include "http/v1/template_names.h"
#include "http/v1/v1.h"
#include "http/wire.h"
#include "store/templates.h"
#include "util/alloc.h"
#include "util/buf.h"

#define TEMPLATE_DESCRIPTION_MAX 1024
#define TEMPLATE_STEPS_MAX 1000
#define TEMPLATE_BODY_MAX (1 << 20)            /* canonical JSON of a version */
#define TEMPLATE_CONTEXT_MAX (256 * 1024)      /* canonical JSON of a run's context */
#define TEMPLATE_KEY_MAX 255
/* Levels a run built from a version adds above a context or a step's input. */
#define RUN_WRAPPER_DEPTH 4

static const char name_rule[] = "expected [a-z][a-z0-9_.-]{0,63}";
static const char version_rule[] = "expected 1 to 32 characters of [A-Za-z0-9._-]";

/* JSON with object keys sorted at every depth, compact (owned): the same
 * value gives the same text whatever the order it was written in. */
static char *canonical_json(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

/* The SHA-256 of text as 64 hex digits. */
static void sha256_hex(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Decodes {"tasks": steps} with the decoder of POST /v1/runs into *in
 * (released by the caller on 0), each of its problems recorded in e
 * against "steps…" instead of "tasks…". */
static int decode_steps_as_run(const char *run_text, const weft_config *cfg, v1_run_input *in, http_error *e,
                               bool *too_large)
{
	http_error inner;
	http_error_init(&inner);
	int rc = v1_decode_run(run_text, strlen(run_text), cfg, in, &inner);
	for (size_t i = 0; i < inner.details.len; i++) {
		const char *d = inner.details.items[i];
		if (strncmp(d, "tasks", 5) == 0)
			http_error_detail(e, "steps%s", d + 5);
		else
			http_error_detail(e, "%s", d);
	}
	if (rc != 0 && inner.details.len == 0)
		http_error_detail(e, "steps: %s", inner.message[0] ? inner.message : "not valid");
	*too_large |= rc == WEFT_ETOOLARGE;
	http_error_release(&inner);
	return rc;
}

/* {name} and {version} of the path; false after answering 400. */
static bool route_version(http_request *r, const char **name, const char **version)
{
	*name = http_param_text(r, 0);
	*version = http_param_text(r, 1);
	if (*name == NULL || !template_name_valid(*name, strlen(*name))) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "name: %s.", name_rule);
		return false;
	}
	if (*version == NULL || !template_version_valid(*version)) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "version: %s.", version_rule);
		return false;
	}
	return true;
}

static void fail_no_template(http_request *r, const char *ns, const char *name, const char *version)
{
	v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No template %s@%s in namespace %s.", name, version, ns);
}

/* ---- the Template shape ------------------------------------------------------------------ */

static void put_template(buf *b, const template_row *t, bool with_body)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, t->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, t->name);
	buf_puts(b, ",\"version\":");
	wire_str(b, t->version);
	buf_puts(b, ",\"description\":");
	if (t->description != NULL)
		wire_str(b, t->description);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"steps\":");
	wire_i64(b, t->steps);
	buf_puts(b, ",\"body_hash\":");
	wire_str(b, t->body_hash);
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, t->created_at);
	if (with_body) {
		buf_puts(b, ",\"body\":");
		wire_raw(b, t->body, "null");
	}
	buf_putc(b, '}');
}

/* Reads the version and answers it with status. */
static void answer_template(http_request *r, int status, const char *ns, const char *name, const char *version)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	template_row t;
	int rc = store_template_get(c, ns, name, version, &t);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		fail_no_template(r, ns, name, version);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "template read");
		return;
	}
	buf b;
	buf_init(&b);
	put_template(&b, &t, true);
	template_row_release(&t);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* ---- POST /v1/templates ---------------------------------------------------------------------- */

typedef struct put_state {
	cmd_template_put cmd;
	json_t *doc;                 /* strings are borrowed from it */
	char *body;                  /* canonical JSON */
	char hash[65];
	char namespace[NAMESPACE_MAX + 1];
} put_state;

static void put_state_free(void *p)
{
	put_state *s = p;
	json_decref(s->doc);
	free(s->body);
	free(s);
}

static int decode_put(http_request *r, put_state *s)
{
	http_error *e = http_err(r);
	size_t len;
	const char *text = http_body(r, &len);
	if (len > TEMPLATE_BODY_MAX) {
		decode_problem(e, "", NULL, "the template is %zu bytes; the limit is %d", len, TEMPLATE_BODY_MAX);
		return WEFT_ETOOLARGE;
	}
	int rc = decode_body_object(text, len, http_config(r)->json_max_depth, e, &s->doc);
	if (rc != 0)
		return rc;
	bool too_large = false;
	static const char *const known[] = { "namespace", "name", "version", "description", "steps", NULL };
	decode_unknown_members(e, s->doc, "", known);
	const char *ns = NULL, *name = NULL, *version = NULL;
	if (decode_str(e, s->doc, "", "namespace", 0, &ns) == 0 && ns != NULL && !namespace_valid(ns))
		decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (decode_str(e, s->doc, "", "name", DECODE_REQUIRED, &name) == 0 && !template_name_valid(name, strlen(name)))
		decode_problem(e, "", "name", "%s", name_rule);
	if (decode_str(e, s->doc, "", "version", DECODE_REQUIRED, &version) == 0 && !template_version_valid(version))
		decode_problem(e, "", "version", "%s", version_rule);
	const char *description =
		decode_str_bounded(e, s->doc, "", "description", 0, TEMPLATE_DESCRIPTION_MAX, &too_large);
	json_t *steps = NULL;
	char path[DECODE_PATH_MAX];
	size_t nsteps = 0;
	if (decode_array(e, s->doc, "", "steps", DECODE_REQUIRED, &steps, path) == 0 && steps != NULL) {
		nsteps = json_array_size(steps);
		if (nsteps == 0 || nsteps > TEMPLATE_STEPS_MAX) {
			decode_problem(e, "", "steps", "must have 1 to %d steps, has %zu", TEMPLATE_STEPS_MAX, nsteps);
			too_large |= nsteps > TEMPLATE_STEPS_MAX;
		} else {
			json_t *run = json_pack("{s:O}", "tasks", steps);
			char *run_text = json_dump_compact(run);
			json_decref(run);
			v1_run_input in;
			if (decode_steps_as_run(run_text, http_config(r), &in, e, &too_large) == 0)
				v1_run_input_release(&in);
			free(run_text);
		}
	}
	if (e->details.len > 0)
		return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;

	/* The version's body: what was given but the namespace, canonical. */
	json_t *body = json_deep_copy(s->doc);
	json_object_del(body, "namespace");
	s->body = canonical_json(body);
	json_decref(body);
	sha256_hex(s->body, s->hash);
	snprintf(s->namespace, sizeof s->namespace, "%s", ns != NULL ? ns : http_default_ns(r));
	template_row *row = &s->cmd.row;
	id_new_v7(&row->id);
	row->namespace = s->namespace;
	row->name = (char *)name;
	row->version = (char *)version;
	row->description = (char *)description;
	row->body = s->body;
	row->body_hash = s->hash;
	row->steps = (int64_t)nsteps;
	row->created_by = (char *)http_actor(r);
	return 0;
}

static void finish_put(http_request *r, engine_cmd *cmd, void *state)
{
	put_state *s = state;
	const template_row *t = &s->cmd.row;
	if (cmd->result == WEFT_ECONFLICT) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL,
		            "Template %s@%s exists in namespace %s with another body (sha256 %s, this one %s): a "
		            "version never changes, register the change as a new version.",
		            t->name, t->version, t->namespace, s->cmd.existing_hash, t->body_hash);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	answer_template(r, s->cmd.created ? 201 : 200, t->namespace, t->name, t->version);
}

void v1_put_template(http_request *r)
{
	put_state *s = xcalloc(1, sizeof *s);
	cmd_template_put_init(&s->cmd);
	int rc = decode_put(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		put_state_free(s);
		return;
	}
	if (!http_ns_visible(r, s->namespace)) {
		v1_fail_namespace(r, s->namespace);
		put_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_put, put_state_free);
}

/* ---- GET /v1/templates, GET /v1/templates/{name}/{version} ------------------------------------ */

static int bad_param(http_request *r, const char *param, const char *why)
{
	http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, param, "%s", why);
	http_fail(r, WEFT_EINVALID);
	return -1;
}

/* A version in a list: without its body. */
static void put_listed_template(buf *b, const void *item)
{
	put_template(b, item, false);
}

void v1_list_templates(http_request *r)
{
	http_query_src q = http_query_src_of(r);
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, http_err(r), &limit, NULL) != 0) {
		bad_param(r, "limit", "expected an integer from 1 to 1000");
		return;
	}
	const char *name = http_query(r, "name");
	if (name != NULL && !template_name_valid(name, strlen(name))) {
		bad_param(r, "name", name_rule);
		return;
	}
	const char *ns = v1_route_namespace(r);
	if (ns == NULL)
		return;
	char filters[160];
	snprintf(filters, sizeof filters, "templates|ns=%s|name=%s", ns, name ? name : "");
	uint64_t fp = v1_fingerprint(filters);
	const char *text = http_query(r, "cursor");
	v1_cursor after = { 0 };
	if (text != NULL && v1_cursor_take(text, fp, http_err(r), &after) != 0) {
		http_fail(r, WEFT_EINVALID);
		return;
	}
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	template_row *rows = NULL;
	size_t n = 0;
	int rc = store_template_list(c, ns, name, after.at, text != NULL ? &after.id : NULL, (size_t)limit + 1, &rows,
	                             &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_templates(rows, n);
		http_fail_server(r, rc, "template list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	v1_cursor next = { 0 };
	if (n > shown)
		next = (v1_cursor){ .at = rows[shown - 1].created_at, .id = rows[shown - 1].id, .filters = fp };
	v1_respond_page(r, "templates", rows, shown, sizeof *rows, put_listed_template, n > shown ? &next : NULL);
	store_free_templates(rows, n);
}

void v1_get_template(http_request *r)
{
	const char *name, *version;
	if (!route_version(r, &name, &version))
		return;
	const char *ns = v1_route_namespace(r);
	if (ns != NULL)
		answer_template(r, 200, ns, name, version);
}

/* ---- POST /v1/templates/{name}/{version}/runs ---------------------------------------------- */

typedef struct run_state {
	cmd_template_run cmd;
	v1_run_input in;
	json_t *doc;
	char *context;               /* canonical JSON */
	char *identity;
	char ns[NAMESPACE_MAX + 1];
	char name[TEMPLATE_NAME_MAX + 1];
	char version[TEMPLATE_VERSION_MAX + 1];
} run_state;

static void run_state_free(void *p)
{
	run_state *s = p;
	v1_run_input_release(&s->in);
	json_decref(s->doc);
	free(s->context);
	free(s->identity);
	free(s);
}

/* The request's body: context, identity, namespace. */
static int decode_run_request(http_request *r, run_state *s, const char **ns)
{
	http_error *e = http_err(r);
	size_t len;
	const char *text = http_body(r, &len);
	int rc = len == 0 ? (s->doc = json_object(), 0)
	                  : decode_body_object(text, len, http_config(r)->json_max_depth, e, &s->doc);
	if (rc != 0)
		return rc;
	bool too_large = false;
	static const char *const known[] = { "namespace", "context", "idempotency_key", "identity", NULL };
	decode_unknown_members(e, s->doc, "", known);
	*ns = NULL;
	if (decode_str(e, s->doc, "", "namespace", 0, ns) == 0 && *ns != NULL && !namespace_valid(*ns))
		decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	const char *key = decode_str_bounded(e, s->doc, "", "idempotency_key", 0, TEMPLATE_KEY_MAX, &too_large);
	if (key != NULL && key[0] == '\0')
		decode_problem(e, "", "idempotency_key", "must not be empty");
	const char *identity = NULL;
	if (decode_str(e, s->doc, "", "identity", 0, &identity) == 0 && identity != NULL) {
		if (strcmp(identity, "context") != 0 && strcmp(identity, "key") != 0 && strcmp(identity, "none") != 0)
			decode_problem(e, "", "identity", "expected context, key or none");
		else if (strcmp(identity, "key") == 0 && key == NULL)
			decode_problem(e, "", "idempotency_key", "required with identity key");
		else if (strcmp(identity, "key") != 0 && key != NULL)
			decode_problem(e, "", "idempotency_key", "only with identity key (it is %s)", identity);
	}
	if (identity == NULL)
		identity = key != NULL ? "key" : "context";
	json_t *context = json_object_get(s->doc, "context");
	s->context = canonical_json(context != NULL ? context : json_null());
	if (strlen(s->context) > TEMPLATE_CONTEXT_MAX) {
		decode_problem(e, "", "context", "is %zu bytes of JSON; the limit is %d", strlen(s->context),
		               TEMPLATE_CONTEXT_MAX);
		too_large = true;
	}
	if (e->details.len > 0)
		return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	if (strcmp(identity, "context") == 0) {
		char hash[65];
		sha256_hex(s->context, hash);
		s->identity = xasprintf("ctx:%s", hash);
	} else if (strcmp(identity, "key") == 0) {
		s->identity = xasprintf("key:%s", key);
	}
	return 0;
}

/* The run of the version's steps for context (JSON text): each queue
 * step's input becomes {"context", "config"}; decoded by the decoder of
 * POST /v1/runs into *in, its problems recorded in e. What a request
 * and a schedule's firing (template_runs_expand) start alike. */
static int build_run(const weft_config *base, const template_row *t, const char *context_text, v1_run_input *in,
                     http_error *e)
{
	json_t *body = json_parse_text(t->body);
	json_t *steps = json_object_get(body, "steps");
	json_t *context = json_parse_text(context_text);
	if (!json_is_array(steps) || context == NULL) {
		json_decref(body);
		json_decref(context);
		return WEFT_EINTERNAL;
	}
	json_t *tasks = json_array();
	for (size_t i = 0; i < json_array_size(steps); i++) {
		json_t *task = json_deep_copy(json_array_get(steps, i));
		const char *exec = json_string_value(json_object_get(task, "executor"));
		if (exec == NULL || strcmp(exec, "queue") == 0) {
			json_t *config = json_object_get(task, "input");
			json_t *input = json_pack("{s:O,s:O}", "context", context, "config", config ? config : json_null());
			json_object_set_new(task, "input", input);
		}
		json_array_append_new(tasks, task);
	}
	char run_name[TEMPLATE_NAME_MAX + TEMPLATE_VERSION_MAX + 2];
	snprintf(run_name, sizeof run_name, "%s@%s", t->name, t->version);
	json_t *run = json_pack("{s:s,s:s,s:o}", "namespace", t->namespace, "name", run_name, "tasks", tasks);
	char *text = json_dump_compact(run);
	json_decref(run);
	json_decref(context);
	json_decref(body);
	/* The request and the version were each within the nesting limit; the
	 * run nests the context and a step's input a few levels deeper
	 * ({"tasks": [{"input": {"context": …}}]}), which is not the caller's
	 * doing. */
	weft_config cfg = *base;
	cfg.json_max_depth += RUN_WRAPPER_DEPTH;
	bool too_large = false;
	int rc = decode_steps_as_run(text, &cfg, in, e, &too_large);
	free(text);
	return rc;
}

/* ---- the engine's template runs (engine/commands/templates.h) ----------------------------- */

static int template_runs_expand(const void *arg, const template_row *t, const char *context, const char *actor,
                                cmd_submit *submit, void **held, char *why, size_t whylen)
{
	v1_run_input *in = xcalloc(1, sizeof *in);
	http_error e;
	http_error_init(&e);
	int rc = build_run(arg, t, context, in, &e);
	if (rc != 0) {
		snprintf(why, whylen, "%s", e.details.len > 0 ? e.details.items[0]
		                            : e.message[0] != '\0' ? e.message : weft_strerror(rc));
		http_error_release(&e);
		free(in);
		return rc;
	}
	http_error_release(&e);
	v1_run_submit_init(submit, in, t->namespace, actor);
	*held = in;
	return 0;
}

static void template_runs_release(void *held)
{
	if (held == NULL)
		return;
	v1_run_input_release(held);
	free(held);
}

void v1_template_runs_init(template_expander *x, const weft_config *cfg)
{
	*x = (template_expander){ .expand = template_runs_expand, .release = template_runs_release, .arg = cfg };
}

static void finish_run(http_request *r, engine_cmd *cmd, void *state)
{
	run_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	if (s->cmd.created) {
		v1_put_run_created(&b, &s->cmd.run_id, s->ns, &s->in);
	} else {
		buf_puts(&b, "{\"id\":");
		wire_id(&b, &s->cmd.run_id);
		buf_puts(&b, ",\"namespace\":");
		wire_str(&b, s->ns);
		buf_puts(&b, ",\"name\":");
		wire_str(&b, s->in.name);
	}
	buf_puts(&b, ",\"template\":{\"name\":");
	wire_str(&b, s->name);
	buf_puts(&b, ",\"version\":");
	wire_str(&b, s->version);
	buf_puts(&b, "},\"created\":");
	wire_bool(&b, s->cmd.created);
	buf_putc(&b, '}');
	http_respond_json(r, s->cmd.created ? 201 : 200, &b);
	buf_release(&b);
}

void v1_run_template(http_request *r)
{
	const char *name, *version;
	if (!route_version(r, &name, &version))
		return;
	run_state *s = xcalloc(1, sizeof *s);
	const char *body_ns = NULL;
	int rc = decode_run_request(r, s, &body_ns);
	if (rc != 0) {
		http_fail(r, rc);
		run_state_free(s);
		return;
	}
	const char *query_ns = http_query(r, "namespace");
	if (body_ns != NULL && query_ns != NULL && strcmp(body_ns, query_ns) != 0) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "namespace: the body says %s, the query %s.", body_ns, query_ns);
		run_state_free(s);
		return;
	}
	const char *ns = body_ns;
	if (ns == NULL && (ns = v1_route_namespace(r)) == NULL) {
		run_state_free(s);
		return;
	}
	if (!http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		run_state_free(s);
		return;
	}
	snprintf(s->ns, sizeof s->ns, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->version, sizeof s->version, "%s", version);
	store_conn *c = http_reader(r);
	if (c == NULL) {
		run_state_free(s);
		return;
	}
	template_row t;
	rc = store_template_get(c, s->ns, s->name, s->version, &t);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		fail_no_template(r, s->ns, s->name, s->version);
		run_state_free(s);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "template read");
		run_state_free(s);
		return;
	}
	rc = build_run(http_config(r), &t, s->context, &s->in, http_err(r));
	template_row_release(&t);
	if (rc != 0) {
		if (rc == WEFT_EINTERNAL)
			http_fail_server(r, rc, "template body");
		else
			http_fail(r, rc);
		run_state_free(s);
		return;
	}
	cmd_template_run_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	v1_run_submit_init(&s->cmd.submit, &s->in, s->ns, http_actor(r));
	s->cmd.namespace = s->ns;
	s->cmd.name = s->name;
	s->cmd.version = s->version;
	s->cmd.identity = s->identity;
	s->cmd.context = s->context;
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_run, run_state_free);
}
