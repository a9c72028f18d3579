/*
 * workflows_cmd.c — `weft workflows [ls|show|steps|key|start|cancel|
 * terminate|retry|signal]`: a server's durable workflow runs, on /v1/workflows.
 * Workers drive runs through the step calls; these are the operator's.
 */
#include "cli/families.h"
#include "util/alloc.h"

/* --max-attempts: 1..1000, or -1 forever (the API's range; 0 is refused). */
#define MAX_ATTEMPTS_MAX 1000

static const cli_column WORKFLOW_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "TYPE", "type", COL_TEXT },
	{ "QUEUE", "queue", COL_TEXT },
	{ "STATUS", "status", COL_STATUS },
	{ "REPLAYS", "replays", COL_TEXT },
	{ "KEY", "idempotency_key", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ "ENDED", "ended_at", COL_TIME },
	{ 0 },
};

static const cli_column WORKFLOW_FIELDS[] = {
	{ "ID", "id", COL_ID },
	{ "Type", "type", COL_TEXT },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Queue", "queue", COL_TEXT },
	{ "Status", "status", COL_STATUS },
	{ "Key", "idempotency_key", COL_TEXT },
	{ "Suspended", "suspended.reason", COL_TEXT },
	{ "Wakes", "suspended.wake_at", COL_TIME },
	{ "Awaits", "suspended.signal", COL_TEXT },
	{ "Replays", "replays", COL_TEXT },
	{ "Error", "error.code", COL_TEXT },
	{ "Message", "error.message", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ "Updated", "updated_at", COL_TIME },
	{ "Ended", "ended_at", COL_TIME },
	{ 0 },
};

/* A run as JSON, or its details view with its input and output. */
static int print_workflow(const cli_ctx *c, const json_t *wf)
{
	if (c->json) {
		out_json(stdout, wf);
		return CLI_EXIT_OK;
	}
	cli_print_fields(wf, WORKFLOW_FIELDS);
	cli_print_json_block("Input", json_object_get(wf, "input"));
	const json_t *output = json_object_get(wf, "output");
	if (output && !json_is_null(output))
		cli_print_json_block("Output", output);
	return CLI_EXIT_OK;
}

static const cli_opt LIST_OPTS[] = {
	{ "--status", "STATUS", "status",
	  "pending, running, suspended, completed, failed, canceled or terminated" },
	{ "--type", "TYPE", "type", "runs of this workflow type" },
	{ "--queue", "QUEUE", "queue", "runs whose job is on QUEUE" },
	{ "--created-after", "TIME", "created_after", "created at or after TIME (RFC 3339)" },
	{ "--created-before", "TIME", "created_before", "created before TIME (RFC 3339)" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static int list_workflows(cli_ctx *c)
{
	return cli_list(c, "/v1/workflows", true, "workflows", WORKFLOW_COLUMNS);
}

static int show_common(cli_ctx *c, const char *prefix, bool with_namespace)
{
	json_t *wf = NULL;
	int rc = cli_fetch(c, prefix, with_namespace, &wf);
	if (rc == CLI_EXIT_OK)
		rc = print_workflow(c, wf);
	json_decref(wf);
	return rc;
}

static int show_workflow(cli_ctx *c)
{
	return show_common(c, "/v1/workflows/", false);
}

static const cli_column STEP_COLUMNS[] = {
	{ "KIND", "kind", COL_TEXT },
	{ "NAME", "name", COL_TEXT },
	{ "SEQ", "seq", COL_TEXT },
	{ "STATUS", "status", COL_STATUS },
	{ "ATTEMPTS", "attempts", COL_TEXT },
	{ "OUTPUT", "output", COL_JSON },
	{ "ERROR", "error.code", COL_TEXT },
	{ "STARTED", "started_at", COL_TIME },
	{ "ENDED", "ended_at", COL_TIME },
	{ 0 },
};

static const cli_opt PAGE_OPTS[] = { CLI_PAGE_OPTS, { 0 } };

/* A run's memo, in the order its rows were first reached. */
static int list_steps(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	cli_path(&path, "/v1/workflows/", c->args[0], "/steps");
	int rc = cli_list(c, path.data, false, "steps", STEP_COLUMNS);
	buf_release(&path);
	return rc;
}

static int show_by_key(cli_ctx *c)
{
	/* a key is unique within a namespace: the namespace goes along */
	return show_common(c, "/v1/workflows/by-key/", true);
}

/* A JSON option or argument parsed, or NULL with a message naming it. */
static json_t *parse_json_arg(cli_ctx *c, const char *what, const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
	if (!v)
		cli_fail(c, "%s is not JSON: %s (at character %d)", what, err.text, err.position);
	return v;
}

static int start_workflow(cli_ctx *c)
{
	const char *queue = cli_val(c, "--queue"), *input = cli_val(c, "--input"), *key = cli_val(c, "--key"),
	           *attempts = cli_val(c, "--max-attempts");
	if (!queue) {
		cli_fail(c, "give --queue: the queue whose workers run this type");
		return CLI_EXIT_USAGE;
	}
	json_t *body = json_pack("{ss ss}", "type", c->args[0], "queue", queue);
	int rc = CLI_EXIT_OK;
	if (input) {
		json_t *v = parse_json_arg(c, "--input", input);
		if (v)
			json_object_set_new(body, "input", v);
		else
			rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && key)
		json_object_set_new(body, "idempotency_key", json_string(key));
	if (rc == CLI_EXIT_OK && attempts) {
		int64_t n = 1;
		if (cli_parse_i64(c->prog, "--max-attempts", attempts, -1, MAX_ATTEMPTS_MAX, &n) != 0 || n == 0) {
			if (n == 0)
				cli_fail(c, "--max-attempts must be 1..%d, or -1 for forever", MAX_ATTEMPTS_MAX);
			rc = CLI_EXIT_USAGE;
		} else {
			json_object_set_new(body, "max_attempts", json_integer(n));
		}
	}
	json_t *answer = NULL;
	if (rc == CLI_EXIT_OK && c->client.ns)
		json_object_set_new(body, "namespace", json_string(c->client.ns));
	if (rc == CLI_EXIT_OK)
		rc = cli_call(c, "POST", "/v1/workflows", body, &answer);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, WORKFLOW_COLUMNS);
	json_decref(answer);
	json_decref(body);
	return rc;
}

/* cancel, terminate and retry: POST .../{id}/<what> with an optional reason. */
static int reasoned_action(cli_ctx *c)
{
	const char *reason = cli_val(c, "--reason");
	json_t *body = reason ? json_pack("{ss}", "reason", reason) : NULL;
	int rc = cli_act(c, c->cmd->data, body);
	json_decref(body);
	return rc;
}

static const cli_column SIGNAL_COLUMNS[] = {
	{ "SIGNAL", "id", COL_TEXT },
	{ "NAME", "name", COL_TEXT },
	{ "WOKE", "woke", COL_TEXT },
	{ "RUN_STATUS", "run_status", COL_STATUS },
	{ 0 },
};

static int signal_workflow(cli_ctx *c)
{
	json_t *body = json_pack("{ss}", "name", c->args[1]);
	int rc = CLI_EXIT_OK;
	if (c->nargs > 2) {
		json_t *payload = parse_json_arg(c, "PAYLOAD", c->args[2]);
		if (payload)
			json_object_set_new(body, "payload", payload);
		else
			rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_act(c, &(const cli_action){ "POST", "/v1/workflows/", "/signals", false, SIGNAL_COLUMNS }, body);
	json_decref(body);
	return rc;
}

static const cli_opt START_OPTS[] = {
	{ "--queue", "QUEUE", NULL, "the queue whose workers run TYPE (required)" },
	{ "--input", "JSON", NULL, "the run's input, any JSON (at most 1 MiB; default null)" },
	{ "--key", "KEY", NULL, "idempotency key: while a run with KEY is active, start answers it" },
	{ "--max-attempts", "N", NULL, "1..1000, or -1 forever: of the run and of each step (default 5)" },
	{ 0 },
};

static const cli_opt REASON_OPTS[] = {
	{ "--reason", "TEXT", NULL, "kept with the run (at most 1024 bytes)" },
	{ 0 },
};

static const cli_action CANCEL = { "POST", "/v1/workflows/", "/cancel", false, WORKFLOW_COLUMNS };
static const cli_action TERMINATE = { "POST", "/v1/workflows/", "/terminate", false, WORKFLOW_COLUMNS };
static const cli_action RETRY = { "POST", "/v1/workflows/", "/retry", false, WORKFLOW_COLUMNS };

const cli_family CLI_WORKFLOWS = {
	"workflows",
	"list, show, start, cancel, terminate, retry and signal workflow runs; read their steps",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list workflow runs, newest first", NULL, LIST_OPTS, list_workflows, NULL },
		{ "show", "ID", 1, 1, "show a run: status, suspension, input and output", NULL, NULL, show_workflow,
		  NULL },
		{ "steps", "ID", 1, 1, "a run's steps, sleeps and signal waits, in the order they were reached", NULL,
		  PAGE_OPTS, list_steps, NULL },
		{ "key", "KEY", 1, 1, "show the run started with idempotency key KEY", NULL, NULL, show_by_key, NULL },
		{ "start", "TYPE", 1, 1, "start a run of workflow TYPE on a queue",
		  "The run is a job of --queue; a worker for TYPE claims it and drives its steps.\n"
		  "With --key, starting again while that run is active answers the same run.\n",
		  START_OPTS, start_workflow, NULL },
		{ "cancel", "ID", 1, 1, "cancel a run (its running attempt's calls are refused)", NULL, REASON_OPTS,
		  reasoned_action, &CANCEL },
		{ "terminate", "ID", 1, 1, "end a run at once, as terminated", NULL, REASON_OPTS, reasoned_action,
		  &TERMINATE },
		{ "retry", "ID", 1, 1, "run a failed, canceled or terminated run again, keeping its memo", NULL,
		  REASON_OPTS, reasoned_action, &RETRY },
		{ "signal", "ID NAME [PAYLOAD]", 2, 3, "send signal NAME, with a JSON PAYLOAD, to a run", NULL, NULL,
		  signal_workflow, NULL },
		{ 0 },
	},
};
