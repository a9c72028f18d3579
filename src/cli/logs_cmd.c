/*
 * logs_cmd.c — `weft logs ID [-f] [--attempt N] [--stream S]`: a task's
 * log lines, stdout lines on stdout and stderr and system lines on stderr
 * (with --json, each line's object, one a line); -f follows the task,
 * asking for the lines written since the last page, until the task ended
 * and its last lines were shown. `weft logs search ...`: the search
 * across executions (GET /v1/logs).
 */
#include "cli/families.h"

#include <time.h>

#include "util/alloc.h"
#include "util/json.h"

/* How long a follower waits before asking again when nothing was new. */
#define FOLLOW_PAUSE_MS 200

static bool terminal(const char *status)
{
	static const char *const ended[] = { "success", "failure", "canceled", "skipped" };
	for (size_t i = 0; status != NULL && i < ARRAY_LEN(ended); i++)
		if (strcmp(status, ended[i]) == 0)
			return true;
	return false;
}

static void print_line(const cli_ctx *c, const json_t *l)
{
	if (c->json) {
		char *t = json_dump_compact(l);
		printf("%s\n", t);
		free(t);
		return;
	}
	const char *stream = json_string_value(json_object_get(l, "stream"));
	const char *text = json_string_value(json_object_get(l, "text"));
	FILE *f = stream != NULL && strcmp(stream, "stdout") == 0 ? stdout : stderr;
	fprintf(f, "%s\n", text ? text : "");
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int task_logs(cli_ctx *c)
{
	bool follow = cli_val(c, "--follow") != NULL || cli_val(c, "-f") != NULL;
	buf base, page;
	buf_init(&base);
	buf_init(&page);
	cli_path(&base, "/v1/tasks/", c->args[0], "/logs");
	cli_add_query(c, &base, false);
	char *cursor = NULL;
	bool ended_seen = false;
	int rc = CLI_EXIT_OK;
	for (;;) {
		buf_reset(&page);
		buf_append(&page, base.data, base.len);
		buf_puts(&page, memchr(base.data, '?', base.len) ? "&limit=1000" : "?limit=1000");
		if (cursor) {
			buf_puts(&page, "&cursor=");
			cli_escape(&page, cursor);
		}
		json_t *answer = NULL;
		rc = cli_call(c, "GET", page.data, NULL, &answer);
		if (rc != CLI_EXIT_OK)
			break;
		const json_t *lines = json_object_get(answer, "lines");
		for (size_t i = 0; i < json_array_size(lines); i++)
			print_line(c, json_array_get(lines, i));
		fflush(stdout);
		fflush(stderr);
		const char *next = json_string_value(json_object_get(answer, "next_cursor"));
		if (next) {
			free(cursor);
			cursor = xstrdup(next);
		}
		bool more = json_is_true(json_object_get(answer, "more"));
		bool ended = terminal(json_string_value(json_object_get(answer, "status")));
		json_decref(answer);
		if (more)
			continue;
		if (!follow)
			break;
		/* The lines a task printed before it ended are written no later
		 * than its end: one more page after the end was seen shows them. */
		if (ended_seen)
			break;
		if (ended) {
			ended_seen = true;
			continue;
		}
		pause_ms(FOLLOW_PAUSE_MS);
	}
	free(cursor);
	buf_release(&base);
	buf_release(&page);
	return rc;
}

static const cli_opt LOGS_OPTS[] = {
	{ "--follow", NULL, NULL, "show new lines as they are written, until the task ends (also -f)" },
	{ "-f", NULL, NULL, "the same as --follow" },
	{ "--attempt", "N", "attempt", "only this attempt's lines" },
	{ "--stream", "STREAM", "stream", "only stdout, stderr or system lines" },
	{ 0 },
};

const cli_family CLI_LOGS = {
	"logs",
	"a task's log lines, followed live with -f; `weft logs search` searches across executions",
	(const cli_cmd[]){
		{ NULL, "ID", 1, 1, "print a task's log lines in order (stdout lines on stdout, others on stderr)",
		  "With -f, follows the task until it ends. `weft logs search --help`: the search across executions.",
		  LOGS_OPTS, task_logs, NULL },
		{ 0 },
	},
};

static const cli_column SEARCH_COLUMNS[] = {
	{ "AT", "at", COL_TIME },           { "TASK", "task_id", COL_ID }, { "ATTEMPT", "attempt", COL_TEXT },
	{ "SEQ", "seq", COL_TEXT },         { "QUEUE", "queue", COL_TEXT }, { "LEVEL", "level", COL_TEXT },
	{ "TEXT", "text", COL_TEXT },       { 0 },
};

static const cli_opt SEARCH_OPTS[] = {
	{ "--task", "ID", "task_id", "lines of this task" },
	{ "--run", "RUN_ID", "run_id", "lines of the tasks of this run" },
	{ "--queue", "QUEUE", "queue", "lines of the tasks of this queue" },
	{ "--stream", "STREAM", "stream", "stdout, stderr or system" },
	{ "--level", "LEVEL", "level", "debug, info, warn or error" },
	{ "--text", "TEXT", "q", "lines containing TEXT (case-insensitive)" },
	{ "--since", "TIME", "since", "lines at or after TIME (RFC 3339)" },
	{ "--until", "TIME", "until", "lines before TIME (RFC 3339)" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static int search_logs(cli_ctx *c)
{
	return cli_list(c, "/v1/logs", true, "lines", SEARCH_COLUMNS);
}

const cli_family CLI_LOGS_SEARCH = {
	"logs search",
	"log lines across executions, newest first",
	(const cli_cmd[]){
		{ NULL, NULL, 0, 0, "log lines across executions, newest first, with the API's filters", NULL, SEARCH_OPTS,
		  search_logs, NULL },
		{ 0 },
	},
};

int logs_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "search") == 0)
		return cli_family_main(&CLI_LOGS_SEARCH, argc - 1, argv + 1);
	return cli_family_main(&CLI_LOGS, argc, argv);
}
