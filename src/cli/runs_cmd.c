/*
 * runs_cmd.c — `weft runs [ls|show|tasks|cancel|pause|resume]`: the runs
 * (DAGs and batches) of a server, on /v1/runs.
 */
#include "cli/families.h"
#include "util/alloc.h"

static const cli_column RUN_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "NAME", "name", COL_TEXT },
	{ "STATUS", "status", COL_STATUS },
	{ "TASKS", "counts.total", COL_TEXT },
	{ "SUCCESS", "counts.success", COL_TEXT },
	{ "FAILURE", "counts.failure", COL_TEXT },
	{ "SKIPPED", "counts.skipped", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column RUN_FIELDS[] = {
	{ "ID", "id", COL_ID },
	{ "Name", "name", COL_TEXT },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Status", "status", COL_STATUS },
	{ "Created", "created_at", COL_TIME },
	{ "Completed", "completed_at", COL_TIME },
	{ "Metadata", "metadata", COL_JSON },
	{ 0 },
};

int cli_show_run(const cli_ctx *c, const json_t *run)
{
	if (c->json) {
		out_json(stdout, run);
		return CLI_EXIT_OK;
	}
	cli_print_fields(run, RUN_FIELDS);
	/* "Tasks: 3 total, 2 success, 1 running": the counts that are not 0 */
	const json_t *counts = json_object_get(run, "counts");
	printf("%-13s %" JSON_INTEGER_FORMAT " total", "Tasks:", json_integer_value(json_object_get(counts, "total")));
	const char *status;
	json_t *n;
	json_object_foreach((json_t *)counts, status, n) {
		if (strcmp(status, "total") != 0 && json_integer_value(n) > 0) {
			char count[32];
			snprintf(count, sizeof(count), "%" JSON_INTEGER_FORMAT " ", json_integer_value(n));
			printf(", %s", count);
			out_colored(stdout, out_status_color(status), status);
		}
	}
	printf("\n\n");
	cli_print_table(json_object_get(run, "tasks"), CLI_TASK_COLUMNS);
	const char *more = json_string_value(json_object_get(run, "tasks_next_cursor"));
	if (more)
		fprintf(stderr, "(more tasks: weft runs tasks %s --all)\n", json_string_value(json_object_get(run, "id")));
	return CLI_EXIT_OK;
}

static const cli_opt LIST_OPTS[] = {
	{ "--status", "STATUS", "status", "active, success, failure or canceled" },
	{ "--created-after", "TIME", "created_after", "created at or after TIME (RFC 3339)" },
	{ "--created-before", "TIME", "created_before", "created before TIME (RFC 3339)" },
	CLI_PAGE_OPTS,
	{ 0 },
};
static const cli_opt PAGE_OPTS[] = { CLI_PAGE_OPTS, { 0 } };

static int list_runs(cli_ctx *c)
{
	return cli_list(c, "/v1/runs", true, "runs", RUN_COLUMNS);
}

static int show_run(cli_ctx *c)
{
	json_t *run = NULL;
	int rc = cli_fetch(c, "/v1/runs/", false, &run);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_run(c, run);
	json_decref(run);
	return rc;
}

static int run_tasks(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	cli_path(&path, "/v1/runs/", c->args[0], "/tasks");
	int rc = cli_list(c, path.data, false, "tasks", CLI_TASK_COLUMNS);
	buf_release(&path);
	return rc;
}

const cli_action CLI_RUN_CANCEL = { "POST", "/v1/runs/", "/cancel", false,
	                           (const cli_column[]){ { "RUN", "id", COL_ID },
	                                                 { "CANCELED", "canceled", COL_TEXT },
	                                                 { "ALREADY_ENDED", "already_ended", COL_TEXT },
	                                                 { 0 } } };
const cli_action CLI_RUN_PAUSE = { "POST", "/v1/runs/", "/pause", false,
	                          (const cli_column[]){ { "RUN", "id", COL_ID },
	                                                { "PAUSED", "paused", COL_TEXT },
	                                                { "UNCHANGED", "unchanged", COL_TEXT },
	                                                { 0 } } };
const cli_action CLI_RUN_RESUME = { "POST", "/v1/runs/", "/resume", false,
	                           (const cli_column[]){ { "RUN", "id", COL_ID },
	                                                 { "RESUMED", "resumed", COL_TEXT },
	                                                 { "UNCHANGED", "unchanged", COL_TEXT },
	                                                 { 0 } } };

const cli_family CLI_RUNS = {
	"runs",
	"list runs, show one and its tasks, cancel, pause, resume",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list runs, newest first", NULL, LIST_OPTS, list_runs, NULL },
		{ "show", "ID", 1, 1, "show a run: its status, counts and first 1,000 tasks", NULL, NULL, show_run, NULL },
		{ "tasks", "ID", 1, 1, "list a run's tasks in submission order", NULL, PAGE_OPTS, run_tasks, NULL },
		{ "cancel", "ID", 1, 1, "cancel every unfinished task of a run", NULL, NULL, cli_run_action, &CLI_RUN_CANCEL },
		{ "pause", "ID", 1, 1, "pause every task of a run that has not started", NULL, NULL, cli_run_action, &CLI_RUN_PAUSE },
		{ "resume", "ID", 1, 1, "resume a run's paused tasks", NULL, NULL, cli_run_action, &CLI_RUN_RESUME },
		{ 0 },
	},
};
