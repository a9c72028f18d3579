/*
 * dead_letters_cmd.c — `weft dead-letters [ls|show|requeue]`: jobs whose
 * attempts ran out, on /v1/dead-letters, and putting them back to work.
 */
#include "cli/families.h"
#include "util/alloc.h"

#define REQUEUE_MAX 1000   /* the API's limit of one requeue */

static const cli_column DEAD_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "NAME", "name", COL_TEXT },
	{ "QUEUE", "queue", COL_TEXT },
	{ "ATTEMPT", "attempt", COL_TEXT },
	{ "ERROR", "error.message", COL_TEXT },
	{ "ENDED", "ended_at", COL_TIME },
	{ 0 },
};

static const cli_opt LIST_OPTS[] = {
	{ "--queue", "QUEUE", "queue", "dead letters of this queue" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static int list_dead(cli_ctx *c)
{
	return cli_list(c, "/v1/dead-letters", true, "dead_letters", DEAD_COLUMNS);
}

/* Prints what a requeue did: {"requeued": [ids], "skipped": [{id, reason}]}. */
static void print_requeued(const json_t *answer)
{
	out_table *t = out_table_new();
	out_table_header(t, "ID");
	out_table_keep(t);
	out_table_header(t, "RESULT");
	const json_t *v;
	size_t i;
	json_array_foreach(json_object_get(answer, "requeued"), i, v) {
		out_table_cell(t, json_string_value(v), NULL);
		out_table_cell(t, "requeued", OUT_GREEN);
	}
	json_array_foreach(json_object_get(answer, "skipped"), i, v) {
		char *why = xasprintf("skipped: %s", json_string_value(json_object_get(v, "reason")));
		out_table_cell(t, json_string_value(json_object_get(v, "id")), NULL);
		out_table_cell(t, why, OUT_YELLOW);
		free(why);
	}
	out_table_print(t, stdout);
}

/* One request; the answer's arrays are added to total. */
static int requeue_once(cli_ctx *c, json_t *body, json_t *total, size_t *requeued)
{
	json_t *answer = NULL;
	int rc = cli_call(c, "POST", "/v1/dead-letters/requeue", body, &answer);
	if (rc == CLI_EXIT_OK) {
		*requeued = json_array_size(json_object_get(answer, "requeued"));
		json_array_extend(json_object_get(total, "requeued"), json_object_get(answer, "requeued"));
		json_array_extend(json_object_get(total, "skipped"), json_object_get(answer, "skipped"));
	}
	json_decref(answer);
	return rc;
}

/* Either the ids given, or the newest --limit dead letters of --queue (or
 * all of them, with --all: requests of 1,000 until one requeues fewer). */
static int requeue(cli_ctx *c)
{
	const char *queue = cli_val(c, "--queue"), *reason = cli_val(c, "--reason"), *limit_s = cli_val(c, "--limit");
	bool all = cli_val(c, "--all") != NULL;
	if (c->nargs > 0 && (queue || all || limit_s)) {
		cli_fail(c, "give ids, or --queue with --limit or --all; not both");
		return CLI_EXIT_USAGE;
	}
	if (c->nargs == 0 && !queue && !all) {
		cli_fail(c, "give the ids to requeue, or --queue Q [--limit N | --all]");
		return CLI_EXIT_USAGE;
	}
	int64_t limit = 100;
	if (limit_s && cli_parse_i64(c->prog, "--limit", limit_s, 1, REQUEUE_MAX, &limit) != 0)
		return CLI_EXIT_USAGE;
	json_t *body = json_object();
	if (reason)
		json_object_set_new(body, "reason", json_string(reason));
	json_t *total = json_pack("{s[] s[]}", "requeued", "skipped");
	int rc = CLI_EXIT_OK;
	size_t done = 0;
	if (c->nargs > 0) {
		json_t *ids = json_array();
		for (int i = 0; i < c->nargs; i++)
			json_array_append_new(ids, json_string(c->args[i]));
		json_object_set_new(body, "ids", ids);
		rc = requeue_once(c, body, total, &done);
	} else {
		if (queue)
			json_object_set_new(body, "queue", json_string(queue));
		if (c->client.ns)
			json_object_set_new(body, "namespace", json_string(c->client.ns));
		json_object_set_new(body, "limit", json_integer(all ? REQUEUE_MAX : limit));
		do
			rc = requeue_once(c, body, total, &done);
		while (rc == CLI_EXIT_OK && all && done == REQUEUE_MAX);
	}
	if (rc == CLI_EXIT_OK) {
		if (c->json)
			out_json(stdout, total);
		else
			print_requeued(total);
	}
	json_decref(total);
	json_decref(body);
	return rc;
}

static const cli_opt REQUEUE_OPTS[] = {
	{ "--queue", "QUEUE", NULL, "the newest dead letters of QUEUE (instead of ids)" },
	{ "--limit", "N", NULL, "with --queue: how many, 1..1000 (default 100)" },
	{ "--all", NULL, NULL, "with --queue: every one of them" },
	{ "--reason", "TEXT", NULL, "why, kept in each job's audit trail" },
	{ 0 },
};

const cli_family CLI_DEAD_LETTERS = {
	"dead-letters",
	"list jobs whose attempts ran out, show one, requeue",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list dead letters, newest first", NULL, LIST_OPTS, list_dead, NULL },
		{ "show", "ID", 1, 1, "show a dead letter: its attempts and last error", NULL, NULL, cli_show_task_cmd,
		  "/v1/dead-letters/" },
		{ "requeue", "[ID...]", 0, REQUEUE_MAX,
		  "requeue dead letters: pending at once, attempt + 1, a full retry budget",
		  "With --json, prints one document: {\"requeued\": [ids], \"skipped\": [{\"id\", \"reason\"}]}\n"
		  "(with --all, the answers of every request together).\n",
		  REQUEUE_OPTS, requeue, NULL },
		{ 0 },
	},
};
