/*
 * command.c — the frame of the client commands: option parsing and help,
 * calls, paged lists, tables and details views (see command.h).
 */
#include "cli/command.h"
#include "util/alloc.h"
#include "util/json.h"

#include <curl/curl.h>
#include <stdarg.h>

#define CALL_TIMEOUT_MS 60000

static const char COMMON_HELP[] = "  --json                   print the server's JSON answer instead of a table\n";

static size_t opt_count(const cli_cmd *cmd)
{
	size_t n = 0;
	while (cmd->opts && cmd->opts[n].name)
		n++;
	return n;
}

static void print_usage_line(FILE *f, const cli_family *fam, const cli_cmd *cmd)
{
	fprintf(f, "usage: weft %s%s%s [options]%s%s\n", fam->name, cmd->name ? " " : "", cmd->name ? cmd->name : "",
	        cmd->args ? " " : "", cmd->args ? cmd->args : "");
}

static void print_cmd_help(FILE *f, const cli_family *fam, const cli_cmd *cmd)
{
	print_usage_line(f, fam, cmd);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s", cmd->details);
	fputs("\noptions:\n", f);
	for (size_t i = 0; i < opt_count(cmd); i++) {
		const cli_opt *o = &cmd->opts[i];
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
	fputs(COMMON_HELP, f);
	fputs(CLI_CLIENT_OPTS_HELP, f);
	fputs("  -h, --help               show this text\n\nexit codes:\n", f);
	fputs(CLI_EXIT_CODES_HELP, f);
}

static void print_family_help(FILE *f, const cli_family *fam)
{
	fprintf(f, "usage: weft %s <command> [options]\n\n%s\n\ncommands:\n", fam->name, fam->summary);
	for (const cli_cmd *cmd = fam->cmds; cmd->name; cmd++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s", cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "");
		fprintf(f, "  %-28s %s\n", left, cmd->summary);
	}
	fprintf(f, "\nWithout a command: %s. `weft %s <command> --help` tells more.\n", fam->cmds[0].name, fam->name);
}

int cli_family_help(const cli_family *fam, const char *sub, FILE *f)
{
	if (!fam->cmds[0].name) {
		print_cmd_help(f, fam, &fam->cmds[0]);
		return CLI_EXIT_OK;
	}
	if (!sub) {
		print_family_help(f, fam);
		return CLI_EXIT_OK;
	}
	for (const cli_cmd *cmd = fam->cmds; cmd->name; cmd++) {
		if (strcmp(cmd->name, sub) == 0) {
			print_cmd_help(f, fam, cmd);
			return CLI_EXIT_OK;
		}
	}
	fprintf(stderr, "weft %s: no command '%s' (see `weft %s --help`)\n", fam->name, sub, fam->name);
	return CLI_EXIT_USAGE;
}

const char *cli_val(const cli_ctx *c, const char *name)
{
	for (size_t i = 0; i < opt_count(c->cmd); i++)
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return c->vals[i];
	return NULL;
}

void cli_fail(const cli_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", c->prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Takes argv[*i] as one of the command's options: 1, 0 when it is none
 * of them, -1 when its value is missing. */
static int take_opt(cli_ctx *c, int argc, char **argv, int *i)
{
	for (size_t k = 0; k < opt_count(c->cmd); k++) {
		const cli_opt *o = &c->cmd->opts[k];
		if (!o->arg) {
			if (strcmp(argv[*i], o->name) != 0)
				continue;
			c->vals[k] = "";
			return 1;
		}
		const char *v;
		int r = cli_opt_value(c->prog, argc, argv, i, o->name, &v);
		if (r != 0) {
			c->vals[k] = v;
			return r;
		}
	}
	return 0;
}

/* Parses argv (after the command's name): 0 to run, 1 when help was
 * printed, or -1 with a message. */
static int parse_args(cli_ctx *c, int argc, char **argv)
{
	bool only_args = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
			c->args[c->nargs++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			only_args = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_cmd_help(stdout, c->family, c->cmd);
			return 1;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if ((r = cli_client_opt(c->prog, argc, argv, &i, &c->client)) != 0 ||
		           (r = take_opt(c, argc, argv, &i)) != 0) {
			if (r < 0)
				return -1;
		} else {
			cli_fail(c, "unknown option '%s' (see `%s --help`)", a, c->prog);
			return -1;
		}
	}
	const cli_cmd *cmd = c->cmd;
	if (c->nargs < cmd->min_args || (cmd->max_args >= 0 && c->nargs > cmd->max_args)) {
		cli_fail(c, c->nargs < cmd->min_args ? "missing %s (see `%s --help`)" : "too many arguments for %s (see `%s --help`)",
		         cmd->args ? cmd->args : "no argument", c->prog);
		return -1;
	}
	c->all = cli_val(c, "--all") != NULL;
	return 0;
}

static int run_cmd(const cli_family *fam, const cli_cmd *cmd, int argc, char **argv)
{
	cli_ctx c = { .family = fam, .cmd = cmd };
	snprintf(c.prog, sizeof(c.prog), "weft %s%s%s", fam->name, cmd->name ? " " : "", cmd->name ? cmd->name : "");
	cli_client_opts_init(&c.client);
	c.args = xcalloc((size_t)argc + 1, sizeof(char *));
	int rc = parse_args(&c, argc, argv);
	if (rc == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		c.http = cli_client_new(c.prog, &c.client, CALL_TIMEOUT_MS);
		rc = c.http ? cmd->run(&c) : CLI_EXIT_USAGE;
		http_client_free(c.http);
		curl_global_cleanup();
	} else {
		rc = rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	free(c.args);
	return rc;
}

int cli_family_main(const cli_family *fam, int argc, char **argv)
{
	const cli_cmd *cmd = &fam->cmds[0];
	if (!cmd->name)
		return run_cmd(fam, cmd, argc - 1, argv + 1);
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
			return cli_family_help(fam, NULL, stdout);
		return run_cmd(fam, cmd, argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "help") == 0)
		return cli_family_help(fam, argc > 2 ? argv[2] : NULL, stdout);
	for (; cmd->name; cmd++)
		if (strcmp(cmd->name, argv[1]) == 0)
			return run_cmd(fam, cmd, argc - 2, argv + 2);
	fprintf(stderr, "weft %s: no command '%s'\n\n", fam->name, argv[1]);
	print_family_help(stderr, fam);
	return CLI_EXIT_USAGE;
}

/* ---- requests ------------------------------------------------------------- */

void cli_escape(buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			buf_putc(b, (char)ch);
		else
			buf_printf(b, "%%%02X", ch);
	}
}

void cli_path(buf *b, const char *prefix, const char *id, const char *suffix)
{
	buf_reset(b);
	buf_puts(b, prefix);
	cli_escape(b, id);
	if (suffix)
		buf_puts(b, suffix);
}

static void add_param(buf *b, const char *name, const char *value)
{
	buf_putc(b, memchr(b->data, '?', b->len) ? '&' : '?');
	buf_puts(b, name);
	buf_putc(b, '=');
	cli_escape(b, value);
}

/* cli_add_query, leaving out the parameter skip (NULL: none). */
static void add_query(const cli_ctx *c, buf *b, bool with_namespace, const char *skip)
{
	if (with_namespace && c->client.ns)
		add_param(b, "namespace", c->client.ns);
	for (size_t i = 0; i < opt_count(c->cmd); i++) {
		const cli_opt *o = &c->cmd->opts[i];
		if (o->query && c->vals[i] && !(skip && strcmp(o->query, skip) == 0))
			add_param(b, o->query, c->vals[i]);
	}
}

void cli_add_query(const cli_ctx *c, buf *b, bool with_namespace)
{
	add_query(c, b, with_namespace, NULL);
}

int cli_call(cli_ctx *c, const char *method, const char *path, const json_t *body, json_t **answer)
{
	char *text = body ? json_dump_compact(body) : NULL;
	char err[1024];
	int rc = cli_request(c->http, &c->client, method, path, text, text ? strlen(text) : 0, answer, NULL, err,
	                     sizeof(err));
	free(text);
	if (rc != CLI_EXIT_OK)
		cli_fail(c, "%s", err);
	return rc;
}

/* ---- tables and views ------------------------------------------------------ */

json_t *cli_member(const json_t *obj, const char *key)
{
	const char *dot = strchr(key, '.');
	if (!dot)
		return json_object_get(obj, key);
	char head[64];
	snprintf(head, sizeof(head), "%.*s", (int)(dot - key), key);
	return cli_member(json_object_get(obj, head), dot + 1);
}

char *cli_cell_text(const json_t *v, cli_col_kind kind)
{
	char tmp[64];
	if (!v || json_is_null(v))
		return xstrdup("-");
	if (kind == COL_TIME && json_is_string(v)) {
		out_reltime(json_string_value(v), tmp, sizeof(tmp));
		return xstrdup(tmp);
	}
	if (kind == COL_LIST && json_is_array(v)) {
		buf b;
		buf_init(&b);
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *e = json_array_get(v, i);
			char *t = cli_cell_text(e, COL_TEXT);
			buf_printf(&b, "%s%s", i ? "," : "", t);
			free(t);
		}
		return b.len ? buf_detach(&b, NULL) : (buf_release(&b), xstrdup("-"));
	}
	if (json_is_string(v) && kind != COL_JSON)
		return xstrdup(json_string_value(v));
	if (json_is_integer(v) && kind != COL_JSON)
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v) && kind != COL_JSON)
		return xstrdup(json_is_true(v) ? "yes" : "no");
	return json_dump_compact(v);
}

static const char *cell_color(const json_t *v, cli_col_kind kind)
{
	return kind == COL_STATUS ? out_status_color(json_string_value(v)) : NULL;
}

void cli_print_table(const json_t *items, const cli_column *cols)
{
	out_table *t = out_table_new();
	for (const cli_column *col = cols; col->header; col++) {
		out_table_header(t, col->header);
		if (col->kind == COL_ID)
			out_table_keep(t);
	}
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *item = json_array_get(items, i);
		for (const cli_column *col = cols; col->header; col++) {
			const json_t *v = cli_member(item, col->key);
			char *text = cli_cell_text(v, col->kind);
			out_table_cell(t, text, cell_color(v, col->kind));
			free(text);
		}
	}
	out_table_print(t, stdout);
}

int cli_print_one(const cli_ctx *c, const json_t *obj, const cli_column *cols)
{
	if (c->json) {
		out_json(stdout, obj);
		return CLI_EXIT_OK;
	}
	json_t *one = json_pack("[O]", obj);
	cli_print_table(one, cols);
	json_decref(one);
	return CLI_EXIT_OK;
}

void cli_print_fields(const json_t *obj, const cli_column *cols)
{
	int width = 0;
	for (const cli_column *col = cols; col->header; col++)
		width = MAX(width, (int)strlen(col->header));
	for (const cli_column *col = cols; col->header; col++) {
		const json_t *v = cli_member(obj, col->key);
		if (!v || json_is_null(v))
			continue;
		char *text = cli_cell_text(v, col->kind);
		if (col->kind == COL_TIME && json_is_string(v)) {
			char *both = xasprintf("%s (%s)", text, json_string_value(v));
			free(text);
			text = both;
		}
		out_field(stdout, width, col->header, text, cell_color(v, col->kind));
		free(text);
	}
}

void cli_print_json_block(const char *label, const json_t *v)
{
	if (!v)
		return;
	printf("%s:\n", label);
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		printf("  %s\n", line);
	}
	free(text);
}

int cli_list(cli_ctx *c, const char *path, bool with_namespace, const char *key, const cli_column *cols)
{
	buf base;
	buf_init(&base);
	buf_puts(&base, path);
	add_query(c, &base, with_namespace, c->all ? "cursor" : NULL);
	json_t *items = json_array();
	char *cursor = c->all && cli_val(c, "--cursor") ? xstrdup(cli_val(c, "--cursor")) : NULL;
	int rc;
	for (;;) {
		buf page;
		buf_init(&page);
		buf_append(&page, base.data, base.len);
		if (cursor)
			add_param(&page, "cursor", cursor);
		json_t *answer = NULL;
		rc = cli_call(c, "GET", page.data, NULL, &answer);
		buf_release(&page);
		if (rc != CLI_EXIT_OK)
			break;
		json_array_extend(items, json_object_get(answer, key));
		const char *next = json_string_value(json_object_get(answer, "next_cursor"));
		free(cursor);
		cursor = next ? xstrdup(next) : NULL;
		if (!c->all) {
			if (c->json)
				out_json(stdout, answer);
			json_decref(answer);
			break;
		}
		json_decref(answer);
		if (!cursor)
			break;
	}
	if (rc == CLI_EXIT_OK && (c->all || !c->json)) {
		if (c->json)
			out_json(stdout, items);
		else
			cli_print_table(items, cols);
		if (!c->all && !c->json && cursor)
			fprintf(stderr, "(more: add --cursor %s, or --all)\n", cursor);
	}
	free(cursor);
	json_decref(items);
	buf_release(&base);
	return rc;
}

int cli_act(cli_ctx *c, const cli_action *a, const json_t *body)
{
	if (!a)
		a = c->cmd->data;
	buf path;
	buf_init(&path);
	cli_path(&path, a->prefix, c->args[0], a->suffix);
	if (a->with_namespace && c->client.ns)
		add_param(&path, "namespace", c->client.ns);
	json_t *answer = NULL;
	int rc = cli_call(c, a->method, path.data, body, &answer);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, a->cols);
	json_decref(answer);
	buf_release(&path);
	return rc;
}

int cli_run_action(cli_ctx *c)
{
	return cli_act(c, NULL, NULL);
}

int cli_fetch(cli_ctx *c, const char *prefix, bool with_namespace, json_t **obj)
{
	buf path;
	buf_init(&path);
	cli_path(&path, prefix, c->args[0], NULL);
	if (with_namespace && c->client.ns)
		add_param(&path, "namespace", c->client.ns);
	int rc = cli_call(c, "GET", path.data, NULL, obj);
	buf_release(&path);
	return rc;
}

int cli_show(cli_ctx *c, const char *prefix, bool with_namespace, const cli_column *fields)
{
	json_t *obj = NULL;
	int rc = cli_fetch(c, prefix, with_namespace, &obj);
	if (rc == CLI_EXIT_OK && c->json)
		out_json(stdout, obj);
	else if (rc == CLI_EXIT_OK)
		cli_print_fields(obj, fields);
	json_decref(obj);
	return rc;
}
