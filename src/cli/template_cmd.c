/*
 * template_cmd.c — `weft template [apply|ls|show|run]`: templates on
 * /v1/templates. `apply FILE` registers the version a JSON or YAML file
 * describes (YAML turned into JSON here, as `weft submit` does); the same
 * file again changes nothing, and a changed body under a version that
 * exists is refused (exit 6). `run NAME@VERSION` starts a run of one with
 * a context.
 */
#include "cli/families.h"
#include "cli/input_file.h"
#include "cli/submit_yaml.h"
#include "util/alloc.h"
#include "util/json.h"

#include <errno.h>

/* The most a template file or a --context file may hold: the server's
 * limit on a template's body. */
#define TEMPLATE_FILE_MAX (1u << 20)
#define TEMPLATE_REF_MAX 97      /* name (64) @ version (32) */

static const cli_column TEMPLATE_COLUMNS[] = {
	{ "NAME", "name", COL_TEXT },
	{ "VERSION", "version", COL_TEXT },
	{ "STEPS", "steps", COL_TEXT },
	{ "NAMESPACE", "namespace", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ "DESCRIPTION", "description", COL_TEXT },
	{ 0 },
};

static const cli_column TEMPLATE_FIELDS[] = {
	{ "Name", "name", COL_TEXT },
	{ "Version", "version", COL_TEXT },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Description", "description", COL_TEXT },
	{ "Steps", "steps", COL_TEXT },
	{ "Body hash", "body_hash", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column RUN_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "NAME", "name", COL_TEXT },
	{ "NAMESPACE", "namespace", COL_TEXT },
	{ "CREATED", "created", COL_TEXT },
	{ 0 },
};

/* The bytes of file ("-": stdin), at most TEMPLATE_FILE_MAX, owned in
 * *out; the exit code after a message. */
static int read_file(cli_ctx *c, const char *file, char **out, size_t *len)
{
	bool std_in = strcmp(file, "-") == 0;
	FILE *f = std_in ? stdin : fopen(file, "rb");
	if (!f) {
		cli_fail(c, "cannot open %s: %s", file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t seen;
	int rc = CLI_EXIT_OK;
	switch (cli_read_bounded(f, TEMPLATE_FILE_MAX, out, len, &seen)) {
	case INPUT_READ_OK: break;
	case INPUT_READ_TOO_LARGE:
		cli_fail(c, "%s has more than %u bytes, the most a template may have", file, TEMPLATE_FILE_MAX);
		rc = CLI_EXIT_USAGE;
		break;
	case INPUT_READ_ERROR:
		cli_fail(c, "cannot read %s: %s", file, strerror(errno));
		rc = CLI_EXIT_USAGE;
		break;
	}
	if (!std_in)
		fclose(f);
	return rc;
}

/* The file's document: YAML for .yaml/.yml, JSON for .json, else by its
 * first character ({ or [ is JSON). NULL after a message. */
static json_t *parse_document(cli_ctx *c, const char *file, const char *text, size_t len)
{
	bool yaml = !cli_input_is_json(file, text, len);
	const char *name = strcmp(file, "-") == 0 ? "stdin" : file;
	char err[512];
	json_t *doc = yaml ? submit_yaml_to_json(text, len, name, NULL, err, sizeof err)
	                   : json_parse_body(text, len, JSON_DEFAULT_MAX_DEPTH, err, sizeof err);
	if (!doc)
		cli_fail(c, "%s: %s", name, err);
	return doc;
}

static int apply_template(cli_ctx *c)
{
	const char *file = c->args[0];
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(c, file, &text, &len);
	if (rc != CLI_EXIT_OK)
		return rc;
	json_t *doc = parse_document(c, file, text, len);
	free(text);
	if (!doc)
		return CLI_EXIT_USAGE;
	if (!json_is_object(doc)) {
		cli_fail(c, "%s: a template is a mapping {name, version, description?, steps} (found: %s)", file,
		         json_type_name(doc));
		json_decref(doc);
		return CLI_EXIT_USAGE;
	}
	const char *ns = json_string_value(json_object_get(doc, "namespace"));
	if (c->client.ns && ns && strcmp(ns, c->client.ns) != 0) {
		cli_fail(c, "%s names namespace '%s' but --namespace (or WEFT_NAMESPACE) says '%s': remove one of them",
		         file, ns, c->client.ns);
		json_decref(doc);
		return CLI_EXIT_USAGE;
	}
	if (c->client.ns && !ns)
		json_object_set_new(doc, "namespace", json_string(c->client.ns));
	char *body = json_dump_compact(doc);
	json_decref(doc);
	json_t *answer = NULL;
	long status = 0;
	char err[1024];
	rc = cli_request(c->http, &c->client, "POST", "/v1/templates", body, strlen(body), &answer, &status, err,
	                 sizeof err);
	free(body);
	if (rc != CLI_EXIT_OK) {
		cli_fail(c, "%s", err);
		return rc;
	}
	if (c->json) {
		out_json(stdout, answer);
	} else {
		printf("%s@%s %s (%" JSON_INTEGER_FORMAT " steps, namespace %s)\n",
		       json_string_value(json_object_get(answer, "name")), json_string_value(json_object_get(answer, "version")),
		       status == 201 ? "registered" : "unchanged", json_integer_value(json_object_get(answer, "steps")),
		       json_string_value(json_object_get(answer, "namespace")));
	}
	json_decref(answer);
	return CLI_EXIT_OK;
}

static int list_templates(cli_ctx *c)
{
	return cli_list(c, "/v1/templates", true, "templates", TEMPLATE_COLUMNS);
}

/* NAME@VERSION as "/v1/templates/NAME/VERSION" + suffix in b; false after
 * a message. */
static bool template_path(cli_ctx *c, const char *ref, const char *suffix, buf *b)
{
	const char *at = strrchr(ref, '@');
	if (!at || at == ref || !at[1] || strlen(ref) > TEMPLATE_REF_MAX) {
		cli_fail(c, "'%s' is not NAME@VERSION (e.g. onboard@1.2.0)", ref);
		return false;
	}
	char *name = xstrndup(ref, (size_t)(at - ref));
	buf_reset(b);
	buf_puts(b, "/v1/templates/");
	cli_escape(b, name);
	buf_putc(b, '/');
	cli_escape(b, at + 1);
	if (suffix)
		buf_puts(b, suffix);
	cli_add_query(c, b, true);
	free(name);
	return true;
}

static int show_template(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	if (!template_path(c, c->args[0], NULL, &path)) {
		buf_release(&path);
		return CLI_EXIT_USAGE;
	}
	json_t *t = NULL;
	int rc = cli_call(c, "GET", path.data, NULL, &t);
	buf_release(&path);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->json) {
		out_json(stdout, t);
	} else {
		cli_print_fields(t, TEMPLATE_FIELDS);
		cli_print_json_block("Steps", json_object_get(json_object_get(t, "body"), "steps"));
	}
	json_decref(t);
	return CLI_EXIT_OK;
}

/* --context: JSON text, or @FILE holding JSON. NULL after a message. */
static json_t *context_of(cli_ctx *c, const char *arg)
{
	char err[512];
	if (arg[0] != '@') {
		json_t *v = json_parse_body(arg, strlen(arg), JSON_DEFAULT_MAX_DEPTH, err, sizeof err);
		if (!v)
			cli_fail(c, "--context: not JSON (%s); give JSON text or @FILE", err);
		return v;
	}
	char *text = NULL;
	size_t len = 0;
	if (read_file(c, arg + 1, &text, &len) != CLI_EXIT_OK)
		return NULL;
	json_t *v = json_parse_body(text, len, JSON_DEFAULT_MAX_DEPTH, err, sizeof err);
	free(text);
	if (!v)
		cli_fail(c, "--context %s: not JSON (%s)", arg, err);
	return v;
}

static int run_template(cli_ctx *c)
{
	const char *ctx_arg = cli_val(c, "--context"), *key = cli_val(c, "--key"),
	           *identity = cli_val(c, "--identity");
	json_t *body = json_object();
	if (ctx_arg) {
		json_t *ctx = context_of(c, ctx_arg);
		if (!ctx) {
			json_decref(body);
			return CLI_EXIT_USAGE;
		}
		json_object_set_new(body, "context", ctx);
	}
	if (key)
		json_object_set_new(body, "idempotency_key", json_string(key));
	if (identity)
		json_object_set_new(body, "identity", json_string(identity));
	buf path;
	buf_init(&path);
	int rc = CLI_EXIT_USAGE;
	json_t *answer = NULL;
	if (template_path(c, c->args[0], "/runs", &path))
		rc = cli_call(c, "POST", path.data, body, &answer);
	buf_release(&path);
	json_decref(body);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, RUN_COLUMNS);
	json_decref(answer);
	return rc;
}

static const cli_opt LIST_OPTS[] = {
	{ "--name", "NAME", "name", "only this template's versions" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static const cli_opt RUN_OPTS[] = {
	{ "--context", "JSON|@FILE", NULL, "the run's context (each step's input.context)" },
	{ "--key", "KEY", NULL, "an idempotency key: a repeat with it answers the same run" },
	{ "--identity", "context|key|none", NULL,
	  "what a repeat is judged by (default: key with --key, else the context)" },
	{ 0 },
};

const cli_family CLI_TEMPLATE = {
	"template",
	"register, list, show and run templates (versioned DAGs of steps)",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list template versions, newest first", NULL, LIST_OPTS, list_templates, NULL },
		{ "apply", "FILE", 1, 1, "register the template version a JSON or YAML file describes",
		  "FILE (- for stdin) holds {name, version, description?, steps: [...]}, each step a task\n"
		  "of a run (as `weft submit` takes it). The same body again changes nothing; another body\n"
		  "under a version that exists is refused (exit 6): register it as a new version.\n",
		  NULL, apply_template, NULL },
		{ "show", "NAME@VERSION", 1, 1, "show a template version with its steps", NULL, NULL, show_template,
		  NULL },
		{ "run", "NAME@VERSION", 1, 1, "start a run of a template version",
		  "Each queue step's input is {\"context\": CONTEXT, \"config\": the step's own input}. A repeat\n"
		  "with the same context (or --key) answers the run it started (CREATED false).\n",
		  RUN_OPTS, run_template, NULL },
		{ 0 },
	},
};
