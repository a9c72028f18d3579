/*
 * command.h — the frame of the client commands that read and act on a
 * server (`weft ls`, `weft tasks`, `weft queues`, ...): declared options
 * with their help, the shared options (--json, --url, --token,
 * --namespace, --profile, --help), calls with errors printed, paged lists
 * and details views.
 *
 * A command family (`weft queues`) is a table of commands (ls, show,
 * pause, ...); a lone command (`weft get`) is a family of one nameless
 * command. Each command declares its options; an option with a query
 * name is passed to the server as that query parameter as it is, so a
 * list's filters are declarations, not code.
 */
#ifndef WEFT_CLI_COMMAND_H
#define WEFT_CLI_COMMAND_H

#include "cli/client_opts.h"
#include "cli/output.h"
#include "util/buf.h"

#define CLI_OPTS_MAX 16

typedef struct cli_opt {
	const char *name;    /* "--status" */
	const char *arg;     /* "STATUS", or NULL for a flag */
	const char *query;   /* the query parameter it fills, or NULL */
	const char *help;
} cli_opt;

typedef struct cli_ctx cli_ctx;

typedef struct cli_cmd {
	const char *name;      /* "ls"; NULL for a lone command */
	const char *args;      /* "ID", "NAME", "[ID...]"; NULL for none */
	int min_args, max_args;
	const char *summary;   /* one line */
	const char *details;   /* more help, or NULL */
	const cli_opt *opts;   /* ends with { 0 }; NULL for none */
	int (*run)(cli_ctx *c);
	const void *data;      /* for runners shared by several commands */
} cli_cmd;

typedef struct cli_family {
	const char *name;      /* "queues", "get" */
	const char *summary;
	const cli_cmd *cmds;   /* ends with { 0 }; the first runs without a subcommand */
} cli_family;

struct cli_ctx {
	const cli_family *family;
	const cli_cmd *cmd;
	char prog[64];               /* "weft queues set", for messages */
	cli_client_opts client;
	http_client *http;
	bool json;
	bool all;                    /* --all on a list */
	const char *vals[CLI_OPTS_MAX];   /* per cmd->opts entry: its value, "" for a flag, NULL */
	char **args;
	int nargs;
};

/* Options shared by every list: --limit, --cursor, --all. */
#define CLI_PAGE_OPTS                                                                                         \
	{ "--limit", "N", "limit", "items per page (default 100; the most: 1000, for queues 100)" },                                  \
	{ "--cursor", "CURSOR", "cursor", "start at this page (a list's next_cursor)" },                       \
	{ "--all", NULL, NULL, "every page: with --json, one JSON array of all the items" }

/* Runs family with argv (argv[0] is the family's name). */
int cli_family_main(const cli_family *family, int argc, char **argv);
/* Prints the help of family, or of its command sub (NULL: the family's). */
int cli_family_help(const cli_family *family, const char *sub, FILE *f);

/* The value of option name of the running command, or NULL. */
const char *cli_val(const cli_ctx *c, const char *name);
/* Prints "prog: message" to stderr. */
void cli_fail(const cli_ctx *c, const char *fmt, ...) WEFT_PRINTF(2, 3);

/* Appends s percent-encoded (a path segment or query value) to b. */
void cli_escape(buf *b, const char *s);
/* Appends the namespace (when set) and every option with a query name
 * that was given, as "?a=1&b=2" (or "&..." when b has a '?'). */
void cli_add_query(const cli_ctx *c, buf *b, bool with_namespace);

/* prefix + id (percent-encoded) + suffix (NULL: none), in b (reset first). */
void cli_path(buf *b, const char *prefix, const char *id, const char *suffix);

/* Calls the server; on failure prints the reason and returns the exit
 * code. body may be NULL. *answer is a new reference on success. */
int cli_call(cli_ctx *c, const char *method, const char *path, const json_t *body, json_t **answer);

/* How a table column shows a member of each item. */
typedef enum cli_col_kind {
	COL_TEXT,     /* a string, number or boolean as it is; "-" for null */
	COL_ID,       /* text never cut to the terminal's width (it is copied) */
	COL_STATUS,   /* a string in its status color */
	COL_TIME,     /* an RFC 3339 time, relative */
	COL_JSON,     /* any value, compact JSON */
	COL_LIST,     /* an array of strings joined by "," */
} cli_col_kind;

typedef struct cli_column {
	const char *header;
	const char *key;       /* member; "a.b" for a member of a member */
	cli_col_kind kind;
} cli_column;

/* The member at a dotted key ("lease.worker_id"), or NULL. */
json_t *cli_member(const json_t *obj, const char *key);
/* Prints items (an array of objects) as a table of cols (ends with { 0 }). */
void cli_print_table(const json_t *items, const cli_column *cols);
/* One object as a one-row table (--json prints it as it is). */
int cli_print_one(const cli_ctx *c, const json_t *obj, const cli_column *cols);

/* GETs a list at path (its query built from the options), whose items are
 * the array member key: one page, or every page with --all, as a table of
 * cols or as JSON. A further page is announced on stderr. */
int cli_list(cli_ctx *c, const char *path, bool with_namespace, const char *key, const cli_column *cols);

/* A request on one object named by the command's first argument, its
 * answer shown as a one-row table (or JSON). */
typedef struct cli_action {
	const char *method;          /* "POST", "DELETE" */
	const char *prefix;          /* "/v1/runs/" */
	const char *suffix;          /* "/cancel", or NULL */
	bool with_namespace;         /* send ?namespace= (queues, workers) */
	const cli_column *cols;      /* of the answer's row */
} cli_action;

/* Sends a (cmd->data when NULL) about args[0] with body (may be NULL) and
 * prints the answer. */
int cli_act(cli_ctx *c, const cli_action *a, const json_t *body);
/* GETs prefix + args[0] (+ ?namespace= with with_namespace) into *obj;
 * the exit code, the error printed. */
int cli_fetch(cli_ctx *c, const char *prefix, bool with_namespace, json_t **obj);
/* cli_fetch, then the object as JSON or as a details view of fields. */
int cli_show(cli_ctx *c, const char *prefix, bool with_namespace, const cli_column *fields);

/* A command's run function for a cli_action in cmd->data, without a body. */
int cli_run_action(cli_ctx *c);

/* A details view: one "Label: value" line per column of cols whose value
 * is not null. */
void cli_print_fields(const json_t *obj, const cli_column *cols);
/* A JSON value in a details view, indented under a "Label:" line. */
void cli_print_json_block(const char *label, const json_t *v);

/* The text a column shows (owned). */
char *cli_cell_text(const json_t *v, cli_col_kind kind);

#endif
