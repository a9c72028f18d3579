/*
 * tasks_cmd.c — `weft ls`, `weft get ID` and `weft tasks [ls|show|events]`:
 * the tasks (and jobs) of a server, on GET /v1/tasks.
 */
#include "cli/families.h"
#include "util/alloc.h"

const cli_column CLI_TASK_COLUMNS[] = {
	{ "ID", "id", COL_ID },          { "NAME", "name", COL_TEXT },     { "EXECUTOR", "executor", COL_TEXT },
	{ "QUEUE", "queue", COL_TEXT },    { "STATUS", "status", COL_STATUS }, { "ATTEMPT", "attempt", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME }, { 0 },
};

static const cli_column TASK_FIELDS[] = {
	{ "ID", "id", COL_ID },
	{ "Run", "run_id", COL_TEXT },
	{ "Name", "name", COL_TEXT },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Executor", "executor", COL_TEXT },
	{ "Queue", "queue", COL_TEXT },
	{ "Status", "status", COL_STATUS },
	{ "Attempt", "attempt", COL_TEXT },
	{ "Max attempts", "max_attempts", COL_TEXT },
	{ "Priority", "priority", COL_TEXT },
	{ "Dead letter", "dead_letter", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ "Started", "started_at", COL_TIME },
	{ "Ended", "ended_at", COL_TIME },
	{ "Lease holder", "lease.worker_id", COL_TEXT },
	{ "Lease until", "lease.lease_until", COL_TIME },
	{ "Error code", "error.code", COL_TEXT },
	{ "Error", "error.message", COL_TEXT },
	{ "Metadata", "metadata", COL_JSON },
	{ 0 },
};

static const cli_column ATTEMPT_COLUMNS[] = {
	{ "ATTEMPT", "attempt", COL_TEXT }, { "OUTCOME", "outcome", COL_TEXT },    { "WORKER", "worker_id", COL_TEXT },
	{ "STARTED", "started_at", COL_TIME }, { "ENDED", "ended_at", COL_TIME }, { "ERROR", "error.message", COL_TEXT },
	{ 0 },
};

int cli_show_task(const cli_ctx *c, const json_t *task)
{
	if (c->json) {
		out_json(stdout, task);
		return CLI_EXIT_OK;
	}
	cli_print_fields(task, TASK_FIELDS);
	const json_t *attempts = json_object_get(task, "attempts");
	if (json_array_size(attempts)) {
		printf("\nAttempts:\n");
		cli_print_table(attempts, ATTEMPT_COLUMNS);
	}
	printf("\n");
	cli_print_json_block("Input", json_object_get(task, "input"));
	cli_print_json_block("Result", json_object_get(task, "result"));
	return CLI_EXIT_OK;
}

#define TASK_FILTERS                                                                                             \
	{ "--status", "STATUS", "status", "waiting, pending, claimed, running, paused, retrying, success, failure, canceled or skipped" }, \
	{ "--queue", "QUEUE", "queue", "jobs of this queue" },                                                   \
	{ "--executor", "EXECUTOR", "executor", "queue, webhook or exec" },                                    \
	{ "--run", "RUN_ID", "run_id", "tasks of this run" },                                                    \
	{ "--created-after", "TIME", "created_after", "created at or after TIME (RFC 3339)" },                   \
	{ "--created-before", "TIME", "created_before", "created before TIME (RFC 3339)" }

static const cli_opt LIST_OPTS[] = { TASK_FILTERS, CLI_PAGE_OPTS, { 0 } };
static const cli_opt PAGE_OPTS[] = { CLI_PAGE_OPTS, { 0 } };

static int list_tasks(cli_ctx *c)
{
	return cli_list(c, "/v1/tasks", true, "tasks", CLI_TASK_COLUMNS);
}

int cli_show_task_cmd(cli_ctx *c)
{
	json_t *task = NULL;
	int rc = cli_fetch(c, (const char *)c->cmd->data, false, &task);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_task(c, task);
	json_decref(task);
	return rc;
}

/* A task, else a run: the id says nothing of which it is. */
static int get_any(cli_ctx *c)
{
	static const char *const prefixes[] = { "/v1/tasks/", "/v1/runs/" };
	buf path;
	buf_init(&path);
	int rc = CLI_EXIT_NOT_FOUND;
	for (size_t i = 0; i < ARRAY_LEN(prefixes) && rc == CLI_EXIT_NOT_FOUND; i++) {
		cli_path(&path, prefixes[i], c->args[0], NULL);
		json_t *obj = NULL;
		char err[1024];
		rc = cli_request(c->http, &c->client, "GET", path.data, NULL, 0, &obj, NULL, err, sizeof(err));
		if (rc == CLI_EXIT_OK)
			rc = i == 0 ? cli_show_task(c, obj) : cli_show_run(c, obj);
		else if (rc != CLI_EXIT_NOT_FOUND)
			cli_fail(c, "%s", err);
		json_decref(obj);
	}
	if (rc == CLI_EXIT_NOT_FOUND)
		cli_fail(c, "no task or run has the id %s%s%s (`weft ls` lists tasks, `weft runs ls` runs)", c->args[0],
		         c->client.ns ? " in namespace " : "", c->client.ns ? c->client.ns : "");
	buf_release(&path);
	return rc;
}

static const cli_column EVENT_COLUMNS[] = {
	{ "AT", "at", COL_TIME }, { "FROM", "from", COL_STATUS }, { "TO", "to", COL_STATUS },
	{ "ACTOR", "actor", COL_TEXT }, { "REASON", "reason", COL_TEXT }, { 0 },
};

static int task_events(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	cli_path(&path, "/v1/tasks/", c->args[0], "/events");
	int rc = cli_list(c, path.data, false, "events", EVENT_COLUMNS);
	buf_release(&path);
	return rc;
}

#define LS_CMD(name) { name, NULL, 0, 0, "list tasks and jobs, newest first, with the API's filters", NULL, LIST_OPTS, list_tasks, NULL }

const cli_family CLI_LS = { "ls", "list tasks and jobs, with the API's filters", (const cli_cmd[]){ LS_CMD(NULL), { 0 } } };

const cli_family CLI_GET = {
	"get",
	"show a task, else a run",
	(const cli_cmd[]){ { NULL, "ID", 1, 1, "show a task (its attempts, lease, error, input and result), else a run",
	                     NULL, NULL, get_any, NULL },
	                   { 0 } },
};

const cli_family CLI_TASKS = {
	"tasks",
	"list tasks, show one, its audit trail",
	(const cli_cmd[]){
		LS_CMD("ls"),
		{ "show", "ID", 1, 1, "show a task: attempts, lease, error, input and result", NULL, NULL, cli_show_task_cmd,
		  "/v1/tasks/" },
		{ "events", "ID", 1, 1, "a task's audit trail: each status change, by whom and why", NULL, PAGE_OPTS,
		  task_events, NULL },
		{ 0 },
	},
};
